/**
 * The spikeloop WebSocket protocol, version 1: message shapes as they are on the wire (after
 * MessagePack decoding). docs/protocol.md is the normative description; this file mirrors it.
 * Every message is one binary WebSocket message holding one MessagePack value, a map whose key
 * `t` names the message type.
 */

export const PROTOCOL_NAME = 'spikeloop';
export const PROTOCOL_VERSION = 1;

/** simulator: sends sensor frames, receives motor frames. observer: receives telemetry (dashboards). */
export type Role = 'simulator' | 'observer';
export const ROLES: readonly Role[] = ['simulator', 'observer'];

/** Optional wire features a peer may ask for in hello; the config reply lists those granted. */
export type Feature = 'records';
export const FEATURES: readonly Feature[] = ['records'];

export interface ChannelSpec {
  /** Unique per direction, e.g. "ranges", "wheels". */
  name: string;
  /** Values per frame (float32). */
  size: number;
  /** Nominal frames per second the sender intends (informative; 0 = event driven). */
  rateHz: number;
  /**
   * Config only, for channels the bridge knows (the arena's): what the values mean. Clients do
   * not send these; the server ignores them in hello.
   */
  description?: string;
  /** Name of each value, in order. */
  components?: string[];
  /** Unit of each value, in order. */
  units?: string[];
  /** Meaningful range of each value (null: unbounded). */
  min?: (number | null)[];
  max?: (number | null)[];
  /** Range rays: direction of each value relative to the heading (rad, counter-clockwise positive). */
  anglesRad?: number[];
}

export interface HelloMessage {
  t: 'hello';
  protocol: typeof PROTOCOL_NAME;
  version: number;
  role: Role;
  /** Free text naming the client in logs. */
  name: string;
  /** Required when the server has a token (always when it is bound beyond loopback). */
  token: string | null;
  /** Simulator: the sensor channels it will send, in the order of every sensor frame's `v`. */
  sensors: ChannelSpec[];
  /** Simulator: the motor channels it accepts, in the order of every motor frame's `v`. */
  motors: ChannelSpec[];
  features: Feature[];
}

export interface ProtocolLimits {
  /** Frames larger than this are answered with a too-large error and discarded. */
  maxFrameBytes: number;
  /** Frames larger than this close the connection (1009) before they are read. */
  maxPayloadBytes: number;
  maxChannels: number;
  maxChannelValues: number;
  /** Sustained frames per second a client may send; the excess is discarded and counted. */
  maxFramesPerS: number;
}

export interface ConfigMessage {
  t: 'config';
  protocol: typeof PROTOCOL_NAME;
  version: number;
  /** Connection id in the server's logs. */
  session: number;
  role: Role;
  /** The bridge's tick period (ms): one motor frame per channel per tick at most. */
  tickMs: number;
  /** Accepted channels, in the client's order. */
  sensors: ChannelSpec[];
  motors: ChannelSpec[];
  features: Feature[];
  limits: ProtocolLimits;
  /** Observer: telemetry frames per second the server aims for. */
  telemetryHz: number;
}

export interface SensorFrame {
  t: 'sensor';
  /** Strictly increasing per connection (uint, < 2^53). */
  seq: number;
  /** Sender's clock in µs (any epoch, monotonic); echoed nowhere, kept for the sender's logs. */
  ts: number;
  /** One entry per declared sensor channel, in hello order; null = no new value this frame. */
  v: (Float32Array | null)[];
}

export interface MotorFrame {
  t: 'motor';
  /** seq of the newest sensor frame from this connection that the command reflects; -1 = none. */
  seq: number;
  /** Bridge monotonic clock (µs) when the command was computed. */
  ts: number;
  /** Bridge tick index that produced the command. */
  tick: number;
  /** One entry per declared motor channel, in hello order; null = unchanged this frame. */
  v: (Float32Array | null)[];
}

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

export interface LatencyHistogram {
  /** Upper bucket edges (µs), ascending. */
  edgesUs: Float32Array;
  counts: Uint32Array;
}

export interface ArenaView {
  /** World size (m). */
  width: number;
  height: number;
  /** Robot pose: x, y (m), heading (rad). */
  robot: Float32Array;
  robotRadius: number;
  /** Range rays: per ray angle (rad, robot frame) then measured range (m), interleaved. */
  rays: Float32Array;
  /** Targets: x, y, reach radius (m) per target. */
  targets: Float32Array;
  /** Circular obstacles: x, y, radius (m) each. */
  obstacles: Float32Array;
  /** Segment obstacles: x1, y1, x2, y2 (m) each. */
  segments: Float32Array;
  collisions: number;
  targetsReached: number;
  /** Optional: v (m/s) and ω (rad/s) the robot moved with in the last step (command after limits). */
  motion?: Float32Array;
}

export interface TelemetryFrame {
  t: 'telemetry';
  /** Bridge tick index of the snapshot. */
  tick: number;
  /** Bridge monotonic clock (µs) of the snapshot. */
  ts: number;
  tickMs: number;
  /** Population rates (Hz), E clusters then I clusters, averaged since the previous frame. */
  rates: Float32Array;
  /** Spikes since the previous frame for neurons below `neurons`: parallel arrays. */
  spikes: { step: Uint32Array; id: Uint32Array; neurons: number; dropped: number };
  latency: Record<string, LatencySummary>;
  /** Histogram of end-to-end latency since start, for the dashboard plot; may be null. */
  histogram: LatencyHistogram | null;
  /** Counters since start: e.g. sensorDropped, motorDropped, telemetryDropped, missed. */
  counters: Record<string, number>;
  arena: ArenaView | null;
}

/**
 * Optional, simulator → server, a few times per second: what the simulated world looks like, for
 * the dashboard's arena view (relayed in telemetry.arena). Not used by the loop.
 */
export interface WorldFrame {
  t: 'world';
  /** Sender's clock (µs). */
  ts: number;
  arena: ArenaView;
}

export const ERROR_CODES = [
  'malformed',
  'unknown-type',
  'version',
  'unauthorized',
  'bad-message',
  'not-ready',
  'channel',
  'invalid-value',
  'sequence',
  'too-large',
  'rate',
  'server-full',
  'hello-timeout',
  'too-many-errors',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorFrame {
  t: 'error';
  code: ErrorCode;
  message: string;
  /** True when the server closes the connection after this frame. */
  fatal: boolean;
  /** seq of the offending frame when it had one, else -1. */
  seq: number;
}

export type ServerMessage = ConfigMessage | MotorFrame | TelemetryFrame | ErrorFrame;
export type ClientMessage = HelloMessage | SensorFrame | WorldFrame;
export type Message = ServerMessage | ClientMessage;
export type MessageType = Message['t'];
export const MESSAGE_TYPES: readonly MessageType[] = [
  'hello',
  'config',
  'sensor',
  'motor',
  'telemetry',
  'error',
  'world',
];

/**
 * Record structures shared by both ends when the 'records' feature is granted (msgpackr record
 * extension): a record is one byte 0x40 + index followed by the values of these keys in order.
 */
export const SHARED_RECORDS: readonly (readonly string[])[] = [
  ['t', 'seq', 'ts', 'v'],
  ['t', 'seq', 'ts', 'tick', 'v'],
];

/** WebSocket close codes the server uses (RFC 6455 §7.4.1 plus the private range). */
export const CLOSE_CODES = {
  normal: 1000,
  going: 1001,
  protocolError: 1002,
  policy: 1008,
  tooBig: 1009,
  version: 4000,
  unauthorized: 4001,
  helloTimeout: 4002,
  tooManyErrors: 4003,
  serverFull: 4004,
} as const;
