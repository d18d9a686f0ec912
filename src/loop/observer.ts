/**
 * What the tick loop tells observers once per tick (recorders, live viewers), after the tick's
 * work is done. The loop knows nothing of what an observer does with it; an observer must return
 * quickly and copy what it keeps: every array here is reused or owned by the loop, valid only
 * during the call.
 */
import type { MotorCommand, SensorSample } from './ports.js';

export interface TickInput {
  readonly name: string;
  /** The sample taken from the source in this tick, or null when the input held its last one. */
  readonly taken: SensorSample | null;
  /** Seq of the sample the encoders used this tick (taken or held), or -1 before the first. */
  readonly usedSeq: number;
}

export interface TickOutput {
  readonly name: string;
  /** The command written to the sink this tick, or null when its decoder failed. */
  readonly command: MotorCommand | null;
}

export interface TickEvent {
  /** Ticks run before this one (0 for the first). */
  readonly index: number;
  /** Schedule slot (differs from index when ticks were dropped under the skip policy). */
  readonly slot: number;
  readonly startUs: number;
  readonly latenessUs: number;
  /** read → update → write → env.step, µs. */
  readonly computeUs: number;
  /** Engine steps simulated before this tick (the first substep of this tick is this step). */
  readonly firstStep: number;
  readonly substeps: number;
  readonly inputs: readonly TickInput[];
  /** Population currents set for this tick (pA), instance 0. */
  readonly currentsPa: Float32Array;
  /** Spike counts per population of instance 0 over this tick. */
  readonly counts: Uint32Array;
  readonly outputs: readonly TickOutput[];
}

export interface TickObserver {
  /** Every spike of instance 0 (global ids ascending), step by step, before the tick's onTick. */
  onSpikes?(step: number, neuronIds: Uint32Array): void;
  onTick(event: TickEvent): void;
}
