import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { defaultThreads } from '../../src/engine/cpu/cpu-engine.js';
import type { Engine } from '../../src/engine/engine.js';
import { deriveNetwork, synapseCount } from '../../src/model/network.js';
import { modelParams } from '../../src/model/params.js';
import { buildEngine } from './helpers.js';

const SIZES = [100, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000];

function threadsFor(n: number, procedural = false): number {
  return defaultThreads(n, synapseCount(modelParams('ei-clustered', n)), {
    dtMs: 0.1,
    procedural,
    neuronsPerInstance: n,
  });
}

describe('default CPU thread count', () => {
  it('is one thread for a network too small to pay for a barrier per step', () => {
    expect(threadsFor(100)).toBe(1);
    expect(threadsFor(500)).toBe(1);
  });

  it('never falls as the network grows and stays within the cores (at most 8)', () => {
    const counts = SIZES.map((n) => threadsFor(n));
    for (let k = 1; k < counts.length; k++) expect(counts[k]!).toBeGreaterThanOrEqual(counts[k - 1]!);
    const cap = Math.min(availableParallelism(), 8);
    for (const t of counts) {
      expect(t).toBeGreaterThanOrEqual(1);
      expect(t).toBeLessThanOrEqual(cap);
    }
    if (cap >= 2) expect(counts.at(-1)).toBeGreaterThanOrEqual(2);
  });

  it('takes at least as many threads for procedural connectivity, which costs more per spike', () => {
    for (const n of SIZES) expect(threadsFor(n, true)).toBeGreaterThanOrEqual(threadsFor(n));
  });
});

describe('stimuli on a threaded CPU engine', () => {
  /**
   * Spike ids of each of 20 runs of 1 ms. The population stimulus is set once; before each run a
   * 400 pA neuron stimulus moves to another neuron near the end of the last partition (owned by a
   * worker, not the main thread), and every third run it is removed.
   */
  async function stimulatedSpikes(threads: number): Promise<number[][]> {
    const network = deriveNetwork(modelParams('ei-clustered', 1000, { seed: 5 }));
    const engine: Engine = await buildEngine('cpu', { networks: [network], threads, connectivity: 'stored' });
    try {
      const runs: number[][] = [];
      engine.onSpikes((_step, spikes) => runs.at(-1)!.push(...spikes));
      const populationPa = new Float32Array(engine.layout.populationCount);
      populationPa[3] = 30;
      engine.setPopulationCurrents(0, populationPa);
      const neuronPa = new Float32Array(1000);
      for (let run = 0; run < 20; run++) {
        neuronPa.fill(0);
        neuronPa[997 - run] = 400;
        engine.setNeuronCurrents(0, run % 3 === 2 ? null : neuronPa);
        runs.push([]);
        await engine.run(10);
      }
      return runs;
    } finally {
      await engine.dispose();
    }
  }

  it('reach every thread at the next run: three threads spike exactly as one', async () => {
    const one = await stimulatedSpikes(1);
    // 400 pA charges 1 pF by 20 mV in 0.05 ms: a stimulated neuron fires in its run unless it is
    // still refractory (run 4: neuron 993 fired in run 0). A drive left at the first run's stimulus
    // would fire none of them after run 0.
    const stimulated = one.map((_, run) => run).filter((run) => run % 3 !== 2);
    const fired = stimulated.filter((run) => one[run]!.includes(997 - run));
    expect(stimulated.length).toBe(14);
    expect(fired.length).toBe(13);
    expect(await stimulatedSpikes(3)).toEqual(one);
  });
});
