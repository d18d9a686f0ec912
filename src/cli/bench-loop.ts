/**
 * `spikeloop bench loop`: the real-time loop at 1 ms ticks, for a tiny network and for N = 5000
 * (docs/architecture.md): tick lateness percentiles, compute time, end-to-end latency and missed
 * ticks, per mode × priority × N. Modes: `quiet`, the synthetic environment and nothing else; `load`,
 * the ws environment with the built-in arena as a simulator in a separate process at 1 kHz, a
 * dashboard client on the telemetry WebSocket, and ROS 2 traffic where ROS 2 is set up (see
 * bench-load.ts). A benchmark reports numbers; it never fails on them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import type { BackendChoice } from '../engine/engine.js';
import type { WsEnvironment } from '../env/ws/environment.js';
import type { LiveLoop } from '../loop/ports.js';
import { LATE_POLICIES, type LatePolicy } from '../loop/schedule.js';
import { DEFAULT_SLEEP, REALTIME_SPIN_US } from '../loop/sleep.js';
import { DEFAULT_REALTIME_PRIORITY } from '../loop/tick-thread/realtime.js';
import { LoadProcess, Ros2Traffic, shutdownRos2Traffic } from './bench-load.js';
import {
  CyclictestReference,
  type ReferenceResult,
  type ReferenceSpec,
  referenceMissing,
} from './bench-reference.js';
import { type ClosedLoopOptions, runClosedLoop } from './closed-loop.js';
import { LateTickCauses } from './late-ticks.js';
import { printRows, type Row } from './output.js';
import { choice, integer, MAX_TICK_MS, MAX_WALL_S, numberInRange } from './parse.js';
import { realtimeRequest } from './run.js';
import { stopSignal } from './signals.js';

export const LOOP_MODES = ['quiet', 'load'] as const;
export type LoopMode = (typeof LOOP_MODES)[number];
export const LOOP_PRIORITIES = ['normal', 'realtime'] as const;
export type LoopPriority = (typeof LOOP_PRIORITIES)[number];

function sizeList(value: string): number[] {
  const sizes = value.split(',').map((part) => Number(part.trim()));
  if (sizes.length === 0 || sizes.some((n) => !Number.isInteger(n) || n < 5)) {
    throw new InvalidArgumentError(`--n expects comma-separated integers ≥ 5, got "${value}"`);
  }
  return sizes;
}

/** A comma-separated list of names out of `allowed`, each once, in the order given. */
function nameList<T extends string>(option: string, allowed: readonly T[]) {
  return (value: string): T[] => {
    const names = value.split(',').map((part) => part.trim());
    const unknown = names.filter((name) => !(allowed as readonly string[]).includes(name));
    if (names.length === 0 || unknown.length > 0) {
      throw new InvalidArgumentError(
        `${option} expects a comma-separated list of ${allowed.join(', ')}; got "${value}"`,
      );
    }
    return [...new Set(names as T[])];
  };
}

interface BenchLoopOptions {
  duration: number;
  tickMs: number;
  n: number[];
  mode: LoopMode[];
  /** Default: normal, or realtime alone when --realtime is given. */
  priority?: LoopPriority[];
  loadRateHz: number;
  backend: BackendChoice;
  latePolicy: LatePolicy;
  seed: number;
  threads?: number;
  nice?: number;
  json?: boolean;
  /** Each size twice in the same process: without, then with an MCAP recording. */
  record?: boolean;
  tickThread: 'on' | 'off';
  /** The FIFO priority of the realtime rows (true: the default priority). */
  realtime?: boolean | string;
  cpu?: number;
  tickNice?: number;
  spinUs?: number;
  /** The OS reference (cyclictest) beside each row; `--no-reference` leaves it out. */
  reference: boolean;
}

type Percentiles = { p50: number; p99: number; p999: number; max: number };

/** Seconds a load-client waits to connect before the row is given up. */
const LOAD_READY_TIMEOUT_MS = 30_000;
/** Seconds the bridge waits for the first ROS 2 message (DDS discovery) before going on without. */
const ROS2_FIRST_MESSAGE_TIMEOUT_MS = 10_000;

