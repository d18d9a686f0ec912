/**
 * The shared memory between the main thread and the tick thread (docs/tick.md, "The tick thread"):
 * preallocated SharedArrayBuffers, written and read with Atomics, so no tick posts a message or
 * allocates. Three kinds of region:
 *
 * - control: a few Int32 words (state, stop request, ring counters, the tick thread's Linux tid);
 * - one input slot per sensor input (main → tick): the newest sample under a seqlock, so the tick
 *   never waits for the writer and never reads a half-written sample;
 * - the tick-record ring (tick → main): one fixed-size Float64 record per tick with everything the
 *   main thread needs (motor commands with their sourceSeq and safety flag, lateness, compute, the
 *   counts per population, the taken samples, e2e, the safety state, the arena's pose), and a
 *   spike ring of (step, neuron id) pairs of instance 0, filled only while someone wants spikes.
 *
 * Overflow: when the main thread falls behind by a whole ring, the tick thread never blocks and
 * never overwrites what the reader may be reading: it drops the new record (or the new spikes) and
 * counts it (`C_RECORDS_DROPPED`, `C_SPIKES_DROPPED`); the main thread reports the count.
 */

/** Control words (Int32 indices). */
export const C_STATE = 0;
export const C_STOP = 1;
/** Records published so far (the tick thread stores it and notifies; the main thread waits on it). */
export const C_RECORDS_WRITTEN = 2;
export const C_RECORDS_READ = 3;
export const C_RECORDS_DROPPED = 4;
/** > 0 while the main thread wants the spikes of instance 0 (raster, recording, ROS 2 spikes). */
export const C_SPIKES_WANTED = 5;
export const C_SPIKES_WRITTEN = 6;
export const C_SPIKES_READ = 7;
export const C_SPIKES_DROPPED = 8;
/** The tick thread's Linux thread id (0 until known, −1 where /proc/thread-self is missing). */
export const C_TID = 9;
/** Set by the main thread when it wants a fresh env.summary() (the tick thread posts it once). */
export const C_SUMMARY_WANTED = 10;
export const CONTROL_WORDS = 16;

export const STATE_STARTING = 0;
export const STATE_RUNNING = 1;
export const STATE_DONE = 2;
export const STATE_FAILED = 3;

/** Safety codes of a command in a record. */
export const SAFETY_NONE = 0;
export const SAFETY_STOP = 1;
export const SAFETY_HOLD = 2;

/** What the record ring holds for a run: sizes fixed when the tick thread is ready. */
export interface TickThreadShape {
  inputs: { name: string; capacity: number }[];
  outputs: { name: string; capacity: number }[];
  populations: number;
  /** Range rays of an in-thread arena whose pose is recorded per tick; −1 without one. */
  worldRays: number;
  recordCapacity: number;
  spikeCapacity: number;
}

/** Header fields of a record (Float64 indices from the record's start). */
export const R_KIND = 0;
export const R_INDEX = 1;
export const R_SLOT = 2;
export const R_START_US = 3;
export const R_LATENESS_US = 4;
export const R_COMPUTE_US = 5;
export const R_DROPPED = 6;
export const R_FIRST_DROPPED_LATENESS_US = 7;
export const R_MISSED_SLOT = 8;
export const R_FIRST_STEP = 9;
export const R_SPIKES_START = 10;
export const R_SPIKES_END = 11;
export const R_INCIDENTS = 12;
const HEADER = 13;

/** Record kinds: a tick, or ticks dropped at the end of a bounded run (no tick followed them). */
export const KIND_TICK = 1;
export const KIND_DROPPED = 2;

/** Per input, from its base. */
export const I_TAKEN = 0;
export const I_SEQ = 1;
export const I_ARRIVAL_US = 2;
export const I_USED_SEQ = 3;
export const I_E2E_US = 4;
export const I_STALE = 5;
export const I_LENGTH = 6;
const I_VALUES = 7;

/** Per output, from its base; then sourceSeq per input (−1: none), then values. */
export const O_PRESENT = 0;
export const O_SAFETY = 1;
export const O_COMPUTED_US = 2;
export const O_LENGTH = 3;
const O_SEQS = 4;

/**
 * The arena's pose after the tick's physics step: these fields, then the ranges, in the order
 * Arena.writeState writes them.
 */
export const W_FIELDS = [
  'timeS',
  'steps',
  'x',
  'y',
  'headingRad',
  'vMps',
  'omegaRadPerS',
  'targetX',
  'targetY',
  'inContact',
  'collisions',
  'targetsReached',
  'distanceM',
] as const;

/** Offsets of every part of a record, computed once from the shape. */
export class RecordLayout {
  readonly inputBase: number[];
  readonly inputValues: number[];
  readonly currents: number;
  readonly counts: number;
  readonly outputBase: number[];
  readonly outputSeqs: number[];
  readonly outputValues: number[];
  /** −1 without a world. */
  readonly world: number;
  readonly size: number;

