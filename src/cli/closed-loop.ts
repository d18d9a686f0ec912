/**
 * One closed-loop run, assembled: network → engine, environment from the registry, the tick loop,
 * stop on duration or SIGINT/SIGTERM, then the report (written even when stopped by a signal, so
 * nothing measured is lost). Used by `spikeloop run` and `spikeloop bench loop`.
 */
import { getPriority, setPriority } from 'node:os';
import { createEngine } from '../engine/create.js';
import type { BackendChoice, ConnectivityMode, Engine } from '../engine/engine.js';
import { createEnvironment } from '../env/registry.js';
import type { EngineInfo, LoopHandle } from '../loop/handle.js';
import type { TickObserver } from '../loop/observer.js';
import type { Environment, LiveLoop } from '../loop/ports.js';
import { safetyFromSettings } from '../loop/safety.js';
import type { LatePolicy } from '../loop/schedule.js';
import { DEFAULT_SLEEP, monotonicUs, REALTIME_SPIN_US } from '../loop/sleep.js';
import { TickLoop } from '../loop/tick-loop.js';
import { TickThread } from '../loop/tick-thread/host.js';
import {
  applyRealtime,
  applyRealtimeToEngine,
  applyTickNice,
  checkRealtimeRequest,
  type RealtimeRequest,
  type ThreadSchedStats,
  threadSchedStats,
  timerSlackNs,
} from '../loop/tick-thread/realtime.js';
import { deriveNetwork } from '../model/network.js';
import { type ModelName, type ModelParams, modelParams } from '../model/params.js';
import type { FoxgloveLive, FoxgloveOptions } from '../record/foxglove.js';
import type { McapRecorder, RecordingResult } from '../record/recorder.js';
import type { Budget } from '../telemetry/budget.js';
import { buildReport, type LoadedReport, prepareReportDirectory, writeReport } from '../telemetry/report.js';
import { loopThreads } from './engine-threads.js';
import type { Row } from './output.js';
import { MAX_TICK_MS, MAX_WALL_S } from './parse.js';
import { onStopSignal } from './signals.js';

export interface ClosedLoopOptions {
  env: string;
  /** Model parameter overrides, e.g. from a calibrated params file (`--params`). */
  modelOverrides?: Partial<ModelParams>;
  envSettings?: Record<string, string | number | boolean>;
  /** Access token for environments that accept clients (the ws environment's simulators). */
  token?: string;
  /** Wall-clock seconds; undefined runs until SIGINT/SIGTERM. */
  durationS?: number;
  tickMs: number;
  n: number;
  model: ModelName;
  backend: BackendChoice;
  seed: number;
  latePolicy: LatePolicy;
  threads?: number;
  connectivity?: ConnectivityMode;
  /**
   * Scheduling priority (nice value, −20…19) for the loop's thread and the engine's workers, set
   * before they start; negative values need root or CAP_SYS_NICE (refused: a warning, and the run
   * goes on at the normal priority).
   */
  nice?: number;
  /** Engine steps run before the loop starts (JIT and caches warm, not measured). */
  warmupTicks?: number;
  reportDir?: string;
  /** Records the run into this MCAP file (src/record/), written off the tick by a worker thread. */
  record?: string;
  /** Serves the Foxglove WebSocket protocol with the recording's channels while the loop runs. */
  foxglove?: FoxgloveOptions;
  budgets?: readonly Budget[];
  /** Stop on SIGINT/SIGTERM (default true). */
  handleSignals?: boolean;
  /**
   * Run the tick (engine included) on a thread of its own (default true; docs/tick.md). False:
   * the old in-process mode, where the tick shares the main thread with every socket and timer.
   */
  tickThread?: boolean;
  /** FIFO priority (and a CPU) for the tick thread alone (`--realtime`, `--cpu`); needs the tick thread. */
  realtime?: RealtimeRequest;
  /** How long a silent tick thread may go without a tick before the robot is halted (default 500 ms). */
  stallMs?: number;
  /**
   * Called once the loop exists, before the first tick: live consumers (the dashboard) attach to
   * the same LiveLoop the environment's own consumers get in `attachTelemetry`. The returned
   * function runs at shutdown.
   */
  onStart?: (loop: LiveLoop, env: Environment) => Promise<(() => Promise<void>) | undefined>;
  /** Nice value for the tick thread and the engine's workers alone (`--tick-nice`); needs the tick thread. */
  tickNice?: number;
  /**
   * The tick thread's final busy wait before each deadline (µs, `--spin-us`); default
   * REALTIME_SPIN_US with `realtime`, DEFAULT_SLEEP.spinUs otherwise. Needs the tick thread.
   */
  spinUs?: number;
  /** Observers of every tick (bench loop's late-tick causes), added before the first tick. */
  observers?: readonly TickObserver[];
}

