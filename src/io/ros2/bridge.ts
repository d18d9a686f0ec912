/**
 * The `spikeloop_bridge` ROS 2 node on rclnodejs: subscriptions feed SensorChannels, MotorChannels
 * publish commands, a watchdog timer publishes stop commands, and telemetry snapshots become
 * PopulationActivity, LatencyReport, SpikeBatch and DiagnosticArray messages. Everything goes through
 * RclApi (rclnodejs's own types), so a fake of that shape drives it in tests.
 *
 * Topic names are used as written in the params file; rcl applies --ros-args remappings
 * (`-r scan:=/front/scan`, `-r __node:=name`, `-r __ns:=/robot1`) given to init.
 */
import type { MotorCommand } from '../../loop/ports.js';
import type { TelemetryFeed, TelemetrySnapshot } from '../../telemetry/live.js';
import { MotorChannel, SensorChannel, StimulusChannel } from './channels.js';
import {
  DIAGNOSTIC_ARRAY_TYPE,
  MotorMessageType,
  SensorMessageType,
  type TimeMsg,
  timeFromNs,
  timeToUs,
} from './messages.js';
import type { QosSettings, RobotParams } from './params.js';
import { TELEMETRY_QOS } from './params.js';
import type {
  RclApi,
  RclNode,
  RclPublisher,
  RclQos,
  RclSubscription,
  RclTimer,
  RclTypeClass,
} from './rcl-api.js';
import { SpikeloopMessageType } from './spikeloop-msgs.js';
import {
  diagnosticsMessage,
  latencyReportMessage,
  populationActivityMessage,
  spikeBatchMessage,
} from './telemetry-msgs.js';

export interface BridgeOptions {
  api: RclApi;
  params: RobotParams;
  /** ROS arguments for rcl (from `--ros-args` on): remappings, node name, namespace, log level. */
  rosArgs: string[];
  tickMs: number;
  /** Population names and sizes (E clusters, then I clusters). */
  populationNames: readonly string[];
  populationSizes: Uint32Array;
  neuronCount: number;
  clockUs: () => number;
  latePolicy?: string;
  /** Diagnostic lines (default: stderr). */
  log?: (message: string) => void;
}

export class Ros2Bridge {
  readonly sensors: SensorChannel[];
  readonly motors: MotorChannel[];
  readonly stimulus: StimulusChannel;
  private readonly publishers: RclPublisher[] = [];
  private readonly timers: RclTimer[] = [];
  private readonly sensorSubscriptions: RclSubscription[] = [];
  private activityPublisher: RclPublisher | null = null;
  private latencyPublisher: RclPublisher | null = null;
  private diagnosticsPublisher: RclPublisher | null = null;
  private spikesPublisher: RclPublisher | null = null;
  private unsubscribe: (() => void) | null = null;
  private lastTelemetryUs = Number.NEGATIVE_INFINITY;
  /** Counted spikes and ticks since the last PopulationActivity (snapshots may come faster). */
  private windowCounts: Float64Array;
  private windowTicks = 0;
  private previousMissed = 0;
  private halted = false;
  private dtMs = 0.1;
  private closed = false;

  private constructor(
    private readonly options: BridgeOptions,
    readonly node: RclNode,
  ) {
    const { params, clockUs, tickMs } = options;
    this.windowCounts = new Float64Array(options.populationSizes.length);
    const log = (message: string) => setImmediate(() => this.log(message));
    this.sensors = params.sensors.map((s) => new SensorChannel(s, clockUs, undefined, log));
    this.motors = params.motors.map((m) => {
      const publisher = node.createPublisher(typeClass(MotorMessageType[m.conversion.kind]), m.topic, {
        qos: qosOf(options.api, m.qos),
      });
      this.publishers.push(publisher);
      return new MotorChannel(
        m,
        (message) => publisher.publish(message),
        clockUs,
        tickMs,
        params.watchdog,
        (command) => this.commandStamp(command),
      );
    });
    this.stimulus = new StimulusChannel(options.populationSizes.length, clockUs);
  }

  /** Initialises rcl, creates the node and its endpoints, and starts spinning. */
  static async start(options: BridgeOptions): Promise<Ros2Bridge> {
    const { api, params } = options;
    // rcl parses everything after --ros-args; the leading entry stands for the program name.
    await api.init(undefined, ['spikeloop', ...options.rosArgs]);
    let node: RclNode | null = null;
    try {
      node = api.createNode(params.nodeName, params.namespace);
      const bridge = new Ros2Bridge(options, node);
      bridge.createEndpoints();
      node.spin();
      return bridge;
    } catch (error) {
      node?.destroy();
      if (!api.isShutdown()) api.shutdown();
      throw error;
    }
  }

