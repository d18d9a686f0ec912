/**
 * One CPU partition's time step, run by the main thread or a worker on neurons [lo, hi):
 *   1. deliver the previous step's spikes (delay = one step) as fixed-point input,
 *   2. update the neurons with the exact propagators of iaf_psc_exp in float32 arithmetic,
 *   3. append this step's spikes to the partition's list.
 * Every float operation is rounded to float32 (Math.fround) in the same order as the WGSL kernel,
 * so both backends produce identical bits.
 */
import { mix32 } from '../../model/rng.js';
import {
  blockThreshold,
  blockWeight,
  buildStoredRows,
  clusterOf,
  SEGMENTS,
  type StoredRows,
  segmentsFor,
} from './connectivity.js';
import { CONTROL, FIXED_POINT_FRACTION, partitionRange, type SharedBuffers } from './shared-state.js';

const f32 = Math.fround;

export class PartitionKernel {
  readonly lo: number;
  readonly hi: number;
  private readonly total: number;
  private readonly rows: StoredRows | null;
  private readonly populations: number;
  private readonly p22: Float32Array;
  private readonly p11Exc: Float32Array;
  private readonly p11Inh: Float32Array;
  private readonly p21Exc: Float32Array;
  private readonly p21Inh: Float32Array;
  private readonly p20: Float32Array;
  private readonly backgroundPa: Float32Array;
  private readonly population: Uint16Array;
  private readonly preKeys: Uint32Array;
  private readonly postKeys: Uint32Array;
  private readonly vMv: Float32Array;
  private readonly iExcPa: Float32Array;
  private readonly iInhPa: Float32Array;
  private readonly refractory: Int32Array;
  private readonly accExc: Int32Array;
  private readonly accInh: Int32Array;
  private readonly stimPopulation: Float32Array;
  private readonly stimNeuron: Float32Array;
  private readonly drive: Float32Array;
  private readonly spikeLists: Uint32Array;
  private readonly spikeCounts: Int32Array;
  private readonly populationCounts: Uint32Array;
  private readonly control: Int32Array;
  /** Per-instance fixed-point weights per segment, precomputed: [instance][preIsInh][segment]. */
  private readonly segmentWeights: Int32Array;

  constructor(
    private readonly buffers: SharedBuffers,
    readonly partition: number,
    stored: boolean,
  ) {
    this.total = buffers.batch * buffers.n;
    ({ lo: this.lo, hi: this.hi } = partitionRange(this.total, buffers.threads, partition));
    this.populations = 2 * buffers.clusters;
    this.p22 = new Float32Array(buffers.p22);
    this.p11Exc = new Float32Array(buffers.p11Exc);
    this.p11Inh = new Float32Array(buffers.p11Inh);
    this.p21Exc = new Float32Array(buffers.p21Exc);
    this.p21Inh = new Float32Array(buffers.p21Inh);
    this.p20 = new Float32Array(buffers.p20);
    this.backgroundPa = new Float32Array(buffers.backgroundPa);
    this.population = new Uint16Array(buffers.population);
    this.preKeys = new Uint32Array(buffers.preKey);
    this.postKeys = new Uint32Array(buffers.postKey);
    this.vMv = new Float32Array(buffers.vMv);
    this.iExcPa = new Float32Array(buffers.iExcPa);
    this.iInhPa = new Float32Array(buffers.iInhPa);
    this.refractory = new Int32Array(buffers.refractory);
    this.accExc = new Int32Array(buffers.accExc);
    this.accInh = new Int32Array(buffers.accInh);
    this.stimPopulation = new Float32Array(buffers.stimPopulation);
    this.stimNeuron = new Float32Array(buffers.stimNeuron);
    this.drive = new Float32Array(buffers.drive);
    this.spikeLists = new Uint32Array(buffers.spikeLists);
    this.spikeCounts = new Int32Array(buffers.spikeCounts);
    this.populationCounts = new Uint32Array(buffers.populationCounts);
    this.control = new Int32Array(buffers.control);
    this.segmentWeights = new Int32Array(buffers.batch * 2 * SEGMENTS);
    for (let b = 0; b < buffers.batch; b++) {
      for (const preIsInh of [false, true]) {
        for (let s = 0; s < SEGMENTS; s++) {
          const weight = blockWeight(buffers.instanceTable, b, s >= 3, preIsInh, s % 3 === 1);
          this.segmentWeights[(b * 2 + (preIsInh ? 1 : 0)) * SEGMENTS + s] = weight;
        }
      }
    }
    this.rows = stored ? buildStoredRows(buffers, buffers.instanceTable, this.lo, this.hi) : null;
  }

