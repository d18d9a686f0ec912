/**
 * One CPU partition's time step, run by the main thread or a worker on neurons [lo, hi):
 *   1. deliver the previous step's spikes (delay = one step) as fixed-point input,
 *   2. update the neurons (exact propagators of iaf_psc_exp, float32),
 *   3. append this step's spikes to the partition's list.
 * The hot loops run in WebAssembly (assembly/kernel.ts); this class owns the partition's pointers,
 * the barrier between threads, and procedural delivery for networks too large to store. A step
 * allocates nothing and makes one WebAssembly call per partition with spikes plus one per instance.
 */
import { type CpuWaitMode, EngineError } from '../engine.js';
import {
  blockThreshold,
  buildStoredRows,
  clusterOf,
  SEGMENTS,
  type StoredRows,
  segmentsFor,
} from './connectivity.js';
import { instantiateKernel, type KernelExports } from './kernel-module.js';
import {
  CONTROL,
  PARTITIONED,
  partitionBase,
  type RegionName,
  type SharedBuffers,
  spikeCountIndex,
  spikeListStart,
  view,
} from './shared-state.js';

/** The propagators the update reads per neuron; `uniform` runs read them once (kernel.ts update). */
const PROPAGATORS = ['p22', 'p11Exc', 'p11Inh', 'p21Exc', 'p21Inh'] as const;

/**
 * Neurons [lo, hi) cut into runs of one instance and one type (E, then I), each marked uniform
 * when all five propagators are equal across it (homogeneous synaptic time constants: the default).
 */
function typeRuns(buffers: SharedBuffers, lo: number, hi: number): Int32Array {
  const { n, nE, batch } = buffers;
  // Compared as bits: "equal" must mean the same f32, sign of zero included.
  const arrays = PROPAGATORS.map((name) => {
    const { offset, length } = buffers.regions[name];
    return new Uint32Array(buffers.memory.buffer, offset, length);
  });
  const runs: number[] = [];
  for (let b = Math.floor(lo / n); b < batch && b * n < hi; b++) {
    for (const [start, end] of [
      [b * n, b * n + nE],
      [b * n + nE, (b + 1) * n],
    ] as const) {
      const from = Math.max(lo, start);
      const to = Math.min(hi, end);
      if (from >= to) continue;
      const uniform = arrays.every((values) => {
        const first = values[from]!;
        for (let i = from + 1; i < to; i++) if (values[i] !== first) return false;
        return true;
      });
      runs.push(from, to, uniform ? 1 : 0);
    }
  }
  return Int32Array.from(runs);
}

/** Barrier polls before sleeping at most, per wait mode (EngineOptions.waitMode). */
const BARRIER_SPIN_POLLS: Record<CpuWaitMode, number> = { spin: 20_000, block: 1_000 };
/** The fewest polls an adaptive barrier comes down to (a few hundred ns). */
export const MIN_BARRIER_POLLS = 100;

/**
 * The poll budget of the next barrier wait, from the waits that had to sleep in a row (0 when the
 * last wait ended while polling): doubled after a wait the polls covered, kept after a single
 * sleep, halved from the second sleep in a row on, within [MIN_BARRIER_POLLS, most].
 *
 * When other processes hold the cores (more runnable threads than cores), a thread polling for a
 * partner that has no core keeps that partner from getting its core back, and every step then
 * costs the whole poll budget: measured on the 2-vCPU VM at load 5–6, N = 5000, two threads: RT
 * 2.5–2.7 with 20,000 polls, 0.62–0.67 with 2,000, 0.51–0.53 with 200, against 0.17–0.25 for one
 * thread. So sleeping waits shrink it. But on an idle machine a partner is sometimes late for
 * other reasons (an interrupt, the hypervisor), and a budget halved after every such sleep came
 * down far enough that ordinary waits of a few µs slept too, each paying a futex wake-up
 * (16–31 µs): 400–3,500 sleeps per 50,000 barriers at N = 5000. Contention makes sleeps follow
 * each other; a lone late partner does not.
 */
export function nextSpinPolls(current: number, sleepsInARow: number, most: number): number {
  if (sleepsInARow === 0) return Math.min(most, current * 2);
  return sleepsInARow === 1 ? current : Math.max(MIN_BARRIER_POLLS, current >> 1);
}

