/**
 * Parameters of the E/I-clustered attractor network of Schmitt, Rostami & Nawrot (2023).
 * Defaults follow the paper's code; units are in the names (ms, mV, pF, pA).
 *
 * Connection probabilities and weights are named <post><pre>: `pEI` is the probability of a
 * synapse from an inhibitory to an excitatory neuron (the convention of the paper's code).
 */

import { notFinite, notPositive } from '../config/checks.js';

export type TauSynDistribution =
  | { kind: 'homogeneous' }
  /** Each neuron's tau is drawn uniformly from tau·[1 − spread, 1 + spread]. */
  | { kind: 'uniform'; spreadFraction: number }
  /** Each neuron's tau is log-normal with the given mean (the homogeneous tau) and coefficient of variation. */
  | { kind: 'lognormal'; cv: number };

export interface ModelParams {
  nExcitatory: number;
  nInhibitory: number;
  /** Q: number of clusters; each has an E and an I part. Q = 1 is the random balanced network. */
  clusters: number;
  pEE: number;
  pEI: number;
  pIE: number;
  pII: number;
  /** J_E+: weight factor of E→E synapses inside a cluster. */
  jEPlus: number;
  /** J_I+ = 1 + (J_E+ − 1)·ratio for the E→I, I→E and I→I blocks. */
  inhibitoryClusterRatio: number;
  /** Inhibition onto E relative to the excitation that balances it. */
  gE: number;
  /** Inhibition onto I relative to the excitation that balances it. */
  gI: number;
  tauMembraneEMs: number;
  tauMembraneIMs: number;
  capacitancePf: number;
  restingMv: number;
  thresholdMv: number;
  resetMv: number;
  refractoryMs: number;
  tauSynExcMs: number;
  tauSynInhMs: number;
  tauSynDistribution: TauSynDistribution;
  /** Background current of E neurons in units of the rheobase current (V_th − E_L)·C_m/tau_m. */
  backgroundThresholdE: number;
  backgroundThresholdI: number;
  /** Initial membrane potentials are uniform in [low, high). */
  initialVoltageLowMv: number;
  initialVoltageHighMv: number;
  dtMs: number;
  /** Synaptic delay; the engines support exactly one time step. */
  delayMs: number;
  seed: number;
}

export const DEFAULT_PARAMS: Readonly<ModelParams> = Object.freeze({
  nExcitatory: 4000,
  nInhibitory: 1000,
  clusters: 20,
  pEE: 0.2,
  pEI: 0.5,
  pIE: 0.5,
  pII: 0.5,
  jEPlus: 10,
  inhibitoryClusterRatio: 0.75,
  gE: 1.2,
  gI: 1.0,
  tauMembraneEMs: 20,
  tauMembraneIMs: 10,
  capacitancePf: 1,
  restingMv: 0,
  thresholdMv: 20,
  resetMv: 0,
  refractoryMs: 5,
  tauSynExcMs: 3,
  tauSynInhMs: 2,
  tauSynDistribution: { kind: 'homogeneous' } as TauSynDistribution,
  backgroundThresholdE: 2.13,
  backgroundThresholdI: 1.24,
  initialVoltageLowMv: 0,
  initialVoltageHighMv: 20,
  dtMs: 0.1,
  delayMs: 0.1,
  seed: 1,
});

export type ModelName = 'ei-clustered' | 'balanced';
export const MODEL_NAMES: readonly ModelName[] = ['ei-clustered', 'balanced'];

export class ParameterError extends Error {
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(`invalid parameter ${parameter}: ${message}`);
    this.name = 'ParameterError';
  }
}

/**
 * Parameters of a named model with N neurons split 4:1 into E and I.
 * `balanced` is the same network with one cluster.
 */
