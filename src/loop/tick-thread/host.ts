/**
 * The main thread's side of the tick thread (docs/tick.md, "The tick thread"). It starts the worker
 * (which creates the engine and runs the one TickLoop), then, while the loop runs, waits on the
 * tick-record ring with Atomics.waitAsync and for every record, in this order: hands the motor
 * commands to the real sinks (ws, ROS 2), feeds LoopTelemetry and the TelemetryFeed exactly as the
 * in-process loop would (reports, budgets, dashboard, ROS 2 diagnostics), streams spikes, tells the
 * observers (MCAP recorder, Foxglove), then moves the sensors' newest samples into the input slots.
 *
 * A tick thread that stops publishing records while it should run (no record for `stallMs`) makes
 * `run` reject; so does an error in the tick thread or its exit: the caller halts the robot.
 */
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { arenaView } from '../../env/arena/view.js';
import type { ArenaScene, ArenaState } from '../../env/arena/world.js';
import { populationSizes } from '../../model/network.js';
import { TelemetryFeed } from '../../telemetry/live.js';
import { LoopTelemetry } from '../../telemetry/loop-telemetry.js';
import type { EngineInfo, LoopHandle } from '../handle.js';
import type { TickEvent, TickObserver } from '../observer.js';
import type { Environment, MotorCommand, MotorSink, SensorSample, SensorSource } from '../ports.js';
import type { SafetyAction, SafetyState } from '../safety.js';
import { type ClockUs, monotonicUs } from '../sleep.js';
import {
  C_RECORDS_DROPPED,
  C_RECORDS_READ,
  C_RECORDS_WRITTEN,
  C_SPIKES_DROPPED,
  C_SPIKES_READ,
  C_SPIKES_WANTED,
  C_STATE,
  C_STOP,
  C_SUMMARY_WANTED,
  C_TID,
  CONTROL_WORDS,
  I_ARRIVAL_US,
  I_E2E_US,
  I_LENGTH,
  I_SEQ,
  I_STALE,
  I_TAKEN,
  I_USED_SEQ,
  InputSlotWriter,
  KIND_DROPPED,
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
  SAFETY_STOP,
  STATE_DONE,
  STATE_FAILED,
  STATE_RUNNING,
  STATE_STARTING,
  type TickThreadShape,
  W_FIELDS,
} from './shared.js';
import type {
  AllocationMeasure,
  CodecSpec,
  EnvSummary,
  GcStats,
  TickThreadSetup,
  ToMain,
  ToTick,
} from './types.js';

/** How long the tick thread may publish nothing while it should run before the robot is halted. */
export const DEFAULT_STALL_MS = 500;

/** From the run request to the loop's start (a full collection first): generous, the machine may be loaded. */
const START_TIMEOUT_US = 30e6;

export class TickThreadError extends Error {
  override name = 'TickThreadError';
}

export interface TickThreadOptions {
  setup: Omit<TickThreadSetup, 'control' | 'env'>;
  env:
    | {
        kind: 'in-thread';
        name: string;
        settings: Record<string, string | number | boolean>;
        seed: number;
        token?: string;
      }
    | { kind: 'external'; env: Environment; codecs: CodecSpec };
  /** Warnings of the tick thread (missed ticks, bad values, safety); default stderr. */
  warn?: (message: string) => void;
  clock?: ClockUs;
  stallMs?: number;
}

/**
 * A young generation large enough that what little the tick allocates (decoder outputs, command
 * objects, promises: about 2 KB per tick) fills it rarely. V8 starts a new heap with 1 MB
 * semi-spaces, a scavenge every few hundred ticks; with 16 MB from the start, one every several
 * seconds. Worker options set only the maximum, so the minimum is V8's flag, set while the tick
 * thread's heap is created (and the engine's helpers' heaps, created during its set-up).
 */
const TICK_SEMI_SPACE_MB = 16;

