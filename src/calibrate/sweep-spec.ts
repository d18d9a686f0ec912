/**
 * Sweep specifications (GRID.yaml): which parameter values to simulate, for how long, and which
 * metric to draw. A spec expands into points; each point is keyed by a stable hash of everything
 * that determines its result, so results can be resumed, sliced and merged by key.
 */

import { createHash } from 'node:crypto';
import { type ObjectOptions, type Static, type TSchema, Type } from '@sinclair/typebox';
import { loadConfigFile } from '../config/load.js';
import { ConfigError, schemaChecker, stringEnum } from '../config/schema.js';
import type { BackendChoice } from '../engine/engine.js';
import {
  DEFAULT_PARAMS,
  MODEL_NAMES,
  type ModelName,
  type ModelParams,
  modelParams,
} from '../model/params.js';
import { DEFAULT_METRIC_OPTIONS, METRIC_NAMES, type MetricName, type MetricOptions } from './metrics.js';

/** Every numeric ModelParams key can be swept, and `n` (total neurons, split 4 : 1). */
export const SWEEPABLE_KEYS: readonly string[] = [
  'n',
  ...Object.entries(DEFAULT_PARAMS)
    .filter(([key, value]) => typeof value === 'number' && key !== 'nExcitatory' && key !== 'nInhibitory')
    .map(([key]) => key),
];

export type ParamValues = Record<string, number>;

export interface HeatmapChoice {
  x: string;
  y: string;
  metric: MetricName;
}

/** What every sweep-like run shares: the network, how long each point runs, and how it is batched. */
export interface SimulationShape {
  model: ModelName;
  n: number;
  durationS: number;
  warmupS: number;
  /** Instances per engine simulation (the CLI's --batch overrides it). */
  batch: number;
  backend: BackendChoice;
  /** Values every point shares. */
  params: ParamValues;
}

export interface SweepSpec extends SimulationShape {
  /** Cartesian product: every combination of these values. */
  grid: Record<string, number[]>;
  /** Explicit points; combined with every grid combination when both are given. */
  points: ParamValues[];
  metrics: MetricOptions;
  heatmap: HeatmapChoice | null;
}

export interface SweepPoint {
  /** Position in the expanded spec (stable across runs, slices and merges). */
  index: number;
  key: string;
  n: number;
  /** The swept values of this point (grid and list), for tables and plots. */
  values: ParamValues;
  overrides: Partial<ModelParams>;
}

const closed = { additionalProperties: false } as const;
const optional = Type.Optional;

/** Schema of MetricOptions, shared by sweep and calibration files. */
export const METRIC_OPTIONS_SCHEMA = Type.Object(
  {
    windowMs: optional(Type.Number({ exclusiveMinimum: 0 })),
    activeFactor: optional(Type.Number({ exclusiveMinimum: 0 })),
    fanoWindowMs: optional(Type.Number({ exclusiveMinimum: 0 })),
    minSpikesForCv: optional(Type.Integer({ minimum: 3 })),
  },
  closed,
);

const VALUE_LIST = Type.Union([
  Type.Array(Type.Number(), { minItems: 1 }),
  Type.Object({ from: Type.Number(), to: Type.Number(), steps: Type.Integer({ minimum: 1 }) }, closed),
]);

/** An object whose keys may be any of `keys`, each holding a `value`. */
export function keyedBy<S extends TSchema>(keys: readonly string[], value: S, options: ObjectOptions = {}) {
  return Type.Unsafe<Record<string, Static<S>>>(
    Type.Object(Object.fromEntries(keys.map((key) => [key, optional(value)])), { ...closed, ...options }),
  );
}

/** Schema properties of the SimulationShape fields (file keys: duration and warmup in s). */
export const SIMULATION_SHAPE_PROPERTIES = {
  model: optional(stringEnum(MODEL_NAMES)),
  n: optional(Type.Integer({ minimum: 5 })),
  duration: optional(Type.Number({ exclusiveMinimum: 0 })),
  warmup: optional(Type.Number({ minimum: 0 })),
  batch: optional(Type.Integer({ minimum: 1 })),
  backend: optional(stringEnum(['auto', 'cpu', 'webgpu'])),
};

