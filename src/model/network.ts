/**
 * Everything an engine needs to simulate one network instance, derived from ModelParams:
 * layout (E clusters, then I clusters), block weights from the peak-PSP rule, cluster factors,
 * background currents, per-neuron propagators and initial voltages.
 */
import { type ModelParams, ParameterError, validateParams } from './params.js';
import {
  constantCurrentGain,
  currentDecay,
  membraneDecay,
  peakPsp,
  synapticCurrentGain,
} from './propagators.js';
import { counterUniform, Stream, streamKey } from './rng.js';

/** Synaptic input is summed as integers in units of 2^-16 pA, so any summation order gives the same bits. */
export const WEIGHT_FRACTION_BITS = 16;
export const WEIGHT_SCALE = 2 ** WEIGHT_FRACTION_BITS;

export interface Layout {
  n: number;
  nE: number;
  nI: number;
  clusters: number;
  nEPerCluster: number;
  nIPerCluster: number;
  /** 2·Q populations: E clusters 0..Q−1, then I clusters Q..2Q−1. */
  populationCount: number;
}

/** Values per block, named <post><pre> (ei: I → E). */
export interface Blocks {
  ee: number;
  ei: number;
  ie: number;
  ii: number;
}

export interface DerivedNetwork {
  params: ModelParams;
  layout: Layout;
  /** Base weights (pA) before cluster factors; inhibitory ones are negative. */
  baseWeightsPa: Blocks;
  /** J+ and J− factors per block. */
  clusterPlus: Blocks;
  clusterMinus: Blocks;
  /**
   * Fixed-point weights (units 2^-16 pA) indexed by weightIndex(postIsInh, preIsInh, sameCluster).
   */
  weightsFixed: Int32Array;
  /** Connection thresholds on 31-bit hashes, see rng.probabilityThreshold. */
  thresholds31: Blocks;
  /** Background current (pA) of E and I neurons. */
  backgroundEPa: number;
  backgroundIPa: number;
  refractorySteps: number;
}

export function layoutOf(params: ModelParams): Layout {
  return {
    n: params.nExcitatory + params.nInhibitory,
    nE: params.nExcitatory,
    nI: params.nInhibitory,
    clusters: params.clusters,
    nEPerCluster: params.nExcitatory / params.clusters,
    nIPerCluster: params.nInhibitory / params.clusters,
    populationCount: 2 * params.clusters,
  };
}

/** Population of neuron i: its E cluster (0..Q−1) or its I cluster (Q..2Q−1). */
export function populationOf(layout: Layout, i: number): number {
  if (i < layout.nE) return Math.floor(i / layout.nEPerCluster);
  return layout.clusters + Math.floor((i - layout.nE) / layout.nIPerCluster);
}

export function populationNames(layout: Layout): string[] {
  const names: string[] = [];
  for (let q = 0; q < layout.clusters; q++) names.push(`E${q}`);
  for (let q = 0; q < layout.clusters; q++) names.push(`I${q}`);
  return names;
}

/** Neurons per population, E clusters then I clusters (what rate decoders divide counts by). */
export function populationSizes(layout: Layout): Uint32Array {
  return Uint32Array.from({ length: layout.populationCount }, (_, p) =>
    p < layout.clusters ? layout.nEPerCluster : layout.nIPerCluster,
  );
}

/** First neuron and size of population `pop`. */
export function populationRange(layout: Layout, pop: number): { start: number; size: number } {
  if (pop < layout.clusters) return { start: pop * layout.nEPerCluster, size: layout.nEPerCluster };
  const q = pop - layout.clusters;
  return { start: layout.nE + q * layout.nIPerCluster, size: layout.nIPerCluster };
}

export function weightIndex(postIsInh: boolean, preIsInh: boolean, sameCluster: boolean): number {
  return (postIsInh ? 4 : 0) + (preIsInh ? 2 : 0) + (sameCluster ? 1 : 0);
}