const round1 = (value: number) => Math.round(value * 10) / 10;
const perSecond = (count: number, seconds: number) => (seconds > 0 ? round1(count / seconds) : 0);

export function registerBenchLoop(bench: Command): Command {
  return bench
    .command('loop')
    .description(
      'tick lateness, compute time and missed ticks of the real-time loop, quiet or under load (ws simulator, dashboard, ROS 2)',
    )
    .option(
      '--duration <s>',
      'wall-clock seconds per row',
      numberInRange('--duration', 0, MAX_WALL_S, 's', true),
      60,
    )
    .option('--tick-ms <ms>', 'tick length', numberInRange('--tick-ms', 0, MAX_TICK_MS, 'ms', true), 1)
    .option('--n <list>', 'network sizes, comma-separated', sizeList, [100, 5000])
    .option(
      '--mode <list>',
      'quiet (synthetic environment) and/or load (ws simulator at --load-rate-hz, dashboard client, ROS 2 traffic where set up)',
      nameList('--mode', LOOP_MODES),
      ['quiet'],
    )
    .option(
      '--priority <list>',
      'normal and/or realtime (FIFO priority for the tick thread alone; default: normal, or realtime with --realtime)',
      nameList('--priority', LOOP_PRIORITIES),
    )
    .option(
      '--load-rate-hz <hz>',
      'load mode: simulator sensor frames and ROS 2 messages per second',
      numberInRange('--load-rate-hz', 0, 10_000, 'Hz', true),
      1000,
    )
    .option('--backend <name>', 'auto|webgpu|cpu', choice(['auto', 'webgpu', 'cpu'] as const), 'cpu')
    .option('--late-policy <policy>', 'skip|late', choice(LATE_POLICIES), 'skip')
    .option('--seed <n>', 'random seed', integer('--seed', 0), 1)
    .option(
      '--threads <n>',
      'CPU backend threads (default: the fewest whose compute stays under half the tick)',
      integer('--threads', 1),
    )
    .option(
      '--nice <n>',
      'scheduling priority of the loop (-20…19; negative needs root)',
      integer('--nice', -20),
    )
    .option('--record', 'run each size twice, without and with --record (recording overhead in one run)')
    .option(
      '--tick-thread <on|off>',
      'the tick on a thread of its own, or on the main thread',
      choice(['on', 'off'] as const),
      'on',
    )
    .option(
      '--realtime [priority]',
      `FIFO priority of the realtime rows (default ${DEFAULT_REALTIME_PRIORITY}); alone, it means --priority realtime`,
    )
    .option('--cpu <n>', 'pin the tick thread of the realtime rows to this CPU', integer('--cpu', 0))
    .option(
      '--tick-nice <n>',
      'nice value (-20…19) for the tick thread and the engine workers alone, every row',
      integer('--tick-nice', -20),
    )
    .option(
      '--spin-us <us>',
      `busy wait of the tick thread before each deadline (µs; default ${DEFAULT_SLEEP.spinUs}, ${REALTIME_SPIN_US} in realtime rows)`,
      integer('--spin-us', 0),
    )
    .option(
      '--no-reference',
      'leave out the OS reference: cyclictest at the row’s priority and tick, concurrent with the loop',
    )
    .option('--json', 'one JSON object per row')
    .action(async (options: BenchLoopOptions) => {
      const priorities = options.priority ?? [options.realtime === undefined ? 'normal' : 'realtime'];
      if (priorities.includes('realtime') && options.tickThread === 'off') {
        throw new Error(
          '--priority realtime applies to the tick thread; it cannot be combined with --tick-thread off',
        );
      }
      if (options.cpu !== undefined && !priorities.includes('realtime')) {
        throw new Error(
          '--cpu pins the tick thread of the realtime rows; give --priority realtime or --realtime',
        );
      }
      // Checked before the first row: a bad priority must not cost the rows before it.
      const realtime = priorities.includes('realtime')
        ? realtimeRequest(options.realtime ?? true, options.cpu)
        : undefined;
      const referenceLeftOut = options.reference ? referenceMissing() : 'off (--no-reference)';
      if (options.reference && referenceLeftOut !== null)
        console.error(`spikeloop: bench loop: no OS reference beside the rows: ${referenceLeftOut}`);
      const rows: Row[] = [];
      const recordDir = options.record ? mkdtempSync(join(tmpdir(), 'spikeloop-bench-record-')) : null;
      const runs = options.mode.flatMap((mode) =>
        priorities.flatMap((priority) =>
          options.n.flatMap((n) =>
            (recordDir ? [false, true] : [false]).map((record) => ({ mode, priority, n, record })),
          ),
        ),
      );
      let failed = false;
      try {
        for (const run of runs) {
          // A Ctrl-C stops the row it lands in and every row after it.
          if (stopSignal() !== null) break;
          const recordFile = run.record && recordDir ? join(recordDir, `n${run.n}.mcap`) : undefined;
          const row = await benchRow(
            options,
            run,
            run.priority === 'realtime' ? realtime : undefined,
            referenceLeftOut,
            recordFile,
          ).catch((error: unknown): Row => {
            const message = error instanceof Error ? error.message : String(error);
            console.error(`spikeloop: bench loop ${run.mode} ${run.priority} N=${run.n}: ${message}`);
            return { bench: 'loop', mode: run.mode, priority: run.priority, n: run.n, error: message };
          });
          if ('error' in row || typeof row.loadError === 'string') failed = true;
          if (options.json) printRows([row], true);
          rows.push(row);
        }
      } finally {
        if (recordDir) rmSync(recordDir, { recursive: true, force: true });
        await shutdownRos2Traffic();
      }
      if (!options.json) printRows(rows.map(flatten), false, tableColumns(rows));
      // The numbers of a row whose load failed are not what they claim to be.
      if (failed) process.exitCode = 1;
    });
}