/** Pure in-process environments: created inside the tick thread (the arena steps in lockstep with the tick). */
const IN_THREAD_ENVIRONMENTS = new Set(['synthetic', 'arena']);

export interface ClosedLoopResult {
  /** The `--json` summary (field names: docs/architecture.md). */
  summary: Row;
  loaded: LoadedReport;
  /** Files written under reportDir. */
  files: string[];
  /** False when a budget was violated. */
  ok: boolean;
  /** Why the report could not be written (the summary is complete nonetheless). */
  reportError?: string;
  /** The recording, with --record. */
  recording?: RecordingResult;
}

const pick = (s: { p50: number; p99: number; p999: number; max: number }) => ({
  p50: s.p50,
  p99: s.p99,
  p999: s.p999,
  max: s.max,
});

const round3 = (value: number) => Math.round(value * 1000) / 1000;

type SchedDelta = {
  /** The tick thread's timer slack (it sets 1 ns itself; the kernel's default is 50 µs). */
  tickTimerSlackNs: number | null;
  tickRunDelayMs: number;
  tickPreemptions: number;
  /** Page faults of the tick thread that waited for a read during the run. */
  tickMajorFaults: number;
  engineRunDelayMs?: number;
  enginePreemptions?: number;
};

/** The tick thread's (first) and the engine workers' scheduling counters over the run, or null. */
function schedulingDelta(before: (ThreadSchedStats | null)[], tids: number[]): SchedDelta | null {
  const deltas = tids.map((tid, k) => {
    const start = before[k];
    const end = tid > 0 ? threadSchedStats(tid) : null;
    return start && end
      ? {
          runDelayNs: end.runDelayNs - start.runDelayNs,
          preemptions: end.preemptions - start.preemptions,
          majorFaults: end.majorFaults - start.majorFaults,
        }
      : null;
  });
  const tick = deltas[0];
  if (!tick) return null;
  const engine = deltas.slice(1).filter((delta) => delta !== null);
  return {
    tickTimerSlackNs: timerSlackNs(tids[0]!),
    tickRunDelayMs: round3(tick.runDelayNs / 1e6),
    tickPreemptions: tick.preemptions,
    tickMajorFaults: tick.majorFaults,
    ...(engine.length > 0
      ? {
          engineRunDelayMs: round3(engine.reduce((sum, d) => sum + d.runDelayNs, 0) / 1e6),
          enginePreemptions: engine.reduce((sum, d) => sum + d.preemptions, 0),
        }
      : {}),
  };
}

/** Sets this thread's nice value (threads started later inherit it); returns the value in effect. */
function applyNice(nice: number): number {
  if (!Number.isInteger(nice) || nice < -20 || nice > 19) {
    throw new Error(`--nice must be an integer from -20 to 19, got ${nice}`);
  }
  try {
    setPriority(nice);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    console.error(
      `spikeloop: could not set the loop's priority to nice ${nice} (${code}); running at nice ${getPriority()}. Raising it needs root or CAP_SYS_NICE.`,
    );
  }
  return getPriority();
}

