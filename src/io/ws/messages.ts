/**
 * Protocol messages ⇄ MessagePack values: typed arrays become `bin` (little-endian), and back.
 * Used by both ends in this repository (the bridge, the arena client, the benchmark, the tests).
 */
import { ProtocolError } from './errors.js';
import type {
  ArenaView,
  ChannelSpec,
  ConfigMessage,
  ErrorFrame,
  HelloMessage,
  LatencyHistogram,
  LatencySummary,
  MotorFrame,
  SensorFrame,
  ServerMessage,
  TelemetryFrame,
  WorldFrame,
} from './protocol.js';
import { bytesOf, float32FromBytes, uint32FromBytes, type WireCodec, type WireValue } from './wire.js';

type WireMap = { [key: string]: WireValue };

function channelBins(values: readonly (Float32Array | null)[]): WireValue[] {
  return values.map((entry) => (entry === null ? null : bytesOf(entry)));
}

export function encodeHello(codec: WireCodec, hello: HelloMessage): Buffer {
  return codec.encode({
    t: 'hello',
    protocol: hello.protocol,
    version: hello.version,
    role: hello.role,
    name: hello.name,
    token: hello.token,
    sensors: hello.sensors.map((c) => ({ name: c.name, size: c.size, rateHz: c.rateHz })),
    motors: hello.motors.map((c) => ({ name: c.name, size: c.size, rateHz: c.rateHz })),
    features: [...hello.features],
  });
}

/** Key order matters: it is the shared record structure 0x40 when 'records' is granted. */
export function encodeSensorFrame(codec: WireCodec, frame: SensorFrame): Buffer {
  return codec.encode({ t: 'sensor', seq: frame.seq, ts: frame.ts, v: channelBins(frame.v) });
}

/** Key order matters: it is the shared record structure 0x41 when 'records' is granted. */
export function encodeMotorFrame(codec: WireCodec, frame: MotorFrame): Buffer {
  return codec.encode({
    t: 'motor',
    seq: frame.seq,
    ts: frame.ts,
    tick: frame.tick,
    v: channelBins(frame.v),
  });
}

function arenaWire(arena: ArenaView): WireMap {
  return {
    width: arena.width,
    height: arena.height,
    robot: bytesOf(arena.robot),
    robotRadius: arena.robotRadius,
    rays: bytesOf(arena.rays),
    targets: bytesOf(arena.targets),
    obstacles: bytesOf(arena.obstacles),
    segments: bytesOf(arena.segments),
    collisions: arena.collisions,
    targetsReached: arena.targetsReached,
    ...(arena.motion ? { motion: bytesOf(arena.motion) } : {}),
  };
}

export function encodeWorldFrame(codec: WireCodec, frame: WorldFrame): Buffer {
  return codec.encode({ t: 'world', ts: frame.ts, arena: arenaWire(frame.arena) });
}

/** A world frame from a simulator; every coordinate must be finite (it is drawn). */
export function parseWorldFrame(value: unknown): WorldFrame {
  const m = fields(value, 'world');
  const ts = num(m.ts, 'world.ts');
  const arena = decodeArena(m.arena);
  if (arena === null) throw new ProtocolError('bad-message', 'world.arena must be a map');
  for (const [key, entry] of Object.entries(arena)) {
    const values = typeof entry === 'number' ? [entry] : (entry as Float32Array);
    if (!values.every(Number.isFinite))
      throw new ProtocolError('invalid-value', `world.arena.${key} must be finite`);
  }
  if (!Number.isFinite(ts)) throw new ProtocolError('invalid-value', 'world.ts must be finite');
  return { t: 'world', ts, arena };
}

export function encodeTelemetryFrame(codec: WireCodec, frame: TelemetryFrame): Buffer {
  const latency: WireMap = {};
  for (const [name, summary] of Object.entries(frame.latency)) latency[name] = { ...summary };
  return codec.encode({
    t: 'telemetry',
    tick: frame.tick,
    ts: frame.ts,
    tickMs: frame.tickMs,
    rates: bytesOf(frame.rates),
    spikes: {
      step: bytesOf(frame.spikes.step),
      id: bytesOf(frame.spikes.id),
      neurons: frame.spikes.neurons,
      dropped: frame.spikes.dropped,
    },
    latency,
    histogram:
      frame.histogram === null
        ? null
        : { edgesUs: bytesOf(frame.histogram.edgesUs), counts: bytesOf(frame.histogram.counts) },
    counters: { ...frame.counters },
    arena: frame.arena === null ? null : arenaWire(frame.arena),
  });
}

// ---- decoding on the client side: the server is trusted to follow the protocol, but a wrong
// server (or version) must still fail with a clear message, not a TypeError deep inside a client.

function fields(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError('bad-message', `${what} must be a map`);
  }
  return value as Record<string, unknown>;
}

function f32(value: unknown, what: string): Float32Array {
  if (!(value instanceof Uint8Array) || value.byteLength % 4 !== 0) {
    throw new ProtocolError('bad-message', `${what} must be a bin of float32`);
  }
  return float32FromBytes(value);
}