interface RunSpec {
  mode: LoopMode;
  priority: LoopPriority;
  n: number;
  record: boolean;
}

async function benchRow(
  options: BenchLoopOptions,
  run: RunSpec,
  realtime: ClosedLoopOptions['realtime'],
  referenceLeftOut: string | null,
  recordFile?: string,
): Promise<Row> {
  const common: ClosedLoopOptions = {
    record: recordFile,
    env: 'synthetic',
    durationS: options.duration,
    tickMs: options.tickMs,
    n: run.n,
    model: 'ei-clustered',
    backend: options.backend,
    seed: options.seed,
    latePolicy: options.latePolicy,
    warmupTicks: 200,
    threads: options.threads,
    nice: options.nice,
    tickThread: options.tickThread !== 'off',
    realtime,
    tickNice: options.tickNice,
    spinUs: options.spinUs,
  };
  const load = run.mode === 'load' ? new LoadRun(options.loadRateHz, options.duration) : null;
  const reference =
    referenceLeftOut === null
      ? new ReferenceRun({
          fifoPriority: realtime?.priority ?? null,
          intervalUs: options.tickMs * 1000,
          wakeups: Math.max(1, Math.round((options.duration * 1000) / options.tickMs)),
        })
      : null;
  const causes = new LateTickCauses(options.tickMs * 1000);
  const { summary, recording } = await runClosedLoop({
    ...common,
    observers: [causes],
    ...(load !== null ? { env: 'ws', envSettings: { host: '127.0.0.1', port: 0 } } : {}),
    onStart: async (loop, env) => {
      const stopLoad = load !== null ? await load.start(loop, env as WsEnvironment) : undefined;
      // Last, just before the first tick: its window is the loop's, under the same load.
      reference?.start();
      return async () => {
        await reference?.stop();
        await stopLoad?.();
      };
    },
  });
  const ticks = summary.ticks as number;
  const missed = summary.missed as number;
  return {
    bench: 'loop',
    mode: run.mode,
    priority: run.priority,
    backend: summary.backend!,
    adapter: summary.adapter!,
    n: run.n,
    tickMs: options.tickMs,
    durationS: options.duration,
    latePolicy: options.latePolicy,
    nice: summary.nice ?? null,
    ...(summary.tickNice !== undefined ? { tickNice: summary.tickNice } : {}),
    tickThread: summary.tickThread!,
    // null: normal priority, or realtime refused (no privilege; the row then ran at normal priority).
    realtimePriority: summary.realtimePriority ?? null,
    ...(realtime !== undefined
      ? {
          realtime:
            summary.realtimePriority === null || summary.realtimePriority === undefined
              ? 'refused: ran at normal priority (FIFO needs root, CAP_SYS_NICE or an rtprio limit)'
              : `FIFO ${summary.realtimePriority}${summary.tickCpu !== undefined ? ` on CPU ${summary.tickCpu}` : ''}`,
        }
      : {}),
    // Realtime rows: the engine's worker threads, and how many got the tick's FIFO priority.
    ...(summary.engineThreads !== undefined
      ? { engineThreads: summary.engineThreads, engineThreadsFifo: summary.engineThreadsFifo }
      : {}),
    ticks,
    missed,
    missedPct: ticks + missed > 0 ? Math.round((missed / (ticks + missed)) * 1e5) / 1e3 : 0,
    overruns: summary.overruns!,
    latenessUs: summary.latenessUs!,
    computeUs: summary.computeUs!,
    e2eUs: summary.e2eUs!,
    // Late ticks (≥ ¼ tick) by cause: the previous tick overran, or the idle tick thread woke late.
    ...causes.result(),
    // The kernel's view of the tick thread (and the engine's workers) during the run.
    ...Object.fromEntries(
      [
        'tickSpinUs',
        'tickTimerSlackNs',
        'tickRunDelayMs',
        'tickPreemptions',
        'tickMajorFaults',
        'engineRunDelayMs',
        'enginePreemptions',
        'tickGcMaxMs',
      ]
        .filter((key) => summary[key] !== undefined)
        .map((key) => [key, summary[key]!]),
    ),
    // The tick thread's heap: bytes per tick once warmed up (null: too short, or no tick thread)
    // and its collections during the row (docs/tick.md).
    allocBytesPerTick: summary.tickAllocBytesPerTick ?? null,
    gcMinor: summary.tickGcMinor ?? null,
    gcMajor: summary.tickGcMajor ?? null,
    ...(load ? load.fields() : {}),
    ...(reference !== null
      ? reference.fields(summary.latenessUs as Percentiles | undefined)
      : { reference: `left out: ${referenceLeftOut}` }),
    ...(options.record
      ? {
          recording: run.record,
          recordBytes: recording?.bytes ?? 0,
          // Per tick run, scaled to a minute of ticks: missed ticks write nothing.
          recordMiBPerMin:
            recording && recording.ticks > 0
              ? ((recording.bytes / recording.ticks) * (60_000 / options.tickMs)) / 2 ** 20
              : 0,
        }
      : {}),
  };
}

