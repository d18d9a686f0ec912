import { describe, expect, it } from 'vitest';
import { Ros2MessageError } from '../../../src/io/ros2/errors.js';
import type {
  Float32MultiArrayMsg,
  ImuMsg,
  JointStateMsg,
  LaserScanMsg,
  RangeMsg,
} from '../../../src/io/ros2/messages.js';
import {
  convertSensor,
  type LaserScanConversion,
  type SensorConversion,
  sensorValueCount,
} from '../../../src/io/ros2/sensors.js';

const header = { stamp: { sec: 1, nanosec: 0 }, frame_id: 'base_scan' };

/** A TurtleBot3 LDS-like scan: 360 beams over 0…2π, range 0.12–3.5 m, all at `fill` metres. */
function lds(fill: number, overrides: Partial<LaserScanMsg> = {}): LaserScanMsg {
  const n = 360;
  return {
    header,
    angle_min: 0,
    angle_max: (2 * Math.PI * (n - 1)) / n,
    angle_increment: (2 * Math.PI) / n,
    time_increment: 0,
    scan_time: 0.2,
    range_min: 0.12,
    range_max: 3.5,
    ranges: new Float32Array(n).fill(fill),
    intensities: new Float32Array(0),
    ...overrides,
  };
}

function convert(conversion: SensorConversion, message: unknown): Float32Array {
  const out = new Float32Array(sensorValueCount(conversion));
  convertSensor(conversion, '/test', message, out);
  return out;
}

const fourSectors: LaserScanConversion = { kind: 'laserScan', sectors: 4, output: 'rangeM' };

