/**
 * The channels of a recording (and of the live Foxglove view): topics, schemas and the conversion
 * of one TickRecord into messages. Everything is JSON with JSON Schema, so Foxglove shows it
 * without configuration: the arena as a foxglove.SceneUpdate (3D panel) with a foxglove.FrameTransform
 * and the range rays as a foxglove.LaserScan; rates, lateness and commands as plain numeric fields
 * (Plot panel); the rest as spikeloop.* schemas that carry every value a replay needs.
 *
 * Numbers: a float32 value converted to a double and printed by JSON.stringify reads back as the
 * same double, hence the same float32, so recorded values compare bit for bit. Non-finite sensor
 * values (which the encoders reject) are written as the strings "NaN", "Infinity", "-Infinity".
 */
import {
  FrameTransform as FrameTransformSchema,
  LaserScan as LaserScanSchema,
  SceneUpdate as SceneUpdateSchema,
} from '@foxglove/schemas/jsonschema.js';
import type { CodecMapping } from '../codec/mapping.js';
import type { ArenaScene } from '../env/arena/world.js';
import type { RobotParams } from '../io/ros2/params.js';
import type { StalePolicy } from '../loop/safety.js';
import { type Layout, populationSizes } from '../model/network.js';
import type { ModelName, ModelParams } from '../model/params.js';
import type { TickRecord } from './tick-record.js';

/** Everything needed to rebuild the run: stored as MCAP metadata "spikeloop.run" (key "description"). */
export interface RunDescription {
  spikeloopVersion: string;
  env: string;
  envSettings: Record<string, string | number | boolean>;
  model: ModelName;
  /** The full, resolved model parameters (seed included). */
  params: ModelParams;
  n: number;
  seed: number;
  backend: string;
  adapter: string;
  tickMs: number;
  dtMs: number;
  substeps: number;
  /** Engine ticks run with no input before the first recorded tick. */
  warmupTicks: number;
  latePolicy: string;
  layout: Layout;
  /** The codec mapping, when the environment was built from one (arena, ws). */
  mapping: CodecMapping | null;
  /** The arena's static world, for the in-process arena. */
  scene: ArenaScene | null;
  /**
   * The resolved robot params of a ROS 2 run (topics, conversions, safety, codec mapping): replay
   * rebuilds the run's encoders and decoders from it, without the file or ROS 2.
   */
  robot?: RobotParams | null;
  /** The stale-input safety settings the loop ran with (absent in older recordings). */
  safety?: RecordedSafety;
  startedAt: string;
  /** For recordings written by `spikeloop replay`: the recording replayed and what changed. */
  replayOf?: { file: string; changes: string[] };
}

/** The loop's stale-input safety settings (loop/safety.ts) as JSON: null stands for "never stale". */
export interface RecordedSafety {
  staleAfterMs: Record<string, number | null>;
  defaultStaleAfterMs: number | null;
  onStale: Record<string, StalePolicy>;
  defaultOnStale: StalePolicy;
  dependsOn: Record<string, string[]>;
}

export const METADATA_NAME = 'spikeloop.run';

export interface ChannelSpec {
  topic: string;
  schemaName: string;
  /** JSON Schema text. */
  schema: string;
}

export interface OutgoingMessage {
  topic: string;
  /** Log time, ns since the Unix epoch. */
  logTimeNs: bigint;
  data: unknown;
}

const numberArray = { type: 'array', items: { type: 'number' } };
const sampleValues = { type: 'array', items: { type: ['number', 'string'] } };

function objectSchema(title: string, properties: Record<string, unknown>): string {
  return JSON.stringify({ title, type: 'object', properties });
}

export const TOPICS = {
  tick: '/spikeloop/tick',
  counts: '/spikeloop/population',
  spikes: '/spikeloop/spikes',
  world: '/arena/state',
  scene: '/arena/scene',
  transform: '/arena/tf',
  scan: '/arena/ranges',
  externalWorld: '/world/frame',
} as const;

export const sensorTopic = (name: string) => `/sensor/${name}`;
export const motorTopic = (name: string) => `/motor/${name}`;

