import { describe, expect, it } from 'vitest';
import type { BackendName } from '../../src/engine/engine.js';
import { simulateOffline } from '../../src/engine/offline.js';
import type { ModelName } from '../../src/model/params.js';
import { BACKENDS } from './helpers.js';

const N = 5000;
const GROUPS = 20;
const BIN_MS = 50;

/**
 * Runs 2 s and returns the rates and, for 20 equal groups of E neurons (the clusters of the
 * clustered network, arbitrary slices of the balanced one), the variance over 50 ms bins of each
 * group's rate, averaged over groups: high when groups switch between high and low activity.
 */
async function runNetwork(backend: BackendName, model: ModelName) {
  const nE = 0.8 * N;
  const groupSize = nE / GROUPS;
  const bins = (2000 / BIN_MS) | 0;
  const groupCounts = new Float64Array(GROUPS * bins);
  const result = await simulateOffline({
    model,
    n: N,
    durationS: 2,
    warmupS: 0.2,
    backend,
    seed: 3,
    batch: 1,
    onSpikes: (step, ids) => {
      const bin = Math.floor((step * 0.1) / BIN_MS);
      for (const id of ids) if (id < nE) groupCounts[Math.floor(id / groupSize) * bins + bin]!++;
    },
  });
  let variance = 0;
  for (let g = 0; g < GROUPS; g++) {
    const rates = Array.from(
      groupCounts.subarray(g * bins, (g + 1) * bins),
      (c) => c / groupSize / (BIN_MS / 1000),
    );
    const mean = rates.reduce((s, r) => s + r, 0) / bins;
    variance += rates.reduce((s, r) => s + (r - mean) ** 2, 0) / (bins - 1) / GROUPS;
  }
  return { ...result, groupRateVariance: variance };
}

describe.each(BACKENDS)('the default network on the %s backend', (backend) => {
  it('fires at the rates the paper measured, and the clustered network switches between clusters', async () => {
    const clustered = await runNetwork(backend, 'ei-clustered');
    const balanced = await runNetwork(backend, 'balanced');
    console.log(
      `[${backend}] N = ${N}, 2 s: clustered E ${clustered.rateE.toFixed(2)} Hz, I ${clustered.rateI.toFixed(2)} Hz ` +
        `(paper, NEST/GeNN: E 6.5–8, I 9–11); balanced E ${balanced.rateE.toFixed(2)} Hz, I ${balanced.rateI.toFixed(2)} Hz; ` +
        `cluster-rate variance ${clustered.groupRateVariance.toFixed(1)} Hz² vs balanced ${balanced.groupRateVariance.toFixed(1)} Hz²`,
    );
    expect(clustered.rateE).toBeGreaterThan(5);
    expect(clustered.rateE).toBeLessThan(10.5);
    expect(clustered.rateI).toBeGreaterThan(7);
    expect(clustered.rateI).toBeLessThan(13.5);
    expect(clustered.rateI).toBeGreaterThan(clustered.rateE);
    expect(balanced.rateE).toBeGreaterThan(1);
    expect(clustered.groupRateVariance).toBeGreaterThan(5 * balanced.groupRateVariance);
  });
});
