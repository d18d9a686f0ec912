/**
 * `spikeloop run`: the real-time closed loop (docs/architecture.md). Prints the summary (a table, or one
 * JSON object with --json), writes the latency report with --report DIR, and with --strict exits
 * non-zero naming every violated budget.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { loadModelParamsFile } from '../calibrate/params-file.js';
import { applyHardwareProfile } from '../cost/profile.js';
import type { BackendChoice } from '../engine/engine.js';
import { describeEnvironments, environmentNames } from '../env/registry.js';
import { LATE_POLICIES, type LatePolicy } from '../loop/schedule.js';
import { DEFAULT_SLEEP, REALTIME_SPIN_US } from '../loop/sleep.js';
import { checkRealtimeRequest, DEFAULT_REALTIME_PRIORITY } from '../loop/tick-thread/realtime.js';
import { DEFAULT_PARAMS, MODEL_NAMES, type ModelName, type ModelParams } from '../model/params.js';
import { type Budget, parseBudgets } from '../telemetry/budget.js';
import { type ClosedLoopOptions, runClosedLoop } from './closed-loop.js';
import { printRows } from './output.js';
import {
  choice,
  integer,
  MAX_BIOLOGICAL_S,
  MAX_TICK_MS,
  MAX_WALL_S,
  N_HELP,
  numberInRange,
} from './parse.js';
import { onStopSignal, signalExitCode, stopSignal } from './signals.js';

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
  /** on (default): the tick runs on a thread of its own; off: on the main thread. */
  tickThread: 'on' | 'off';
  /** true = the default FIFO priority; a string is the priority given on the command line. */
  realtime?: boolean | string;
  cpu?: number;
  tickNice?: number;
  spinUs?: number;
}

/** `--realtime [PRIORITY]` and `--cpu N` as the closed loop's request, or undefined. */
export function realtimeRequest(
  realtime: boolean | string | undefined,
  cpu: number | undefined,
): ClosedLoopOptions['realtime'] {
  if (realtime === undefined || realtime === false) {
    if (cpu !== undefined) throw new Error('--cpu pins the tick thread of --realtime; give --realtime too');
    return undefined;
  }
  const priority = realtime === true ? DEFAULT_REALTIME_PRIORITY : Number(realtime);
  checkRealtimeRequest({ priority, cpu });
  return { priority, ...(cpu !== undefined ? { cpu } : {}) };
}

/**
 * Turns parsed command-line options into a closed-loop run; live consumers (the dashboard) attach
 * to the LiveLoop in `onStart`, before the first tick.
 */
/** Every run writes its latency report (docs/architecture.md): into `dir`, or a fresh one under reports/. */
export function reportDirectory(report: string | boolean | undefined, env: string): string | undefined {
  if (typeof report === 'string') return report;
  if (report === false) return undefined;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace('Z', '');
  return `reports/${env}-${stamp}`;
}

/** --token, else $SPIKELOOP_TOKEN (an empty variable counts as unset); protects every server of the run. */
function accessToken(options: RunCommandOptions): string | undefined {
  return options.token ?? (process.env.SPIKELOOP_TOKEN || undefined);
}

