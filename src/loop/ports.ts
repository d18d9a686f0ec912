/**
 * The small interfaces the tick loop talks to. Environments (synthetic, arena, WebSocket, ROS 2)
 * provide sensor sources and motor sinks; codecs turn samples into currents and activity into
 * commands. Nothing here blocks: the tick must never wait on I/O.
 */

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
  /** The newest sample not yet taken, or null. Never blocks; older unread samples are dropped. */
  takeLatest(): SensorSample | null;
}

export interface MotorCommand {
  values: Float32Array;
  /** Per input: sequence number of the newest sensor sample this command reflects. */
  sourceSeq: Record<string, number>;
  /** When the command was computed (monotonic µs). */
  computedUs: MonotonicUs;
}

export interface MotorSink {
  /** Output name, unique per environment (e.g. "cmd_vel"). */
  readonly name: string;
  /** Hands the command over; must return at once (queue or send without waiting). */
  write(command: MotorCommand): void;
}
