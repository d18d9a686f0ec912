/**
 * End to end on a real ROS 2 graph (real processes, real DDS): the spikeloop CLI as the node
 * spikeloop_bridge, and this test as the robot side (rclnodejs) publishing sensor messages and
 * listening to commands and telemetry. Runs only where ROS 2 is sourced and the bridge can load
 * (docs/ros2.md; .ci/run sets it up); elsewhere it is skipped and says why. Everything runs in a
 * DDS domain of its own (ROS_DOMAIN_ID 87) on loopback, one bridge process at a time, each bounded
 * by --duration and killed at the end at the latest.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as Rcl from 'rclnodejs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { currentRos2Environment, loadRclnodejs, missingRos2Piece } from '../../../src/io/ros2/load.js';
import type { DiagnosticArrayMsg, LaserScanMsg, TwistMsg } from '../../../src/io/ros2/messages.js';
import type { LatencyReportMsg, PopulationActivityMsg } from '../../../src/io/ros2/spikeloop-msgs.js';
import { readRecording } from '../../../src/record/reader.js';
import { replay } from '../../../src/record/replay.js';

const ROOT = join(import.meta.dirname, '../../..');
const PARAMS = join(ROOT, 'launch/params');
const DOMAIN_ID = '87';
const missing = missingRos2Piece(currentRos2Environment());
if (missing !== null) console.log(`ROS 2 live tests skipped: ${missing}`);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

function stampNow(): { sec: number; nanosec: number } {
  const ns = BigInt(Date.now()) * 1_000_000n;
  return { sec: Number(ns / 1_000_000_000n), nanosec: Number(ns % 1_000_000_000n) };
}

/** A 360-beam scan (0…2π); `obstacle` puts a wall at `rangeM` over the beams around `centreDeg`. */
function scan(obstacle: { centreDeg: number; rangeM: number } | null, beams = 360): LaserScanMsg {
  const ranges = new Float32Array(beams).fill(Number.POSITIVE_INFINITY);
  if (obstacle) {
    for (let d = -20; d <= 20; d++) ranges[(obstacle.centreDeg + d + 360) % 360] = obstacle.rangeM;
  }
  return {
    header: { stamp: stampNow(), frame_id: 'base_scan' },
    angle_min: 0,
    angle_max: (2 * Math.PI * (beams - 1)) / beams,
    angle_increment: (2 * Math.PI) / beams,
    time_increment: 0,
    scan_time: 0.1,
    range_min: 0.12,
    range_max: 3.5,
    ranges: beams === 0 ? [] : ranges,
    intensities: [],
  };
}

/** A bridge process: `spikeloop run --env ros2` with a params file, its stderr collected. */
class BridgeProcess {
  readonly process: ChildProcess;
  stderr = '';
  exitCode: number | null = null;
  readonly exited: Promise<void>;