/** `--foxglove [PORT]`, `--foxglove-host`, and the shared `--token`. */
function foxgloveOptions(options: RunCommandOptions): ClosedLoopOptions['foxglove'] {
  if (options.foxglove === undefined || options.foxglove === false) return undefined;
  const port = options.foxglove === true ? 8766 : Number(options.foxglove);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--foxglove expects a port number, got "${String(options.foxglove)}"`);
  }
  return { port, host: options.foxgloveHost, token: accessToken(options) };
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
    token: accessToken(options),
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
    tickThread: options.tickThread !== 'off',
    realtime: realtimeRequest(options.realtime, options.cpu),
    tickNice: options.tickNice,
    spinUs: options.spinUs,
    budgets,
    onStart: async (loop, env) => {
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
        { loop, env },
        { port, host: options.dashboardHost, token: accessToken(options) },
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
      numberInRange('--duration', 0, MAX_WALL_S, 's', true),
    )
    .option(
      '--warmup <s>',
      'biological seconds simulated before the loop starts (JIT, GPU pipelines; not measured)',
      numberInRange('--warmup', 0, MAX_BIOLOGICAL_S, 's'),
      0.1,
    )
    .option(
      '--tick-ms <ms>',
      `tick length (a multiple of dt = ${DEFAULT_PARAMS.dtMs} ms)`,
      numberInRange('--tick-ms', 0, MAX_TICK_MS, 'ms', true),
      1,
    )
    .option('--n <neurons>', N_HELP, integer('--n', 5), 1000)
    .option('--model <name>', `network model (${MODEL_NAMES.join('|')})`, choice(MODEL_NAMES), 'ei-clustered')
    .option('--backend <name>', 'auto|webgpu|cpu', choice(['auto', 'webgpu', 'cpu'] as const), 'auto')
    .option('--seed <n>', 'random seed', integer('--seed', 0), 1)
    .option(
      '--threads <n>',
      'CPU backend threads (default: the fewest whose compute stays under half the tick)',
      integer('--threads', 1),
    )
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
      'access token for the dashboard, ws simulators and the Foxglove server (default: $SPIKELOOP_TOKEN)',
    )
    .option(
      '--record <file.mcap>',
      'record the run (inputs, spikes, commands, latency, world) into an MCAP file',
    )
    .option('--foxglove [port]', 'serve the Foxglove WebSocket protocol (default port 8766 on 127.0.0.1)')
    .option('--foxglove-host <host>', 'Foxglove server bind address; anything but loopback requires --token')
    .option(
      '--tick-thread <on|off>',
      'run the tick (engine included) on a thread of its own, or on the main thread',
      choice(['on', 'off'] as const),
      'on',
    )
    .option(
      '--realtime [priority]',
      `FIFO priority for the tick thread alone (default ${DEFAULT_REALTIME_PRIORITY}; needs root or CAP_SYS_NICE)`,
    )
    .option('--cpu <n>', 'pin the tick thread to this CPU (with --realtime)', integer('--cpu', 0))
    .option(
      '--tick-nice <n>',
      'nice value (-20…19) for the tick thread and the engine workers alone (negative needs root or CAP_SYS_NICE)',
      integer('--tick-nice', -20),
    )
    .option(
      '--spin-us <us>',
      `busy wait of the tick thread before each deadline (µs; default ${DEFAULT_SLEEP.spinUs}, ${REALTIME_SPIN_US} with --realtime)`,
      integer('--spin-us', 0),
    )
    .option('--json', 'print one JSON object')
    .addHelpText('after', () => {
      const rows = describeEnvironments().map(
        ({ name, description }) => `  ${name.padEnd(10)} ${description}`,
      );
      return `\nEnvironments (--env):\n${rows.join('\n')}`;
    })
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
      // Held until the summary is out: a signal stops the loop and is then only acknowledged.
      const releaseSignals = onStopSignal(() => {});
      try {
        const result = await runClosedLoop(closedLoopOptions(options, budgets, paramsFile?.params));
        printRows([result.summary], Boolean(options.json));
        for (const budget of result.loaded.report.budgets) {
          if (!budget.ok) console.error(`spikeloop: budget violated: ${budget.message}`);
        }
        if (result.reportError !== undefined) {
          console.error(`spikeloop: the report was not written: ${result.reportError}`);
        }
        const signal = stopSignal();
        // Stopped by a signal: 130 (SIGINT) or 143 (SIGTERM), as a shell reports an interrupted command.
        if (signal !== null) process.exitCode = signalExitCode(signal);
        else if (!result.ok || result.reportError !== undefined) process.exitCode = 1;
      } finally {
        releaseSignals();
      }
    });
}
