/**
 * Errors of the ROS 2 bridge. Each message names what is wrong: a message field with its topic,
 * a params-file path, or the missing piece of the ROS 2 environment.
 */
import { ConfigError, located } from '../../config/schema.js';

/** A received message cannot be converted (empty scan, wrong array length, non-finite value…). */
export class Ros2MessageError extends Error {
  override name = 'Ros2MessageError';
}

/** A motor command cannot be turned into a message (wrong length, non-finite value). */
export class Ros2CommandError extends Error {
  override name = 'Ros2CommandError';
}

/** The robot params file is invalid; `path` is the key path of the bad field (`sensors[0].sectors`). */
export class Ros2ParamsError extends ConfigError {
  override name = 'Ros2ParamsError';
  constructor(
    readonly file: string,
    readonly path: string,
    detail: string,
  ) {
    super(located(file, path, detail));
  }
}

/**
 * ROS 2 is not usable in this process (ROS_DISTRO unset, rclnodejs missing or its native addon
 * not built, spikeloop_msgs not on AMENT_PREFIX_PATH). The message is one line meant for users.
 */
export class Ros2UnavailableError extends Error {
  override name = 'Ros2UnavailableError';
}
