/**
 * `spikeloop load-client` (hidden): the load of `bench loop --mode load`, run by the benchmark as a
 * separate process so that the load's own work lands on the machine, not in the bridge's process.
 * Parts, any combination: the built-in arena as a ws simulator stepping on its own 1 kHz clock
 * (sensor frames out, motor frames in, exactly as `spikeloop arena --connect`), an observer on the
 * dashboard's telemetry WebSocket subscribed as the browser page subscribes (same hello, spikes
 * included), and a ROS 2 publisher of LaserScans at the same rate.
 *
 * The benchmark talks to it over stdio in JSON lines: this process prints `{"event":"ready"}`
 * once every part is connected and `{"event":"result",…}` (the counts between the parent's `mark`
 * and `stop` lines) when it stops. It stops on `stop`, when its stdin ends (the benchmark is
 * gone, however it went), on SIGINT/SIGTERM, and after --max-s seconds whatever happens.
 */
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { ArenaClient } from '../env/arena/client.js';
import { DEFAULT_ARENA } from '../env/arena/world.js';
import type { RclTypeClass } from '../io/ros2/rcl-api.js';
import { BridgeClient } from '../io/ws/client.js';
import { safeLogLine } from '../io/ws/log-line.js';
import { MAX_WALL_S, numberInRange } from './parse.js';
import { onStopSignal } from './signals.js';

interface LoadClientOptions {
  simulator?: string;
  dashboard?: string;
  ros2Topic?: string;
  rateHz: number;
  maxS: number;
}

/** What the parts did, cumulative since start; the result is the difference between two of these. */
export interface LoadCounts {
  /** This process's monotonic clock (ms). */
  atMs: number;
  sensorSent: number;
  sensorDropped: number;
  motorReceived: number;
  simulatorReconnects: number;
  dashboardFrames: number;
  dashboardSpikes: number;
  ros2Published: number;
}

/** The `result` line: counts between mark and stop, and the simulator's round trips. */
export interface LoadClientResult {
  event: 'result';
  windowS: number;
  sensorSent: number;
  sensorDropped: number;
  motorReceived: number;
  simulatorReconnects: number;
  dashboardFrames: number;
  dashboardSpikes: number;
  ros2Published: number;
  /** Simulator clock: sensor frame sent → first motor frame reflecting it (whole run). */
  rttUs: { count: number; p50: number; p99: number; p999: number; max: number } | null;
}

/** LaserScan ranges published per message: a 360-ray scanner, as the TurtleBot3's. */
const SCAN_RAYS = 360;

/**
 * Calls `step` at absolute deadlines k/rateHz on timers (never spinning: on a small machine a
 * spinning load generator would take the core the bridge's tick needs, which is not the load this
 * benchmark means). A late wake-up calls it once, not once per missed deadline.
 */
function paced(rateHz: number, step: () => void): () => void {
  const periodMs = 1000 / rateHz;
  const startMs = performance.now();
  let k = 0;
  let timer: NodeJS.Timeout | null = null;
  let running = true;
  const tick = () => {
    if (!running) return;
    const due = Math.floor((performance.now() - startMs) / periodMs) + 1;
    if (due > k) {
      k = due;
      step();
    }
    const waitMs = startMs + k * periodMs - performance.now();
    if (waitMs > 0.3) timer = setTimeout(tick, waitMs);
    else setImmediate(tick);
  };
  setImmediate(tick);
  return () => {
    running = false;
    if (timer !== null) clearTimeout(timer);
  };
}

function emit(line: object): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

