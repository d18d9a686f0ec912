import { describe, expect, it } from 'vitest';
import {
  deriveNetwork,
  neuronArrays,
  populationOf,
  populationRange,
  synapseCount,
  WEIGHT_SCALE,
  weightIndex,
} from '../../src/model/network.js';
import { modelParams } from '../../src/model/params.js';
import { peakPsp, pspAt, synapticCurrentGain } from '../../src/model/propagators.js';

describe('derived network', () => {
  const network = deriveNetwork(modelParams('ei-clustered', 5000));

  it('sets E→E weights so that sqrt(K_EE) coincident inputs reach threshold from rest', () => {
    const kEE = 0.2 * 4000;
    const psp = peakPsp(20, 3, 1).peakMv;
    expect(Math.sqrt(kEE) * network.baseWeightsPa.ee * psp).toBeCloseTo(20, 10);
    const kIE = 0.5 * 4000;
    expect(Math.sqrt(kIE) * network.baseWeightsPa.ie * peakPsp(10, 3, 1).peakMv).toBeCloseTo(20, 10);
  });

  it('balances inhibition by g_E and g_I', () => {
    const { ee, ei, ie, ii } = network.baseWeightsPa;
    // Mean inhibitory PSP input = g × mean excitatory PSP input.
    const excE = 0.2 * 4000 * ee * peakPsp(20, 3, 1).peakMv;
    const inhE = 0.5 * 1000 * ei * peakPsp(20, 2, 1).peakMv;
    expect(-inhE / excE).toBeCloseTo(1.2, 10);
    const excI = 0.5 * 4000 * ie * peakPsp(10, 3, 1).peakMv;
    const inhI = 0.5 * 1000 * ii * peakPsp(10, 2, 1).peakMv;
    expect(-inhI / excI).toBeCloseTo(1.0, 10);
  });

  it('scales block weights by J+ inside a cluster and J− between clusters, keeping row sums', () => {
    const jIPlus = 1 + (10 - 1) * 0.75;
    expect(network.clusterPlus).toEqual({ ee: 10, ei: jIPlus, ie: jIPlus, ii: jIPlus });
    expect(network.clusterMinus.ee).toBeCloseTo((20 - 10) / 19, 12);
    expect(network.clusterMinus.ii).toBeCloseTo((20 - jIPlus) / 19, 12);
    // One own cluster and Q−1 others average to the unclustered weight.
    expect((network.clusterPlus.ee + 19 * network.clusterMinus.ee) / 20).toBeCloseTo(1, 12);
    const blocks = [
      ['ee', false, false],
      ['ei', false, true],
      ['ie', true, false],
      ['ii', true, true],
    ] as const;
    for (const [key, postIsInh, preIsInh] of blocks) {
      for (const same of [true, false]) {
        const expected =
          network.baseWeightsPa[key] * (same ? network.clusterPlus[key] : network.clusterMinus[key]);
        const fixed = network.weightsFixed[weightIndex(postIsInh, preIsInh, same)]!;
        expect(Math.abs(fixed / WEIGHT_SCALE - expected)).toBeLessThanOrEqual(0.5 / WEIGHT_SCALE);
      }
    }
  });

  it('sets background currents from I_th in units of the rheobase', () => {
    expect(network.backgroundEPa).toBeCloseTo((2.13 * 20 * 1) / 20, 12);
    expect(network.backgroundIPa).toBeCloseTo((1.24 * 20 * 1) / 10, 12);
    expect(network.refractorySteps).toBe(50);
  });

  it('the balanced network has no cluster factors', () => {
    const balanced = deriveNetwork(modelParams('balanced', 5000));
    expect(balanced.clusterPlus).toEqual({ ee: 1, ei: 1, ie: 1, ii: 1 });
    expect(balanced.clusterMinus).toEqual({ ee: 1, ei: 1, ie: 1, ii: 1 });
  });

  it('lays out E clusters then I clusters', () => {
    const { layout } = network;
    expect(populationOf(layout, 0)).toBe(0);
    expect(populationOf(layout, 199)).toBe(0);
    expect(populationOf(layout, 200)).toBe(1);
    expect(populationOf(layout, 4000)).toBe(20);
    expect(populationOf(layout, 4999)).toBe(39);
    expect(populationRange(layout, 21)).toEqual({ start: 4050, size: 50 });
  });

  it('counts M ≈ 0.308·N² synapses', () => {
    expect(synapseCount(network.params) / 5000 ** 2).toBeCloseTo(0.308, 2);
  });

  it('draws random initial voltages and distributed synaptic time constants from the seed', () => {
    const a = neuronArrays(network);
    const b = neuronArrays(deriveNetwork(modelParams('ei-clustered', 5000)));
    expect(a.v0Mv).toEqual(b.v0Mv);
    expect(Math.min(...a.v0Mv)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...a.v0Mv)).toBeLessThan(20);
    const distributed = neuronArrays(
      deriveNetwork(
        modelParams('ei-clustered', 5000, { tauSynDistribution: { kind: 'uniform', spreadFraction: 0.5 } }),
      ),
    );
    // Recover tau_syn,ex from P11 = exp(−h/tau) and check the configured range and mean.
    const taus = Array.from(distributed.p11Exc, (p11) => -0.1 / Math.log(p11));
    expect(Math.min(...taus)).toBeGreaterThan(1.5 - 1e-3);
    expect(Math.max(...taus)).toBeLessThan(4.5 + 1e-3);
    expect(taus.reduce((s, t) => s + t, 0) / taus.length).toBeCloseTo(3, 1);
    expect(new Set(taus.map((t) => t.toFixed(4))).size).toBeGreaterThan(1000);
  });

  it('computes PSPs and propagators consistently, including tau_m = tau_syn', () => {
    const { peakMv, peakTimeMs } = peakPsp(20, 3, 1);
    expect(pspAt(peakTimeMs, 20, 3, 1)).toBeCloseTo(peakMv, 12);
    expect(pspAt(peakTimeMs + 0.01, 20, 3, 1)).toBeLessThan(peakMv);
    expect(synapticCurrentGain(0.1, 10, 10 + 1e-12, 1)).toBeCloseTo(0.1 * Math.exp(-0.01), 10);
  });
});
