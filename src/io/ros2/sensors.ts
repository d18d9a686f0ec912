/**
 * Sensor messages → values. Pure functions over plain message objects: each writes the values of
 * one message into `out` or throws a Ros2MessageError naming the topic and field, and never writes
 * a partial result (the caller keeps the last good values).
 *
 * Range conventions follow REP 117: +Inf is "no return" (nothing within range), −Inf is "too close"
 * (an object nearer than the minimum range), NaN is an erroneous reading. No return and erroneous
 * readings count as the maximum range; too close counts as the minimum range, so a robot pressed
 * against a wall still sees it.
 */
import { notFinite, notPositive } from '../../config/checks.js';
import { Ros2MessageError } from './errors.js';
import type {
  Float32MultiArrayMsg,
  ImuMsg,
  JointStateMsg,
  LaserScanMsg,
  RangeMsg,
  SensorKind,
} from './messages.js';

/** rangeM: metres; proximity: 1 − range/maxRange in [0, 1] (1 = touching, 0 = nothing in range). */
export type RangeOutput = 'rangeM' | 'proximity';

export interface LaserScanConversion {
  kind: 'laserScan';
  /** The angular window is split into this many equal sectors; each reports its nearest return. */
  sectors: number;
  /** Window in the scan frame; defaults to the scan's own [angle_min, angle_max]. */
  angleMinRad?: number;
  angleMaxRad?: number;
  /** Clip ranges here (and use it for no-return); defaults to the message's range_max. */
  maxRangeM?: number;
  output: RangeOutput;
}

export interface RangeConversion {
  kind: 'range';
  maxRangeM?: number;
  output: RangeOutput;
}

export const IMU_FIELDS = [
  'orientation.x',
  'orientation.y',
  'orientation.z',
  'orientation.w',
  'angular_velocity.x',
  'angular_velocity.y',
  'angular_velocity.z',
  'linear_acceleration.x',
  'linear_acceleration.y',
  'linear_acceleration.z',
] as const;
export type ImuField = (typeof IMU_FIELDS)[number];

export interface ImuConversion {
  kind: 'imu';
  fields: ImuField[];
}

export type JointField = 'position' | 'velocity' | 'effort';

export interface JointStateConversion {
  kind: 'jointState';
  /** Joints in output order; matched by name, so the publisher's order does not matter. */
  joints: string[];
  field: JointField;
}

export interface Float32ArrayConversion {
  kind: 'float32MultiArray';
  size: number;
}

export type SensorConversion =
  | LaserScanConversion
  | RangeConversion
  | ImuConversion
  | JointStateConversion
  | Float32ArrayConversion;

// A compile-time check that every sensor message kind has a conversion and vice versa.
type _EveryKindConverted = SensorConversion['kind'] extends SensorKind
  ? SensorKind extends SensorConversion['kind']
    ? true
    : never
  : never;
const _everyKindConverted: _EveryKindConverted = true;
void _everyKindConverted;

/** Number of values a conversion produces per message. */
export function sensorValueCount(conversion: SensorConversion): number {
  switch (conversion.kind) {
    case 'laserScan':
      return conversion.sectors;
    case 'range':
      return 1;
    case 'imu':
      return conversion.fields.length;
    case 'jointState':
      return conversion.joints.length;
    case 'float32MultiArray':
      return conversion.size;
  }
}

/**
 * Converts one message of the conversion's kind into `out` (length = sensorValueCount). `message`
 * is what the subscription delivered; its shape is checked as far as the conversion reads it.
 */
export function convertSensor(
  conversion: SensorConversion,
  topic: string,
  message: unknown,
  out: Float32Array,
): void {
  const expected = sensorValueCount(conversion);
  if (out.length !== expected) {
    throw new Ros2MessageError(`${topic}: output holds ${out.length} values, expected ${expected}`);
  }
  if (typeof message !== 'object' || message === null) {
    throw new Ros2MessageError(`${topic}: expected a message object, got ${String(message)}`);
  }
  switch (conversion.kind) {
    case 'laserScan':
      laserScanToSectors(conversion, topic, message as LaserScanMsg, out);
      return;
    case 'range':
      rangeToValue(conversion, topic, message as RangeMsg, out);
      return;
    case 'imu':
      imuToValues(conversion, topic, message as ImuMsg, out);
      return;
    case 'jointState':
      jointStateToValues(conversion, topic, message as JointStateMsg, out);
      return;
    case 'float32MultiArray':
      float32ArrayToValues(conversion, topic, message as Float32MultiArrayMsg, out);
      return;
  }
}