function spawnTickWorker(setup: TickThreadSetup): Worker {
  const here = import.meta.url;
  const resourceLimits = { maxYoungGenerationSizeMb: 4 * TICK_SEMI_SPACE_MB };
  setFlagsFromString(`--min-semi-space-size=${TICK_SEMI_SPACE_MB}`);
  // V8's memory reducer runs up to three full collections after one, when the heap looks idle
  // (little allocation): after the collection before the first tick, that is exactly the tick
  // thread. Made without it, the thread's heap is collected only when it fills.
  setFlagsFromString('--no-memory-reducer');
  if (!here.endsWith('.ts')) {
    return new Worker(new URL('./worker.js', here), { workerData: setup, resourceLimits });
  }
  const entry = JSON.stringify(new URL('./worker.ts', here).href);
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${entry}); });`;
  return new Worker(bootstrap, { eval: true, workerData: setup, resourceLimits });
}

type Ready = Extract<ToMain, { kind: 'ready' }>;

/** A reusable observer event; observers copy what they keep (observer.ts). */
type MutableEvent = { -readonly [K in keyof TickEvent]: TickEvent[K] };

export class TickThread implements LoopHandle {
  readonly telemetry: LoopTelemetry;
  readonly feed: TelemetryFeed;
  readonly substeps: number;
  readonly engine: EngineInfo & { readonly stepCount: number };
  /** The environment as the main thread sees it: the external one itself, or a view of the in-thread one. */
  readonly env: Environment;
  readonly safety: { state(): SafetyState };
  private readonly control: Int32Array;
  private readonly records: Float64Array;
  private readonly spikes: Uint32Array;
  private readonly layout: RecordLayout;
  private readonly shape: TickThreadShape;
  private readonly recordMask: number;
  private readonly spikeMask: number;
  private readonly slots: InputSlotWriter[];
  private readonly engineTids: readonly number[];
  /** The real sensor sources whose samples go into the slots (external environments). */
  private readonly sources: readonly SensorSource[];
  private readonly sinks: (MotorSink | null)[];
  private readonly countsBuffer: Uint32Array;
  private readonly observers: TickObserver[] = [];
  private spikeConsumers = 0;
  private readPosition = 0;
  private stepCount = 0;
  private running = false;
  private finished: Promise<void>;
  private finish: () => void = () => {};
  private failure: string | null = null;
  private exited = false;
  private summary: EnvSummary | null;
  private world: ArenaState | null = null;
  private readonly safetyOutputs: Record<string, SafetyAction>;
  private safetyStale: string[] = [];
  private incidents = 0;
  private readonly clock: ClockUs;
  private readonly stallUs: number;
  /**
   * How long the main thread waits for a record before it moves the external sources' newest
   * samples into the slots anyway: half a tick, so a sample that arrives while the tick thread
   * sleeps is read by the next tick, not the one after (at most half a tick later than in-process).
   * Without external sources, only the stall check needs waking.
   */
  private readonly pollIntervalMs: number;
  /** Garbage collections in the tick thread during the run (known once it has ended). */
  gc: GcStats | null = null;
  /** Bytes the tick thread allocated per tick during the run (known once it has ended). */
  allocation: AllocationMeasure | null = null;

  private constructor(
    private readonly worker: Worker,
    ready: Ready,
    options: TickThreadOptions,
  ) {
    this.clock = options.clock ?? monotonicUs;
    this.stallUs = Math.max(options.stallMs ?? DEFAULT_STALL_MS, 10 * options.setup.tickMs) * 1000;
    this.shape = ready.shape;
    this.layout = new RecordLayout(ready.shape);
    this.control = new Int32Array(ready.buffers.control);
    this.records = new Float64Array(ready.buffers.records);
    this.spikes = new Uint32Array(ready.buffers.spikes);
    this.recordMask = ready.shape.recordCapacity - 1;
    this.spikeMask = ready.shape.spikeCapacity - 1;
    this.slots = ready.buffers.inputs.map((buffer) => new InputSlotWriter(buffer));
    this.substeps = ready.engine.substeps;
    this.engineTids = ready.engine.threadIds;
    const { layout } = ready.engine;
    const self = this;
    this.engine = {
      backend: ready.engine.backend,
      adapter: ready.engine.adapter,
      layout,
      get stepCount() {
        return self.stepCount;
      },
    };
    const tickMs = options.setup.tickMs;
    this.telemetry = new LoopTelemetry(
      tickMs * 1000,
      ready.env.sources.map((source) => source.name),
    );
    const sizes = populationSizes(layout);
    this.telemetry.setPopulations(sizes, layout.clusters);
    this.feed = new TelemetryFeed(this.telemetry, sizes, layout.clusters, tickMs, this.clock);
    this.countsBuffer = new Uint32Array(layout.populationCount);
    this.summary = ready.env.summary;
    this.safetyOutputs = Object.fromEntries(ready.env.sinks.map((name) => [name, 'command' as SafetyAction]));
    this.safety = {
      state: () => ({
        staleInputs: [...this.safetyStale],
        outputs: { ...this.safetyOutputs },
        incidents: this.incidents,
      }),
    };
    this.feed.safetyState = () => this.safety.state();
    if (options.env.kind === 'external') {
      const external = options.env.env;
      this.env = external;
      this.sources = ready.env.sources.map((source) => external.sources.find((s) => s.name === source.name)!);
      this.sinks = ready.shape.outputs.map(
        (output) => external.sinks.find((s) => s.name === output.name) ?? null,
      );
    } else {
      this.sources = [];
      this.sinks = [];
      this.env = this.inThreadView(ready);
    }
    // Samples cross as they arrive; the half-tick poll remains for sources without the hook
    // and for the live flags.
    this.sources.forEach((source, index) => {
      source.onSample = () => this.publishSource(index);
    });
    this.pollIntervalMs = this.sources.length > 0 ? options.setup.tickMs / 2 : 50;
    this.finished = new Promise<void>((resolve) => {
      this.finish = resolve;
    });
    const warn = options.warn ?? ((message: string) => console.error(`spikeloop: ${message}`));
    worker.on('message', (message: ToMain) => {
      if (message.kind === 'warn') warn(message.message);
      else if (message.kind === 'summary') this.summary = message.summary;
      else if (message.kind === 'done') {
        if (message.summary) this.summary = message.summary;
        this.gc = message.gc;
        this.allocation = message.allocation;
        this.finish();
      } else if (message.kind === 'error') {
        this.failure ??= message.message;
        this.finish();
      }
    });
    worker.on('error', (error) => {
      this.failure ??= `the tick thread crashed: ${error.message}`;
      this.finish();
    });
    worker.on('exit', (code) => {
      this.exited = true;
      this.failure ??= `the tick thread exited (code ${code})`;
      this.finish();
    });
  }

  /**
   * Starts the tick thread: it creates the engine (and an in-thread environment, or the codecs of
   * an external one) and warms up; resolves when it is ready to run.
   */
  static async start(options: TickThreadOptions): Promise<TickThread> {
    const control = new SharedArrayBuffer(CONTROL_WORDS * 4);
    const envPlan: TickThreadSetup['env'] =
      options.env.kind === 'in-thread'
        ? { ...options.env }
        : {
            kind: 'external',
            name: options.env.env.name,
            codecs: options.env.codecs,
            sources: options.env.env.sources.map((source) => ({ name: source.name, size: source.size })),
            sinks: options.env.env.sinks.map((sink) => sink.name),
          };
    const worker = spawnTickWorker({ ...options.setup, control, env: envPlan });
    const warn = options.warn ?? ((message: string) => console.error(`spikeloop: ${message}`));
    const ready = await new Promise<Ready>((resolve, reject) => {
      const onMessage = (message: ToMain) => {
        if (message.kind === 'warn') warn(message.message);
        else if (message.kind === 'ready') done(() => resolve(message));
        else if (message.kind === 'error') done(() => reject(new Error(message.message)));
      };
      const onError = (error: Error) => done(() => reject(error));
      const onExit = (code: number) =>
        done(() => reject(new TickThreadError(`the tick thread exited during set-up (code ${code})`)));
      const done = (settle: () => void) => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        settle();
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
    })
      .catch(async (error: unknown) => {
        await worker.terminate();
        throw error;
      })
      .finally(() => {
        setFlagsFromString('--min-semi-space-size=0');
        setFlagsFromString('--memory-reducer');
      });
    return new TickThread(worker, ready, options);
  }

  /**
   * Linux thread ids of the engine's own threads in the tick thread (the CPU backend's workers),
   * which --realtime gives the tick thread's priority: the tick waits for them at every step.
   */
  get engineThreadIds(): readonly number[] {
    return this.engineTids;
  }

  /** The Linux thread id of the tick thread (for --realtime), or null where it is not known. */
  get threadId(): number | null {
    const tid = Atomics.load(this.control, C_TID);
    return tid > 0 ? tid : null;
  }

  /** Records the main thread could not take in time (the ring was full); their ticks are not in the report. */
  get droppedRecords(): number {
    return Atomics.load(this.control, C_RECORDS_DROPPED);
  }

  get droppedSpikes(): number {
    return Atomics.load(this.control, C_SPIKES_DROPPED);
  }

  streamSpikes(enabled: boolean): void {
    this.spikeConsumers = Math.max(0, this.spikeConsumers + (enabled ? 1 : -1));
    this.updateSpikeRequest();
  }

  addObserver(observer: TickObserver): void {
    this.observers.push(observer);
    this.updateSpikeRequest();
  }

  removeObserver(observer: TickObserver): void {
    const index = this.observers.indexOf(observer);
    if (index >= 0) this.observers.splice(index, 1);
    this.updateSpikeRequest();
  }

  private updateSpikeRequest(): void {
    const wanted = this.spikeConsumers + this.observers.filter((observer) => observer.onSpikes).length;
    Atomics.store(this.control, C_SPIKES_WANTED, wanted);
  }

  stop(): void {
    Atomics.store(this.control, C_STOP, 1);
  }

  /** Runs the loop in the tick thread until `stop()`, `maxTicks`, an error or a stall. */
  async run(maxTicks = Number.POSITIVE_INFINITY): Promise<void> {
    if (this.running) throw new TickThreadError('the tick loop is already running');
    if (this.exited || this.failure !== null) {
      throw new TickThreadError(this.failure ?? 'the tick thread has ended');
    }
    this.running = true;
    try {
      await this.runOnce(maxTicks);
    } finally {
      this.running = false;
    }
  }

  private async runOnce(maxTicks: number): Promise<void> {
    const request: ToTick = { kind: 'run', maxTicks: Number.isFinite(maxTicks) ? maxTicks : -1 };
    // As TickLoop.run: a new run forgets an earlier stop().
    Atomics.store(this.control, C_STOP, 0);
    Atomics.store(this.control, C_STATE, STATE_STARTING);
    this.finished = new Promise<void>((resolve) => {
      this.finish = resolve;
    });
    this.pollSources();
    this.worker.postMessage(request);
    let lastRecordUs = this.clock();
    let ended = false;
    void this.finished.then(() => {
      ended = true;
    });
    let started = false;
    let lastWakeUs = this.clock();
    for (;;) {
      const taken = this.takeRecords();
      const now = this.clock();
      if (taken > 0) lastRecordUs = now;
      // The main thread itself did not run for a while (the whole process stopped: SIGSTOP, a
      // suspended machine): the tick thread's silence over that time says nothing, start again.
      if (now - lastWakeUs > this.stallUs / 2) lastRecordUs = now;
      lastWakeUs = now;
      const state = Atomics.load(this.control, C_STATE);
      if (!started && state === STATE_RUNNING) {
        // The stall clock starts with the loop, not with the collection before it.
        started = true;
        lastRecordUs = now;
      }
      if (ended || state === STATE_DONE || state === STATE_FAILED) {
        // The end message follows the state change; wait for it briefly, then take what is left.
        await Promise.race([this.finished, delay(2000)]);
        this.takeRecords();
        break;
      }
      if (now - lastRecordUs > (started ? this.stallUs : START_TIMEOUT_US)) {
        Atomics.store(this.control, C_STOP, 1);
        throw new TickThreadError(
          `the tick thread stopped answering: no tick for ${Math.round((now - lastRecordUs) / 1000)} ms`,
        );
      }
      const written = Atomics.load(this.control, C_RECORDS_WRITTEN);
      if (written !== this.readPosition) continue;
      const wait = waitAsync(this.control, C_RECORDS_WRITTEN, written, this.pollIntervalMs);
      if (!wait.async) await new Promise<void>((resolve) => setImmediate(resolve));
      else if ((await wait.value) === 'timed-out') this.pollSources();
    }
    if (this.failure !== null) throw new TickThreadError(this.failure);
    const dropped = this.droppedRecords;
    if (dropped > 0) {
      console.error(
        `spikeloop: the main thread fell behind the tick thread: ${dropped} tick record(s) lost (their commands and measurements)`,
      );
    }
  }

  /** Stops the tick thread and frees the engine; terminates it if it does not answer within 2 s. */
  async dispose(): Promise<void> {
    Atomics.store(this.control, C_STOP, 1);
    for (const source of this.sources) source.onSample = undefined;
    if (this.exited) return;
    const disposed = new Promise<void>((resolve) => {
      this.worker.on('message', (message: ToMain) => {
        if (message.kind === 'disposed') resolve();
      });
      this.worker.once('exit', () => resolve());
    });
    this.worker.postMessage({ kind: 'dispose' } satisfies ToTick);
    await Promise.race([disposed, delay(2000)]);
    await this.worker.terminate();
  }

  /** Newest samples of the external sources into their slots; live flags for the safety policy. */
  private pollSources(): void {
    for (let i = 0; i < this.sources.length; i++) this.publishSource(i);
  }

  /** Moves a source's newest sample into its slot; true when that replaced one the tick never read. */
  private publishSource(index: number): boolean {
    const source = this.sources[index]!;
    const slot = this.slots[index]!;
    const sample = source.takeLatest();
    const superseded = sample !== null && slot.publish(sample.values, sample.seq, sample.arrivalUs);
    if (source.isLive) slot.setLive(source.isLive());
    return superseded;
  }

  /** Every record published since the last call, in order; returns how many. */
  private takeRecords(): number {
    const written = Atomics.load(this.control, C_RECORDS_WRITTEN);
    let taken = 0;
    while (this.readPosition !== written) {
      this.handleRecord((this.readPosition & this.recordMask) * this.layout.size);
      this.readPosition = (this.readPosition + 1) | 0;
      Atomics.store(this.control, C_RECORDS_READ, this.readPosition);
      taken++;
    }
    // After the commands went out: what arrived meanwhile is what the next tick reads.
    if (taken > 0) this.pollSources();
    return taken;
  }

  private handleRecord(at: number): void {
    const r = this.records;
    const L = this.layout;
    const shape = this.shape;
    if (r[at + R_KIND] === KIND_DROPPED) {
      this.telemetry.recordDropped(r[at + R_DROPPED]!, r[at + R_FIRST_DROPPED_LATENESS_US]!);
      return;
    }
    // 1. The commands, to the real sinks at once (external environments).
    const commands: (MotorCommand | null)[] = [];
    for (let k = 0; k < shape.outputs.length; k++) {
      const base = at + L.outputBase[k]!;
      if (r[base + O_PRESENT] !== 1) {
        commands.push(null);
        continue;
      }
      const length = r[base + O_LENGTH]!;
      const valuesAt = at + L.outputValues[k]!;
      const seqsAt = at + L.outputSeqs[k]!;
      const sourceSeq: Record<string, number> = {};
      for (let i = 0; i < shape.inputs.length; i++) {
        const seq = r[seqsAt + i]!;
        if (seq >= 0) sourceSeq[shape.inputs[i]!.name] = seq;
      }
      const code = r[base + O_SAFETY];
      const safety = code === SAFETY_STOP ? 'stop' : code === SAFETY_HOLD ? 'hold' : undefined;
      const command: MotorCommand = {
        values: Float32Array.from(r.subarray(valuesAt, valuesAt + length)),
        sourceSeq,
        computedUs: r[base + O_COMPUTED_US]!,
        ...(safety ? { safety } : {}),
      };
      commands.push(command);
      this.safetyOutputs[shape.outputs[k]!.name] = safety ?? 'command';
      this.sinks[k]?.write(command);
    }
    // 2. The measurements, as the in-process loop records them.
    const lateness = r[at + R_LATENESS_US]!;
    this.telemetry.recordStart(
      lateness,
      r[at + R_DROPPED]!,
      r[at + R_FIRST_DROPPED_LATENESS_US]!,
      r[at + R_MISSED_SLOT] === 1,
    );
    const counts = this.countsBuffer;
    for (let p = 0; p < shape.populations; p++) counts[p] = r[at + L.counts + p]!;
    this.feed.addCounts(counts);
    this.telemetry.recordCounts(counts);
    const stale: string[] = [];
    for (let i = 0; i < shape.inputs.length; i++) {
      const base = at + L.inputBase[i]!;
      const e2e = r[base + I_E2E_US]!;
      if (!Number.isNaN(e2e)) this.telemetry.recordEndToEnd(shape.inputs[i]!.name, e2e);
      if (r[base + I_STALE] === 1) stale.push(shape.inputs[i]!.name);
    }
    this.telemetry.recordEnd(r[at + R_COMPUTE_US]!);
    this.safetyStale = stale;
    this.incidents = r[at + R_INCIDENTS]!;
    const firstStep = r[at + R_FIRST_STEP]!;
    this.stepCount = firstStep + this.substeps;
    if (L.world >= 0) this.world = this.readWorld(at + L.world);
    // 3. Spikes of instance 0, step by step.
    this.deliverSpikes(r[at + R_SPIKES_START]!, r[at + R_SPIKES_END]!);
    // 4. Observers (recorder, Foxglove).
    if (this.observers.length === 0) return;
    const event: MutableEvent = {
      index: r[at + R_INDEX]!,
      slot: r[at + R_SLOT]!,
      startUs: r[at + R_START_US]!,
      latenessUs: lateness,
      computeUs: r[at + R_COMPUTE_US]!,
      firstStep,
      substeps: this.substeps,
      inputs: shape.inputs.map((input, i) => {
        const base = at + L.inputBase[i]!;
        let taken: SensorSample | null = null;
        if (r[base + I_TAKEN] === 1) {
          const valuesAt = at + L.inputValues[i]!;
          taken = {
            values: Float32Array.from(r.subarray(valuesAt, valuesAt + r[base + I_LENGTH]!)),
            seq: r[base + I_SEQ]!,
            arrivalUs: r[base + I_ARRIVAL_US]!,
          };
        }
        return { name: input.name, taken, usedSeq: r[base + I_USED_SEQ]! };
      }),
      currentsPa: Float32Array.from(r.subarray(at + L.currents, at + L.currents + shape.populations)),
      counts,
      outputs: shape.outputs.map((output, k) => ({ name: output.name, command: commands[k] ?? null })),
    };
    for (const observer of this.observers) observer.onTick(event);
  }

  private deliverSpikes(start: number, end: number): void {
    if (start === end) return;
    const listeners = this.observers.filter((observer) => observer.onSpikes);
    const toFeed = this.spikeConsumers > 0;
    const s = this.spikes;
    let position = start;
    while (position !== end) {
      const step = s[(position & this.spikeMask) * 2]!;
      let stop = position;
      while (stop !== end && s[(stop & this.spikeMask) * 2] === step) stop = (stop + 1) | 0;
      const ids = new Uint32Array((stop - position) | 0);
      for (let k = 0; k < ids.length; k++) ids[k] = s[(((position + k) | 0) & this.spikeMask) * 2 + 1]!;
      if (toFeed) this.feed.addSpikes(step, ids);
      for (const listener of listeners) listener.onSpikes!(step, ids);
      position = stop;
    }
    Atomics.store(this.control, C_SPIKES_READ, end);
  }

  private readWorld(at: number): ArenaState {
    const r = this.records;
    const f = (name: (typeof W_FIELDS)[number]) => r[at + W_FIELDS.indexOf(name)]!;
    const rays = this.shape.worldRays;
    return {
      timeS: f('timeS'),
      steps: f('steps'),
      robot: {
        x: f('x'),
        y: f('y'),
        headingRad: f('headingRad'),
        vMps: f('vMps'),
        omegaRadPerS: f('omegaRadPerS'),
      },
      target: { x: f('targetX'), y: f('targetY') },
      rangesM: Array.from(r.subarray(at + W_FIELDS.length, at + W_FIELDS.length + rays)),
      inContact: f('inContact') === 1,
      collisions: f('collisions'),
      targetsReached: f('targetsReached'),
      distanceM: f('distanceM'),
    };
  }

  /**
   * The in-thread environment as the main thread sees it: names of its inputs and outputs, its
   * summary (refreshed on request), and for the arena its scene, mapping and the pose of the last tick.
   */
  private inThreadView(ready: Ready): Environment {
    const inThread = (what: string) => () => {
      throw new TickThreadError(`${ready.env.name}: ${what} runs in the tick thread`);
    };
    const common: Environment = {
      name: ready.env.name,
      sources: ready.env.sources.map((source) => ({
        name: source.name,
        size: source.size,
        takeLatest: inThread(`input "${source.name}"`),
      })),
      sinks: ready.env.sinks.map((name) => ({ name, write: inThread(`output "${name}"`) })),
      encoders: [],
      decoders: [],
      summary: () => {
        Atomics.store(this.control, C_SUMMARY_WANTED, 1);
        return this.summary ?? {};
      },
      close: async () => {},
    };
    if (ready.env.scene === null) return common;
    const scene = ready.env.scene as ArenaScene;
    const initial = ready.env.world as ArenaState;
    const state = () => this.world ?? initial;
    // What the in-process arena offers (env/arena/environment.ts): the dashboard draws `view`,
    // recordings read `state`, `scene` and `mapping`.
    return {
      ...common,
      view: { world: () => arenaView(scene, state()) },
      state,
      scene: () => scene,
      mapping: ready.env.mapping,
    } as Environment;
  }
}

/** Atomics.waitAsync (Node ≥ 16; ES2024's lib types, which this project does not target yet). */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(
      array: Int32Array,
      index: number,
      value: number,
      timeoutMs: number,
    ):
      | { async: true; value: Promise<'ok' | 'timed-out'> }
      | { async: false; value: 'not-equal' | 'timed-out' };
  }
).waitAsync;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