  get synapses(): number {
    return this.rows?.synapses ?? 0;
  }

  get rowBytes(): number {
    return this.rows ? this.rows.targets.byteLength + this.rows.segmentStart.byteLength : 0;
  }

  /**
   * The constant-current term P20·((background + population stimulus) + neuron stimulus) of each
   * neuron, rounded exactly as the WGSL kernel rounds it. Stimuli change only between runs, so this
   * is computed once per run instead of once per step.
   */
  prepareDrive(): void {
    const { n } = this.buffers;
    for (let g = this.lo; g < this.hi; g++) {
      const b = (g / n) | 0;
      const pop = this.population[g - b * n]!;
      const external = f32(
        f32(this.backgroundPa[g]! + this.stimPopulation[b * this.populations + pop]!) + this.stimNeuron[g]!,
      );
      this.drive[g] = f32(this.p20[g]! * external);
    }
  }

  /** Runs one step: deliver spikes of step−1 to [lo, hi), update, record spikes of `step`. */
  step(step: number): void {
    const previous = (step + 1) & 1;
    const threads = this.buffers.threads;
    for (let p = 0; p < threads; p++) {
      const count = this.spikeCounts[previous * threads + p]!;
      if (count === 0) continue;
      const start = previous * this.total + partitionRange(this.total, threads, p).lo;
      if (this.rows) this.deliverStored(start, count);
      else this.deliverProcedural(start, count);
    }
    this.update(step & 1);
  }

  private deliverStored(start: number, count: number): void {
    const { targets, segmentStart } = this.rows!;
    const { n, nE } = this.buffers;
    const lo = this.lo;
    for (let k = start; k < start + count; k++) {
      const g = this.spikeLists[k]!;
      const b = (g / n) | 0;
      const preIsInh = g - b * n >= nE;
      const acc = preIsInh ? this.accInh : this.accExc;
      const weightBase = (b * 2 + (preIsInh ? 1 : 0)) * SEGMENTS;
      const rowBase = g * SEGMENTS;
      for (let s = 0; s < SEGMENTS; s++) {
        const end = segmentStart[rowBase + s + 1]!;
        const weight = this.segmentWeights[weightBase + s]!;
        for (let t = segmentStart[rowBase + s]!; t < end; t++) acc[lo + targets[t]!] += weight;
      }
    }
  }

  private deliverProcedural(start: number, count: number): void {
    const { n, nE, instanceTable } = this.buffers;
    for (let k = start; k < start + count; k++) {
      const g = this.spikeLists[k]!;
      const b = (g / n) | 0;
      const base = b * n;
      const pre = g - base;
      const jlo = Math.max(this.lo, base) - base;
      const jhi = Math.min(this.hi, base + n) - base;
      if (jlo >= jhi) continue;
      const preIsInh = pre >= nE;
      const acc = preIsInh ? this.accInh : this.accExc;
      const preKey = this.preKeys[g]!;
      const segments = segmentsFor(this.buffers, clusterOf(this.buffers, pre), jlo, jhi);
      for (let s = 0; s < SEGMENTS; s++) {
        const segment = segments[s]!;
        const threshold = blockThreshold(instanceTable, b, segment.postIsInh, preIsInh);
        const weight = this.segmentWeights[(b * 2 + (preIsInh ? 1 : 0)) * SEGMENTS + s]!;
        for (let j = segment.start + base; j < segment.end + base; j++) {
          if (mix32(preKey ^ this.postKeys[j]!) >>> 1 < threshold && j !== g) acc[j] += weight;
        }
      }
    }
  }

