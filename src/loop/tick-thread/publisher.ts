import { LoopTelemetry } from '../../telemetry/loop-telemetry.js';
import type { TickEvent, TickObserver } from '../observer.js';
import type { Environment } from '../ports.js';
import type { TickLoop } from '../tick-loop.js';
import {
  ALLOC_RUN_SETTLE_TICKS,
  ALLOC_WARMUP_TICKS,
  ALLOC_WINDOW_TICKS,
  AllocationMeter,
} from './alloc-meter.js';
import {
  C_RECORDS_DROPPED,
  C_RECORDS_READ,
  C_RECORDS_WRITTEN,
  C_SPIKES_DROPPED,
  C_SPIKES_READ,
  C_SPIKES_WANTED,
  C_SPIKES_WRITTEN,
  C_STOP,
  C_SUMMARY_WANTED,
  I_ARRIVAL_US,
  I_E2E_US,
  I_LENGTH,
  I_SEQ,
  I_STALE,
  I_TAKEN,
  I_USED_SEQ,
  KIND_DROPPED,
  KIND_TICK,
  O_COMPUTED_US,
  O_LENGTH,
  O_PRESENT,
  O_SAFETY,
  R_COMPUTE_US,
  R_DROPPED,
  R_FIRST_DROPPED_LATENESS_US,
  R_FIRST_STEP,
  R_INCIDENTS,
  R_INDEX,
  R_KIND,
  R_LATENESS_US,
  R_MISSED_SLOT,
  R_SLOT,
  R_SPIKES_END,
  R_SPIKES_START,
  R_START_US,
  RecordLayout,
  SAFETY_HOLD,
  SAFETY_NONE,
  SAFETY_STOP,
  type TickThreadShape,
} from './shared.js';
import type { ToMain } from './types.js';

/**
 * Writes each tick into the record ring. The loop's measurements arrive through the LoopTelemetry
 * subclass below, the rest through the observer call at the end of the tick.
 */
export class TickPublisher implements TickObserver {
  private readonly control: Int32Array;
  private readonly records: Float64Array;
  private readonly spikes: Uint32Array;
  private readonly layout: RecordLayout;
  private readonly recordMask: number;
  private readonly spikeMask: number;
  private readonly inputIndex: Map<string, number>;
  /** Float64 offset of the record being written, −1 when the ring is full (this tick is dropped). */
  private at = -1;
  private spikesStart = 0;
  private spikesOn = false;
  /** Ticks dropped at the end of a bounded run (no tick carries them). */
  tailDropped = 0;
  tailFirstDroppedLatenessUs = 0;
  loop: TickLoop | null = null;
  env: Environment | null = null;
  /** Heap growth per tick, sampled every ALLOC_WINDOW_TICKS ticks (alloc-meter.ts). */
  readonly allocation = new AllocationMeter();
  /** Ticks of this run, and of the thread's life (the compiler's warm-up spans runs). */
  private ticksSeen = 0;
  private ticksEver = 0;
  private readonly spikeObserver: TickObserver = {
    onSpikes: (step, ids) => this.addSpikes(step, ids),
    onTick: () => {},
  };

  constructor(
    buffers: { control: SharedArrayBuffer; records: SharedArrayBuffer; spikes: SharedArrayBuffer },
    private readonly shape: TickThreadShape,
    private readonly post: (message: ToMain) => void,
  ) {
    this.control = new Int32Array(buffers.control);
    this.records = new Float64Array(buffers.records);
    this.spikes = new Uint32Array(buffers.spikes);
    this.layout = new RecordLayout(shape);
    this.recordMask = shape.recordCapacity - 1;
    this.spikeMask = shape.spikeCapacity - 1;
    this.inputIndex = new Map(shape.inputs.map((input, i) => [input.name, i]));
  }

  /** A tick starts: reserve its record (or count it dropped when the main thread is a ring behind). */
  begin(latenessUs: number, dropped: number, firstDroppedLatenessUs: number, missedSlot: boolean): void {
    this.followSpikeRequests();
    const written = Atomics.load(this.control, C_RECORDS_WRITTEN);
    const read = Atomics.load(this.control, C_RECORDS_READ);
    if (((written - read) | 0) >= this.shape.recordCapacity) {
      // Never block the tick and never overwrite a record the main thread may be reading.
      Atomics.add(this.control, C_RECORDS_DROPPED, 1);
      this.at = -1;
      return;
    }
    const at = (written & this.recordMask) * this.layout.size;
    this.at = at;
    const r = this.records;
    r[at + R_KIND] = KIND_TICK;
    r[at + R_LATENESS_US] = latenessUs;
    r[at + R_DROPPED] = dropped;
    r[at + R_FIRST_DROPPED_LATENESS_US] = firstDroppedLatenessUs;
    r[at + R_MISSED_SLOT] = missedSlot ? 1 : 0;
    this.spikesStart = Atomics.load(this.control, C_SPIKES_WRITTEN);
    const inputBase = this.layout.inputBase;
    for (let i = 0; i < inputBase.length; i++) r[at + inputBase[i]! + I_E2E_US] = Number.NaN;
  }

