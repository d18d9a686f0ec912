/**
 * Contract test of the rclnodejs adapter: a fake typed with rclnodejs's own published types
 * (RclApi / RclNode are Picks of them), so a call the adapter makes with the wrong shape fails the
 * type check, and the fake checks at run time what the types cannot (QoS values, bigint periods,
 * message type names, call order).
 */
import { join } from 'node:path';
import type * as Rcl from 'rclnodejs';
import { describe, expect, it } from 'vitest';
import { createRos2Environment } from '../../../src/env/ros2/environment.js';
import { Ros2Bridge } from '../../../src/io/ros2/bridge.js';
import type { DiagnosticArrayMsg, LaserScanMsg, TwistMsg } from '../../../src/io/ros2/messages.js';
import { loadRobotParams } from '../../../src/io/ros2/params.js';
import type { RclApi, RclNode } from '../../../src/io/ros2/rcl-api.js';
import type { LatencyReportMsg, PopulationActivityMsg } from '../../../src/io/ros2/spikeloop-msgs.js';
import type { MotorCommand } from '../../../src/loop/ports.js';
import { layoutOf, populationNames, populationSizes } from '../../../src/model/network.js';
import { modelParams } from '../../../src/model/params.js';
import type { TelemetryFeed, TelemetrySnapshot } from '../../../src/telemetry/live.js';

const TURTLEBOT3 = join(import.meta.dirname, '../../../launch/params/turtlebot3.yaml');

// rmw values of the policies, as rclnodejs's QoS exposes them.
const HistoryPolicy = {
  RMW_QOS_POLICY_HISTORY_SYSTEM_DEFAULT: 0,
  RMW_QOS_POLICY_HISTORY_KEEP_LAST: 1,
  RMW_QOS_POLICY_HISTORY_KEEP_ALL: 2,
} as unknown as typeof Rcl.QoS.HistoryPolicy;
const ReliabilityPolicy = {
  RMW_QOS_POLICY_RELIABILITY_SYSTEM_DEFAULT: 0,
  RMW_QOS_POLICY_RELIABILITY_RELIABLE: 1,
  RMW_QOS_POLICY_RELIABILITY_BEST_EFFORT: 2,
} as unknown as typeof Rcl.QoS.ReliabilityPolicy;
const DurabilityPolicy = {
  RMW_QOS_POLICY_DURABILITY_SYSTEM_DEFAULT: 0,
  RMW_QOS_POLICY_DURABILITY_TRANSIENT_LOCAL: 1,
  RMW_QOS_POLICY_DURABILITY_VOLATILE: 2,
} as unknown as typeof Rcl.QoS.DurabilityPolicy;
const LivelinessPolicy = {
  RMW_QOS_POLICY_LIVELINESS_SYSTEM_DEFAULT: 0,
  RMW_QOS_POLICY_LIVELINESS_AUTOMATIC: 1,
  RMW_QOS_POLICY_LIVELINESS_MANUAL_BY_TOPIC: 3,
  RMW_QOS_POLICY_LIVELINESS_UNKNOWN: 4,
  RMW_QOS_POLICY_LIVELINESS_BEST_AVAILABLE: 5,
} as unknown as typeof Rcl.QoS.LivelinessPolicy;

class FakeQoS {
  static readonly profileDefault = 'qos_profile_default';
  static readonly profileSystemDefault = 'qos_profile_system_default';
  static readonly profileSensorData = 'qos_profile_sensor_data';
  static readonly profileServicesDefault = 'qos_profile_services_default';
  static readonly profileParameters = 'qos_profile_parameters';
  static readonly profileParameterEvents = 'qos_profile_parameter_events';
  static readonly profileActionStatusDefault = 'qos_profile_action_status_default';
  static readonly HistoryPolicy = HistoryPolicy;
  static readonly ReliabilityPolicy = ReliabilityPolicy;
  static readonly DurabilityPolicy = DurabilityPolicy;
  static readonly LivelinessPolicy = LivelinessPolicy;
  durability = 0 as Rcl.QoS['durability'];
  liveliness = 0 as Rcl.QoS['liveliness'];
  avoidRosNameSpaceConventions = false;
  constructor(
    public history: number = 0,
    public depth = 0,
    private readonly reliabilityValue: Rcl.QoS.ReliabilityPolicy = 0,
  ) {}
  reliability(): Rcl.QoS.ReliabilityPolicy {
    return this.reliabilityValue;
  }
}
// The fake class must be usable wherever rclnodejs's QoS class is.
const QoS: typeof Rcl.QoS = FakeQoS;

