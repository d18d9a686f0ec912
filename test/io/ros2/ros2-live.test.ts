/**
 * End to end on a real ROS 2 graph: `spikeloop run --env ros2` with the TurtleBot3 params, a driver
 * node here publishing LaserScans on /scan and listening to /cmd_vel. Runs only where ROS 2 is
 * sourced and the bridge can load (docs/ros2.md); elsewhere it is skipped and says why.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { currentRos2Environment, loadRclnodejs, missingRos2Piece } from '../../../src/io/ros2/load.js';
import type { LaserScanMsg, TwistMsg } from '../../../src/io/ros2/messages.js';
import type { RclTypeClass } from '../../../src/io/ros2/rcl-api.js';

const ROOT = join(import.meta.dirname, '../../..');
const missing = missingRos2Piece(currentRos2Environment());
if (missing !== null) console.log(`ROS 2 live tests skipped: ${missing}`);

function scan(obstacleLeftM: number | null): LaserScanMsg {
  const ranges = new Float32Array(360).fill(Number.POSITIVE_INFINITY);
  // An obstacle 45° to the left, 20° wide.
  if (obstacleLeftM !== null) for (let deg = 35; deg <= 55; deg++) ranges[deg] = obstacleLeftM;
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  return {
    header: {
      stamp: { sec: Number(nowNs / 1_000_000_000n), nanosec: Number(nowNs % 1_000_000_000n) },
      frame_id: 'base_scan',
    },
    angle_min: 0,
    angle_max: (2 * Math.PI * 359) / 360,
    angle_increment: (2 * Math.PI) / 360,
    time_increment: 0,
    scan_time: 0.1,
    range_min: 0.12,
    range_max: 3.5,
    ranges,
    intensities: [],
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(missing !== null)('ROS 2 bridge on a live graph', () => {
  let bridgeProcess: ChildProcess | null = null;
  afterAll(() => {
    bridgeProcess?.kill('SIGINT');
  });

  it('comes up as spikeloop_bridge, and a LaserScan from another node moves the Twist output', async () => {
    const rcl = await loadRclnodejs();
    await rcl.init();
    const node = rcl.createNode('spikeloop_test_driver');
    const scans = node.createPublisher('sensor_msgs/msg/LaserScan' as RclTypeClass, '/scan');
    const twists: { atMs: number; twist: TwistMsg }[] = [];
    const cmdVel = node.createSubscription(
      'geometry_msgs/msg/Twist' as RclTypeClass,
      '/cmd_vel',
      (message: unknown) => twists.push({ atMs: performance.now(), twist: message as TwistMsg }),
    );
    node.spin();

    bridgeProcess = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'run',
        '--env',
        'ros2',
        '--env-set',
        'robot=launch/params/turtlebot3.yaml',
        '--backend',
        'cpu',
        '--n',
        '1000',
        '--duration',
        '20',
      ],
      { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    // The bridge is up when it publishes /cmd_vel.
    for (let k = 0; k < 100 && cmdVel.publisherCount() === 0; k++) await sleep(100);
    expect(cmdVel.publisherCount()).toBeGreaterThan(0);

    const phase = async (obstacle: number | null) => {
      const from = performance.now();
      for (let k = 0; k < 30; k++) {
        scans.publish(scan(obstacle));
        await sleep(100);
      }
      return twists.filter((t) => t.atMs >= from + 1000).map((t) => t.twist.angular.z);
    };
    const free = await phase(null);
    const blocked = await phase(0.3);
    expect(free.length).toBeGreaterThan(0);
    expect(blocked.length).toBeGreaterThan(0);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(Math.abs(mean(blocked) - mean(free))).toBeGreaterThan(0.01);
    node.destroy();
    rcl.shutdown();
  }, 60_000);
});
