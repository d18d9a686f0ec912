import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildMapping } from '../../../src/codec/mapping.js';
import { checkMappingFits } from '../../../src/env/ros2/environment.js';
import { Ros2ParamsError } from '../../../src/io/ros2/errors.js';
import { loadRobotParams, parseRobotParams } from '../../../src/io/ros2/params.js';

const PARAMS_DIR = join(import.meta.dirname, '../../../launch/params');
const ROBOTS = readdirSync(PARAMS_DIR).filter((f) => f.endsWith('.yaml') && f !== 'gz_bridge.yaml');

function minimal(): Record<string, unknown> {
  return {
    robot: 'test',
    sensors: [{ name: 'scan', topic: '/scan', type: 'sensor_msgs/msg/LaserScan', sectors: 4 }],
    motors: [
      {
        name: 'cmd_vel',
        topic: '/cmd_vel',
        type: 'geometry_msgs/msg/Twist',
        fields: ['linear.x', 'angular.z'],
        limits: [
          { min: -0.2, max: 0.2 },
          { min: -1, max: 1 },
        ],
      },
    ],
  };
}

function errorOf(document: unknown): string {
  try {
    parseRobotParams(document, 'robot.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(Ros2ParamsError);
    return (error as Error).message;
  }
  throw new Error('expected the params to be rejected');
}

describe('robot params files shipped in launch/params', () => {
  it('there are the three robots of the brief', () => {
    expect(ROBOTS.sort()).toEqual(['gazebo_diff_drive.yaml', 'ros2_control_arm.yaml', 'turtlebot3.yaml']);
  });

  it.each(ROBOTS)('%s validates, and its codec mapping builds and fits its sensors and motors', (file) => {
    const params = loadRobotParams(join(PARAMS_DIR, file));
    const mapping = buildMapping(params.codec, { clusters: 20, tickMs: 1 });
    expect(() => checkMappingFits(params, mapping.inputs, mapping.outputs)).not.toThrow();
    expect(params.nodeName).toBe('spikeloop_bridge');
    for (const sensor of params.sensors) expect(sensor.qos.reliability).toBe('best_effort');
    for (const motor of params.motors) expect(motor.qos.reliability).toBe('reliable');
  });

  it('the TurtleBot3 maps /scan → /cmd_vel Twist, the arm JointState → Float64MultiArray holding on stop', () => {
    const tb3 = loadRobotParams(join(PARAMS_DIR, 'turtlebot3.yaml'));
    expect(tb3.sensors[0]!.conversion.kind).toBe('laserScan');
    expect(tb3.motors[0]!.conversion).toEqual({ kind: 'twist', fields: ['linear.x', 'angular.z'] });
    const arm = loadRobotParams(join(PARAMS_DIR, 'ros2_control_arm.yaml'));
    expect(arm.sensors[0]!.conversion.kind).toBe('jointState');
    expect(arm.motors[0]!.conversion).toEqual({ kind: 'float64MultiArray', size: 6 });
    expect(arm.motors[0]!.onStop).toBe('hold');
  });
});

describe('defaults', () => {
  it('sensor-data QoS with keep-last 1 for sensors, reliable for commands, overridable', () => {
    const params = parseRobotParams(minimal(), 'robot.yaml');
    expect(params.sensors[0]!.qos).toEqual({ reliability: 'best_effort', durability: 'volatile', depth: 1 });
    expect(params.motors[0]!.qos).toEqual({ reliability: 'reliable', durability: 'volatile', depth: 10 });
    const doc = minimal();
    (doc.sensors as Record<string, unknown>[])[0]!.qos = { reliability: 'reliable', depth: 5 };
    expect(parseRobotParams(doc, 'r').sensors[0]!.qos).toEqual({
      reliability: 'reliable',
      durability: 'volatile',
      depth: 5,
    });
  });

  it('watchdog, telemetry and node defaults', () => {
    const params = parseRobotParams(minimal(), 'robot.yaml');
    expect(params.watchdog).toEqual({ timeoutMs: 100, maxLatenessMs: 50, checkPeriodMs: 10 });
    expect(params.telemetry.rateHz).toBe(10);
    expect(params.telemetry.diagnosticsTopic).toBe('/diagnostics');
    expect(params.nodeName).toBe('spikeloop_bridge');
    expect(params.motors[0]!.limits[0]!.maxRatePerS).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('errors name the file and the JSON pointer of the bad field', () => {
  it('wrong types, unknown keys, missing keys', () => {
    const doc = minimal();
    (doc.sensors as Record<string, unknown>[])[0]!.sectors = 'eight';
    expect(errorOf(doc)).toBe('robot.yaml: /sensors/0/sectors: must be integer');
    const extra = minimal();
    (extra.motors as Record<string, unknown>[])[0]!.speed = 1;
    expect(errorOf(extra)).toBe('robot.yaml: /motors/0: unknown key "speed"');
    const missing = minimal();
    delete (missing.motors as Record<string, unknown>[])[0]!.limits;
    expect(errorOf(missing)).toBe('robot.yaml: /motors/0: missing required key "limits"');
    expect(errorOf({ sensors: [], motors: [] })).toBe('robot.yaml: (root): missing required key "robot"');
  });

  it('an unsupported message type lists the supported ones for that section', () => {
    const doc = minimal();
    (doc.sensors as Record<string, unknown>[])[0]!.type = 'geometry_msgs/msg/Twist';
    expect(errorOf(doc)).toMatch(
      /^robot\.yaml: \/sensors\/0\/type: "geometry_msgs\/msg\/Twist" is not supported here; expected one of sensor_msgs\/msg\/LaserScan, /,
    );
  });

  it('invalid topic names and enum values', () => {
    const doc = minimal();
    (doc.sensors as Record<string, unknown>[])[0]!.topic = '/scan topic';
    expect(errorOf(doc)).toBe('robot.yaml: /sensors/0/topic: "/scan topic" is not a valid ROS 2 name');
    const twist = minimal();
    (twist.motors as Record<string, unknown>[])[0]!.fields = ['linear.x', 'angular.w'];
    expect(errorOf(twist)).toMatch(/^robot\.yaml: \/motors\/0\/fields\/1: must be one of "linear\.x"/);
  });

  it('cross-field checks: limit count, min > max, zero outside the limits, duplicate names, window', () => {
    const count = minimal();
    (count.motors as Record<string, unknown>[])[0]!.limits = [{ min: -1, max: 1 }];
    expect(errorOf(count)).toBe('robot.yaml: /motors/0/limits: has 1 entries, expected 2 (one per value)');
    const order = minimal();
    (order.motors as Record<string, unknown>[])[0]!.limits = [
      { min: 1, max: -1 },
      { min: -1, max: 1 },
    ];
    expect(errorOf(order)).toBe('robot.yaml: /motors/0/limits/0: min 1 > max -1');
    const zero = minimal();
    (zero.motors as Record<string, unknown>[])[0]!.limits = [
      { min: 0.1, max: 1 },
      { min: -1, max: 1 },
    ];
    expect(errorOf(zero)).toMatch(/\/motors\/0\/limits\/0: \[0.1, 1\] excludes 0, but onStop is "zero"/);
    const twice = minimal();
    (twice.sensors as unknown[]).push({ ...(twice.sensors as Record<string, unknown>[])[0]! });
    expect(errorOf(twice)).toBe('robot.yaml: /sensors/1/name: "scan" is used twice');
    const window = minimal();
    Object.assign((window.sensors as Record<string, unknown>[])[0]!, { angleMinRad: 1, angleMaxRad: -1 });
    expect(errorOf(window)).toBe(
      'robot.yaml: /sensors/0/angleMaxRad: must be greater than angleMinRad (1), got -1',
    );
  });

  it('a codec mapping that reads an unknown sensor or the wrong size is rejected with the path', () => {
    const params = parseRobotParams(minimal(), 'robot.yaml');
    expect(() => checkMappingFits(params, new Map([['lidar', 4]]), ['cmd_vel'])).toThrow(
      'robot.yaml: /codec/encoders: input "lidar" is not a sensor of this robot (sensors: scan)',
    );
    expect(() => checkMappingFits(params, new Map([['scan', 8]]), ['cmd_vel'])).toThrow(
      'input "scan" has 4 values per message, but its encoder expects 8',
    );
    expect(() => checkMappingFits(params, new Map([['scan', 4]]), ['wheels'])).toThrow(
      'output "wheels" is not a motor of this robot (motors: cmd_vel)',
    );
  });

  it('unreadable files and broken YAML', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spikeloop-params-'));
    expect(() => loadRobotParams(join(dir, 'missing.yaml'))).toThrow(/missing\.yaml: \(root\): cannot read/);
    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, 'robot: [unclosed\n');
    expect(() => loadRobotParams(broken)).toThrow(/broken\.yaml: \(root\): not valid YAML/);
  });
});
