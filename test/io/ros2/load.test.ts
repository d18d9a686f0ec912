/**
 * Without ROS 2 the bridge says in one line what is missing, before touching rclnodejs (whose
 * import would start a native build), and `spikeloop run --env ros2` exits non-zero with that line.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ros2UnavailableError } from '../../../src/io/ros2/errors.js';
import {
  currentRos2Environment,
  loadRclnodejs,
  missingRos2Piece,
  type Ros2Environment,
} from '../../../src/io/ros2/load.js';

const ROOT = join(import.meta.dirname, '../../..');
const RCL = '/app/node_modules/rclnodejs';

function environment(
  env: NodeJS.ProcessEnv,
  files: string[],
  osRelease = 'VERSION_CODENAME=noble\n',
): Ros2Environment {
  return {
    env,
    rclnodejsPackageJson: `${RCL}/package.json`,
    osRelease,
    fileExists: (path) => files.includes(path),
  };
}

const sourced = { ROS_DISTRO: 'jazzy', AMENT_PREFIX_PATH: '/ws/install/spikeloop_msgs:/opt/ros/jazzy' };
const msgsIndex = '/ws/install/spikeloop_msgs/share/ament_index/resource_index/packages/spikeloop_msgs';
const built = `${RCL}/build/Release/rclnodejs.node`;
const generated = `${RCL}/generated`;

describe('what is missing for ROS 2, in one line', () => {
  it('no sourced ROS 2', () => {
    expect(missingRos2Piece(environment({}, []))).toBe(
      'ROS 2 is not available: ROS_DISTRO is not set (source /opt/ros/<distro>/setup.bash first; see docs/ros2.md)',
    );
  });

  it('rclnodejs not installed', () => {
    expect(missingRos2Piece({ ...environment(sourced, []), rclnodejsPackageJson: null })).toMatch(
      /the optional dependency rclnodejs is not installed/,
    );
  });

  it('the native addon neither built nor prebuilt for this distro and Ubuntu release', () => {
    expect(missingRos2Piece(environment(sourced, [generated, msgsIndex]))).toMatch(
      /rclnodejs's native addon is not built for ROS jazzy \(run npm run ros2:setup/,
    );
  });

  it('a prebuilt addon for the distro and codename counts, then the generated bindings are required', () => {
    if (process.platform !== 'linux') return;
    const prebuilt = `${RCL}/prebuilds/linux-${process.arch}/jazzy-noble-${process.arch}-node-rclnodejs.node`;
    expect(missingRos2Piece(environment(sourced, [prebuilt]))).toMatch(
      /has not generated its message bindings/,
    );
    expect(missingRos2Piece(environment(sourced, [prebuilt, generated, msgsIndex]))).toBeNull();
    // The same file does not serve another Ubuntu release.
    expect(
      missingRos2Piece(environment(sourced, [prebuilt, generated, msgsIndex], 'VERSION_CODENAME=jammy\n')),
    ).toMatch(/native addon is not built/);
  });

  it('spikeloop_msgs not built and sourced', () => {
    expect(missingRos2Piece(environment(sourced, [built, generated]))).toBe(
      'ROS 2 bridge unavailable: package spikeloop_msgs is not on AMENT_PREFIX_PATH (colcon build msgs/ and source install/setup.bash; see docs/ros2.md)',
    );
    expect(missingRos2Piece(environment(sourced, [built, generated, msgsIndex]))).toBeNull();
  });

  it('loadRclnodejs throws Ros2UnavailableError with a single line and never imports rclnodejs', async () => {
    const error = await loadRclnodejs(environment({}, [])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Ros2UnavailableError);
    expect((error as Error).message).not.toContain('\n');
  });
});

describe('this installation', () => {
  it('has rclnodejs with its typings (optional dependency, install scripts not run)', () => {
    const here = currentRos2Environment();
    expect(here.rclnodejsPackageJson).not.toBeNull();
    expect(existsSync(join(here.rclnodejsPackageJson!, '..', 'types', 'index.d.ts'))).toBe(true);
  });

  // Runs with or without a sourced ROS 2: the child gets no ROS_DISTRO, the first thing checked.
  it('`spikeloop run --env ros2` without ROS 2 prints one line and exits non-zero', () => {
    const env = { ...process.env };
    delete env.ROS_DISTRO;
    const result = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'run',
        '--env',
        'ros2',
        '--backend',
        'cpu',
        '--n',
        '500',
        '--duration',
        '1',
      ],
      { cwd: ROOT, env, encoding: 'utf8' },
    );
    expect(result.status).not.toBe(0);
    const lines = result.stderr
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('npm warn'));
    expect(lines).toEqual([
      'spikeloop: ROS 2 is not available: ROS_DISTRO is not set (source /opt/ros/<distro>/setup.bash first; see docs/ros2.md)',
    ]);
    expect(result.stdout).toBe('');
  });
});
