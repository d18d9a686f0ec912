import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { loopThreads } from '../../src/cli/engine-threads.js';
import {
  balancedPartitionStarts,
  chooseThreads,
  LOOP_COMPUTE_SHARE,
  MIN_GAIN_PER_THREAD,
  PARTITION_ALIGN,
  STEP_COST_NS,
  threadsForCost,
} from '../../src/engine/cpu/cost-model.js';
import { defaultThreads } from '../../src/engine/cpu/cpu-engine.js';
import { MIN_BARRIER_POLLS, nextSpinPolls } from '../../src/engine/cpu/partition-stepper.js';
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

describe('thread policy (chooseThreads)', () => {
  // RT per thread count as calibrate measured it on the 2-core VM at N = 5000 and 20,000.
  const at5000 = [
    { threads: 1, rtf: 0.09 },
    { threads: 2, rtf: 0.092 },
  ];
  const at20000 = [
    { threads: 1, rtf: 0.9 },
    { threads: 2, rtf: 0.54 },
  ];

  it('offline: the fastest, a thread added only when it cuts the time by MIN_GAIN_PER_THREAD', () => {
    expect(chooseThreads(at5000, 'offline')).toBe(1);
    expect(chooseThreads(at20000, 'offline')).toBe(2);
    // 15 % faster with two threads is not worth a core spinning at every barrier.
    expect(
      chooseThreads(
        [
          { threads: 1, rtf: 1 },
          { threads: 2, rtf: 0.85 },
        ],
        'offline',
      ),
    ).toBe(1);
    expect(
      chooseThreads(
        [
          { threads: 1, rtf: 1 },
          { threads: 2, rtf: 1 - MIN_GAIN_PER_THREAD },
        ],
        'offline',
      ),
    ).toBe(2);
    // Counts measured at 1, 2, 4: each step must pay; the order of the list does not matter.
    const powers = [
      { threads: 4, rtf: 0.2 },
      { threads: 1, rtf: 1 },
      { threads: 2, rtf: 0.5 },
    ];
    expect(chooseThreads(powers, 'offline')).toBe(4);
    expect(chooseThreads([...powers, { threads: 8, rtf: 0.19 }], 'offline')).toBe(4);
  });

  it('loop: the fewest threads whose compute stays under half the tick', () => {
    expect(LOOP_COMPUTE_SHARE).toBe(0.5);
    expect(chooseThreads(at5000, 'loop')).toBe(1);
    // 0.9 of the tick on one thread is over the share; two threads stay under it.
    expect(chooseThreads(at20000, 'loop')).toBe(2);
    // One thread under the share: no second thread, although it would be 40 % faster offline.
    const medium = [
      { threads: 1, rtf: 0.45 },
      { threads: 2, rtf: 0.27 },
    ];
    expect(chooseThreads(medium, 'offline')).toBe(2);
    expect(chooseThreads(medium, 'loop')).toBe(1);
    expect(chooseThreads(medium, 'loop', 0.4)).toBe(2);
    // Nothing holds the share: the offline choice (the fastest).
    expect(
      chooseThreads(
        [
          { threads: 1, rtf: 3 },
          { threads: 2, rtf: 1.6 },
        ],
        'loop',
      ),
    ).toBe(2);
  });

  it('takes one thread without costs and never a count it was not given', () => {
    expect(chooseThreads([], 'offline')).toBe(1);
    expect(chooseThreads([{ threads: 2, rtf: 0.3 }], 'loop')).toBe(2);
    expect(
      chooseThreads(
        [
          { threads: 1, rtf: Number.NaN },
          { threads: 2, rtf: 0.3 },
        ],
        'offline',
      ),
    ).toBe(2);
  });

  it("the engine's default uses measured costs of this machine for one stored instance", () => {
    const n = 20_000;
    const synapses = synapseCount(modelParams('ei-clustered', n));
    // Measured: a second thread makes this machine slower at every size.
    const slower = [
      { threads: 1, a0: 0, a1: 1e-5, a2: 0 },
      { threads: 2, a0: 0, a1: 2e-5, a2: 0 },
    ];
    const options = { dtMs: 0.1, procedural: false, neuronsPerInstance: n };
    const cap = Math.min(availableParallelism(), 8);
    expect(defaultThreads(n, synapses, { ...options, measured: slower })).toBe(1);
    // Measured: two threads halve the time (0.6 → 0.3): offline takes 2; so does the loop (0.6 > 0.5).
    const halves = [
      { threads: 1, a0: 0, a1: 3e-5, a2: 0 },
      { threads: 2, a0: 0, a1: 1.5e-5, a2: 0 },
    ];
    if (cap >= 2) {
      expect(defaultThreads(n, synapses, { ...options, measured: halves })).toBe(2);
      expect(defaultThreads(n, synapses, { ...options, measured: halves, purpose: 'loop' })).toBe(2);
      // At N = 10,000 one thread takes 0.3 of the tick: the loop keeps one, offline still takes 2.
      const small = { ...options, neuronsPerInstance: 10_000, measured: halves };
      expect(defaultThreads(10_000, synapses / 4, { ...small, purpose: 'loop' })).toBe(1);
      expect(defaultThreads(10_000, synapses / 4, small)).toBe(2);
    }
    // Batches and procedural delivery were not measured: the cost model decides.
    expect(defaultThreads(2 * n, 2 * synapses, { ...options, measured: slower })).toBe(
      defaultThreads(2 * n, 2 * synapses, options),
    );
    expect(defaultThreads(n, synapses, { ...options, procedural: true, measured: slower })).toBe(
      defaultThreads(n, synapses, { ...options, procedural: true }),
    );
  });

  it("a closed loop's default takes no more threads than an offline run, and one at N = 5000", () => {
    // No measured costs: the cost model decides, as for threadsFor.
    for (const n of SIZES) {
      const network = deriveNetwork(modelParams('ei-clustered', n));
      expect(loopThreads(network, { measured: [] })).toBeLessThanOrEqual(threadsFor(n));
    }
    // Half a tick is 0.05 ms of compute per 0.1 ms step; N = 5000 needs ≈ 0.08 of real time on one thread.
    const at5000 = deriveNetwork(modelParams('ei-clustered', 5000));
    expect(loopThreads(at5000, { measured: [] })).toBe(1);
    // Measured: one thread needs 0.6 of real time at N = 5000, two 0.3: the loop takes two.
    const measured = [
      { threads: 1, a0: 0.6, a1: 0, a2: 0 },
      { threads: 2, a0: 0.3, a1: 0, a2: 0 },
    ];
    if (Math.min(availableParallelism(), 8) >= 2) expect(loopThreads(at5000, { measured })).toBe(2);
  });

  it('refuses an unknown purpose with the value named', async () => {
    const network = deriveNetwork(modelParams('ei-clustered', 200));
    await expect(
      buildEngine('cpu', { networks: [network], threadPurpose: 'batch' as 'loop' }),
    ).rejects.toThrow(/threadPurpose must be 'offline' or 'loop', got "batch"/);
  });
});