  endToEnd(input: string, latencyUs: number): void {
    const i = this.inputIndex.get(input);
    if (this.at >= 0 && i !== undefined)
      this.records[this.at + this.layout.inputBase[i]! + I_E2E_US] = latencyUs;
  }

  /** Spikes of instance 0 go into the spike ring only while the main thread wants them. */
  private followSpikeRequests(): void {
    const wanted = Atomics.load(this.control, C_SPIKES_WANTED) > 0;
    if (wanted === this.spikesOn || this.loop === null) return;
    this.spikesOn = wanted;
    if (wanted) this.loop.addObserver(this.spikeObserver);
    else this.loop.removeObserver(this.spikeObserver);
  }

  private addSpikes(step: number, ids: Uint32Array): void {
    const written = Atomics.load(this.control, C_SPIKES_WRITTEN);
    const read = Atomics.load(this.control, C_SPIKES_READ);
    if (((written - read) | 0) + ids.length > this.shape.spikeCapacity) {
      Atomics.add(this.control, C_SPIKES_DROPPED, ids.length);
      return;
    }
    const s = this.spikes;
    for (let k = 0; k < ids.length; k++) {
      const pair = ((written + k) & this.spikeMask) * 2;
      s[pair] = step;
      s[pair + 1] = ids[k]!;
    }
    Atomics.store(this.control, C_SPIKES_WRITTEN, (written + ids.length) | 0);
  }

  onTick(event: TickEvent): void {
    const loop = this.loop!;
    const at = this.at;
    if (at >= 0) {
      const r = this.records;
      const L = this.layout;
      r[at + R_INDEX] = event.index;
      r[at + R_SLOT] = event.slot;
      r[at + R_START_US] = event.startUs;
      r[at + R_COMPUTE_US] = event.computeUs;
      r[at + R_FIRST_STEP] = event.firstStep;
      r[at + R_SPIKES_START] = this.spikesStart;
      r[at + R_SPIKES_END] = this.spikesOn ? Atomics.load(this.control, C_SPIKES_WRITTEN) : this.spikesStart;
      r[at + R_INCIDENTS] = loop.safety.incidentCount;
      for (let i = 0; i < event.inputs.length; i++) {
        const input = event.inputs[i]!;
        const base = at + L.inputBase[i]!;
        const taken = input.taken;
        r[base + I_TAKEN] = taken ? 1 : 0;
        r[base + I_USED_SEQ] = input.usedSeq;
        r[base + I_STALE] = loop.safety.inputStale(i) ? 1 : 0;
        if (taken) {
          r[base + I_SEQ] = taken.seq;
          r[base + I_ARRIVAL_US] = taken.arrivalUs;
          const length = Math.min(taken.values.length, this.shape.inputs[i]!.capacity);
          r[base + I_LENGTH] = length;
          const values = at + L.inputValues[i]!;
          for (let k = 0; k < length; k++) r[values + k] = taken.values[k]!;
        }
      }
      const { currentsPa, counts } = event;
      for (let p = 0; p < this.shape.populations; p++) {
        r[at + L.currents + p] = currentsPa[p]!;
        r[at + L.counts + p] = counts[p]!;
      }
      for (let k = 0; k < event.outputs.length; k++) {
        const command = event.outputs[k]!.command;
        const base = at + L.outputBase[k]!;
        r[base + O_PRESENT] = command ? 1 : 0;
        if (!command) continue;
        r[base + O_SAFETY] =
          command.safety === 'stop' ? SAFETY_STOP : command.safety === 'hold' ? SAFETY_HOLD : SAFETY_NONE;
        r[base + O_COMPUTED_US] = command.computedUs;
        const length = Math.min(command.values.length, this.shape.outputs[k]!.capacity);
        r[base + O_LENGTH] = length;
        const seqs = at + L.outputSeqs[k]!;
        for (let i = 0; i < this.shape.inputs.length; i++) {
          r[seqs + i] = command.sourceSeq[this.shape.inputs[i]!.name] ?? -1;
        }
        const values = at + L.outputValues[k]!;
        for (let v = 0; v < length; v++) r[values + v] = command.values[v]!;
      }
      if (L.world >= 0) this.writeWorld(at + L.world);
      Atomics.store(this.control, C_RECORDS_WRITTEN, (Atomics.load(this.control, C_RECORDS_WRITTEN) + 1) | 0);
      Atomics.notify(this.control, C_RECORDS_WRITTEN);
    }
    this.ticksEver++;
    if (++this.ticksSeen % ALLOC_WINDOW_TICKS === 0) {
      // Measured once the compiler has settled: before, its feedback and code land on this heap.
      // One call site either way, both conditions evaluated every window: code here first run at
      // the first measured window (a branch, or the right side of an &&) had no type feedback, so
      // V8 threw this function's optimised code away right there and that window measured the
      // unoptimised publisher (about 880 bytes per tick).
      const warmedUp = this.ticksEver > ALLOC_WARMUP_TICKS;
      const settled = this.ticksSeen > ALLOC_RUN_SETTLE_TICKS;
      this.allocation.window(this.ticksSeen, warmedUp && settled);
    }
    if (Atomics.load(this.control, C_STOP) !== 0) loop.stop();
    if (Atomics.load(this.control, C_SUMMARY_WANTED) !== 0) {
      Atomics.store(this.control, C_SUMMARY_WANTED, 0);
      this.post({ kind: 'summary', summary: this.env?.summary?.() ?? {} });
    }
  }

