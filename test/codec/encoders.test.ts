import { describe, expect, it } from 'vitest';
import { GaussianEncoder, LinearEncoder, poisson, RateEncoder } from '../../src/codec/encoders.js';
import { CodecError, SensorValueError } from '../../src/codec/errors.js';
import { mix32 } from '../../src/model/rng.js';

const f32 = (...values: number[]) => Float32Array.from(values);

describe('LinearEncoder', () => {
  const make = () =>
    new LinearEncoder({
      input: 'scan',
      size: 2,
      populationCount: 4,
      populations: [1, 3],
      weightsPa: [
        [1, 2],
        [-0.5, 0],
      ],
      offset: [0, 1],
    });

  it('adds W·(value − offset) onto the chosen populations', () => {
    const currents = f32(10, 0, 0, 0);
    make().encode(f32(2, 3), currents);
    // pop 1: 1·2 + (−0.5)·(3 − 1) = 1; pop 3: 2·2 = 4; others untouched.
    expect(Array.from(currents)).toEqual([10, 1, 0, 4]);
  });

  it('takes one gain for all values and clamps (value − offset)', () => {
    const e = new LinearEncoder({
      input: 'x',
      size: 1,
      populationCount: 2,
      populations: [0],
      weightsPa: 2,
      clamp: { min: -1, max: 1 },
    });
    const currents = new Float32Array(2);
    e.encode(f32(5), currents);
    expect(currents[0]).toBe(2);
  });

  it('rejects NaN/Inf naming the input and index, and keeps the last good value', () => {
    const e = make();
    e.encode(f32(2, 3), new Float32Array(4));
    const currents = new Float32Array(4);
    let error: unknown;
    try {
      e.encode(f32(Number.NaN, 3), currents);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SensorValueError);
    expect((error as Error).message).toMatch(/input "scan": value 0 is NaN/);
    // The held value 2 stood in for the NaN.
    expect(Array.from(currents)).toEqual([0, 1, 0, 4]);
    expect(() => e.encode(f32(1, Number.POSITIVE_INFINITY), new Float32Array(4))).toThrow(
      /input "scan": value 1 is Infinity/,
    );
  });

  it('contributes nothing for an index that never had a good value', () => {
    const currents = new Float32Array(4);
    expect(() => make().encode(f32(Number.NaN, 3), currents)).toThrow(SensorValueError);
    expect(Array.from(currents)).toEqual([0, -1, 0, 0]);
  });

  it('rejects wrong lengths and bad configuration with clear messages', () => {
    expect(() => make().encode(f32(1), new Float32Array(4))).toThrow(
      /input "scan": expected 2 values, got 1/,
    );
    expect(() => make().encode(f32(1, 2), new Float32Array(3))).toThrow(/3 populations, expected 4/);
    expect(
      () =>
        new LinearEncoder({ input: 'a', size: 2, populationCount: 4, populations: [0], weightsPa: [[1]] }),
    ).toThrow(/weightsPa: expected a number or 2 rows/);
    expect(
      () => new LinearEncoder({ input: 'a', size: 1, populationCount: 4, populations: [4], weightsPa: 1 }),
    ).toThrow(/populations\[0\]: must be an integer in \[0, 3\], got 4/);
    expect(
      () => new LinearEncoder({ input: 'a', size: 1, populationCount: 4, populations: [1, 1], weightsPa: 1 }),
    ).toThrow(/listed twice/);
    expect(
      () =>
        new LinearEncoder({
          input: 'a',
          size: 1,
          populationCount: 4,
          populations: [1],
          weightsPa: Number.NaN,
        }),
    ).toThrow(CodecError);
  });
});