export const SWEEP_SCHEMA = Type.Object(
  {
    ...SIMULATION_SHAPE_PROPERTIES,
    params: optional(keyedBy(SWEEPABLE_KEYS, Type.Number())),
    grid: optional(keyedBy(SWEEPABLE_KEYS, VALUE_LIST)),
    points: optional(Type.Array(keyedBy(SWEEPABLE_KEYS, Type.Number()), { minItems: 1 })),
    metrics: optional(METRIC_OPTIONS_SCHEMA),
    heatmap: optional(
      Type.Object(
        {
          x: stringEnum(SWEEPABLE_KEYS),
          y: stringEnum(SWEEPABLE_KEYS),
          metric: optional(stringEnum(METRIC_NAMES)),
        },
        closed,
      ),
    ),
  },
  closed,
);

const checkSweepFile = schemaChecker(SWEEP_SCHEMA);

/**
 * Most points one sweep (or one calibration round) may have. Each point is at least one
 * simulation of seconds; far beyond this a file is a typo (`steps: 1e9`), and expanding it would
 * exhaust memory before anything ran.
 */
export const MAX_SWEEP_POINTS = 100_000;

/**
 * The one check of a grid's size, made on the counts alone before any list of values or points is
 * built: `counts` holds the number of values per key, `listed` the explicit points.
 */
export function checkGridSize(counts: Record<string, number>, listed: number, source: string): number {
  let total = Math.max(1, listed);
  for (const [key, count] of Object.entries(counts)) {
    if (!Number.isSafeInteger(count) || count < 1 || count > MAX_SWEEP_POINTS) {
      throw new ConfigError(`${source}: ${key}: ${count} values; at most ${MAX_SWEEP_POINTS} are allowed`);
    }
    total *= count;
  }
  if (total > MAX_SWEEP_POINTS) {
    const sizes = Object.entries(counts)
      .map(([key, count]) => `${key} ${count}`)
      .join(' × ');
    throw new ConfigError(
      `${source}: ${total.toPrecision(3)} points (${listed > 0 ? `${listed} listed × ` : ''}${sizes || '1'}); at most ${MAX_SWEEP_POINTS} are allowed: use fewer steps or split the sweep into files`,
    );
  }
  return total;
}

/** Evenly spaced values from..to (both included); rounded to 12 significant digits so keys stay stable. */
export function linearValues(from: number, to: number, steps: number): number[] {
  if (steps === 1) return [from];
  return Array.from({ length: steps }, (_, k) =>
    Number((from + ((to - from) * k) / (steps - 1)).toPrecision(12)),
  );
}

/** Validates a parsed sweep file (as from YAML or JSON) and fills in defaults. */
export function sweepSpecFrom(value: unknown, source: string): SweepSpec {
  const file = checkSweepFile(value ?? {}, source);
  if (Object.keys(file.grid ?? {}).length === 0 && file.points === undefined) {
    throw new ConfigError(
      `${source}: nothing to sweep: give a grid (e.g. grid: {jEPlus: [5, 10]}) and/or a list of points`,
    );
  }
  checkGridSize(
    Object.fromEntries(
      Object.entries(file.grid ?? {}).map(([key, values]) => [
        `grid.${key}`,
        Array.isArray(values) ? values.length : values.steps,
      ]),
    ),
    file.points?.length ?? 0,
    source,
  );
  const grid: Record<string, number[]> = {};
  for (const [key, values] of Object.entries(file.grid ?? {})) {
    grid[key] = Array.isArray(values) ? values : linearValues(values.from, values.to, values.steps);
  }
  const spec: SweepSpec = {
    model: file.model ?? 'ei-clustered',
    n: file.n ?? 1000,
    durationS: file.duration ?? 2,
    warmupS: file.warmup ?? 0.5,
    batch: file.batch ?? 8,
    backend: file.backend ?? 'auto',
    params: file.params ?? {},
    grid,
    points: file.points ?? [],
    metrics: { ...DEFAULT_METRIC_OPTIONS, ...file.metrics },
    heatmap: null,
  };
  spec.heatmap = file.heatmap
    ? { x: file.heatmap.x, y: file.heatmap.y, metric: file.heatmap.metric ?? 'rateE' }
    : defaultHeatmap(spec);
  // Expanding validates every point's parameters, so a bad value fails before anything runs.
  expandSweep(spec, source);
  return spec;
}

export function loadSweepSpec(path: string): SweepSpec {
  return sweepSpecFrom(loadConfigFile(path, 'sweep file'), path);
}