  /** The in-thread arena's pose after this tick's physics step (dashboard, recording, Foxglove). */
  private writeWorld(at: number): void {
    // ArenaEnvironment.writeState writes the fields in W_FIELDS' order, then the ranges, in place.
    const env = this.env as unknown as { writeState(out: Float64Array, at: number, rays: number): void };
    env.writeState(this.records, at, this.shape.worldRays);
  }

  /** A run starts: allocation is measured from here. */
  startRun(): void {
    this.ticksSeen = 0;
    this.allocation.start(0);
  }

  /** Ticks dropped at the end of a bounded run (skip policy), as a record of their own. */
  publishTail(): void {
    if (this.tailDropped === 0) return;
    const dropped = this.tailDropped;
    this.tailDropped = 0;
    const written = Atomics.load(this.control, C_RECORDS_WRITTEN);
    const read = Atomics.load(this.control, C_RECORDS_READ);
    if (((written - read) | 0) >= this.shape.recordCapacity) {
      Atomics.add(this.control, C_RECORDS_DROPPED, 1);
      return;
    }
    const at = (written & this.recordMask) * this.layout.size;
    this.records[at + R_KIND] = KIND_DROPPED;
    this.records[at + R_DROPPED] = dropped;
    this.records[at + R_FIRST_DROPPED_LATENESS_US] = this.tailFirstDroppedLatenessUs;
    Atomics.store(this.control, C_RECORDS_WRITTEN, (written + 1) | 0);
    Atomics.notify(this.control, C_RECORDS_WRITTEN);
  }
}

/** The loop's own telemetry (its counters drive the loop's warnings), copied into the tick record. */
export class PublishingTelemetry extends LoopTelemetry {
  private starting = false;

  constructor(
    tickUs: number,
    inputs: readonly string[],
    private readonly publisher: TickPublisher,
  ) {
    super(tickUs, inputs);
  }

  override recordStart(
    latenessUs: number,
    dropped: number,
    firstDroppedLatenessUs: number,
    missedSlot: boolean,
  ): void {
    this.starting = true;
    super.recordStart(latenessUs, dropped, firstDroppedLatenessUs, missedSlot);
    this.starting = false;
    this.publisher.begin(latenessUs, dropped, firstDroppedLatenessUs, missedSlot);
  }

  override recordDropped(dropped: number, firstDroppedLatenessUs: number): void {
    super.recordDropped(dropped, firstDroppedLatenessUs);
    // Outside recordStart, dropped ticks end a bounded run: no tick record will carry them.
    if (!this.starting && dropped > 0) {
      this.publisher.tailDropped += dropped;
      this.publisher.tailFirstDroppedLatenessUs = firstDroppedLatenessUs;
    }
  }

  override recordEndToEnd(input: string, latencyUs: number): void {
    super.recordEndToEnd(input, latencyUs);
    this.publisher.endToEnd(input, latencyUs);
  }
}
