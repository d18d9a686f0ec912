/**
 * Hostile input at the WebSocket ingress (issue 11, items 2–4): what reaches the log, what is
 * parsed after a fatal close, what may come before hello, which code each ill-typed field gets,
 * motor widths at hello, the channel descriptions in config, and a port that is already taken.
 */
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WsEnvironment } from '../../../src/env/ws/environment.js';
import { safeLogLine } from '../../../src/io/ws/log-line.js';
import { BridgeServer } from '../../../src/io/ws/server.js';
import {
  type Decoded,
  f32Bin,
  greetedPeer,
  hello,
  type RawPeer,
  rawPeer,
  TEST_CHANNELS,
  testServer,
  until,
} from './helpers.js';

const channels = TEST_CHANNELS;

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

async function serve() {
  const made = await testServer({ ...channels });
  cleanup.push(() => made.server.close());
  return made;
}

function track(peer: RawPeer): RawPeer {
  cleanup.push(() => peer.socket.terminate());
  return peer;
}

const isError = (code: string) => (m: Decoded) => m.t === 'error' && m.code === code;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for raw control characters.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

describe('log lines: peer text is escaped, cut and budgeted (item 2)', () => {
  it('escapes newlines and ANSI escapes in a client name, so no line can be forged', async () => {
    const { server, logs } = await serve();
    const forged = 'x\nspikeloop: budget violated: lateness p99 = 9 ms\x1b[2K\x1b[1A\u2028';
    const peer = track(await greetedPeer(server.url, { name: forged }));
    peer.send({ t: 'teleport\n\x1b[31mred' });
    await peer.next(isError('unknown-type'));
    await until(() => logs.length >= 2, 'log lines');
    for (const line of logs) expect(line).not.toMatch(CONTROL);
    expect(
      logs.some((line) => line.includes('x\\nspikeloop: budget violated') && line.includes('\\x1b[2K')),
    ).toBe(true);
    expect(logs.some((line) => line.startsWith('spikeloop: budget violated'))).toBe(false);
  });

  it('cuts long text and escapes every control character in one function', () => {
    expect(safeLogLine('a\r\nb\tc\x00\x9b')).toBe('a\\r\\nb\\tc\\x00\\x9b');
    const cut = safeLogLine('y'.repeat(60_000));
    expect(cut.length).toBeLessThan(400);
    expect(cut).toMatch(/60000 chars, cut/);
  });

  it('1000 client error frames of 60 KB: the connection is closed at the error budget, the log stays small', async () => {
    const { server, logs } = await serve();
    const peer = track(await greetedPeer(server.url));
    const text = 'E'.repeat(60_000);
    for (let k = 0; k < 1000 && peer.socket.readyState === peer.socket.OPEN; k++) {
      peer.send({ t: 'error', code: 'x', message: text });
    }
    expect(await peer.closed).toEqual({ code: 4003, reason: 'too-many-errors' });
    const bytes = logs.reduce((sum, line) => sum + line.length, 0);
    expect(bytes).toBeLessThan(20_000);
    expect(logs.length).toBeLessThan(40);
    expect(logs.some((line) => /too-many-errors/.test(line))).toBe(true);
  });

  it('a flood of junk before hello: one fatal error, nothing parsed or logged after the close', async () => {
    const { server, logs } = await serve();
    const peer = track(await rawPeer(server.url));
    for (let k = 0; k < 5000; k++) peer.sendBytes(Uint8Array.from([0xc1, k & 0xff]));
    const { code } = await peer.closed;
    expect(code).toBe(1008);
    expect(peer.messages.filter((m) => m.t === 'error')).toHaveLength(1);
    expect(peer.messages[0]).toMatchObject({ code: 'not-ready', fatal: true });
    await until(() => server.connections.size === 0, 'connection gone');
    expect(logs.length).toBeLessThanOrEqual(2);
  });

  it('a flood of bad frames after hello: at most the error budget of answers and a bounded log', async () => {
    const { server, logs } = await serve();
    const peer = track(await greetedPeer(server.url));
    for (let k = 0; k < 5000; k++) peer.send({ t: 'sensor', seq: 1, ts: 'x', v: [] });
    expect((await peer.closed).code).toBe(4003);
    expect(peer.messages.filter((m) => m.t === 'error').length).toBeLessThanOrEqual(101);
    expect(logs.length).toBeLessThan(40);
    expect(logs.some((line) => /not logged/.test(line))).toBe(true);
  });
});