interface Endpoint {
  type: string;
  topic: string;
  qos: FakeQoS;
}
interface Subscription extends Endpoint {
  callback: (message: unknown) => void;
}
interface Publisher extends Endpoint {
  published: unknown[];
}
interface Timer {
  periodNs: bigint;
  callback: () => void;
  cancelled: boolean;
}

/** A fake rclnodejs: records every call; the types come from rclnodejs. */
function fakeRclnodejs() {
  const calls: string[] = [];
  const subscriptions: Subscription[] = [];
  const publishers: Publisher[] = [];
  const timers: Timer[] = [];
  let initArgv: string[] | undefined;
  let shutdown = false;
  let nodeName = '';

  const optionsQos = (options: unknown): FakeQoS => {
    const qos = (options as Rcl.Options | undefined)?.qos;
    if (!(qos instanceof FakeQoS)) throw new Error('expected a QoS object in the options');
    return qos;
  };

  const node: RclNode = {
    createSubscription(
      typeClass: unknown,
      topic: string,
      options: unknown,
      callback?: unknown,
    ): Rcl.Subscription {
      calls.push(`createSubscription ${String(typeClass)} ${topic}`);
      if (typeof callback !== 'function')
        throw new Error('createSubscription: the callback is the 4th argument');
      subscriptions.push({
        type: String(typeClass),
        topic,
        qos: optionsQos(options),
        callback: callback as (m: unknown) => void,
      });
      return { topic } as unknown as Rcl.Subscription;
    },
    createPublisher(typeClass: unknown, topic: string, options?: Rcl.Options) {
      calls.push(`createPublisher ${String(typeClass)} ${topic}`);
      const publisher: Publisher = {
        type: String(typeClass),
        topic,
        qos: optionsQos(options),
        published: [],
      };
      publishers.push(publisher);
      return {
        topic,
        publish: (message: unknown) => {
          if (shutdown) throw new Error('publish after shutdown');
          publisher.published.push(message);
        },
      } as unknown as Rcl.Publisher<never>;
    },
    createTimer(period: bigint, callback: Rcl.TimerRequestCallback): Rcl.Timer {
      calls.push(`createTimer ${period}`);
      if (typeof period !== 'bigint') throw new Error('createTimer: the period must be a bigint (ns)');
      const timer: Timer = { periodNs: period, callback: () => callback(), cancelled: false };
      timers.push(timer);
      return {
        cancel: () => {
          timer.cancelled = true;
        },
      } as unknown as Rcl.Timer;
    },
    spin(): void {
      calls.push('spin');
    },
    destroy(): void {
      calls.push('destroy');
    },
    name: () => nodeName,
    namespace: () => '/',
    now: () => ({ nanoseconds: 1_700_000_000_500_000_000n }) as Rcl.Time,
  };

  const api: RclApi = {
    async init(_context?: Rcl.Context, argv?: string[]) {
      calls.push('init');
      initArgv = argv;
    },
    createNode(name: string) {
      calls.push(`createNode ${name}`);
      nodeName = name;
      return node;
    },
    shutdown() {
      calls.push('shutdown');
      shutdown = true;
    },
    isShutdown: () => shutdown,
    QoS,
  };
  const find = <T extends Endpoint>(list: T[], topic: string) => {
    const found = list.find((e) => e.topic === topic);
    if (!found) throw new Error(`no endpoint on ${topic}; have ${list.map((e) => e.topic).join(', ')}`);
    return found;
  };
  return {
    api,
    calls,
    timers,
    initArgv: () => initArgv,
    subscription: (topic: string) => find(subscriptions, topic),
    publisher: (topic: string) => find(publishers, topic),
  };
}