async function runLoadClient(options: LoadClientOptions): Promise<void> {
  if (!options.simulator && !options.dashboard && !options.ros2Topic) {
    throw new Error('load-client: nothing to do; give --simulator, --dashboard and/or --ros2-topic');
  }
  for (const [flag, url] of [
    ['--simulator', options.simulator],
    ['--dashboard', options.dashboard],
  ] as const) {
    if (url !== undefined && !/^wss?:\/\//.test(url)) {
      throw new Error(`load-client: ${flag} expects ws://HOST:PORT, got "${url}"`);
    }
  }
  const log = (line: string) => process.stderr.write(`${safeLogLine(line)}\n`);
  let dashboardFrames = 0;
  let dashboardSpikes = 0;
  let ros2Published = 0;
  const closers: (() => Promise<void> | void)[] = [];

  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const deadline = setTimeout(() => {
    log(`load-client: stopping after --max-s ${options.maxS} s`);
    finish();
  }, options.maxS * 1000);
  const releaseSignals = onStopSignal(() => finish());
  const lines = createInterface({ input: process.stdin });
  let marked: LoadCounts | null = null;
  lines.on('line', (line) => {
    if (line === 'mark') marked = counts();
    else if (line === 'stop') finish();
  });
  // The benchmark is gone (or closed our stdin): nobody needs this load any more.
  lines.on('close', () => finish());

  let arena: ArenaClient | null = null;
  const ready: Promise<unknown>[] = [];
  try {
    if (options.simulator !== undefined) {
      const client = new ArenaClient({
        url: options.simulator,
        // The ws environment asks for $SPIKELOOP_TOKEN when it is set (inherited from the benchmark).
        token: process.env.SPIKELOOP_TOKEN || undefined,
        arena: DEFAULT_ARENA,
        clock: { mode: 'realtime', rateHz: options.rateHz },
        log,
      });
      arena = client;
      const running = client.run();
      let simulatorConnected = false;
      closers.push(async () => {
        await client.close();
        // run() ends once closed, but only after it has connected: before that it waits forever.
        if (simulatorConnected) await running;
      });
      // The client counts a sensor frame as sent only once the bridge has answered its hello.
      ready.push(
        new Promise<void>((resolve, reject) => {
          const poll = setInterval(() => {
            if (client.result().sensorSent > 0) {
              simulatorConnected = true;
              clearInterval(poll);
              resolve();
            }
          }, 5);
          running.then(
            () => {
              clearInterval(poll);
              reject(new Error('load-client: the simulator stopped before it connected'));
            },
            (error: unknown) => {
              clearInterval(poll);
              reject(error);
            },
          );
        }),
      );
    }
    if (options.dashboard !== undefined) {
      // The page's hello (src/io/dashboard/app.js): observer, no wire features, spikes streamed.
      const observer = new BridgeClient({
        url: options.dashboard,
        role: 'observer',
        name: 'dashboard',
        features: [],
        reconnect: false,
        onTelemetry: (frame) => {
          dashboardFrames++;
          dashboardSpikes += frame.spikes.id.length;
        },
        onError: (error) => log(`load-client: dashboard error ${error.code}: ${error.message}`),
      });
      closers.push(() => observer.close());
      ready.push(observer.ready());
    }
    if (options.ros2Topic !== undefined) {
      const { loadRclnodejs } = await import('../io/ros2/load.js');
      const rcl = await loadRclnodejs();
      await rcl.init(undefined, ['spikeloop-load-client']);
      const node = rcl.createNode(`spikeloop_load_${process.pid}`);
      const publisher = node.createPublisher('sensor_msgs/msg/LaserScan' as RclTypeClass, options.ros2Topic);
      node.spin();
      const ranges = new Float32Array(SCAN_RAYS).fill(1.5);
      const stopPublishing = paced(options.rateHz, () => {
        const nowNs = BigInt(Date.now()) * 1_000_000n;
        publisher.publish({
          header: {
            stamp: { sec: Number(nowNs / 1_000_000_000n), nanosec: Number(nowNs % 1_000_000_000n) },
            frame_id: 'base_scan',
          },
          angle_min: 0,
          angle_max: (2 * Math.PI * (SCAN_RAYS - 1)) / SCAN_RAYS,
          angle_increment: (2 * Math.PI) / SCAN_RAYS,
          time_increment: 0,
          scan_time: 1 / options.rateHz,
          range_min: 0.12,
          range_max: 3.5,
          ranges,
          intensities: [],
        });
        ros2Published++;
      });
      closers.push(() => {
        stopPublishing();
        node.destroy();
        if (!rcl.isShutdown()) rcl.shutdown();
      });
    }
    // Connection failures end the wait too: the parent sees this process exit with the reason.
    let connected = false;
    await Promise.race([
      Promise.all(ready).then(() => {
        connected = true;
      }),
      finished,
    ]);
    if (!connected) throw new Error('load-client: stopped before every part had connected');
    emit({ event: 'ready' });
    await finished;
    const end = counts();
    const start: LoadCounts = marked ?? end;
    const rtt = arena?.result().rttUs ?? null;
    const result: LoadClientResult = {
      event: 'result',
      windowS: (end.atMs - start.atMs) / 1000,
      sensorSent: end.sensorSent - start.sensorSent,
      sensorDropped: end.sensorDropped - start.sensorDropped,
      motorReceived: end.motorReceived - start.motorReceived,
      simulatorReconnects: end.simulatorReconnects - start.simulatorReconnects,
      dashboardFrames: end.dashboardFrames - start.dashboardFrames,
      dashboardSpikes: end.dashboardSpikes - start.dashboardSpikes,
      ros2Published: end.ros2Published - start.ros2Published,
      rttUs: rtt,
    };
    emit(result);
  } finally {
    clearTimeout(deadline);
    lines.close();
    for (const close of closers.reverse()) {
      await Promise.resolve()
        .then(close)
        .catch((error: unknown) => log(`load-client: closing failed: ${String(error)}`));
    }
    releaseSignals();
  }

  function counts(): LoadCounts {
    const simulator = arena?.result();
    return {
      atMs: performance.now(),
      sensorSent: simulator?.sensorSent ?? 0,
      sensorDropped: simulator?.sensorDropped ?? 0,
      motorReceived: simulator?.motorReceived ?? 0,
      simulatorReconnects: simulator?.reconnects ?? 0,
      dashboardFrames,
      dashboardSpikes,
      ros2Published,
    };
  }
}

export function registerLoadClient(program: Command): Command {
  return program
    .command('load-client', { hidden: true })
    .description('the load generator of `bench loop --mode load` (started by the benchmark)')
    .option('--simulator <url>', 'run the arena as a ws simulator against this bridge')
    .option('--dashboard <url>', "subscribe to this dashboard's telemetry as the page does")
    .option('--ros2-topic <topic>', 'publish LaserScans on this ROS 2 topic')
    .option(
      '--rate-hz <hz>',
      'simulator steps and ROS 2 messages per second',
      numberInRange('--rate-hz', 0, 1e5, 'Hz', true),
      1000,
    )
    .requiredOption(
      '--max-s <s>',
      'stop after this many seconds whatever happens',
      numberInRange('--max-s', 0, MAX_WALL_S, 's', true),
    )
    .action((options: LoadClientOptions) => runLoadClient(options));
}
