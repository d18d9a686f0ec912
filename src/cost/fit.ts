/**
 * The paper's cost model: real-time factor RT(N) = a0 + a1·N + a2·M (M = synapse count), fitted by
 * least squares across network sizes; from it the largest N that holds real time at a tick with a
 * safety margin. Used by `bench engine`, `calibrate` and the hardware-profile recommendation.
 */

export interface CostSample {
  n: number;
  synapses: number;
  /** Wall time / biological time. */
  rtf: number;
}

export interface CostFit {
  a0: number;
  /** Per neuron. */
  a1: number;
  /** Per synapse. */
  a2: number;
  /** Coefficient of determination of the fit over its samples. */
  r2: number;
}

export interface LineFit {
  intercept: number;
  slope: number;
  r2: number;
}

export class FitError extends Error {
  override name = 'FitError';
}

/**
 * Solves A·x = b for a small dense system by Gaussian elimination with partial pivoting;
 * throws when the system is singular (e.g. too few distinct sizes).
 */
export function solveLinear(matrix: number[][], rhs: number[]): number[] {
  const size = rhs.length;
  const a = matrix.map((row, k) => [...row, rhs[k]!]);
  for (let column = 0; column < size; column++) {
    let pivot = column;
    for (let row = column + 1; row < size; row++) {
      if (Math.abs(a[row]![column]!) > Math.abs(a[pivot]![column]!)) pivot = row;
    }
    if (Math.abs(a[pivot]![column]!) < 1e-12)
      throw new FitError('the fit is singular (need more distinct sizes)');
    [a[column], a[pivot]] = [a[pivot]!, a[column]!];
    for (let row = column + 1; row < size; row++) {
      const factor = a[row]![column]! / a[column]![column]!;
      for (let k = column; k <= size; k++) a[row]![k]! -= factor * a[column]![k]!;
    }
  }
  const x = new Array<number>(size).fill(0);
  for (let row = size - 1; row >= 0; row--) {
    let sum = a[row]![size]!;
    for (let k = row + 1; k < size; k++) sum -= a[row]![k]! * x[k]!;
    x[row] = sum / a[row]![row]!;
  }
  return x;
}

/** Ordinary least squares y ≈ X·β; columns are scaled to unit maximum first, so N and M (≈N²) stay well conditioned. */
export function leastSquares(columns: number[][], y: number[]): { coefficients: number[]; r2: number } {
  const count = y.length;
  const scales = columns.map((column) => Math.max(...column.map(Math.abs)) || 1);
  const scaled = columns.map((column, k) => column.map((value) => value / scales[k]!));
  const normal = scaled.map((ci) => scaled.map((cj) => ci.reduce((sum, v, r) => sum + v * cj[r]!, 0)));
  const rhs = scaled.map((ci) => ci.reduce((sum, v, r) => sum + v * y[r]!, 0));
  const coefficients = solveLinear(normal, rhs).map((value, k) => value / scales[k]!);
  const mean = y.reduce((sum, v) => sum + v, 0) / count;
  let residual = 0;
  let total = 0;
  for (let r = 0; r < count; r++) {
    const predicted = columns.reduce((sum, column, k) => sum + coefficients[k]! * column[r]!, 0);
    residual += (y[r]! - predicted) ** 2;
    total += (y[r]! - mean) ** 2;
  }
  return { coefficients, r2: total > 0 ? 1 - residual / total : 1 };
}

export function fitLine(xs: readonly number[], ys: readonly number[]): LineFit {
  if (xs.length < 2 || new Set(xs).size < 2)
    throw new FitError('a line fit needs at least two distinct x values');
  const { coefficients, r2 } = leastSquares([xs.map(() => 1), [...xs]], [...ys]);
  return { intercept: coefficients[0]!, slope: coefficients[1]!, r2 };
}

/**
 * RT(N) = a0 + a1·N + a2·M over samples of at least three distinct sizes, by non-negative least
 * squares: a cost cannot be negative, and a negative a2 (e.g. from a kink where the CPU backend
 * adds a thread) would predict real time at any size once M dominates. With three coefficients
 * the exact solution is the best of the unconstrained fits over every subset of them whose
 * coefficients all come out ≥ 0.
 */
export function fitCost(samples: readonly CostSample[]): CostFit {
  const distinct = new Set(samples.map((s) => s.n)).size;
  if (distinct < 3) {
    throw new FitError(`the fit RT(N) = a0 + a1·N + a2·M needs at least 3 distinct sizes, got ${distinct}`);
  }
  const columns = [samples.map(() => 1), samples.map((s) => s.n), samples.map((s) => s.synapses)];
  const y = samples.map((s) => s.rtf);
  let best: CostFit | null = null;
  for (let subset = 7; subset >= 1; subset--) {
    const used = [0, 1, 2].filter((k) => subset & (1 << k));
    let fitted: { coefficients: number[]; r2: number };
    try {
      fitted = leastSquares(
        used.map((k) => columns[k]!),
        y,
      );
    } catch (error) {
      if (error instanceof FitError) continue;
      throw error;
    }
    if (fitted.coefficients.some((value) => value < 0)) continue;
    const a = [0, 0, 0];
    used.forEach((k, j) => {
      a[k] = fitted.coefficients[j]!;
    });
    if (!best || fitted.r2 > best.r2) best = { a0: a[0]!, a1: a[1]!, a2: a[2]!, r2: fitted.r2 };
  }
  if (!best) throw new FitError('no non-negative fit RT(N) = a0 + a1·N + a2·M exists for these samples');
  return best;
}

export function predictRtf(fit: CostFit, n: number, synapses: number): number {
  return fit.a0 + fit.a1 * n + fit.a2 * synapses;
}

/**
 * Real-time factor at another tick: the fit was measured with engine calls of `measuredTickMs`,
 * each carrying a fixed per-call overhead; a shorter tick pays it more often.
 */
export function rtfAtTick(
  fit: CostFit,
  n: number,
  synapses: number,
  tick: { measuredTickMs: number; tickMs: number; overheadUs: number },
): number {
  const overheadS = tick.overheadUs / 1e6;
  return predictRtf(fit, n, synapses) + overheadS * (1000 / tick.tickMs - 1000 / tick.measuredTickMs);
}

export interface RealTimeSearch {
  /** Synapse count of a network of N neurons. */
  synapsesOf: (n: number) => number;
  /** Real-time factor of N (e.g. rtfAtTick with the fit). */
  rtfOf: (n: number, synapses: number) => number;
  /** Required headroom: real time holds when (1 + margin)·RT ≤ 1. */
  margin: number;
  /** Sizes are multiples of this (N = 100 keeps N_E and N_I divisible by Q = 20). */
  stepN: number;
  maxN: number;
}

/**
 * The largest N (a multiple of stepN, ≤ maxN) below which every size holds real time with the
 * margin ((1 + margin)·RT ≤ 1); null if even the smallest does not. Stopping at the first
 * failing size keeps a fit that turns down again far outside its data from promising too much.
 */
export function largestRealTimeN(search: RealTimeSearch): number | null {
  let best: number | null = null;
  for (let n = search.stepN; n <= search.maxN; n += search.stepN) {
    if ((1 + search.margin) * search.rtfOf(n, search.synapsesOf(n)) > 1) break;
    best = n;
  }
  return best;
}
