import { afterEach, describe, expect, it } from 'vitest';
import { buildStoredRows, SEGMENTS } from '../../src/engine/cpu/connectivity.js';
import { chooseConnectivity } from '../../src/engine/cpu/cpu-engine.js';
import { allocateSharedState } from '../../src/engine/cpu/shared-state.js';
import type { Engine } from '../../src/engine/engine.js';
import {
  deriveNetwork,
  populationOf,
  synapseCount,
  WEIGHT_SCALE,
  weightIndex,
} from '../../src/model/network.js';
import { modelParams } from '../../src/model/params.js';
import { counterU32, isConnected, Stream, streamKey } from '../../src/model/rng.js';
import { BACKENDS, buildEngine } from './helpers.js';

const N = 2000;

/** Every synapse of one instance as a list of [pre, post], from the materialised rows. */
function synapses(seed: number): Array<[number, number]> {
  const network = deriveNetwork(modelParams('ei-clustered', N, { seed }));
  const buffers = allocateSharedState([network], 1);
  const rows = buildStoredRows(buffers, buffers.instanceTable, 0, N);
  const pairs: Array<[number, number]> = [];
  for (let pre = 0; pre < N; pre++) {
    for (let t = rows.segmentStart[pre * SEGMENTS]!; t < rows.segmentStart[(pre + 1) * SEGMENTS]!; t++) {
      pairs.push([pre, rows.targets[t]!]);
    }
  }
  return pairs;
}

describe('procedural connectivity', () => {
  const pairs = synapses(1);
  const nE = 1600;

  it('has in-degrees per block with the binomial mean and variance of p·N_pre', () => {
    const inDegree = {
      ee: new Float64Array(N),
      ei: new Float64Array(N),
      ie: new Float64Array(N),
      ii: new Float64Array(N),
    };
    for (const [pre, post] of pairs) {
      const key = `${post >= nE ? 'i' : 'e'}${pre >= nE ? 'i' : 'e'}` as keyof typeof inDegree;
      inDegree[key][post]!++;
    }
    const blocks = [
      ['ee', 0, nE, nE - 1, 0.2],
      ['ei', 0, nE, N - nE, 0.5],
      ['ie', nE, N, nE, 0.5],
      ['ii', nE, N, N - nE - 1, 0.5],
    ] as const;
    for (const [key, from, to, nPre, p] of blocks) {
      const degrees = Array.from(inDegree[key].subarray(from, to));
      const mean = degrees.reduce((s, d) => s + d, 0) / degrees.length;
      const variance = degrees.reduce((s, d) => s + (d - mean) ** 2, 0) / (degrees.length - 1);
      const expectedMean = p * nPre;
      const expectedVariance = nPre * p * (1 - p);
      // Standard error of the mean is sqrt(var / count); of the variance about var·sqrt(2 / count).
      expect(Math.abs(mean - expectedMean)).toBeLessThan(5 * Math.sqrt(expectedVariance / degrees.length));
      expect(Math.abs(variance / expectedVariance - 1)).toBeLessThan(5 * Math.sqrt(2 / degrees.length));
      console.log(
        `in-degree ${key}: mean ${mean.toFixed(2)} (binomial ${expectedMean.toFixed(2)}), ` +
          `variance ${variance.toFixed(1)} (binomial ${expectedVariance.toFixed(1)})`,
      );
    }
  });

  it('has no autapses and equals the pure function of (seed, pre, post)', () => {
    expect(pairs.some(([pre, post]) => pre === post)).toBe(false);
    const network = deriveNetwork(modelParams('ei-clustered', N, { seed: 1 }));
    const preStream = streamKey(1, Stream.connectivityPre);
    const postStream = streamKey(1, Stream.connectivityPost);
    const expected = new Set<number>();
    for (let pre = 0; pre < N; pre += 7) {
      for (let post = 0; post < N; post++) {
        const key = `${post >= nE ? 'i' : 'e'}${pre >= nE ? 'i' : 'e'}` as 'ee';
        const threshold = network.thresholds31[key];
        if (
          pre !== post &&
          isConnected(counterU32(preStream, pre), counterU32(postStream, post), threshold)
        ) {
          expected.add(pre * N + post);
        }
      }
    }
    const actual = new Set(pairs.filter(([pre]) => pre % 7 === 0).map(([pre, post]) => pre * N + post));
    expect(actual).toEqual(expected);
  });

  it('rebuilds the same synapses from the same seed, and different ones from another', () => {
    const again = synapses(1);
    expect(again).toEqual(pairs);
    const other = synapses(2);
    const overlap = other.filter(([pre, post]) => pre === 0 && post < 400).length;
    expect(other).not.toEqual(pairs);
    expect(overlap).toBeGreaterThan(0);
  });
});

describe.each(BACKENDS)('synaptic weights delivered by the %s backend', (backend) => {
  let engine: Engine | undefined;
  afterEach(async () => {
    await engine?.dispose();
    engine = undefined;
  });

  it('a spike reaches exactly its targets, with J+ inside its cluster and J− outside', async () => {
    // No background, V starts at 0: only the forced neuron fires.
    const network = deriveNetwork(
      modelParams('ei-clustered', N, {
        backgroundThresholdE: 0,
        backgroundThresholdI: 0,
        initialVoltageLowMv: 0,
        initialVoltageHighMv: 0,
      }),
    );
    engine = await buildEngine(backend, { networks: [network] });
    const expectedTargets = new Map(pairs1().map(([pre, post]) => [`${pre}:${post}`, true]));
    for (const pre of [5, 1700]) {
      await engine.reset();
      const pulse = new Float32Array(N);
      pulse[pre] = 400;
      engine.setNeuronCurrents(0, pulse);
      await engine.run(1);
      engine.setNeuronCurrents(0, null);
      await engine.run(1);
      const { iExcPa, iInhPa } = await engine.readState(0);
      const preIsInh = pre >= network.layout.nE;
      const received = preIsInh ? iInhPa : iExcPa;
      const other = preIsInh ? iExcPa : iInhPa;
      const preCluster = populationOf(network.layout, pre) % network.layout.clusters;
      let targets = 0;
      for (let post = 0; post < N; post++) {
        expect(other[post]).toBe(0);
        if (!expectedTargets.has(`${pre}:${post}`)) {
          expect(received[post]).toBe(0);
          continue;
        }
        targets++;
        const postIsInh = post >= network.layout.nE;
        const same = populationOf(network.layout, post) % network.layout.clusters === preCluster;
        const weight = network.weightsFixed[weightIndex(postIsInh, preIsInh, same)]! / WEIGHT_SCALE;
        expect(received[post]).toBe(Math.fround(weight));
      }
      expect(targets).toBeGreaterThan(100);
    }
  });
});

let cachedPairs: Array<[number, number]> | undefined;
function pairs1(): Array<[number, number]> {
  cachedPairs ??= synapses(1);
  return cachedPairs;
}

describe('CPU connectivity choice', () => {
  it('stores rows while they fit in the WebAssembly memory and regenerates them beyond', () => {
    const synapses = (n: number) => synapseCount(modelParams('ei-clustered', n));
    expect(chooseConnectivity('auto', synapses(20_000), 20_000, 1, 2)).toBe('stored');
    // N = 100,000: 3.1·10⁹ synapses, over 4 GiB even as u16 indices.
    expect(chooseConnectivity('auto', synapses(100_000), 100_000, 1, 2)).toBe('procedural');
    expect(chooseConnectivity('stored', synapses(100_000), 100_000, 1, 2)).toBe('stored');
  });
});
