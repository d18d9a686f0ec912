/**
 * Host-side packing of a batch of networks into the byte layouts of kernels/step.wgsl: per-neuron
 * constants and hash keys, per-instance weights/thresholds, and the initial state. Everything here
 * is O(B·N) and computed with the same functions as the CPU backend (neuronArrays, counterU32).
 */
import { type DerivedNetwork, neuronArrays, populationOf } from '../../model/network.js';
import { counterU32, Stream, streamKey } from '../../model/rng.js';

/** struct Neuron: 7 f32 constants, population, postKey. */
export const NEURON_BYTES = 36;
const NEURON_WORDS = NEURON_BYTES / 4;
/** struct State: vMv, iExcPa, iInhPa (f32), refractorySteps (u32). */
export const STATE_BYTES = 16;
/** struct Instance: 8 weights, 4 thresholds, vTh, vReset, refractorySteps, preStream. */
export const INSTANCE_BYTES = 64;
/** A spike list entry: the neuron's index within its type (u32). */
export const SPIKE_ENTRY_BYTES = 4;

export interface PackedBatch {
  neurons: ArrayBuffer;
  instances: ArrayBuffer;
  /** Initial State array (V = v0, currents 0, not refractory); also what reset() uploads. */
  initialStates: ArrayBuffer;
  /** Smallest refractory period of the batch (steps): bounds spikes per neuron per substeps. */
  minRefractorySteps: number;
}

export function packBatch(networks: readonly DerivedNetwork[]): PackedBatch {
  const { layout } = networks[0]!;
  const n = layout.n;
  const batch = networks.length;
  const neurons = new ArrayBuffer(NEURON_BYTES * batch * n);
  const neuronF32 = new Float32Array(neurons);
  const neuronU32 = new Uint32Array(neurons);
  const instances = new ArrayBuffer(INSTANCE_BYTES * batch);
  const instanceI32 = new Int32Array(instances);
  const instanceU32 = new Uint32Array(instances);
  const instanceF32 = new Float32Array(instances);
  const initialStates = new ArrayBuffer(STATE_BYTES * batch * n);
  const stateF32 = new Float32Array(initialStates);
  const population = new Uint32Array(n);
  for (let i = 0; i < n; i++) population[i] = populationOf(layout, i);
  let minRefractorySteps = Number.POSITIVE_INFINITY;

  for (const [b, network] of networks.entries()) {
    const arrays = neuronArrays(network);
    const preStream = streamKey(network.params.seed, Stream.connectivityPre);
    const postStream = streamKey(network.params.seed, Stream.connectivityPost);
    for (let i = 0; i < n; i++) {
      const word = (b * n + i) * NEURON_WORDS;
      neuronF32[word] = arrays.p22[i]!;
      neuronF32[word + 1] = arrays.p11Exc[i]!;
      neuronF32[word + 2] = arrays.p11Inh[i]!;
      neuronF32[word + 3] = arrays.p21Exc[i]!;
      neuronF32[word + 4] = arrays.p21Inh[i]!;
      neuronF32[word + 5] = arrays.p20[i]!;
      neuronF32[word + 6] = arrays.backgroundPa[i]!;
      neuronU32[word + 7] = population[i]!;
      neuronU32[word + 8] = counterU32(postStream, i);
      stateF32[(b * n + i) * 4] = arrays.v0Mv[i]!;
    }
    const word = (b * INSTANCE_BYTES) / 4;
    instanceI32.set(network.weightsFixed, word);
    const { ee, ei, ie, ii } = network.thresholds31;
    // Index postIsInh·2 + preIsInh; names are <post><pre>.
    instanceU32.set([ee, ei, ie, ii], word + 8);
    instanceF32[word + 12] = Math.fround(network.params.thresholdMv - network.params.restingMv);
    instanceF32[word + 13] = Math.fround(network.params.resetMv - network.params.restingMv);
    instanceU32[word + 14] = network.refractorySteps;
    instanceU32[word + 15] = preStream;
    minRefractorySteps = Math.min(minRefractorySteps, network.refractorySteps);
  }
  return { neurons, instances, initialStates, minRefractorySteps };
}
