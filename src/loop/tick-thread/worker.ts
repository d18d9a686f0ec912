/**
 * The tick thread (docs/tick.md, "The tick thread"): a worker_thread that creates the engine (and
 * an in-process environment, or the codecs of an external one) and runs the one TickLoop. It talks
 * to the main thread through the shared memory of shared.ts, once per tick and without messages;
 * messages carry only set-up, warnings, the environment's summary on request and the end.
 */
import { readlinkSync } from 'node:fs';
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import { buildMapping } from '../../codec/mapping.js';
import type { Encoder } from '../../codec/types.js';
import { createEngine } from '../../engine/create.js';
import type { Engine } from '../../engine/engine.js';
import { createEnvironment } from '../../env/registry.js';
import { deriveNetwork } from '../../model/network.js';
import { modelParams } from '../../model/params.js';
import { LoopTelemetry } from '../../telemetry/loop-telemetry.js';
import type { TickEvent, TickObserver } from '../observer.js';
import type { Environment, MotorSink, SensorSample, SensorSource } from '../ports.js';
import { blockingSleeper, DEFAULT_SLEEP, monotonicUs, preciseSleeper, type SleepOptions } from '../sleep.js';
import { TickLoop } from '../tick-loop.js';
import { allocationFreeClock } from '../wasi-clock.js';
import { ALLOC_WARMUP_TICKS, ALLOC_WINDOW_TICKS, AllocationMeter } from './alloc-meter.js';
import {
  C_RECORDS_DROPPED,
  C_RECORDS_READ,
  C_RECORDS_WRITTEN,
  C_SPIKES_DROPPED,
  C_SPIKES_READ,
  C_SPIKES_WANTED,
  C_SPIKES_WRITTEN,
  C_STATE,
  C_STOP,
  C_SUMMARY_WANTED,
  C_TID,
  DEFAULT_RECORD_CAPACITY,
  DEFAULT_SPIKE_CAPACITY,
  I_ARRIVAL_US,
  I_E2E_US,
  I_LENGTH,
  I_SEQ,
  I_STALE,
  I_TAKEN,
  I_USED_SEQ,
  InputSlotReader,
  KIND_DROPPED,
  KIND_TICK,
  newInputSlot,
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
  STATE_DONE,
  STATE_FAILED,
  STATE_RUNNING,
  type TickThreadShape,
  W_FIELDS,
} from './shared.js';
import type { GcStats, TickThreadSetup, ToMain, ToTick } from './types.js';

/** A sensor input whose samples the main thread publishes into a shared slot. */
class SharedSource implements SensorSource {
  readonly size: number | undefined;
  private readonly buffer: Float32Array;
  private readonly stamps = new Float64Array(2);
  /** One sample object, refilled: the loop keeps only the newest, so nothing is allocated per tick. */
  private readonly sample: SensorSample;

  constructor(
    readonly name: string,
    size: number | undefined,
    private readonly slot: InputSlotReader,
  ) {
    this.size = size;
    this.buffer = new Float32Array(slot.capacity);
    this.sample = { values: this.buffer.subarray(0, size ?? 0), seq: -1, arrivalUs: 0 };
  }

  takeLatest(): SensorSample | null {
    const length = this.slot.read(this.buffer, this.stamps);
    if (length < 0) return null;
    // A new view only when the length changes (a variable-size input); the usual case reuses it.
    if (this.sample.values.length !== length) this.sample.values = this.buffer.subarray(0, length);
    this.sample.seq = this.stamps[0]!;
    this.sample.arrivalUs = this.stamps[1]!;
    return this.sample;
  }

  isLive(): boolean {
    return this.slot.isLive();
  }
}

/**
 * An external environment's output inside the tick thread: the command travels to the real sink on
 * the main thread in the tick record (TickPublisher), so writing here keeps nothing.
 */
class RecordedSink implements MotorSink {
  constructor(readonly name: string) {}
  write(): void {}
}

/**
 * Writes each tick into the record ring. The loop's measurements arrive through the LoopTelemetry
 * subclass below, the rest through the observer call at the end of the tick.
 */
