import { afterEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import { deriveNetwork } from '../../src/model/network.js';
import { modelParams } from '../../src/model/params.js';
import { BACKENDS, buildEngine, collectSpikes } from './helpers.js';

const N = 2000;
const STEPS = 5000;
const network = (seed: number, overrides = {}) =>
  deriveNetwork(modelParams('ei-clustered', N, { seed, ...overrides }));

describe.each(BACKENDS)('determinism on the %s backend', (backend) => {
  const engines: Engine[] = [];
  afterEach(async () => {
    await Promise.all(engines.splice(0).map((engine) => engine.dispose()));
  });
  const build = async (options: Parameters<typeof buildEngine>[1]) => {
    const engine = await buildEngine(backend, options);
    engines.push(engine);
    return engine;
  };

  it('gives identical spike trains for one seed, and different ones for another', async () => {
    const first = await collectSpikes(await build({ networks: [network(11)] }), STEPS);
    const second = await collectSpikes(await build({ networks: [network(11)] }), STEPS);
    const other = await collectSpikes(await build({ networks: [network(12)] }), STEPS);
    const total = first.reduce((sum, ids) => sum + ids.length, 0);
    expect(total).toBeGreaterThan(1000);
    expect(second).toEqual(first);
    expect(other).not.toEqual(first);
  });

  it('replays the same spikes after reset', async () => {
    const engine = await build({ networks: [network(11)] });
    const first = await collectSpikes(engine, 2000);
    await engine.reset();
    expect(engine.stepCount).toBe(0);
    expect(await collectSpikes(engine, 2000)).toEqual(first);
  });

  it('simulates each batch instance exactly as it runs alone', async () => {
    const params = [network(21), network(22, { jEPlus: 6 }), network(23, { backgroundThresholdE: 2.3 })];
    const batched = await collectSpikes(await build({ networks: params }), 2000);
    for (const [b, instance] of params.entries()) {
      const alone = await collectSpikes(await build({ networks: [instance] }), 2000);
      const fromBatch = batched.map((ids) =>
        Array.from(ids.filter((id) => id >= b * N && id < (b + 1) * N)).map((id) => id - b * N),
      );
      expect(fromBatch).toEqual(alone.map((ids) => Array.from(ids)));
      expect(fromBatch.flat().length).toBeGreaterThan(100);
    }
  });
});

describe('CPU backend variants give the same spikes', () => {
  const engines: Engine[] = [];
  afterEach(async () => {
    await Promise.all(engines.splice(0).map((engine) => engine.dispose()));
  });

  it('stored and procedural connectivity, one and two threads', async () => {
    const runs = [];
    for (const options of [
      { threads: 1, connectivity: 'stored' as const },
      { threads: 2, connectivity: 'stored' as const },
      { threads: 2, connectivity: 'procedural' as const },
      { threads: 3, connectivity: 'procedural' as const },
    ]) {
      const engine = await buildEngine('cpu', { networks: [network(5), network(6)], ...options });
      engines.push(engine);
      expect(engine.connectivity).toBe(options.connectivity);
      runs.push(await collectSpikes(engine, 1500));
    }
    for (const run of runs.slice(1)) expect(run).toEqual(runs[0]);
  });
});