/**
 * One load-mode row's load: the dashboard on this process's telemetry feed, the load-client
 * processes and the ROS 2 subscription, started before the first tick and measured from it.
 */
class LoadRun {
  private static ros2LeftOutSaid = false;
  private readonly info: Row = {};
  private loadError: string | null = null;
  private marked = false;

  constructor(
    private readonly rateHz: number,
    private readonly durationS: number,
  ) {}

  fields(): Row {
    return {
      loadRateHz: this.rateHz,
      ...this.info,
      ...(this.loadError ? { loadError: this.loadError } : {}),
    };
  }

  async start(loop: LiveLoop, env: WsEnvironment): Promise<() => Promise<void>> {
    const server = env.server;
    if (server === null) throw new Error('bench loop: the ws environment is not listening');
    const { startDashboard } = await import('../io/dashboard/dashboard.js');
    const dashboard = await startDashboard({ loop, env }, { host: '127.0.0.1', port: 0 });
    // A load process that dies mid-run ends the row: what follows would not be under load.
    const fail = (reason: string) => {
      if (!this.marked || this.loadError !== null) return;
      this.loadError = reason;
      console.error(`spikeloop: bench loop: ${reason}; the row stops here and is marked with loadError`);
      loop.stop();
    };
    // Bounded whatever happens: the row's duration, plus time to connect and to be stopped.
    const maxS = String(this.durationS + 60);
    const rate = String(this.rateHz);
    const processes: LoadProcess[] = [];
    let ros2: Ros2Traffic | null = null;
    try {
      processes.push(
        new LoadProcess(
          'ws simulator and dashboard client',
          [
            '--simulator',
            server.url,
            '--dashboard',
            dashboard.server.url,
            '--rate-hz',
            rate,
            '--max-s',
            maxS,
          ],
          fail,
        ),
      );
      const { currentRos2Environment, missingRos2Piece } = await import('../io/ros2/load.js');
      const missing = missingRos2Piece(currentRos2Environment());
      if (missing === null) {
        const topic = `/spikeloop_bench_loop_${process.pid}/scan`;
        ros2 = await Ros2Traffic.subscribe(topic);
        processes.push(
          new LoadProcess(
            'ROS 2 publisher',
            ['--ros2-topic', topic, '--rate-hz', rate, '--max-s', maxS],
            fail,
          ),
        );
        this.info.ros2 = 'on';
      } else {
        this.info.ros2 = `left out: ${missing}`;
        // Once per benchmark: every row's `ros2` field says it too.
        if (!LoadRun.ros2LeftOutSaid)
          console.error(`spikeloop: bench loop: ROS 2 traffic left out (${missing})`);
        LoadRun.ros2LeftOutSaid = true;
      }
      await Promise.all(processes.map((child) => child.ready(LOAD_READY_TIMEOUT_MS)));
      if (ros2 !== null && !(await ros2.firstMessage(ROS2_FIRST_MESSAGE_TIMEOUT_MS))) {
        console.error(
          `spikeloop: bench loop: no ROS 2 message reached the bridge within ${ROS2_FIRST_MESSAGE_TIMEOUT_MS / 1000} s; measuring anyway (see ros2ReceivedPerS)`,
        );
      }
    } catch (error) {
      await Promise.all(processes.map((child) => child.kill()));
      ros2?.close();
      await dashboard.close();
      throw error;
    }
    for (const child of processes) child.mark();
    this.marked = true;
    console.error(
      `spikeloop: bench loop: load on: ${processes.map((child) => `${child.label} (pid ${child.pid})`).join(', ')} at ${this.rateHz} Hz`,
    );
    const startMs = performance.now();
    const bridgeStart = sensorFramesIn(env);
    const ros2Start = ros2?.received ?? 0;
    const dashboardStart = dashboard.stats().framesSent;
    return async () => {
      const seconds = (performance.now() - startMs) / 1000;
      const bridgeReceived = sensorFramesIn(env) - bridgeStart;
      const ros2Received = (ros2?.received ?? 0) - ros2Start;
      const dashboardSent = dashboard.stats().framesSent - dashboardStart;
      const [simulator, publisher] = await Promise.all(processes.map((child) => child.stop()));
      ros2?.close();
      await dashboard.close();
      Object.assign(this.info, {
        // Counts over the measured window, and the same as rates: the simulator's on its own clock.
        simSensorSent: simulator?.sensorSent ?? null,
        simSensorSentPerS: simulator ? perSecond(simulator.sensorSent, simulator.windowS) : null,
        bridgeSensorReceived: bridgeReceived,
        bridgeSensorReceivedPerS: perSecond(bridgeReceived, seconds),
        simMotorReceived: simulator?.motorReceived ?? null,
        simMotorReceivedPerS: simulator ? perSecond(simulator.motorReceived, simulator.windowS) : null,
        simRttUs: simulator?.rttUs ?? null,
        dashboardFramesSent: dashboardSent,
        dashboardFramesReceived: simulator?.dashboardFrames ?? null,
        dashboardSpikesReceived: simulator?.dashboardSpikes ?? null,
        ...(this.info.ros2 === 'on'
          ? {
              ros2Published: publisher?.ros2Published ?? null,
              ros2PublishedPerS: publisher ? perSecond(publisher.ros2Published, publisher.windowS) : null,
              ros2Received,
              ros2ReceivedPerS: perSecond(ros2Received, seconds),
            }
          : {}),
      });
    };
  }
}

