/**
 * Sweep throughput (issue 7): network-seconds of biological time simulated per wall second when B
 * instances share one engine simulation, against running the same points one by one. Wall time
 * includes building each engine, since a sweep pays it for every batch or point.
 */
import { resolveBackend } from '../engine/create.js';
import type { BackendChoice } from '../engine/engine.js';
import type { ModelName } from '../model/params.js';
import { type CostMeasurement, measureCost } from './cost.js';

export interface BatchBenchOptions {
  backend: BackendChoice;
  model: ModelName;
  n: number;
  batches: readonly number[];
  durationS: number;
  warmupS: number;
  seed: number;
  stepsPerCall: number;
  threads?: number;
  /** At most this many points of each batch are also run one by one (their throughput is per point). */
  sequentialSample: number;
}

export interface BatchBenchRow {
  backend: string;
  n: number;
  batch: number;
  durationS: number;
  batchedBuildS: number;
  batchedWallS: number;
  /** Instance-seconds per wall second, build included. */
  batchedNetworkSPerS: number;
  /** The same without build time (simulation only). */
  batchedSimNetworkSPerS: number;
  sequentialPoints: number;
  sequentialNetworkSPerS: number;
  sequentialSimNetworkSPerS: number;
  /** batched / sequential throughput. */
  speedup: number;
  simSpeedup: number;
}

export async function benchBatch(
  options: BatchBenchOptions,
  onRow: (row: BatchBenchRow) => void = () => {},
): Promise<BatchBenchRow[]> {
  const costOptions = {
    model: options.model,
    durationS: options.durationS,
    warmupS: options.warmupS,
    stepsPerCall: options.stepsPerCall,
    threads: options.threads,
  };
  // One run per seed, shared by every B that contains that point.
  const sequential = new Map<number, CostMeasurement>();
  const backend = await resolveBackend(options.backend);
  // A throwaway run first: the first engine of a process pays for compiling code and pipelines.
  await measureCost(backend, options.n, { ...costOptions, durationS: 0.05, warmupS: 0, seed: options.seed });
  const rows: BatchBenchRow[] = [];
  for (const batch of options.batches) {
    const batched = await measureCost(backend, options.n, { ...costOptions, seed: options.seed, batch });
    const points = Math.min(batch, options.sequentialSample);
    let wallS = 0;
    let simS = 0;
    for (let b = 0; b < points; b++) {
      const seed = options.seed + b;
      if (!sequential.has(seed))
        sequential.set(seed, await measureCost(backend, options.n, { ...costOptions, seed }));
      const run = sequential.get(seed)!;
      wallS += run.buildS + run.wallS;
      simS += run.wallS;
    }
    const instanceS = batch * batched.durationS;
    const batchedNetworkSPerS = instanceS / (batched.buildS + batched.wallS);
    const batchedSimNetworkSPerS = instanceS / batched.wallS;
    const sequentialNetworkSPerS = (points * batched.durationS) / wallS;
    const sequentialSimNetworkSPerS = (points * batched.durationS) / simS;
    const row: BatchBenchRow = {
      backend: batched.backend,
      n: options.n,
      batch,
      durationS: batched.durationS,
      batchedBuildS: batched.buildS,
      batchedWallS: batched.wallS,
      batchedNetworkSPerS,
      batchedSimNetworkSPerS,
      sequentialPoints: points,
      sequentialNetworkSPerS,
      sequentialSimNetworkSPerS,
      speedup: batchedNetworkSPerS / sequentialNetworkSPerS,
      simSpeedup: batchedSimNetworkSPerS / sequentialSimNetworkSPerS,
    };
    rows.push(row);
    onRow(row);
  }
  return rows;
}
