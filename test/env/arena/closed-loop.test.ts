/**
 * Must show (issue 5): over 60 s of simulated time the network-driven robot collides less and
 * reaches more targets than robots whose motors are driven by noise.
 *
 * Not in real time: the arena and the CPU engine (N = 2000, the default clustered model) are
 * stepped in a plain loop, 60,000 ticks of 1 ms = 10 substeps of 0.1 ms, as fast as they go
 * (about 7–25 s of wall time on the shared 2-core machine).
 */
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../../src/engine/create.js';
import { type ArenaControllerOptions, arenaControllerMapping } from '../../../src/env/arena/controller.js';
import { ArenaEnvironment } from '../../../src/env/arena/environment.js';
import { NoiseDriver } from '../../../src/env/arena/noise.js';
import { runOfflineLoop } from '../../../src/env/arena/offline.js';
import { Arena, type ArenaState, DEFAULT_ARENA } from '../../../src/env/arena/world.js';
import { deriveNetwork } from '../../../src/model/network.js';
import { modelParams } from '../../../src/model/params.js';

const TICK_MS = 1;

async function networkRun(
  seconds: number,
  decoder: ArenaControllerOptions['decoder'],
): Promise<{ state: ArenaState; wallS: number; codecErrors: number }> {
  const network = deriveNetwork(modelParams('ei-clustered', 2000, { seed: 1 }));
  const engine = await createEngine('cpu', { networks: [network] });
  const mapping = arenaControllerMapping({
    clusters: network.layout.clusters,
    sensorAnglesRad: DEFAULT_ARENA.sensors.anglesRad,
    maxRangeM: DEFAULT_ARENA.sensors.maxRangeM,
    decoder,
  });
  const env = new ArenaEnvironment({ clusters: network.layout.clusters, tickMs: TICK_MS, mapping });
  const started = performance.now();
  try {
    const result = await runOfflineLoop({
      engine,
      env,
      ticks: (seconds * 1000) / TICK_MS,
      tickMs: TICK_MS,
      substeps: TICK_MS / network.params.dtMs,
    });
    return {
      state: env.state(),
      wallS: (performance.now() - started) / 1000,
      codecErrors: result.codecErrors,
    };
  } finally {
    await engine.dispose();
  }
}

/**
 * Noise robots: each wheel an OU process (τ = 1 s, σ = 0.2 m/s, half the wheel limit), so they
 * wander with momentum. One noise seed can be lucky, so the baseline is the mean of five.
 */
function noiseRuns(seconds: number): { collisions: number; targets: number; line: string } {
  const states = [1, 2, 3, 4, 5].map((seed) => {
    const arena = new Arena(DEFAULT_ARENA);
    const noise = new NoiseDriver({
      seed,
      tauS: 1,
      sigmaMps: 0.2,
      wheelBaseM: DEFAULT_ARENA.robot.wheelBaseM,
    });
    for (let t = 0; t < (seconds * 1000) / TICK_MS; t++) {
      arena.setCommand(noise.next(TICK_MS / 1000));
      arena.step(TICK_MS / 1000);
    }
    return arena.state();
  });
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const collisions = mean(states.map((s) => s.collisions));
  const targets = mean(states.map((s) => s.targetsReached));
  const line =
    `noise (mean of ${states.length}) collisions ${collisions} [${states.map((s) => s.collisions).join(' ')}], ` +
    `targets ${targets} [${states.map((s) => s.targetsReached).join(' ')}], ` +
    `distance ${mean(states.map((s) => s.distanceM)).toFixed(1)} m`;
  return { collisions, targets, line };
}

function describeRun(label: string, run: { state: ArenaState; wallS: number }): string {
  const s = run.state;
  return (
    `${label} collisions ${s.collisions}, targets ${s.targetsReached}, distance ${s.distanceM.toFixed(1)} m ` +
    `(N = 2000 CPU loop: ${run.wallS.toFixed(1)} s wall)`
  );
}

describe('closed loop in the built-in arena', () => {
  it('network-driven robot (population vector) collides less and reaches more targets than noise over 60 s', async () => {
    const net = await networkRun(60, 'population-vector');
    const noise = noiseRuns(60);
    console.log(`arena 60 s: ${describeRun('network', net)} | ${noise.line}`);
    expect(net.codecErrors).toBe(0);
    expect(net.state.timeS).toBeCloseTo(60, 6);
    expect(net.state.collisions).toBeLessThan(noise.collisions);
    expect(net.state.targetsReached).toBeGreaterThan(noise.targets);
  }, 600_000);

  it('the winner-take-all decoder also beats noise (30 s)', async () => {
    const net = await networkRun(30, 'wta');
    const noise = noiseRuns(30);
    console.log(`arena 30 s: ${describeRun('network (wta)', net)} | ${noise.line}`);
    expect(net.state.collisions).toBeLessThan(noise.collisions);
    expect(net.state.targetsReached).toBeGreaterThan(noise.targets);
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
