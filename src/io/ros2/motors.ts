/**
 * Motor values → command messages. Pure: a value vector (already clamped and rate-limited by the
 * safety stage) becomes a plain message object for rclnodejs to publish. A wrong length or a
 * non-finite value throws a Ros2CommandError; nothing is published from a bad vector.
 */
import { Ros2CommandError } from './errors.js';
import {
  durationFromMs,
  type Float64MultiArrayMsg,
  type JointTrajectoryMsg,
  type MotorKind,
  type TimeMsg,
  type TwistMsg,
  type TwistStampedMsg,
} from './messages.js';

export const TWIST_FIELDS = [
  'linear.x',
  'linear.y',
  'linear.z',
  'angular.x',
  'angular.y',
  'angular.z',
] as const;
export type TwistField = (typeof TWIST_FIELDS)[number];

export interface TwistConversion {
  kind: 'twist';
  /** Which Twist component each motor value drives; the others stay 0. */
  fields: TwistField[];
}

export interface TwistStampedConversion {
  kind: 'twistStamped';
  fields: TwistField[];
  /** header.frame_id (the robot's base frame). */
  frameId: string;
}

export interface Float64ArrayConversion {
  kind: 'float64MultiArray';
  /** One value per controlled joint, in the controller's joint order. */
  size: number;
}

export interface JointTrajectoryConversion {
  kind: 'jointTrajectory';
  joints: string[];
  /** Which point field the values fill. */
  field: 'positions' | 'velocities';
  /** time_from_start of the single point: how soon the controller should reach it. */
  timeFromStartMs: number;
}

export type MotorConversion =
  | TwistConversion
  | TwistStampedConversion
  | Float64ArrayConversion
  | JointTrajectoryConversion;
export type MotorMessage = TwistMsg | TwistStampedMsg | Float64MultiArrayMsg | JointTrajectoryMsg;

type _EveryKindConverted = MotorConversion['kind'] extends MotorKind
  ? MotorKind extends MotorConversion['kind']
    ? true
    : never
  : never;
const _everyKindConverted: _EveryKindConverted = true;
void _everyKindConverted;

export function motorValueCount(conversion: MotorConversion): number {
  switch (conversion.kind) {
    case 'twist':
    case 'twistStamped':
      return conversion.fields.length;
    case 'float64MultiArray':
      return conversion.size;
    case 'jointTrajectory':
      return conversion.joints.length;
  }
}

/**
 * `stamp` is the header time of TwistStamped: the header stamp of the newest sensor message the
 * command reflects (so a controller can tell how old the sensing behind it is).
 */
export function motorMessage(
  conversion: MotorConversion,
  topic: string,
  values: ArrayLike<number>,
  stamp: TimeMsg = { sec: 0, nanosec: 0 },
): MotorMessage {
  const expected = motorValueCount(conversion);
  if (values.length !== expected) {
    throw new Ros2CommandError(`${topic}: command has ${values.length} values, expected ${expected}`);
  }
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new Ros2CommandError(`${topic}: command value ${i} is ${values[i]}; not published`);
    }
  }
  switch (conversion.kind) {
    case 'twist':
      return twistMessage(conversion, values);
    case 'twistStamped':
      return {
        header: { stamp: { sec: stamp.sec, nanosec: stamp.nanosec }, frame_id: conversion.frameId },
        twist: twistMessage(conversion, values),
      };
    case 'float64MultiArray':
      return float64ArrayMessage(values);
    case 'jointTrajectory':
      return jointTrajectoryMessage(conversion, values);
  }
}

export function twistMessage(
  conversion: { fields: readonly TwistField[] },
  values: ArrayLike<number>,
): TwistMsg {
  const twist: TwistMsg = { linear: { x: 0, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } };
  conversion.fields.forEach((field, i) => {
    const [group, axis] = field.split('.') as ['linear' | 'angular', 'x' | 'y' | 'z'];
    twist[group][axis] = values[i]!;
  });
  return twist;
}

export function float64ArrayMessage(values: ArrayLike<number>): Float64MultiArrayMsg {
  // An empty layout means "flat array", which is what forward command controllers expect.
  return { layout: { dim: [], data_offset: 0 }, data: Array.from(values) };
}

export function jointTrajectoryMessage(
  conversion: JointTrajectoryConversion,
  values: ArrayLike<number>,
): JointTrajectoryMsg {
  const data = Array.from(values);
  return {
    // A zero stamp means "start now" to joint_trajectory_controller.
    header: { stamp: { sec: 0, nanosec: 0 }, frame_id: '' },
    joint_names: [...conversion.joints],
    points: [
      {
        positions: conversion.field === 'positions' ? data : [],
        velocities: conversion.field === 'velocities' ? data : [],
        accelerations: [],
        effort: [],
        time_from_start: durationFromMs(conversion.timeFromStartMs),
      },
    ],
  };
}
