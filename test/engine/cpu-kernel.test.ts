/**
 * The CPU kernel's SIMD update (build/kernel.wasm) against its scalar reference updateOne, which
 * does the WGSL kernel's operations: four lanes at a time, with the propagators loaded per neuron
 * or held in registers for a run of equal ones, must give the same bits as one neuron at a time.
 */
import { describe, expect, it } from 'vitest';
import { instantiateKernel } from '../../src/engine/cpu/kernel-module.js';
import {
  allocateSharedState,
  type RegionName,
  type SharedBuffers,
  view,
} from '../../src/engine/cpu/shared-state.js';
import { deriveNetwork } from '../../src/model/network.js';
import { modelParams } from '../../src/model/params.js';

const STATE: RegionName[] = [
  'vMv',
  'iExcPa',
  'iInhPa',
  'refractory',
  'accExc',
  'accInh',
  'spikeLists',
  'populationCounts',
];

function bytesOf(buffers: SharedBuffers, name: RegionName): Uint8Array {
  const array = view(buffers, name);
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength).slice();
}

/** A state with voltages around threshold, some refractory neurons and inputs over the whole i32 range. */
function scramble(buffers: SharedBuffers, seed: number): void {
  let x = seed >>> 0;
  const next = () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x;
  };
  const v = view(buffers, 'vMv');
  for (let i = 0; i < v.length; i++) v[i] = (next() / 2 ** 32) * 30 - 5;
  for (const name of ['iExcPa', 'iInhPa'] as const) {
    const current = view(buffers, name);
    for (let i = 0; i < current.length; i++) current[i] = (next() / 2 ** 32 - 0.5) * 2000;
  }
  const refractory = view(buffers, 'refractory');
  for (let i = 0; i < refractory.length; i++) refractory[i] = next() % 5 === 0 ? next() % 20 : 0;
  for (const name of ['accExc', 'accInh'] as const) {
    const acc = view(buffers, name);
    // Full range: |acc| > 2^24 is where an i32 → f32 conversion rounds.
    for (let i = 0; i < acc.length; i++)
      acc[i] = next() % 7 === 0 ? next() | 0 : (next() % 200_000) - 100_000;
  }
  const drive = view(buffers, 'drive');
  for (let i = 0; i < drive.length; i++) drive[i] = (next() / 2 ** 32) * 0.5;
}

function runUpdate(buffers: SharedBuffers, ranges: Array<[number, number]>, uniform: boolean): Uint8Array[] {
  const wasm = instantiateKernel(buffers.memory);
  const p = Object.fromEntries(
    Object.entries(buffers.regions).map(([name, r]) => [name, r.offset]),
  ) as Record<RegionName, number>;
  let spikes = 0;
  for (const [from, to] of ranges) {
    spikes += wasm.update(
      from,
      to,
      p.accExc,
      p.accInh,
      p.vMv,
      p.iExcPa,
      p.iInhPa,
      p.refractory,
      p.p22,
      p.p11Exc,
      p.p11Inh,
      p.p21Exc,
      p.p21Inh,
      p.drive,
      p.spikeLists + 4 * spikes,
      buffers.thresholdMv[0]!,
      buffers.resetMv[0]!,
      buffers.refractorySteps[0]!,
      p.population,
      0,
      p.populationCounts,
      uniform ? 1 : 0,
    );
  }
  return STATE.map((name) => bytesOf(buffers, name));
}

describe('CPU kernel update', () => {
  const network = deriveNetwork(modelParams('ei-clustered', 1000, { seed: 5 }));
  const nE = network.layout.nE;
  const runs: Array<[number, number]> = [
    [0, nE],
    [nE, 1000],
  ];
  const oneByOne: Array<[number, number]> = Array.from({ length: 1000 }, (_, i) => [i, i + 1]);

  it('gives the scalar reference bits four lanes at a time, propagators loaded or held', () => {
    for (const seed of [1, 2, 3]) {
      const results = [
        { ranges: oneByOne, uniform: false },
        { ranges: runs, uniform: false },
        { ranges: runs, uniform: true },
      ].map(({ ranges, uniform }) => {
        const buffers = allocateSharedState([network], 1, true);
        scramble(buffers, seed);
        return runUpdate(buffers, ranges, uniform);
      });
      // Some neurons spiked and some inputs were large: the comparison covers both.
      expect(new Int32Array(results[0]![STATE.indexOf('populationCounts')]!.buffer).some((c) => c > 0)).toBe(
        true,
      );
      expect(results[1]).toEqual(results[0]);
      expect(results[2]).toEqual(results[0]);
    }
  });

  it('loads the propagators per neuron where they differ (heterogeneous synaptic time constants)', () => {
    const varied = deriveNetwork(
      modelParams('ei-clustered', 1000, {
        seed: 5,
        tauSynDistribution: { kind: 'uniform', spreadFraction: 0.5 },
      }),
    );
    const buffers = allocateSharedState([varied], 1, true);
    const p11 = view(buffers, 'p11Exc');
    expect(new Set(p11.subarray(0, nE)).size).toBeGreaterThan(1);
    scramble(buffers, 9);
    const reference = runUpdate(buffers, oneByOne, false);
    const again = allocateSharedState([varied], 1, true);
    scramble(again, 9);
    expect(runUpdate(again, runs, false)).toEqual(reference);
  });
});
