/**
 * The loop-facing ends of the bridge, independent of rclnodejs: a SensorChannel is a SensorSource
 * fed by a subscription callback, a MotorChannel is a MotorSink that publishes through a function.
 *
 * Callbacks only store: the subscription callback keeps the newest message with its arrival time
 * and a sequence number (older unread messages are simply replaced), and the conversion runs when
 * the tick takes the sample. The executor thus never waits on the tick, nor the tick on it.
 */
import type { Encoder } from '../../codec/types.js';
import type { MotorCommand, MotorSink, SensorSample, SensorSource } from '../../loop/ports.js';
import { SensorMessageType, type TimeMsg, timeToUs } from './messages.js';
import { type MotorMessage, motorMessage, motorValueCount } from './motors.js';
import type { MotorParams, SensorParams } from './params.js';
import { CommandLimiter, Watchdog, type WatchdogOptions, type WatchdogReason } from './safety.js';
import { convertSensor, sensorValueCount } from './sensors.js';

function sensorTypeName(kind: SensorParams['conversion']['kind']): string {
  return SensorMessageType[kind];
}

export interface SensorStats {
  received: number;
  /** Samples handed to the tick. */
  taken: number;
  /** Messages that could not be converted (the last good values stayed in use). */
  errors: number;
  lastError: string | null;
  /** Monotonic µs of the newest message, or null before the first. */
  lastArrivalUs: number | null;
  /**
   * Header stamp → arrival in this process (µs) of the newest stamped message: how long the
   * middleware and rclnodejs's executor took to deliver it. Meaningful when the publisher stamps
   * with this host's system clock; null when messages carry no stamp.
   */
  deliveryUs: number | null;
  maxDeliveryUs: number;
}

export class SensorChannel implements SensorSource {
  readonly name: string;
  readonly size: number;
  readonly stats: SensorStats = {
    received: 0,
    taken: 0,
    errors: 0,
    lastError: null,
    lastArrivalUs: null,
    deliveryUs: null,
    maxDeliveryUs: 0,
  };
  private pending: unknown = null;
  private pendingArrivalUs = 0;
  private seq = 0;
  private lastGood: Float32Array | null = null;
  /** While messages fail to convert: logged once on entry, quiet until one converts again. */
  private failing = false;
  private readonly reportedTypes = new Set<string>();
  /** The sample seq and header stamp of the newest converted message (TwistStamped headers). */
  lastTakenSeq = -1;
  lastTakenStamp: TimeMsg | null = null;

  constructor(
    readonly params: SensorParams,
    private readonly clockUs: () => number,
    /** Wall-clock µs since the epoch at monotonic time `monotonicUs` (to compare header stamps). */
    private readonly wallUsAt: (monotonicUs: number) => number = (us) => performance.timeOrigin * 1000 + us,
    /** One line per incident (default: stderr, off the tick). */
    private readonly log: (message: string) => void = (message) =>
      setImmediate(() => console.error(`spikeloop: ${message}`)),
  ) {
    this.name = params.name;
    this.size = sensorValueCount(params.conversion);
  }

  /** Subscription callback: store the newest message and when it came, nothing else. */
  onSample: (() => boolean) | undefined = undefined;

  receive(message: unknown): void {
    this.pending = message;
    this.pendingArrivalUs = this.clockUs();
    this.seq++;
    this.stats.received++;
    this.onSample?.();
  }