  constructor(readonly shape: TickThreadShape) {
    let at = HEADER;
    this.inputBase = [];
    this.inputValues = [];
    for (const input of shape.inputs) {
      this.inputBase.push(at);
      this.inputValues.push(at + I_VALUES);
      at += I_VALUES + input.capacity;
    }
    this.currents = at;
    at += shape.populations;
    this.counts = at;
    at += shape.populations;
    this.outputBase = [];
    this.outputSeqs = [];
    this.outputValues = [];
    for (const output of shape.outputs) {
      this.outputBase.push(at);
      this.outputSeqs.push(at + O_SEQS);
      this.outputValues.push(at + O_SEQS + shape.inputs.length);
      at += O_SEQS + shape.inputs.length + output.capacity;
    }
    this.world = shape.worldRays >= 0 ? at : -1;
    if (shape.worldRays >= 0) at += W_FIELDS.length + shape.worldRays;
    this.size = at;
  }
}

/** Bytes of an input slot's header: Int32 [lock, length, live, taken], then Float64 [seq, arrivalUs]. */
const SLOT_VALUES_BYTE = 32;
const S_LOCK = 0;
const S_LENGTH = 1;
const S_LIVE = 2;
/** The lock value of the newest sample the tick copied out (tells the writer what was superseded). */
const S_TAKEN = 3;

export function newInputSlot(capacity: number): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(SLOT_VALUES_BYTE + 4 * capacity);
  new Int32Array(buffer, 0, 4)[S_LIVE] = 1;
  return buffer;
}

/**
 * The main thread's end of an input slot: the newest sample of an input, written under a seqlock
 * (the lock word is odd while a write is in progress). Older samples the tick never read are simply
 * overwritten: newest-sample semantics, as SensorSource.takeLatest has them.
 */
export class InputSlotWriter {
  private readonly header: Int32Array;
  private readonly stamps: Float64Array;
  private readonly values: Float32Array;
  /** Samples longer than the slot (cut to its capacity; counted). */
  truncated = 0;

  constructor(buffer: SharedArrayBuffer) {
    this.header = new Int32Array(buffer, 0, 4);
    this.stamps = new Float64Array(buffer, 16, 2);
    this.values = new Float32Array(buffer, SLOT_VALUES_BYTE);
  }

  /** Writes the sample; true when it replaced one the tick never read (a superseded sample). */
  publish(values: Float32Array, seq: number, arrivalUs: number): boolean {
    const lock = Atomics.load(this.header, S_LOCK);
    const superseded = lock !== 0 && Atomics.load(this.header, S_TAKEN) !== lock;
    Atomics.store(this.header, S_LOCK, lock + 1);
    const length = Math.min(values.length, this.values.length);
    if (length < values.length) this.truncated++;
    this.values.set(length === values.length ? values : values.subarray(0, length));
    this.stamps[0] = seq;
    this.stamps[1] = arrivalUs;
    Atomics.store(this.header, S_LENGTH, length);
    Atomics.store(this.header, S_LOCK, lock + 2);
    return superseded;
  }

  setLive(live: boolean): void {
    Atomics.store(this.header, S_LIVE, live ? 1 : 0);
  }
}

/** The tick thread's end of an input slot: a copy of the newest sample into buffers of its own. */
export class InputSlotReader {
  private readonly header: Int32Array;
  private readonly stamps: Float64Array;
  private readonly values: Float32Array;
  private lastLock = 0;

  constructor(buffer: SharedArrayBuffer) {
    this.header = new Int32Array(buffer, 0, 4);
    this.stamps = new Float64Array(buffer, 16, 2);
    this.values = new Float32Array(buffer, SLOT_VALUES_BYTE);
  }

  get capacity(): number {
    return this.values.length;
  }

  isLive(): boolean {
    return Atomics.load(this.header, S_LIVE) !== 0;
  }

  /**
   * Copies a sample published since the last call into `into` (values, seq, arrival) and returns
   * its length, or −1 when there is none. A write in progress (or one that raced the copy) is not
   * waited for: the tick tries a few times, then takes it on its next tick.
   */
  read(into: Float32Array, stamps: Float64Array): number {
    for (let attempt = 0; attempt < 4; attempt++) {
      const lock = Atomics.load(this.header, S_LOCK);
      if (lock === this.lastLock) return -1;
      if ((lock & 1) === 1) continue;
      const length = Atomics.load(this.header, S_LENGTH);
      for (let k = 0; k < length; k++) into[k] = this.values[k]!;
      stamps[0] = this.stamps[0]!;
      stamps[1] = this.stamps[1]!;
      if (Atomics.load(this.header, S_LOCK) !== lock) continue;
      this.lastLock = lock;
      Atomics.store(this.header, S_TAKEN, lock);
      return length;
    }
    return -1;
  }
}

/** The buffers of a run, handed to the main thread once when the tick thread is ready. */
export interface TickThreadBuffers {
  control: SharedArrayBuffer;
  inputs: SharedArrayBuffer[];
  records: SharedArrayBuffer;
  spikes: SharedArrayBuffer;
}

/** Records in the ring: 4 s of 1 ms ticks; a main thread that stalls longer loses records (counted). */
export const DEFAULT_RECORD_CAPACITY = 4096;
/** (step, id) pairs in the spike ring: a second of N = 5000 at 200 Hz, far more than the network fires. */
export const DEFAULT_SPIKE_CAPACITY = 1 << 20;