function scanMessage(nearFront: number): LaserScanMsg {
  const ranges = new Float32Array(360).fill(Number.POSITIVE_INFINITY);
  ranges[0] = nearFront;
  return {
    header: { stamp: { sec: 0, nanosec: 0 }, frame_id: 'base_scan' },
    angle_min: 0,
    angle_max: (2 * Math.PI * 359) / 360,
    angle_increment: (2 * Math.PI) / 360,
    time_increment: 0,
    scan_time: 0.2,
    range_min: 0.12,
    range_max: 3.5,
    ranges,
    intensities: [],
  };
}

/** A snapshot `windowTicks` ticks (of 1 ms) after the previous one: E at 8 Hz, I at 10 Hz. */
function snapshot(
  atUs: number,
  ticks: number,
  missed: number,
  windowTicks = Math.min(ticks, 50),
): TelemetrySnapshot {
  const ratesHz = Array.from({ length: 40 }, (_, p) => (p < 20 ? 8 : 10));
  const summary = {
    count: ticks,
    min: 1,
    mean: 20,
    p50: 10,
    p90: 30,
    p99: 50,
    p999: 80,
    p9999: 90,
    max: 100,
  };
  return {
    atUs,
    counters: { ticks, missed, overruns: 0 },
    populationRatesHz: ratesHz,
    populationSpikeCounts: ratesHz.map((rate, p) => (rate * sizes[p]! * windowTicks) / 1000),
    windowTicks,
    rateEHz: 8,
    rateIHz: 10,
    latenessUs: summary,
    computeUs: summary,
    e2eUs: summary,
    recentSpikes: [],
  };
}

const layout = layoutOf(modelParams('ei-clustered', 1000));
const sizes = populationSizes(layout);

async function startBridge() {
  const rcl = fakeRclnodejs();
  const clock = { nowUs: 1_000_000 };
  const bridge = await Ros2Bridge.start({
    api: rcl.api,
    params: loadRobotParams(TURTLEBOT3),
    rosArgs: ['--ros-args', '-r', 'scan:=/front/scan'],
    tickMs: 1,
    populationNames: populationNames(layout),
    populationSizes: sizes,
    neuronCount: layout.n,
    clockUs: () => clock.nowUs,
    latePolicy: 'skip',
  });
  return { rcl, clock, bridge };
}

const command = (values: number[]): MotorCommand => ({
  values: Float32Array.from(values),
  sourceSeq: {},
  computedUs: 0,
});