describe('LaserScan → sectors', () => {
  it('reports the nearest return of each sector', () => {
    const scan = lds(2);
    const ranges = scan.ranges as Float32Array;
    ranges[10] = 0.5; // first quarter (0…90°)
    ranges[200] = 1.25; // third quarter
    expect(Array.from(convert(fourSectors, scan))).toEqual([0.5, 2, 1.25, 2]);
  });

  it('treats +Inf and NaN as no return (max range) and −Inf as too close (min range), REP 117', () => {
    const scan = lds(Number.POSITIVE_INFINITY);
    const ranges = scan.ranges as Float32Array;
    ranges[100] = Number.NaN; // second quarter: still nothing
    ranges[190] = Number.NEGATIVE_INFINITY; // third quarter: an object inside range_min
    const values = convert(fourSectors, scan);
    expect(Array.from(values)).toEqual([3.5, 3.5, Math.fround(0.12), 3.5]);
  });

  it('an all-inf scan gives max range everywhere, or zero proximity', () => {
    expect(Array.from(convert(fourSectors, lds(Number.POSITIVE_INFINITY)))).toEqual([3.5, 3.5, 3.5, 3.5]);
    const proximity = convert({ ...fourSectors, output: 'proximity' }, lds(Number.POSITIVE_INFINITY));
    expect(Array.from(proximity)).toEqual([0, 0, 0, 0]);
  });

  it('ignores finite readings below range_min and clips beyond range_max', () => {
    const scan = lds(10);
    (scan.ranges as Float32Array)[5] = 0.05;
    expect(Array.from(convert(fourSectors, scan))).toEqual([3.5, 3.5, 3.5, 3.5]);
  });

  it('proximity is 1 − range/maxRange', () => {
    const values = convert({ ...fourSectors, output: 'proximity', maxRangeM: 4 }, lds(1));
    expect(Array.from(values)).toEqual([0.75, 0.75, 0.75, 0.75]);
  });

  it('wraps 0…2π beams into a −π…π window, so the front sector straddles 0', () => {
    const scan = lds(3);
    const ranges = scan.ranges as Float32Array;
    ranges[350] = 0.4; // −10°: right front
    ranges[170] = 0.9; // +170°: left rear
    const values = convert({ ...fourSectors, angleMinRad: -Math.PI, angleMaxRad: Math.PI }, scan);
    // sectors: [−π, −π/2), [−π/2, 0), [0, π/2), [π/2, π]
    expect(Array.from(values)).toEqual([3, Math.fround(0.4), 3, Math.fround(0.9)]);
  });

  it('handles a clockwise scanner (negative angle_increment)', () => {
    const scan = lds(2, { angle_min: Math.PI / 2, angle_increment: -Math.PI / 180, angle_max: -Math.PI / 2 });
    const ranges = new Float32Array(181).fill(2);
    ranges[0] = 0.3; // +90°: left, the last of two sectors
    const values = convert({ kind: 'laserScan', sectors: 2, output: 'rangeM' }, { ...scan, ranges });
    expect(Array.from(values)).toEqual([2, Math.fround(0.3)]);
  });

  it('accepts plain arrays as well as typed arrays', () => {
    const scan = lds(1, { ranges: Array.from({ length: 360 }, () => 1) });
    expect(Array.from(convert(fourSectors, scan))).toEqual([1, 1, 1, 1]);
  });

  it('rejects an empty scan with a clear error', () => {
    expect(() => convert(fourSectors, lds(1, { ranges: [] }))).toThrow(/\/test: empty scan/);
  });

  it('rejects a scan that leaves a sector without beams, naming the sector and the coverage', () => {
    const narrow = lds(1, { ranges: new Float32Array(10).fill(1) }); // 0…9°
    expect(() => convert({ ...fourSectors, angleMinRad: -1, angleMaxRad: 1 }, narrow)).toThrow(
      /sector 0 .* has no beams; the scan covers \[0\.000, 0\.157\] rad/,
    );
  });

  it('rejects a missing ranges array and a non-positive range_max', () => {
    expect(() => convert(fourSectors, { ...lds(1), ranges: undefined })).toThrow(/ranges must be an array/);
    expect(() => convert(fourSectors, lds(1, { range_max: 0 }))).toThrow(/range_max must be > 0, got 0/);
    expect(() => convert(fourSectors, lds(1, { angle_increment: Number.NaN }))).toThrow(/angle_increment/);
  });

  it('never writes a partial result on error', () => {
    const out = new Float32Array([7, 7, 7, 7]);
    expect(() => convertSensor(fourSectors, '/scan', lds(1, { ranges: [] }), out)).toThrow(Ros2MessageError);
    expect(Array.from(out)).toEqual([7, 7, 7, 7]);
  });
});

describe('Range', () => {
  const range = (value: number): RangeMsg => ({
    header,
    radiation_type: 0,
    field_of_view: 0.5,
    min_range: 0.02,
    max_range: 4,
    range: value,
  });

  it('passes the range, max range for +Inf/NaN, min range for −Inf', () => {
    const c: SensorConversion = { kind: 'range', output: 'rangeM' };
    expect(convert(c, range(1.5))[0]).toBe(1.5);
    expect(convert(c, range(Number.POSITIVE_INFINITY))[0]).toBe(4);
    expect(convert(c, range(Number.NaN))[0]).toBe(4);
    expect(convert(c, range(Number.NEGATIVE_INFINITY))[0]).toBe(Math.fround(0.02));
    expect(convert({ kind: 'range', output: 'proximity' }, range(1))[0]).toBe(0.75);
  });

  it('rejects a message without a numeric range', () => {
    expect(() => convert({ kind: 'range', output: 'rangeM' }, { ...range(1), range: 'x' })).toThrow(
      /range must be a number/,
    );
  });
});

