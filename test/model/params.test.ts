import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PARAMS,
  type ModelParams,
  modelParams,
  ParameterError,
  substepsPerTick,
  validateParams,
} from '../../src/model/params.js';

const valid = (): ModelParams => ({ ...DEFAULT_PARAMS });

describe('parameter validation', () => {
  it('accepts the defaults and the named models', () => {
    expect(validateParams(valid())).toEqual(DEFAULT_PARAMS);
    expect(modelParams('ei-clustered', 5000)).toMatchObject({
      nExcitatory: 4000,
      nInhibitory: 1000,
      clusters: 20,
    });
    expect(modelParams('balanced', 5000).clusters).toBe(1);
  });

  const cases: Array<[string, Partial<ModelParams> | Record<string, unknown>, RegExp]> = [
    ['nExcitatory', { nExcitatory: 4001 }, /nExcitatory.*not divisible.*Q = 20/],
    ['nInhibitory', { nInhibitory: 1001 }, /nInhibitory.*not divisible/],
    ['nExcitatory', { nExcitatory: 40.5 }, /nExcitatory.*integer/],
    ['clusters', { clusters: 0 }, /clusters/],
    ['pEE', { pEE: 1.2 }, /pEE.*\[0, 1\]/],
    ['pEI', { pEI: -0.1 }, /pEI.*\[0, 1\]/],
    ['pIE', { pIE: Number.NaN }, /pIE.*finite/],
    ['pII', { pII: 2 }, /pII/],
    ['jEPlus', { jEPlus: 0.5 }, /jEPlus.*≥ 1/],
    ['jEPlus', { jEPlus: 25 }, /jEPlus.*≤ Q/],
    ['inhibitoryClusterRatio', { inhibitoryClusterRatio: 1.5 }, /inhibitoryClusterRatio/],
    ['gE', { gE: -1 }, /gE/],
    ['gI', { gI: Number.POSITIVE_INFINITY }, /gI/],
    ['tauMembraneEMs', { tauMembraneEMs: 0 }, /tauMembraneEMs.*> 0/],
    ['tauMembraneIMs', { tauMembraneIMs: -10 }, /tauMembraneIMs/],
    ['capacitancePf', { capacitancePf: 0 }, /capacitancePf/],
    ['tauSynExcMs', { tauSynExcMs: 0 }, /tauSynExcMs/],
    ['tauSynInhMs', { tauSynInhMs: -2 }, /tauSynInhMs/],
    ['thresholdMv', { thresholdMv: -5 }, /thresholdMv.*above V_reset/],
    ['refractoryMs', { refractoryMs: 0.25 }, /refractoryMs.*multiple of dt/],
    ['refractoryMs', { refractoryMs: -1 }, /refractoryMs/],
    ['delayMs', { delayMs: 0.2 }, /delayMs.*one time step/],
    ['dtMs', { dtMs: 0 }, /dtMs/],
    ['seed', { seed: -3 }, /seed/],
    ['seed', { seed: 2 ** 32 }, /seed/],
    ['backgroundThresholdE', { backgroundThresholdE: -2 }, /backgroundThresholdE/],
    ['initialVoltageHighMv', { initialVoltageHighMv: -10 }, /initialVoltageHighMv/],
    [
      'tauSynDistribution.spreadFraction',
      { tauSynDistribution: { kind: 'uniform', spreadFraction: 1.5 } },
      /spread/,
    ],
    ['tauSynDistribution.cv', { tauSynDistribution: { kind: 'lognormal', cv: -1 } }, /cv/],
    ['tauSynDistribution', { tauSynDistribution: { kind: 'gamma' } }, /unknown kind "gamma"/],
    ['bogusKey', { bogusKey: 1 }, /bogusKey.*unknown parameter/],
  ];
  it.each(cases)('rejects a bad %s with an error naming it', (name, override, message) => {
    let error: unknown;
    try {
      validateParams({ ...valid(), ...override } as ModelParams);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ParameterError);
    expect((error as ParameterError).parameter).toBe(name);
    expect((error as Error).message).toMatch(message);
  });

  it('rejects a tick that dt does not divide, and a bad network size', () => {
    expect(substepsPerTick(1, 0.1)).toBe(10);
    expect(() => substepsPerTick(1.05, 0.1)).toThrow(/tickMs.*does not divide/);
    expect(() => substepsPerTick(0, 0.1)).toThrow(/tickMs/);
    expect(() => modelParams('ei-clustered', 2001)).toThrow(
      /N = 2001 does not split.*multiple of 5·Q = 100 \(e.g. 2000 or 2100\)/,
    );
    expect(() => modelParams('ei-clustered', 2.5)).toThrow(/invalid parameter n/);
    expect(() => modelParams('nonsense' as 'balanced', 2000)).toThrow(/unknown model "nonsense"/);
  });
});