export async function runClosedLoop(options: ClosedLoopOptions): Promise<ClosedLoopResult> {
  // Checked here as well as by the CLI's parsers: programmatic callers get the same messages.
  if (!(options.tickMs > 0 && options.tickMs <= MAX_TICK_MS)) {
    throw new Error(`--tick-ms must be > 0 and ≤ ${MAX_TICK_MS} ms, got ${options.tickMs}`);
  }
  if (options.durationS !== undefined && !(options.durationS > 0 && options.durationS <= MAX_WALL_S)) {
    throw new Error(
      `--duration must be > 0 and ≤ ${MAX_WALL_S} s (omit it to run until stopped), got ${options.durationS}`,
    );
  }
  const warmupTicks = options.warmupTicks ?? 0;
  if (!Number.isInteger(warmupTicks) || warmupTicks < 0) {
    throw new Error(`--warmup must be ≥ 0 s, got ${warmupTicks} ticks`);
  }
  // A report that cannot be written must be found now, not after a run of hours.
  if (options.reportDir) await prepareReportDirectory(options.reportDir);
  const nice = options.nice === undefined ? undefined : applyNice(options.nice);
  if (options.realtime) checkRealtimeRequest(options.realtime);
  const network = deriveNetwork(
    modelParams(options.model, options.n, { ...options.modelOverrides, seed: options.seed }),
  );
  const wantThread = options.tickThread !== false;
  if (
    options.tickNice !== undefined &&
    !(Number.isInteger(options.tickNice) && options.tickNice >= -20 && options.tickNice <= 19)
  ) {
    throw new Error(`--tick-nice must be an integer from -20 to 19, got ${options.tickNice}`);
  }
  if (options.tickNice !== undefined && !wantThread) {
    throw new Error('--tick-nice applies to the tick thread; it cannot be combined with --tick-thread off');
  }
  const spinUs = options.spinUs ?? (options.realtime ? REALTIME_SPIN_US : DEFAULT_SLEEP.spinUs);
  if (!(Number.isInteger(spinUs) && spinUs >= 0 && spinUs < options.tickMs * 1000)) {
    throw new Error(
      `--spin-us must be an integer from 0 to below the tick (${options.tickMs * 1000} µs), got ${options.spinUs}`,
    );
  }
  if (options.spinUs !== undefined && !wantThread) {
    throw new Error('--spin-us applies to the tick thread; it cannot be combined with --tick-thread off');
  }
  if (options.realtime && !wantThread) {
    throw new Error('--realtime applies to the tick thread; it cannot be combined with --tick-thread off');
  }
  // A spinning extra thread takes a core from the loop's I/O and load: see engine-threads.ts. The
  // tick thread's engine always blocks at its barriers (tick-thread/worker.ts), so it is priced so.
  const threads =
    options.threads ??
    loopThreads(network, {
      connectivity: options.connectivity,
      waitMode: wantThread ? 'block' : 'spin',
    });
  let engine: Engine | null = null;
  let thread: TickThread | null = null;
  let engineInfo: EngineInfo | null = null;
  let env: Environment | null = null;
  let cleanup: (() => Promise<void>) | undefined;
  let stopReason = 'duration';
  let loop: LoopHandle | null = null;
  let schedDelta: SchedDelta | null = null;
  let tickNice: number | null | undefined;
  let realtime:
    | { priority: number | null; cpu: number | null; engineThreads: number; engineThreadsFifo: number }
    | undefined;
  // Registered until the report is written; the process-wide owner (signals.ts) keeps a second
  // Ctrl-C from killing the process while the report and the summary are written.
  const releaseSignals =
    options.handleSignals !== false
      ? onStopSignal((signal) => {
          stopReason = signal;
          loop?.stop();
        })
      : () => {};
  let recorder: McapRecorder | null = null;
  let foxglove: FoxgloveLive | null = null;
  let recording: RecordingResult | undefined;
  let startedAt = new Date().toISOString();
  /** When the first tick was scheduled: wallS is the loop's own wall time, not set-up or warm-up. */
  let loopStartUs = Number.NaN;
  let failure: unknown = null;
  try {
    // The stale-input safety keys (staleAfterMs, onStale, …) are the loop's, the same for every
    // environment; the rest goes to the environment.
    const { consumed } = safetyFromSettings(options.envSettings);
    const envSettings = Object.fromEntries(
      Object.entries(options.envSettings ?? {}).filter(([key]) => !consumed.has(key)),
    );
    const inThread = wantThread && IN_THREAD_ENVIRONMENTS.has(options.env);
    if (!inThread) {
      env = await createEnvironment(options.env, {
        layout: network.layout,
        tickMs: options.tickMs,
        seed: options.seed,
        clockUs: monotonicUs,
        settings: envSettings,
        token: options.token,
        latePolicy: options.latePolicy,
      });
    }
    const codecSpec = env?.codecSpec;
    if (wantThread && !inThread && codecSpec === undefined) {
      console.error(
        `spikeloop: the ${options.env} environment does not describe its codecs for the tick thread; its tick runs on the main thread`,
      );
    }
    if (inThread || (wantThread && codecSpec !== undefined)) {
      thread = await TickThread.start({
        setup: {
          engine: {
            backend: options.backend,
            model: options.model,
            n: options.n,
            modelOverrides: options.modelOverrides,
            seed: options.seed,
            threads,
            connectivity: options.connectivity,
            warmupTicks,
            realtime: options.realtime !== undefined,
          },
          tickMs: options.tickMs,
          latePolicy: options.latePolicy,
          spinUs,
          safety: safetyFromSettings(options.envSettings, env?.safety).safety,
        },
        env:
          env !== null && codecSpec !== undefined
            ? { kind: 'external', env, codecs: codecSpec }
            : {
                kind: 'in-thread',
                name: options.env,
                settings: envSettings,
                seed: options.seed,
                token: options.token,
              },
        stallMs: options.stallMs,
      });
      env ??= thread.env;
      loop = thread;
      engineInfo = thread.engine;
      if (options.tickNice !== undefined) {
        const tids = [thread.threadId ?? -1, ...thread.engineThreadIds].filter((tid) => tid > 0);
        const niced = applyTickNice(tids, options.tickNice);
        for (const line of niced.warnings) console.error(`spikeloop: ${line}`);
        tickNice = niced.nice;
      }
      if (options.realtime) {
        const applied = applyRealtime(thread.threadId, options.realtime);
        // The engine's workers only where the tick thread got FIFO: refused once is refused.
        const helpers =
          applied.priority !== null
            ? applyRealtimeToEngine(thread.engineThreadIds, options.realtime, applied.cpu)
            : null;
        for (const line of [...applied.warnings, ...(helpers?.warnings ?? [])])
          console.error(`spikeloop: ${line}`);
        realtime = {
          priority: applied.priority,
          cpu: applied.cpu,
          engineThreads: thread.engineThreadIds.length,
          engineThreadsFifo: helpers?.threads ?? 0,
        };
      }
    } else {
      engine = await createEngine(options.backend, {
        networks: [network],
        threads,
        connectivity: options.connectivity,
      });
      engineInfo = engine;
      env ??= await createEnvironment(options.env, {
        layout: engine.layout,
        tickMs: options.tickMs,
        seed: options.seed,
        clockUs: monotonicUs,
        settings: envSettings,
        token: options.token,
        latePolicy: options.latePolicy,
      });
      const tickLoop = new TickLoop({
        engine,
        env,
        tickMs: options.tickMs,
        dtMs: network.params.dtMs,
        latePolicy: options.latePolicy,
        safety: safetyFromSettings(options.envSettings, env.safety).safety,
      });
      loop = tickLoop;
      for (let k = 0; k < warmupTicks; k++) await engine.run(tickLoop.substeps);
    }
    const handle = loop;
    const info: EngineInfo = engineInfo;
    const layout = info.layout;
    const live: LiveLoop = {
      feed: handle.feed,
      tickMs: options.tickMs,
      substeps: handle.substeps,
      neurons: layout.n,
      e2e: handle.telemetry.e2e,
      streamSpikes: (enabled) => handle.streamSpikes(enabled),
      stop: () => handle.stop(),
    };
    env.attachTelemetry?.(live);
    if (options.record || options.foxglove) {
      const live = await import('../record/run-recording.js');
      const description = live.describeRun({
        env,
        envName: options.env,
        envSettings: options.envSettings,
        engine: info,
        network,
        model: options.model,
        tickMs: options.tickMs,
        substeps: handle.substeps,
        warmupTicks,
        latePolicy: options.latePolicy,
      });
      if (options.record) {
        recorder = await live.openRunRecording(options.record, description, env);
        handle.addObserver(recorder.capture);
      }
      if (options.foxglove) {
        foxglove = await live.startFoxgloveServer({ loop: handle, env, description }, options.foxglove);
        console.error(`spikeloop: Foxglove WebSocket server at ${foxglove.url}`);
      }
    }
    for (const observer of options.observers ?? []) handle.addObserver(observer);
    cleanup = (await options.onStart?.(live, env)) ?? undefined;
    const maxTicks =
      options.durationS === undefined
        ? Number.POSITIVE_INFINITY
        : Math.max(1, Math.round((options.durationS * 1000) / options.tickMs));
    // A signal during set-up already asked to stop: then no tick runs, but the report is still written.
    if (stopReason === 'duration') {
      startedAt = new Date().toISOString();
      loopStartUs = monotonicUs();
      const threads = thread !== null ? [thread.threadId ?? -1, ...thread.engineThreadIds] : [];
      const before = threads.map((tid) => (tid > 0 ? threadSchedStats(tid) : null));
      try {
        await handle.run(maxTicks);
      } finally {
        schedDelta = schedulingDelta(before, threads);
      }
    }
  } catch (error) {
    failure = error;
    stopReason = `error: ${error instanceof Error ? error.message : String(error)}`;
  }
  // The robot's stop command goes out first, before the report and before anything is torn down.
  await env
    ?.halt?.(stopReason)
    .catch((error: unknown) =>
      console.error(
        `spikeloop: stop command failed: ${error instanceof Error ? error.message : String(error)}`,
      ),
    );
  // Flush before tearing anything down: whatever stopped the loop, what it measured is written.
  let loaded: LoadedReport | null = null;
  let files: string[] = [];
  let reportError: string | undefined;
  try {
    if (loop) loaded = buildReport(loop.telemetry, runInfo(), options.budgets ?? []);
    // After the report's wall time: the writer may still be catching up on a loaded machine.
    // A recording that cannot be finished (disk full) must not cost the report either.
    if (recorder) {
      recording = await recorder.close().catch((error: unknown) => {
        console.error(
          `spikeloop: the recording ${options.record} could not be finished: ${error instanceof Error ? error.message : String(error)}`,
        );
        return undefined;
      });
    }
    // A report that cannot be written (disk filled during the run) must not cost the summary.
    if (loaded && options.reportDir) {
      files = await writeReport(options.reportDir, loaded).catch((error: unknown) => {
        reportError = error instanceof Error ? error.message : String(error);
        return [];
      });
    }
  } finally {
    await foxglove?.close();
    await cleanup?.().catch((error) => console.error(`spikeloop: shutdown hook failed: ${String(error)}`));
    await env?.close();
    await thread?.dispose();
    await engine?.dispose();
    releaseSignals();
  }
  if (failure !== null || !loaded) throw failure;

  /**
   * The tick thread's heap over the run: bytes allocated per tick in the steady state (absent when
   * the run was too short to measure; tick-thread/alloc-meter.ts) and its collections.
   */
  function tickHeap(): { tickAllocBytesPerTick?: number; tickGcMinor?: number; tickGcMajor?: number } {
    if (!thread?.gc || !thread.allocation) return {};
    const perTick = thread.allocation.bytesPerTick;
    return {
      ...(Number.isFinite(perTick) ? { tickAllocBytesPerTick: round3(perTick) } : {}),
      tickGcMinor: thread.gc.minor,
      tickGcMajor: thread.gc.major,
    };
  }

  function runInfo() {
    return {
      env: options.env,
      tickMs: options.tickMs,
      latePolicy: options.latePolicy,
      startedAt,
      wallS: Number.isNaN(loopStartUs) ? 0 : (monotonicUs() - loopStartUs) / 1e6,
      stopReason,
      backend: engineInfo?.backend ?? 'cpu',
      adapter: engineInfo?.adapter ?? '',
      n: engineInfo?.layout.n ?? options.n,
      model: options.model,
      seed: options.seed,
      tickThread: thread !== null,
      scheduling: realtime?.priority != null ? `FIFO ${realtime.priority}` : 'normal',
      ...tickHeap(),
      ...(env?.summary ? { environment: env.summary() } : {}),
    };
  }

  const { report } = loaded;
  const summary: Row = {
    env: options.env,
    ticks: report.counters.ticks,
    missed: report.counters.missed,
    overruns: report.counters.overruns,
    latePolicy: options.latePolicy,
    latenessUs: pick(report.histograms.lateness),
    computeUs: pick(report.histograms.compute),
    e2eUs: pick(report.histograms.e2e),
    ...(report.activity
      ? { rateEHz: round3(report.activity.rateEHz), rateIHz: round3(report.activity.rateIHz) }
      : {}),
    backend: engineInfo!.backend,
    adapter: engineInfo!.adapter,
    n: engineInfo!.layout.n,
    tickMs: options.tickMs,
    // Where the tick ran, and the FIFO priority in effect for it (null: --realtime was refused).
    tickThread: thread !== null ? 'on' : 'off',
    ...(realtime !== undefined ? { realtimePriority: realtime.priority } : {}),
    ...(realtime?.cpu != null ? { tickCpu: realtime.cpu } : {}),
    // --tick-nice: the nice value of the tick thread and the engine's workers (null: refused).
    ...(tickNice !== undefined ? { tickNice } : {}),
    // The tick thread's final busy wait before each deadline (--spin-us).
    ...(thread !== null ? { tickSpinUs: spinUs } : {}),
    // The engine's worker threads (CPU backend) and how many of them run at the tick's FIFO priority.
    ...(realtime !== undefined
      ? { engineThreads: realtime.engineThreads, engineThreadsFifo: realtime.engineThreadsFifo }
      : {}),
    // What the kernel did to the tick thread and the engine's workers during the run: time they
    // waited runnable for a CPU, and how often they were preempted (docs/tick.md, "The tails").
    ...(schedDelta ?? {}),
    // The tick thread's heap: bytes per tick, collections during the run and the longest pause.
    ...tickHeap(),
    ...(thread?.gc ? { tickGcMaxMs: round3(thread.gc.maxPauseMs) } : {}),
    wallS: report.run.wallS,
    stopReason,
    // How often an output went to its stale-input policy (loop/safety.ts).
    staleIncidents: loop?.safety.state().incidents ?? 0,
    ...(nice !== undefined ? { nice } : {}),
    ...(report.run.environment ?? {}),
    ...(options.reportDir && reportError === undefined ? { report: options.reportDir } : {}),
    ...(reportError !== undefined ? { reportError } : {}),
    ...(recording
      ? { record: recording.path, recordBytes: recording.bytes, recordDroppedTicks: recording.droppedTicks }
      : {}),
    ...(report.budgets.length > 0
      ? {
          budgetsOk: report.budgets.every((b) => b.ok),
          violated: report.budgets.filter((b) => !b.ok).map((b) => b.budget),
        }
      : {}),
  };
  return {
    summary,
    loaded,
    files,
    ...(reportError !== undefined ? { reportError } : {}),
    ok: report.budgets.every((result) => result.ok),
    ...(recording ? { recording } : {}),
  };
}