  takeLatest(): SensorSample | null {
    const message = this.pending;
    if (message === null) return null;
    this.pending = null;
    const arrivalUs = this.pendingArrivalUs;
    this.stats.lastArrivalUs = arrivalUs;
    const values = new Float32Array(this.size);
    try {
      convertSensor(this.params.conversion, this.params.topic, message, values);
    } catch (error) {
      this.stats.errors++;
      this.stats.lastError = error instanceof Error ? error.message : String(error);
      if (!this.failing) {
        this.failing = true;
        this.log(
          `sensor ${this.name}: ${this.stats.lastError}; message ignored (logged once until one converts)`,
        );
      }
      // No new sample: the loop keeps encoding the last good one, and the input goes stale.
      return null;
    }
    this.failing = false;
    this.noteDelivery(message, arrivalUs);
    this.lastGood = values;
    this.stats.taken++;
    this.lastTakenSeq = this.seq;
    const stamp = (message as { header?: { stamp?: TimeMsg } }).header?.stamp;
    this.lastTakenStamp = stamp && (stamp.sec !== 0 || stamp.nanosec !== 0) ? stamp : null;
    return { values, seq: this.seq, arrivalUs };
  }

  /**
   * The graph's types on this sensor's topic: a publisher of another type never connects to the
   * subscription (DDS matches types), so without this check its messages vanish without a word.
   * Logs each foreign type once.
   */
  checkTopicTypes(types: readonly string[]): void {
    const expected = this.params.conversion.kind;
    for (const type of types) {
      if (type === sensorTypeName(expected) || this.reportedTypes.has(type)) continue;
      this.reportedTypes.add(type);
      this.stats.errors++;
      this.stats.lastError = `${this.params.topic} carries ${type}, expected ${sensorTypeName(expected)}`;
      this.log(`sensor ${this.name}: ${this.stats.lastError}; those messages are not received`);
    }
  }

  /** The values of the newest message that converted, or null before the first. */
  get lastGoodValues(): Float32Array | null {
    return this.lastGood;
  }

  /** True when no message arrived for longer than staleAfterMs (or none at all). */
  isStale(nowUs: number): boolean {
    const last = this.pending !== null ? this.pendingArrivalUs : this.stats.lastArrivalUs;
    return last === null || nowUs - last > this.params.staleAfterMs * 1000;
  }

  private noteDelivery(message: unknown, arrivalUs: number): void {
    const header = (message as { header?: { stamp?: { sec: number; nanosec: number } } }).header;
    const stamp = header?.stamp;
    if (!stamp || (stamp.sec === 0 && stamp.nanosec === 0)) return;
    const deliveryUs = this.wallUsAt(arrivalUs) - timeToUs(stamp);
    this.stats.deliveryUs = deliveryUs;
    if (deliveryUs > this.stats.maxDeliveryUs) this.stats.maxDeliveryUs = deliveryUs;
  }
}

export interface MotorStats {
  written: number;
  published: number;
  /** Commands not published because the publication rate cap had not elapsed. */
  throttled: number;
  /** Commands rejected (wrong length, non-finite values). */
  rejected: number;
  lastError: string | null;
  /** Stop commands published by the watchdog. */
  stops: number;
  lastStop: WatchdogReason | null;
  /** Stop or hold commands sent for stale inputs (loop/safety.ts). */
  staleCommands: number;
}

export class MotorChannel implements MotorSink {
  readonly name: string;
  readonly size: number;
  readonly stats: MotorStats = {
    written: 0,
    published: 0,
    throttled: 0,
    rejected: 0,
    lastError: null,
    stops: 0,
    lastStop: null,
    staleCommands: 0,
  };
  readonly watchdog: Watchdog;
  /** After halt(): the stop went out at shutdown; nothing else is published. */
  private halted = false;
  /** The previous write was a stale-policy stop (the next one need not bypass the rate cap). */
  private stoppedForStale = false;
  private readonly limiter: CommandLimiter;
  private readonly limited: Float64Array;
  private readonly lastPublished: Float64Array;
  private hasPublished = false;
  private lastPublishUs = Number.NEGATIVE_INFINITY;
  private lastWriteUs: number | null = null;
  private readonly minPublishGapUs: number;

