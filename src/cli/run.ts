/**
 * `spikeloop run`: the real-time closed loop (DESIGN.md §9). Prints the summary (a table, or one
 * JSON object with --json), writes the latency report with --report DIR, and with --strict exits
 * non-zero naming every violated budget.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { loadModelParamsFile } from '../calibrate/params-file.js';
import { applyHardwareProfile } from '../calibrate/profile.js';
import type { BackendChoice } from '../engine/engine.js';
import { environmentNames } from '../env/registry.js';
import { LATE_POLICIES, type LatePolicy } from '../loop/schedule.js';
import { MODEL_NAMES, type ModelName, type ModelParams } from '../model/params.js';
import { type Budget, parseBudgets } from '../telemetry/budget.js';
import { type ClosedLoopOptions, runClosedLoop } from './closed-loop.js';
import { printRows } from './output.js';
import { choice, finiteNumber, integer } from './parse.js';

/** Parses `key=value` environment settings (repeatable --env-set). */
function envSetting(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`--env-set expects key=value, got "${value}"`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

export interface RunCommandOptions {
  env: string;
  envSet?: Record<string, string>;
  duration?: number;
  warmup: number;
  tickMs: number;
  n: number;
  model: ModelName;
  backend: BackendChoice;
  seed: number;
  threads?: number;
  nice?: number;
  latePolicy: LatePolicy;
  /** A directory, false for --no-report; unset means the default reports/ENV-TIMESTAMP. */
  report?: string | boolean;
  strict?: string;
  json?: boolean;
  profile?: string;
  params?: string;
  /** true = default port; a string is the port given on the command line. */
  dashboard?: boolean | string;
  dashboardHost?: string;
  token?: string;
  /** MCAP file to record the run into. */
  record?: string;
  /** true = default port; a string is the port given on the command line. */
  foxglove?: boolean | string;
  foxgloveHost?: string;
}

/**
 * Turns parsed command-line options into a closed-loop run; live consumers (the dashboard) attach
 * to `loop.feed` in `onStart`, before the first tick.
 */
/** Every run writes its latency report (DESIGN.md §2): into `dir`, or a fresh one under reports/. */
export function reportDirectory(report: string | boolean | undefined, env: string): string | undefined {
  if (typeof report === 'string') return report;
  if (report === false) return undefined;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace('Z', '');
  return `reports/${env}-${stamp}`;
}

/** `--foxglove [PORT]`, `--foxglove-host`, and the shared `--token`. */
function foxgloveOptions(options: RunCommandOptions): ClosedLoopOptions['foxglove'] {
  if (options.foxglove === undefined || options.foxglove === false) return undefined;
  const port = options.foxglove === true ? 8766 : Number(options.foxglove);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--foxglove expects a port number, got "${String(options.foxglove)}"`);
  }
  return { port, host: options.foxgloveHost, token: options.token ?? process.env.SPIKELOOP_TOKEN };
}

export function closedLoopOptions(
  options: RunCommandOptions,
  budgets: readonly Budget[],
  modelOverrides?: Partial<ModelParams>,
): ClosedLoopOptions {
  if (!(options.warmup >= 0)) throw new Error(`--warmup must be ≥ 0 s, got ${options.warmup}`);
  return {
    env: options.env,
    modelOverrides,
    envSettings: options.envSet,
    durationS: options.duration,
    warmupTicks: Math.round(options.warmup / (options.tickMs / 1000)),
    tickMs: options.tickMs,
    n: options.n,
    model: options.model,
    backend: options.backend,
    seed: options.seed,
    threads: options.threads,
    nice: options.nice,
    latePolicy: options.latePolicy,
    reportDir: reportDirectory(options.report, options.env),
    record: options.record,
    foxglove: foxgloveOptions(options),
    budgets,
    onStart: async (loop, env, engine) => {
      if (options.duration === undefined) {
        console.error('spikeloop: running until SIGINT (Ctrl-C) or SIGTERM; the report is written on exit');
      }
      if (options.dashboard === undefined || options.dashboard === false) return undefined;
      const { startDashboard, DEFAULT_DASHBOARD_PORT } = await import('../io/dashboard/dashboard.js');
      const port = options.dashboard === true ? DEFAULT_DASHBOARD_PORT : Number(options.dashboard);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new Error(`--dashboard expects a port number, got "${String(options.dashboard)}"`);
      }
      const dashboard = await startDashboard(
        { loop, env, neurons: engine.layout.n, tickMs: options.tickMs },
        { port, host: options.dashboardHost, token: options.token ?? process.env.SPIKELOOP_TOKEN },
      );
      console.error(`spikeloop: dashboard at ${dashboard.url}`);
      return () => dashboard.close();
    },
  };
}

export function registerRun(program: Command): Command {
  return program
    .command('run')
    .description('run the network in a real-time closed loop with an environment and report latencies')
    .option('--env <name>', `environment (${environmentNames().join('|')})`, 'synthetic')
    .option('--env-set <key=value>', 'environment setting (repeatable)', envSetting)
    .option(
      '--duration <s>',
      'wall-clock seconds to run (default: until SIGINT/SIGTERM)',
      finiteNumber('--duration'),
    )
    .option(
      '--warmup <s>',
      'biological seconds simulated before the loop starts (JIT, GPU pipelines; not measured)',
      finiteNumber('--warmup'),
      0.1,
    )
    .option('--tick-ms <ms>', 'tick length (a multiple of dt = 0.1 ms)', finiteNumber('--tick-ms'), 1)
    .option('--n <neurons>', 'number of neurons (N_E : N_I = 4 : 1)', integer('--n', 5), 1000)
    .option('--model <name>', `network model (${MODEL_NAMES.join('|')})`, choice(MODEL_NAMES), 'ei-clustered')
    .option('--backend <name>', 'auto|webgpu|cpu', choice(['auto', 'webgpu', 'cpu'] as const), 'auto')
    .option('--seed <n>', 'random seed', integer('--seed', 0), 1)
    .option('--threads <n>', 'CPU backend threads', integer('--threads', 1))
    .option(
      '--late-policy <policy>',
      'overrun policy: skip (drop missed ticks) or late (catch up)',
      choice(LATE_POLICIES),
      'skip',
    )
    .option(
      '--report <dir>',
      'latency report directory (txt, json, hgrm, html) (default: reports/ENV-TIMESTAMP)',
    )
    .option('--no-report', 'do not write the latency report')
    .option('--strict <budgets>', "deadline budgets, e.g. 'p99<=1ms,p999<=2ms'; exit 1 when one is violated")
    .option(
      '--profile <file>',
      'hardware profile (spikeloop calibrate): picks backend and N for the tick unless given',
    )
    .option(
      '--params <file>',
      'model parameters from `spikeloop calibrate-params` (model and N unless given)',
    )
    .option('--dashboard [port]', 'serve the live dashboard (default port 8787 on 127.0.0.1)')
    .option('--dashboard-host <host>', 'dashboard bind address; anything but loopback requires --token')
    .option(
      '--token <token>',
      'access token for the dashboard and Foxglove server (default: $SPIKELOOP_TOKEN)',
    )
    .option(
      '--record <file.mcap>',
      'record the run (inputs, spikes, commands, latency, world) into an MCAP file',
    )
    .option('--foxglove [port]', 'serve the Foxglove WebSocket protocol (default port 8766 on 127.0.0.1)')
    .option('--foxglove-host <host>', 'Foxglove server bind address; anything but loopback requires --token')
    .option('--json', 'print one JSON object')
    .action(async (options: RunCommandOptions, command: Command) => {
      const paramsFile = options.params ? loadModelParamsFile(options.params) : undefined;
      if (paramsFile) {
        if (command.getOptionValueSource('model') !== 'cli') options.model = paramsFile.model;
        if (command.getOptionValueSource('n') !== 'cli') options.n = paramsFile.n;
      }
      if (options.profile) {
        const chosen = applyHardwareProfile(
          options.profile,
          options.tickMs,
          { backend: options.backend, n: options.n },
          {
            backend: command.getOptionValueSource('backend') === 'cli',
            n: command.getOptionValueSource('n') === 'cli',
          },
        );
        Object.assign(options, { backend: chosen.backend, n: chosen.n });
        console.error(`spikeloop: ${chosen.message}`);
      }
      // Parse budgets before anything runs: a typo must not cost a whole run.
      const budgets = options.strict !== undefined ? parseBudgets(options.strict) : [];
      const result = await runClosedLoop(closedLoopOptions(options, budgets, paramsFile?.params));
      printRows([result.summary], Boolean(options.json));
      for (const budget of result.loaded.report.budgets) {
        if (!budget.ok) console.error(`spikeloop: budget violated: ${budget.message}`);
      }
      if (!result.ok) process.exitCode = 1;
    });
}