/** The first two swept keys with more than one value. */
function defaultHeatmap(spec: SweepSpec): HeatmapChoice | null {
  const swept = new Map<string, Set<number>>();
  for (const point of spec.points)
    for (const [key, value] of Object.entries(point)) addValue(swept, key, value);
  for (const [key, values] of Object.entries(spec.grid))
    for (const value of values) addValue(swept, key, value);
  const keys = [...swept].filter(([, values]) => values.size > 1).map(([key]) => key);
  return keys.length >= 2 ? { x: keys[0]!, y: keys[1]!, metric: 'rateE' } : null;
}

function addValue(map: Map<string, Set<number>>, key: string, value: number): void {
  if (!map.has(key)) map.set(key, new Set());
  map.get(key)!.add(value);
}

/** Canonical JSON: object keys sorted, so equal content always hashes equally. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([key, v]) => `${JSON.stringify(key)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function stableHash(value: unknown, hexChars = 16): string {
  return createHash('sha256').update(canonical(value)).digest('hex').slice(0, hexChars);
}

/** What makes two sweeps the same sweep (used to refuse merging unrelated result directories). */
export function specHash(spec: SweepSpec): string {
  const { batch: _batch, backend: _backend, heatmap: _heatmap, ...essential } = spec;
  return stableHash(essential);
}

function gridCombinations(grid: Record<string, number[]>): ParamValues[] {
  let combinations: ParamValues[] = [{}];
  for (const [key, values] of Object.entries(grid)) {
    combinations = combinations.flatMap((combination) =>
      values.map((value) => ({ ...combination, [key]: value })),
    );
  }
  return combinations;
}

/** Every point of the spec in a stable order (list outer, grid inner with its last key fastest). */
export function expandSweep(spec: SweepSpec, source = 'sweep'): SweepPoint[] {
  const listed = spec.points.length > 0 ? spec.points : [{}];
  const points: SweepPoint[] = [];
  for (const listedValues of listed) {
    for (const gridValues of gridCombinations(spec.grid)) {
      const values = { ...listedValues, ...gridValues };
      const { n: pointN, ...rest } = { ...spec.params, ...values };
      const n = pointN ?? spec.n;
      const overrides = rest as Partial<ModelParams>;
      const index = points.length;
      try {
        modelParams(spec.model, n, overrides);
      } catch (error) {
        throw new ConfigError(
          `${source}: point ${index} (${describeValues(values)}): ${(error as Error).message}`,
        );
      }
      const key = stableHash({
        model: spec.model,
        n,
        durationS: spec.durationS,
        warmupS: spec.warmupS,
        overrides,
        metrics: spec.metrics,
      });
      points.push({ index, key, n, values, overrides });
    }
  }
  const seen = new Map<string, number>();
  for (const point of points) {
    const earlier = seen.get(point.key);
    if (earlier !== undefined) {
      throw new ConfigError(`${source}: points ${earlier} and ${point.index} are the same simulation`);
    }
    seen.set(point.key, point.index);
  }
  return points;
}

export function describeValues(values: ParamValues): string {
  const entries = Object.entries(values);
  return entries.length === 0 ? 'defaults' : entries.map(([key, value]) => `${key}=${value}`).join(', ');
}

/** Parses "i/k" (slice i of k, 0-based, as Slurm array ids and HTCondor $(Process) count). */
export function parseSlice(text: string): { index: number; count: number } {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!match) throw new ConfigError(`--slice must look like i/k (e.g. 0/4), got "${text}"`);
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1 || index >= count) {
    throw new ConfigError(`--slice ${text}: need k ≥ 1 and 0 ≤ i < k`);
  }
  return { index, count };
}

/** Contiguous slice i of k, so neighbouring points (often one layout) batch together. */
export function selectSlice<T>(points: readonly T[], slice: { index: number; count: number }): T[] {
  const from = Math.floor((slice.index * points.length) / slice.count);
  const to = Math.floor(((slice.index + 1) * points.length) / slice.count);
  return points.slice(from, to);
}

/** The spec as written back to disk (YAML/JSON field names), so a results directory describes itself. */
export function specToFile(spec: SweepSpec): Record<string, unknown> {
  return {
    model: spec.model,
    n: spec.n,
    duration: spec.durationS,
    warmup: spec.warmupS,
    batch: spec.batch,
    backend: spec.backend,
    params: spec.params,
    grid: spec.grid,
    ...(spec.points.length > 0 ? { points: spec.points } : {}),
    metrics: spec.metrics,
    ...(spec.heatmap ? { heatmap: spec.heatmap } : {}),
  };
}
