/**
 * `spikeloop bench ros2`: sensor publish → command receipt over a real ROS 2 graph (DDS). The
 * bridge (`spikeloop run --env ros2`) runs as a separate process with the TurtleBot3 params turned
 * into a TwistStamped output published every tick (maxPublishHz 1000); this process is the robot:
 * it publishes LaserScans, each with a distinct header stamp, and takes the first TwistStamped
 * whose header carries a scan's stamp (the bridge stamps each command with the newest sensor
 * stamp it reflects) as that scan's answer. Both ends are measured on this process's clock, so no
 * clock synchronisation is involved. Needs a sourced ROS 2 with the bridge set up (docs/ros2.md);
 * otherwise it prints why and reports nothing. A benchmark reports numbers; it never fails on them.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { stringify as stringifyYaml } from 'yaml';
import { loadConfigFile } from '../config/load.js';
import { currentRos2Environment, loadRclnodejs, missingRos2Piece } from '../io/ros2/load.js';
import type { RclTypeClass } from '../io/ros2/rcl-api.js';
import { printRows } from './output.js';
import { finiteNumber, integer } from './parse.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin/spikeloop.js');

interface BenchRos2Options {
  duration: number;
  n: number;
  rateHz: number;
  publishHz: number;
  json?: boolean;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

interface StampedTwist {
  header: { stamp: { sec: number; nanosec: number } };
}

export function registerBenchRos2(bench: Command): Command {
  return bench
    .command('ros2')
    .description('sensor publish → command receipt over ROS 2 DDS, the bridge in a separate process')
    .option('--duration <s>', 'measured seconds', finiteNumber('--duration'), 10)
    .option('--n <neurons>', 'network size', integer('--n', 5), 1000)
    .option('--rate-hz <hz>', 'LaserScans published per second', finiteNumber('--rate-hz'), 100)
    .option(
      '--publish-hz <hz>',
      "the bridge's command rate cap (maxPublishHz)",
      finiteNumber('--publish-hz'),
      1000,
    )
    .option('--json', 'one JSON object per line')
    .action(async (options: BenchRos2Options) => {
      const missing = missingRos2Piece(currentRos2Environment());
      if (missing !== null) {
        console.error(`spikeloop: bench ros2 skipped: ${missing}`);
        return;
      }
      printRows([await benchRos2(options)], options.json === true);
    });
}

async function benchRos2(options: BenchRos2Options) {
  const dir = mkdtempSync(join(tmpdir(), 'spikeloop-bench-ros2-'));
  const params = loadConfigFile(join(ROOT, 'launch/params/turtlebot3.yaml'), 'robot params file') as {
    motors: Record<string, unknown>[];
    sensors: Record<string, unknown>[];
  };
  const ns = `/bench_${process.pid}`;
  params.motors[0] = {
    ...params.motors[0],
    type: 'geometry_msgs/msg/TwistStamped',
    maxPublishHz: options.publishHz,
  };
  params.sensors[0] = { ...params.sensors[0], qos: { reliability: 'reliable', depth: 1 } };
  const file = join(dir, 'bench.yaml');
  writeFileSync(file, stringifyYaml(params));

  const rcl = (await loadRclnodejs()) as unknown as typeof import('rclnodejs');
  await rcl.init();
  const node = rcl.createNode(`spikeloop_bench_robot_${process.pid}`);
  const sentAtMs = new Map<string, number>();
  const latenciesUs: number[] = [];
  let commands = 0;
  let measuring = false;
  node.createSubscription(
    'geometry_msgs/msg/TwistStamped' as RclTypeClass,
    `${ns}/cmd_vel`,
    { qos: new rcl.QoS(rcl.QoS.HistoryPolicy.RMW_QOS_POLICY_HISTORY_KEEP_LAST, 100) },
    (message: unknown) => {
      const receivedMs = performance.now();
      commands++;
      const { sec, nanosec } = (message as StampedTwist).header.stamp;
      const key = `${sec}.${nanosec}`;
      const sent = sentAtMs.get(key);
      if (sent === undefined) return;
      sentAtMs.delete(key);
      if (measuring) latenciesUs.push((receivedMs - sent) * 1000);
    },
  );
  const scans = node.createPublisher('sensor_msgs/msg/LaserScan' as RclTypeClass, `${ns}/scan`, {
    qos: new rcl.QoS(rcl.QoS.HistoryPolicy.RMW_QOS_POLICY_HISTORY_KEEP_LAST, 1),
  });
  node.spin();

  const bridge = spawn(
    process.execPath,
    [
      BIN,
      'run',
      '--env',
      'ros2',
      '--env-set',
      `robot=${file}`,
      '--backend',
      'cpu',
      '--n',
      String(options.n),
      '--no-report',
      '--duration',
      String(options.duration + 60),
      '--ros-args',
      '-r',
      `__ns:=${ns}`,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'], env: process.env },
  );
  const ranges = new Float32Array(360).fill(Number.POSITIVE_INFINITY);
  let ns0 = BigInt(Date.now()) * 1_000_000n;
  const publish = () => {
    // Distinct stamps even within one millisecond.
    ns0 += 1000n;
    const stamp = { sec: Number(ns0 / 1_000_000_000n), nanosec: Number(ns0 % 1_000_000_000n) };
    sentAtMs.set(`${stamp.sec}.${stamp.nanosec}`, performance.now());
    if (sentAtMs.size > 10_000) sentAtMs.delete(sentAtMs.keys().next().value!);
    scans.publish({
      header: { stamp, frame_id: 'base_scan' },
      angle_min: 0,
      angle_max: (2 * Math.PI * 359) / 360,
      angle_increment: (2 * Math.PI) / 360,
      time_increment: 0,
      scan_time: 0.01,
      range_min: 0.12,
      range_max: 3.5,
      ranges,
      intensities: [],
    });
  };
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  try {
    // Warm-up: until the bridge answers (at most 60 s), then 1 s more.
    const upBy = performance.now() + 60_000;
    while (commands === 0 || latenciesUs.length === 0) {
      if (performance.now() > upBy) throw new Error('bench ros2: the bridge sent no command within 60 s');
      measuring = true;
      publish();
      await sleep(1000 / options.rateHz);
    }
    latenciesUs.length = 0;
    await sleep(1000);
    const startMs = performance.now();
    const commandsAtStart = commands;
    latenciesUs.length = 0;
    let sent = 0;
    for (let k = 1; performance.now() - startMs < options.duration * 1000; k++) {
      publish();
      sent++;
      const next = startMs + (k * 1000) / options.rateHz;
      await sleep(Math.max(0, next - performance.now()));
    }
    await sleep(200);
    const elapsedS = (performance.now() - startMs) / 1000;
    const sorted = [...latenciesUs].sort((a, b) => a - b);
    const round = (us: number) => Math.round(us);
    return {
      bench: 'ros2',
      distro: process.env.ROS_DISTRO ?? '',
      rmw: process.env.RMW_IMPLEMENTATION ?? '',
      n: options.n,
      scansSent: sent,
      scansAnswered: sorted.length,
      commandRateHz: Math.round((commands - commandsAtStart) / elapsedS),
      p50Us: round(percentile(sorted, 0.5)),
      p99Us: round(percentile(sorted, 0.99)),
      p999Us: round(percentile(sorted, 0.999)),
      maxUs: round(sorted.at(-1) ?? Number.NaN),
    };
  } finally {
    bridge.kill('SIGINT');
    await new Promise((resolve) => {
      const timer = setTimeout(() => bridge.kill('SIGKILL'), 10_000);
      bridge.once('exit', () => resolve(clearTimeout(timer)));
      if (bridge.exitCode !== null) resolve(clearTimeout(timer));
    });
    node.destroy();
    rcl.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
}
