/**
 * Calibration towards activity targets (e.g. E rate 3 ± 0.5 Hz, I rate 5 ± 1 Hz, switching
 * present): a coarse grid over the searched parameters, then rounds of finer grids around the
 * best point so far. Every round is an ordinary sweep in its own results directory, so the
 * search is batched and resumable like any sweep.
 */

import { join } from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { loadConfigFile } from '../config/load.js';
import { ConfigError, schemaChecker } from '../config/schema.js';
import type { BackendChoice } from '../engine/engine.js';
import { DEFAULT_METRIC_OPTIONS, METRIC_NAMES, type MetricName, type MetricOptions } from './metrics.js';
import type { ProgressSink } from './progress.js';
import { type ResultRow, readResults } from './results-store.js';
import { runSweep } from './sweep-run.js';
import {
  checkGridSize,
  keyedBy,
  linearValues,
  METRIC_OPTIONS_SCHEMA,
  type ParamValues,
  SIMULATION_SHAPE_PROPERTIES,
  type SimulationShape,
  SWEEPABLE_KEYS,
  type SweepSpec,
  sweepSpecFrom,
} from './sweep-spec.js';

export interface CalibrationSpec extends SimulationShape {
  search: Record<string, { min: number; max: number }>;
  coarseSteps: number;
  refineRounds: number;
  refineSteps: number;
  targets: Partial<Record<MetricName, Target>>;
  metrics: MetricOptions;
}

/** Either a value with a tolerance (met inside it) or a bound (min and/or max). */
const TARGET_SCHEMA = Type.Object(
  {
    value: Type.Optional(Type.Number()),
    tolerance: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    min: Type.Optional(Type.Number()),
    max: Type.Optional(Type.Number()),
  },
  {
    additionalProperties: false,
    anyOf: [{ required: ['value', 'tolerance'] }, { required: ['min'] }, { required: ['max'] }],
  },
);
export type Target = Static<typeof TARGET_SCHEMA>;

const SEARCHABLE_KEYS = SWEEPABLE_KEYS.filter((key) => !['n', 'seed', 'clusters'].includes(key));

const CALIBRATION_SCHEMA = Type.Object(
  {
    ...SIMULATION_SHAPE_PROPERTIES,
    params: Type.Optional(
      keyedBy(
        SWEEPABLE_KEYS.filter((k) => k !== 'n'),
        Type.Number(),
      ),
    ),
    search: keyedBy(
      SEARCHABLE_KEYS,
      Type.Object({ min: Type.Number(), max: Type.Number() }, { additionalProperties: false }),
      { minProperties: 1 },
    ),
    coarseSteps: Type.Optional(Type.Integer({ minimum: 2 })),
    refine: Type.Optional(
      Type.Object(
        {
          rounds: Type.Optional(Type.Integer({ minimum: 0 })),
          steps: Type.Optional(Type.Integer({ minimum: 3 })),
        },
        { additionalProperties: false },
      ),
    ),
    targets: Type.Unsafe<Partial<Record<MetricName, Target>>>(
      keyedBy(METRIC_NAMES, TARGET_SCHEMA, { minProperties: 1 }),
    ),
    metrics: Type.Optional(METRIC_OPTIONS_SCHEMA),
  },
  { additionalProperties: false },
);

const checkCalibrationFile = schemaChecker(CALIBRATION_SCHEMA);

/** Each round narrows the ranges by steps−1; past a few dozen rounds nothing is left to refine. */
export const MAX_REFINE_ROUNDS = 50;