/**
 * The row's OS reference (bench-reference.ts): cyclictest at the row's scheduling, started just
 * before the first tick and stopped with the loop, so that it competes with the loop under the same
 * load; a reference that cannot run says why in one line and in the row, and the row stands.
 */
class ReferenceRun {
  private running: CyclictestReference | null = null;
  private result: ReferenceResult | null = null;
  private failure: string | null = null;

  constructor(private readonly spec: ReferenceSpec) {}

  start(): void {
    this.running = CyclictestReference.start(this.spec);
  }

  async stop(): Promise<void> {
    const running = this.running;
    this.running = null;
    if (running === null) return;
    try {
      this.result = await running.stop();
    } catch (error) {
      this.failure = error instanceof Error ? error.message : String(error);
      console.error(`spikeloop: bench loop: the OS reference failed: ${this.failure}`);
    }
  }

  fields(lateness: Percentiles | undefined): Row {
    const policy = this.spec.fifoPriority === null ? 'SCHED_OTHER' : `FIFO ${this.spec.fifoPriority}`;
    if (this.result === null)
      return { reference: `failed: ${this.failure ?? 'the loop ended before the reference started'}` };
    const { wakeups, latencyUs, lateWakeups, missed } = this.result;
    return {
      reference: `cyclictest ${policy}`,
      // It ran while the loop ran: it shares the CPUs with the loop, its engine and its load.
      referenceConcurrent: true,
      referenceWakeups: wakeups,
      referenceLatencyUs: latencyUs,
      referenceLateWakeups: lateWakeups,
      // Periods it slept through: the loop's `missed` for a thread that woke like the reference.
      referenceMissed: missed,
      referenceMissedPct: wakeups + missed > 0 ? Math.round((missed / (wakeups + missed)) * 1e5) / 1e3 : 0,
      // The loop's tail against the machine's at the same priority: 1 means the loop's tail is the OS's.
      latenessP999VsReference:
        lateness !== undefined && latencyUs.p999 > 0
          ? Math.round((lateness.p999 / latencyUs.p999) * 100) / 100
          : null,
    };
  }
}

