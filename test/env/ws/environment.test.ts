import { afterEach, describe, expect, it } from 'vitest';
import { arenaView } from '../../../src/env/arena/view.js';
import { Arena, DEFAULT_ARENA } from '../../../src/env/arena/world.js';
import { createEnvironment } from '../../../src/env/registry.js';
import { WsEnvironment } from '../../../src/env/ws/environment.js';
import { BridgeClient } from '../../../src/io/ws/client.js';
import { layoutOf } from '../../../src/model/network.js';
import { modelParams } from '../../../src/model/params.js';
import { type Decoded, f32Bin, greetedPeer, rawPeer, until } from '../../io/ws/helpers.js';

const arenaChannels = {
  sensors: [
    { name: 'ranges', size: 7, rateHz: 1000 },
    { name: 'target', size: 2, rateHz: 1000 },
  ],
  motors: [{ name: 'cmd_vel', size: 2, rateHz: 1000 }],
};

let env: WsEnvironment | null = null;
afterEach(async () => {
  await env?.close();
  env = null;
});

async function listen(): Promise<WsEnvironment> {
  env = new WsEnvironment({ clusters: 20, tickMs: 1, server: { port: 0, log: () => {} } });
  await env.listen();
  return env;
}

const ones = (n: number) => f32Bin(Array.from({ length: n }, () => 1));
const motorsOf = (messages: Decoded[]) => messages.filter((m) => m.t === 'motor');

