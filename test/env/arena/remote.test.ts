/**
 * The arena behind the protocol is the same world as the arena in-process: the network drives the
 * robot through the same codecs either way, and with the same seed the trajectories agree exactly.
 * The remote arena runs as a separate process (`spikeloop arena --connect … --lockstep`), exactly
 * as an external simulator would.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { PopulationActivity } from '../../../src/codec/types.js';
import { createEngine } from '../../../src/engine/create.js';
import type { Engine } from '../../../src/engine/engine.js';
import { ArenaEnvironment } from '../../../src/env/arena/environment.js';
import { WsEnvironment } from '../../../src/env/ws/environment.js';
import type { Environment, SensorSample } from '../../../src/loop/ports.js';
import { deriveNetwork } from '../../../src/model/network.js';
import { modelParams } from '../../../src/model/params.js';

const BIN = fileURLToPath(new URL('../../../bin/spikeloop.js', import.meta.url));
const TICKS = 400;
const N = 500;
const SEED = 4;

const work = mkdtempSync(join(tmpdir(), 'spikeloop-arena-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function engineFor(): Promise<Engine> {
  return createEngine('cpu', {
    networks: [deriveNetwork(modelParams('ei-clustered', N, { seed: SEED }))],
    threads: 1,
  });
}

/** read → update → write, then `advance` (the world's step); no clock, so both runs are comparable. */
async function lockstep(
  engine: Engine,
  env: Environment,
  advance: (tick: number) => Promise<void>,
): Promise<void> {
  const { layout } = engine;
  const sizes = Uint32Array.from({ length: layout.populationCount }, (_, p) =>
    p < layout.clusters ? layout.nEPerCluster : layout.nIPerCluster,
  );
  const currents = new Float32Array(layout.populationCount);
  const activity: PopulationActivity = { counts: new Uint32Array(0), sizes, tickMs: 1 };
  const latest = new Map<string, SensorSample>();
  const sinks = new Map(env.sinks.map((sink) => [sink.name, sink]));
  for (let tick = 0; tick < TICKS; tick++) {
    currents.fill(0);
    for (const source of env.sources) {
      const sample = source.takeLatest();
      if (sample) latest.set(source.name, sample);
    }
    for (const encoder of env.encoders) {
      const sample = latest.get(encoder.input);
      if (sample) encoder.encode(sample.values, currents);
    }
    engine.setPopulationCurrents(0, currents);
    activity.counts = (await engine.run(10)).subarray(0, layout.populationCount);
    const sourceSeq = Object.fromEntries([...latest].map(([name, sample]) => [name, sample.seq]));
    for (const decoder of env.decoders) {
      sinks.get(decoder.output)!.write({ values: decoder.decode(activity), sourceSeq, computedUs: 0 });
    }
    await advance(tick);
  }
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > 60_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('arena over the socket vs in-process', () => {
  it('gives the same trajectory for the same seed', async () => {
    const engineA = await engineFor();
    const local = new ArenaEnvironment({ clusters: engineA.layout.clusters, tickMs: 1 });
    const localPoses: { x: number; y: number; headingRad: number }[] = [];
    await lockstep(engineA, local, async () => {
      local.step(1);
      const { x, y, headingRad } = local.state().robot;
      localPoses.push({ x, y, headingRad });
    });
    await engineA.dispose();

    const engineB = await engineFor();
    const remote = new WsEnvironment({
      clusters: engineB.layout.clusters,
      tickMs: 1,
      server: { port: 0, log: () => {} },
    });
    const server = await remote.listen();
    const trajectoryFile = join(work, 'trajectory.jsonl');
    const child = spawn(
      process.execPath,
      [
        BIN,
        'arena',
        '--connect',
        server.url,
        '--lockstep',
        '--steps',
        String(TICKS),
        '--trajectory',
        trajectoryFile,
        '--json',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const ranges = remote.sources.find((source) => source.name === 'ranges')!;
    // The arena sends its first observation right after the handshake.
    await until(() => ranges.received >= 1, `the arena process to connect (stderr: ${stderr})`);
    await lockstep(engineB, remote, async (tick) => {
      // Lockstep: the arena answers each motor frame with one step and a new observation.
      if (tick < TICKS - 1) await until(() => ranges.received >= tick + 2, `sensor frame ${tick + 1}`);
    });
    expect(await exited).toBe(0);
    await remote.close();
    await engineB.dispose();

    const remotePoses = readFileSync(trajectoryFile, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { step: number; x: number; y: number; headingRad: number });
    expect(remotePoses).toHaveLength(TICKS);
    expect(remotePoses.map(({ x, y, headingRad }) => ({ x, y, headingRad }))).toEqual(localPoses);
    // The robot moved: identical trajectories of a robot standing still would prove nothing.
    const last = localPoses.at(-1)!;
    expect(Math.hypot(last.x - 0.5, last.y - 0.5)).toBeGreaterThan(0.005);

    const summary = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(summary).toMatchObject({
      mode: 'lockstep',
      steps: TICKS,
      sensorSent: TICKS + 1,
      sensorDropped: 0,
    });
    expect(summary.collisions).toBe(local.summary().collisions);
  });
});
