import { describe, expect, it } from 'vitest';
import { createEnvironment, environmentNames } from '../../src/env/registry.js';
import { LinearClusterEncoder, LinearRateDecoder, SyntheticSource } from '../../src/env/synthetic.js';
import { deriveNetwork } from '../../src/model/network.js';
import { modelParams } from '../../src/model/params.js';

const layout = deriveNetwork(modelParams('ei-clustered', 100)).layout;

describe('synthetic environment', () => {
  it('gives the newest sample once, with increasing seq and its arrival time, without blocking', () => {
    const time = { us: 0 };
    const source = new SyntheticSource({
      name: 's',
      channels: 3,
      rateHz: 1000,
      patternHz: 10,
      pattern: 'sine',
      clockUs: () => time.us,
    });
    const first = source.takeLatest();
    expect(first).toMatchObject({ seq: 0, arrivalUs: 0 });
    expect(source.takeLatest()).toBeNull();
    time.us = 3500; // samples 1..3 have arrived; only the newest is given
    const newest = source.takeLatest()!;
    expect(newest.seq).toBe(3);
    expect(newest.arrivalUs).toBe(3000);
    expect(newest.values).toHaveLength(3);
    for (const value of newest.values) expect(value).toBeGreaterThanOrEqual(0);
    for (const value of newest.values) expect(value).toBeLessThanOrEqual(1);
  });

  it('encodes channels onto E clusters and decodes cluster rates', () => {
    const currents = new Float32Array(layout.populationCount);
    new LinearClusterEncoder('s', layout.clusters, 5).encode(Float32Array.of(1, 0.5), currents);
    expect(Array.from(currents.slice(0, 3))).toEqual([5, 2.5, 0]);
    expect(() => new LinearClusterEncoder('s', 20, 5).encode(Float32Array.of(Number.NaN), currents)).toThrow(
      /value 0 is NaN/,
    );
    const counts = new Uint32Array(layout.populationCount);
    counts[0] = 2; // cluster 0 has 4 neurons: 2 spikes in 1 ms = 500 Hz
    const sizes = new Uint32Array(layout.populationCount).fill(4);
    const values = new LinearRateDecoder('m', 2, layout.clusters, 1).decode({ counts, sizes, tickMs: 1 });
    expect(values[0]).toBeCloseTo(500 / 10);
    expect(values[1]).toBe(0);
  });

  it('is created by name from the registry; an unknown name lists the known ones', async () => {
    expect(environmentNames()).toContain('synthetic');
    const env = await createEnvironment('synthetic', { layout, tickMs: 1, seed: 1, clockUs: () => 0 });
    expect(env.sources.map((s) => s.name)).toEqual(['synthetic']);
    expect(env.sinks.map((s) => s.name)).toEqual(['motor']);
    await env.close();
    await expect(createEnvironment('mars', { layout, tickMs: 1, seed: 1, clockUs: () => 0 })).rejects.toThrow(
      /unknown environment "mars"; expected one of synthetic/,
    );
    await expect(
      createEnvironment('synthetic', {
        layout,
        tickMs: 1,
        seed: 1,
        clockUs: () => 0,
        settings: { rateHz: 'fast' },
      }),
    ).rejects.toThrow(/setting "rateHz" must be a number, got "fast"/);
  });
});
