/**
 * `spikeloop replay FILE.mcap`: re-runs a recorded closed-loop run offline and checks it bit for
 * bit (src/record/replay.ts); with a changed network it writes what that network would have done.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { loadModelParamsFile } from '../calibrate/params-file.js';
import type { BackendChoice } from '../engine/engine.js';
import { DEFAULT_PARAMS, MODEL_NAMES, type ModelName, type ModelParams } from '../model/params.js';
import { replay } from '../record/replay.js';
import { printRows } from './output.js';
import { choice, integer } from './parse.js';

interface ReplayCommandOptions {
  backend: BackendChoice;
  threads?: number;
  params?: string;
  model?: ModelName;
  set?: Record<string, number>;
  env?: 'arena';
  out?: string;
  json?: boolean;
}

/** `--set key=value` for a numeric ModelParams key (repeatable). */
function paramSetting(value: string, previous: Record<string, number> = {}): Record<string, number> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`--set expects key=value, got "${value}"`);
  const key = value.slice(0, eq);
  const number = Number(value.slice(eq + 1));
  if (!(key in DEFAULT_PARAMS) || typeof DEFAULT_PARAMS[key as keyof ModelParams] !== 'number') {
    const keys = Object.keys(DEFAULT_PARAMS).filter(
      (k) => typeof DEFAULT_PARAMS[k as keyof ModelParams] === 'number',
    );
    throw new InvalidArgumentError(
      `--set: unknown numeric model parameter "${key}"; expected one of ${keys.join(', ')}`,
    );
  }
  if (value.slice(eq + 1).trim() === '' || !Number.isFinite(number)) {
    throw new InvalidArgumentError(`--set ${key}: expected a finite number, got "${value.slice(eq + 1)}"`);
  }
  return { ...previous, [key]: number };
}

export function registerReplay(program: Command): Command {
  return program
    .command('replay')
    .description('re-run a recorded run (MCAP) offline and check spikes and commands bit for bit')
    .argument('<file>', 'a recording from `spikeloop run --record`')
    .option('--backend <name>', 'auto|webgpu|cpu', choice(['auto', 'webgpu', 'cpu'] as const), 'auto')
    .option('--threads <n>', 'CPU backend threads', integer('--threads', 1))
    .option('--params <file>', 'replay through the network of a params file (calibrate-params)')
    .option(
      '--model <name>',
      `replay through another model (${MODEL_NAMES.join('|')}) at the recorded N and seed`,
      choice(MODEL_NAMES),
    )
    .option('--set <key=value>', 'change one model parameter (repeatable), e.g. jEPlus=8', paramSetting)
    .option(
      '--env <name>',
      'arena: close the loop through a fresh arena from the recorded start',
      choice(['arena'] as const),
    )
    .option('--out <file.mcap>', 'write the replayed run (default with a changed network: FILE.replay.mcap)')
    .option('--json', 'print one JSON object: identical, ticks, firstDivergence, …')
    .action(async (file: string, options: ReplayCommandOptions) => {
      const paramsFile = options.params ? loadModelParamsFile(options.params) : undefined;
      const overrides: Partial<ModelParams> = { ...(paramsFile?.params ?? {}), ...(options.set ?? {}) };
      const changes = [
        ...(paramsFile ? [`params ${options.params}`] : []),
        ...(options.model ? [`model ${options.model}`] : []),
        ...Object.entries(options.set ?? {}).map(([key, value]) => `${key}=${value}`),
      ];
      const model = options.model ?? paramsFile?.model;
      const out =
        options.out ??
        (changes.length > 0 || options.env ? file.replace(/(\.mcap)?$/, '.replay.mcap') : undefined);
      if (out !== undefined && !out.endsWith('.mcap')) {
        throw new Error(`--out expects a file name ending in .mcap, got "${out}"`);
      }
      const result = await replay(file, {
        backend: options.backend,
        threads: options.threads,
        model,
        overrides,
        changes,
        env: options.env,
        out,
      });
      const row = {
        file: result.file,
        identical: result.identical,
        ticks: result.ticks,
        firstDivergence: result.firstDivergence,
        divergentTicks: result.divergentTicks,
        backend: result.backend,
        adapter: result.adapter,
        recordedBackend: result.recordedBackend,
        changed: result.changed,
        closedLoop: result.closedLoop,
        wallS: result.wallS,
        ...(result.out ? { out: result.out.path, outBytes: result.out.bytes } : {}),
      };
      if (options.json) printRows([row], true);
      else {
        const { firstDivergence: d, ...rest } = row;
        printRows([{ ...rest, firstDivergence: d ? `tick ${d.tick} ${d.output}` : null }], false);
        if (d) {
          console.error(
            `spikeloop: first divergence at tick ${d.tick} (${d.output}): recorded ${JSON.stringify(d.expected)}, replayed ${JSON.stringify(d.actual)}`,
          );
        }
      }
      // Divergence with an unchanged network is a failure; with a changed one it is the answer.
      if (!result.identical && !result.changed) process.exitCode = 1;
    });
}
