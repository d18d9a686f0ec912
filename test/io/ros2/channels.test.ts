import { describe, expect, it } from 'vitest';
import {
  MotorChannel,
  SensorChannel,
  StimulusChannel,
  stimulusCurrents,
} from '../../../src/io/ros2/channels.js';
import type { LaserScanMsg } from '../../../src/io/ros2/messages.js';
import type { MotorMessage } from '../../../src/io/ros2/motors.js';
import { COMMAND_QOS, type MotorParams, SENSOR_QOS, type SensorParams } from '../../../src/io/ros2/params.js';

function fakeClock(startUs = 0) {
  const clock = { nowUs: startUs, read: () => clock.nowUs };
  return clock;
}

const scanParams: SensorParams = {
  name: 'scan',
  topic: '/scan',
  conversion: { kind: 'laserScan', sectors: 2, output: 'rangeM' },
  qos: SENSOR_QOS,
  staleAfterMs: 200,
};

function scan(ranges: number[], stampUs = 0): LaserScanMsg {
  return {
    header: { stamp: { sec: Math.floor(stampUs / 1e6), nanosec: (stampUs % 1e6) * 1000 }, frame_id: '' },
    angle_min: -1,
    angle_max: 1,
    angle_increment: 2 / (ranges.length - 1),
    time_increment: 0,
    scan_time: 0,
    range_min: 0.1,
    range_max: 4,
    ranges,
    intensities: [],
  };
}

describe('SensorChannel', () => {
  it('stores only the newest message; the tick takes it once, with arrival time and seq', () => {
    const clock = fakeClock(1000);
    const channel = new SensorChannel(scanParams, clock.read);
    expect(channel.takeLatest()).toBeNull();
    channel.receive(scan([1, 1, 1, 1]));
    clock.nowUs = 2000;
    channel.receive(scan([2, 2, 3, 3]));
    const sample = channel.takeLatest();
    expect(sample).not.toBeNull();
    expect(Array.from(sample!.values)).toEqual([2, 3]);
    expect(sample!.seq).toBe(2);
    expect(sample!.arrivalUs).toBe(2000);
    expect(channel.takeLatest()).toBeNull();
    expect(channel.stats).toMatchObject({ received: 2, taken: 1, errors: 0 });
  });

  it('a bad message yields no sample and keeps the last good values, with the error recorded', () => {
    const channel = new SensorChannel(scanParams, fakeClock().read);
    channel.receive(scan([1, 1, 2, 2]));
    channel.takeLatest();
    channel.receive({ ...scan([1]), ranges: [] });
    expect(channel.takeLatest()).toBeNull();
    expect(Array.from(channel.lastGoodValues!)).toEqual([1, 2]);
    expect(channel.stats.errors).toBe(1);
    expect(channel.stats.lastError).toBe('/scan: empty scan (ranges has no values)');
  });

  it('measures header stamp → arrival delivery latency and reports staleness', () => {
    const clock = fakeClock(5_000_000);
    // Wall clock = monotonic + 1e12 µs in this test.
    const channel = new SensorChannel(scanParams, clock.read, (us) => us + 1e12);
    channel.receive(scan([1, 1, 1], 1e12 + 5_000_000 - 1500));
    channel.takeLatest();
    expect(channel.stats.deliveryUs).toBeCloseTo(1500, 3);
    expect(channel.isStale(5_100_000)).toBe(false);
    expect(channel.isStale(5_200_001)).toBe(true);
  });
});

