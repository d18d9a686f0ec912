import { describe, expect, it } from 'vitest';
import { durationFromMs, timeFromNs } from '../../../src/io/ros2/messages.js';
import { motorMessage, motorValueCount } from '../../../src/io/ros2/motors.js';

describe('motor values → command messages', () => {
  it('Twist: each value drives its field, the rest stay 0', () => {
    const twist = motorMessage({ kind: 'twist', fields: ['linear.x', 'angular.z'] }, '/cmd_vel', [0.2, -0.5]);
    expect(twist).toEqual({ linear: { x: 0.2, y: 0, z: 0 }, angular: { x: 0, y: 0, z: -0.5 } });
  });

  it('Float64MultiArray: a flat array with an empty layout (forward command controller)', () => {
    const message = motorMessage(
      { kind: 'float64MultiArray', size: 3 },
      '/fwd/commands',
      new Float32Array([1, 2, 3]),
    );
    expect(message).toEqual({ layout: { dim: [], data_offset: 0 }, data: [1, 2, 3] });
  });

  it('JointTrajectory: one point, start-now stamp, time_from_start from the params', () => {
    const message = motorMessage(
      { kind: 'jointTrajectory', joints: ['a', 'b'], field: 'velocities', timeFromStartMs: 1250 },
      '/traj',
      [0.5, -0.5],
    );
    expect(message).toEqual({
      header: { stamp: { sec: 0, nanosec: 0 }, frame_id: '' },
      joint_names: ['a', 'b'],
      points: [
        {
          positions: [],
          velocities: [0.5, -0.5],
          accelerations: [],
          effort: [],
          time_from_start: { sec: 1, nanosec: 250_000_000 },
        },
      ],
    });
  });

  it('rejects a wrong length and non-finite values instead of publishing them', () => {
    const twist = { kind: 'twist', fields: ['linear.x', 'angular.z'] } as const;
    expect(() => motorMessage({ ...twist, fields: [...twist.fields] }, '/cmd_vel', [1])).toThrow(
      '/cmd_vel: command has 1 values, expected 2',
    );
    expect(() => motorMessage({ kind: 'float64MultiArray', size: 2 }, '/c', [1, Number.NaN])).toThrow(
      '/c: command value 1 is NaN; not published',
    );
    expect(
      motorValueCount({
        kind: 'jointTrajectory',
        joints: ['a', 'b', 'c'],
        field: 'positions',
        timeFromStartMs: 1,
      }),
    ).toBe(3);
  });
});

describe('time conversions', () => {
  it('builds Time and Duration messages', () => {
    expect(timeFromNs(1_700_000_000_123_456_789n)).toEqual({ sec: 1_700_000_000, nanosec: 123_456_789 });
    expect(durationFromMs(0.5)).toEqual({ sec: 0, nanosec: 500_000 });
  });
});
