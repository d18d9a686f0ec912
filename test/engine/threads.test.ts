import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { balancedPartitionStarts, threadsForCost } from '../../src/engine/cpu/cost-model.js';
import { defaultThreads } from '../../src/engine/cpu/cpu-engine.js';
import type { CpuWaitMode, Engine } from '../../src/engine/engine.js';
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

  it('takes no more threads when waits block, since each barrier may then cost a kernel wake-up', () => {
    const on = (n: number, waitMode: CpuWaitMode) =>
      threadsForCost(n, synapseCount(modelParams('ei-clustered', n)), {
        dtMs: 0.1,
        procedural: false,
        neuronsPerInstance: n,
        cores: 8,
        waitMode,
      });
    for (const n of SIZES) expect(on(n, 'block')).toBeLessThanOrEqual(on(n, 'spin'));
    // Eight cores: a network a spinning barrier would split is kept on one thread.
    expect(on(5000, 'spin')).toBeGreaterThan(1);
    expect(on(5000, 'block')).toBe(1);
  });
});

describe('partition cuts', () => {
  const network = deriveNetwork(modelParams('ei-clustered', 5000));

  it('give the partition holding the I neurons fewer neurons, which receive more events', () => {
    // In-degree 1300 per E post and 2500 per I post (N = 5000): equal counts would give the second
    // of two threads ~40 % more events than the first.
    const starts = balancedPartitionStarts([network], 2, true);
    expect(starts[0]).toBe(0);
    expect(starts[2]).toBe(5000);
    expect(starts[1]).toBeGreaterThan(2500);
    expect(starts[1]! % 4).toBe(0);
    // Expected cost (1.2 ns per neuron, 0.55 ns per event at 1 spike per 1000 steps) per side.
    const cost = (from: number, to: number) => {
      let ns = 0;
      for (let i = from; i < to; i++) ns += 1.2 + (i < 4000 ? 1300 : 2500) * 1e-3 * 0.55;
      return ns;
    };
    const [left, right] = [cost(0, starts[1]!), cost(starts[1]!, 5000)];
    expect(Math.abs(left - right) / (left + right)).toBeLessThan(0.005);
  });

  it('are equal counts for procedural delivery, which hashes every post once per spike', () => {
    expect([...balancedPartitionStarts([network], 2, false)]).toEqual([0, 2500, 5000]);
  });

  it('are ascending, 4-aligned and cover the batch for any thread count', () => {
    for (const threads of [1, 2, 3, 5, 8]) {
      const starts = balancedPartitionStarts([network, network, network], threads, true);
      expect(starts.length).toBe(threads + 1);
      expect(starts[0]).toBe(0);
      expect(starts[threads]).toBe(15_000);
      for (let p = 1; p <= threads; p++) {
        expect(starts[p]!).toBeGreaterThanOrEqual(starts[p - 1]!);
        expect(starts[p]! % 4).toBe(0);
      }
    }
  });
});

describe("waitMode 'block'", () => {
  const tasks = () => readdirSync('/proc/self/task');
  /** CPU time of one thread of this process (ns), from the kernel's scheduler statistics. */
  const cpuNs = (tid: string) =>
    Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);

  /**
   * The worker's CPU time in the pauses between 20 runs of one step, 4 ms apart (a real-time
   * loop's ticks), after 30 warm-up runs. A worker that polls for 3 ms after every run burns CPU
   * in every pause while it gets a core; one that blocks is asleep and uses none.
   */
  async function pauseCpu(waitMode: CpuWaitMode) {
    const network = deriveNetwork(modelParams('ei-clustered', 1000, { seed: 3 }));
    const before = new Set(tasks());
    const engine = await buildEngine('cpu', {
      networks: [network],
      threads: 2,
      waitMode,
      connectivity: 'stored',
    });
    try {
      const workers = tasks().filter((tid) => !before.has(tid));
      expect(workers.length).toBeGreaterThanOrEqual(1);
      const ids: number[] = [];
      engine.onSpikes((_step, spikes) => ids.push(...spikes));
      for (let run = 0; run < 30; run++) await engine.run(1);
      let pauseNs = 0;
      for (let run = 0; run < 20; run++) {
        await engine.run(1);
        const start = workers.map(cpuNs);
        await new Promise((resolve) => setTimeout(resolve, 4));
        workers.forEach((tid, k) => {
          pauseNs += cpuNs(tid) - start[k]!;
        });
      }
      return { ids, pauseMsPerRun: pauseNs / 1e6 / 20 };
    } finally {
      await engine.dispose();
    }
  }

  it('leaves the worker asleep between runs, and spikes exactly as spinning threads', async () => {
    const blocking = await pauseCpu('block');
    const spinning = await pauseCpu('spin');
    expect(blocking.pauseMsPerRun).toBeLessThan(0.2);
    expect(spinning.pauseMsPerRun).toBeGreaterThan(blocking.pauseMsPerRun);
    expect(blocking.ids.length).toBeGreaterThan(0);
    expect(blocking.ids).toEqual(spinning.ids);
  });

  it('is checked: an unknown wait mode is refused with its name', async () => {
    const network = deriveNetwork(modelParams('ei-clustered', 500));
    await expect(
      buildEngine('cpu', { networks: [network], waitMode: 'yield' as unknown as CpuWaitMode }),
    ).rejects.toThrow(/waitMode must be 'spin' or 'block', got "yield"/);
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