/** Every channel a run with these inputs and outputs has. */
export function channelsFor(description: RunDescription, inputs: string[], outputs: string[]): ChannelSpec[] {
  const channels: ChannelSpec[] = [
    {
      topic: TOPICS.tick,
      schemaName: 'spikeloop.Tick',
      schema: objectSchema('spikeloop.Tick', {
        tick: { type: 'integer', description: 'ticks run before this one' },
        slot: { type: 'integer', description: 'schedule slot (ticks dropped under skip make it larger)' },
        firstStep: { type: 'integer' },
        substeps: { type: 'integer' },
        startUs: { type: 'number', description: 'tick start, monotonic µs' },
        latenessUs: { type: 'number' },
        computeUs: { type: 'number' },
        used: { type: 'object', description: 'per input: seq of the sample the encoders used (−1: none)' },
        currentsPa: numberArray,
      }),
    },
    {
      topic: TOPICS.counts,
      schemaName: 'spikeloop.PopulationActivity',
      schema: objectSchema('spikeloop.PopulationActivity', {
        tick: { type: 'integer' },
        counts: { ...numberArray, description: 'spikes per population in this tick: E0…E(Q−1), I0…I(Q−1)' },
        ratesHz: numberArray,
        rateEHz: { type: 'number' },
        rateIHz: { type: 'number' },
      }),
    },
    {
      topic: TOPICS.spikes,
      schemaName: 'spikeloop.Spikes',
      schema: objectSchema('spikeloop.Spikes', {
        tick: { type: 'integer' },
        firstStep: { type: 'integer' },
        steps: { ...numberArray, description: 'per spike: step offset within the tick' },
        ids: { ...numberArray, description: 'per spike: neuron id (instance 0)' },
      }),
    },
  ];
  for (const name of inputs) {
    channels.push({
      topic: sensorTopic(name),
      schemaName: 'spikeloop.SensorSample',
      schema: objectSchema('spikeloop.SensorSample', {
        tick: { type: 'integer', description: 'the tick that took it' },
        seq: { type: 'integer' },
        arrivalUs: { type: 'number' },
        values: sampleValues,
      }),
    });
  }
  for (const name of outputs) {
    channels.push({
      topic: motorTopic(name),
      schemaName: 'spikeloop.MotorCommand',
      schema: objectSchema('spikeloop.MotorCommand', {
        tick: { type: 'integer' },
        ok: { type: 'boolean', description: 'false: the decoder failed, no command was written' },
        values: numberArray,
        sourceSeq: { type: 'object' },
        computedUs: { type: 'number' },
        computeUs: { type: 'number' },
        safety: {
          type: ['string', 'null'],
          description: 'command | stop | hold: the stale-input policy on this output (null: nothing written)',
        },
      }),
    });
  }
  if (description.env === 'ws') {
    channels.push({
      topic: TOPICS.externalWorld,
      schemaName: 'spikeloop.WorldFrame',
      schema: objectSchema('spikeloop.WorldFrame', {
        tick: { type: 'integer', description: 'the first tick after the frame arrived' },
        frame: { type: 'object', description: "the simulator's world frame (docs/protocol.md, ArenaView)" },
      }),
    });
  }
  if (description.scene) {
    channels.push(
      {
        topic: TOPICS.world,
        schemaName: 'spikeloop.ArenaState',
        schema: objectSchema('spikeloop.ArenaState', {
          tick: { type: 'integer' },
          timeS: { type: 'number' },
          x: { type: 'number' },
          y: { type: 'number' },
          headingRad: { type: 'number' },
          vMps: { type: 'number' },
          omegaRadPerS: { type: 'number' },
          targetX: { type: 'number' },
          targetY: { type: 'number' },
          rangesM: numberArray,
          collisions: { type: 'integer' },
          targetsReached: { type: 'integer' },
          distanceM: { type: 'number' },
        }),
      },
      { topic: TOPICS.scene, schemaName: 'foxglove.SceneUpdate', schema: JSON.stringify(SceneUpdateSchema) },
      {
        topic: TOPICS.transform,
        schemaName: 'foxglove.FrameTransform',
        schema: JSON.stringify(FrameTransformSchema),
      },
      { topic: TOPICS.scan, schemaName: 'foxglove.LaserScan', schema: JSON.stringify(LaserScanSchema) },
    );
  }
  return channels;
}

/** Converts monotonic µs of this process to Unix ns (fixed offset taken once per run). */
export class LogClock {
  private readonly offsetUs: number;
  constructor(nowMonotonicUs: number, nowEpochMs: number) {
    this.offsetUs = nowEpochMs * 1000 - nowMonotonicUs;
  }
  ns(monotonicUs: number): bigint {
    return BigInt(Math.round(monotonicUs + this.offsetUs)) * 1000n;
  }
}

