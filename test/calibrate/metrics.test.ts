import { describe, expect, it } from 'vitest';
import {
  DEFAULT_METRIC_OPTIONS,
  fanoOfCounts,
  instanceMetrics,
  isiCv,
  meanFanoFactor,
  meanIsiCv,
  type SpikeRecord,
} from '../../src/calibrate/metrics.js';
import type { Layout } from '../../src/model/network.js';

/** mulberry32: a small seeded generator, so the synthetic trains are the same on every run. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const layout: Layout = {
  n: 100,
  nE: 80,
  nI: 20,
  clusters: 4,
  nEPerCluster: 20,
  nIPerCluster: 5,
  populationCount: 8,
};
const dtMs = 0.1;

function recordOf(spikes: [step: number, neuron: number][], durationSteps: number): SpikeRecord {
  spikes.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return {
    layout,
    dtMs,
    durationSteps,
    steps: Uint32Array.from(spikes.map(([step]) => step)),
    neurons: Uint32Array.from(spikes.map(([, neuron]) => neuron)),
  };
}

/** Poisson spike steps at `rateHz` over `durationSteps` (exponential intervals, rounded to steps). */
function poissonSteps(random: () => number, rateHz: number, durationSteps: number): number[] {
  const steps: number[] = [];
  let tMs = 0;
  for (;;) {
    tMs += (-Math.log(1 - random()) / rateHz) * 1000;
    const step = Math.floor(tMs / dtMs);
    if (step >= durationSteps) return steps;
    if (steps.at(-1) !== step) steps.push(step);
  }
}

describe('ISI CV', () => {
  it('is 0 for a regular train', () => {
    expect(isiCv([0, 10, 20, 30, 40, 50])).toBe(0);
  });

  it('is close to 1 for a Poisson train', () => {
    const random = seededRandom(42);
    const times: number[] = [];
    let t = 0;
    for (let k = 0; k < 20000; k++) {
      t += -Math.log(1 - random()) / 10;
      times.push(t);
    }
    expect(isiCv(times)).toBeGreaterThan(0.97);
    expect(isiCv(times)).toBeLessThan(1.03);
  });

  it('is undefined (NaN) with fewer than two intervals', () => {
    expect(isiCv([1, 2])).toBeNaN();
  });

  it('averages over neurons of a record, leaving out those with too few spikes', () => {
    const random = seededRandom(7);
    const durationSteps = 200_000; // 20 s
    const spikes: [number, number][] = [];
    for (let i = 0; i < 80; i++)
      for (const step of poissonSteps(random, 20, durationSteps)) spikes.push([step, i]);
    // I neurons fire regularly every 50 ms, phase-shifted per neuron.
    for (let i = 80; i < 100; i++)
      for (let step = i; step < durationSteps; step += 500) spikes.push([step, i]);
    const record = recordOf(spikes, durationSteps);
    const cvE = meanIsiCv(record, 0, 80, 3);
    expect(cvE).toBeGreaterThan(0.95);
    expect(cvE).toBeLessThan(1.05);
    expect(meanIsiCv(record, 80, 100, 3)).toBe(0);
    expect(meanIsiCv(recordOf([[5, 0]], 100), 0, 80, 3)).toBeNaN();
  });
});

describe('Fano factor', () => {
  it('is variance / mean of counts', () => {
    expect(fanoOfCounts([2, 2, 2, 2])).toBe(0);
    expect(fanoOfCounts([0, 2, 0, 2])).toBe(1);
    expect(fanoOfCounts([0, 0])).toBeNaN();
  });

  it('is near 1 for Poisson trains and 0 for regular ones in windows the period divides', () => {
    const random = seededRandom(3);
    const durationSteps = 300_000; // 30 s
    const spikes: [number, number][] = [];
    for (let i = 0; i < 80; i++)
      for (const step of poissonSteps(random, 10, durationSteps)) spikes.push([step, i]);
    for (let i = 80; i < 100; i++)
      for (let step = i; step < durationSteps; step += 250) spikes.push([step, i]);
    const record = recordOf(spikes, durationSteps);
    const fanoE = meanFanoFactor(record, 0, 80, 100);
    expect(fanoE).toBeGreaterThan(0.9);
    expect(fanoE).toBeLessThan(1.1);
    expect(meanFanoFactor(record, 80, 100, 100)).toBe(0);
  });
});

describe('metastability', () => {
  // 1 s in 20 windows of 50 ms. Active periods (windows, end exclusive):
  //   cluster 0: [2, 6)  = 200 ms      cluster 1: [6, 12) = 300 ms
  //   cluster 2: [12, 14) = 100 ms     cluster 3: [0, 4) and [18, 20), both censored by the edges
  const activePeriods: [cluster: number, from: number, to: number][] = [
    [0, 2, 6],
    [1, 6, 12],
    [2, 12, 14],
    [3, 0, 4],
    [3, 18, 20],
  ];
  const windowSteps = 500;
  const durationSteps = 20 * windowSteps;

  function switchingRecord(): SpikeRecord {
    const spikes: [number, number][] = [];
    for (const [cluster, from, to] of activePeriods) {
      for (let i = cluster * 20; i < (cluster + 1) * 20; i++) {
        // 50 Hz, regular, each neuron with its own phase.
        for (let step = from * windowSteps + (i % 200); step < to * windowSteps; step += 200)
          spikes.push([step, i]);
      }
    }
    for (let i = 80; i < 100; i++)
      for (let step = i; step < durationSteps; step += 1000) spikes.push([step, i]);
    return recordOf(spikes, durationSteps);
  }

  it('finds the hand-built dwell times, switching rate and active-cluster count', () => {
    const metrics = instanceMetrics(switchingRecord(), { ...DEFAULT_METRIC_OPTIONS, windowMs: 50 });
    // Completed periods only: 200, 300 and 100 ms.
    expect(metrics.dwellCount).toBe(3);
    expect(metrics.meanDwellMs).toBeCloseTo(200, 9);
    // Activations inside the recording: clusters 0, 1, 2 and the second period of 3, in 1 s.
    expect(metrics.switchingRateHz).toBeCloseTo(4, 9);
    // Active cluster-windows: 2·2 + 2·1 + 6 + 2 + 0·4 + 2 (windows 0–1: c3; 2–3: c0+c3; ...) = 18 of 20.
    expect(metrics.meanActiveClusters).toBeCloseTo(18 / 20, 9);
    // Windows 14–17 have no active cluster.
    expect(metrics.activeTimeFraction).toBeCloseTo(16 / 20, 9);
    expect(metrics.rateI).toBeCloseTo(10, 9);
  });

  it('sees no switching in stationary, uniform activity', () => {
    const random = seededRandom(11);
    const spikes: [number, number][] = [];
    const steps = 50_000;
    for (let i = 0; i < 100; i++) for (const step of poissonSteps(random, 10, steps)) spikes.push([step, i]);
    const metrics = instanceMetrics(recordOf(spikes, steps), { ...DEFAULT_METRIC_OPTIONS, activeFactor: 3 });
    expect(metrics.meanActiveClusters).toBe(0);
    expect(metrics.switchingRateHz).toBe(0);
    expect(metrics.meanDwellMs).toBeNaN();
    expect(metrics.rateE).toBeGreaterThan(9);
    expect(metrics.rateE).toBeLessThan(11);
  });
});