export function synapseCount(params: ModelParams): number {
  const { nExcitatory: nE, nInhibitory: nI } = params;
  return (
    params.pEE * nE * (nE - 1) + params.pEI * nE * nI + params.pIE * nI * nE + params.pII * nI * (nI - 1)
  );
}

export function deriveNetwork(input: ModelParams): DerivedNetwork {
  const params = validateParams(input);
  const layout = layoutOf(params);
  const { nE, nI, clusters } = layout;
  const vSpan = params.thresholdMv - params.restingMv;
  const c = params.capacitancePf;
  const pspEE = peakPsp(params.tauMembraneEMs, params.tauSynExcMs, c).peakMv;
  const pspEI = peakPsp(params.tauMembraneEMs, params.tauSynInhMs, c).peakMv;
  const pspIE = peakPsp(params.tauMembraneIMs, params.tauSynExcMs, c).peakMv;
  const pspII = peakPsp(params.tauMembraneIMs, params.tauSynInhMs, c).peakMv;

  // sqrt(K) coincident excitatory inputs bring a neuron from rest to threshold; inhibition
  // balances the mean excitation scaled by g (the paper's code, calc_js).
  const kEE = params.pEE * nE;
  const kIE = params.pIE * nE;
  const ee = kEE > 0 ? vSpan / (Math.sqrt(kEE) * pspEE) : 0;
  const ie = kIE > 0 ? vSpan / (Math.sqrt(kIE) * pspIE) : 0;
  const ei = params.pEI * nI > 0 ? (-params.gE * ee * kEE * pspEE) / (params.pEI * nI * pspEI) : 0;
  const ii = params.pII * nI > 0 ? (-params.gI * ie * kIE * pspIE) / (params.pII * nI * pspII) : 0;
  const baseWeightsPa = { ee, ei, ie, ii };

  const jIPlus = 1 + (params.jEPlus - 1) * params.inhibitoryClusterRatio;
  const plus =
    clusters > 1 ? { ee: params.jEPlus, ei: jIPlus, ie: jIPlus, ii: jIPlus } : { ee: 1, ei: 1, ie: 1, ii: 1 };
  // J− keeps each row sum equal to that of the unclustered network.
  const minusOf = (jPlus: number) => (clusters > 1 ? (clusters - jPlus) / (clusters - 1) : 1);
  const minus = { ee: minusOf(plus.ee), ei: minusOf(plus.ei), ie: minusOf(plus.ie), ii: minusOf(plus.ii) };

  const weightsFixed = new Int32Array(8);
  const blockKey = (postIsInh: boolean, preIsInh: boolean): keyof Blocks =>
    `${postIsInh ? 'i' : 'e'}${preIsInh ? 'i' : 'e'}` as keyof Blocks;
  for (const postIsInh of [false, true]) {
    for (const preIsInh of [false, true]) {
      const key = blockKey(postIsInh, preIsInh);
      for (const same of [false, true]) {
        const weight = baseWeightsPa[key] * (same ? plus[key] : minus[key]);
        const fixed = Math.round(weight * WEIGHT_SCALE);
        if (Math.abs(fixed) >= 2 ** 31) {
          throw new ParameterError(
            'weights',
            `block ${key} weight ${weight} pA exceeds the fixed-point range`,
          );
        }
        weightsFixed[weightIndex(postIsInh, preIsInh, same)] = fixed;
      }
    }
  }

  return {
    params,
    layout,
    baseWeightsPa,
    clusterPlus: plus,
    clusterMinus: minus,
    weightsFixed,
    thresholds31: {
      ee: Math.round(params.pEE * 2 ** 31),
      ei: Math.round(params.pEI * 2 ** 31),
      ie: Math.round(params.pIE * 2 ** 31),
      ii: Math.round(params.pII * 2 ** 31),
    },
    backgroundEPa: (params.backgroundThresholdE * vSpan * c) / params.tauMembraneEMs,
    backgroundIPa: (params.backgroundThresholdI * vSpan * c) / params.tauMembraneIMs,
    refractorySteps: Math.round(params.refractoryMs / params.dtMs),
  };
}

