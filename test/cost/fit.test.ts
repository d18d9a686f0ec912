import { describe, expect, it } from 'vitest';
import {
  FitError,
  fitCost,
  fitLine,
  largestRealTimeN,
  predictRtf,
  rtfAtTick,
  solveLinear,
} from '../../src/cost/fit.js';

const synapsesOf = (n: number) => 0.308 * n * n;

describe('cost fit', () => {
  it('solves small linear systems and refuses singular ones', () => {
    expect(
      solveLinear(
        [
          [2, 1],
          [1, 3],
        ],
        [3, 5],
      ).map((x) => Number(x.toFixed(12))),
    ).toEqual([0.8, 1.4]);
    expect(() =>
      solveLinear(
        [
          [1, 2],
          [2, 4],
        ],
        [1, 2],
      ),
    ).toThrow(FitError);
  });

  it('recovers a0, a1, a2 from exact samples of RT(N) = a0 + a1·N + a2·M', () => {
    const truth = { a0: 0.02, a1: 3e-5, a2: 2.5e-10 };
    const samples = [2000, 5000, 10000, 20000, 50000].map((n) => ({
      n,
      synapses: synapsesOf(n),
      rtf: truth.a0 + truth.a1 * n + truth.a2 * synapsesOf(n),
    }));
    const fit = fitCost(samples);
    expect(fit.a0).toBeCloseTo(truth.a0, 9);
    expect(fit.a1 / truth.a1).toBeCloseTo(1, 6);
    expect(fit.a2 / truth.a2).toBeCloseTo(1, 6);
    expect(fit.r2).toBeCloseTo(1, 12);
    expect(predictRtf(fit, 10000, synapsesOf(10000))).toBeCloseTo(samples[2]!.rtf, 9);
  });

  it('keeps every coefficient non-negative, so a kinked curve cannot promise real time at any size', () => {
    // Concave data (a second thread joins at 12k): the unconstrained fit would need a2 < 0.
    const samples = [
      [1000, 0.048],
      [2000, 0.094],
      [5000, 0.246],
      [10000, 0.511],
      [20000, 0.729],
    ].map(([n, rtf]) => ({ n: n!, synapses: synapsesOf(n!), rtf: rtf! }));
    const fit = fitCost(samples);
    expect(fit.a0).toBeGreaterThanOrEqual(0);
    expect(fit.a1).toBeGreaterThanOrEqual(0);
    expect(fit.a2).toBeGreaterThanOrEqual(0);
    expect(fit.r2).toBeGreaterThan(0.9);
    const limit = largestRealTimeN({
      synapsesOf,
      rtfOf: (n, m) => predictRtf(fit, n, m),
      margin: 0.2,
      stepN: 100,
      maxN: 200000,
    });
    expect(limit).toBeGreaterThan(15000);
    expect(limit).toBeLessThan(30000);
  });

  it('needs three distinct sizes', () => {
    expect(() =>
      fitCost([
        { n: 1000, synapses: 1, rtf: 1 },
        { n: 1000, synapses: 1, rtf: 1.1 },
        { n: 2000, synapses: 4, rtf: 2 },
      ]),
    ).toThrow(/at least 3 distinct sizes, got 2/);
  });

  it('fits a line with its r²', () => {
    const line = fitLine([1, 2, 3], [3, 5, 7]);
    expect(line.intercept).toBeCloseTo(1, 12);
    expect(line.slope).toBeCloseTo(2, 12);
    expect(line.r2).toBeCloseTo(1, 12);
  });

  it('finds the largest real-time N with the safety margin', () => {
    // RT(N) = N / 10,000: real time up to 10,000; with a 25% margin up to 8,000.
    const fit = { a0: 0, a1: 1e-4, a2: 0, r2: 1 };
    const search = {
      synapsesOf,
      rtfOf: (n: number, m: number) => predictRtf(fit, n, m),
      stepN: 100,
      maxN: 50000,
    };
    expect(largestRealTimeN({ ...search, margin: 0 })).toBe(10000);
    expect(largestRealTimeN({ ...search, margin: 0.25 })).toBe(8000);
    expect(largestRealTimeN({ ...search, margin: 0, maxN: 5000 })).toBe(5000);
    expect(largestRealTimeN({ ...search, margin: 0, rtfOf: () => 2 })).toBeNull();
  });

  it('charges the per-call overhead more often at a shorter tick', () => {
    const fit = { a0: 0.1, a1: 0, a2: 0, r2: 1 };
    const tick = { measuredTickMs: 1, overheadUs: 50 };
    expect(rtfAtTick(fit, 1000, 0, { ...tick, tickMs: 1 })).toBeCloseTo(0.1, 12);
    // 0.5 ms tick: twice the calls, each 50 µs: +0.05 of real time.
    expect(rtfAtTick(fit, 1000, 0, { ...tick, tickMs: 0.5 })).toBeCloseTo(0.15, 12);
  });
});