export class PartitionStepper {
  readonly lo: number;
  readonly hi: number;
  private readonly populations: number;
  private readonly rows: StoredRows | null;
  private readonly wasm: KernelExports;
  private readonly pointer: Record<RegionName, number>;
  private readonly spikeLists: Uint32Array;
  private readonly spikeCounts: Int32Array;
  private readonly control: Int32Array;
  /** First spike-list slot of each partition and parity: [partition·2 + parity] (spikeListStart). */
  private readonly listStarts: Int32Array;
  /** The stimulus version the drive was last computed for (CONTROL.stimulusVersion). */
  private driveVersion = -1;
  /** CONTROL.barrier's value once every thread has passed this thread's latest barrier (wrapping). */
  private barrierTarget = 0;
  /** Polls of the barrier word before sleeping on it (see EngineOptions.waitMode). */
  private readonly maxSpinPolls: number;
  /** Polls of the next barrier wait before sleeping (adapted: nextSpinPolls). */
  private spinPolls: number;
  /** Barrier waits in a row that had to sleep. */
  private sleepsInARow = 0;
  /** The update's runs, three numbers each: from, to, 1 when all propagators of the run are equal. */
  private readonly runs: Int32Array;

  constructor(
    private readonly buffers: SharedBuffers,
    readonly partition: number,
    stored: boolean,
    waitMode: CpuWaitMode = 'spin',
  ) {
    this.lo = buffers.partitionStarts[partition]!;
    this.hi = buffers.partitionStarts[partition + 1]!;
    this.maxSpinPolls = BARRIER_SPIN_POLLS[waitMode];
    this.spinPolls = this.maxSpinPolls;
    this.populations = 2 * buffers.clusters;
    this.wasm = instantiateKernel(buffers.memory);
    this.pointer = Object.fromEntries(
      Object.entries(buffers.regions).map(([name, region]) => [name, region.offset]),
    ) as Record<RegionName, number>;
    for (const name of PARTITIONED) this.pointer[name] = partitionBase(buffers, name, partition);
    this.listStarts = Int32Array.from({ length: 2 * buffers.threads }, (_, k) =>
      spikeListStart(buffers, k % 2, k >> 1),
    );
    this.spikeLists = view(buffers, 'spikeLists');
    this.spikeCounts = view(buffers, 'spikeCounts');
    this.control = view(buffers, 'control');
    this.rows = stored ? buildStoredRows(buffers, buffers.instanceTable, this.lo, this.hi, this.wasm) : null;
    this.runs = typeRuns(buffers, this.lo, this.hi);
  }

  get synapses(): number {
    return this.rows?.synapses ?? 0;
  }

  get rowBytes(): number {
    return this.rows?.bytes ?? 0;
  }

  /**
   * The constant-current term P20·((background + population stimulus) + neuron stimulus) of each
   * neuron, rounded exactly as the WGSL kernel rounds it. Stimuli change only between runs, so this
   * is computed at the start of a run, and only when a stimulus changed since the last one.
   */
  prepareDrive(): void {
    const version = Atomics.load(this.control, CONTROL.stimulusVersion);
    if (version === this.driveVersion) return;
    this.driveVersion = version;
    const { n, batch } = this.buffers;
    const p = this.pointer;
    for (let b = Math.floor(this.lo / n); b < batch && b * n < this.hi; b++) {
      this.wasm.prepareDrive(
        Math.max(this.lo, b * n),
        Math.min(this.hi, (b + 1) * n),
        b * n,
        p.population,
        p.backgroundPa,
        p.stimPopulation + 4 * b * this.populations,
        p.stimNeuron,
        p.p20,
        p.drive,
      );
    }
  }

  /** Runs one step: deliver spikes of step−1 to [lo, hi), update, record spikes of `step`. */
  step(step: number): void {
    const previous = (step + 1) & 1;
    const threads = this.buffers.threads;
    const p = this.pointer;
    for (let partition = 0; partition < threads; partition++) {
      const count = this.spikeCounts[spikeCountIndex(this.buffers, partition, previous)]!;
      if (count === 0) continue;
      const start = this.listStarts[partition * 2 + previous]!;
      if (this.rows) {
        this.wasm.deliverStored(
          p.spikeLists + 4 * start,
          count,
          this.buffers.n,
          this.buffers.nE,
          this.rows.targetsOffset,
          this.rows.targets instanceof Uint32Array ? 1 : 0,
          this.rows.segmentStartOffset,
          p.segmentWeights,
          p.accExc,
          p.accInh,
          this.lo,
        );
      } else {
        this.deliverProcedural(start, count);
      }
    }
    this.update(step & 1);
  }

