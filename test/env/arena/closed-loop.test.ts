/**
 * Must show (issue 5): over 60 s of simulated time the network-driven robot collides less and
 * reaches more targets than robots whose motors are driven by noise.
 *
 * Not in real time: the arena and the CPU engine (N = 2000, the default clustered model) run in
 * the real TickLoop on simulated time (virtualTime), 60,000 ticks of 1 ms = 10 substeps of
 * 0.1 ms, as fast as they go (about 7–25 s of wall time on the shared 2-core machine).
 */
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../../src/engine/create.js';
import type { Engine } from '../../../src/engine/engine.js';
import { type ArenaControllerOptions, arenaControllerMapping } from '../../../src/env/arena/controller.js';
import { ArenaEnvironment } from '../../../src/env/arena/environment.js';
import { NoiseDriver } from '../../../src/env/arena/noise.js';
import { Arena, type ArenaState, DEFAULT_ARENA } from '../../../src/env/arena/world.js';
import type { TickObserver } from '../../../src/loop/observer.js';
import { virtualTime } from '../../../src/loop/sleep.js';
import { TickLoop } from '../../../src/loop/tick-loop.js';
import { deriveNetwork } from '../../../src/model/network.js';
import { modelParams } from '../../../src/model/params.js';

const TICK_MS = 1;

/**
 * The real tick loop on simulated time: each tick starts on its deadline however long the engine
 * took, so a minute of arena runs in as much wall time as the network needs. Returns the loop's
 * warnings (bad sensor values, stale inputs, missed ticks): a sound run has none.
 */
async function runSimulated(
  engine: Engine,
  dtMs: number,
  env: ArenaEnvironment,
  time: ReturnType<typeof virtualTime>,
  ticks: number,
  observer?: TickObserver,
): Promise<string[]> {
  const warnings: string[] = [];
  const loop = new TickLoop({
    engine,
    env,
    tickMs: TICK_MS,
    dtMs,
    latePolicy: 'late',
    clock: time.clock,
    sleep: time.sleep,
    warn: (message) => warnings.push(message),
  });
  if (observer) loop.addObserver(observer);
  await loop.run(ticks);
  // Warnings are printed off the tick (setImmediate): let the last ones arrive.
  await new Promise((resolve) => setImmediate(resolve));
  return warnings;
}

async function networkRun(
  seconds: number,
  decoder: ArenaControllerOptions['decoder'],
): Promise<{ state: ArenaState; wallS: number; warnings: string[] }> {
  const network = deriveNetwork(modelParams('ei-clustered', 2000, { seed: 1 }));
  const engine = await createEngine('cpu', { networks: [network] });
  const mapping = arenaControllerMapping({
    clusters: network.layout.clusters,
    sensorAnglesRad: DEFAULT_ARENA.sensors.anglesRad,
    maxRangeM: DEFAULT_ARENA.sensors.maxRangeM,
    decoder,
  });
  const time = virtualTime();
  const env = new ArenaEnvironment({
    clusters: network.layout.clusters,
    tickMs: TICK_MS,
    mapping,
    clock: time.clock,
  });
  const started = performance.now();
  try {
    const warnings = await runSimulated(engine, network.params.dtMs, env, time, (seconds * 1000) / TICK_MS);
    return { state: env.state(), wallS: (performance.now() - started) / 1000, warnings };
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
    expect(net.warnings).toEqual([]);
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
      const time = virtualTime();
      const env = new ArenaEnvironment({
        clusters: network.layout.clusters,
        tickMs: TICK_MS,
        clock: time.clock,
      });
      const points: number[] = [];
      try {
        await runSimulated(engine, network.params.dtMs, env, time, 2000, {
          onTick: ({ index }) => {
            if (index % 50 === 0) points.push(env.state().robot.x, env.state().robot.y);
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