describe('Ros2Bridge through the rclnodejs API shape', () => {
  it('initialises rcl with the ROS arguments, creates spikeloop_bridge, its endpoints, a timer, then spins', async () => {
    const { rcl } = await startBridge();
    expect(rcl.initArgv()).toEqual(['spikeloop', '--ros-args', '-r', 'scan:=/front/scan']);
    expect(rcl.calls[0]).toBe('init');
    expect(rcl.calls[1]).toBe('createNode spikeloop_bridge');
    expect(rcl.calls.at(-1)).toBe('spin');
    expect(rcl.calls).toEqual(
      expect.arrayContaining([
        'createPublisher geometry_msgs/msg/Twist cmd_vel',
        'createSubscription sensor_msgs/msg/LaserScan scan',
        'createSubscription spikeloop_msgs/msg/Stimulus ~/stimulus',
        'createPublisher spikeloop_msgs/msg/PopulationActivity ~/population_activity',
        'createPublisher spikeloop_msgs/msg/LatencyReport ~/latency_report',
        'createPublisher diagnostic_msgs/msg/DiagnosticArray /diagnostics',
        'createTimer 10000000',
      ]),
    );
  });

  it('uses the sensor-data profile with keep-last 1 for sensors and reliable QoS for commands', async () => {
    const { rcl } = await startBridge();
    const scan = rcl.subscription('scan').qos;
    expect([scan.history, scan.depth, scan.reliability()]).toEqual([1, 1, 2]); // keep last 1, best effort
    const cmd = rcl.publisher('cmd_vel').qos;
    expect([cmd.history, cmd.depth, cmd.reliability()]).toEqual([1, 10, 1]); // keep last 10, reliable
    expect(Number(scan.durability)).toBe(2); // volatile
  });

  it('a LaserScan in the callback reaches the tick as sector values; a command goes out as a Twist', async () => {
    const { rcl, bridge } = await startBridge();
    const scanChannel = bridge.sensors[0]!;
    expect(scanChannel.takeLatest()).toBeNull();
    rcl.subscription('scan').callback(scanMessage(0.5));
    const sample = scanChannel.takeLatest();
    // 8 sectors over −π…π: beam 0 (straight ahead) falls in sector 4, [0, π/4).
    expect(Array.from(sample!.values)).toEqual([3.5, 3.5, 3.5, 3.5, 0.5, 3.5, 3.5, 3.5]);
    bridge.motors[0]!.write(command([0.5, -4]));
    expect(rcl.publisher('cmd_vel').published).toEqual([
      { linear: { x: 0.22, y: 0, z: 0 }, angular: { x: 0, y: 0, z: -2.84 } },
    ]);
  });

  it('the watchdog timer publishes a zero Twist when commands stop', async () => {
    const { rcl, clock, bridge } = await startBridge();
    bridge.motors[0]!.write(command([0.1, 0.2]));
    const timer = rcl.timers[0]!;
    expect(timer.periodNs).toBe(10_000_000n);
    clock.nowUs += 50_000;
    timer.callback();
    expect(rcl.publisher('cmd_vel').published).toHaveLength(1);
    clock.nowUs += 60_000;
    timer.callback();
    expect(rcl.publisher('cmd_vel').published.at(-1)).toEqual({
      linear: { x: 0, y: 0, z: 0 },
      angular: { x: 0, y: 0, z: 0 },
    });
  });

  it('telemetry snapshots become PopulationActivity, LatencyReport and DiagnosticArray at the params rate', async () => {
    const { rcl, clock, bridge } = await startBridge();
    bridge.onSnapshot(snapshot(1_000_000, 0, 0));
    bridge.onSnapshot(snapshot(1_050_000, 50, 0)); // 50 ms later: below 10 Hz, decimated
    clock.nowUs = 1_100_000;
    bridge.onSnapshot(snapshot(1_100_000, 100, 3));
    const activity = rcl.publisher('~/population_activity').published as PopulationActivityMsg[];
    expect(activity).toHaveLength(2);
    const last = activity[1]!;
    expect(last.tick).toBe(100n);
    expect(last.names.slice(0, 2)).toEqual(['E0', 'E1']);
    // Biological time of both snapshots since the previous message (the decimated one included),
    // spikes counted over it, rates derived from the counts.
    expect(last.window_s).toBeCloseTo(0.1, 6);
    expect(last.spike_counts[0]).toBe(Math.round(8 * sizes[0]! * 0.1));
    expect(last.rates_hz[0]).toBeCloseTo(8, 5);
    expect(last.header.stamp).toEqual({ sec: 1_700_000_000, nanosec: 500_000_000 });
    const latency = rcl.publisher('~/latency_report').published as LatencyReportMsg[];
    expect(latency[1]).toMatchObject({ ticks: 100n, missed: 3n, tick_ms: 1, late_policy: 'skip' });
    expect(latency[1]!.stats.map((s) => s.name)).toEqual(['tick_lateness', 'tick_compute', 'e2e']);
    const diagnostics = rcl.publisher('/diagnostics').published as DiagnosticArrayMsg[];
    const loopStatus = diagnostics[1]!.status[0]!;
    expect(loopStatus.name).toBe('spikeloop_bridge: tick deadlines');
    expect(loopStatus.level).toBe(1); // WARN: 3 new misses
    expect(loopStatus.message).toBe('3 tick deadline(s) missed since the last report');
    const scanStatus = diagnostics[1]!.status.find((s) => s.name === 'spikeloop_bridge: sensor scan')!;
    expect(scanStatus.level).toBe(3); // STALE: no scan yet
  });

  it('attachTelemetry subscribes to the live feed at the params rate and unsubscribes on close', async () => {
    const { bridge } = await startBridge();
    const intervals: number[] = [];
    let listener: ((s: TelemetrySnapshot) => void) | null = null;
    const feed = {
      subscribe: (l: (s: TelemetrySnapshot) => void, intervalMs: number) => {
        listener = l;
        intervals.push(intervalMs);
        return () => {
          listener = null;
        };
      },
    } as unknown as TelemetryFeed;
    bridge.attachTelemetry(feed, 0.1);
    expect(intervals).toEqual([100]);
    expect(listener).not.toBeNull();
    await bridge.close();
    expect(listener).toBeNull();
  });

  it('close publishes the stop command, cancels timers, destroys the node and shuts rcl down', async () => {
    const { rcl, bridge } = await startBridge();
    bridge.motors[0]!.write(command([0.1, 0.1]));
    await bridge.close();
    expect(rcl.publisher('cmd_vel').published.at(-1)).toEqual({
      linear: { x: 0, y: 0, z: 0 },
      angular: { x: 0, y: 0, z: 0 },
    } satisfies TwistMsg);
    expect(rcl.timers.every((t) => t.cancelled)).toBe(true);
    expect(rcl.calls.slice(-2)).toEqual(['destroy', 'shutdown']);
    await bridge.close(); // idempotent
    expect(rcl.calls.filter((c) => c === 'shutdown')).toHaveLength(1);
  });
});

