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
import { createEngine } from '../../../src/engine/create.js';
import type { Engine } from '../../../src/engine/engine.js';
import { ArenaEnvironment } from '../../../src/env/arena/environment.js';
import { WsEnvironment } from '../../../src/env/ws/environment.js';
import type { TickObserver } from '../../../src/loop/observer.js';
import type { Environment } from '../../../src/loop/ports.js';
import { virtualTime } from '../../../src/loop/sleep.js';
import { TickLoop } from '../../../src/loop/tick-loop.js';
import { deriveNetwork } from '../../../src/model/network.js';
import { modelParams } from '../../../src/model/params.js';

const BIN = fileURLToPath(new URL('../../../bin/spikeloop.js', import.meta.url));
const TICKS = 400;
const N = 500;
const SEED = 4;

const work = mkdtempSync(join(tmpdir(), 'spikeloop-arena-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const network = deriveNetwork(modelParams('ei-clustered', N, { seed: SEED }));

async function engineFor(): Promise<Engine> {
  return createEngine('cpu', { networks: [network], threads: 1 });
}

/** What the loops warned about (stale inputs, bad values, missed ticks): a sound run has nothing. */
const warnings: string[] = [];

/**
 * The one TickLoop on simulated time, TICKS ticks. `beforeTick(k)` runs in the sleeper before
 * tick k: a remote world waits there for its next observation (lockstep), so both runs see the
 * same samples in the same ticks.
 */
async function lockstep(
  engine: Engine,
  env: Environment,
  beforeTick: (tick: number) => Promise<void>,
  observer?: TickObserver,
): Promise<void> {
  const time = virtualTime();
  const loop: TickLoop = new TickLoop({
    engine,
    env,
    tickMs: 1,
    dtMs: network.params.dtMs,
    latePolicy: 'late',
    clock: time.clock,
    sleep: async (deadlineUs, mayBlock) => {
      await time.sleep(deadlineUs, mayBlock);
      await beforeTick(loop.telemetry.counters.ticks);
    },
    warn: (message) => warnings.push(message),
  });
  if (observer) loop.addObserver(observer);
  await loop.run(TICKS);
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
    // The loop steps the in-process arena itself after every tick.
    await lockstep(engineA, local, async () => {}, {
      onTick: () => {
        const { x, y, headingRad } = local.state().robot;
        localPoses.push({ x, y, headingRad });
      },
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
      // Lockstep: the arena answers each motor frame with one step and a new observation; tick k
      // reads observation k (the first came with the handshake).
      if (tick < TICKS) await until(() => ranges.received >= tick + 1, `sensor frame ${tick}`);
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
    expect(warnings).toEqual([]);
  });
});