export function calibrationSpecFrom(value: unknown, source: string): CalibrationSpec {
  const file = checkCalibrationFile(value, source);
  for (const [key, range] of Object.entries(file.search)) {
    if (!(range.max >= range.min)) throw new ConfigError(`${source}: search.${key}: max must be ≥ min`);
  }
  for (const [metric, target] of Object.entries(file.targets)) {
    if (target.min !== undefined && target.max !== undefined && target.max < target.min) {
      throw new ConfigError(`${source}: targets.${metric}: max must be ≥ min`);
    }
  }
  // Sizes are checked before any round's grid is built.
  const keys = Object.keys(file.search);
  for (const [name, steps] of [
    ['coarseSteps', file.coarseSteps ?? 5],
    ['refine.steps', file.refine?.steps ?? 5],
  ] as const) {
    checkGridSize(Object.fromEntries(keys.map((key) => [`${name} for ${key}`, steps])), 0, source);
  }
  const rounds = file.refine?.rounds ?? 2;
  if (rounds > MAX_REFINE_ROUNDS) {
    throw new ConfigError(`${source}: refine.rounds: ${rounds}; at most ${MAX_REFINE_ROUNDS} are allowed`);
  }
  return {
    model: file.model ?? 'ei-clustered',
    n: file.n ?? 2000,
    durationS: file.duration ?? 2,
    warmupS: file.warmup ?? 0.5,
    batch: file.batch ?? 16,
    backend: file.backend ?? 'auto',
    params: file.params ?? {},
    search: file.search,
    coarseSteps: file.coarseSteps ?? 5,
    refineRounds: file.refine?.rounds ?? 2,
    refineSteps: file.refine?.steps ?? 5,
    targets: file.targets,
    metrics: { ...DEFAULT_METRIC_OPTIONS, ...file.metrics },
  };
}

export function loadCalibrationSpec(path: string): CalibrationSpec {
  return calibrationSpecFrom(loadConfigFile(path, 'targets file'), path);
}

/** Penalty of one metric value: 0 at the centre or inside a bound, growing with the distance. */
export function targetPenalty(value: number | null, target: Target): { penalty: number; met: boolean } {
  if (value === null || !Number.isFinite(value)) return { penalty: 100, met: false };
  let penalty = 0;
  let met = true;
  if (target.value !== undefined && target.tolerance !== undefined) {
    const distance = Math.abs(value - target.value) / target.tolerance;
    penalty += distance * distance;
    met &&= distance <= 1;
  }
  if (target.min !== undefined && value < target.min) {
    penalty += ((target.min - value) / Math.max(Math.abs(target.min), 1e-9)) ** 2 + 1;
    met = false;
  }
  if (target.max !== undefined && value > target.max) {
    penalty += ((value - target.max) / Math.max(Math.abs(target.max), 1e-9)) ** 2 + 1;
    met = false;
  }
  return { penalty, met };
}

/** A target in words: `3 ± 0.5`, `≥ 1`, `≤ 20`, `3 ± 0.5 and ≥ 2`. */
export function describeTarget(target: Target): string {
  const parts: string[] = [];
  if (target.value !== undefined && target.tolerance !== undefined)
    parts.push(`${target.value} ± ${target.tolerance}`);
  if (target.min !== undefined) parts.push(`≥ ${target.min}`);
  if (target.max !== undefined) parts.push(`≤ ${target.max}`);
  return parts.join(' and ');
}

export interface TargetOutcome {
  metric: MetricName;
  achieved: number | null;
  target: string;
  met: boolean;
  /** This metric's share of the loss. */
  penalty: number;
}

/** Per target: what the chosen point achieved against it, so a user sees which one was missed. */
export function targetOutcomes(
  row: Pick<ResultRow, MetricName>,
  targets: CalibrationSpec['targets'],
): TargetOutcome[] {
  return (Object.entries(targets) as [MetricName, Target][]).map(([metric, target]) => {
    const achieved = row[metric] ?? null;
    const { penalty, met } = targetPenalty(achieved, target);
    return { metric, achieved, target: describeTarget(target), met, penalty };
  });
}

/**
 * Searched keys whose chosen value sits on the edge of the search range: the best point may lie
 * outside it, so the range should be widened (a range of one value is not reported).
 */
export function boundaryOptima(
  search: CalibrationSpec['search'],
  params: ParamValues,
): { key: string; value: number; edge: 'min' | 'max'; min: number; max: number }[] {
  const edges: { key: string; value: number; edge: 'min' | 'max'; min: number; max: number }[] = [];
  for (const [key, range] of Object.entries(search)) {
    const value = params[key];
    if (value === undefined || !(range.max > range.min)) continue;
    const slack = (range.max - range.min) * 1e-9;
    if (value <= range.min + slack) edges.push({ key, value, edge: 'min', ...range });
    else if (value >= range.max - slack) edges.push({ key, value, edge: 'max', ...range });
  }
  return edges;
}