describe('barrier poll budget (nextSpinPolls)', () => {
  it('halves from the second sleeping wait in a row on, down to MIN_BARRIER_POLLS', () => {
    let polls = 20_000;
    const budgets: number[] = [];
    for (let inARow = 1; inARow <= 10; inARow++) {
      polls = nextSpinPolls(polls, inARow, 20_000);
      budgets.push(polls);
    }
    expect(budgets.slice(0, 4)).toEqual([20_000, 10_000, 5_000, 2_500]);
    expect(budgets.at(-1)).toBe(MIN_BARRIER_POLLS);
    expect(nextSpinPolls(MIN_BARRIER_POLLS, 7, 20_000)).toBe(MIN_BARRIER_POLLS);
  });

  it('keeps the budget after a lone sleep and doubles it back up to the most after waits the polls covered', () => {
    // A lone late partner (an interrupt, the hypervisor) costs one sleep, not a smaller budget.
    let polls = 20_000;
    for (let k = 0; k < 50; k++) polls = nextSpinPolls(polls, k % 3 === 0 ? 1 : 0, 20_000);
    expect(polls).toBe(20_000);
    expect(nextSpinPolls(nextSpinPolls(5_000, 0, 20_000), 0, 20_000)).toBe(20_000);
    expect(nextSpinPolls(800, 0, 1_000)).toBe(1_000);
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
    expect(starts[1]! % PARTITION_ALIGN).toBe(0);
    // Expected cost (STEP_COST_NS per neuron and per event, at 1 spike per 1000 steps) per side.
    const cost = (from: number, to: number) => {
      let ns = 0;
      for (let i = from; i < to; i++)
        ns += STEP_COST_NS.perNeuron + (i < 4000 ? 1300 : 2500) * 1e-3 * STEP_COST_NS.perEvent;
      return ns;
    };
    const [left, right] = [cost(0, starts[1]!), cost(starts[1]!, 5000)];
    // Balanced to within the cost of half an aligned block of E neurons moved across the cut.
    const halfBlock = cost(0, PARTITION_ALIGN / 2);
    expect(Math.abs(left - right)).toBeLessThanOrEqual(2 * halfBlock + 1e-9);
  });

  it('are equal counts for procedural delivery, which hashes every post once per spike', () => {
    // Half of the neurons each, the cut on the nearest PARTITION_ALIGN boundary (2496 = 78·32).
    expect([...balancedPartitionStarts([network], 2, false)]).toEqual([0, 2496, 5000]);
  });

  it('are ascending, aligned to PARTITION_ALIGN neurons and cover the batch for any thread count', () => {
    for (const threads of [1, 2, 3, 5, 8]) {
      const starts = balancedPartitionStarts([network, network, network], threads, true);
      expect(starts.length).toBe(threads + 1);
      expect(starts[0]).toBe(0);
      expect(starts[threads]).toBe(15_000);
      for (let p = 1; p <= threads; p++) {
        expect(starts[p]!).toBeGreaterThanOrEqual(starts[p - 1]!);
        if (p < threads) expect(starts[p]! % PARTITION_ALIGN).toBe(0);
      }
    }
  });
});