  constructor(command: string, args: string[], env: NodeJS.ProcessEnv) {
    this.process = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    // ros2 launch prints the node's output on stdout: both streams are collected.
    this.process.stdout!.setEncoding('utf8');
    this.process.stdout!.on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.process.stderr!.setEncoding('utf8');
    this.process.stderr!.on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) =>
      this.process.on('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? 128 : null);
        resolve();
      }),
    );
  }

  static run(robot: string, extra: string[] = []): BridgeProcess {
    return new BridgeProcess(
      process.execPath,
      [
        join(ROOT, 'bin/spikeloop.js'),
        'run',
        '--env',
        'ros2',
        '--env-set',
        `robot=${join(PARAMS, `${robot}.yaml`)}`,
        '--backend',
        'cpu',
        '--n',
        '1000',
        '--warmup',
        '0',
        '--no-report',
        '--duration',
        '60',
        // LatencyReport's late_policy comes from the run's own --late-policy (here its default).
        ...extra,
      ],
      rosEnv(),
    );
  }

  linesMatching(pattern: RegExp): string[] {
    return this.stderr.split('\n').filter((line) => pattern.test(line));
  }

  /** Stops it (SIGKILL after 20 s at the latest) and waits for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGINT'): Promise<void> {
    if (this.exitCode !== null) return;
    this.process.kill(signal);
    const timer = setTimeout(() => this.process.kill('SIGKILL'), 20_000);
    await this.exited;
    clearTimeout(timer);
  }
}

function rosEnv(): NodeJS.ProcessEnv {
  return { ...process.env, ROS_DOMAIN_ID: DOMAIN_ID, SPIKELOOP_HOME: ROOT };
}

const isZeroTwist = (t: TwistMsg) =>
  t.linear.x === 0 &&
  t.linear.y === 0 &&
  t.linear.z === 0 &&
  t.angular.x === 0 &&
  t.angular.y === 0 &&
  t.angular.z === 0;

describe.skipIf(missing !== null)('ROS 2 bridge on a live graph', () => {
  let rcl: typeof Rcl;
  let node: Rcl.Node;
  let bridge: BridgeProcess | null = null;
  const twists: { atMs: number; twist: TwistMsg }[] = [];

  beforeAll(async () => {
    // This process is the robot; it must be in the bridge's domain before rcl starts.
    process.env.ROS_DOMAIN_ID = DOMAIN_ID;
    rcl = (await loadRclnodejs()) as unknown as typeof Rcl;
    await rcl.init();
    node = rcl.createNode('spikeloop_live_test_robot');
    node.createSubscription('geometry_msgs/msg/Twist', '/cmd_vel', (message) =>
      twists.push({ atMs: performance.now(), twist: message as unknown as TwistMsg }),
    );
    node.spin();
  });

  afterEach(async () => {
    await bridge?.stop('SIGINT');
    bridge = null;
  });

  afterAll(() => {
    node?.destroy();
    if (rcl && !rcl.isShutdown()) rcl.shutdown();
  });

  const scanPublisher = () =>
    node.createPublisher('sensor_msgs/msg/LaserScan', '/scan', {
      qos: new rcl.QoS(rcl.QoS.HistoryPolicy.RMW_QOS_POLICY_HISTORY_KEEP_LAST, 1),
    });

  /** Publishes scans at 20 Hz for `ms`; returns the Twists received during the last half. */
  async function drive(
    publisher: Rcl.Publisher<'sensor_msgs/msg/LaserScan'>,
    obstacle: { centreDeg: number; rangeM: number } | null,
    ms: number,
  ): Promise<TwistMsg[]> {
    const from = performance.now();
    while (performance.now() - from < ms) {
      publisher.publish(scan(obstacle) as unknown as Rcl.sensor_msgs.msg.LaserScan);
      await sleep(50);
    }
    return twists.filter((t) => t.atMs >= from + ms / 2).map((t) => t.twist);
  }

  it('turtlebot3: only zero Twists before the first scan; a scan round trip turns away within the clamps; zero when the scan goes stale; one log line for an empty scan and for a wrong type; zero on SIGINT', async () => {
    twists.length = 0;
    bridge = BridgeProcess.run('turtlebot3');
    await waitFor('a first Twist from this bridge', () => twists.length > 0, 90_000);
    // Nothing but a safe command before the first sample.
    await waitFor('a first Twist', () => twists.length >= 5, 30_000);
    expect(twists.every((t) => isZeroTwist(t.twist))).toBe(true);
    await waitFor(
      'the stale entry log line',
      () => /safety: cmd_vel → stop: no scan sample yet/.test(bridge!.stderr),
      5000,
    );

    const publisher = scanPublisher();
    const free = await drive(publisher, null, 2000);
    const left = await drive(publisher, { centreDeg: 45, rangeM: 0.2 }, 3000);
    const right = await drive(publisher, { centreDeg: 315, rangeM: 0.2 }, 3000);
    for (const batch of [free, left, right]) expect(batch.length).toBeGreaterThanOrEqual(3);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const turn = (batch: TwistMsg[]) => mean(batch.map((t) => t.angular.z));
    console.log(`turn free ${turn(free)} left ${turn(left)} right ${turn(right)}`);
    // An obstacle to the left turns the robot right (negative yaw rate), and vice versa.
    expect(turn(left)).toBeLessThan(turn(right) - 0.1);
    for (const t of [...free, ...left, ...right]) {
      expect(Math.abs(t.angular.z)).toBeLessThanOrEqual(2.84 + 1e-9);
      expect(Math.abs(t.linear.x)).toBeLessThanOrEqual(0.22 + 1e-9);
    }
    expect(bridge.stderr).toMatch(/safety: cmd_vel resumes/);

    // Sensors go silent: after staleAfterMs (500 ms) only zeros.
    const silentFrom = performance.now();
    await sleep(1500);
    const late = twists.filter((t) => t.atMs > silentFrom + 700).map((t) => t.twist);
    expect(late.length).toBeGreaterThanOrEqual(2);
    expect(late.every(isZeroTwist)).toBe(true);
    // Logged on entry, not per stopped tick (a loaded machine may have had a stall before, too).
    const staleLines = bridge.linesMatching(/safety: cmd_vel → stop: scan stale/);
    expect(staleLines.length).toBeGreaterThanOrEqual(1);
    expect(staleLines.length).toBeLessThanOrEqual(3);

    // An empty scan: one log line, however many arrive.
    for (let k = 0; k < 10; k++) {
      publisher.publish(scan(null, 0) as unknown as Rcl.sensor_msgs.msg.LaserScan);
      await sleep(30);
    }
    await waitFor('the empty-scan line', () => /empty scan/.test(bridge!.stderr), 3000);
    await sleep(300);
    expect(bridge.linesMatching(/empty scan/)).toHaveLength(1);

    // A std_msgs/String on the scan topic never reaches the subscription: one line says so.
    const wrong = node.createPublisher('std_msgs/msg/String', '/scan');
    for (let k = 0; k < 10; k++) {
      wrong.publish({ data: 'not a scan' });
      await sleep(100);
    }
    await waitFor('the wrong-type line', () => /carries std_msgs\/msg\/String/.test(bridge!.stderr), 4000);
    await sleep(1200);
    expect(bridge.linesMatching(/carries std_msgs\/msg\/String/)).toHaveLength(1);
    node.destroyPublisher(wrong);

    // Drive again, then Ctrl-C: the last Twist is zero and goes out before rcl shuts down.
    const again = await drive(publisher, { centreDeg: 45, rangeM: 0.3 }, 2000);
    expect(
      again.some((t) => !isZeroTwist(t)),
      bridge.stderr,
    ).toBe(true);
    await bridge.stop('SIGINT');
    await sleep(300);
    expect(isZeroTwist(twists.at(-1)!.twist)).toBe(true);
    expect(bridge.stderr).not.toMatch(/publisher pointer is invalid|failed/);
    node.destroyPublisher(publisher);
  }, 240_000);

  it('turtlebot3: an overrun (the process stopped for 300 ms) and SIGTERM each give a zero Twist', async () => {
    twists.length = 0;
    bridge = BridgeProcess.run('turtlebot3');
    await waitFor('a first Twist from this bridge', () => twists.length > 0, 90_000);
    const publisher = scanPublisher();
    // Driving (a non-zero Twist) first; a loaded machine may take a while, 60 s at most.
    const drivingFrom = performance.now();
    const moving = () => twists.some((t) => t.atMs > drivingFrom && !isZeroTwist(t.twist));
    while (!moving() && performance.now() - drivingFrom < 60_000) {
      await drive(publisher, { centreDeg: 45, rangeM: 0.3 }, 500);
    }
    expect(moving(), bridge.stderr).toBe(true);
    // The loop (and its event loop) freeze; meanwhile scans keep coming, so only timing is wrong.
    const driving = drive(publisher, { centreDeg: 45, rangeM: 0.3 }, 2000);
    await sleep(500);
    bridge.process.kill('SIGSTOP');
    await sleep(300);
    const resumedAt = performance.now();
    bridge.process.kill('SIGCONT');
    await driving;
    const afterResume = twists.filter((t) => t.atMs >= resumedAt).map((t) => t.twist);
    const firstAfterResume = twists.filter((t) => t.atMs >= resumedAt && t.atMs < resumedAt + 500);
    expect(
      firstAfterResume.some((t) => isZeroTwist(t.twist)),
      bridge.stderr,
    ).toBe(true);
    // …and it drives on once on time again.
    while (!afterResume.some((t) => !isZeroTwist(t)) && performance.now() - resumedAt < 60_000) {
      afterResume.push(...(await drive(publisher, { centreDeg: 45, rangeM: 0.3 }, 500)));
    }
    expect(afterResume.some((t) => !isZeroTwist(t))).toBe(true);
    await bridge.stop('SIGTERM');
    await sleep(300);
    expect(isZeroTwist(twists.at(-1)!.twist)).toBe(true);
    node.destroyPublisher(publisher);
  }, 180_000);

  it('PopulationActivity, LatencyReport and diagnostics carry what the .msg files say', async () => {
    const activity: PopulationActivityMsg[] = [];
    const latency: LatencyReportMsg[] = [];
    const diagnostics: DiagnosticArrayMsg[] = [];
    const subs = [
      node.createSubscription(
        'spikeloop_msgs/msg/PopulationActivity',
        '/spikeloop_bridge/population_activity',
        (m) => activity.push(m as unknown as PopulationActivityMsg),
      ),
      node.createSubscription('spikeloop_msgs/msg/LatencyReport', '/spikeloop_bridge/latency_report', (m) =>
        latency.push(m as unknown as LatencyReportMsg),
      ),
      node.createSubscription('diagnostic_msgs/msg/DiagnosticArray', '/diagnostics', (m) =>
        diagnostics.push(m as unknown as DiagnosticArrayMsg),
      ),
    ];
    twists.length = 0;
    bridge = BridgeProcess.run('turtlebot3');
    const publisher = scanPublisher();
    await waitFor('a first Twist from this bridge', () => twists.length > 0, 90_000);
    await drive(publisher, null, 2500);
    await waitFor(
      'telemetry',
      () => activity.length >= 5 && latency.length >= 5 && diagnostics.length >= 5,
      5000,
    );

    // 1000 neurons: 20 E clusters of 40, 20 I clusters of 10.
    const a = activity.at(-1)!;
    expect(a.names.length).toBe(40);
    expect(a.names[0]).toBe('E0');
    expect(a.names[20]).toBe('I0');
    expect(Array.from(a.sizes).reduce((x, y) => x + y, 0)).toBe(1000);
    // window_s is biological: ticks between messages × 1 ms (10 Hz → about 0.1 s).
    const previous = activity.at(-2)!;
    expect(a.window_s).toBeCloseTo(Number(a.tick - previous.tick) / 1000, 5);
    // Counted spikes, and rates per neuron derived from them.
    const counts = Array.from(a.spike_counts);
    expect(counts.reduce((x, y) => x + y, 0)).toBeGreaterThan(0);
    counts.forEach((count, p) => {
      expect(Number.isInteger(count)).toBe(true);
      expect(a.rates_hz[p]!).toBeCloseTo(count / (a.sizes[p]! * a.window_s), 2);
    });

    const l = latency.at(-1)!;
    expect(l.tick_ms).toBe(1);
    expect(l.late_policy).toBe('skip');
    expect(Number(l.ticks)).toBeGreaterThan(0);
    expect(Number(l.missed)).toBeGreaterThanOrEqual(0);
    expect(l.stats.map((s) => s.name)).toEqual(['tick_lateness', 'tick_compute', 'e2e']);
    const compute = l.stats[1]!;
    expect(Number(compute.count)).toBeGreaterThan(0);
    expect(compute.p50_us).toBeLessThanOrEqual(compute.p99_us);
    expect(compute.p99_us).toBeLessThanOrEqual(compute.max_us);

    const statuses = diagnostics.at(-1)!.status;
    const names = statuses.map((s) => s.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'spikeloop_bridge: tick deadlines',
        'spikeloop_bridge: sensor scan',
        'spikeloop_bridge: motor cmd_vel',
      ]),
    );
    const motor = statuses.find((s) => s.name === 'spikeloop_bridge: motor cmd_vel')!;
    expect(motor.values.find((v) => v.key === 'safety')?.value).toBe('command');
    // Silence: the scan goes STALE and the motor reports the stop policy.
    await sleep(1200);
    const staleStatuses = diagnostics.at(-1)!.status;
    expect(staleStatuses.find((s) => s.name === 'spikeloop_bridge: sensor scan')!.level).toBe(3);
    const staleMotor = staleStatuses.find((s) => s.name === 'spikeloop_bridge: motor cmd_vel')!;
    expect(staleMotor.message).toMatch(/stale-input policy: stop \(stale input: scan\)/);
    for (const sub of subs) node.destroySubscription(sub);
    node.destroyPublisher(publisher);
  }, 180_000);

  it('turtlebot3 with --record: the recording replays bit for bit offline, without ROS 2 (scans, a Stimulus, a stale stop)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'spikeloop-ros2-record-')), 'turtlebot3.mcap');
    twists.length = 0;
    bridge = BridgeProcess.run('turtlebot3', ['--record', file]);
    await waitFor('a first Twist from this bridge', () => twists.length > 0, 90_000);
    const publisher = scanPublisher();
    const stimulus = node.createPublisher('spikeloop_msgs/msg/Stimulus', '/spikeloop_bridge/stimulus');
    await drive(publisher, null, 1500);
    stimulus.publish({
      header: { stamp: stampNow(), frame_id: '' },
      populations: [0, 1],
      currents_pa: [30, -10],
      duration_ms: 300,
    } as unknown as Rcl.spikeloop_msgs.msg.Stimulus);
    await drive(publisher, { centreDeg: 45, rangeM: 0.3 }, 1500);
    // Silent for longer than staleAfterMs (500 ms): the bridge stops the robot, then resumes.
    await sleep(1000);
    await drive(publisher, { centreDeg: 315, rangeM: 0.3 }, 1500);
    await bridge.stop('SIGINT');
    // Stopped by Ctrl-C (128 + 2), after the report and the recording were written.
    expect(bridge.exitCode, bridge.stderr).toBe(130);
    node.destroyPublisher(publisher);
    node.destroyPublisher(stimulus);

    const recording = await readRecording(file);
    expect(recording.description.env).toBe('ros2');
    expect(recording.description.robot?.robot).toBe('turtlebot3');
    expect(recording.inputs).toEqual(['scan', 'stimulus']);
    const taken = (input: string) => recording.ticks.filter((t) => t.samples.has(input)).length;
    // About 90 scans were sent at 20 Hz; a loaded machine delivers fewer (keep-last 1), never none.
    expect(taken('scan')).toBeGreaterThan(10);
    expect(taken('stimulus')).toBeGreaterThanOrEqual(1);
    const actions = recording.ticks.map((t) => t.actions.get('cmd_vel'));
    const firstCommand = actions.indexOf('command');
    expect(actions[0]).toBe('stop');
    expect(actions.indexOf('stop', firstCommand)).toBeGreaterThan(firstCommand);
    // Offline, in this process: spikes and commands equal the live run's, tick for tick.
    const result = await replay(file, { backend: 'cpu' });
    expect(result, JSON.stringify(result.firstDivergence)).toMatchObject({
      identical: true,
      ticks: recording.ticks.length,
      firstDivergence: null,
    });
  }, 240_000);

  it('ros2_control_arm: JointState in, Float64MultiArray commands out; nothing before the first joint state (hold)', async () => {
    const commands: { atMs: number; data: number[] }[] = [];
    const sub = node.createSubscription(
      'std_msgs/msg/Float64MultiArray',
      '/forward_position_controller/commands',
      (m) =>
        commands.push({ atMs: performance.now(), data: Array.from((m as { data: ArrayLike<number> }).data) }),
    );
    const joints = node.createPublisher('sensor_msgs/msg/JointState', '/joint_states');
    bridge = BridgeProcess.run('ros2_control_arm');
    await waitFor('the bridge node', () => node.getNodeNames().includes('spikeloop_bridge'), 90_000);
    await sleep(1500);
    expect(commands).toHaveLength(0); // hold with nothing to hold: silent, never zeros
    const publishJoints = async (positions: number[], ms: number) => {
      const from = performance.now();
      while (performance.now() - from < ms) {
        joints.publish({
          header: { stamp: stampNow(), frame_id: '' },
          name: ['joint1', 'joint2', 'joint3', 'joint4', 'joint5', 'joint6'],
          position: positions,
          velocity: [],
          effort: [],
        });
        await sleep(10);
      }
    };
    const publishing = (async () => {
      while (commands.length <= 20 && bridge!.exitCode === null) await publishJoints([0, 0, 0, 0, 0, 0], 100);
    })();
    await waitFor('20 arm commands', () => commands.length > 20, 20_000);
    await publishing;
    for (const c of commands) {
      expect(c.data).toHaveLength(6);
      expect(Math.abs(c.data[1]!)).toBeLessThanOrEqual(1.57 + 1e-9);
    }
    // The commands follow the joints: joint k drives E<k>, which the decoder of joint k reads.
    const meanOver = async (positions: number[], ms: number) => {
      const from = performance.now();
      await publishJoints(positions, ms);
      const recent = commands.filter((c) => c.atMs > from + ms / 2);
      return recent.reduce((sum, c) => sum + c.data.reduce((a, b) => a + b, 0) / 6, 0) / recent.length;
    };
    const atZero = await meanOver([0, 0, 0, 0, 0, 0], 2000);
    const raised = await meanOver([1.5, 1.5, 1.5, 1.5, 1.5, 1.5], 3000);
    expect(raised).toBeGreaterThan(atZero + 0.1);
    // Silence: after staleAfterMs (200 ms) hold repeats the last command; it never drops to zero.
    await sleep(500);
    const held = commands.at(-1)!;
    await sleep(500);
    const later = commands.filter((c) => c.atMs > held.atMs);
    expect(later.length).toBeGreaterThanOrEqual(2);
    for (const c of later) expect(c.data).toEqual(held.data);
    expect(bridge.stderr).toMatch(/safety: arm → hold: joints stale/);
    await bridge.stop('SIGINT');
    node.destroySubscription(sub);
    node.destroyPublisher(joints);
  }, 180_000);

  it('gazebo_diff_drive: scan and IMU in, Twist out', async () => {
    twists.length = 0;
    const imu = node.createPublisher('sensor_msgs/msg/Imu', '/imu');
    const publisher = scanPublisher();
    bridge = BridgeProcess.run('gazebo_diff_drive');
    await waitFor('a first Twist from this bridge', () => twists.length > 0, 90_000);
    const from = performance.now();
    const moving = () => twists.filter((t) => t.atMs > from && !isZeroTwist(t.twist)).length;
    // Until 10 non-zero Twists answered (a loaded machine is slow to get there), 60 s at most.
    while (moving() < 10 && performance.now() - from < 60_000) {
      publisher.publish(scan({ centreDeg: 30, rangeM: 0.4 }) as unknown as Rcl.sensor_msgs.msg.LaserScan);
      imu.publish({
        header: { stamp: stampNow(), frame_id: 'imu_link' },
        orientation: { x: 0, y: 0, z: 0, w: 1 },
        orientation_covariance: new Array(9).fill(0),
        angular_velocity: { x: 0, y: 0, z: 0.1 },
        angular_velocity_covariance: new Array(9).fill(0),
        linear_acceleration: { x: 0, y: 0, z: 9.81 },
        linear_acceleration_covariance: new Array(9).fill(0),
      });
      await sleep(50);
    }
    expect(moving(), bridge.stderr).toBeGreaterThanOrEqual(10);
    expect(bridge.stderr).toMatch(/safety: cmd_vel resumes/);
    await bridge.stop('SIGINT');
    node.destroyPublisher(imu);
    node.destroyPublisher(publisher);
  }, 180_000);

  for (const file of ['spikeloop_bridge.launch.py', 'spikeloop_bridge.launch.xml']) {
    it(`ros2 launch ${file} starts the node, which answers scans with Twists`, async () => {
      twists.length = 0;
      const ros2 = execFileSync('sh', ['-c', 'command -v ros2'], { encoding: 'utf8', env: rosEnv() }).trim();
      bridge = new BridgeProcess(
        ros2,
        [
          'launch',
          'spikeloop_bridge',
          file,
          'robot:=turtlebot3',
          'n:=1000',
          'backend:=cpu',
          file.endsWith('.xml') ? 'ros_args:=-r cmd_vel:=/cmd_vel -r scan:=/scan' : 'remap:=scan:=/scan',
        ],
        rosEnv(),
      );
      await waitFor('the launched node', () => twists.length > 0, 90_000).catch((error: Error) => {
        throw new Error(`${error.message}; launch output:\n${bridge!.stderr}`);
      });
      const publisher = scanPublisher();
      const from = performance.now();
      const moving = () => twists.some((t) => t.atMs > from && !isZeroTwist(t.twist));
      while (!moving() && performance.now() - from < 60_000)
        await drive(publisher, { centreDeg: 45, rangeM: 0.3 }, 500);
      expect(moving(), bridge.stderr).toBe(true);
      const names = node.getNodeNames();
      expect(names).toContain('spikeloop_bridge');
      await bridge.stop('SIGINT');
      await sleep(300);
      expect(isZeroTwist(twists.at(-1)!.twist)).toBe(true);
      expect(bridge.stderr).not.toMatch(/FileNotFoundError|publisher pointer is invalid/);
      node.destroyPublisher(publisher);
    }, 240_000);
  }
});