describe('the ros2 environment', () => {
  it('wires params, codecs and the bridge: a near obstacle changes the Twist the decoders produce', async () => {
    const rcl = fakeRclnodejs();
    let nowUs = 0;
    const env = await createRos2Environment(
      {
        layout,
        tickMs: 1,
        seed: 1,
        clockUs: () => nowUs,
        settings: { robot: TURTLEBOT3, latePolicy: 'skip' },
      },
      { loadApi: async () => rcl.api, rosArgs: [] },
    );
    expect(env.name).toBe('ros2');
    expect(env.sources.map((s) => s.name)).toEqual(['scan', 'stimulus']);
    expect(env.sinks.map((s) => s.name)).toEqual(['cmd_vel']);
    rcl.subscription('scan').callback(scanMessage(0.3));
    const sample = env.sources[0]!.takeLatest()!;
    const currents = new Float32Array(layout.populationCount);
    for (const encoder of env.encoders.filter((e) => e.input === 'scan'))
      encoder.encode(sample.values, currents);
    // The obstacle straight ahead (sector 4) inhibits cluster E4, tuned to it.
    expect(currents[4]).toBeLessThan(0);
    const counts = new Uint32Array(layout.populationCount);
    counts[5] = 20; // cluster E5 (left-front) fires
    for (let k = 0; k < 100; k++) {
      nowUs += 1000;
      const values = env.decoders[0]!.decode({ counts, sizes, tickMs: 1 });
      env.sinks[0]!.write({ values, sourceSeq: { scan: sample.seq }, computedUs: nowUs });
    }
    const twists = rcl.publisher('cmd_vel').published as TwistMsg[];
    expect(twists.length).toBeGreaterThan(0);
    expect(twists.at(-1)!.angular.z).toBeGreaterThan(0); // turns left, towards E5's direction
    // A Stimulus from another node adds its currents to the chosen populations.
    rcl.subscription('~/stimulus').callback({ populations: [2, 21], currents_pa: [3, -1], duration_ms: 0 });
    const stimulus = env.sources[1]!.takeLatest()!;
    const driven = new Float32Array(layout.populationCount);
    for (const encoder of env.encoders.filter((e) => e.input === 'stimulus'))
      encoder.encode(stimulus.values, driven);
    expect([driven[2], driven[21], driven[0]]).toEqual([3, -1, 0]);
    expect(env.summary?.()).toMatchObject({ robot: 'turtlebot3', sensorMessages: 1, sensorErrors: 0 });
    await env.close();
    expect(rcl.calls.at(-1)).toBe('shutdown');
  });

  it('asks for the robot params file by name', async () => {
    const rcl = fakeRclnodejs();
    await expect(
      createRos2Environment(
        { layout, tickMs: 1, seed: 1, clockUs: () => 0 },
        { loadApi: async () => rcl.api, rosArgs: [] },
      ),
    ).rejects.toThrow('needs a robot params file: --env-set robot=FILE');
  });
});