describe("waitMode 'block'", () => {
  /** A thread's scheduler state (/proc/self/task/<tid>/stat, field 3): 'R' running or runnable, 'S' asleep. */
  const stateOf = (tid: number) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  };
  /** CPU time a thread has run (ns), from the kernel's scheduler statistics. */
  const cpuNs = (tid: number) =>
    Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
  /** The number of the system call a thread is blocked in ('running' when it is not in one). */
  const syscallOf = (tid: number) => readFileSync(`/proc/self/task/${tid}/syscall`, 'utf8').split(' ')[0];
  /** futex(2), which Atomics.wait sleeps in, where the test knows the number. */
  const FUTEX = ({ x64: '202', arm64: '98' } as Record<string, string>)[process.arch];
  const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  /**
   * The worker's state around 20 runs of one step, after 30 warm-up runs. Right after each run:
   * its state at once, then (waiting up to 2 s for it to leave its last barrier, however loaded
   * the machine) the first time it is asleep; from there a 5 ms pause (a real-time loop's gap
   * between ticks): its CPU time, state and system call before and after. Nothing here depends on
   * how long anything takes: a worker that sleeps runs for 0 ns while it sleeps.
   */
  async function observeWorker(waitMode: CpuWaitMode) {
    const network = deriveNetwork(modelParams('ei-clustered', 1000, { seed: 3 }));
    const engine = await buildEngine('cpu', {
      networks: [network],
      threads: 2,
      waitMode,
      connectivity: 'stored',
    });
    try {
      const tids = engine.threadIds?.() ?? [];
      expect(tids).toHaveLength(1);
      const tid = tids[0]!;
      const ids: number[] = [];
      engine.onSpikes((_step, spikes) => ids.push(...spikes));
      for (let run = 0; run < 200; run++) await engine.run(1);
      const pauses: { ranNs: number; states: string; syscalls: string }[] = [];
      let runnableAfterRun = 0;
      let neverSlept = 0;
      for (let run = 0; run < 20; run++) {
        await engine.run(1);
        if (stateOf(tid) === 'R') runnableAfterRun++;
        let polls = 0;
        while (stateOf(tid) !== 'S' && polls++ < 200) await delay(10);
        if (stateOf(tid) !== 'S') {
          neverSlept++;
          continue;
        }
        const cpuBefore = cpuNs(tid);
        const syscallBefore = syscallOf(tid);
        await delay(5);
        pauses.push({
          ranNs: cpuNs(tid) - cpuBefore,
          states: stateOf(tid)!,
          syscalls: `${syscallBefore} ${syscallOf(tid)}`,
        });
      }
      return { ids, pauses, runnableAfterRun, neverSlept };
    } finally {
      await engine.dispose();
    }
  }

  it('leaves the worker asleep in futex between runs (no CPU time), and spikes exactly as spinning threads', async () => {
    const blocking = await observeWorker('block');
    const spinning = await observeWorker('spin');
    // Asleep after every run, in futex (Atomics.wait).
    expect(blocking.neverSlept).toBe(0);
    expect(blocking.pauses).toHaveLength(20);
    if (FUTEX !== undefined) {
      expect(blocking.pauses.filter((p) => !p.syscalls.startsWith(`${FUTEX} `))).toEqual([]);
    }
    // And asleep it stays: in a pause not one nanosecond on a CPU, still asleep in futex at its end;
    // but for V8's own interrupts: V8 wakes a thread in Atomics.wait to install code it optimised in
    // the background or to finish a collection, then it sleeps again (seen in 1 pause of 20 in about
    // one test run of five, after the warm-up; under load the woken thread may still wait for a CPU
    // at the pause's end: 'R', 0 ns). A worker that polled would run in every pause.
    const woken = blocking.pauses.filter(
      (p) => p.ranNs !== 0 || p.states !== 'S' || (FUTEX !== undefined && p.syscalls !== `${FUTEX} ${FUTEX}`),
    );
    expect(woken.length).toBeLessThanOrEqual(2);
    // A spinning worker polls after each run before it sleeps: runnable right after a run.
    expect(spinning.runnableAfterRun).toBeGreaterThan(0);
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

describe('state of a threaded CPU engine (partitions laid out with a gap after each)', () => {
  /** V and both currents of two instances after 300 steps, and again after reset() and 50 steps. */
  async function states(threads: number) {
    const networks = [1, 2].map((seed) => deriveNetwork(modelParams('ei-clustered', 700, { seed })));
    const engine: Engine = await buildEngine('cpu', { networks, threads, connectivity: 'stored' });
    try {
      await engine.run(300);
      const run = [await engine.readState(0), await engine.readState(1)];
      await engine.reset();
      const reset = await engine.readState(1);
      await engine.run(50);
      return { run, reset, again: await engine.readState(1) };
    } finally {
      await engine.dispose();
    }
  }

  it('reads back the same bits with three threads as with one, after a run and after reset()', async () => {
    const one = await states(1);
    const three = await states(3);
    expect(one.run[0]!.vMv.length).toBe(700);
    // The run moved V away from its initial values, and reset() brought them back.
    expect(one.run[1]!.vMv).not.toEqual(one.reset.vMv);
    expect(one.reset.iExcPa.every((value) => value === 0)).toBe(true);
    expect(three).toEqual(one);
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
