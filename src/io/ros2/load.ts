/**
 * Loads rclnodejs only when a ROS 2 environment can actually run it, and otherwise says in one
 * line what is missing. The checks come first because importing rclnodejs without its native
 * addon makes rclnodejs start a node-gyp build from inside the import (minutes, then a failure),
 * which is the opposite of "one clear line".
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, platform } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { Ros2UnavailableError } from './errors.js';
import type { RclApi } from './rcl-api.js';
import { SPIKELOOP_MSGS_PACKAGE } from './spikeloop-msgs.js';

const SETUP_HINT = 'see docs/ros2.md';

export interface Ros2Environment {
  /** Process environment to inspect (tests pass their own). */
  env: NodeJS.ProcessEnv;
  /** Where rclnodejs's package.json is, or null when the package is not installed. */
  rclnodejsPackageJson: string | null;
  /** /etc/os-release contents (the prebuilt binaries are per Ubuntu codename). */
  osRelease: string | null;
  fileExists: (path: string) => boolean;
}

export function currentRos2Environment(): Ros2Environment {
  let rclnodejsPackageJson: string | null = null;
  try {
    rclnodejsPackageJson = createRequire(import.meta.url).resolve('rclnodejs/package.json');
  } catch {
    rclnodejsPackageJson = null;
  }
  let osRelease: string | null = null;
  try {
    osRelease = readFileSync('/etc/os-release', 'utf8');
  } catch {
    osRelease = null;
  }
  return { env: process.env, rclnodejsPackageJson, osRelease, fileExists: existsSync };
}

/**
 * What is missing for the bridge to run, as one line, or null when everything is in place:
 * a sourced ROS 2 (ROS_DISTRO, AMENT_PREFIX_PATH), the rclnodejs package, its native addon
 * (built, or a prebuilt one matching this distro and Ubuntu release), and spikeloop_msgs.
 */
export function missingRos2Piece(environment: Ros2Environment): string | null {
  const { env } = environment;
  const distro = env.ROS_DISTRO;
  if (!distro) {
    return `ROS 2 is not available: ROS_DISTRO is not set (source /opt/ros/<distro>/setup.bash first; ${SETUP_HINT})`;
  }
  if (!environment.rclnodejsPackageJson) {
    return `ROS 2 bridge unavailable: the optional dependency rclnodejs is not installed (run npm install; ${SETUP_HINT})`;
  }
  const root = dirname(environment.rclnodejsPackageJson);
  const built = join(root, 'build', 'Release', 'rclnodejs.node');
  const codename = /^VERSION_CODENAME=(.*)$/m.exec(environment.osRelease ?? '')?.[1]?.trim();
  const prebuilt =
    codename && platform() === 'linux'
      ? join(root, 'prebuilds', `linux-${arch()}`, `${distro}-${codename}-${arch()}-node-rclnodejs.node`)
      : null;
  if (!environment.fileExists(built) && !(prebuilt && environment.fileExists(prebuilt))) {
    return (
      `ROS 2 bridge unavailable: rclnodejs's native addon is not built for ROS ${distro}` +
      ` (run npm run ros2:setup with ROS 2 sourced; ${SETUP_HINT})`
    );
  }
  if (!environment.fileExists(join(root, 'generated'))) {
    return `ROS 2 bridge unavailable: rclnodejs has not generated its message bindings (run npm run ros2:setup; ${SETUP_HINT})`;
  }
  const prefixes = (env.AMENT_PREFIX_PATH ?? '').split(delimiter).filter((p) => p !== '');
  const hasMsgs = prefixes.some((prefix) =>
    environment.fileExists(
      join(prefix, 'share', 'ament_index', 'resource_index', 'packages', SPIKELOOP_MSGS_PACKAGE),
    ),
  );
  if (!hasMsgs) {
    return (
      `ROS 2 bridge unavailable: package ${SPIKELOOP_MSGS_PACKAGE} is not on AMENT_PREFIX_PATH` +
      ` (colcon build msgs/ and source install/setup.bash; ${SETUP_HINT})`
    );
  }
  return null;
}

/** Checks the environment, then imports rclnodejs; throws Ros2UnavailableError with one line. */
export async function loadRclnodejs(environment = currentRos2Environment()): Promise<RclApi> {
  const missing = missingRos2Piece(environment);
  if (missing !== null) throw new Ros2UnavailableError(missing);
  let loaded: unknown;
  try {
    // A variable specifier keeps bundlers and the type checker from treating this as a static edge.
    const specifier = 'rclnodejs';
    loaded = await import(specifier);
  } catch (error) {
    const first = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    throw new Ros2UnavailableError(
      `ROS 2 bridge unavailable: loading rclnodejs failed: ${first} (${SETUP_HINT})`,
    );
  }
  // rclnodejs's ESM build exports one default object; its typings describe it as named exports.
  const module = loaded as { default?: RclApi } & Partial<RclApi>;
  const api = module.default ?? (module as RclApi);
  // rclnodejs's own SIGINT handler shuts rcl down before ours can publish the stop command; the
  // run's handlers own SIGINT and SIGTERM and halt the robot before anything is torn down.
  api.removeSignalHandlers?.();
  return api;
}
