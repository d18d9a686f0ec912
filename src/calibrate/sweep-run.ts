/**
 * Runs a sweep: the pending points (those without a row in the results directory) are grouped
 * into batches of up to B instances sharing a layout, each batch is ONE engine simulation, and
 * its rows are appended as soon as it finishes. Re-running the same command resumes.
 */
import { createEngine } from '../engine/create.js';
import type { BackendChoice } from '../engine/engine.js';
import { deriveNetwork } from '../model/network.js';
import { modelParams } from '../model/params.js';
import { heatmapSvg } from './heatmap.js';
import { instanceMetrics, METRIC_NAMES } from './metrics.js';
import { type ProgressSink, SILENT_PROGRESS } from './progress.js';
import {
  appendResults,
  HEATMAP_FILE,
  lockResultsDirectory,
  type ResultRow,
  readResults,
  writeCsv,
  writeFileAtomic,
  writeSpecFile,
} from './results-store.js';
import { SpikeCollector } from './spike-collector.js';
import { expandSweep, type ParamValues, type SweepPoint, type SweepSpec, selectSlice } from './sweep-spec.js';

export interface SweepRunOptions {
  spec: SweepSpec;
  outDir: string;
  /** Instances per engine simulation; default the spec's batch. */
  batch?: number;
  backend?: BackendChoice;
  slice?: { index: number; count: number };
  /** Creates the progress display for this much work (instance-steps). */
  progress?: (totalInstanceSteps: number) => ProgressSink;
  /** Steps per engine call. */
  chunkSteps?: number;
  /** CPU backend threads (default: the engine's choice). */
  threads?: number;
}

export interface SweepSummary {
  outDir: string;
  points: number;
  alreadyDone: number;
  computed: number;
  batches: number;
  backend: string | null;
  wallS: number;
  /** Instance-seconds of biological time simulated per wall second (0 when nothing ran). */
  networkSecondsPerS: number;
}

/** Layouts must match inside one engine simulation. */
function layoutKey(spec: SweepSpec, point: SweepPoint): string {
  const params = modelParams(spec.model, point.n, point.overrides);
  return `${params.nExcitatory}/${params.nInhibitory}/${params.clusters}/${params.dtMs}`;
}

/** Pending points in spec order, cut into batches of at most `batch` that share a layout. */
export function planBatches(spec: SweepSpec, points: readonly SweepPoint[], batch: number): SweepPoint[][] {
  const groups = new Map<string, SweepPoint[]>();
  for (const point of points) {
    const key = layoutKey(spec, point);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(point);
  }
  const batches: SweepPoint[][] = [];
  for (const group of groups.values()) {
    for (let k = 0; k < group.length; k += batch) batches.push(group.slice(k, k + batch));
  }
  return batches;
}

function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

/**
 * Simulates points that share a layout as one batch and returns their rows. Each instance's
 * metrics come from its own spikes only, so they equal those of the point run alone.
 */
export async function simulatePoints(
  spec: SweepSpec,
  points: readonly SweepPoint[],
  backend: BackendChoice,
  onSteps: (instanceSteps: number) => void = () => {},
  chunkSteps = 1000,
  threads?: number,
): Promise<ResultRow[]> {
  const networks = points.map((point) => deriveNetwork(modelParams(spec.model, point.n, point.overrides)));
  const dtMs = networks[0]!.params.dtMs;
  const warmupSteps = Math.round((spec.warmupS * 1000) / dtMs);
  const steps = Math.round((spec.durationS * 1000) / dtMs);
  const engine = await createEngine(backend, { networks, threads });
  try {
    for (let done = 0; done < warmupSteps; ) {
      const now = Math.min(chunkSteps, warmupSteps - done);
      await engine.run(now);
      done += now;
      onSteps(now * points.length);
    }
    const collector = new SpikeCollector(engine.layout, engine.batch, engine.stepCount);
    engine.onSpikes(collector.observer);
    for (let done = 0; done < steps; ) {
      const now = Math.min(chunkSteps, steps - done);
      await engine.run(now);
      done += now;
      onSteps(now * points.length);
    }
    engine.onSpikes(null);
    return points.map((point, b) => {
      const metrics = instanceMetrics(collector.record(b, steps, dtMs), spec.metrics);
      const row = {
        key: point.key,
        index: point.index,
        n: point.n,
        durationS: spec.durationS,
        warmupS: spec.warmupS,
        params: point.overrides as ParamValues,
        backend: engine.backend,
      } as ResultRow;
      for (const metric of METRIC_NAMES) row[metric] = finiteOrNull(metrics[metric]);
      return row;
    });
  } finally {
    await engine.dispose();
  }
}

/** CSV and heatmap from every row so far. */
export function writeSummaries(outDir: string, spec: SweepSpec, rows: readonly ResultRow[]): void {
  writeCsv(outDir, rows);
  if (spec.heatmap) writeFileAtomic(`${outDir}/${HEATMAP_FILE}`, heatmapSvg(rows, spec.heatmap));
}

export async function runSweep(options: SweepRunOptions): Promise<SweepSummary> {
  const { spec, outDir } = options;
  const batch = options.batch ?? spec.batch;
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`--batch must be an integer ≥ 1, got ${batch}`);
  const backend = options.backend ?? spec.backend;
  const all = expandSweep(spec);
  const mine = options.slice ? selectSlice(all, options.slice) : all;
  const unlock = lockResultsDirectory(outDir);
  try {
    return await runLockedSweep(options, batch, backend, mine);
  } finally {
    unlock();
  }
}

async function runLockedSweep(
  options: SweepRunOptions,
  batch: number,
  backend: BackendChoice,
  mine: readonly SweepPoint[],
): Promise<SweepSummary> {
  const { spec, outDir } = options;
  writeSpecFile(outDir, spec);
  const finished = readResults(outDir, { repair: true });
  const pending = mine.filter((point) => !finished.has(point.key));
  const alreadyDone = mine.length - pending.length;
  const rows = mine.filter((point) => finished.has(point.key)).map((point) => finished.get(point.key)!);
  const batches = planBatches(spec, pending, batch);
  const stepsOf = (point: SweepPoint) => {
    const { dtMs } = modelParams(spec.model, point.n, point.overrides);
    return Math.round((spec.warmupS * 1000) / dtMs) + Math.round((spec.durationS * 1000) / dtMs);
  };
  const totalSteps = pending.reduce((sum, point) => sum + stepsOf(point), 0);
  const progress = options.progress?.(totalSteps) ?? SILENT_PROGRESS;
  const start = performance.now();
  let doneSteps = 0;
  let usedBackend: string | null = null;
  for (const [k, points] of batches.entries()) {
    const batchRows = await simulatePoints(
      spec,
      points,
      backend,
      (steps) => {
        doneSteps += steps;
        progress.update(doneSteps);
      },
      options.chunkSteps,
      options.threads,
    );
    appendResults(outDir, batchRows);
    rows.push(...batchRows);
    usedBackend = batchRows[0]?.backend ?? usedBackend;
    writeSummaries(outDir, spec, rows);
    progress.update(doneSteps, `batch ${k + 1}/${batches.length} (${points.length} points) saved`);
  }
  if (batches.length === 0) writeSummaries(outDir, spec, rows);
  const wallS = (performance.now() - start) / 1000;
  progress.finish(`${pending.length} computed, ${alreadyDone} already done`);
  return {
    outDir,
    points: mine.length,
    alreadyDone,
    computed: pending.length,
    batches: batches.length,
    backend: usedBackend,
    wallS,
    networkSecondsPerS: wallS > 0 ? (pending.length * spec.durationS) / wallS : 0,
  };
}
