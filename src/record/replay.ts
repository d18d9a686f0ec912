/**
 * `spikeloop replay`: the recorded run's network re-run offline on the recorded inputs, tick by
 * tick through the same TickLoop (a virtual clock, no sleeping), checking spikes and motor
 * commands against the recording bit for bit. A changed network (`--params`, `--model`, `--set`)
 * answers "what would this network have commanded" and writes a new recording; `--env arena`
 * closes the loop through a fresh arena from the recorded start instead of the recorded inputs.
 */
import { createEngine } from '../engine/create.js';
import type { BackendChoice } from '../engine/engine.js';
import { ArenaEnvironment } from '../env/arena/environment.js';
import { DEFAULT_ARENA } from '../env/arena/world.js';
import type { TickEvent, TickObserver } from '../loop/observer.js';
import type { Environment } from '../loop/ports.js';
import { virtualTime } from '../loop/sleep.js';
import { TickLoop } from '../loop/tick-loop.js';
import { deriveNetwork } from '../model/network.js';
import { type ModelName, type ModelParams, modelParams, validateParams } from '../model/params.js';
import type { RunDescription } from './channels.js';
import { type RecordedTick, type Recording, readRecording } from './reader.js';
import { McapRecorder, type RecordingResult } from './recorder.js';
import { RecordedInputs, recordedCodecs } from './replay-inputs.js';

export interface ReplayOptions {
  backend: BackendChoice;
  threads?: number;
  /** A different model (its defaults at the recorded N and seed). */
  model?: ModelName;
  /** Parameter overrides (a params file's `params`, then --set), applied last. */
  overrides?: Partial<ModelParams>;
  /** Human-readable list of what was changed (stored in the new recording). */
  changes?: string[];
  /** 'arena': close the loop through a fresh arena instead of replaying recorded inputs. */
  env?: 'arena';
  /** Write the replayed run to this MCAP file. */
  out?: string;
}

export interface Divergence {
  tick: number;
  /** "spikes", "motor/NAME" or "world". */
  output: string;
  expected: unknown;
  actual: unknown;
}

export interface ReplayResult {
  file: string;
  identical: boolean;
  ticks: number;
  firstDivergence: Divergence | null;
  /** Ticks whose spikes or commands differ. */
  divergentTicks: number;
  backend: string;
  adapter: string;
  recordedBackend: string;
  changed: boolean;
  closedLoop: boolean;
  wallS: number;
  out?: RecordingResult;
}

/** The replayed network's parameters: the recorded ones, or a changed model and overrides. */
export function replayParams(description: RunDescription, options: ReplayOptions): ModelParams {
  const base = options.model
    ? modelParams(options.model, description.n, { seed: description.seed })
    : description.params;
  return validateParams({ ...base, ...(options.overrides ?? {}) });
}

const sameBits = (a: Float32Array, b: Float32Array) => {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let k = 0; k < x.length; k++) if (x[k] !== y[k]) return false;
  return true;
};

/** Compares every replayed tick with the recorded one; keeps the first difference. */
class Comparator implements TickObserver {
  first: Divergence | null = null;
  divergentTicks = 0;
  private steps: number[] = [];
  private ids: number[] = [];

  constructor(private readonly ticks: readonly RecordedTick[]) {}

  onSpikes(step: number, neuronIds: Uint32Array): void {
    for (const id of neuronIds) {
      this.steps.push(step);
      this.ids.push(id);
    }
  }

  onTick(event: TickEvent): void {
    const recorded = this.ticks[event.index];
    const steps = this.steps.map((step) => step - event.firstStep);
    const ids = this.ids;
    this.steps = [];
    this.ids = [];
    if (!recorded) return;
    let diverged: Divergence | null = null;
    const spikesEqual =
      ids.length === recorded.spikeIds.length &&
      ids.every((id, k) => id === recorded.spikeIds[k] && steps[k] === recorded.spikeSteps[k]);
    if (!spikesEqual) {
      const k = firstDifference(ids, recorded.spikeIds, steps, recorded.spikeSteps);
      diverged = {
        tick: event.index,
        output: 'spikes',
        expected: {
          count: recorded.spikeIds.length,
          from: k,
          steps: recorded.spikeSteps.slice(k, k + 8),
          ids: recorded.spikeIds.slice(k, k + 8),
        },
        actual: { count: ids.length, from: k, steps: steps.slice(k, k + 8), ids: ids.slice(k, k + 8) },
      };
    }
    for (const output of event.outputs) {
      if (diverged) break;
      const expected = recorded.commands.get(output.name) ?? null;
      const actual = output.command?.values ?? null;
      const equal = expected === null || actual === null ? expected === actual : sameBits(expected, actual);
      if (!equal) {
        diverged = {
          tick: event.index,
          output: `motor/${output.name}`,
          expected: expected ? Array.from(expected) : null,
          actual: actual ? Array.from(actual) : null,
        };
      }
    }
    if (!diverged) return;
    this.divergentTicks++;
    this.first ??= diverged;
  }
}