export function modelParams(model: ModelName, n: number, overrides: Partial<ModelParams> = {}): ModelParams {
  if (!MODEL_NAMES.includes(model)) {
    throw new ParameterError('model', `unknown model "${model}"; expected one of ${MODEL_NAMES.join(', ')}`);
  }
  if (!Number.isInteger(n) || n < 5) throw new ParameterError('n', `must be an integer ≥ 5, got ${n}`);
  const nExcitatory = Math.round(n * 0.8);
  const base: ModelParams = {
    ...DEFAULT_PARAMS,
    nExcitatory,
    nInhibitory: n - nExcitatory,
    clusters: model === 'balanced' ? 1 : DEFAULT_PARAMS.clusters,
  };
  const params = { ...base, ...overrides };
  // N_E : N_I = 4 : 1 and both split evenly over Q clusters: N a multiple of 5·Q always works. Said in
  // terms of N (what the user typed) before validateParams words it as N_E and N_I.
  const unit = 5 * params.clusters;
  const splits = params.nExcitatory % params.clusters === 0 && params.nInhibitory % params.clusters === 0;
  if (overrides.nExcitatory === undefined && overrides.nInhibitory === undefined && !splits) {
    const below = Math.max(unit, Math.floor(n / unit) * unit);
    throw new ParameterError(
      'n',
      `N = ${n} does not split into N_E : N_I = 4 : 1 over Q = ${params.clusters} clusters: N must be a multiple of 5·Q = ${unit} (e.g. ${below} or ${below + unit})`,
    );
  }
  return validateParams(params);
}

function requireFinite(params: ModelParams, key: keyof ModelParams): number {
  const problem = notFinite(params[key]);
  if (problem !== undefined) throw new ParameterError(key, problem);
  return params[key] as number;
}

function requirePositive(params: ModelParams, key: keyof ModelParams): number {
  const problem = notPositive(params[key]);
  if (problem !== undefined) throw new ParameterError(key, problem);
  return params[key] as number;
}

/** Checks every parameter and returns them unchanged; throws a ParameterError naming the first bad one. */
export function validateParams(params: ModelParams): ModelParams {
  const known = new Set(Object.keys(DEFAULT_PARAMS));
  for (const key of Object.keys(params)) {
    if (!known.has(key)) throw new ParameterError(key, 'unknown parameter');
  }
  for (const key of ['nExcitatory', 'nInhibitory', 'clusters'] as const) {
    const value = requireFinite(params, key);
    if (!Number.isInteger(value) || value < 0) {
      throw new ParameterError(key, `must be a non-negative integer, got ${value}`);
    }
  }
  if (params.nExcitatory < 1) throw new ParameterError('nExcitatory', 'must be ≥ 1');
  if (params.clusters < 1) throw new ParameterError('clusters', `must be ≥ 1, got ${params.clusters}`);
  if (params.nExcitatory % params.clusters !== 0) {
    throw new ParameterError(
      'nExcitatory',
      `N_E = ${params.nExcitatory} is not divisible by the number of clusters Q = ${params.clusters}`,
    );
  }
  if (params.nInhibitory % params.clusters !== 0) {
    throw new ParameterError(
      'nInhibitory',
      `N_I = ${params.nInhibitory} is not divisible by the number of clusters Q = ${params.clusters}`,
    );
  }
  if (params.nExcitatory + params.nInhibitory > 2 ** 24) {
    throw new ParameterError('nExcitatory', 'N_E + N_I must be ≤ 16,777,216');
  }
  for (const key of ['pEE', 'pEI', 'pIE', 'pII'] as const) {
    const p = requireFinite(params, key);
    if (p < 0 || p > 1) throw new ParameterError(key, `probability must be in [0, 1], got ${p}`);
  }
  const jEPlus = requireFinite(params, 'jEPlus');
  if (jEPlus < 1) throw new ParameterError('jEPlus', `must be ≥ 1, got ${jEPlus}`);
  if (params.clusters > 1 && jEPlus > params.clusters) {
    throw new ParameterError('jEPlus', `must be ≤ Q = ${params.clusters} so that J− ≥ 0, got ${jEPlus}`);
  }
  const ratio = requireFinite(params, 'inhibitoryClusterRatio');
  if (ratio < 0 || ratio > 1)
    throw new ParameterError('inhibitoryClusterRatio', `must be in [0, 1], got ${ratio}`);
  for (const key of ['gE', 'gI', 'backgroundThresholdE', 'backgroundThresholdI'] as const) {
    if (requireFinite(params, key) < 0) throw new ParameterError(key, `must be ≥ 0, got ${params[key]}`);
  }
  for (const key of [
    'tauMembraneEMs',
    'tauMembraneIMs',
    'capacitancePf',
    'tauSynExcMs',
    'tauSynInhMs',
    'dtMs',
    'delayMs',
  ] as const) {
    requirePositive(params, key);
  }
  for (const key of [
    'restingMv',
    'thresholdMv',
    'resetMv',
    'initialVoltageLowMv',
    'initialVoltageHighMv',
  ] as const) {
    requireFinite(params, key);
  }
  if (params.thresholdMv <= params.resetMv) {
    throw new ParameterError(
      'thresholdMv',
      `V_th = ${params.thresholdMv} must be above V_reset = ${params.resetMv}`,
    );
  }
  if (params.thresholdMv <= params.restingMv) {
    throw new ParameterError(
      'thresholdMv',
      `V_th = ${params.thresholdMv} must be above E_L = ${params.restingMv}`,
    );
  }
  if (params.initialVoltageHighMv < params.initialVoltageLowMv) {
    throw new ParameterError('initialVoltageHighMv', 'must be ≥ initialVoltageLowMv');
  }
  const refractoryMs = requireFinite(params, 'refractoryMs');
  if (refractoryMs < 0) throw new ParameterError('refractoryMs', `must be ≥ 0, got ${refractoryMs}`);
  if (!isMultiple(refractoryMs, params.dtMs)) {
    throw new ParameterError(
      'refractoryMs',
      `t_ref = ${refractoryMs} ms is not a multiple of dt = ${params.dtMs} ms`,
    );
  }
  if (Math.abs(params.delayMs - params.dtMs) > 1e-9) {
    throw new ParameterError(
      'delayMs',
      `only a delay of one time step (${params.dtMs} ms) is supported, got ${params.delayMs}`,
    );
  }
  const seed = requireFinite(params, 'seed');
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new ParameterError('seed', `must be an integer in [0, 2^32), got ${seed}`);
  }
  validateTauSynDistribution(params.tauSynDistribution);
  return params;
}