  constructor(
    readonly params: MotorParams,
    private readonly publish: (message: MotorMessage) => void,
    private readonly clockUs: () => number,
    /** The loop's tick: writes further apart than tick + maxLateness mean the loop overran. */
    private readonly tickMs: number,
    watchdog: WatchdogOptions,
    /** Header stamp for a command (TwistStamped): the newest sensor stamp it reflects. */
    private readonly stampOf: (command: MotorCommand | null) => TimeMsg = () => ({ sec: 0, nanosec: 0 }),
  ) {
    this.name = params.name;
    this.size = motorValueCount(params.conversion);
    this.limiter = new CommandLimiter(params.limits);
    this.limited = new Float64Array(this.size);
    this.lastPublished = new Float64Array(this.size);
    this.watchdog = new Watchdog(watchdog);
    this.minPublishGapUs = 1e6 / params.maxPublishHz;
  }

  write(command: MotorCommand): void {
    if (this.halted) return;
    const nowUs = this.clockUs();
    this.stats.written++;
    // The sink sees no schedule, but a gap between consecutive writes beyond one tick is how late
    // this tick's write came.
    const latenessUs = this.lastWriteUs === null ? 0 : nowUs - this.lastWriteUs - this.tickMs * 1000;
    this.lastWriteUs = nowUs;
    const values = command.values;
    if (values.length !== this.size) {
      this.reject(`${this.params.topic}: command has ${values.length} values, expected ${this.size}`);
      return;
    }
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i])) {
        this.reject(`${this.params.topic}: command value ${i} is ${values[i]}; kept the last command`);
        return;
      }
    }
    const decision = this.watchdog.onCommand(nowUs, latenessUs);
    if (decision === 'stop') {
      this.publishStop('overrun', nowUs);
      return;
    }
    if (decision === 'none') return;
    if (command.safety !== undefined) {
      this.writeSafe(command, nowUs);
      return;
    }
    if (nowUs - this.lastPublishUs < this.minPublishGapUs) {
      this.stats.throttled++;
      return;
    }
    this.stoppedForStale = false;
    this.limiter.apply(values, nowUs, this.limited);
    this.send(this.limited, nowUs, command);
  }

  /**
   * A stale-input command from the loop's safety policy: `stop` sends this channel's stop command
   * at once (no rate limit to ramp through, no publication cap for the first one), `hold` repeats
   * the last published command; both are repeated at most maxPublishHz while the state lasts.
   */
  private writeSafe(command: MotorCommand, nowUs: number): void {
    const first = !this.stoppedForStale;
    if (!first && nowUs - this.lastPublishUs < this.minPublishGapUs) {
      this.stats.throttled++;
      return;
    }
    this.stoppedForStale = true;
    if (command.safety === 'hold' || this.params.onStop === 'hold') {
      if (!this.hasPublished) return;
      this.send(Float64Array.from(this.lastPublished), nowUs, null);
    } else {
      this.send(new Float64Array(this.size), nowUs, null);
    }
    this.limiter.resetTo(this.lastPublished, nowUs);
    this.stats.staleCommands++;
  }

  /** Publishes the stop command once and ignores every later write (shutdown: stop first). */
  halt(nowUs: number): void {
    if (this.halted) return;
    this.publishStop('shutdown', nowUs);
    this.halted = true;
  }

  /** Periodic watchdog check (a timer on the executor, independent of the tick). */
  checkWatchdog(nowUs: number): void {
    const reason = this.watchdog.check(nowUs);
    if (reason !== null) this.publishStop(reason, nowUs);
  }

  /** Publishes the stop command now (shutdown, watchdog). */
  publishStop(reason: WatchdogReason | 'shutdown', nowUs: number): void {
    if (this.halted) return;
    if (this.params.onStop === 'hold') {
      // Position interfaces: re-sending the last command holds the pose; nothing sent yet → nothing to hold.
      if (!this.hasPublished) return;
      this.send(Float64Array.from(this.lastPublished), nowUs, null);
    } else {
      this.send(new Float64Array(this.size), nowUs, null);
    }
    this.limiter.resetTo(this.lastPublished, nowUs);
    this.stats.stops++;
    this.stats.lastStop = reason === 'shutdown' ? this.stats.lastStop : reason;
  }

  private send(values: Float64Array, nowUs: number, command: MotorCommand | null): void {
    const message = motorMessage(this.params.conversion, this.params.topic, values, this.stampOf(command));
    this.publish(message);
    this.lastPublished.set(values);
    this.hasPublished = true;
    this.lastPublishUs = nowUs;
    this.stats.published++;
  }

  private reject(message: string): void {
    this.stats.rejected++;
    this.stats.lastError = message;
  }
}

