/**
 * The CPU backend's state, in SharedArrayBuffers so that worker threads step their own slice of
 * neurons in place. Arrays cover all B·N neurons of the batch (instance b at offset b·N).
 */
import {
  type DerivedNetwork,
  type NeuronArrays,
  neuronArrays,
  populationOf,
  WEIGHT_FRACTION_BITS,
} from '../../model/network.js';
import { counterU32, Stream, streamKey } from '../../model/rng.js';

export interface SharedBuffers {
  batch: number;
  n: number;
  threads: number;
  /** Neuron constants (read-only after build). */
  p22: SharedArrayBuffer;
  p11Exc: SharedArrayBuffer;
  p11Inh: SharedArrayBuffer;
  p21Exc: SharedArrayBuffer;
  p21Inh: SharedArrayBuffer;
  p20: SharedArrayBuffer;
  backgroundPa: SharedArrayBuffer;
  v0Mv: SharedArrayBuffer;
  /** Population index of each neuron within its instance (Uint16). */
  population: SharedArrayBuffer;
  /** Per-neuron connectivity hash keys: as presynaptic and as postsynaptic partner (Uint32). */
  preKey: SharedArrayBuffer;
  postKey: SharedArrayBuffer;
  /** Dynamic state. */
  vMv: SharedArrayBuffer;
  iExcPa: SharedArrayBuffer;
  iInhPa: SharedArrayBuffer;
  refractory: SharedArrayBuffer;
  /** Fixed-point synaptic input gathered for the next step (Int32, units 2^-16 pA). */
  accExc: SharedArrayBuffer;
  accInh: SharedArrayBuffer;
  /** Stimulus: per population (B·2Q floats) and per neuron (B·N floats). */
  stimPopulation: SharedArrayBuffer;
  stimNeuron: SharedArrayBuffer;
  /** P20·(background + stimulus) per neuron (mV per step), recomputed at the start of every run. */
  drive: SharedArrayBuffer;
  /** Spike lists, two parities × B·N slots; partition p writes from its first neuron. */
  spikeLists: SharedArrayBuffer;
  /** Spike list lengths: [parity·threads + partition]. */
  spikeCounts: SharedArrayBuffer;
  /** Population spike counts per partition: [partition·B·2Q + instance·2Q + pop] (Uint32). */
  populationCounts: SharedArrayBuffer;
  /** Control block for the step barrier (Int32), see kernel.ts. */
  control: SharedArrayBuffer;
  /** Per instance: 8 fixed-point weights, 4 thresholds, then scalars (Float64 for simplicity). */
  instanceTable: Float64Array;
  thresholdMv: Float64Array;
  resetMv: Float64Array;
  refractorySteps: Int32Array;
  nE: number;
  clusters: number;
  nEPerCluster: number;
  nIPerCluster: number;
}

export const INSTANCE_TABLE_STRIDE = 12;
export const CONTROL = {
  command: 0,
  substeps: 1,
  arrived: 2,
  generation: 3,
  failed: 4,
  startStep: 5,
  shutdown: 6,
  length: 8,
} as const;

export function partitionRange(total: number, threads: number, p: number): { lo: number; hi: number } {
  const lo = Math.floor((total * p) / threads);
  const hi = Math.floor((total * (p + 1)) / threads);
  return { lo, hi };
}

const shared = (bytes: number) => new SharedArrayBuffer(Math.max(8, bytes));

export function allocateSharedState(networks: readonly DerivedNetwork[], threads: number): SharedBuffers {
  const first = networks[0]!;
  const { layout } = first;
  const batch = networks.length;
  const total = batch * layout.n;
  const populations = batch * layout.populationCount;
  const buffers: SharedBuffers = {
    batch,
    n: layout.n,
    threads,
    p22: shared(4 * total),
    p11Exc: shared(4 * total),
    p11Inh: shared(4 * total),
    p21Exc: shared(4 * total),
    p21Inh: shared(4 * total),
    p20: shared(4 * total),
    backgroundPa: shared(4 * total),
    v0Mv: shared(4 * total),
    population: shared(2 * layout.n),
    preKey: shared(4 * total),
    postKey: shared(4 * total),
    vMv: shared(4 * total),
    iExcPa: shared(4 * total),
    iInhPa: shared(4 * total),
    refractory: shared(4 * total),
    accExc: shared(4 * total),
    accInh: shared(4 * total),
    stimPopulation: shared(4 * populations),
    stimNeuron: shared(4 * total),
    drive: shared(4 * total),
    spikeLists: shared(4 * 2 * total),
    spikeCounts: shared(4 * 2 * threads),
    populationCounts: shared(4 * threads * populations),
    control: shared(4 * CONTROL.length),
    instanceTable: new Float64Array(INSTANCE_TABLE_STRIDE * batch),
    thresholdMv: new Float64Array(batch),
    resetMv: new Float64Array(batch),
    refractorySteps: new Int32Array(batch),
    nE: layout.nE,
    clusters: layout.clusters,
    nEPerCluster: layout.nEPerCluster,
    nIPerCluster: layout.nIPerCluster,
  };
  const population = new Uint16Array(buffers.population);
  for (let i = 0; i < layout.n; i++) population[i] = populationOf(layout, i);
  for (const [b, network] of networks.entries()) {
    const arrays = neuronArrays(network);
    const offset = b * layout.n;
    for (const key of [
      'p22',
      'p11Exc',
      'p11Inh',
      'p21Exc',
      'p21Inh',
      'p20',
      'backgroundPa',
      'v0Mv',
    ] as const) {
      new Float32Array(buffers[key]).set(arrays[key satisfies keyof NeuronArrays], offset);
    }
    const preKeys = new Uint32Array(buffers.preKey);
    const postKeys = new Uint32Array(buffers.postKey);
    const preStream = streamKey(network.params.seed, Stream.connectivityPre);
    const postStream = streamKey(network.params.seed, Stream.connectivityPost);
    for (let i = 0; i < layout.n; i++) {
      preKeys[offset + i] = counterU32(preStream, i);
      postKeys[offset + i] = counterU32(postStream, i);
    }
    const table = buffers.instanceTable;
    const base = b * INSTANCE_TABLE_STRIDE;
    for (let k = 0; k < 8; k++) table[base + k] = network.weightsFixed[k]!;
    table[base + 8] = network.thresholds31.ee;
    table[base + 9] = network.thresholds31.ei;
    table[base + 10] = network.thresholds31.ie;
    table[base + 11] = network.thresholds31.ii;
    buffers.thresholdMv[b] = Math.fround(network.params.thresholdMv - network.params.restingMv);
    buffers.resetMv[b] = Math.fround(network.params.resetMv - network.params.restingMv);
    buffers.refractorySteps[b] = network.refractorySteps;
  }
  resetDynamicState(buffers);
  return buffers;
}

/** Initial voltages, zero currents, no refractoriness, no pending input or spikes. */
export function resetDynamicState(buffers: SharedBuffers): void {
  new Float32Array(buffers.vMv).set(new Float32Array(buffers.v0Mv));
  for (const key of [
    'iExcPa',
    'iInhPa',
    'refractory',
    'accExc',
    'accInh',
    'spikeCounts',
    'populationCounts',
  ] as const) {
    new Int32Array(buffers[key]).fill(0);
  }
}

export const FIXED_POINT_FRACTION = 2 ** -WEIGHT_FRACTION_BITS;