describe('the protocol as documented (item 3)', () => {
  it.each([
    ['malformed MessagePack', (p: RawPeer) => p.sendBytes(Uint8Array.from([0xc1]))],
    ['a text message', (p: RawPeer) => p.socket.send('hello')],
    ['a non-map', (p: RawPeer) => p.send([1, 2])],
    ['an unknown type', (p: RawPeer) => p.send({ t: 'teleport' })],
    ['a world frame', (p: RawPeer) => p.send({ t: 'world', ts: 0, arena: {} })],
    ['a sensor frame', (p: RawPeer) => p.send({ t: 'sensor', seq: 0, ts: 0, v: [] })],
  ])('before hello, %s is a fatal not-ready error (close 1008)', async (_what, send) => {
    const { server } = await serve();
    const peer = track(await rawPeer(server.url));
    send(peer);
    const error = await peer.next(isError('not-ready'));
    expect(error.fatal).toBe(true);
    expect((await peer.closed).code).toBe(1008);
  });

  it.each([
    ['missing ts', { seq: 0, v: [f32Bin([1, 2, 3])] }, 'bad-message'],
    ['string ts', { seq: 0, ts: '5', v: [f32Bin([1, 2, 3])] }, 'bad-message'],
    ['NaN ts', { seq: 0, ts: Number.NaN, v: [f32Bin([1, 2, 3])] }, 'invalid-value'],
    ['v not an array', { seq: 0, ts: 0, v: 7 }, 'bad-message'],
    ['v of the wrong length', { seq: 0, ts: 0, v: [] }, 'channel'],
    ['a value of the wrong size', { seq: 0, ts: 0, v: [f32Bin([1, 2])] }, 'channel'],
  ])('sensor frame with %s: %s', async (_what, fields, code) => {
    const { server } = await serve();
    const peer = track(await greetedPeer(server.url));
    peer.send({ t: 'sensor', ...fields });
    expect(await peer.next((m) => m.t === 'error')).toMatchObject({ code, fatal: false });
  });

  it.each([
    ['missing version', { version: undefined }, 'bad-message', 1008],
    ['a string version', { version: '1' }, 'bad-message', 1008],
    ['version 2', { version: 2 }, 'version', 4000],
    ['a channel name of 65 chars', { sensors: [{ name: 'r'.repeat(65), size: 3 }] }, 'bad-message', 1008],
    ['a channel of another size', { sensors: [{ name: 'ranges', size: 4 }] }, 'channel', 1008],
    ['a motor channel of another size', { motors: [{ name: 'wheels', size: 3 }] }, 'channel', 1008],
  ])('hello with %s: fatal %s', async (_what, overrides, code, close) => {
    const { server } = await serve();
    const peer = track(await rawPeer(server.url));
    peer.send(hello(overrides));
    expect(await peer.next((m) => m.t === 'error')).toMatchObject({ code, fatal: true });
    expect((await peer.closed).code).toBe(close);
  });
});

describe('ws environment: motor widths and channel descriptions', () => {
  async function wsEnv(): Promise<WsEnvironment> {
    const env = new WsEnvironment({ clusters: 20, tickMs: 1, server: { port: 0, log: () => {} } });
    await env.listen();
    cleanup.push(() => env.close());
    return env;
  }

  it('refuses cmd_vel declared with a width the decoder does not produce (was: accepted, then silence)', async () => {
    const env = await wsEnv();
    const peer = track(await rawPeer(env.server!.url));
    peer.send(hello({ sensors: [], motors: [{ name: 'cmd_vel', size: 3 }] }));
    const error = await peer.next(isError('channel'));
    expect(error.message).toMatch(/cmd_vel.*3 values.*expects 2/);
    expect((await peer.closed).code).toBe(1008);
  });

  it('describes the arena channels in config: order, units, ranges, ray angles and signs', async () => {
    const env = await wsEnv();
    const peer = track(await rawPeer(env.server!.url));
    peer.send(
      hello({
        sensors: [
          { name: 'target', size: 2 },
          { name: 'ranges', size: 7 },
        ],
        motors: [{ name: 'cmd_vel', size: 2 }],
      }),
    );
    const config = await peer.next((m) => m.t === 'config');
    const [target, ranges] = config.sensors as Decoded[];
    expect(target).toMatchObject({ name: 'target', size: 2, components: ['bearing', 'distance'] });
    expect(target!.units).toEqual(['rad', 'm']);
    expect(target!.description).toMatch(/counter-clockwise positive/);
    expect(ranges).toMatchObject({ name: 'ranges', size: 7, units: Array(7).fill('m') });
    expect((ranges!.anglesRad as number[]).map((a) => Math.round((a * 180) / Math.PI))).toEqual([
      -90, -60, -30, 0, 30, 60, 90,
    ]);
    expect(ranges!.min).toEqual(Array(7).fill(0));
    expect(ranges!.max).toEqual(Array(7).fill(1));
    const [cmd] = config.motors as Decoded[];
    expect(cmd).toMatchObject({
      name: 'cmd_vel',
      size: 2,
      components: ['v', 'omega'],
      units: ['m/s', 'rad/s'],
    });
    expect(cmd!.max).toEqual([0.4, 4]);
  });
});

describe('a port in use (item 4)', () => {
  it('is one error naming the address and the option, not an uncaught error event', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
    const port = (blocker.address() as { port: number }).port;
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    cleanup.push(() => void process.off('uncaughtException', onUncaught));
    await expect(BridgeServer.listen({ port, portHint: '--env-set port=N', log: () => {} })).rejects.toThrow(
      `cannot listen on 127.0.0.1:${port}: the port is in use by another process (EADDRINUSE); choose another with --env-set port=N`,
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(uncaught).toEqual([]);
  });
});