function sampleValuesOf(values: Float32Array): (number | string)[] {
  const out: (number | string)[] = new Array(values.length);
  for (let k = 0; k < values.length; k++) {
    const v = values[k]!;
    out[k] = Number.isFinite(v) ? v : String(v);
  }
  return out;
}

function time(ns: bigint): { sec: number; nsec: number } {
  return { sec: Number(ns / 1_000_000_000n), nsec: Number(ns % 1_000_000_000n) };
}

/** Options for the Foxglove-facing messages (sent at a lower rate than the tick). */
export interface MessageOptions {
  /** Emit the 3D scene, transform and scan every `sceneEvery` ticks (default 20: 50 Hz at 1 ms). */
  sceneEvery?: number;
}

/** The messages of one tick. */
export function tickMessages(
  record: TickRecord,
  description: RunDescription,
  clock: LogClock,
  options: MessageOptions = {},
): OutgoingMessage[] {
  const logTimeNs = clock.ns(record.startUs);
  const out: OutgoingMessage[] = [];
  const used: Record<string, number> = {};
  for (const input of record.inputs) used[input.name] = input.usedSeq;
  out.push({
    topic: TOPICS.tick,
    logTimeNs,
    data: {
      tick: record.index,
      slot: record.slot,
      firstStep: record.firstStep,
      substeps: record.substeps,
      startUs: record.startUs,
      latenessUs: record.latenessUs,
      computeUs: record.computeUs,
      used,
      currentsPa: Array.from(record.currentsPa),
    },
  });
  for (const input of record.inputs) {
    if (!input.taken) continue;
    out.push({
      topic: sensorTopic(input.name),
      logTimeNs,
      data: {
        tick: record.index,
        seq: input.taken.seq,
        arrivalUs: input.taken.arrivalUs,
        values: sampleValuesOf(input.taken.values),
      },
    });
  }
  const { layout, tickMs } = description;
  const sizes = populationSizes(layout);
  const ratesHz = Array.from(record.counts, (count, p) => (count * 1000) / ((sizes[p] ?? 1) * tickMs));
  let spikesE = 0;
  let spikesI = 0;
  record.counts.forEach((count, p) => {
    if (p < layout.clusters) spikesE += count;
    else spikesI += count;
  });
  out.push({
    topic: TOPICS.counts,
    logTimeNs,
    data: {
      tick: record.index,
      counts: Array.from(record.counts),
      ratesHz,
      rateEHz: (spikesE * 1000) / (layout.nE * tickMs),
      rateIHz: (spikesI * 1000) / (layout.nI * tickMs),
    },
  });
  out.push({
    topic: TOPICS.spikes,
    logTimeNs,
    data: {
      tick: record.index,
      firstStep: record.firstStep,
      steps: Array.from(record.spikeSteps),
      ids: Array.from(record.spikeIds),
    },
  });
  for (const output of record.outputs) {
    out.push({
      topic: motorTopic(output.name),
      logTimeNs,
      data: {
        tick: record.index,
        ok: output.values !== null,
        values: output.values ? Array.from(output.values) : [],
        sourceSeq: output.sourceSeq,
        computedUs: Number.isFinite(output.computedUs) ? output.computedUs : null,
        computeUs: record.computeUs,
        safety: output.safety,
      },
    });
  }
  if (record.externalWorld) {
    out.push({
      topic: TOPICS.externalWorld,
      logTimeNs,
      data: { tick: record.index, frame: record.externalWorld },
    });
  }
  const world = record.world;
  if (world && description.scene) {
    out.push({ topic: TOPICS.world, logTimeNs, data: { tick: record.index, ...world } });
    const every = options.sceneEvery ?? 20;
    if (record.index % every === 0) out.push(...sceneMessages(world, description.scene, logTimeNs));
  }
  return out;
}

type Rgba = { r: number; g: number; b: number; a: number };
const GREY: Rgba = { r: 0.55, g: 0.55, b: 0.6, a: 1 };
const BLUE: Rgba = { r: 0.2, g: 0.45, b: 0.9, a: 1 };
const GREEN: Rgba = { r: 0.1, g: 0.75, b: 0.3, a: 1 };
const IDENTITY = { x: 0, y: 0, z: 0, w: 1 };

function yaw(headingRad: number) {
  return { x: 0, y: 0, z: Math.sin(headingRad / 2), w: Math.cos(headingRad / 2) };
}