class TickPublisher implements TickObserver {
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
  private ticksSeen = 0;
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
    if (++this.ticksSeen % ALLOC_WINDOW_TICKS === 0) {
      // Measured once the compiler has settled: before, its feedback and code land on this heap.
      if (this.ticksSeen <= ALLOC_WARMUP_TICKS) this.allocation.start(this.ticksSeen);
      else this.allocation.sample(this.ticksSeen);
    }
    if (Atomics.load(this.control, C_STOP) !== 0) loop.stop();
    if (Atomics.load(this.control, C_SUMMARY_WANTED) !== 0) {
      Atomics.store(this.control, C_SUMMARY_WANTED, 0);
      this.post({ kind: 'summary', summary: this.env?.summary?.() ?? {} });
    }
  }

  /** The in-thread arena's pose after this tick's physics step (dashboard, recording, Foxglove). */
  private writeWorld(at: number): void {
    const env = this.env as unknown as { state(): import('../../env/arena/world.js').ArenaState };
    const s = env.state();
    const fields = [
      s.timeS,
      s.steps,
      s.robot.x,
      s.robot.y,
      s.robot.headingRad,
      s.robot.vMps,
      s.robot.omegaRadPerS,
      s.target.x,
      s.target.y,
      s.inContact ? 1 : 0,
      s.collisions,
      s.targetsReached,
      s.distanceM,
    ];
    const r = this.records;
    for (let f = 0; f < W_FIELDS.length; f++) r[at + f] = fields[f]!;
    const rays = Math.min(this.shape.worldRays, s.rangesM.length);
    for (let k = 0; k < rays; k++) r[at + W_FIELDS.length + k] = s.rangesM[k]!;
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
class PublishingTelemetry extends LoopTelemetry {
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

/**
 * The tick thread serves no sockets or timers, so it sleeps blocking: one Atomics.wait nap up to
 * the last microseconds before the deadline (no timer, no event-loop turn per nap and so no garbage
 * from them), then the short spin. The one event-loop turn per sleep stays (the engine's promises).
 */
const TICK_THREAD_SLEEP: SleepOptions = {
  ...DEFAULT_SLEEP,
  timerThresholdUs: Number.POSITIVE_INFINITY,
  napMaxUs: Number.POSITIVE_INFINITY,
};

/**
 * A full collection before the first tick: what set-up left (the engine's tables, parsed settings,
 * compiled code's garbage) is promoted or freed now, so the few scavenges during the run copy
 * almost nothing and stay short.
 */
function collectGarbageNow(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (() => void) | undefined;
  gc?.();
}

function threadId(): number {
  try {
    // "PID/task/TID": the kernel's id of this very thread, which chrt and taskset accept.
    const link = readlinkSync('/proc/thread-self');
    const tid = Number(link.slice(link.lastIndexOf('/') + 1));
    return Number.isInteger(tid) && tid > 0 ? tid : -1;
  } catch {
    return -1;
  }
}

function pow2AtLeast(value: number): number {
  let n = 1;
  while (n < value) n *= 2;
  return n;
}

async function main(setup: TickThreadSetup): Promise<void> {
  const port = parentPort!;
  const post = (message: ToMain) => port.postMessage(message);
  const control = new Int32Array(setup.control);
  Atomics.store(control, C_TID, threadId());
  // Runs asked for (like TickLoop, the thread runs the loop again on each request) until disposed.
  const runRequests: number[] = [];
  let disposing = false;
  let wake: () => void = () => {};
  port.on('message', (message: ToTick) => {
    if (message.kind === 'run') runRequests.push(message.maxTicks);
    else if (message.kind === 'dispose') {
      disposing = true;
      Atomics.store(control, C_STOP, 1);
    }
    wake();
  });
  const nextRun = async (): Promise<number | null> => {
    while (runRequests.length === 0 && !disposing) {
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
    return disposing ? null : runRequests.shift()!;
  };
  let engine: Engine | null = null;
  let env: Environment | null = null;
  try {
    // Every clock read of the tick (and of an in-thread environment's sensors) without garbage.
    const clock = (await allocationFreeClock()) ?? monotonicUs;
    const network = deriveNetwork(
      modelParams(setup.engine.model, setup.engine.n, {
        ...setup.engine.modelOverrides,
        seed: setup.engine.seed,
      }),
    );
    engine = await createEngine(setup.engine.backend, {
      networks: [network],
      threads: setup.engine.threads,
      connectivity: setup.engine.connectivity,
      // A FIFO tick thread must not spin waiting for a normal-priority worker (engine.ts waitMode).
      waitMode: setup.engine.realtime ? 'block' : 'spin',
    });
    const { layout } = engine;
    let inputSlots: SharedArrayBuffer[] = [];
    if (setup.env.kind === 'in-thread') {
      env = await createEnvironment(setup.env.name, {
        layout,
        tickMs: setup.tickMs,
        seed: setup.env.seed,
        clockUs: clock,
        settings: setup.env.settings,
        token: setup.env.token,
        latePolicy: setup.latePolicy,
      });
    } else {
      const { codecs } = setup.env;
      const built = buildMapping(codecs.mapping, { clusters: layout.clusters, tickMs: setup.tickMs });
      const encoders: Encoder[] = [...built.encoders];
      if (codecs.stimulusInput !== undefined) {
        const { StimulusEncoder } = await import('../../io/ros2/channels.js');
        encoders.push(new StimulusEncoder());
      }
      inputSlots = setup.env.sources.map((source) =>
        newInputSlot(source.size ?? (source.name === codecs.stimulusInput ? layout.populationCount : 4096)),
      );
      const sources = setup.env.sources.map(
        (source, i) => new SharedSource(source.name, source.size, new InputSlotReader(inputSlots[i]!)),
      );
      env = {
        name: setup.env.name,
        sources,
        sinks: setup.env.sinks.map((name) => new RecordedSink(name)),
        encoders,
        decoders: built.decoders,
        close: async () => {},
      };
    }
    const arena = env.name === 'arena' && typeof (env as { state?: unknown }).state === 'function';
    const arenaEnv = env as unknown as {
      state(): { rangesM: number[] };
      scene(): unknown;
      mapping?: unknown;
    };
    const shape: TickThreadShape = {
      inputs: env.sources.map((source, i) => ({
        name: source.name,
        capacity:
          setup.env.kind === 'external'
            ? new InputSlotReader(inputSlots[i]!).capacity
            : (source.size ?? layout.populationCount),
      })),
      outputs: env.decoders.map((decoder) => ({
        name: decoder.output,
        capacity: decoder.size ?? Math.max(64, layout.populationCount),
      })),
      populations: layout.populationCount,
      worldRays: arena ? arenaEnv.state().rangesM.length : -1,
      recordCapacity: pow2AtLeast(setup.recordCapacity ?? DEFAULT_RECORD_CAPACITY),
      spikeCapacity: pow2AtLeast(setup.spikeCapacity ?? DEFAULT_SPIKE_CAPACITY),
    };
    const records = new SharedArrayBuffer(new RecordLayout(shape).size * shape.recordCapacity * 8);
    const spikes = new SharedArrayBuffer(shape.spikeCapacity * 8);
    const publisher = new TickPublisher({ control: setup.control, records, spikes }, shape, post);
    const telemetry = new PublishingTelemetry(
      setup.tickMs * 1000,
      env.sources.map((source) => source.name),
      publisher,
    );
    const loop = new TickLoop({
      engine,
      env,
      tickMs: setup.tickMs,
      dtMs: network.params.dtMs,
      latePolicy: setup.latePolicy,
      safety: setup.safety ?? env.safety,
      telemetry,
      clock,
      sleep: preciseSleeper(clock, TICK_THREAD_SLEEP),
      // With the CPU engine (runSync), ticks run without promises: blocking sleep, sync step.
      sleepSync: blockingSleeper(clock),
      warn: (message) => post({ kind: 'warn', message }),
    });
    publisher.loop = loop;
    publisher.env = env;
    loop.addObserver(publisher);
    for (let k = 0; k < setup.engine.warmupTicks; k++) await engine.run(loop.substeps);
    post({
      kind: 'ready',
      buffers: { control: setup.control, inputs: inputSlots, records, spikes },
      shape,
      engine: { backend: engine.backend, adapter: engine.adapter, layout, substeps: loop.substeps },
      env: {
        name: env.name,
        sources: env.sources.map((source) => ({ name: source.name, size: source.size })),
        sinks: env.sinks.map((sink) => sink.name),
        mapping: arena ? (arenaEnv.mapping ?? null) : null,
        scene: arena ? arenaEnv.scene() : null,
        world: arena ? arenaEnv.state() : null,
        summary: env.summary?.() ?? null,
      },
    });
    for (let maxTicks = await nextRun(); maxTicks !== null; maxTicks = await nextRun()) {
      collectGarbageNow();
      Atomics.store(control, C_STATE, STATE_RUNNING);
      // Garbage collections of this thread's heap while the loop runs: the tick allocates (almost)
      // nothing, so there should be none or very few (docs/tick.md); the summary reports them.
      const gc: GcStats = { minor: 0, major: 0, maxPauseMs: 0, totalPauseMs: 0 };
      const gcObserver = new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) {
          const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0;
          if (kind === perfConstants.NODE_PERFORMANCE_GC_MINOR) gc.minor++;
          else gc.major++;
          gc.maxPauseMs = Math.max(gc.maxPauseMs, entry.duration);
          gc.totalPauseMs += entry.duration;
        }
      });
      gcObserver.observe({ entryTypes: ['gc'] });
      publisher.startRun();
      if (Atomics.load(control, C_STOP) === 0) {
        await loop.run(maxTicks === -1 ? Number.POSITIVE_INFINITY : maxTicks);
      }
      // Entries are delivered asynchronously: one turn of the event loop before counting.
      await new Promise<void>((resolve) => setImmediate(resolve));
      gcObserver.disconnect();
      publisher.publishTail();
      post({
        kind: 'done',
        summary: env.summary?.() ?? null,
        stepCount: engine.stepCount,
        gc,
        allocation: publisher.allocation.result(),
      });
      Atomics.store(control, C_STATE, STATE_DONE);
      Atomics.notify(control, C_RECORDS_WRITTEN);
    }
  } catch (error) {
    post({ kind: 'error', message: error instanceof Error ? error.message : String(error) });
    Atomics.store(control, C_STATE, STATE_FAILED);
    Atomics.notify(control, C_RECORDS_WRITTEN);
  }
  // Torn down when the main thread says so, after it has halted the robot and written the report.
  while ((await nextRun()) !== null) {}
  await env?.close().catch(() => {});
  await engine?.dispose().catch(() => {});
  post({ kind: 'disposed' });
  port.close();
}

void main(workerData as TickThreadSetup);