function firstDifference(a: number[], b: number[], sa: number[], sb: number[]): number {
  let k = 0;
  while (k < a.length && k < b.length && a[k] === b[k] && sa[k] === sb[k]) k++;
  return k;
}

export async function replay(path: string, options: ReplayOptions): Promise<ReplayResult> {
  return replayRecording(await readRecording(path), options);
}

/** Replays a recording already read (tests may alter it to check what a divergence reports). */
export async function replayRecording(recording: Recording, options: ReplayOptions): Promise<ReplayResult> {
  const { description, path } = recording;
  if (recording.ticks.length === 0) throw new Error(`${path}: the recording has no ticks`);
  const changes = options.changes ?? [];
  const params = replayParams(description, options);
  const network = deriveNetwork(params);
  const time = virtualTime();
  if (options.env === 'arena' && description.env !== 'arena') {
    throw new Error(`--env arena needs a recording of an arena run; ${path} recorded "${description.env}"`);
  }
  const engine = await createEngine(options.backend, { networks: [network], threads: options.threads });
  let recorder: McapRecorder | null = null;
  let env: Environment | null = null;
  const started = performance.now();
  try {
    if (options.env === 'arena') {
      const seed = Number(description.envSettings.seed ?? description.seed);
      env = new ArenaEnvironment({
        clusters: network.layout.clusters,
        tickMs: description.tickMs,
        arena: { ...DEFAULT_ARENA, seed },
        mapping: description.mapping ?? undefined,
        clock: time.clock,
      });
    } else {
      const codecs = await recordedCodecs(description, network.layout, path);
      env = new RecordedInputs(recording, codecs.encoders, codecs.decoders);
    }
    const loop = new TickLoop({
      engine,
      env,
      tickMs: description.tickMs,
      dtMs: params.dtMs,
      latePolicy: 'late',
      clock: time.clock,
      sleep: time.sleep,
      // Safety transitions are the recording's (replay-inputs.ts), not news: only the rest is shown.
      warn: (message) => {
        if (!message.startsWith('safety: ')) console.error(`spikeloop replay: ${message}`);
      },
    });
    for (let k = 0; k < description.warmupTicks; k++) await engine.run(loop.substeps);
    const comparator = new Comparator(recording.ticks);
    loop.addObserver(comparator);
    if (options.out) {
      const replayed: RunDescription = {
        ...description,
        params,
        model: options.model ?? description.model,
        n: network.layout.n,
        seed: params.seed,
        layout: network.layout,
        backend: engine.backend,
        adapter: engine.adapter,
        latePolicy: 'late',
        scene: options.env === 'arena' ? description.scene : null,
        startedAt: new Date().toISOString(),
        replayOf: { file: path, changes: [...changes, ...(options.env === 'arena' ? ['env arena'] : [])] },
      };
      recorder = await McapRecorder.open(options.out, replayed, env, { clock: time.clock });
      loop.addObserver(recorder.capture);
    }
    await loop.run(recording.ticks.length);
    const out = recorder ? await recorder.close() : undefined;
    recorder = null;
    return {
      file: path,
      identical: comparator.first === null,
      ticks: loop.telemetry.counters.ticks,
      firstDivergence: comparator.first,
      divergentTicks: comparator.divergentTicks,
      backend: engine.backend,
      adapter: engine.adapter,
      recordedBackend: description.backend,
      changed: changes.length > 0,
      closedLoop: options.env === 'arena',
      wallS: (performance.now() - started) / 1000,
      ...(out ? { out } : {}),
    };
  } finally {
    await recorder?.close();
    await env?.close();
    await engine.dispose();
  }
}
