/**
 * The robot params file: which topics the bridge subscribes to and publishes, how each message
 * becomes values (and values become commands), QoS, safety limits, the watchdog and telemetry.
 * YAML, validated by a JSON schema (ajv) and then by the cross-field checks a schema cannot express;
 * every error names the file and the JSON pointer of the bad field.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { STALE_POLICIES, type StalePolicy } from '../../loop/safety.js';
import { Ros2ParamsError } from './errors.js';
import { MotorMessageType, SensorMessageType } from './messages.js';
import { type MotorConversion, motorValueCount, TWIST_FIELDS } from './motors.js';
import type { ValueLimit, WatchdogOptions } from './safety.js';
import { IMU_FIELDS, type ImuField, type SensorConversion, sensorValueCount } from './sensors.js';

export type Reliability = 'reliable' | 'best_effort';
export type Durability = 'volatile' | 'transient_local';

export interface QosSettings {
  reliability: Reliability;
  durability: Durability;
  /** History keep-last depth. */
  depth: number;
}

/** ROS 2 sensor-data profile, but keep last 1: the tick only ever wants the newest sample. */
export const SENSOR_QOS: QosSettings = { reliability: 'best_effort', durability: 'volatile', depth: 1 };
/** Commands must arrive: reliable, a short queue. */
export const COMMAND_QOS: QosSettings = { reliability: 'reliable', durability: 'volatile', depth: 10 };
export const TELEMETRY_QOS: QosSettings = { reliability: 'reliable', durability: 'volatile', depth: 10 };

export interface SensorParams {
  /** Input name the encoders refer to. */
  name: string;
  /** Topic (relative names resolve in the node's namespace; remappable with --ros-args -r). */
  topic: string;
  conversion: SensorConversion;
  qos: QosSettings;
  /** A sensor silent for longer than this is reported stale in the diagnostics. */
  staleAfterMs: number;
}

export type StopBehaviour = 'zero' | 'hold';

export interface MotorParams {
  /** Output name the decoders refer to. */
  name: string;
  topic: string;
  conversion: MotorConversion;
  qos: QosSettings;
  /** One per value. */
  limits: ValueLimit[];
  /** Commands are published at most this often (the loop may tick at 1 kHz; a base need not). */
  maxPublishHz: number;
  /** What the watchdog publishes: zeros (velocity interfaces) or the last command (position interfaces). */
  onStop: StopBehaviour;
  /**
   * While a sensor it depends on is stale or has never delivered (loop/safety.ts): stop (zeros),
   * hold (the last command) or continue. Default: stop for onStop zero, hold for onStop hold.
   */
  onStale: StalePolicy;
  /** The sensors whose staleness triggers onStale (default: every sensor). */
  dependsOn: string[] | null;
}

export interface TelemetryParams {
  /** Population activity, latency reports and diagnostics are published at this rate. */
  rateHz: number;
  activityTopic: string;
  latencyTopic: string;
  diagnosticsTopic: string;
  stimulusTopic: string;
  /** Topic of spikeloop_msgs/SpikeBatch; empty disables spike publication. */
  spikesTopic: string;
}

export interface RobotParams {
  /** The file it came from (for messages). */
  source: string;
  robot: string;
  description: string;
  nodeName: string;
  namespace: string;
  sensors: SensorParams[];
  motors: MotorParams[];
  watchdog: WatchdogOptions & { checkPeriodMs: number };
  telemetry: TelemetryParams;
  /** Encoder/decoder mapping, handed unchanged to the codec's mapping parser. */
  codec: Record<string, unknown>;
}

const name = { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' };
// ROS 2 topic names: tokens of [A-Za-z0-9_], separated by '/', optionally '~' (private) first.
const topic = { type: 'string', pattern: '^(~|~/|/)?[A-Za-z_][A-Za-z0-9_]*(/[A-Za-z_][A-Za-z0-9_]*)*$' };
const positive = { type: 'number', exclusiveMinimum: 0 };
const qos = {
  type: 'object',
  additionalProperties: false,
  properties: {
    reliability: { enum: ['reliable', 'best_effort'] },
    durability: { enum: ['volatile', 'transient_local'] },
    depth: { type: 'integer', minimum: 1, maximum: 1000 },
  },
};
const rangeOutput = { enum: ['rangeM', 'proximity'] };
const sensorCommon = { name, topic, qos, staleAfterMs: positive };

function branch(type: string, properties: Record<string, unknown>, required: string[]) {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['name', 'topic', 'type', ...required],
    properties: { type: { const: type }, ...properties },
  };
}