  private createEndpoints(): void {
    const { api, params } = this.options;
    params.sensors.forEach((sensor, i) => {
      const channel = this.sensors[i]!;
      const subscription = this.node.createSubscription(
        typeClass(SensorMessageType[sensor.conversion.kind]),
        sensor.topic,
        { qos: qosOf(api, sensor.qos) },
        (message: unknown) => channel.receive(message),
      );
      this.sensorSubscriptions.push(subscription);
    });
    this.node.createSubscription(
      typeClass(SpikeloopMessageType.stimulus),
      params.telemetry.stimulusTopic,
      { qos: qosOf(api, TELEMETRY_QOS) },
      (message: unknown) => this.stimulus.receive(message),
    );
    const telemetryQos = { qos: qosOf(api, TELEMETRY_QOS) };
    this.activityPublisher = this.node.createPublisher(
      typeClass(SpikeloopMessageType.populationActivity),
      params.telemetry.activityTopic,
      telemetryQos,
    );
    this.latencyPublisher = this.node.createPublisher(
      typeClass(SpikeloopMessageType.latencyReport),
      params.telemetry.latencyTopic,
      telemetryQos,
    );
    this.diagnosticsPublisher = this.node.createPublisher(
      typeClass(DIAGNOSTIC_ARRAY_TYPE),
      params.telemetry.diagnosticsTopic,
      telemetryQos,
    );
    if (params.telemetry.spikesTopic !== '') {
      this.spikesPublisher = this.node.createPublisher(
        typeClass(SpikeloopMessageType.spikeBatch),
        params.telemetry.spikesTopic,
        telemetryQos,
      );
    }
    // The watchdog runs on the executor, not on the tick: it must fire precisely when ticks stop.
    const periodNs = BigInt(Math.round(params.watchdog.checkPeriodMs * 1e6));
    this.timers.push(
      this.node.createTimer(periodNs, () => {
        const nowUs = this.options.clockUs();
        for (const motor of this.motors) motor.checkWatchdog(nowUs);
      }),
    );
    // Publishers of another type on a sensor topic never connect: look at the graph once a second.
    const node = this.node;
    if (node.getTopicNamesAndTypes) {
      this.timers.push(
        node.createTimer(1_000_000_000n, () => {
          const topics = node.getTopicNamesAndTypes!();
          this.sensorSubscriptions.forEach((subscription, i) => {
            const entry = topics.find((t) => t.name === subscription.topic);
            if (entry) this.sensors[i]!.checkTopicTypes(entry.types);
          });
        }),
      );
    }
  }

  /**
   * TwistStamped header time: the newest header stamp among the sensor messages this command
   * reflects (their seq is in the command); ROS time now when none carries a stamp (stop commands).
   */
  private commandStamp(command: MotorCommand | null): TimeMsg {
    let newest: TimeMsg | null = null;
    if (command) {
      for (const sensor of this.sensors) {
        const stamp = sensor.lastTakenStamp;
        if (stamp === null || command.sourceSeq[sensor.name] !== sensor.lastTakenSeq) continue;
        if (newest === null || timeToUs(stamp) > timeToUs(newest)) newest = stamp;
      }
    }
    return newest ?? this.stamp();
  }

  /** True when spike events should be streamed into the telemetry feed. */
  get wantsSpikes(): boolean {
    return this.spikesPublisher !== null;
  }

  /** Publishes telemetry from the loop's live feed at the params file's rate; dtMs labels spike batches. */
  attachTelemetry(feed: TelemetryFeed, dtMs: number): void {
    this.dtMs = dtMs;
    this.unsubscribe?.();
    // The feed's interval is its first subscriber's; onSnapshot decimates a faster one to our rate.
    this.unsubscribe = feed.subscribe(
      (snapshot) => this.onSnapshot(snapshot),
      1000 / this.options.params.telemetry.rateHz,
    );
  }