function u32(value: unknown, what: string): Uint32Array {
  if (!(value instanceof Uint8Array) || value.byteLength % 4 !== 0) {
    throw new ProtocolError('bad-message', `${what} must be a bin of uint32`);
  }
  return uint32FromBytes(value);
}

function num(value: unknown, what: string): number {
  if (typeof value !== 'number') throw new ProtocolError('bad-message', `${what} must be a number`);
  return value;
}

export function decodeArena(value: unknown): ArenaView | null {
  if (value === null || value === undefined) return null;
  const a = fields(value, 'telemetry.arena');
  return {
    width: num(a.width, 'arena.width'),
    height: num(a.height, 'arena.height'),
    robot: f32(a.robot, 'arena.robot'),
    robotRadius: num(a.robotRadius, 'arena.robotRadius'),
    rays: f32(a.rays, 'arena.rays'),
    targets: f32(a.targets, 'arena.targets'),
    obstacles: f32(a.obstacles, 'arena.obstacles'),
    segments: f32(a.segments, 'arena.segments'),
    collisions: num(a.collisions, 'arena.collisions'),
    targetsReached: num(a.targetsReached, 'arena.targetsReached'),
    ...(a.motion !== undefined && a.motion !== null ? { motion: f32(a.motion, 'arena.motion') } : {}),
  };
}

function decodeTelemetry(m: Record<string, unknown>): TelemetryFrame {
  const spikes = fields(m.spikes, 'telemetry.spikes');
  const latency: Record<string, LatencySummary> = {};
  for (const [name, summary] of Object.entries(fields(m.latency ?? {}, 'telemetry.latency'))) {
    latency[name] = summary as LatencySummary;
  }
  let histogram: LatencyHistogram | null = null;
  if (m.histogram !== null && m.histogram !== undefined) {
    const h = fields(m.histogram, 'telemetry.histogram');
    histogram = { edgesUs: f32(h.edgesUs, 'histogram.edgesUs'), counts: u32(h.counts, 'histogram.counts') };
  }
  return {
    t: 'telemetry',
    tick: num(m.tick, 'telemetry.tick'),
    ts: num(m.ts, 'telemetry.ts'),
    tickMs: num(m.tickMs, 'telemetry.tickMs'),
    rates: f32(m.rates, 'telemetry.rates'),
    spikes: {
      step: u32(spikes.step, 'spikes.step'),
      id: u32(spikes.id, 'spikes.id'),
      neurons: num(spikes.neurons, 'spikes.neurons'),
      dropped: num(spikes.dropped ?? 0, 'spikes.dropped'),
    },
    latency,
    histogram,
    counters: fields(m.counters ?? {}, 'telemetry.counters') as Record<string, number>,
    arena: decodeArena(m.arena),
  };
}

/** A decoded server message with bins turned back into typed arrays. */
export function parseServerMessage(value: unknown): ServerMessage {
  const m = fields(value, 'message');
  switch (m.t) {
    case 'config':
      return m as unknown as ConfigMessage;
    case 'error':
      return m as unknown as ErrorFrame;
    case 'motor': {
      if (!Array.isArray(m.v)) throw new ProtocolError('bad-message', 'motor.v must be an array');
      return {
        t: 'motor',
        seq: num(m.seq, 'motor.seq'),
        ts: num(m.ts, 'motor.ts'),
        tick: num(m.tick, 'motor.tick'),
        v: m.v.map((entry: unknown, k) => (entry === null ? null : f32(entry, `motor.v[${k}]`))),
      };
    }
    case 'telemetry':
      return decodeTelemetry(m);
    default:
      throw new ProtocolError('unknown-type', `unknown server message type "${String(m.t)}"`);
  }
}

export function encodeConfig(codec: WireCodec, config: ConfigMessage): Buffer {
  // Descriptions (units, ranges, ray angles) go out only where the bridge has them.
  const channels = (list: readonly ChannelSpec[]) =>
    list.map((c) => {
      const { name, size, rateHz, description, components, units, min, max, anglesRad } = c;
      const info = { description, components, units, min, max, anglesRad };
      return {
        name,
        size,
        rateHz,
        ...Object.fromEntries(Object.entries(info).filter(([, value]) => value !== undefined)),
      };
    });
  return codec.encode({
    t: 'config',
    protocol: config.protocol,
    version: config.version,
    session: config.session,
    role: config.role,
    tickMs: config.tickMs,
    sensors: channels(config.sensors),
    motors: channels(config.motors),
    features: [...config.features],
    limits: { ...config.limits },
    telemetryHz: config.telemetryHz,
  });
}

export function encodeError(codec: WireCodec, frame: ErrorFrame): Buffer {
  return codec.encode({
    t: 'error',
    code: frame.code,
    message: frame.message,
    fatal: frame.fatal,
    seq: frame.seq,
  });
}