const sensorSchema = {
  type: 'object',
  discriminator: { propertyName: 'type' },
  required: ['type'],
  properties: { type: { type: 'string' } },
  oneOf: [
    branch(
      SensorMessageType.laserScan,
      {
        ...sensorCommon,
        sectors: { type: 'integer', minimum: 1, maximum: 4096 },
        angleMinRad: { type: 'number', minimum: -7, maximum: 7 },
        angleMaxRad: { type: 'number', minimum: -7, maximum: 7 },
        maxRangeM: positive,
        output: rangeOutput,
      },
      ['sectors'],
    ),
    branch(SensorMessageType.range, { ...sensorCommon, maxRangeM: positive, output: rangeOutput }, []),
    branch(
      SensorMessageType.imu,
      { ...sensorCommon, fields: { type: 'array', minItems: 1, items: { enum: [...IMU_FIELDS] } } },
      ['fields'],
    ),
    branch(
      SensorMessageType.jointState,
      {
        ...sensorCommon,
        joints: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', minLength: 1 } },
        field: { enum: ['position', 'velocity', 'effort'] },
      },
      ['joints'],
    ),
    branch(
      SensorMessageType.float32MultiArray,
      { ...sensorCommon, size: { type: 'integer', minimum: 1, maximum: 1 << 20 } },
      ['size'],
    ),
  ],
};

const limit = {
  type: 'object',
  additionalProperties: false,
  required: ['min', 'max'],
  properties: { min: { type: 'number' }, max: { type: 'number' }, maxRatePerS: positive },
};
const motorCommon = {
  name,
  topic,
  qos,
  limits: { type: 'array', minItems: 1, items: limit },
  maxPublishHz: positive,
  onStop: { enum: ['zero', 'hold'] },
  onStale: { enum: [...STALE_POLICIES] },
  dependsOn: { type: 'array', uniqueItems: true, items: name },
};

const motorSchema = {
  type: 'object',
  discriminator: { propertyName: 'type' },
  required: ['type'],
  properties: { type: { type: 'string' } },
  oneOf: [
    branch(
      MotorMessageType.twist,
      {
        ...motorCommon,
        fields: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: [...TWIST_FIELDS] } },
      },
      ['fields', 'limits'],
    ),
    branch(
      MotorMessageType.twistStamped,
      {
        ...motorCommon,
        fields: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: [...TWIST_FIELDS] } },
        frameId: { type: 'string' },
      },
      ['fields', 'limits'],
    ),
    branch(
      MotorMessageType.float64MultiArray,
      { ...motorCommon, size: { type: 'integer', minimum: 1, maximum: 4096 } },
      ['size', 'limits'],
    ),
    branch(
      MotorMessageType.jointTrajectory,
      {
        ...motorCommon,
        joints: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', minLength: 1 } },
        field: { enum: ['positions', 'velocities'] },
        timeFromStartMs: positive,
      },
      ['joints', 'limits'],
    ),
  ],
};

/** The JSON schema of a robot params file (exported for editors and documentation). */
export const robotParamsSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'spikeloop robot params',
  type: 'object',
  additionalProperties: false,
  required: ['robot', 'sensors', 'motors'],
  properties: {
    robot: { type: 'string', minLength: 1 },
    description: { type: 'string' },
    node: {
      type: 'object',
      additionalProperties: false,
      properties: { name, namespace: { type: 'string', pattern: '^(/[A-Za-z_][A-Za-z0-9_]*)*/?$' } },
    },
    sensors: { type: 'array', minItems: 1, items: sensorSchema },
    motors: { type: 'array', minItems: 1, items: motorSchema },
    watchdog: {
      type: 'object',
      additionalProperties: false,
      properties: { timeoutMs: positive, maxLatenessMs: positive, checkPeriodMs: positive },
    },
    telemetry: {
      type: 'object',
      additionalProperties: false,
      properties: {
        rateHz: { type: 'number', exclusiveMinimum: 0, maximum: 1000 },
        activityTopic: topic,
        latencyTopic: topic,
        diagnosticsTopic: topic,
        stimulusTopic: topic,
        spikesTopic: { anyOf: [topic, { const: '' }] },
      },
    },
    codec: { type: 'object' },
  },
} as const;