export function laserScanToSectors(
  conversion: LaserScanConversion,
  topic: string,
  scan: LaserScanMsg,
  out: Float32Array,
): void {
  const ranges = requireArrayLike(topic, 'ranges', scan.ranges);
  if (ranges.length === 0) throw new Ros2MessageError(`${topic}: empty scan (ranges has no values)`);
  const angleMin = requireFiniteField(topic, 'angle_min', scan.angle_min);
  const increment = requireFiniteField(topic, 'angle_increment', scan.angle_increment);
  if (increment === 0 && ranges.length > 1) {
    throw new Ros2MessageError(`${topic}: angle_increment is 0 for a scan of ${ranges.length} beams`);
  }
  const maxRange = conversion.maxRangeM ?? requirePositiveField(topic, 'range_max', scan.range_max);
  const rangeMin = Number.isFinite(scan.range_min) && scan.range_min > 0 ? scan.range_min : 0;
  const lastAngle = angleMin + increment * (ranges.length - 1);
  const low = conversion.angleMinRad ?? Math.min(angleMin, lastAngle);
  const high = conversion.angleMaxRad ?? Math.max(angleMin, lastAngle);
  const sectors = conversion.sectors;
  const width = (high - low) / sectors;
  const nearest = new Float64Array(sectors).fill(Number.POSITIVE_INFINITY);
  const beams = new Uint32Array(sectors);
  for (let i = 0; i < ranges.length; i++) {
    const angle = intoWindow(angleMin + increment * i, low, high);
    if (Number.isNaN(angle)) continue;
    // A degenerate window (one beam, low = high) puts everything in sector 0.
    const sector = width > 0 ? Math.min(sectors - 1, Math.floor((angle - low) / width)) : 0;
    beams[sector]!++;
    const range = effectiveRange(ranges[i]!, rangeMin, maxRange);
    if (range < nearest[sector]!) nearest[sector] = range;
  }
  for (let s = 0; s < sectors; s++) {
    if (beams[s] === 0) {
      const from = low + s * width;
      throw new Ros2MessageError(
        `${topic}: sector ${s} [${from.toFixed(3)}, ${(from + width).toFixed(3)}] rad has no beams; ` +
          `the scan covers [${Math.min(angleMin, lastAngle).toFixed(3)}, ${Math.max(angleMin, lastAngle).toFixed(3)}] rad`,
      );
    }
  }
  for (let s = 0; s < sectors; s++) out[s] = rangeOutput(conversion.output, nearest[s]!, maxRange);
}

export function rangeToValue(
  conversion: RangeConversion,
  topic: string,
  message: RangeMsg,
  out: Float32Array,
) {
  const maxRange = conversion.maxRangeM ?? requirePositiveField(topic, 'max_range', message.max_range);
  if (typeof message.range !== 'number') {
    throw new Ros2MessageError(`${topic}: range must be a number, got ${typeof message.range}`);
  }
  const minRange = Number.isFinite(message.min_range) && message.min_range > 0 ? message.min_range : 0;
  out[0] = rangeOutput(conversion.output, effectiveRange(message.range, minRange, maxRange), maxRange);
}

export function imuToValues(conversion: ImuConversion, topic: string, imu: ImuMsg, out: Float32Array) {
  const values = new Float64Array(conversion.fields.length);
  conversion.fields.forEach((field, i) => {
    const [group, axis] = field.split('.') as [
      'orientation' | 'angular_velocity' | 'linear_acceleration',
      string,
    ];
    const vector = imu[group] as unknown as Record<string, unknown> | undefined;
    if (typeof vector !== 'object' || vector === null) {
      throw new Ros2MessageError(`${topic}: ${group} is missing`);
    }
    // REP 145: covariance[0] = −1 marks a quantity the IMU does not provide.
    const covariance = imu[`${group}_covariance`];
    if (covariance !== undefined && covariance.length > 0 && covariance[0] === -1) {
      throw new Ros2MessageError(
        `${topic}: ${field} requested but the IMU does not provide ${group} (covariance[0] = -1)`,
      );
    }
    values[i] = requireFiniteField(topic, field, vector[axis]);
  });
  out.set(values);
}

