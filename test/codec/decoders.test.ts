import { describe, expect, it } from 'vitest';
import { PopulationVectorDecoder, RateDecoder, WinnerTakeAllDecoder } from '../../src/codec/decoders.js';
import type { PopulationActivity } from '../../src/codec/types.js';

/** Activity of 4 populations of 10 neurons over a 1 ms tick; `ratesHz` become counts. */
function activity(ratesHz: number[], tickMs = 1): PopulationActivity {
  return {
    counts: Uint32Array.from(ratesHz, (r) => Math.round((r * 10 * tickMs) / 1000)),
    sizes: Uint32Array.from(ratesHz, () => 10),
    tickMs,
  };
}

describe('RateDecoder', () => {
  it('low-pass filters group rates with the configured time constant', () => {
    const d = new RateDecoder({ output: 'r', tauMs: 10, populationCount: 4, groups: [[0], [1, 2]] });
    // Group 0 at 100 Hz (1 spike / 10 neurons / ms); group 1 at 50 Hz (1 spike over 20 neurons).
    const a = { counts: Uint32Array.of(1, 1, 0, 0), sizes: Uint32Array.of(10, 10, 10, 10), tickMs: 1 };
    let out = d.decode(a);
    const alpha = 1 - Math.exp(-0.1);
    expect(out[0]).toBeCloseTo(100 * alpha, 4);
    expect(out[1]).toBeCloseTo(50 * alpha, 4);
    for (let t = 0; t < 9; t++) out = d.decode(a);
    // After one time constant: 1 − e^−1 of the step.
    expect(out[0]).toBeCloseTo(100 * (1 - Math.exp(-1)), 3);
    for (let t = 0; t < 200; t++) out = d.decode(a);
    expect(out[0]).toBeCloseTo(100, 3);
    d.reset();
    expect(d.decode(activity([0, 0, 0, 0]))[0]).toBe(0);
  });

  it('applies gain and offset', () => {
    const d = new RateDecoder({
      output: 'r',
      tauMs: 1e-6,
      populationCount: 4,
      groups: [[0]],
      gain: 0.01,
      offset: -1,
    });
    expect(d.decode(activity([300, 0, 0, 0]))[0]).toBeCloseTo(2, 5);
  });

  it('rejects mismatched activity and bad configuration', () => {
    const d = new RateDecoder({ output: 'r', tauMs: 10, populationCount: 4, groups: [[0]] });
    expect(() => d.decode({ counts: new Uint32Array(3), sizes: new Uint32Array(3), tickMs: 1 })).toThrow(
      /output "r": activity has 3 counts and 3 sizes, expected 4/,
    );
    expect(() => d.decode({ ...activity([0, 0, 0, 0]), tickMs: 0 })).toThrow(/tickMs must be > 0/);
    expect(() => new RateDecoder({ output: 'r', tauMs: 0, populationCount: 4, groups: [[0]] })).toThrow(
      /tauMs: must be > 0/,
    );
    expect(() => new RateDecoder({ output: 'r', tauMs: 1, populationCount: 4, groups: [] })).toThrow(
      /groups: must be a non-empty array/,
    );
  });
});

describe('WinnerTakeAllDecoder', () => {
  const make = (hysteresisHz = 0) =>
    new WinnerTakeAllDecoder({
      output: 'cmd',
      tauMs: 1e-6, // no filtering: each tick decides
      populationCount: 4,
      groups: [[0], [1], [2, 3]],
      values: [
        [0.2, 1],
        [0.2, -1],
        [0.3, 0],
      ],
      minRateHz: 50,
      hysteresisHz,
      idle: [0, 0],
    });

  it('emits the motor vector of the most active group', () => {
    const d = make();
    expect(Array.from(d.decode(activity([300, 100, 0, 0])))).toEqual([Math.fround(0.2), 1]);
    expect(Array.from(d.decode(activity([0, 100, 200, 200])))).toEqual([Math.fround(0.3), 0]);
    expect(d.winner).toBe(2);
  });

  it('emits idle when no group reaches the minimum rate', () => {
    const d = make();
    expect(Array.from(d.decode(activity([0, 0, 0, 0])))).toEqual([0, 0]);
    expect(d.winner).toBe(-1);
  });

  it('keeps the winner unless a challenger beats it by the hysteresis', () => {
    const d = make(150);
    d.decode(activity([300, 0, 0, 0]));
    d.decode(activity([300, 400, 0, 0])); // +100 Hz: not enough
    expect(d.winner).toBe(0);
    d.decode(activity([300, 500, 0, 0])); // +200 Hz: takes over
    expect(d.winner).toBe(1);
  });

  it('rejects values that do not fit the groups', () => {
    expect(
      () =>
        new WinnerTakeAllDecoder({
          output: 'c',
          tauMs: 1,
          populationCount: 4,
          groups: [[0], [1]],
          values: [[1]],
        }),
    ).toThrow(/values: expected one motor vector per group \(2\)/);
    expect(
      () =>
        new WinnerTakeAllDecoder({
          output: 'c',
          tauMs: 1,
          populationCount: 4,
          groups: [[0], [1]],
          values: [[1, 2], [1]],
        }),
    ).toThrow(/values\[1\]: expected 2 values, got 1/);
  });
});