  private update(parity: number): void {
    const { n, batch, thresholdMv, resetMv, refractorySteps } = this.buffers;
    // Locals, not fields: V8 keeps them in registers across the hot loop.
    const accExcs = this.accExc;
    const accInhs = this.accInh;
    const vs = this.vMv;
    const iExcs = this.iExcPa;
    const iInhs = this.iInhPa;
    const refractory = this.refractory;
    const p22 = this.p22;
    const p11Exc = this.p11Exc;
    const p11Inh = this.p11Inh;
    const p21Exc = this.p21Exc;
    const p21Inh = this.p21Inh;
    const drive = this.drive;
    const population = this.population;
    const spikeList = this.spikeLists;
    const populationCounts = this.populationCounts;
    const listStart = parity * this.total + this.lo;
    const countBase = this.partition * batch * this.populations;
    let spikes = 0;
    for (let b = Math.floor(this.lo / n); b < batch && b * n < this.hi; b++) {
      const from = Math.max(this.lo, b * n);
      const to = Math.min(this.hi, (b + 1) * n);
      const vTh = thresholdMv[b]!;
      const vReset = resetMv[b]!;
      const tRef = refractorySteps[b]!;
      const popBase = b * this.populations;
      const instanceBase = b * n;
      for (let g = from; g < to; g++) {
        const accExc = accExcs[g]!;
        const accInh = accInhs[g]!;
        accExcs[g] = 0;
        accInhs[g] = 0;
        // Fixed-point input split into integer and fractional parts: both exact in float32, one rounding.
        const inExc = f32((accExc >> 16) + (accExc & 0xffff) * FIXED_POINT_FRACTION);
        const inInh = f32((accInh >> 16) + (accInh & 0xffff) * FIXED_POINT_FRACTION);
        let v = vs[g]!;
        const iExc = iExcs[g]!;
        const iInh = iInhs[g]!;
        const r = refractory[g]!;
        if (r === 0) {
          v = f32(f32(f32(f32(p22[g]! * v) + f32(p21Exc[g]! * iExc)) + f32(p21Inh[g]! * iInh)) + drive[g]!);
        } else {
          refractory[g] = r - 1;
        }
        iExcs[g] = f32(p11Exc[g]! * iExc) + inExc;
        iInhs[g] = f32(p11Inh[g]! * iInh) + inInh;
        if (v >= vTh) {
          v = vReset;
          refractory[g] = tRef;
          spikeList[listStart + spikes++] = g;
          populationCounts[countBase + popBase + population[g - instanceBase]!]!++;
        }
        vs[g] = v;
      }
    }
    this.spikeCounts[parity * this.buffers.threads + this.partition] = spikes;
  }

  /** Sense-reversing barrier over all partitions: spin briefly, then sleep on the generation word. */
  barrier(): void {
    const control = this.control;
    const generation = Atomics.load(control, CONTROL.generation);
    if (Atomics.add(control, CONTROL.arrived, 1) === this.buffers.threads - 1) {
      Atomics.store(control, CONTROL.arrived, 0);
      Atomics.add(control, CONTROL.generation, 1);
      Atomics.notify(control, CONTROL.generation);
      return;
    }
    for (let spin = 0; spin < 20_000; spin++) {
      if (Atomics.load(control, CONTROL.generation) !== generation) return;
    }
    while (Atomics.load(control, CONTROL.generation) === generation) {
      if (Atomics.load(control, CONTROL.failed) !== 0) throw new Error('a CPU engine worker failed');
      Atomics.wait(control, CONTROL.generation, generation, 50);
    }
  }
}
