/**
 * The robot params file: which topics the bridge subscribes to and publishes, how each message
 * becomes values (and values become commands), QoS, safety limits, the watchdog and telemetry.
 * YAML, checked against one schema (the file's types are derived from it) and then by the
 * cross-field checks a schema cannot express; every error names the file and the key path of the
 * bad field (`sensors[0].sectors`).
 */
import { type Static, Type } from '@sinclair/typebox';
import { loadConfigFile } from '../../config/load.js';
import { type SchemaProblem, schemaChecker, stringEnum, taggedUnion } from '../../config/schema.js';
import { STALE_POLICIES } from '../../loop/safety.js';
import { Ros2ParamsError } from './errors.js';
import { MotorMessageType, SensorMessageType } from './messages.js';
import { type MotorConversion, motorValueCount, TWIST_FIELDS } from './motors.js';
import type { ValueLimit } from './safety.js';
import { IMU_FIELDS, type SensorConversion, sensorValueCount } from './sensors.js';

const NAME = Type.String({
  pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
  title: 'name (a letter or _, then letters, digits, _)',
});
// ROS 2 topic names: tokens of [A-Za-z0-9_], separated by '/', optionally '~' (private) first.
const TOPIC = Type.String({
  pattern: '^(~|~/|/)?[A-Za-z_][A-Za-z0-9_]*(/[A-Za-z_][A-Za-z0-9_]*)*$',
  title: 'ROS 2 name',
});
const POSITIVE = Type.Number({ exclusiveMinimum: 0 });
const optional = Type.Optional;

