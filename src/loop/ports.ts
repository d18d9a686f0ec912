/**
 * The small interfaces the tick loop talks to. Environments (synthetic, arena, WebSocket, ROS 2)
 * provide sensor sources and motor sinks; codecs turn samples into currents and activity into
 * commands. Nothing here blocks: the tick must never wait on I/O.
 */
import type { Decoder, Encoder } from '../codec/types.js';
import type { ArenaView } from '../io/ws/protocol.js';
import type { Layout } from '../model/network.js';
import type { TelemetryFeed } from '../telemetry/live.js';
import type { Histogram } from '../telemetry/loop-telemetry.js';
import type { SafetySettings } from './safety.js';
import type { LatePolicy } from './schedule.js';

/** Monotonic microseconds (performance.now based), the clock of every latency measurement. */
export type MonotonicUs = number;

export interface SensorSample {
  /** Numeric values of this input (e.g. laser sectors, IMU axes). */
  values: Float32Array;
  /** Source sequence number (frame sequence, message counter). */
  seq: number;
  /** When the sample arrived in this process (monotonic µs). */
  arrivalUs: MonotonicUs;
}

export interface SensorSource {
  /** Input name, unique per environment (e.g. "scan"). */
  readonly name: string;
  /** Values per sample when the source knows it up front (checked against the encoders' sizes). */
  readonly size?: number;
  /** The newest sample not yet taken, or null. Never blocks; older unread samples are dropped. */
  takeLatest(): SensorSample | null;
  /**
   * False while the source knows it cannot deliver (its simulator disconnected): the safety
   * policy (safety.ts) then treats the input as stale at once instead of after its timeout.
   */
  isLive?(): boolean;
  /**
   * Set by a loop whose tick runs on another thread (tick-thread/host.ts): sources that receive
   * samples from I/O callbacks call it after each one, so the sample crosses to the tick at once
   * instead of waiting for the next poll (up to half a tick later). It returns true when the sample
   * replaced one the tick never read (a superseded sample, for the source's counters).
   */
  onSample?: (() => boolean) | undefined;
}

/**
 * A motor command. The tick loop refills one command object per output every tick (no allocation
 * per tick, docs/tick.md): a sink or observer that keeps a command beyond its call copies it.
 */
export interface MotorCommand {
  values: Float32Array;
  /** Per input: sequence number of the newest sensor sample this command reflects. */
  sourceSeq: Record<string, number>;
  /** When the command was computed (monotonic µs). */
  computedUs: MonotonicUs;
  /**
   * Set when the stale-input policy replaced the decoded command (safety.ts): `stop` = zeros,
   * `hold` = the last command again. Sinks with their own safety stage send it without ramps.
   */
  safety?: 'stop' | 'hold';
}

export interface MotorSink {
  /** Output name, unique per environment (e.g. "cmd_vel"). */
  readonly name: string;
  /**
   * Hands the command over; must return at once (send or encode it now; a queue keeps a copy: the
   * loop reuses the object next tick).
   */
  write(command: MotorCommand): void;
}

/** What every environment factory is given (src/env/registry.ts creates environments by name). */
export interface EnvironmentOptions {
  /** The network the environment's codecs map onto (population count, cluster sizes). */
  layout: Layout;
  tickMs: number;
  seed: number;
  /** Monotonic µs, the clock of sample arrival times (performance.now based unless a test fakes it). */
  clockUs: () => number;
  /** Environment-specific settings (from the command line or a profile). */
  settings?: Readonly<Record<string, string | number | boolean>>;
  /** The run's access token (--token / $SPIKELOOP_TOKEN) for environments that accept clients. */
  token?: string;
  /** The loop's overrun policy (--late-policy), for environments that report it (ROS 2 LatencyReport). */
  latePolicy?: LatePolicy;
}

/**
 * A world the loop is closed through: its inputs and outputs plus the codecs that connect them to
 * the network. Environments are created by name from the registry in src/env.
 */
export interface Environment {
  /** Registry name (e.g. "synthetic", "arena"). */
  readonly name: string;
  readonly sources: readonly SensorSource[];
  readonly sinks: readonly MotorSink[];
  /** One per source that drives the network; `encoder.input` names a source. */
  readonly encoders: readonly Encoder[];
  /** One per sink; `decoder.output` names a sink. */
  readonly decoders: readonly Decoder[];
  /**
   * In-process simulators (the built-in arena) advance here once per tick, after the motor
   * commands are written; they must return quickly. External worlds leave it out.
   */
  step?(tickMs: number): void;
  /**
   * Staleness timeouts per input and stale policies per output (safety.ts); `--env-set` keys
   * (staleAfterMs, onStale, …) override them. Left out: the defaults (500 ms, stop).
   */
  readonly safety?: SafetySettings;
  /**
   * How the tick thread (src/loop/tick-thread/) rebuilds this environment's encoders and decoders:
   * external environments (ws, ROS 2) keep their transports on the main thread and describe their
   * codecs here; one without it keeps its tick on the main thread.
   */
  readonly codecSpec?: CodecSpec;
  /** Environment-specific results for the run summary (e.g. collisions, targetsReached). */
  summary?(): Record<string, number | string | boolean>;
  /**
   * What live consumers (the dashboard, recordings of an external world) may draw of the world;
   * left out by environments with nothing to draw (synthetic, ROS 2).
   */
  readonly view?: EnvironmentView;
  /**
   * Environments that publish the loop's telemetry themselves (the ROS 2 bridge: population
   * activity, latency reports, diagnostics) attach here like any other live consumer: once, with
   * the same LiveLoop the run's other consumers (the dashboard) get, before the first tick.
   */
  attachTelemetry?(loop: LiveLoop): void;
  /**
   * Called as soon as the loop has stopped (signal, duration, error), before the report and
   * before anything is torn down: environments with a robot send their stop command here.
   */
  halt?(reason: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * A serialisable description of an environment's codecs: the mapping (src/codec/mapping.ts) they
 * are built from, and the input (if any) whose samples are currents per population (ROS 2 Stimulus).
 */
export interface CodecSpec {
  mapping: unknown;
  stimulusInput?: string;
}

/**
 * What an environment shows live consumers of its world. Plain data only, read off the tick at the
 * consumer's own rate, so a view can be copied to another thread.
 */
export interface EnvironmentView {
  /**
   * The world now, as docs/protocol.md's ArenaView (flat float32 arrays: pose, rays, targets,
   * obstacles), or null while none is known (no simulator connected yet). An external world hands
   * back the same object until its simulator sends a new one.
   */
  world(): ArenaView | null;
}

/**
 * What a live consumer (the dashboard, the ROS 2 bridge's telemetry) may use of a running loop:
 * its feed and counters, read off the tick. Every consumer attaches through this one interface:
 * environments in `attachTelemetry`, the others in the run's `onStart`.
 */
export interface LiveLoop {
  readonly feed: TelemetryFeed;
  readonly tickMs: number;
  /** Simulation substeps per tick (dt = tickMs / substeps). */
  readonly substeps: number;
  /** Neurons of the network (spike events carry ids below this). */
  readonly neurons: number;
  /** End-to-end latency (sensor arrival → command written, µs) over the whole run so far. */
  readonly e2e: Histogram;
  /**
   * Streams spike events of instance 0 into the feed (rasters, spike publication): each
   * `streamSpikes(true)` is matched by one `streamSpikes(false)`.
   */
  streamSpikes(enabled: boolean): void;
  /** Asks the loop to stop after the current tick (a consumer that cannot go on; tests). */
  stop(): void;
}
