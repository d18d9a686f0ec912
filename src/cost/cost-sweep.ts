/**
 * Measures the cost of each requested backend over network sizes and fits the paper's model:
 * the engine benchmark (`bench engine`) and the hardware calibration (`calibrate`) share it.
 */
import { backendAvailability } from '../engine/create.js';
import type { BackendName } from '../engine/engine.js';
import type { ModelName } from '../model/params.js';
import { type CostMeasurement, measureCost, measureTickOverhead } from './cost.js';
import { type CostFit, FitError, fitCost, fitLine, type LineFit } from './fit.js';
import type { BackendResult } from './profile.js';

export interface CostSweepOptions {
  backends: readonly BackendName[];
  sizes: readonly number[];
  model: ModelName;
  durationS: number;
  warmupS: number;
  stepsPerCall: number;
  seed: number;
  threads?: number;
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
    const cold = await measureCost(backend, 200, { ...options, durationS: 0.05, warmupS: 0 });
    const samples: CostMeasurement[] = [];
    let reason: string | undefined;
    const queue = [...sizes];
    for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
      const measurement = await measureCost(backend, n, options);
      samples.push(measurement);
      options.onSample?.(measurement);
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
      fit,
      fixedCost,
      tickOverhead,
      coldBuildS: cold.buildS,
    });
  }
  return results;
}
