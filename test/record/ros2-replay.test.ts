/**
 * Replay of ROS 2 recordings without ROS 2: the codecs come back from the robot params stored in
 * the recording, and the stale-input decisions from the recorded safety actions. The run recorded
 * here uses the ROS 2 environment's own channel classes (SensorChannel, StimulusChannel,
 * MotorChannel) and codec builder, fed in-process by timers where DDS would call them; only rcl is
 * absent. test/io/ros2/ros2-live.test.ts records and replays a run on a real ROS 2 graph.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runClosedLoop } from '../../src/cli/closed-loop.js';
import { registerEnvironment } from '../../src/env/registry.js';
import { ros2Codecs, ros2Safety } from '../../src/env/ros2/codecs.js';
import { MotorChannel, SensorChannel, StimulusChannel } from '../../src/io/ros2/channels.js';
import type { LaserScanMsg } from '../../src/io/ros2/messages.js';
import type { MotorMessage } from '../../src/io/ros2/motors.js';
import { loadRobotParams, type RobotParams } from '../../src/io/ros2/params.js';
import type { Environment } from '../../src/loop/ports.js';
import { layoutOf } from '../../src/model/network.js';
import { modelParams } from '../../src/model/params.js';
import { readRecording } from '../../src/record/reader.js';
import { replay, replayRecording } from '../../src/record/replay.js';
import { recordedCodecs } from '../../src/record/replay-inputs.js';
import { runCli } from '../cli/run-cli.js';

const PARAMS = join(import.meta.dirname, '../../launch/params');
const TURTLEBOT3 = join(PARAMS, 'turtlebot3.yaml');
const ARM = join(PARAMS, 'ros2_control_arm.yaml');
const dir = mkdtempSync(join(tmpdir(), 'spikeloop-ros2-replay-'));

/** A 360-beam scan (0…2π) with a wall at 0.4 m over the beams 30°–70° (to the left). */
function scan(): LaserScanMsg {
  const ranges = new Float32Array(360).fill(Number.POSITIVE_INFINITY);
  for (let d = 30; d <= 70; d++) ranges[d] = 0.4;
  const ns = BigInt(Date.now()) * 1_000_000n;
  return {
    header: {
      stamp: { sec: Number(ns / 1_000_000_000n), nanosec: Number(ns % 1_000_000_000n) },
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

/** Six joint positions that move with the tick count (radians). */
function jointState(tick: number) {
  const ns = BigInt(Date.now()) * 1_000_000n;
  return {
    header: {
      stamp: { sec: Number(ns / 1_000_000_000n), nanosec: Number(ns % 1_000_000_000n) },
      frame_id: '',
    },
    name: ['joint1', 'joint2', 'joint3', 'joint4', 'joint5', 'joint6'],
    position: [0, 1, 2, 3, 4, 5].map((k) => 1.2 * Math.sin(tick / 300 + k)),
    velocity: [],
    effort: [],
  };
}

/** Ticks during which the "robot" sends no scan: long enough for any staleness timeout here. */
const SILENT_TICKS = { from: 500, to: 1400 };
const published: MotorMessage[] = [];

// The ROS 2 environment's parts with timers in place of DDS: scans (or joint states) at 50 Hz from
// the first tick on (silent for the ticks above), one Stimulus message of 100 ms at tick 200. Timers stop on close.
registerEnvironment('ros2-loopback', 'ROS 2 channels fed in-process (test)', async (options) => {
  const robot = loadRobotParams(String(options.settings?.robot));
  const codecs = ros2Codecs(robot, { clusters: options.layout.clusters, tickMs: options.tickMs });
  const sensor = new SensorChannel(robot.sensors[0]!, options.clockUs, undefined, () => {});
  const stimulus = new StimulusChannel(options.layout.populationCount, options.clockUs);
  const motor = new MotorChannel(
    robot.motors[0]!,
    (message) => published.push(message),
    options.clockUs,
    options.tickMs,
    robot.watchdog,
  );
  let ticks = 0;
  let stimulated = false;
  const timer = setInterval(() => {
    // Nothing before the loop runs: its first ticks see no scan yet.
    if (ticks === 0) return;
    if (ticks < SILENT_TICKS.from || ticks >= SILENT_TICKS.to) {
      sensor.receive(sensor.params.conversion.kind === 'jointState' ? jointState(ticks) : scan());
    }
    if (!stimulated && ticks >= 200) {
      stimulated = true;
      stimulus.receive({ populations: [0, 3], currents_pa: [40, -15], duration_ms: 100 });
    }
  }, 20);
  const env: Environment & { robot: RobotParams } = {
    name: 'ros2-loopback',
    robot,
    sources: [sensor, stimulus],
    sinks: [motor],
    encoders: codecs.encoders,
    decoders: codecs.decoders,
    safety: ros2Safety(robot),
    step: () => {
      ticks++;
    },
    close: async () => clearInterval(timer),
  };
  return env;
});

describe('replay of ROS 2 recordings', () => {
  it('rebuilds the ROS 2 codecs from the robot params in the metadata, without ROS 2', async () => {
    const robot = loadRobotParams(TURTLEBOT3);
    const layout = layoutOf(modelParams('ei-clustered', 1000, { seed: 1 }));
    const live = ros2Codecs(robot, { clusters: layout.clusters, tickMs: 1 });
    // What a recording holds: the resolved params as JSON.
    const stored = JSON.parse(JSON.stringify(robot)) as RobotParams;
    expect(stored).toEqual(robot);
    const description = {
      env: 'ros2',
      tickMs: 1,
      robot: stored,
      mapping: null,
      seed: 1,
      envSettings: {},
    } as unknown as Parameters<typeof recordedCodecs>[0];
    const rebuilt = await recordedCodecs(description, layout, 'run.mcap');
    expect(rebuilt.encoders.map((e) => e.input)).toEqual(['scan', 'stimulus']);
    expect(rebuilt.decoders.map((d) => d.output)).toEqual(['cmd_vel']);

    // Same currents for the same scan and stimulus, same commands for the same activity, bit for bit.
    const ranges = Float32Array.from([0.3, 3.5, 1.2, 3.5, 0.8, 3.5, 2.0, 3.5]);
    const stimulus = new Float32Array(layout.populationCount).fill(0).map((_, p) => (p === 2 ? 25 : 0));
    const currents = (encoders: typeof rebuilt.encoders) => {
      const out = new Float32Array(layout.populationCount);
      for (const encoder of encoders) encoder.encode(encoder.input === 'scan' ? ranges : stimulus, out);
      return out;
    };
    expect(currents(rebuilt.encoders)).toEqual(currents(live.encoders));
    expect(currents(rebuilt.encoders)[2]).not.toBe(0);
    const sizes = Uint32Array.from({ length: layout.populationCount }, (_, p) =>
      p < layout.clusters ? layout.nEPerCluster : layout.nIPerCluster,
    );
    for (let tick = 0; tick < 50; tick++) {
      const counts = Uint32Array.from({ length: layout.populationCount }, (_, p) => (tick * 7 + p * 3) % 5);
      const activity = { counts, sizes, tickMs: 1 };
      expect(rebuilt.decoders[0]!.decode(activity)).toEqual(live.decoders[0]!.decode(activity));
    }

    // Robot params whose mapping reads a sensor the robot does not have: named in the error.
    const broken = structuredClone(stored);
    (broken.codec.encoders as { input: string }[])[0]!.input = 'lidar';
    await expect(recordedCodecs({ ...description, robot: broken }, layout, 'run.mcap')).rejects.toThrow(
      /cannot replay run\.mcap: the codec mapping of robot "turtlebot3" does not fit .*input "lidar" is not a sensor of this robot \(sensors: scan\)/,
    );
    await expect(recordedCodecs({ ...description, robot: null }, layout, 'old.mcap')).rejects.toThrow(
      /cannot replay old\.mcap: this ROS 2 recording holds no robot params/,
    );
  });

  it('records a run of the ROS 2 channels with a scan gap and replays it bit for bit, stops included', async () => {
    const file = join(dir, 'ros2.mcap');
    published.length = 0;
    const { summary, recording } = await runClosedLoop({
      env: 'ros2-loopback',
      envSettings: { robot: TURTLEBOT3, 'staleAfterMs.scan': 300 },
      durationS: 2.5,
      tickMs: 1,
      n: 400,
      model: 'ei-clustered',
      backend: 'cpu',
      seed: 11,
      latePolicy: 'late',
      warmupTicks: 20,
      record: file,
      handleSignals: false,
    });
    expect(recording?.error).toBeNull();
    expect(published.length).toBeGreaterThan(0);
    const read = await readRecording(file);
    expect(read.ticks.length).toBe(summary.ticks);
    const { description } = read;
    // The resolved robot params and the loop's safety settings (the params file's, then --env-set).
    expect(description.robot).toEqual(loadRobotParams(TURTLEBOT3));
    expect(description.safety).toEqual({
      staleAfterMs: { scan: 300, stimulus: null },
      defaultStaleAfterMs: 500,
      onStale: { cmd_vel: 'stop' },
      defaultOnStale: 'stop',
      dependsOn: {},
    });
    expect(read.inputs).toEqual(['scan', 'stimulus']);
    expect(read.outputs).toEqual(['cmd_vel']);
    // Stopped before the first scan and during the gap, commanding in between and after.
    const actions = read.ticks.map((t) => t.actions.get('cmd_vel'));
    expect(actions[0]).toBe('stop');
    const firstCommand = actions.indexOf('command');
    expect(firstCommand).toBeGreaterThan(0);
    const stopAgain = actions.indexOf('stop', firstCommand);
    expect(stopAgain).toBeGreaterThan(firstCommand);
    expect(actions.indexOf('command', stopAgain)).toBeGreaterThan(stopAgain);
    expect(read.ticks.filter((t) => t.samples.has('stimulus')).length).toBe(2);
    expect(read.ticks.some((t) => t.commands.get('cmd_vel')?.some((v) => v !== 0))).toBe(true);

    const replayed = await replay(file, { backend: 'cpu' });
    expect(replayed).toMatchObject({ identical: true, ticks: read.ticks.length, firstDivergence: null });

    // Without the recorded safety settings the loop's defaults guard the Stimulus input too (no
    // message yet → stop): the commands differ, which the replay reports.
    const withoutSafety = await readRecording(file);
    delete withoutSafety.description.safety;
    const naive = await replayRecording(withoutSafety, { backend: 'cpu' });
    expect(naive.identical).toBe(false);
    expect(naive.firstDivergence?.output).toBe('motor/cmd_vel');

    // A changed network on the same ROS 2 inputs: a new recording, itself replayable.
    const out = join(dir, 'ros2.changed.mcap');
    const changed = await replay(file, {
      backend: 'cpu',
      overrides: { jEPlus: 6 },
      changes: ['jEPlus=6'],
      out,
    });
    expect(changed.identical).toBe(false);
    const written = await readRecording(out);
    expect(written.description.robot).toEqual(description.robot);
    expect(written.description.params.jEPlus).toBe(6);
    expect(written.ticks.map((t) => t.actions.get('cmd_vel'))).toEqual(actions);
    expect(await replay(out, { backend: 'cpu' })).toMatchObject({ identical: true });

    // The command line, with no environment registered in its process.
    const cli = runCli(['replay', file, '--backend', 'cpu', '--json']);
    expect(cli.status, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ identical: true, ticks: read.ticks.length });
  }, 180_000);

  it('replays a position robot whose outputs hold while stale (ros2_control_arm), held commands included', async () => {
    const file = join(dir, 'arm.mcap');
    const { recording } = await runClosedLoop({
      env: 'ros2-loopback',
      envSettings: { robot: ARM },
      durationS: 2,
      tickMs: 1,
      n: 400,
      model: 'ei-clustered',
      backend: 'cpu',
      seed: 12,
      latePolicy: 'late',
      record: file,
      handleSignals: false,
    });
    expect(recording?.error).toBeNull();
    const read = await readRecording(file);
    expect(read.description.safety?.onStale).toEqual({ arm: 'hold' });
    const actions = read.ticks.map((t) => t.actions.get('arm'));
    // Nothing to hold before the first joint state: no command at all, never zeros.
    expect(actions[0]).toBeNull();
    expect(read.ticks[0]!.commands.get('arm')).toBeNull();
    const firstHold = actions.indexOf('hold');
    expect(firstHold).toBeGreaterThan(actions.indexOf('command'));
    const lastCommand = read.ticks[actions.lastIndexOf('command', firstHold)]!.commands.get('arm');
    expect(read.ticks[firstHold]!.commands.get('arm')).toEqual(lastCommand);

    expect(await replay(file, { backend: 'cpu' })).toMatchObject({
      identical: true,
      ticks: read.ticks.length,
    });
    // A changed network holds its own last command: its new recording replays identically too.
    const out = join(dir, 'arm.changed.mcap');
    const changed = await replay(file, {
      backend: 'cpu',
      overrides: { jEPlus: 6 },
      changes: ['jEPlus=6'],
      out,
    });
    expect(changed.identical).toBe(false);
    expect(await replay(out, { backend: 'cpu' })).toMatchObject({ identical: true });
  }, 180_000);
});
