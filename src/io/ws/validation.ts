/**
 * Checks decoded client messages against the protocol before anything acts on them. Every failure
 * is a ProtocolError naming the field, so the peer's error frame says exactly what to fix.
 */
import { ProtocolError } from './errors.js';
import {
  type ChannelSpec,
  FEATURES,
  type Feature,
  type HelloMessage,
  MESSAGE_TYPES,
  PROTOCOL_NAME,
  PROTOCOL_VERSION,
  type ProtocolLimits,
  ROLES,
  type Role,
  type SensorFrame,
} from './protocol.js';
import { float32FromBytes } from './wire.js';

const MAX_NAME_CHARS = 64;

type Fields = Record<string, unknown>;

function isFields(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);
}

/** The message type of a decoded value; unknown or missing types are errors. */
export function messageType(value: unknown): string {
  if (!isFields(value)) throw new ProtocolError('bad-message', 'a message must be a MessagePack map');
  const type = value.t;
  if (typeof type !== 'string') throw new ProtocolError('bad-message', 'a message needs a string field "t"');
  if (!(MESSAGE_TYPES as readonly string[]).includes(type)) {
    throw new ProtocolError('unknown-type', `unknown message type "${type.slice(0, MAX_NAME_CHARS)}"`);
  }
  return type;
}

function channelList(value: unknown, field: string, limits: ProtocolLimits): ChannelSpec[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new ProtocolError('bad-message', `hello.${field} must be an array`, true);
  if (value.length > limits.maxChannels) {
    throw new ProtocolError(
      'channel',
      `hello.${field}: ${value.length} channels > limit ${limits.maxChannels}`,
      true,
    );
  }
  const names = new Set<string>();
  return value.map((entry, k) => {
    const where = `hello.${field}[${k}]`;
    if (!isFields(entry)) throw new ProtocolError('bad-message', `${where} must be a map`, true);
    const { name, size, rateHz } = entry;
    if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME_CHARS) {
      throw new ProtocolError(
        'bad-message',
        `${where}.name must be a string of 1–${MAX_NAME_CHARS} chars`,
        true,
      );
    }
    if (names.has(name)) throw new ProtocolError('channel', `${where}: duplicate channel "${name}"`, true);
    names.add(name);
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 1 || size > limits.maxChannelValues) {
      throw new ProtocolError(
        'channel',
        `${where}.size must be an integer 1–${limits.maxChannelValues}, got ${String(size)}`,
        true,
      );
    }
    const rate = rateHz ?? 0;
    if (typeof rate !== 'number' || !Number.isFinite(rate) || rate < 0) {
      throw new ProtocolError('bad-message', `${where}.rateHz must be a finite number ≥ 0`, true);
    }
    return { name, size, rateHz: rate };
  });
}

export function parseHello(value: unknown, limits: ProtocolLimits): HelloMessage {
  if (!isFields(value) || value.t !== 'hello') throw new ProtocolError('bad-message', 'expected hello', true);
  if (value.protocol !== PROTOCOL_NAME) {
    throw new ProtocolError('bad-message', `hello.protocol must be "${PROTOCOL_NAME}"`, true);
  }
  if (typeof value.version !== 'number' || !Number.isSafeInteger(value.version) || value.version < 0) {
    throw new ProtocolError(
      'bad-message',
      `hello.version must be an unsigned integer (this server speaks version ${PROTOCOL_VERSION})`,
      true,
    );
  }
  if (value.version !== PROTOCOL_VERSION) {
    throw new ProtocolError(
      'version',
      `protocol version ${String(value.version)} is not supported; this server speaks version ${PROTOCOL_VERSION}`,
      true,
    );
  }
  if (typeof value.role !== 'string' || !(ROLES as readonly string[]).includes(value.role)) {
    throw new ProtocolError('bad-message', `hello.role must be one of ${ROLES.join(', ')}`, true);
  }
  const name = value.name ?? '';
  if (typeof name !== 'string') throw new ProtocolError('bad-message', 'hello.name must be a string', true);
  const token = value.token ?? null;
  if (token !== null && typeof token !== 'string') {
    throw new ProtocolError('bad-message', 'hello.token must be a string', true);
  }
  const features = Array.isArray(value.features)
    ? // Unknown features are ignored, so newer clients can ask for more and still connect.
      (value.features.filter((f) => (FEATURES as readonly unknown[]).includes(f)) as Feature[])
    : [];
  return {
    t: 'hello',
    protocol: PROTOCOL_NAME,
    version: PROTOCOL_VERSION,
    role: value.role as Role,
    name: name.slice(0, MAX_NAME_CHARS),
    token,
    sensors: channelList(value.sensors, 'sensors', limits),
    motors: channelList(value.motors, 'motors', limits),
    features,
  };
}