  private update(parity: number): void {
    const { n, thresholdMv, resetMv, refractorySteps } = this.buffers;
    const p = this.pointer;
    let spikes = 0;
    // Per instance, the E then the I neurons of the partition: each type in one call, so that a
    // type whose propagators are all equal is updated with them held in registers.
    for (let run = 0; run < this.runs.length; run += 3) {
      const from = this.runs[run]!;
      const to = this.runs[run + 1]!;
      const b = Math.floor(from / n);
      const listOffset = this.listStarts[this.partition * 2 + parity]! + spikes;
      const countsOffset = this.partition * this.buffers.populationCountStride + b * this.populations;
      spikes += this.wasm.update(
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
        p.spikeLists + 4 * listOffset,
        thresholdMv[b]!,
        resetMv[b]!,
        refractorySteps[b]!,
        p.population,
        b * n,
        p.populationCounts + 4 * countsOffset,
        this.runs[run + 2]!,
      );
    }
    this.spikeCounts[spikeCountIndex(this.buffers, this.partition, parity)] = spikes;
  }

  /**
   * Regenerates each spiking neuron's synapses onto [lo, hi) from the hash: O(N) per spike, O(N)
   * memory. The kernel hashes four posts per SIMD step and adds the masked weight to four
   * accumulators at once (accumulateSegment).
   */
  private deliverProcedural(start: number, count: number): void {
    const { n, nE, instanceTable } = this.buffers;
    const p = this.pointer;
    const preKeys = view(this.buffers, 'preKey');
    const segmentWeights = view(this.buffers, 'segmentWeights');
    for (let k = start; k < start + count; k++) {
      const g = this.spikeLists[k]!;
      const b = (g / n) | 0;
      const base = b * n;
      const pre = g - base;
      const jlo = Math.max(this.lo, base) - base;
      const jhi = Math.min(this.hi, base + n) - base;
      if (jlo >= jhi) continue;
      const preIsInh = pre >= nE;
      const acc = (preIsInh ? p.accInh : p.accExc) + 4 * base;
      const preKey = preKeys[g]!;
      const segments = segmentsFor(this.buffers, clusterOf(this.buffers, pre), jlo, jhi);
      for (let s = 0; s < SEGMENTS; s++) {
        const segment = segments[s]!;
        if (segment.start >= segment.end) continue;
        const threshold = blockThreshold(instanceTable, b, segment.postIsInh, preIsInh);
        if (threshold === 0) continue;
        const weight = segmentWeights[(b * 2 + (preIsInh ? 1 : 0)) * SEGMENTS + s]!;
        this.wasm.accumulateSegment(
          preKey,
          p.postKey + 4 * base,
          segment.start,
          segment.end,
          threshold,
          pre,
          acc,
          weight,
        );
      }
    }
  }

  /**
   * Waits until every partition has finished this step. Each arrival is one atomic add on one word
   * (CONTROL.barrier counts arrivals, never reset: this barrier is complete at the next multiple of
   * `threads`); a thread that has waited `spinPolls` polls sleeps on the word, and the completing
   * thread pays for Atomics.notify only when someone sleeps.
   */
  barrier(): void {
    const control = this.control;
    const target = (this.barrierTarget + this.buffers.threads) | 0;
    this.barrierTarget = target;
    if (((Atomics.add(control, CONTROL.barrier, 1) + 1) | 0) === target) {
      if (Atomics.load(control, CONTROL.sleepers) !== 0) Atomics.notify(control, CONTROL.barrier);
      return;
    }
    // Wrapping comparison: passed once the word is at or beyond the target.
    for (let poll = this.spinPolls; poll > 0; poll--) {
      if (((Atomics.load(control, CONTROL.barrier) - target) | 0) >= 0) {
        this.sleepsInARow = 0;
        if (this.spinPolls < this.maxSpinPolls)
          this.spinPolls = nextSpinPolls(this.spinPolls, 0, this.maxSpinPolls);
        return;
      }
    }
    this.sleepsInARow++;
    this.spinPolls = nextSpinPolls(this.spinPolls, this.sleepsInARow, this.maxSpinPolls);
    // Counted as a sleeper before the last look at the word: a completion after that look sees the
    // count and notifies, and Atomics.wait returns at once if the word moved in between.
    Atomics.add(control, CONTROL.sleepers, 1);
    try {
      for (;;) {
        const arrivals = Atomics.load(control, CONTROL.barrier);
        if (((arrivals - target) | 0) >= 0) return;
        if (Atomics.load(control, CONTROL.failed) !== 0) throw new EngineError('a CPU engine worker failed');
        Atomics.wait(control, CONTROL.barrier, arrivals, 50);
      }
    } finally {
      Atomics.sub(control, CONTROL.sleepers, 1);
    }
  }
}