describe('ws environment', () => {
  it('exposes the arena mapping channels: sources ranges and target, sink cmd_vel', async () => {
    const ws = await listen();
    expect(ws.sources.map((s) => s.name).sort()).toEqual(['ranges', 'target']);
    expect(ws.sinks.map((s) => s.name)).toEqual(['cmd_vel']);
    expect(ws.encoders.length).toBeGreaterThan(0);
    expect(ws.decoders.map((d) => d.output)).toEqual(['cmd_vel']);
  });

  it('newest sample wins, superseded samples are counted, nil leaves a channel untouched', async () => {
    const ws = await listen();
    const peer = await greetedPeer(ws.server!.url, arenaChannels);
    peer.send({ t: 'sensor', seq: 5, ts: 0, v: [ones(7), f32Bin([0.1, 2])] });
    peer.send({ t: 'sensor', seq: 6, ts: 0, v: [f32Bin([0, 1, 2, 3, 4, 5, 6]), null] });
    const ranges = ws.sources.find((s) => s.name === 'ranges')!;
    const target = ws.sources.find((s) => s.name === 'target')!;
    await until(() => ranges.received === 2, 'two range samples');
    const sample = ranges.takeLatest()!;
    expect(sample.seq).toBe(6);
    expect([...sample.values]).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(ranges.takeLatest()).toBeNull();
    expect(target.takeLatest()!.seq).toBe(5);
    expect(ws.summary()).toMatchObject({ simulators: 1, sensorSamples: 3, sensorSuperseded: 1 });
    peer.socket.terminate();
  });

  it('motor frames carry, per simulator, the seq of its newest sensor frame the tick consumed', async () => {
    const ws = await listen();
    const a = await greetedPeer(ws.server!.url, { ...arenaChannels, name: 'a' });
    const b = await greetedPeer(ws.server!.url, { ...arenaChannels, name: 'b' });
    const observer = await greetedPeer(ws.server!.url, { role: 'observer', sensors: [], motors: [] });
    a.send({ t: 'sensor', seq: 41, ts: 0, v: [ones(7), null] });
    const ranges = ws.sources.find((s) => s.name === 'ranges')!;
    await until(() => ranges.received === 1, 'sample from a');
    ranges.takeLatest();
    ws.sinks[0]!.write({ values: Float32Array.of(0.2, -0.5), sourceSeq: { ranges: 41 }, computedUs: 1234 });
    await until(() => motorsOf(a.messages).length === 1 && motorsOf(b.messages).length === 1, 'motor frames');
    const toA = motorsOf(a.messages)[0]!;
    expect(toA).toMatchObject({ seq: 41, ts: 1234, tick: 1 });
    const values = (toA.v as Uint8Array[])[0]!;
    expect([...new Float32Array(new Uint8Array(values).buffer)]).toEqual([Math.fround(0.2), -0.5]);
    expect(motorsOf(b.messages)[0]).toMatchObject({ seq: -1 });
    expect(motorsOf(observer.messages)).toEqual([]);
    // The stamp is the command's sourceSeq of the inputs whose sample came from that simulator:
    // b's seq 7 goes back to b only; a keeps its newest answered seq.
    b.send({ t: 'sensor', seq: 7, ts: 0, v: [ones(7), null] });
    await until(() => ranges.received === 2, 'sample from b');
    ranges.takeLatest();
    ws.sinks[0]!.write({ values: Float32Array.of(0, 0), sourceSeq: { ranges: 7 }, computedUs: 1235 });
    await until(
      () => motorsOf(a.messages).length === 2 && motorsOf(b.messages).length === 2,
      'second frames',
    );
    expect(motorsOf(a.messages)[1]).toMatchObject({ seq: 41, tick: 2 });
    expect(motorsOf(b.messages)[1]).toMatchObject({ seq: 7, tick: 2 });
    // A command of another width than the simulator declared is not sent, and counted.
    ws.sinks[0]!.write({ values: Float32Array.of(1, 2, 3), sourceSeq: {}, computedUs: 0 });
    expect(ws.summary().motorSizeMismatches).toBe(2);
    for (const peer of [a, b, observer]) peer.socket.terminate();
  });

  it('shows live consumers the newest world view a simulator sends', async () => {
    const ws = await listen();
    expect(ws.view.world()).toBeNull();
    const arena = new Arena(DEFAULT_ARENA);
    const client = new BridgeClient({
      url: ws.server!.url,
      role: 'simulator',
      ...arenaChannels,
      reconnect: false,
    });
    await client.ready();
    const view = arenaView(arena.scene(), arena.state());
    expect(client.sendWorld(view)).toBe(true);
    await until(() => ws.view.world() !== null, 'world view');
    expect(ws.view.world()).toEqual(view);
    await client.close();
  });

  it('refuses simulators declaring channels the mapping does not have', async () => {
    const ws = await listen();
    const peer = await rawPeer(ws.server!.url);
    peer.send({
      t: 'hello',
      protocol: 'spikeloop',
      version: 1,
      role: 'simulator',
      sensors: [{ name: 'ranges', size: 5, rateHz: 0 }],
      motors: [],
    });
    const error = await peer.next((m) => m.t === 'error');
    expect(error).toMatchObject({ code: 'channel', fatal: true });
    expect(error.message).toMatch(/"ranges" has 5 values; this bridge expects 7/);
  });

  it('is created by name from the environment registry', async () => {
    const layout = layoutOf(modelParams('ei-clustered', 500));
    const created = await createEnvironment('ws', {
      layout,
      tickMs: 1,
      seed: 1,
      clockUs: () => performance.now() * 1000,
      settings: { port: 0 },
    });
    env = created as WsEnvironment;
    expect(created.name).toBe('ws');
    expect(env.server!.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
  });

  it('refuses unknown settings and bad ports', async () => {
    const base = {
      layout: layoutOf(modelParams('ei-clustered', 500)),
      tickMs: 1,
      seed: 1,
      clockUs: () => performance.now() * 1000,
    };
    await expect(createEnvironment('ws', { ...base, settings: { prot: 1 } })).rejects.toThrow(
      /unknown setting "prot"; expected host, port, token, mapping/,
    );
    await expect(createEnvironment('ws', { ...base, settings: { port: 'x' } })).rejects.toThrow(
      /port must be an integer/,
    );
    await expect(
      createEnvironment('ws', { ...base, settings: { port: 0, host: '0.0.0.0' } }),
    ).rejects.toThrow(/a token is required/);
  });
});