export function jointStateToValues(
  conversion: JointStateConversion,
  topic: string,
  state: JointStateMsg,
  out: Float32Array,
): void {
  if (!Array.isArray(state.name))
    throw new Ros2MessageError(`${topic}: name must be an array of joint names`);
  const data = requireArrayLike(topic, conversion.field, state[conversion.field]);
  if (data.length !== state.name.length) {
    throw new Ros2MessageError(
      `${topic}: ${conversion.field} has ${data.length} values for ${state.name.length} joint names`,
    );
  }
  const values = new Float64Array(conversion.joints.length);
  conversion.joints.forEach((joint, i) => {
    const index = state.name.indexOf(joint);
    if (index < 0)
      throw new Ros2MessageError(`${topic}: joint "${joint}" is not in name [${state.name.join(', ')}]`);
    values[i] = requireFiniteField(topic, `${conversion.field}[${index}] (${joint})`, data[index]);
  });
  out.set(values);
}

export function float32ArrayToValues(
  conversion: Float32ArrayConversion,
  topic: string,
  message: Float32MultiArrayMsg,
  out: Float32Array,
): void {
  const data = requireArrayLike(topic, 'data', message.data);
  const offset = message.layout?.data_offset ?? 0;
  if (data.length - offset !== conversion.size) {
    throw new Ros2MessageError(
      `${topic}: data has ${data.length - offset} values (after data_offset ${offset}), expected ${conversion.size}`,
    );
  }
  const values = new Float64Array(conversion.size);
  for (let i = 0; i < conversion.size; i++)
    values[i] = requireFiniteField(topic, `data[${offset + i}]`, data[offset + i]);
  out.set(values);
}

/**
 * The beam angle moved by a whole turn into [low, high] if that puts it there (scanners report
 * 0…2π, windows are often −π…π), or NaN when the beam lies outside the window.
 */
function intoWindow(angle: number, low: number, high: number): number {
  for (const shifted of [angle, angle - 2 * Math.PI, angle + 2 * Math.PI]) {
    if (shifted >= low && shifted <= high) return shifted;
  }
  return Number.NaN;
}

/** A reading as a usable distance: see the REP 117 note at the top. */
function effectiveRange(reading: number, minRange: number, maxRange: number): number {
  if (Number.isNaN(reading) || reading === Number.POSITIVE_INFINITY) return maxRange;
  if (reading === Number.NEGATIVE_INFINITY) return minRange;
  // A finite reading below the minimum is outside the sensor's valid band: treat it as no return.
  if (reading < minRange) return maxRange;
  return Math.min(reading, maxRange);
}

function rangeOutput(output: RangeOutput, rangeM: number, maxRangeM: number): number {
  if (output === 'rangeM') return rangeM;
  return Math.min(1, Math.max(0, 1 - rangeM / maxRangeM));
}

function requireArrayLike(topic: string, field: string, value: unknown): ArrayLike<number> {
  if (Array.isArray(value) || ArrayBuffer.isView(value)) return value as ArrayLike<number>;
  throw new Ros2MessageError(
    `${topic}: ${field} must be an array, got ${value === null ? 'null' : typeof value}`,
  );
}

function requireFiniteField(topic: string, field: string, value: unknown): number {
  const problem = notFinite(value);
  if (problem !== undefined) throw new Ros2MessageError(`${topic}: ${field} ${problem}`);
  return value as number;
}

function requirePositiveField(topic: string, field: string, value: unknown): number {
  const problem = notPositive(value);
  if (problem !== undefined) throw new Ros2MessageError(`${topic}: ${field} ${problem}`);
  return value as number;
}