describe('MotorChannel', () => {
  const twistParams: MotorParams = {
    name: 'cmd_vel',
    topic: '/cmd_vel',
    conversion: { kind: 'twist', fields: ['linear.x', 'angular.z'] },
    qos: COMMAND_QOS,
    limits: [
      { min: -0.2, max: 0.2, maxRatePerS: Number.POSITIVE_INFINITY },
      { min: -1, max: 1, maxRatePerS: Number.POSITIVE_INFINITY },
    ],
    maxPublishHz: 1000,
    onStop: 'zero',
    onStale: 'stop',
    dependsOn: null,
  };
  const watchdog = { timeoutMs: 100, maxLatenessMs: 20 };
  const command = (values: number[], computedUs = 0) => ({
    values: Float32Array.from(values),
    sourceSeq: {},
    computedUs,
  });

  function setup(params: MotorParams = twistParams) {
    const clock = fakeClock();
    const published: MotorMessage[] = [];
    const channel = new MotorChannel(params, (m) => published.push(m), clock.read, 1, watchdog);
    return { clock, published, channel };
  }

  it('clamps and publishes each tick', () => {
    const { clock, published, channel } = setup();
    channel.write(command([0.5, -0.25]));
    clock.nowUs += 1000;
    channel.write(command([0.1, 0]));
    expect(published).toEqual([
      { linear: { x: 0.2, y: 0, z: 0 }, angular: { x: 0, y: 0, z: -0.25 } },
      { linear: { x: Math.fround(0.1), y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } },
    ]);
  });

  it('publishes at most maxPublishHz', () => {
    const { clock, published, channel } = setup({ ...twistParams, maxPublishHz: 50 });
    for (let k = 0; k < 100; k++) {
      channel.write(command([0.1, 0.1]));
      clock.nowUs += 1000; // 1 kHz loop
    }
    expect(published.length).toBe(5); // 100 ms at 50 Hz (a gap of 20 ms)
    expect(channel.stats.throttled).toBe(95);
  });

  it('rejects wrong lengths and NaN, keeping the last command on the robot', () => {
    const { published, channel } = setup();
    channel.write(command([0.1, 0.1]));
    channel.write(command([0.1]));
    channel.write(command([Number.NaN, 0]));
    expect(published.length).toBe(1);
    expect(channel.stats.rejected).toBe(2);
    expect(channel.stats.lastError).toBe('/cmd_vel: command value 0 is NaN; kept the last command');
  });

  it('watchdog: a stopped loop gets a zero Twist once', () => {
    const { clock, published, channel } = setup();
    channel.write(command([0.2, 0.5]));
    clock.nowUs = 50_000;
    channel.checkWatchdog(clock.nowUs);
    expect(published.length).toBe(1);
    clock.nowUs = 100_001;
    channel.checkWatchdog(clock.nowUs);
    clock.nowUs = 200_000;
    channel.checkWatchdog(clock.nowUs);
    expect(published).toHaveLength(2);
    expect(published[1]).toEqual({ linear: { x: 0, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } });
    expect(channel.stats.lastStop).toBe('timeout');
  });

  it('watchdog: an overrunning loop is stopped until its ticks are on time', () => {
    const { clock, published, channel } = setup();
    channel.write(command([0.2, 0.5]));
    clock.nowUs += 30_000; // this write comes 29 ms late for a 1 ms tick
    channel.write(command([0.2, 0.5]));
    clock.nowUs += 25_000;
    channel.write(command([0.2, 0.5])); // still late: nothing
    clock.nowUs += 1000;
    channel.write(command([0.1, 0.1])); // on time again
    expect(published.map((m) => (m as { linear: { x: number } }).linear.x)).toEqual([
      0.2, // float32 0.2 clamped to the limit 0.2
      0,
      Math.fround(0.1),
    ]);
    expect(channel.stats.stops).toBe(1);
    expect(channel.stats.lastStop).toBe('overrun');
  });

  it('onStop hold re-sends the last position command instead of zeros', () => {
    const arm: MotorParams = {
      name: 'arm',
      topic: '/fwd/commands',
      conversion: { kind: 'float64MultiArray', size: 2 },
      qos: COMMAND_QOS,
      limits: [
        { min: 0.5, max: 2, maxRatePerS: Number.POSITIVE_INFINITY },
        { min: 0.5, max: 2, maxRatePerS: Number.POSITIVE_INFINITY },
      ],
      maxPublishHz: 1000,
      onStop: 'hold',
      onStale: 'hold',
      dependsOn: null,
    };
    const { clock, published, channel } = setup(arm);
    channel.publishStop('shutdown', 0); // nothing published yet: nothing to hold
    expect(published).toHaveLength(0);
    channel.write(command([1, 1.5]));
    clock.nowUs = 200_000;
    channel.checkWatchdog(clock.nowUs);
    expect(published).toEqual([
      { layout: { dim: [], data_offset: 0 }, data: [1, 1.5] },
      { layout: { dim: [], data_offset: 0 }, data: [1, 1.5] },
    ]);
  });
});

describe('StimulusChannel', () => {
  it('turns a Stimulus into population currents for duration_ms, then zeros', () => {
    const clock = fakeClock(0);
    const channel = new StimulusChannel(4, clock.read);
    channel.receive({ populations: [1, 3], currents_pa: [2.5, -1], duration_ms: 10 });
    const on = channel.takeLatest();
    expect(Array.from(on!.values)).toEqual([0, 2.5, 0, -1]);
    clock.nowUs = 9_999;
    expect(channel.takeLatest()).toBeNull();
    clock.nowUs = 10_000;
    expect(Array.from(channel.takeLatest()!.values)).toEqual([0, 0, 0, 0]);
    expect(channel.takeLatest()).toBeNull();
  });

  it('rejects bad stimuli with the field named', () => {
    expect(() => stimulusCurrents({ populations: [7], currents_pa: [1], duration_ms: 0 }, 4)).toThrow(
      'stimulus: populations[0] = 7 is outside [0, 4)',
    );
    expect(() => stimulusCurrents({ populations: [1, 2], currents_pa: [1], duration_ms: 0 }, 4)).toThrow(
      'currents_pa has 1 values for 2 populations',
    );
    const channel = new StimulusChannel(4, fakeClock().read);
    channel.receive({ populations: [0], currents_pa: [Number.NaN] });
    expect(channel.takeLatest()).toBeNull();
    expect(channel.lastError).toBe('stimulus: currents_pa[0] is NaN');
  });
});