/**
 * One channel's values: a bin of little-endian float32 (the fast path), an array of numbers, or a
 * typed array (msgpackr's typed-array extension). NaN and ±Inf are refused: they would poison the
 * network's input currents.
 */
export function parseValues(raw: unknown, size: number, where: string, seq: number): Float32Array {
  let values: Float32Array;
  if (raw instanceof Uint8Array) {
    if (raw.byteLength !== size * 4) {
      throw new ProtocolError(
        'channel',
        `${where}: expected ${size} float32 (${size * 4} bytes), got ${raw.byteLength} bytes`,
        false,
        seq,
      );
    }
    values = float32FromBytes(raw);
  } else if (Array.isArray(raw) || raw instanceof Float32Array || raw instanceof Float64Array) {
    if (raw.length !== size) {
      throw new ProtocolError('channel', `${where}: expected ${size} values, got ${raw.length}`, false, seq);
    }
    values = new Float32Array(size);
    for (let k = 0; k < size; k++) {
      const x: unknown = raw[k];
      if (typeof x !== 'number')
        throw new ProtocolError('bad-message', `${where}[${k}] is not a number`, false, seq);
      values[k] = x;
    }
  } else {
    throw new ProtocolError(
      'bad-message',
      `${where} must be a bin of float32 or an array of numbers`,
      false,
      seq,
    );
  }
  for (let k = 0; k < size; k++) {
    if (!Number.isFinite(values[k])) {
      throw new ProtocolError(
        'invalid-value',
        `${where}[${k}] is ${values[k]}; values must be finite`,
        false,
        seq,
      );
    }
  }
  return values;
}

/** A sensor frame against the channels its sender declared; `lastSeq` is the previous accepted seq. */
export function parseSensorFrame(
  value: unknown,
  channels: readonly ChannelSpec[],
  lastSeq: number,
): SensorFrame {
  if (!isFields(value)) throw new ProtocolError('bad-message', 'a sensor frame must be a map');
  const { seq, ts, v } = value;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) {
    throw new ProtocolError('bad-message', 'sensor.seq must be an unsigned integer');
  }
  if (seq <= lastSeq) {
    throw new ProtocolError('sequence', `sensor.seq ${seq} is not above the previous ${lastSeq}`, false, seq);
  }
  if (typeof ts !== 'number') {
    throw new ProtocolError('bad-message', 'sensor.ts must be a number (µs)', false, seq);
  }
  if (!Number.isFinite(ts)) {
    throw new ProtocolError('invalid-value', `sensor.ts is ${ts}; it must be finite (µs)`, false, seq);
  }
  if (!Array.isArray(v)) {
    throw new ProtocolError(
      'bad-message',
      'sensor.v must be an array (one entry per declared sensor channel)',
      false,
      seq,
    );
  }
  if (v.length !== channels.length) {
    throw new ProtocolError(
      'channel',
      `sensor.v has ${v.length} entries; it needs ${channels.length} (one per declared sensor channel)`,
      false,
      seq,
    );
  }
  const values = v.map((raw: unknown, k) =>
    raw === null || raw === undefined
      ? null
      : parseValues(raw, channels[k]!.size, `sensor.v[${k}] (${channels[k]!.name})`, seq),
  );
  return { t: 'sensor', seq, ts, v: values };
}