/**
 * The stimulus input: spikeloop_msgs/Stimulus messages from other nodes become a current vector
 * over all populations, held for duration_ms (0 = until replaced), then back to zeros.
 */
export class StimulusChannel implements SensorSource {
  readonly name = 'stimulus';
  private pending: unknown = null;
  private pendingArrivalUs = 0;
  private seq = 0;
  private activeUntilUs = Number.POSITIVE_INFINITY;
  private active = false;
  received = 0;
  errors = 0;
  lastError: string | null = null;

  constructor(
    readonly populationCount: number,
    private readonly clockUs: () => number,
  ) {}

  onSample: (() => boolean) | undefined = undefined;

  receive(message: unknown): void {
    this.pending = message;
    this.pendingArrivalUs = this.clockUs();
    this.seq++;
    this.received++;
    this.onSample?.();
  }

  takeLatest(): SensorSample | null {
    const message = this.pending;
    if (message !== null) {
      this.pending = null;
      try {
        const { values, durationMs } = stimulusCurrents(message, this.populationCount);
        this.active = true;
        this.activeUntilUs =
          durationMs > 0 ? this.pendingArrivalUs + durationMs * 1000 : Number.POSITIVE_INFINITY;
        return { values, seq: this.seq, arrivalUs: this.pendingArrivalUs };
      } catch (error) {
        this.errors++;
        this.lastError = error instanceof Error ? error.message : String(error);
        return null;
      }
    }
    const nowUs = this.clockUs();
    if (this.active && nowUs >= this.activeUntilUs) {
      this.active = false;
      return { values: new Float32Array(this.populationCount), seq: this.seq, arrivalUs: nowUs };
    }
    return null;
  }
}

/** Adds the stimulus currents (one value per population, pA) as they are: no mapping needed. */
export class StimulusEncoder implements Encoder {
  readonly input = 'stimulus';

  encode(values: Float32Array, currentsPa: Float32Array): void {
    if (values.length !== currentsPa.length) {
      throw new Error(`stimulus: ${values.length} currents for ${currentsPa.length} populations`);
    }
    for (let p = 0; p < values.length; p++) currentsPa[p]! += values[p]!;
  }
}

/** Stimulus message → per-population currents (pA); throws naming the bad field. */
export function stimulusCurrents(
  message: unknown,
  populationCount: number,
): { values: Float32Array; durationMs: number } {
  const m = message as {
    populations?: ArrayLike<number>;
    currents_pa?: ArrayLike<number>;
    duration_ms?: number;
  };
  const populations = m.populations;
  const currents = m.currents_pa;
  if (!populations || !currents) throw new Error('stimulus: populations and currents_pa are required');
  if (currents.length !== populations.length) {
    throw new Error(
      `stimulus: currents_pa has ${currents.length} values for ${populations.length} populations`,
    );
  }
  const durationMs = m.duration_ms ?? 0;
  if (!Number.isFinite(durationMs) || durationMs < 0) {
    throw new Error(`stimulus: duration_ms must be ≥ 0, got ${durationMs}`);
  }
  const values = new Float32Array(populationCount);
  for (let i = 0; i < populations.length; i++) {
    const p = populations[i]!;
    if (!Number.isInteger(p) || p < 0 || p >= populationCount) {
      throw new Error(`stimulus: populations[${i}] = ${p} is outside [0, ${populationCount})`);
    }
    const current = currents[i]!;
    if (!Number.isFinite(current)) throw new Error(`stimulus: currents_pa[${i}] is ${current}`);
    values[p] = values[p]! + current;
  }
  return { values, durationMs };
}
