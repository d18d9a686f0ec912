/**
 * Must show (issue 5): over 60 s of simulated time the network-driven robot collides less and
 * reaches more targets than a robot whose motors are driven by noise.
 *
 * Not in real time: the arena and the CPU engine (N = 2000, the default clustered model) are
 * stepped in a plain loop, 60,000 ticks of 1 ms = 10 substeps of 0.1 ms, as fast as they go.
 */
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../../src/engine/create.js';
import { ArenaEnvironment } from '../../../src/env/arena/environment.js';
import { NoiseDriver } from '../../../src/env/arena/noise.js';
import { runOfflineLoop } from '../../../src/env/arena/offline.js';
import { Arena, DEFAULT_ARENA } from '../../../src/env/arena/world.js';
import { deriveNetwork } from '../../../src/model/network.js';
import { modelParams } from '../../../src/model/params.js';

const SIMULATED_S = 60;
const TICK_MS = 1;
const TICKS = (SIMULATED_S * 1000) / TICK_MS;

describe('closed loop in the built-in arena', () => {
  it('network-driven robot collides less and reaches more targets than noise-driven ones', async () => {
    const network = deriveNetwork(modelParams('ei-clustered', 2000, { seed: 1 }));
    const engine = await createEngine('cpu', { networks: [network] });
    const env = new ArenaEnvironment({
      clusters: network.layout.clusters,
      tickMs: TICK_MS,
      arena: DEFAULT_ARENA,
    });
    const started = performance.now();
    try {
      const result = await runOfflineLoop({
        engine,
        env,
        ticks: TICKS,
        tickMs: TICK_MS,
        substeps: TICK_MS / network.params.dtMs,
      });
      expect(result.codecErrors).toBe(0);
    } finally {
      await engine.dispose();
    }
    const wallS = (performance.now() - started) / 1000;
    const net = env.state();

    // Noise robots: each wheel an OU process (τ = 1 s, σ = 0.2 m/s, half the wheel limit), so they
    // wander with momentum. One noise seed can be lucky, so the baseline is the mean of five.
    const noiseRuns = [1, 2, 3, 4, 5].map((seed) => {
      const arena = new Arena(DEFAULT_ARENA);
      const noise = new NoiseDriver({
        seed,
        tauS: 1,
        sigmaMps: 0.2,
        wheelBaseM: DEFAULT_ARENA.robot.wheelBaseM,
      });
      for (let t = 0; t < TICKS; t++) {
        arena.setCommand(noise.next(TICK_MS / 1000));
        arena.step(TICK_MS / 1000);
      }
      return arena.state();
    });
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    const noiseCollisions = mean(noiseRuns.map((r) => r.collisions));
    const noiseTargets = mean(noiseRuns.map((r) => r.targetsReached));

    console.log(
      `arena ${SIMULATED_S} s: network collisions ${net.collisions}, targets ${net.targetsReached}, ` +
        `distance ${net.distanceM.toFixed(1)} m | noise (mean of ${noiseRuns.length}) collisions ` +
        `${noiseCollisions} [${noiseRuns.map((r) => r.collisions).join(' ')}], targets ${noiseTargets} ` +
        `[${noiseRuns.map((r) => r.targetsReached).join(' ')}], distance ` +
        `${mean(noiseRuns.map((r) => r.distanceM)).toFixed(1)} m | N = 2000 CPU loop: ${wallS.toFixed(1)} s wall`,
    );
    expect(net.timeS).toBeCloseTo(SIMULATED_S, 6);
    expect(net.collisions).toBeLessThan(noiseCollisions);
    expect(net.targetsReached).toBeGreaterThan(noiseTargets);
  }, 600_000);

  it('is deterministic: the same seeds give the same trajectory', async () => {
    const trajectory = async () => {
      const network = deriveNetwork(modelParams('ei-clustered', 1000, { seed: 5 }));
      const engine = await createEngine('cpu', { networks: [network] });
      const env = new ArenaEnvironment({ clusters: network.layout.clusters, tickMs: TICK_MS });
      const points: number[] = [];
      try {
        await runOfflineLoop({
          engine,
          env,
          ticks: 2000,
          tickMs: TICK_MS,
          substeps: TICK_MS / network.params.dtMs,
          onTick: (tick) => {
            if (tick % 50 === 0) points.push(env.state().robot.x, env.state().robot.y);
          },
        });
      } finally {
        await engine.dispose();
      }
      return { points, distanceM: env.state().distanceM };
    };
    const a = await trajectory();
    expect(a.distanceM).toBeGreaterThan(0.05); // it moved
    expect(await trajectory()).toEqual(a);
  }, 120_000);
});
