/**
 * Measures the cost of each requested backend over network sizes and fits the paper's model:
 * the engine benchmark (`bench engine`) and the hardware calibration (`calibrate`) share it.
 */
import { backendAvailability } from '../engine/create.js';
import type { BackendName, ThreadFit } from '../engine/engine.js';
import type { ModelName } from '../model/params.js';
import { type CostMeasurement, measureCost, measureTickOverhead } from './cost.js';
import { type CostFit, FitError, fitCost, fitLine, type LineFit } from './fit.js';
import { measureParallelReference } from './parallel-reference.js';
import type { BackendResult, ThreadCostFit } from './profile.js';

export interface CostSweepOptions {
  backends: readonly BackendName[];
  sizes: readonly number[];
  model: ModelName;
  durationS: number;
  warmupS: number;
  /** Timed windows per size; the median window's RT is reported (CostOptions.repeats). */
  repeats?: number;
  stepsPerCall: number;
  seed: number;
  threads?: number;
  /** This machine's measured CPU cost per thread count, for the default threads (EngineOptions). */
  measuredThreadCost?: readonly ThreadFit[];
  /**
   * CPU backend: measure every size at each of these thread counts (calibrate); the fastest is the
   * size's sample, and each count gets its own fit (BackendResult.threadFits). Overrides `threads`.
   */
  threadCounts?: readonly number[];
  /**
   * CPU backend: with each size also measure the machine's own reference for parallel scaling
   * (parallel-reference.ts): the one-thread engine alone and as that many copies at once.
   */
  reference?: boolean;
  /** Engine calls timed for the per-tick overhead. */
  overheadCalls: number;
  /** Larger sizes of a backend are skipped once one size took longer than this (wall s). */
  maxWallS?: number;
  /**
   * Keep doubling N past the given sizes while the largest still holds real time with this
   * margin, so the fit brackets the real-time limit instead of extrapolating to it.
   */
  extendUntilNotRealTime?: { margin: number; maxN: number };
  onSample?: (measurement: CostMeasurement) => void;
  onSkip?: (backend: BackendName, reason: string) => void;
}

export async function measureBackends(options: CostSweepOptions): Promise<BackendResult[]> {
  const sizes = [...options.sizes].sort((a, b) => a - b);
  const results: BackendResult[] = [];
  for (const backend of options.backends) {
    const availability = await backendAvailability(backend);
    if (!availability.available) {
      options.onSkip?.(backend, availability.reason ?? 'unavailable');
      results.push({
        backend,
        ...availability,
        samples: [],
        fit: null,
        fixedCost: null,
        tickOverhead: null,
        coldBuildS: null,
      });
      continue;
    }
    // A throwaway run first: the first engine of a process pays for compiling code and pipelines,
    // reported apart (coldBuildS) so the size series measures what each further build costs.
    const cold = await measureCost(backend, 200, { ...options, durationS: 0.05, warmupS: 0, repeats: 1 });
    const samples: CostMeasurement[] = [];
    const threadSamples: CostMeasurement[] = [];
    const threadCounts = backend === 'cpu' && options.threadCounts ? [...options.threadCounts] : [];
    let reason: string | undefined;
    const queue = [...sizes];
    for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
      let measurement: CostMeasurement;
      if (threadCounts.length > 0) {
        const byThreads: CostMeasurement[] = [];
        for (const threads of threadCounts) {
          const one = await measureCost(backend, n, { ...options, threads });
          byThreads.push(one);
          options.onSample?.(one);
        }
        threadSamples.push(...byThreads);
        measurement = byThreads.reduce((best, m) => (m.rtf < best.rtf ? m : best));
      } else {
        measurement = await measureCost(backend, n, options);
        if (backend === 'cpu' && options.reference) {
          measurement.reference = await measureParallelReference(n, {
            ...options,
            copies: Math.max(2, measurement.threads ?? 1),
          });
        }
        options.onSample?.(measurement);
      }
      samples.push(measurement);
      if (options.maxWallS !== undefined && measurement.wallS + measurement.buildS > options.maxWallS) {
        if (queue.length > 0) {
          reason = `sizes ${queue.join(', ')} skipped: N = ${n} took ${(measurement.wallS + measurement.buildS).toFixed(1)} s (limit ${options.maxWallS} s)`;
          options.onSkip?.(backend, reason);
        }
        break;
      }
      const extend = options.extendUntilNotRealTime;
      if (
        queue.length === 0 &&
        extend &&
        (1 + extend.margin) * measurement.rtf <= 1 &&
        n * 2 <= extend.maxN
      ) {
        queue.push(n * 2);
      }
    }
    const tickOverhead = await measureTickOverhead(backend, {
      model: options.model,
      stepsPerCall: options.stepsPerCall,
      calls: options.overheadCalls,
      threads: options.threads,
    });
    let fit: CostFit | null = null;
    let fixedCost: LineFit | null = null;
    try {
      fit = fitCost(samples);
    } catch (error) {
      if (!(error instanceof FitError)) throw error;
      reason = [reason, error.message].filter(Boolean).join('; ');
    }
    const threadFits: ThreadCostFit[] = [];
    for (const threads of threadCounts) {
      try {
        threadFits.push({ threads, ...fitCost(threadSamples.filter((m) => m.threads === threads)) });
      } catch (error) {
        if (!(error instanceof FitError)) throw error;
      }
    }
    if (new Set(samples.map((s) => s.n)).size >= 2) {
      fixedCost = fitLine(
        samples.map((s) => s.n),
        samples.map((s) => s.buildS),
      );
    }
    results.push({
      backend,
      available: true,
      ...(reason ? { reason } : {}),
      adapter: samples[0]?.adapter,
      samples,
      ...(threadCounts.length > 0 ? { threadSamples, threadFits } : {}),
      fit,
      fixedCost,
      tickOverhead,
      coldBuildS: cold.buildS,
    });
  }
  return results;
}