export function scoreRow(
  row: Pick<ResultRow, MetricName>,
  targets: CalibrationSpec['targets'],
): { loss: number; met: boolean } {
  let loss = 0;
  let met = true;
  for (const [metric, target] of Object.entries(targets) as [MetricName, Target][]) {
    const score = targetPenalty(row[metric], target);
    loss += score.penalty;
    met &&= score.met;
  }
  return { loss, met };
}

/** Grid of one round: `steps` values per searched key in the given ranges. */
function roundSpec(
  spec: CalibrationSpec,
  ranges: Record<string, { min: number; max: number }>,
  steps: number,
): SweepSpec {
  const grid: Record<string, number[]> = {};
  for (const [key, range] of Object.entries(ranges)) {
    grid[key] = [...new Set(linearValues(range.min, range.max, range.max > range.min ? steps : 1))];
  }
  const keys = Object.keys(grid);
  return sweepSpecFrom(
    {
      model: spec.model,
      n: spec.n,
      duration: spec.durationS,
      warmup: spec.warmupS,
      batch: spec.batch,
      backend: spec.backend,
      params: spec.params,
      grid,
      metrics: spec.metrics,
      ...(keys.length >= 2 ? { heatmap: { x: keys[0], y: keys[1], metric: 'rateE' } } : {}),
    },
    'calibration round',
  );
}

/** Points meeting every target come first; among equals, the lower loss (closer to the centres). */
export function better(a: { loss: number; met: boolean }, b: { loss: number; met: boolean }): boolean {
  return a.met !== b.met ? a.met : a.loss < b.loss;
}

export interface CalibrationRound {
  round: number;
  points: number;
  ranges: Record<string, { min: number; max: number }>;
  bestLoss: number;
  bestValues: ParamValues;
}

export interface CalibrationResult {
  best: ResultRow;
  loss: number;
  met: boolean;
  /** The complete parameter overrides of the chosen point (fixed and searched). */
  params: ParamValues;
  rounds: CalibrationRound[];
}

export async function calibrateParams(
  spec: CalibrationSpec,
  outDir: string,
  options: {
    batch?: number;
    backend?: BackendChoice;
    progress?: (round: number) => (total: number) => ProgressSink;
  } = {},
): Promise<CalibrationResult> {
  let ranges = spec.search;
  let spacing = Object.fromEntries(
    Object.entries(spec.search).map(([key, range]) => [
      key,
      (range.max - range.min) / (spec.coarseSteps - 1),
    ]),
  );
  const rounds: CalibrationRound[] = [];
  let best: { row: ResultRow; loss: number; met: boolean } | null = null;
  for (let round = 0; round <= spec.refineRounds; round++) {
    const steps = round === 0 ? spec.coarseSteps : spec.refineSteps;
    const sweep = roundSpec(spec, ranges, steps);
    const dir = join(outDir, `round-${round}`);
    await runSweep({
      spec: sweep,
      outDir: dir,
      batch: options.batch,
      backend: options.backend,
      progress: options.progress?.(round),
    });
    const roundRows = [...readResults(dir).values()];
    for (const row of roundRows) {
      const score = scoreRow(row, spec.targets);
      if (!best || better(score, best)) best = { row, ...score };
    }
    if (!best) throw new Error('calibration produced no results');
    rounds.push({
      round,
      points: roundRows.length,
      ranges,
      bestLoss: best.loss,
      bestValues: best.row.params,
    });
    // Next round: a finer grid spanning one old grid spacing either side of the best point.
    const next: Record<string, { min: number; max: number }> = {};
    const nextSpacing: Record<string, number> = {};
    for (const [key, bounds] of Object.entries(spec.search)) {
      const centre = best.row.params[key]!;
      const half = spacing[key]!;
      next[key] = { min: Math.max(bounds.min, centre - half), max: Math.min(bounds.max, centre + half) };
      nextSpacing[key] = (2 * half) / (spec.refineSteps - 1);
    }
    ranges = next;
    spacing = nextSpacing;
  }
  return {
    best: best!.row,
    loss: best!.loss,
    met: best!.met,
    params: { ...spec.params, ...best!.row.params },
    rounds,
  };
}
