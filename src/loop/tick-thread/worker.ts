/**
 * The tick thread (docs/tick.md, "The tick thread"): a worker_thread that creates the engine (and
 * an in-process environment, or the codecs of an external one) and runs the one TickLoop. It talks
 * to the main thread through the shared memory of shared.ts, once per tick and without messages;
 * messages carry only set-up, warnings, the environment's summary on request and the end.
 */
import { writeFileSync } from 'node:fs';
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import { buildMapping } from '../../codec/mapping.js';
import type { Encoder } from '../../codec/types.js';
import { createEngine } from '../../engine/create.js';
import type { Engine } from '../../engine/engine.js';
import { linuxThreadId } from '../../engine/thread-id.js';
import { createEnvironment } from '../../env/registry.js';
import { deriveNetwork } from '../../model/network.js';
import { modelParams } from '../../model/params.js';
import type { Environment, MotorSink, SensorSample, SensorSource } from '../ports.js';
import { blockingSleeper, DEFAULT_SLEEP, monotonicUs, preciseSleeper, type SleepOptions } from '../sleep.js';
import { TickLoop } from '../tick-loop.js';
import { allocationFreeClock } from '../wasi-clock.js';
import { PublishingTelemetry, TickPublisher } from './publisher.js';
import {
  C_RECORDS_WRITTEN,
  C_STATE,
  C_STOP,
  C_TID,
  DEFAULT_RECORD_CAPACITY,
  DEFAULT_SPIKE_CAPACITY,
  InputSlotReader,
  newInputSlot,
  RecordLayout,
  STATE_DONE,
  STATE_FAILED,
  STATE_RUNNING,
  type TickThreadShape,
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
    this.sample = { values: this.buffer.subarray(0, size ?? 0), seq: -1, arrivalUs: Number.NaN };
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
 * The asynchronous sleeper, for an engine without runSync (WebGPU): the tick thread serves no
 * sockets or timers, so it naps blocking up to the last microseconds before the deadline (no
 * timer, no event-loop turn per nap), then the short spin; the one event-loop turn per sleep stays
 * (the engine's promises). With the CPU engine the blocking sleeper below is used instead.
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

/**
 * The kernel lets a SCHED_OTHER thread's timed sleeps end up to its timer slack late (50 µs by
 * default) to batch wake-ups; the tick's nap then ends after the 80 µs spin margin has begun to run
 * out. A thread may set its own slack through /proc/TID/timerslack_ns (PR_SET_TIMERSLACK is not
 * reachable from Node). Measured on the 2-core VM at normal priority: wake-up lateness p50 48–63 µs
 * with the default slack, 0–10 µs with 1 ns. FIFO threads have no slack; this changes nothing there.
 */
function dropTimerSlack(tid: number): void {
  try {
    if (tid > 0) writeFileSync(`/proc/${tid}/timerslack_ns`, '1');
  } catch {
    // Not Linux ≥ 4.6, or /proc is not mounted: the default slack stays, the loop runs the same.
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
  const tid = linuxThreadId();
  Atomics.store(control, C_TID, tid);
  dropTimerSlack(tid);
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
      // Block at any priority: a FIFO tick thread must not spin waiting for a normal-priority
      // worker (engine.ts waitMode), and at normal priority a worker that polls for 3 ms after each
      // run polls all the time at 1 ms ticks, a core taken from the main thread and the load. On
      // the 2-core VM at normal priority, N = 5000 (default threads: 2 with 'spin', 1 with
      // 'block'), missed 15.6 % / 54 % → 2.0 % / 21 % quiet and 25 % / 66 % → 7.7 % / 28 % under
      // load (two rounds, load average 5–7 from other work). setup.engine.realtime stays informative.
      waitMode: 'block',
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
      sleep: preciseSleeper(clock, { ...TICK_THREAD_SLEEP, spinUs: setup.spinUs ?? DEFAULT_SLEEP.spinUs }),
      // With the CPU engine (runSync), ticks run without promises: blocking sleep, sync step.
      sleepSync: blockingSleeper(clock, setup.spinUs ?? DEFAULT_SLEEP.spinUs),
      warn: (message) => post({ kind: 'warn', message }),
      warnAtOnce: true,
    });
    publisher.loop = loop;
    publisher.env = env;
    loop.addObserver(publisher);
    for (let k = 0; k < setup.engine.warmupTicks; k++) await engine.run(loop.substeps);
    post({
      kind: 'ready',
      buffers: { control: setup.control, inputs: inputSlots, records, spikes },
      shape,
      engine: {
        backend: engine.backend,
        adapter: engine.adapter,
        layout,
        substeps: loop.substeps,
        threadIds: [...(engine.threadIds?.() ?? [])],
      },
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
