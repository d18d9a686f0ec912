/**
 * What a CPU step costs, per neuron and per synaptic event, and the two choices made from it: how
 * many threads step the network and where the partitions between them start.
 */
import type { DerivedNetwork } from '../../model/network.js';
import type { CpuWaitMode, ThreadCost, ThreadPurpose } from '../engine.js';

/**
 * Per-step costs of the CPU kernel (ns), fitted on the 2-core development VM (AMD EPYC) from
 * `simulate` at N = 5000 with the stepper's phases timed separately, one thread at FIFO priority
 * (the VM was shared with other work), then scaled by the measured change of each phase when the
 * update began to hold equal propagators in registers and delivery to compute addresses in SIMD
 * (phases of both kernels timed in alternating chunks of one engine, N = 5000 and 20,000: update
 * −29 to −40 %, delivery −10 to −17 %): a neuron update (SIMD, 1.2 → 0.85 ns), a synaptic event
 * through stored rows (0.55 → 0.48 ns), a (spike, post) pair hashed by procedural delivery (SIMD,
 * 1.2 ns: RT 0.40–0.47 against 0.16–0.18 stored at N = 5000, 25,000 pairs per step). A barrier crossing:
 * `perBarrier` when the waiting thread spins (cache-line hand-over plus the imbalance left after
 * balancing), `perBlockingBarrier` when it sleeps on a futex and must be woken by the kernel (a
 * wait/notify round trip between two threads measured 13 µs p50, 65 µs p99 at normal priority).
 * Only their ratios matter to the choices below.
 */
export const STEP_COST_NS = {
  perNeuron: 0.85,
  perEvent: 0.48,
  perBarrier: 1000,
  perBlockingBarrier: 30_000,
  perCandidate: 1.2,
} as const;

/** Mean firing rate assumed for costs (the default model fires at 9–13 Hz). */
export const ASSUMED_RATE_HZ = 10;

/**
 * A thread is added only when it cuts the expected step time by this share: a thread that spins
 * at every barrier takes a core from everything else on the machine for a small gain (and on a
 * VM whose vCPUs are not whole cores a measured gain smaller than this is mostly noise).
 */
export const MIN_GAIN_PER_THREAD = 0.2;

/**
 * Share of the tick a closed loop's compute may take: the rest is left to the I/O, the codecs,
 * the load and jitter. The loop takes the fewest threads that stay under it.
 */
export const LOOP_COMPUTE_SHARE = 0.5;

/** What the cost model needs to price a thread count. */
export interface ThreadCostOptions {
  dtMs: number;
  procedural: boolean;
  neuronsPerInstance: number;
  cores: number;
  waitMode?: CpuWaitMode;
}

/**
 * Expected real-time factor (wall / biological time) of the CPU engine per thread count t, from
 * STEP_COST_NS: the neuron updates and the synaptic events divided over t threads, plus one
 * barrier per step when t > 1 (growing with log2 t, the depth at which t arrivals meet; a
 * sleeping barrier costs a kernel wake-up). Thread counts 1 … min(cores, 8).
 */
export function modelThreadCost(
  totalNeurons: number,
  totalSynapses: number,
  options: ThreadCostOptions,
): ThreadCost[] {
  const spikesPerStep = totalNeurons * ASSUMED_RATE_HZ * options.dtMs * 1e-3;
  const delivery = options.procedural
    ? spikesPerStep * options.neuronsPerInstance * STEP_COST_NS.perCandidate
    : (totalSynapses / totalNeurons) * spikesPerStep * STEP_COST_NS.perEvent;
  const work = totalNeurons * STEP_COST_NS.perNeuron + delivery;
  const perBarrier = options.waitMode === 'block' ? STEP_COST_NS.perBlockingBarrier : STEP_COST_NS.perBarrier;
  const costs: ThreadCost[] = [];
  for (let t = 1; t <= Math.max(1, Math.min(options.cores, 8)); t++) {
    const ns = work / t + (t > 1 ? perBarrier * Math.log2(t) : 0);
    costs.push({ threads: t, rtf: ns / (options.dtMs * 1e6) });
  }
  return costs;
}

/**
 * The thread-count policy, one function for every caller (the engine's default, the CLI with a
 * machine's measured costs): from the expected real-time factor per thread count,
 * - 'offline' (simulate, benchmarks, calibrate): the fastest, adding threads (in the order of
 *   `costs`' counts) only while each step cuts the time by MIN_GAIN_PER_THREAD;
 * - 'loop' (a closed loop: run, bench loop): the fewest threads whose compute per tick stays
 *   under LOOP_COMPUTE_SHARE of the tick, since every extra thread spins at each step's barrier
 *   and takes a core from the I/O and the load; the 'offline' choice when none does.
 * Thread counts missing from `costs` are never chosen; one thread when `costs` is empty.
 */