describe('GaussianEncoder', () => {
  const make = (period?: number) =>
    new GaussianEncoder({
      input: 'bearing',
      size: 1,
      populationCount: 8,
      populations: [0, 1, 2, 3],
      preferred: [-3, -1, 1, 3],
      sigma: 1,
      amplitudePa: 2,
      baselinePa: -0.5,
      period,
    });

  it('puts a bump of current centred on the value over the clusters', () => {
    const currents = new Float32Array(8);
    make().encode(f32(1), currents);
    expect(currents[2]).toBeCloseTo(1.5, 6); // peak: baseline + amplitude
    expect(currents[1]).toBeCloseTo(-0.5 + 2 * Math.exp(-2), 6);
    expect(currents[3]).toBeCloseTo(currents[1]!, 6); // symmetric
    expect(currents[0]).toBeCloseTo(-0.5 + 2 * Math.exp(-8), 6);
    expect(Array.from(currents.subarray(4))).toEqual([0, 0, 0, 0]);
  });

  it('wraps differences for circular values', () => {
    const e = make(8);
    // 3.9 is 0.9 from 3 and, around the circle of period 8, 1.1 from −3.
    const bump = e.tuning(3.9);
    expect(bump[3]).toBeCloseTo(-0.5 + 2 * Math.exp(-(0.9 ** 2) / 2), 6);
    expect(bump[0]).toBeCloseTo(-0.5 + 2 * Math.exp(-(1.1 ** 2) / 2), 6);
  });

  it('rejects bad values and configuration', () => {
    const e = make();
    e.encode(f32(1), new Float32Array(8));
    const currents = new Float32Array(8);
    expect(() => e.encode(f32(Number.NEGATIVE_INFINITY), currents)).toThrow(
      /input "bearing": value 0 is -Infinity/,
    );
    expect(currents[2]).toBeCloseTo(1.5, 6); // held value 1
    expect(
      () =>
        new GaussianEncoder({
          input: 'b',
          size: 1,
          populationCount: 8,
          populations: [0, 1],
          preferred: [0],
          sigma: 1,
          amplitudePa: 1,
        }),
    ).toThrow(/preferred: expected 2 values, got 1/);
    expect(
      () =>
        new GaussianEncoder({
          input: 'b',
          size: 1,
          populationCount: 8,
          populations: [0],
          preferred: [0],
          sigma: 0,
          amplitudePa: 1,
        }),
    ).toThrow(/sigma: must be > 0/);
    expect(
      () =>
        new GaussianEncoder({
          input: 'b',
          size: 2,
          index: 2,
          populationCount: 8,
          populations: [0],
          preferred: [0],
          sigma: 1,
          amplitudePa: 1,
        }),
    ).toThrow(/index: must be an integer in \[0, 1\]/);
  });
});

describe('RateEncoder', () => {
  const make = (seed = 3) =>
    new RateEncoder({
      input: 'speed',
      size: 1,
      populationCount: 4,
      populations: [0, 1],
      rateHzPerUnit: 100,
      baseRateHz: 10,
      maxRateHz: 500,
      afferents: 50,
      weightPa: 0.1,
      tauSynMs: 2,
      tickMs: 1,
      seed,
    });

  it('maps values to clamped afferent rates', () => {
    const e = make();
    expect(e.rateHz(1)).toBe(110);
    expect(e.rateHz(-1)).toBe(0);
    expect(e.rateHz(100)).toBe(500);
  });

  it('injects on average afferents · rate · weight · tau_syn as current', () => {
    const e = make();
    const ticks = 4000;
    const sum = new Float64Array(4);
    for (let t = 0; t < ticks; t++) {
      const currents = new Float32Array(4);
      e.encode(f32(2), currents); // 210 Hz · 50 afferents = 10.5 spikes per ms
      for (let p = 0; p < 4; p++) sum[p]! += currents[p]!;
    }
    const expected = 50 * 210e-3 * 0.1 * 2; // pA
    expect(sum[0]! / ticks).toBeCloseTo(expected, 1);
    expect(sum[1]! / ticks).toBeCloseTo(expected, 1);
    expect(sum[2]).toBe(0);
  });

  it('is reproducible for a seed and differs between seeds', () => {
    const run = (seed: number) => {
      const e = make(seed);
      return Array.from({ length: 20 }, () => {
        const c = new Float32Array(4);
        e.encode(f32(0.5), c);
        return c[0];
      });
    };
    expect(run(3)).toEqual(run(3));
    expect(run(3)).not.toEqual(run(4));
  });

  it('poisson draws have the right mean in both regimes', () => {
    for (const mean of [0.5, 4, 80]) {
      const draws = 20000;
      let sum = 0;
      for (let i = 0; i < draws; i++) sum += poisson(mean, mix32(i + 1));
      // Within four standard errors of the mean.
      expect(Math.abs(sum / draws - mean)).toBeLessThan(4 * Math.sqrt(mean / draws));
    }
    expect(poisson(0, 1)).toBe(0);
  });

  it('rejects bad configuration', () => {
    expect(() => new RateEncoder({ ...baseRate(), tickMs: 0 })).toThrow(/tickMs: must be > 0/);
    expect(() => new RateEncoder({ ...baseRate(), afferents: 0 })).toThrow(/afferents: must be an integer/);
  });
});

function baseRate() {
  return {
    input: 'r',
    size: 1,
    populationCount: 2,
    populations: [0],
    rateHzPerUnit: 1,
    maxRateHz: 10,
    afferents: 1,
    weightPa: 1,
    tauSynMs: 1,
    tickMs: 1,
  };
}