  /** Publishes one snapshot's messages if the telemetry period has passed (public for tests). */
  onSnapshot(snapshot: TelemetrySnapshot): void {
    if (this.closed || this.halted) return;
    const { options } = this;
    // Spikes are counted over the whole window even when snapshots come faster than we publish.
    const windowTicks = snapshot.windowTicks ?? 0;
    const counts =
      snapshot.populationSpikeCounts ??
      snapshot.populationRatesHz.map(
        (rate, p) => (rate * options.populationSizes[p]! * windowTicks * options.tickMs) / 1000,
      );
    for (let p = 0; p < this.windowCounts.length; p++) this.windowCounts[p]! += counts[p] ?? 0;
    this.windowTicks += windowTicks;
    const periodUs = 1e6 / this.options.params.telemetry.rateHz;
    // Feeds shared with a faster consumer (the dashboard) are decimated to this rate.
    if (snapshot.atUs - this.lastTelemetryUs < periodUs * 0.9) return;
    this.lastTelemetryUs = snapshot.atUs;
    const stamp = this.stamp();
    this.activityPublisher?.publish(
      populationActivityMessage(
        snapshot.counters.ticks,
        options.populationNames,
        options.populationSizes,
        this.windowCounts,
        this.windowTicks,
        options.tickMs,
        stamp,
      ),
    );
    this.windowCounts.fill(0);
    this.windowTicks = 0;
    this.latencyPublisher?.publish(
      latencyReportMessage(snapshot, options.tickMs, options.latePolicy ?? '', stamp),
    );
    if (this.spikesPublisher) {
      const batch = spikeBatchMessage(snapshot, this.dtMs, options.neuronCount, stamp);
      if (batch) this.spikesPublisher.publish(batch);
    }
    const nowUs = options.clockUs();
    this.diagnosticsPublisher?.publish(
      diagnosticsMessage({
        nodeName: this.node.name(),
        snapshot,
        tickMs: options.tickMs,
        previousMissed: this.previousMissed,
        sensors: this.sensors.map((s) => ({
          name: s.name,
          topic: s.params.topic,
          stats: s.stats,
          stale: s.isStale(nowUs),
        })),
        motors: this.motors.map((m) => ({
          name: m.name,
          topic: m.params.topic,
          stats: m.stats,
          tripped: m.watchdog.state,
        })),
        stamp,
      }),
    );
    this.previousMissed = snapshot.counters.missed;
  }

  /**
   * Publishes every motor's stop command once, first thing at shutdown (signal, end of run,
   * error), while rcl is still up; later writes are ignored.
   */
  halt(reason: string): void {
    if (this.halted) return;
    this.halted = true;
    const nowUs = this.options.clockUs();
    for (const motor of this.motors) {
      try {
        motor.halt(nowUs);
      } catch (error) {
        this.log(
          `stop command on ${motor.params.topic} (${reason}) failed: ${error instanceof Error ? error.message : error}`,
        );
      }
    }
  }

  /** Publishes stop commands (unless halt did), then tears the node down and shuts rcl down. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.halt('shutdown');
    this.closed = true;
    this.unsubscribe?.();
    for (const timer of this.timers) timer.cancel();
    this.node.destroy();
    if (!this.options.api.isShutdown()) this.options.api.shutdown();
  }

  private stamp(): TimeMsg {
    return timeFromNs(this.node.now().nanoseconds);
  }

  private log(message: string): void {
    (this.options.log ?? ((m: string) => console.error(`spikeloop: ${m}`)))(message);
  }
}

/** Type names are plain strings at run time; rclnodejs's typings narrow them to generated names. */
function typeClass(name: string): RclTypeClass {
  return name as RclTypeClass;
}

function qosOf(api: RclApi, settings: QosSettings): RclQos {
  const { HistoryPolicy, ReliabilityPolicy } = api.QoS;
  const qos = new api.QoS(
    HistoryPolicy.RMW_QOS_POLICY_HISTORY_KEEP_LAST,
    settings.depth,
    settings.reliability === 'reliable'
      ? ReliabilityPolicy.RMW_QOS_POLICY_RELIABILITY_RELIABLE
      : ReliabilityPolicy.RMW_QOS_POLICY_RELIABILITY_BEST_EFFORT,
  );
  qos.durability =
    settings.durability === 'transient_local'
      ? api.QoS.DurabilityPolicy.RMW_QOS_POLICY_DURABILITY_TRANSIENT_LOCAL
      : api.QoS.DurabilityPolicy.RMW_QOS_POLICY_DURABILITY_VOLATILE;
  return qos;
}