export function chooseThreads(
  costs: readonly ThreadCost[],
  purpose: ThreadPurpose,
  loopShare = LOOP_COMPUTE_SHARE,
): number {
  const sorted = costs
    .filter((cost) => Number.isInteger(cost.threads) && cost.threads >= 1 && Number.isFinite(cost.rtf))
    .sort((a, b) => a.threads - b.threads);
  if (sorted.length === 0) return 1;
  if (purpose === 'loop') {
    const fitting = sorted.find((cost) => cost.rtf <= loopShare);
    if (fitting) return fitting.threads;
  }
  let best = sorted[0]!;
  for (const cost of sorted.slice(1)) {
    if (cost.rtf > best.rtf * (1 - MIN_GAIN_PER_THREAD)) break;
    best = cost;
  }
  return best.threads;
}

/**
 * Threads that minimise the estimated wall time of one step (modelThreadCost, 'offline' policy of
 * chooseThreads). Up to `cores` and 8.
 */
export function threadsForCost(
  totalNeurons: number,
  totalSynapses: number,
  options: ThreadCostOptions,
): number {
  return chooseThreads(modelThreadCost(totalNeurons, totalSynapses, options), 'offline');
}

/**
 * Expected cost (ns per step) of one postsynaptic neuron of each type: its update plus the events
 * it receives. With stored rows an I post receives more events than an E post (in-degree
 * pIE·N_E + pII·N_I against pEE·N_E + pEI·N_I: 2,500 against 1,300 at N = 5000 with the default
 * probabilities); procedural delivery hashes every post once per spike whatever its type.
 */
function postCostNs(network: DerivedNetwork, stored: boolean): { exc: number; inh: number } {
  const { params, layout } = network;
  const perSpike = ASSUMED_RATE_HZ * params.dtMs * 1e-3;
  if (!stored) {
    const hashed = layout.n * perSpike * STEP_COST_NS.perCandidate;
    return { exc: STEP_COST_NS.perNeuron + hashed, inh: STEP_COST_NS.perNeuron + hashed };
  }
  const inExc = params.pEE * layout.nE + params.pEI * layout.nI;
  const inInh = params.pIE * layout.nE + params.pII * layout.nI;
  return {
    exc: STEP_COST_NS.perNeuron + inExc * perSpike * STEP_COST_NS.perEvent,
    inh: STEP_COST_NS.perNeuron + inInh * perSpike * STEP_COST_NS.perEvent,
  };
}

/**
 * Partition starts are multiples of this many neurons: 128 bytes of every 4-byte neuron array
 * (shared-state.ts ISOLATION_BYTES), so that no two threads write the same cache line pair and
 * every partition's SIMD update starts on a 16-byte lane.
 */
export const PARTITION_ALIGN = 32;

/**
 * First neuron of each partition (threads + 1 entries, the last = B·N) such that every partition
 * carries about the same expected cost, rather than the same neuron count: with stored rows the
 * partition holding the I neurons would otherwise receive ~40 % more events (N = 5000, two
 * threads) and the other thread would wait for it at every barrier. Spike lists stay ascending
 * (partition p's ids precede partition p + 1's), so spikes do not depend on where the cuts are.
 */
export function balancedPartitionStarts(
  networks: readonly DerivedNetwork[],
  threads: number,
  stored: boolean,
): Int32Array {
  const { n, nE } = networks[0]!.layout;
  const total = networks.length * n;
  const starts = new Int32Array(threads + 1);
  starts[threads] = total;
  if (threads === 1) return starts;
  // Runs of equal cost per neuron: the E then the I neurons of each instance.
  const runs: Array<{ start: number; end: number; cost: number }> = [];
  for (const [b, network] of networks.entries()) {
    const cost = postCostNs(network, stored);
    runs.push({ start: b * n, end: b * n + nE, cost: cost.exc });
    runs.push({ start: b * n + nE, end: (b + 1) * n, cost: cost.inh });
  }
  const totalCost = runs.reduce((sum, run) => sum + (run.end - run.start) * run.cost, 0);
  let p = 1;
  let before = 0;
  for (const run of runs) {
    const runCost = (run.end - run.start) * run.cost;
    while (p < threads && before + runCost >= (totalCost * p) / threads) {
      const inside = ((totalCost * p) / threads - before) / run.cost;
      const cut = Math.round((run.start + inside) / PARTITION_ALIGN) * PARTITION_ALIGN;
      starts[p] = Math.min(total, Math.max(starts[p - 1]!, cut));
      p++;
    }
    before += runCost;
  }
  for (; p < threads; p++) starts[p] = total;
  return starts;
}