function validateTauSynDistribution(distribution: TauSynDistribution): void {
  switch (distribution?.kind) {
    case 'homogeneous':
      return;
    case 'uniform':
      if (
        !Number.isFinite(distribution.spreadFraction) ||
        distribution.spreadFraction < 0 ||
        distribution.spreadFraction >= 1
      ) {
        throw new ParameterError('tauSynDistribution.spreadFraction', 'must be in [0, 1)');
      }
      return;
    case 'lognormal':
      if (!Number.isFinite(distribution.cv) || distribution.cv < 0) {
        throw new ParameterError('tauSynDistribution.cv', 'must be a finite number ≥ 0');
      }
      return;
    default:
      throw new ParameterError(
        'tauSynDistribution',
        `unknown kind ${JSON.stringify((distribution as { kind?: unknown })?.kind)}; expected homogeneous, uniform or lognormal`,
      );
  }
}

/** Whether `value` is an integer multiple of `step` (to a relative tolerance of 1e-9). */
export function isMultiple(value: number, step: number): boolean {
  const ratio = value / step;
  return Math.abs(ratio - Math.round(ratio)) < 1e-9 * Math.max(1, Math.abs(ratio));
}

/** Checks that the tick holds a whole number of time steps; returns the number of substeps per tick. */
export function substepsPerTick(tickMs: number, dtMs: number): number {
  if (!Number.isFinite(tickMs) || tickMs <= 0)
    throw new ParameterError('tickMs', `must be > 0, got ${tickMs}`);
  if (!isMultiple(tickMs, dtMs)) {
    throw new ParameterError('tickMs', `dt = ${dtMs} ms does not divide the tick of ${tickMs} ms`);
  }
  return Math.round(tickMs / dtMs);
}