/**
 * Sensor frames the bridge took in: the arena sends every channel in every frame, so the busiest
 * channel's count (the environment's `sensorSamples` adds up the channels).
 */
function sensorFramesIn(env: WsEnvironment): number {
  return Math.max(0, ...env.sources.map((source) => source.received));
}

/** The table's columns, in reading order, where any row has them. */
function tableColumns(rows: readonly Row[]): string[] {
  const flat = rows.map(flatten);
  const present = new Set(flat.flatMap((row) => Object.keys(row)));
  return [
    'mode',
    'priority',
    'realtime',
    'n',
    'nice',
    'tickNice',
    'ticks',
    'missed',
    'missedPct',
    'latenessP50Us',
    'latenessP99Us',
    'latenessP999Us',
    'latenessMaxUs',
    'computeP50Us',
    'computeP99Us',
    'e2eP50Us',
    'e2eP99Us',
    'lateTicks',
    'lateAfterOverrun',
    'lateWakeup',
    'tickRunDelayMs',
    'tickPreemptions',
    'engineRunDelayMs',
    'reference',
    'referenceLatencyP50Us',
    'referenceLatencyP99Us',
    'referenceLatencyP999Us',
    'referenceLatencyMaxUs',
    'referenceMissed',
    'latenessP999VsReference',
    'allocBytesPerTick',
    'gcMinor',
    'gcMajor',
    'simSensorSentPerS',
    'bridgeSensorReceivedPerS',
    'simMotorReceivedPerS',
    'simRttP99Us',
    'dashboardFramesReceived',
    'ros2ReceivedPerS',
    'recording',
    'recordBytes',
    'recordMiBPerMin',
    'loadError',
    'error',
  ].filter((key) => present.has(key));
}

/** Table form: one column per percentile. */
function flatten(row: Row): Row {
  const flat: Row = {};
  for (const [key, value] of Object.entries(row)) {
    if (key === 'adapter') continue;
    if (value !== null && typeof value === 'object' && 'p99' in value) {
      const p = value as Percentiles;
      const base = key.replace(/Us$/, '');
      Object.assign(flat, {
        [`${base}P50Us`]: p.p50,
        [`${base}P99Us`]: p.p99,
        [`${base}P999Us`]: p.p999,
        [`${base}MaxUs`]: p.max,
      });
    } else flat[key] = value;
  }
  return flat;
}