const RELIABILITY = stringEnum(['reliable', 'best_effort']);
const DURABILITY = stringEnum(['volatile', 'transient_local']);
const QOS = Type.Object(
  {
    reliability: optional(RELIABILITY),
    durability: optional(DURABILITY),
    /** History keep-last depth. */
    depth: optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  { additionalProperties: false },
);
export type Reliability = Static<typeof RELIABILITY>;
export type Durability = Static<typeof DURABILITY>;
export type QosSettings = Required<Static<typeof QOS>>;

/** ROS 2 sensor-data profile, but keep last 1: the tick only ever wants the newest sample. */
export const SENSOR_QOS: QosSettings = { reliability: 'best_effort', durability: 'volatile', depth: 1 };
/** Commands must arrive: reliable, a short queue. */
export const COMMAND_QOS: QosSettings = { reliability: 'reliable', durability: 'volatile', depth: 10 };
export const TELEMETRY_QOS: QosSettings = { reliability: 'reliable', durability: 'volatile', depth: 10 };

const closed = { additionalProperties: false } as const;
const RANGE_OUTPUT = optional(stringEnum(['rangeM', 'proximity']));
const JOINTS = Type.Array(Type.String({ minLength: 1 }), { minItems: 1, uniqueItems: true });
const SENSOR_COMMON = {
  /** Input name the encoders refer to. */
  name: NAME,
  /** Topic (relative names resolve in the node's namespace; remappable with --ros-args -r). */
  topic: TOPIC,
  qos: optional(QOS),
  /** A sensor silent for longer than this is reported stale (default 500 ms). */
  staleAfterMs: optional(POSITIVE),
};
const ANGLE = optional(Type.Number({ minimum: -7, maximum: 7 }));

const SENSOR = taggedUnion('type', [
  Type.Object(
    {
      type: Type.Literal(SensorMessageType.laserScan),
      ...SENSOR_COMMON,
      sectors: Type.Integer({ minimum: 1, maximum: 4096 }),
      angleMinRad: ANGLE,
      angleMaxRad: ANGLE,
      maxRangeM: optional(POSITIVE),
      output: RANGE_OUTPUT,
    },
    closed,
  ),
  Type.Object(
    {
      type: Type.Literal(SensorMessageType.range),
      ...SENSOR_COMMON,
      maxRangeM: optional(POSITIVE),
      output: RANGE_OUTPUT,
    },
    closed,
  ),
  Type.Object(
    {
      type: Type.Literal(SensorMessageType.imu),
      ...SENSOR_COMMON,
      fields: Type.Array(stringEnum(IMU_FIELDS), { minItems: 1 }),
    },
    closed,
  ),
  Type.Object(
    {
      type: Type.Literal(SensorMessageType.jointState),
      ...SENSOR_COMMON,
      joints: JOINTS,
      field: optional(stringEnum(['position', 'velocity', 'effort'])),
    },
    closed,
  ),
  Type.Object(
    {
      type: Type.Literal(SensorMessageType.float32MultiArray),
      ...SENSOR_COMMON,
      size: Type.Integer({ minimum: 1, maximum: 1 << 20 }),
    },
    closed,
  ),
]);

const STOP_BEHAVIOUR = stringEnum(['zero', 'hold']);
export type StopBehaviour = Static<typeof STOP_BEHAVIOUR>;
const LIMIT = Type.Object(
  {
    min: Type.Number(),
    max: Type.Number(),
    /** Largest change per second (default: no limit). */
    maxRatePerS: optional(POSITIVE),
  },
  closed,
);
const MOTOR_COMMON = {
  /** Output name the decoders refer to. */
  name: NAME,
  topic: TOPIC,
  qos: optional(QOS),
  /** One per value. */
  limits: Type.Array(LIMIT, { minItems: 1 }),
  /** Commands are published at most this often (the loop may tick at 1 kHz; a base need not). */
  maxPublishHz: optional(POSITIVE),
  /** What the watchdog publishes: zeros (velocity interfaces) or the last command (position interfaces). */
  onStop: optional(STOP_BEHAVIOUR),
  /**
   * While a sensor it depends on is stale or has never delivered (loop/safety.ts): stop (zeros),
   * hold (the last command) or continue. Default: stop for onStop zero, hold for onStop hold.
   */
  onStale: optional(stringEnum(STALE_POLICIES)),
  /** The sensors whose staleness triggers onStale (default: every sensor). */
  dependsOn: optional(Type.Array(NAME, { uniqueItems: true })),
};
const TWIST_FIELD_LIST = Type.Array(stringEnum(TWIST_FIELDS), { minItems: 1, uniqueItems: true });

const MOTOR = taggedUnion('type', [
  Type.Object(
    { type: Type.Literal(MotorMessageType.twist), ...MOTOR_COMMON, fields: TWIST_FIELD_LIST },
    closed,
  ),
  Type.Object(
    {
      type: Type.Literal(MotorMessageType.twistStamped),
      ...MOTOR_COMMON,
      fields: TWIST_FIELD_LIST,
      frameId: optional(Type.String()),
    },
    closed,
  ),
  Type.Object(
    {
      type: Type.Literal(MotorMessageType.float64MultiArray),
      ...MOTOR_COMMON,
      size: Type.Integer({ minimum: 1, maximum: 4096 }),
    },
    closed,
  ),
  Type.Object(
    {
      type: Type.Literal(MotorMessageType.jointTrajectory),
      ...MOTOR_COMMON,
      joints: JOINTS,
      field: optional(stringEnum(['positions', 'velocities'])),
      timeFromStartMs: optional(POSITIVE),
    },
    closed,
  ),
]);

const WATCHDOG = Type.Object(
  {
    /** A stop command goes out when no command was written for this long (default 100 ms). */
    timeoutMs: optional(POSITIVE),
    /** …or when a tick reports lateness beyond this (default 50 ms). */
    maxLatenessMs: optional(POSITIVE),
    /** How often the watchdog looks (default 10 ms). */
    checkPeriodMs: optional(POSITIVE),
  },
  closed,
);

const TELEMETRY = Type.Object(
  {
    /** Population activity, latency reports and diagnostics are published at this rate. */
    rateHz: optional(Type.Number({ exclusiveMinimum: 0, maximum: 1000 })),
    activityTopic: optional(TOPIC),
    latencyTopic: optional(TOPIC),
    diagnosticsTopic: optional(TOPIC),
    stimulusTopic: optional(TOPIC),
    /** Topic of spikeloop_msgs/SpikeBatch; empty disables spike publication. */
    spikesTopic: optional(Type.Union([TOPIC, Type.Literal('')])),
  },
  closed,
);

/** The JSON schema of a robot params file (exported for editors and documentation). */
export const robotParamsSchema = Type.Object(
  {
    robot: Type.String({ minLength: 1 }),
    description: optional(Type.String()),
    node: optional(
      Type.Object(
        {
          name: optional(NAME),
          namespace: optional(
            Type.String({ pattern: '^(/[A-Za-z_][A-Za-z0-9_]*)*/?$', title: 'ROS 2 namespace' }),
          ),
        },
        closed,
      ),
    ),
    sensors: Type.Array(SENSOR, { minItems: 1 }),
    motors: Type.Array(MOTOR, { minItems: 1 }),
    watchdog: optional(WATCHDOG),
    telemetry: optional(TELEMETRY),
    /** Encoder/decoder mapping, handed unchanged to the codec's mapping parser. */
    codec: optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { ...closed, $schema: 'http://json-schema.org/draft-07/schema#', title: 'spikeloop robot params' },
);

/** A params file as written (every optional key may be missing). */
export type RobotParamsFile = Static<typeof robotParamsSchema>;
type SensorEntry = Static<typeof SENSOR>;
type MotorEntry = Static<typeof MOTOR>;

export interface SensorParams {
  name: string;
  topic: string;
  conversion: SensorConversion;
  qos: QosSettings;
  staleAfterMs: number;
}

export interface MotorParams {
  name: string;
  topic: string;
  conversion: MotorConversion;
  qos: QosSettings;
  limits: ValueLimit[];
  maxPublishHz: number;
  onStop: StopBehaviour;
  onStale: NonNullable<MotorEntry['onStale']>;
  /** null: every sensor. */
  dependsOn: string[] | null;
}

export type TelemetryParams = Required<Static<typeof TELEMETRY>>;

/** A params file with every default filled in. */
export interface RobotParams {
  /** The file it came from (for messages). */
  source: string;
  robot: string;
  description: string;
  nodeName: string;
  namespace: string;
  sensors: SensorParams[];
  motors: MotorParams[];
  watchdog: Required<Static<typeof WATCHDOG>>;
  telemetry: TelemetryParams;
  codec: Record<string, unknown>;
}

const checkRobotParams = schemaChecker(robotParamsSchema, (source, problems: SchemaProblem[]) => {
  const [first, ...rest] = problems;
  const more = rest.map((p) => `; ${p.path === '' ? '' : `${p.path}: `}${p.detail}`).join('');
  return new Ros2ParamsError(source, first?.path ?? '', `${first?.detail ?? 'invalid'}${more}`);
});

/** Reads, parses and validates a robot params file. */
export function loadRobotParams(file: string): RobotParams {
  return parseRobotParams(loadConfigFile(file, 'robot params file'), file);
}

/** Validates an already parsed params document; `source` names it in errors. */
export function parseRobotParams(document: unknown, source: string): RobotParams {
  const doc = checkRobotParams(document, source);
  const sensors = doc.sensors.map((entry, i) => sensorParams(entry, `sensors[${i}]`, source));
  const motors = doc.motors.map((entry, i) => motorParams(entry, `motors[${i}]`, source));
  requireUnique(
    source,
    'sensors',
    sensors.map((s) => s.name),
  );
  requireUnique(
    source,
    'motors',
    motors.map((m) => m.name),
  );
  motors.forEach((motor, i) => {
    motor.dependsOn?.forEach((sensor, k) => {
      if (!sensors.some((s) => s.name === sensor)) {
        throw new Ros2ParamsError(
          source,
          `motors[${i}].dependsOn[${k}]`,
          `"${sensor}" is not a sensor of this robot (sensors: ${sensors.map((s) => s.name).join(', ')})`,
        );
      }
    });
  });
  const watchdog = {
    timeoutMs: doc.watchdog?.timeoutMs ?? 100,
    maxLatenessMs: doc.watchdog?.maxLatenessMs ?? 50,
    checkPeriodMs: doc.watchdog?.checkPeriodMs ?? 10,
  };
  if (watchdog.checkPeriodMs > watchdog.timeoutMs) {
    throw new Ros2ParamsError(
      source,
      'watchdog.checkPeriodMs',
      `${watchdog.checkPeriodMs} ms is longer than timeoutMs (${watchdog.timeoutMs} ms): the watchdog would fire late`,
    );
  }
  return {
    source,
    robot: doc.robot,
    description: doc.description ?? '',
    nodeName: doc.node?.name ?? 'spikeloop_bridge',
    namespace: doc.node?.namespace ?? '',
    sensors,
    motors,
    watchdog,
    telemetry: {
      rateHz: doc.telemetry?.rateHz ?? 10,
      activityTopic: doc.telemetry?.activityTopic ?? '~/population_activity',
      latencyTopic: doc.telemetry?.latencyTopic ?? '~/latency_report',
      diagnosticsTopic: doc.telemetry?.diagnosticsTopic ?? '/diagnostics',
      stimulusTopic: doc.telemetry?.stimulusTopic ?? '~/stimulus',
      spikesTopic: doc.telemetry?.spikesTopic ?? '',
    },
    codec: doc.codec ?? {},
  };
}

function sensorConversion(entry: SensorEntry, path: string, source: string): SensorConversion {
  switch (entry.type) {
    case SensorMessageType.laserScan:
      if (
        entry.angleMinRad !== undefined &&
        entry.angleMaxRad !== undefined &&
        entry.angleMinRad >= entry.angleMaxRad
      ) {
        throw new Ros2ParamsError(
          source,
          `${path}.angleMaxRad`,
          `must be greater than angleMinRad (${entry.angleMinRad}), got ${entry.angleMaxRad}`,
        );
      }
      return {
        kind: 'laserScan',
        sectors: entry.sectors,
        angleMinRad: entry.angleMinRad,
        angleMaxRad: entry.angleMaxRad,
        maxRangeM: entry.maxRangeM,
        output: entry.output ?? 'rangeM',
      };
    case SensorMessageType.range:
      return { kind: 'range', maxRangeM: entry.maxRangeM, output: entry.output ?? 'rangeM' };
    case SensorMessageType.imu:
      return { kind: 'imu', fields: entry.fields };
    case SensorMessageType.jointState:
      return { kind: 'jointState', joints: entry.joints, field: entry.field ?? 'position' };
    case SensorMessageType.float32MultiArray:
      return { kind: 'float32MultiArray', size: entry.size };
  }
}

function sensorParams(entry: SensorEntry, path: string, source: string): SensorParams {
  return {
    name: entry.name,
    topic: entry.topic,
    conversion: sensorConversion(entry, path, source),
    qos: { ...SENSOR_QOS, ...entry.qos },
    staleAfterMs: entry.staleAfterMs ?? 500,
  };
}

function motorConversion(entry: MotorEntry): MotorConversion {
  switch (entry.type) {
    case MotorMessageType.twist:
      return { kind: 'twist', fields: entry.fields };
    case MotorMessageType.twistStamped:
      return { kind: 'twistStamped', fields: entry.fields, frameId: entry.frameId ?? 'base_link' };
    case MotorMessageType.float64MultiArray:
      return { kind: 'float64MultiArray', size: entry.size };
    case MotorMessageType.jointTrajectory:
      return {
        kind: 'jointTrajectory',
        joints: entry.joints,
        field: entry.field ?? 'positions',
        timeFromStartMs: entry.timeFromStartMs ?? 100,
      };
  }
}

function motorParams(entry: MotorEntry, path: string, source: string): MotorParams {
  const conversion = motorConversion(entry);
  const count = motorValueCount(conversion);
  if (entry.limits.length !== count) {
    throw new Ros2ParamsError(
      source,
      `${path}.limits`,
      `has ${entry.limits.length} entries, expected ${count} (one per value)`,
    );
  }
  const limits = entry.limits.map((l, i) => {
    if (l.min > l.max)
      throw new Ros2ParamsError(source, `${path}.limits[${i}]`, `min ${l.min} > max ${l.max}`);
    return { min: l.min, max: l.max, maxRatePerS: l.maxRatePerS ?? Number.POSITIVE_INFINITY };
  });
  const onStop = entry.onStop ?? 'zero';
  if (onStop === 'zero') {
    limits.forEach((l, i) => {
      if (l.min > 0 || l.max < 0) {
        throw new Ros2ParamsError(
          source,
          `${path}.limits[${i}]`,
          `[${l.min}, ${l.max}] excludes 0, but onStop is "zero"; use onStop: hold for position interfaces`,
        );
      }
    });
  }
  return {
    name: entry.name,
    topic: entry.topic,
    conversion,
    qos: { ...COMMAND_QOS, ...entry.qos },
    limits,
    maxPublishHz: entry.maxPublishHz ?? 1000,
    onStop,
    onStale: entry.onStale ?? (onStop === 'zero' ? 'stop' : 'hold'),
    dependsOn: entry.dependsOn ?? null,
  };
}

function requireUnique(source: string, path: string, names: string[]): void {
  names.forEach((n, i) => {
    if (names.indexOf(n) !== i)
      throw new Ros2ParamsError(source, `${path}[${i}].name`, `"${n}" is used twice`);
  });
}

/** Values produced per sensor / consumed per motor, for the codec's size checks. */
export function inputSizes(params: RobotParams): Record<string, number> {
  return Object.fromEntries(params.sensors.map((s) => [s.name, sensorValueCount(s.conversion)]));
}

export function outputSizes(params: RobotParams): Record<string, number> {
  return Object.fromEntries(params.motors.map((m) => [m.name, motorValueCount(m.conversion)]));
}