describe('Imu', () => {
  const imu = (): ImuMsg => ({
    header,
    orientation: { x: 0, y: 0, z: 0.38268, w: 0.92388 },
    orientation_covariance: new Float64Array(9),
    angular_velocity: { x: 0, y: 0, z: 0.5 },
    angular_velocity_covariance: new Float64Array(9),
    linear_acceleration: { x: 0.1, y: -0.2, z: 9.81 },
    linear_acceleration_covariance: new Float64Array(9),
  });

  it('picks the configured fields in order', () => {
    const c: SensorConversion = {
      kind: 'imu',
      fields: ['angular_velocity.z', 'linear_acceleration.x', 'orientation.w'],
    };
    expect(Array.from(convert(c, imu()))).toEqual([0.5, Math.fround(0.1), Math.fround(0.92388)]);
  });

  it('rejects orientation from an IMU that does not provide it (covariance[0] = −1, REP 145)', () => {
    const message = imu();
    message.orientation_covariance = [-1, 0, 0, 0, 0, 0, 0, 0, 0];
    expect(() => convert({ kind: 'imu', fields: ['orientation.z'] }, message)).toThrow(
      /does not provide orientation/,
    );
    // The other fields are still fine.
    expect(convert({ kind: 'imu', fields: ['angular_velocity.z'] }, message)[0]).toBe(0.5);
  });

  it('rejects NaN naming the field', () => {
    const message = imu();
    message.angular_velocity.z = Number.NaN;
    expect(() => convert({ kind: 'imu', fields: ['angular_velocity.z'] }, message)).toThrow(
      /\/test: angular_velocity\.z must be a finite number, got NaN/,
    );
  });
});

describe('JointState', () => {
  const state = (): JointStateMsg => ({
    header,
    name: ['wrist', 'shoulder', 'elbow'],
    position: new Float64Array([0.3, 0.1, 0.2]),
    velocity: new Float64Array([3, 1, 2]),
    effort: [],
  });

  it('matches joints by name, in the configured order', () => {
    const c: SensorConversion = {
      kind: 'jointState',
      joints: ['shoulder', 'elbow', 'wrist'],
      field: 'position',
    };
    expect(Array.from(convert(c, state()))).toEqual([0.1, 0.2, 0.3].map(Math.fround));
    expect(Array.from(convert({ ...c, field: 'velocity' }, state()))).toEqual([1, 2, 3]);
  });

  it('rejects a missing joint, a length mismatch and an empty field', () => {
    const c: SensorConversion = { kind: 'jointState', joints: ['shoulder', 'hand'], field: 'position' };
    expect(() => convert(c, state())).toThrow(/joint "hand" is not in name \[wrist, shoulder, elbow\]/);
    const short = { ...state(), position: [0.1, 0.2] };
    expect(() => convert({ ...c, joints: ['shoulder'] }, short)).toThrow(
      /position has 2 values for 3 joint names/,
    );
    expect(() => convert({ ...c, joints: ['shoulder'], field: 'effort' }, state())).toThrow(
      /effort has 0 values for 3 joint names/,
    );
  });
});

describe('Float32MultiArray', () => {
  const array = (data: number[], offset = 0): Float32MultiArrayMsg => ({
    layout: { dim: [], data_offset: offset },
    data: Float32Array.from(data),
  });

  it('passes the data, honouring data_offset', () => {
    expect(Array.from(convert({ kind: 'float32MultiArray', size: 3 }, array([1, 2, 3])))).toEqual([1, 2, 3]);
    expect(Array.from(convert({ kind: 'float32MultiArray', size: 2 }, array([9, 1, 2], 1)))).toEqual([1, 2]);
  });

  it('rejects a wrong length and non-finite values with the index', () => {
    expect(() => convert({ kind: 'float32MultiArray', size: 4 }, array([1, 2, 3]))).toThrow(
      /data has 3 values \(after data_offset 0\), expected 4/,
    );
    expect(() => convert({ kind: 'float32MultiArray', size: 2 }, array([1, Number.NaN]))).toThrow(
      /data\[1\] must be a finite number, got NaN/,
    );
  });
});

it('rejects something that is not a message', () => {
  expect(() => convert(fourSectors, null)).toThrow(/expected a message object/);
});
