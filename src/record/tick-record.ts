/**
 * One tick as plain, structured-cloneable data, and the observer that captures it. Capturing only
 * copies (a few small typed arrays per tick); converting to messages, compressing and writing
 * happen elsewhere (a worker thread for recordings, a timer for the live Foxglove view).
 */
import type { TickEvent, TickObserver } from '../loop/observer.js';
import type { Environment } from '../loop/ports.js';

export interface RecordedSample {
  seq: number;
  /** Arrival in the bridge process, monotonic µs. */
  arrivalUs: number;
  values: Float32Array;
}

export interface RecordedInput {
  name: string;
  /** Seq of the sample the encoders used (taken this tick or held), −1 before the first. */
  usedSeq: number;
  /** The sample taken from the source in this tick, if a new one was there. */
  taken: RecordedSample | null;
}

export interface RecordedCommand {
  name: string;
  /** Null when the decoder failed this tick (no command was written). */
  values: Float32Array | null;
  sourceSeq: Record<string, number>;
  computedUs: number;
  /**
   * What the stale-input policy made of this output (loop/safety.ts): the decoded `command`, a
   * `stop` or a `hold`; null when nothing was written. A replay re-applies it (staleness is a
   * property of the recorded inputs' timing, which an offline run does not have).
   */
  safety: 'command' | 'stop' | 'hold' | null;
}

/** The arena's state after the tick's physics step (in-process arena only). */
export interface RecordedWorld {
  timeS: number;
  x: number;
  y: number;
  headingRad: number;
  vMps: number;
  omegaRadPerS: number;
  targetX: number;
  targetY: number;
  rangesM: number[];
  collisions: number;
  targetsReached: number;
  distanceM: number;
}

export interface TickRecord {
  index: number;
  slot: number;
  startUs: number;
  latenessUs: number;
  computeUs: number;
  firstStep: number;
  substeps: number;
  inputs: RecordedInput[];
  currentsPa: Float32Array;
  counts: Uint32Array;
  outputs: RecordedCommand[];
  /** Spikes of instance 0 in this tick: step offset within the tick (0 … substeps−1) and neuron id. */
  spikeSteps: Uint8Array;
  spikeIds: Uint32Array;
  world: RecordedWorld | null;
  /** A world frame an external simulator sent since the previous tick (ws environment), as plain data. */
  externalWorld: Record<string, number | number[]> | null;
}

/** What a capture reads of an in-process world after each tick (the arena's `state()`). */
export type WorldProbe = () => RecordedWorld;

/** The newest world frame of an external simulator (the same object until a new one arrives). */
export type ExternalWorldProbe = () => object | null;

/**
 * Copies every tick (and every spike of instance 0) into TickRecords; `drain()` hands over what
 * was captured since the last call. Bounded: past `maxPending` undrained ticks the oldest are
 * dropped and counted (a consumer that stopped must not grow memory without limit).
 */
export class TickCapture implements TickObserver {
  private pending: TickRecord[] = [];
  private spikeSteps: number[] = [];
  private spikeIds: number[] = [];
  dropped = 0;
  private lastExternal: object | null = null;

  constructor(
    private readonly world: WorldProbe | null = null,
    private readonly maxPending = 60_000,
    private readonly externalWorld: ExternalWorldProbe | null = null,
  ) {}

  /** A new external world frame as plain numbers and arrays, or null if none arrived. */
  private newExternalWorld(): Record<string, number | number[]> | null {
    const frame = this.externalWorld?.() ?? null;
    if (frame === null || frame === this.lastExternal) return null;
    this.lastExternal = frame;
    const out: Record<string, number | number[]> = {};
    for (const [key, value] of Object.entries(frame)) {
      if (typeof value === 'number') out[key] = value;
      else if (ArrayBuffer.isView(value)) out[key] = Array.from(value as Float32Array);
    }
    return out;
  }

  onSpikes(step: number, neuronIds: Uint32Array): void {
    for (let k = 0; k < neuronIds.length; k++) {
      this.spikeSteps.push(step);
      this.spikeIds.push(neuronIds[k]!);
    }
  }

  onTick(event: TickEvent): void {
    const spikeSteps = new Uint8Array(this.spikeSteps.length);
    for (let k = 0; k < spikeSteps.length; k++) spikeSteps[k] = this.spikeSteps[k]! - event.firstStep;
    const record: TickRecord = {
      index: event.index,
      slot: event.slot,
      startUs: event.startUs,
      latenessUs: event.latenessUs,
      computeUs: event.computeUs,
      firstStep: event.firstStep,
      substeps: event.substeps,
      inputs: event.inputs.map((input) => ({
        name: input.name,
        usedSeq: input.usedSeq,
        taken: input.taken
          ? { seq: input.taken.seq, arrivalUs: input.taken.arrivalUs, values: input.taken.values.slice() }
          : null,
      })),
      currentsPa: event.currentsPa.slice(),
      counts: event.counts.slice(),
      outputs: event.outputs.map((output) => ({
        name: output.name,
        values: output.command ? output.command.values.slice() : null,
        sourceSeq: output.command ? { ...output.command.sourceSeq } : {},
        computedUs: output.command ? output.command.computedUs : Number.NaN,
        safety: output.command ? (output.command.safety ?? 'command') : null,
      })),
      spikeSteps,
      spikeIds: Uint32Array.from(this.spikeIds),
      world: this.world ? this.world() : null,
      externalWorld: this.newExternalWorld(),
    };
    this.spikeSteps.length = 0;
    this.spikeIds.length = 0;
    if (this.pending.length >= this.maxPending) {
      this.pending.shift();
      this.dropped++;
    }
    this.pending.push(record);
  }

  drain(): TickRecord[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }
}

interface ArenaLike {
  state(): {
    timeS: number;
    robot: { x: number; y: number; headingRad: number; vMps: number; omegaRadPerS: number };
    target: { x: number; y: number };
    rangesM: number[];
    collisions: number;
    targetsReached: number;
    distanceM: number;
  };
}

/** A probe for environments that expose the arena's `state()`; null for external worlds. */
export function worldProbeOf(env: object): WorldProbe | null {
  const candidate = env as Partial<ArenaLike> & { name?: string };
  if (candidate.name !== 'arena' || typeof candidate.state !== 'function') return null;
  const arena = candidate as ArenaLike;
  return () => {
    const s = arena.state();
    return {
      timeS: s.timeS,
      x: s.robot.x,
      y: s.robot.y,
      headingRad: s.robot.headingRad,
      vMps: s.robot.vMps,
      omegaRadPerS: s.robot.omegaRadPerS,
      targetX: s.target.x,
      targetY: s.target.y,
      rangesM: s.rangesM,
      collisions: s.collisions,
      targetsReached: s.targetsReached,
      distanceM: s.distanceM,
    };
  };
}

/** For environments fed by an external simulator's world frames (ws: its view's `world()`). */
export function externalWorldProbeOf(env: Pick<Environment, 'name' | 'view'>): ExternalWorldProbe | null {
  const view = env.view;
  if (env.name !== 'ws' || view === undefined) return null;
  return () => view.world();
}
