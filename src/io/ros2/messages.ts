/**
 * Plain-object shapes of the standard ROS 2 messages the bridge reads and writes, as rclnodejs
 * hands them over (snake_case fields, builtin_interfaces/Time as {sec, nanosec}). Numeric arrays
 * arrive as typed arrays from rclnodejs and may be plain arrays when built by hand, hence
 * ArrayLike. Kept here rather than taken from rclnodejs's generated typings because those exist
 * only after message generation against a sourced ROS 2, and the converters must compile and be
 * tested without one.
 */

export interface TimeMsg {
  sec: number;
  nanosec: number;
}

export interface DurationMsg {
  sec: number;
  nanosec: number;
}

export interface HeaderMsg {
  stamp: TimeMsg;
  frame_id: string;
}

export interface Vector3Msg {
  x: number;
  y: number;
  z: number;
}

export interface QuaternionMsg {
  x: number;
  y: number;
  z: number;
  w: number;
}

/** sensor_msgs/msg/LaserScan */
export interface LaserScanMsg {
  header: HeaderMsg;
  angle_min: number;
  angle_max: number;
  angle_increment: number;
  time_increment: number;
  scan_time: number;
  range_min: number;
  range_max: number;
  ranges: ArrayLike<number>;
  intensities: ArrayLike<number>;
}

/** sensor_msgs/msg/Range */
export interface RangeMsg {
  header: HeaderMsg;
  radiation_type: number;
  field_of_view: number;
  min_range: number;
  max_range: number;
  range: number;
}

/** sensor_msgs/msg/Imu */
export interface ImuMsg {
  header: HeaderMsg;
  orientation: QuaternionMsg;
  orientation_covariance: ArrayLike<number>;
  angular_velocity: Vector3Msg;
  angular_velocity_covariance: ArrayLike<number>;
  linear_acceleration: Vector3Msg;
  linear_acceleration_covariance: ArrayLike<number>;
}

/** sensor_msgs/msg/JointState */
export interface JointStateMsg {
  header: HeaderMsg;
  name: readonly string[];
  position: ArrayLike<number>;
  velocity: ArrayLike<number>;
  effort: ArrayLike<number>;
}

/** std_msgs/msg/MultiArrayDimension */
export interface MultiArrayDimensionMsg {
  label: string;
  size: number;
  stride: number;
}

/** std_msgs/msg/MultiArrayLayout */
export interface MultiArrayLayoutMsg {
  dim: MultiArrayDimensionMsg[];
  data_offset: number;
}

/** std_msgs/msg/Float32MultiArray */
export interface Float32MultiArrayMsg {
  layout: MultiArrayLayoutMsg;
  data: ArrayLike<number>;
}

/** std_msgs/msg/Float64MultiArray (the command of a ros2_control forward command controller) */
export interface Float64MultiArrayMsg {
  layout: MultiArrayLayoutMsg;
  data: number[];
}

/** geometry_msgs/msg/Twist */
export interface TwistMsg {
  linear: Vector3Msg;
  angular: Vector3Msg;
}

/** geometry_msgs/msg/TwistStamped (what Jazzy's diff_drive_controller takes by default) */
export interface TwistStampedMsg {
  header: HeaderMsg;
  twist: TwistMsg;
}

/** trajectory_msgs/msg/JointTrajectoryPoint */
export interface JointTrajectoryPointMsg {
  positions: number[];
  velocities: number[];
  accelerations: number[];
  effort: number[];
  time_from_start: DurationMsg;
}

/** trajectory_msgs/msg/JointTrajectory */
export interface JointTrajectoryMsg {
  header: HeaderMsg;
  joint_names: string[];
  points: JointTrajectoryPointMsg[];
}

/** diagnostic_msgs/msg/KeyValue */
export interface KeyValueMsg {
  key: string;
  value: string;
}

/** diagnostic_msgs/msg/DiagnosticStatus levels (a byte in the message). */
export const DiagnosticLevel = { OK: 0, WARN: 1, ERROR: 2, STALE: 3 } as const;
export type DiagnosticLevel = (typeof DiagnosticLevel)[keyof typeof DiagnosticLevel];

/** diagnostic_msgs/msg/DiagnosticStatus */
export interface DiagnosticStatusMsg {
  level: DiagnosticLevel;
  name: string;
  message: string;
  hardware_id: string;
  values: KeyValueMsg[];
}

/** diagnostic_msgs/msg/DiagnosticArray */
export interface DiagnosticArrayMsg {
  header: HeaderMsg;
  status: DiagnosticStatusMsg[];
}

/** Fully qualified interface names (pkg/msg/Type), as rclnodejs takes them. */
export const SensorMessageType = {
  laserScan: 'sensor_msgs/msg/LaserScan',
  range: 'sensor_msgs/msg/Range',
  imu: 'sensor_msgs/msg/Imu',
  jointState: 'sensor_msgs/msg/JointState',
  float32MultiArray: 'std_msgs/msg/Float32MultiArray',
} as const;
export type SensorKind = keyof typeof SensorMessageType;

export const MotorMessageType = {
  twist: 'geometry_msgs/msg/Twist',
  twistStamped: 'geometry_msgs/msg/TwistStamped',
  float64MultiArray: 'std_msgs/msg/Float64MultiArray',
  jointTrajectory: 'trajectory_msgs/msg/JointTrajectory',
} as const;
export type MotorKind = keyof typeof MotorMessageType;

export const DIAGNOSTIC_ARRAY_TYPE = 'diagnostic_msgs/msg/DiagnosticArray';

/** Nanoseconds since the epoch → builtin_interfaces/Time. */
export function timeFromNs(ns: bigint): TimeMsg {
  const billion = 1_000_000_000n;
  return { sec: Number(ns / billion), nanosec: Number(ns % billion) };
}

/** Milliseconds → builtin_interfaces/Duration (non-negative). */
export function durationFromMs(ms: number): DurationMsg {
  const totalNs = Math.round(ms * 1e6);
  return { sec: Math.floor(totalNs / 1e9), nanosec: totalNs % 1e9 };
}

/** Time → microseconds since the epoch (float; µs precision is all latency reports need). */
export function timeToUs(time: TimeMsg): number {
  return time.sec * 1e6 + time.nanosec / 1e3;
}