function entity(id: string, frameId: string, stamp: { sec: number; nsec: number }, parts: object) {
  return {
    timestamp: stamp,
    frame_id: frameId,
    id,
    lifetime: { sec: 0, nsec: 0 },
    frame_locked: false,
    metadata: [],
    arrows: [],
    cubes: [],
    spheres: [],
    cylinders: [],
    lines: [],
    triangles: [],
    texts: [],
    models: [],
    ...parts,
  };
}

/** The arena for Foxglove's 3D panel: world frame "arena", robot frame "robot". */
export function sceneMessages(
  world: NonNullable<TickRecord['world']>,
  scene: ArenaScene,
  logTimeNs: bigint,
): OutgoingMessage[] {
  const stamp = time(logTimeNs);
  const { widthM, heightM } = scene;
  const walls = [
    { x: 0, y: 0 },
    { x: widthM, y: 0 },
    { x: widthM, y: heightM },
    { x: 0, y: heightM },
    { x: 0, y: 0 },
  ].map((p) => ({ x: p.x, y: p.y, z: 0 }));
  const obstacleCylinders = scene.obstacles
    .filter((shape) => shape.kind === 'circle')
    .map((c) => ({
      pose: { position: { x: c.x, y: c.y, z: 0.1 }, orientation: IDENTITY },
      size: { x: 2 * c.radiusM, y: 2 * c.radiusM, z: 0.2 },
      bottom_scale: 1,
      top_scale: 1,
      color: GREY,
    }));
  const segmentLines = scene.obstacles
    .filter((shape) => shape.kind === 'segment')
    .map((s) => ({
      type: 0,
      pose: { position: { x: 0, y: 0, z: 0 }, orientation: IDENTITY },
      thickness: 0.03,
      scale_invariant: false,
      points: [
        { x: s.x1, y: s.y1, z: 0.05 },
        { x: s.x2, y: s.y2, z: 0.05 },
      ],
      color: GREY,
      colors: [],
      indices: [],
    }));
  const wallLine = {
    type: 0,
    pose: { position: { x: 0, y: 0, z: 0 }, orientation: IDENTITY },
    thickness: 0.03,
    scale_invariant: false,
    points: walls,
    color: GREY,
    colors: [],
    indices: [],
  };
  const r = scene.robotRadiusM;
  const update = {
    deletions: [],
    entities: [
      entity('world', 'arena', stamp, { cylinders: obstacleCylinders, lines: [wallLine, ...segmentLines] }),
      entity('robot', 'robot', stamp, {
        cylinders: [
          {
            pose: { position: { x: 0, y: 0, z: 0.05 }, orientation: IDENTITY },
            size: { x: 2 * r, y: 2 * r, z: 0.1 },
            bottom_scale: 1,
            top_scale: 1,
            color: BLUE,
          },
        ],
        arrows: [
          {
            pose: { position: { x: 0, y: 0, z: 0.12 }, orientation: IDENTITY },
            shaft_length: r,
            shaft_diameter: 0.02,
            head_length: 0.05,
            head_diameter: 0.05,
            color: BLUE,
          },
        ],
      }),
      entity('target', 'arena', stamp, {
        spheres: [
          {
            pose: { position: { x: world.targetX, y: world.targetY, z: 0.05 }, orientation: IDENTITY },
            size: { x: 0.1, y: 0.1, z: 0.1 },
            color: GREEN,
          },
        ],
      }),
    ],
  };
  const transform = {
    timestamp: stamp,
    parent_frame_id: 'arena',
    child_frame_id: 'robot',
    translation: { x: world.x, y: world.y, z: 0 },
    rotation: yaw(world.headingRad),
  };
  const angles = scene.sensorAnglesRad;
  const scan = {
    timestamp: stamp,
    frame_id: 'robot',
    pose: { position: { x: 0, y: 0, z: 0.1 }, orientation: IDENTITY },
    start_angle: angles[0] ?? 0,
    end_angle: angles[angles.length - 1] ?? 0,
    // Ranges are measured from the robot's rim; the scan's origin is its centre.
    ranges: world.rangesM.map((range) => range + r),
    intensities: [],
  };
  return [
    { topic: TOPICS.scene, logTimeNs, data: update },
    { topic: TOPICS.transform, logTimeNs, data: transform },
    { topic: TOPICS.scan, logTimeNs, data: scan },
  ];
}