/** Per-neuron float32 constants and initial state, identical for every backend. */
export interface NeuronArrays {
  /** exp(−h/tau_m) */
  p22: Float32Array;
  /** exp(−h/tau_syn,ex), exp(−h/tau_syn,in) */
  p11Exc: Float32Array;
  p11Inh: Float32Array;
  /** mV per pA of synaptic current over a step */
  p21Exc: Float32Array;
  p21Inh: Float32Array;
  /** mV per pA of constant current over a step */
  p20: Float32Array;
  /** Background current (pA) */
  backgroundPa: Float32Array;
  /** Initial membrane potential relative to E_L (mV) */
  v0Mv: Float32Array;
}

export function neuronArrays(derived: DerivedNetwork): NeuronArrays {
  const { params, layout } = derived;
  const n = layout.n;
  const arrays: NeuronArrays = {
    p22: new Float32Array(n),
    p11Exc: new Float32Array(n),
    p11Inh: new Float32Array(n),
    p21Exc: new Float32Array(n),
    p21Inh: new Float32Array(n),
    p20: new Float32Array(n),
    backgroundPa: new Float32Array(n),
    v0Mv: new Float32Array(n),
  };
  const h = params.dtMs;
  const c = params.capacitancePf;
  const vKey = streamKey(params.seed, Stream.initialVoltage);
  const tauKey = streamKey(params.seed, Stream.tauSyn);
  const vLow = params.initialVoltageLowMv - params.restingMv;
  const vSpan = params.initialVoltageHighMv - params.initialVoltageLowMv;
  for (let i = 0; i < n; i++) {
    const inhibitory = i >= layout.nE;
    const tauM = inhibitory ? params.tauMembraneIMs : params.tauMembraneEMs;
    const tauExc = drawTauSyn(params, params.tauSynExcMs, tauKey, 4 * i);
    const tauInh = drawTauSyn(params, params.tauSynInhMs, tauKey, 4 * i + 2);
    arrays.p22[i] = membraneDecay(h, tauM);
    arrays.p11Exc[i] = currentDecay(h, tauExc);
    arrays.p11Inh[i] = currentDecay(h, tauInh);
    arrays.p21Exc[i] = synapticCurrentGain(h, tauM, tauExc, c);
    arrays.p21Inh[i] = synapticCurrentGain(h, tauM, tauInh, c);
    arrays.p20[i] = constantCurrentGain(h, tauM, c);
    arrays.backgroundPa[i] = inhibitory ? derived.backgroundIPa : derived.backgroundEPa;
    arrays.v0Mv[i] = vLow + counterUniform(vKey, i) * vSpan;
  }
  return arrays;
}

/** One neuron's synaptic time constant under the configured distribution (two uniforms at index, index+1). */
function drawTauSyn(params: ModelParams, meanMs: number, key: number, index: number): number {
  const distribution = params.tauSynDistribution;
  if (distribution.kind === 'homogeneous') return meanMs;
  const u1 = counterUniform(key, index);
  if (distribution.kind === 'uniform') return meanMs * (1 + distribution.spreadFraction * (2 * u1 - 1));
  const u2 = counterUniform(key, index + 1);
  const sigma2 = Math.log(1 + distribution.cv ** 2);
  const z = Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
  return Math.exp(Math.log(meanMs) - sigma2 / 2 + Math.sqrt(sigma2) * z);
}

/** Batch instances must share the layout and time step so they can run in one simulation. */
export function checkBatchCompatible(networks: readonly DerivedNetwork[]): void {
  if (networks.length === 0) throw new ParameterError('batch', 'at least one instance is required');
  const first = networks[0]!;
  for (const [b, other] of networks.entries()) {
    for (const key of ['n', 'nE', 'nI', 'clusters'] as const) {
      if (other.layout[key] !== first.layout[key]) {
        throw new ParameterError(
          `batch[${b}].${key}`,
          `all instances must share ${key} (${first.layout[key]})`,
        );
      }
    }
    if (other.params.dtMs !== first.params.dtMs) {
      throw new ParameterError(`batch[${b}].dtMs`, 'all instances must share dt');
    }
  }
}