describe('PopulationVectorDecoder', () => {
  const directions = [0, Math.PI / 2, Math.PI, -Math.PI / 2];
  const make = (mode: 'cartesian' | 'polar' | 'steer', baselineHz?: number) =>
    new PopulationVectorDecoder({
      output: 'v',
      tauMs: 1e-6,
      populationCount: 4,
      populations: [0, 1, 2, 3],
      preferredRad: directions,
      mode,
      baselineHz,
      steer: { maxSpeedMps: 0.5, fullSpeedHz: 100, turnGainPerS: 2, maxTurnRadPerS: 1 },
    });

  it('points at the active cluster, contrasted against the mean', () => {
    const [x, y] = make('cartesian').decode(activity([100, 0, 0, 0]));
    expect(x).toBeCloseTo(100, 4); // (100 − 25) − (0 − 25)
    expect(y).toBeCloseTo(0, 4);
    const [angle, length] = make('polar').decode(activity([0, 100, 0, 0]));
    expect(angle).toBeCloseTo(Math.PI / 2, 5);
    expect(length).toBeCloseTo(100, 4);
    // Uniform activity has no direction.
    expect(Array.from(make('polar').decode(activity([50, 50, 50, 50])))).toEqual([0, 0]);
  });

  it('averages directions of co-active clusters', () => {
    const [angle] = make('polar').decode(activity([100, 100, 0, 0]));
    expect(angle).toBeCloseTo(Math.PI / 4, 5);
  });

  it('with a baseline, ignores silenced clusters instead of pointing away from them', () => {
    // Three clusters at 20 Hz, the one ahead silenced: the mean contrast points backwards…
    expect(make('polar').decode(activity([0, 20, 20, 20], 10))[0]).toBeCloseTo(Math.PI, 5);
    // …while above a 30 Hz baseline nothing is active.
    expect(Array.from(make('polar', 30).decode(activity([0, 20, 20, 20], 10)))).toEqual([0, 0]);
    expect(make('polar', 30).decode(activity([0, 100, 20, 20], 10))[0]).toBeCloseTo(Math.PI / 2, 5);
  });

  it('steers: forward along the vector, turning towards its angle within limits', () => {
    const [v, omega] = make('steer').decode(activity([200, 0, 0, 0]));
    expect(v).toBeCloseTo(0.5, 5);
    expect(omega).toBeCloseTo(0, 5);
    const [v2, omega2] = make('steer').decode(activity([100, 100, 0, 0]));
    // angle π/4: speed · cos(π/4) · min(1, length/100); turn 2·π/4 clamped to 1 rad/s.
    expect(v2).toBeCloseTo(0.5 * Math.cos(Math.PI / 4), 4);
    expect(omega2).toBeCloseTo(1, 5);
    const [v3, omega3] = make('steer').decode(activity([0, 0, 0, 100]));
    expect(v3).toBeCloseTo(0, 5); // sideways: turn on the spot
    expect(omega3).toBeCloseTo(-1, 5);
  });

  it('rejects bad configuration', () => {
    expect(
      () =>
        new PopulationVectorDecoder({
          output: 'v',
          tauMs: 1,
          populationCount: 4,
          populations: [0, 1],
          preferredRad: [0],
          mode: 'polar',
        }),
    ).toThrow(/preferredRad: expected 2 values, got 1/);
    expect(
      () =>
        new PopulationVectorDecoder({
          output: 'v',
          tauMs: 1,
          populationCount: 4,
          populations: [0, 1],
          preferredRad: [0, 1],
          mode: 'steer',
        }),
    ).toThrow(/steer: required for mode "steer"/);
    expect(
      () =>
        new PopulationVectorDecoder({
          output: 'v',
          tauMs: 1,
          populationCount: 4,
          populations: [0, 1],
          preferredRad: [0, 1],
          mode: 'sideways' as 'polar',
        }),
    ).toThrow(/mode: expected cartesian, polar or steer/);
  });
});
