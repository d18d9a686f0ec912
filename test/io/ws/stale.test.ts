/**
 * The loop's stale-input policy over the ws protocol (real server, real simulator socket, real CPU
 * engine, real tick loop): zero motor frames before the first sensor frame, decoded ones while
 * frames come, zeros once the simulator goes silent, and stale at once when it disconnects.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../../src/engine/create.js';
import type { Engine } from '../../../src/engine/engine.js';
import { WsEnvironment } from '../../../src/env/ws/environment.js';
import type { SafetySettings } from '../../../src/loop/safety.js';
import { TickLoop } from '../../../src/loop/tick-loop.js';
import { deriveNetwork } from '../../../src/model/network.js';
import { modelParams } from '../../../src/model/params.js';
import { type Decoded, f32Bin, greetedPeer, type RawPeer, until } from './helpers.js';

const network = deriveNetwork(modelParams('ei-clustered', 1000, { seed: 3 }));
let engine: Engine;
let env: WsEnvironment | null = null;
let loop: TickLoop | null = null;
let running: Promise<void> | null = null;

beforeAll(async () => {
  engine = await createEngine('cpu', { networks: [network] });
});
afterAll(async () => {
  await engine.dispose();
});
afterEach(async () => {
  loop?.stop();
  await running;
  await env?.close();
  env = null;
  loop = null;
});

const channels = {
  sensors: [
    { name: 'ranges', size: 7, rateHz: 1000 },
    { name: 'target', size: 2, rateHz: 1000 },
  ],
  motors: [{ name: 'cmd_vel', size: 2, rateHz: 1000 }],
};

function motorValues(message: Decoded): number[] {
  const bytes = (message.v as Uint8Array[])[0]!;
  return [...new Float32Array(new Uint8Array(bytes).buffer)];
}

async function start(safety: SafetySettings, log: string[]) {
  env = new WsEnvironment({
    clusters: network.layout.clusters,
    tickMs: 1,
    server: { port: 0, log: () => {} },
  });
  await env.listen();
  loop = new TickLoop({
    engine,
    env,
    tickMs: 1,
    dtMs: network.params.dtMs,
    latePolicy: 'skip',
    safety,
    warn: (message) => log.push(message),
  });
  running = loop.run(20_000);
  return { env, loop };
}

/** Sends sensor frames (a wall 0.3 m ahead) every 2 ms for `ms`. */
async function feed(peer: RawPeer, ms: number, seq0: number): Promise<number> {
  const from = performance.now();
  let seq = seq0;
  while (performance.now() - from < ms) {
    peer.send({ t: 'sensor', seq: seq++, ts: 0, v: [f32Bin([0.3, 0.3, 0.3, 2, 2, 2, 2]), f32Bin([1, 0.5])] });
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return seq;
}

describe('stale-input policy over the ws protocol', () => {
  it('zeros before the first frame, commands while frames come, zeros after the simulator goes silent', async () => {
    const log: string[] = [];
    await start({ defaultStaleAfterMs: 150 }, log);
    const peer = await greetedPeer(env!.server!.url, channels);
    const motors = () => peer.messages.filter((m) => m.t === 'motor');
    await until(() => motors().length >= 20, '20 motor frames before any sensor frame');
    expect(motors().every((m) => motorValues(m).every((v) => v === 0))).toBe(true);

    const fedFrom = motors().length;
    const seq = await feed(peer, 600, 1);
    const fed = motors().slice(fedFrom);
    expect(fed.some((m) => motorValues(m).some((v) => v !== 0))).toBe(true);
    expect(
      log.some((line) =>
        /^safety: cmd_vel resumes: (ranges|target), (ranges|target) fresh again$/.test(line),
      ),
    ).toBe(true);

    // Silent but connected: once 150 ms passed without a frame, only zeros.
    await new Promise((resolve) => setTimeout(resolve, 400));
    const silentFrom = motors().length;
    await until(() => motors().length >= silentFrom + 20, '20 motor frames while silent');
    expect(
      motors()
        .slice(silentFrom)
        .every((m) => motorValues(m).every((v) => v === 0)),
    ).toBe(true);
    // Logged on entry, not per tick (a loaded machine may have stalled once while feeding, too).
    const entries = log.filter((line) => /^safety: cmd_vel → stop: (ranges|target) stale/.test(line));
    expect(entries.length).toBeGreaterThanOrEqual(1);
    expect(entries.length).toBeLessThanOrEqual(3);
    expect(loop!.safety.state().staleInputs.sort()).toEqual(['ranges', 'target']);
    expect(loop!.safety.state().outputs).toEqual({ cmd_vel: 'stop' });
    expect(seq).toBeGreaterThan(10);
    peer.socket.terminate();
  });

  it('a disconnect makes the inputs stale at once, without waiting for the timeout', async () => {
    const log: string[] = [];
    await start({ defaultStaleAfterMs: 60_000 }, log);
    const peer = await greetedPeer(env!.server!.url, channels);
    await feed(peer, 300, 1);
    await until(() => loop!.safety.state().outputs.cmd_vel === 'command', 'commands while fed');
    const closedAt = performance.now();
    const logged = log.length;
    peer.socket.terminate();
    await until(() => loop!.safety.state().outputs.cmd_vel === 'stop', 'stop after the disconnect', 2000);
    expect(performance.now() - closedAt).toBeLessThan(2000);
    await new Promise((resolve) => setTimeout(resolve, 50)); // log lines are printed off the tick
    const offline = log
      .slice(logged)
      .filter((line) => /^safety: cmd_vel → stop: (ranges|target) offline$/.test(line));
    expect(offline).toHaveLength(1);
  });
});