const ajv = new Ajv({
  allErrors: false,
  verbose: true,
  strict: true,
  discriminator: true,
  allowUnionTypes: true,
});
const validateSchema = ajv.compile(robotParamsSchema);

/** Reads, parses and validates a robot params file. */
export function loadRobotParams(file: string): RobotParams {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Ros2ParamsError(file, '', `cannot read the robot params file (${(error as Error).message})`);
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new Ros2ParamsError(file, '', `not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  return parseRobotParams(document, file);
}

/** Validates an already parsed params document; `source` names it in errors. */
export function parseRobotParams(document: unknown, source: string): RobotParams {
  if (!validateSchema(document)) throw schemaError(source, validateSchema.errors ?? []);
  const doc = document as RawParams;
  const sensors = doc.sensors.map((raw, i) => sensorParams(raw, `/sensors/${i}`, source));
  const motors = doc.motors.map((raw, i) => motorParams(raw, `/motors/${i}`, source));
  requireUnique(
    source,
    '/sensors',
    sensors.map((s) => s.name),
  );
  requireUnique(
    source,
    '/motors',
    motors.map((m) => m.name),
  );
  motors.forEach((motor, i) => {
    motor.dependsOn?.forEach((sensor, k) => {
      if (!sensors.some((s) => s.name === sensor)) {
        throw new Ros2ParamsError(
          source,
          `/motors/${i}/dependsOn/${k}`,
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
      '/watchdog/checkPeriodMs',
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

interface RawQos {
  reliability?: Reliability;
  durability?: Durability;
  depth?: number;
}

interface RawSensor {
  name: string;
  topic: string;
  type: string;
  qos?: RawQos;
  staleAfterMs?: number;
  sectors?: number;
  angleMinRad?: number;
  angleMaxRad?: number;
  maxRangeM?: number;
  output?: 'rangeM' | 'proximity';
  fields?: string[];
  joints?: string[];
  field?: string;
  size?: number;
}

interface RawMotor {
  name: string;
  topic: string;
  type: string;
  qos?: RawQos;
  limits: Array<{ min: number; max: number; maxRatePerS?: number }>;
  maxPublishHz?: number;
  onStop?: StopBehaviour;
  onStale?: StalePolicy;
  dependsOn?: string[];
  frameId?: string;
  fields?: string[];
  size?: number;
  joints?: string[];
  field?: string;
  timeFromStartMs?: number;
}

interface RawParams {
  robot: string;
  description?: string;
  node?: { name?: string; namespace?: string };
  sensors: RawSensor[];
  motors: RawMotor[];
  watchdog?: Partial<WatchdogOptions & { checkPeriodMs: number }>;
  telemetry?: Partial<TelemetryParams>;
  codec?: Record<string, unknown>;
}

function sensorParams(raw: RawSensor, path: string, source: string): SensorParams {
  let conversion: SensorConversion;
  switch (raw.type) {
    case SensorMessageType.laserScan:
      if (
        raw.angleMinRad !== undefined &&
        raw.angleMaxRad !== undefined &&
        raw.angleMinRad >= raw.angleMaxRad
      ) {
        throw new Ros2ParamsError(
          source,
          `${path}/angleMaxRad`,
          `must be greater than angleMinRad (${raw.angleMinRad}), got ${raw.angleMaxRad}`,
        );
      }
      conversion = {
        kind: 'laserScan',
        sectors: raw.sectors!,
        angleMinRad: raw.angleMinRad,
        angleMaxRad: raw.angleMaxRad,
        maxRangeM: raw.maxRangeM,
        output: raw.output ?? 'rangeM',
      };
      break;
    case SensorMessageType.range:
      conversion = { kind: 'range', maxRangeM: raw.maxRangeM, output: raw.output ?? 'rangeM' };
      break;
    case SensorMessageType.imu:
      conversion = { kind: 'imu', fields: raw.fields as ImuField[] };
      break;
    case SensorMessageType.jointState:
      conversion = {
        kind: 'jointState',
        joints: raw.joints!,
        field: (raw.field ?? 'position') as 'position' | 'velocity' | 'effort',
      };
      break;
    default:
      conversion = { kind: 'float32MultiArray', size: raw.size! };
  }
  return {
    name: raw.name,
    topic: raw.topic,
    conversion,
    qos: { ...SENSOR_QOS, ...raw.qos },
    staleAfterMs: raw.staleAfterMs ?? 500,
  };
}

function motorParams(raw: RawMotor, path: string, source: string): MotorParams {
  let conversion: MotorConversion;
  switch (raw.type) {
    case MotorMessageType.twist:
      conversion = { kind: 'twist', fields: raw.fields as (typeof TWIST_FIELDS)[number][] };
      break;
    case MotorMessageType.twistStamped:
      conversion = {
        kind: 'twistStamped',
        fields: raw.fields as (typeof TWIST_FIELDS)[number][],
        frameId: raw.frameId ?? 'base_link',
      };
      break;
    case MotorMessageType.float64MultiArray:
      conversion = { kind: 'float64MultiArray', size: raw.size! };
      break;
    default:
      conversion = {
        kind: 'jointTrajectory',
        joints: raw.joints!,
        field: (raw.field ?? 'positions') as 'positions' | 'velocities',
        timeFromStartMs: raw.timeFromStartMs ?? 100,
      };
  }
  const count = motorValueCount(conversion);
  if (raw.limits.length !== count) {
    throw new Ros2ParamsError(
      source,
      `${path}/limits`,
      `has ${raw.limits.length} entries, expected ${count} (one per value)`,
    );
  }
  const limits = raw.limits.map((l, i) => {
    if (l.min > l.max)
      throw new Ros2ParamsError(source, `${path}/limits/${i}`, `min ${l.min} > max ${l.max}`);
    return { min: l.min, max: l.max, maxRatePerS: l.maxRatePerS ?? Number.POSITIVE_INFINITY };
  });
  const onStop = raw.onStop ?? 'zero';
  if (onStop === 'zero') {
    limits.forEach((l, i) => {
      if (l.min > 0 || l.max < 0) {
        throw new Ros2ParamsError(
          source,
          `${path}/limits/${i}`,
          `[${l.min}, ${l.max}] excludes 0, but onStop is "zero"; use onStop: hold for position interfaces`,
        );
      }
    });
  }
  return {
    name: raw.name,
    topic: raw.topic,
    conversion,
    qos: { ...COMMAND_QOS, ...raw.qos },
    limits,
    maxPublishHz: raw.maxPublishHz ?? 1000,
    onStop,
    onStale: raw.onStale ?? (onStop === 'zero' ? 'stop' : 'hold'),
    dependsOn: raw.dependsOn ?? null,
  };
}

function requireUnique(source: string, path: string, names: string[]): void {
  names.forEach((n, i) => {
    if (names.indexOf(n) !== i)
      throw new Ros2ParamsError(source, `${path}/${i}/name`, `"${n}" is used twice`);
  });
}

function schemaError(source: string, errors: ErrorObject[]): Ros2ParamsError {
  const error = errors[0];
  if (error === undefined) return new Ros2ParamsError(source, '', 'invalid');
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return new Ros2ParamsError(
        source,
        error.instancePath,
        `unknown key "${String(params.additionalProperty)}"`,
      );
    case 'required':
      return new Ros2ParamsError(
        source,
        error.instancePath,
        `missing required key "${String(params.missingProperty)}"`,
      );
    case 'enum':
      return new Ros2ParamsError(
        source,
        error.instancePath,
        `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      );
    case 'discriminator': {
      const types = error.instancePath.startsWith('/sensors')
        ? Object.values(SensorMessageType)
        : Object.values(MotorMessageType);
      return new Ros2ParamsError(
        source,
        `${error.instancePath}/type`,
        `${JSON.stringify((error.data as { type?: unknown } | undefined)?.type)} is not supported here; expected one of ${types.join(', ')}`,
      );
    }
    case 'pattern':
      return new Ros2ParamsError(
        source,
        error.instancePath,
        `"${String(error.data)}" is not a valid ROS 2 name`,
      );
    default:
      return new Ros2ParamsError(source, error.instancePath, error.message ?? 'invalid');
  }
}

/** Values produced per sensor / consumed per motor, for the codec's size checks. */
export function inputSizes(params: RobotParams): Record<string, number> {
  return Object.fromEntries(params.sensors.map((s) => [s.name, sensorValueCount(s.conversion)]));
}

export function outputSizes(params: RobotParams): Record<string, number> {
  return Object.fromEntries(params.motors.map((m) => [m.name, motorValueCount(m.conversion)]));
}
