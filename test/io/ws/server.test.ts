import { afterEach, describe, expect, it } from 'vitest';
import { BridgeClient } from '../../../src/io/ws/client.js';
import type { MotorFrame, SensorFrame } from '../../../src/io/ws/protocol.js';
import type { Connection } from '../../../src/io/ws/server.js';
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

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

async function serve(options: Parameters<typeof testServer>[0] = {}) {
  const received: { connection: Connection; frame: SensorFrame }[] = [];
  const made = await testServer({
    ...channels,
    onSensor: (connection, frame) => received.push({ connection, frame }),
    ...options,
  });
  cleanup.push(() => made.server.close());
  return { ...made, received };
}

function track(peer: RawPeer): RawPeer {
  cleanup.push(async () => {
    peer.socket.terminate();
  });
  return peer;
}

const isError = (code: string) => (m: Decoded) => m.t === 'error' && m.code === code;

describe('handshake and round trip over loopback', () => {
  it('answers hello with config and carries sensor and motor frames both ways (plain maps)', async () => {
    const { server, received } = await serve({ tickMs: 1 });
    const peer = track(await rawPeer(server.url));
    peer.send(hello());
    const config = await peer.next((m) => m.t === 'config');
    expect(config).toMatchObject({
      protocol: 'spikeloop',
      version: 1,
      role: 'simulator',
      tickMs: 1,
      features: [],
    });
    expect(config.limits).toMatchObject({ maxFrameBytes: 64 * 1024 });

    peer.send({ t: 'sensor', seq: 7, ts: 123.5, v: [f32Bin([0.5, 1.5, -2])] });
    await until(() => received.length === 1, 'sensor frame');
    expect(received[0]!.frame.seq).toBe(7);
    expect(received[0]!.frame.ts).toBe(123.5);
    expect([...received[0]!.frame.v[0]!]).toEqual([0.5, 1.5, -2]);

    const motor: MotorFrame = { t: 'motor', seq: 7, ts: 99, tick: 3, v: [new Float32Array([0.25, -0.75])] };
    server.sendMotor(received[0]!.connection, motor);
    const got = await peer.next((m) => m.t === 'motor');
    expect(got).toMatchObject({ seq: 7, ts: 99, tick: 3 });
    const bin = (got.v as Uint8Array[])[0]!;
    expect([...new Float32Array(new Uint8Array(bin).buffer)]).toEqual([0.25, -0.75]);
  });

  it('accepts values as a MessagePack array of numbers as well as float32 bins', async () => {
    const { server, received } = await serve();
    const peer = track(await greetedPeer(server.url));
    peer.send({ t: 'sensor', seq: 0, ts: 0, v: [[1, 2, 3]] });
    peer.send({ t: 'sensor', seq: 1, ts: 1, v: [null] });
    await until(() => received.length === 2, 'two frames');
    expect([...received[0]!.frame.v[0]!]).toEqual([1, 2, 3]);
    expect(received[1]!.frame.v[0]).toBeNull();
  });

  it('puts the shared records on the wire when the records feature is granted', async () => {
    const { server, received } = await serve();
    const wire: Buffer[] = [];
    const client = new BridgeClient({
      url: server.url,
      role: 'simulator',
      ...channels,
      features: ['records'],
      reconnect: false,
      onMotor: (frame) => motors.push(frame),
    });
    const motors: MotorFrame[] = [];
    cleanup.push(() => client.close());
    const config = await client.ready();
    expect(config.features).toEqual(['records']);
    const connection = [...server.clients('simulator')][0]!;
    const send = connection.socket.send.bind(connection.socket);
    connection.socket.send = ((data: Buffer, cb?: (error?: Error) => void) => {
      wire.push(Buffer.from(data));
      send(data, cb);
    }) as typeof connection.socket.send;

    expect(client.sendSensor([new Float32Array([1, 2, 3])], 5)).toBe(0);
    await until(() => received.length === 1, 'record sensor frame');
    expect([...received[0]!.frame.v[0]!]).toEqual([1, 2, 3]);

    server.sendMotor(connection, { t: 'motor', seq: 0, ts: 1, tick: 1, v: [new Float32Array([3, 4])] });
    await until(() => motors.length === 1, 'record motor frame');
    // Record 0x41 = ['t','seq','ts','tick','v'], then the values: "motor", 0, 1, 1, [bin8 of 8 bytes].
    expect(wire[0]!.subarray(0, 7).toString('hex')).toBe('41a56d6f746f72');
    expect(wire[0]!.subarray(7, 10).toString('hex')).toBe('000101');
    expect(wire[0]!.subarray(10, 13).toString('hex')).toBe('91c408');
    expect([...motors[0]!.v[0]!]).toEqual([3, 4]);
  });

  it('sends motor frames as plain MessagePack maps to clients without records', async () => {
    const { server } = await serve();
    const peer = track(await greetedPeer(server.url));
    const connection = [...server.clients('simulator')][0]!;
    server.sendMotor(connection, { t: 'motor', seq: 1, ts: 2, tick: 3, v: [null] });
    await peer.next((m) => m.t === 'motor');
    expect(peer.messages.at(-1)).toEqual({ t: 'motor', seq: 1, ts: 2, tick: 3, v: [null] });
  });
});

describe('bad input: an error frame, a log line, and the other clients keep being served', () => {
  async function withBystander() {
    const made = await serve();
    const bystander = track(await greetedPeer(made.server.url, { name: 'bystander' }));
    let seq = 0;
    const stillServed = async () => {
      const before = made.received.length;
      bystander.send({ t: 'sensor', seq: seq++, ts: 0, v: [f32Bin([1, 1, 1])] });
      await until(() => made.received.length === before + 1, 'bystander frame');
      expect(made.received.at(-1)!.connection.hello!.name).toBe('bystander');
    };
    return { ...made, stillServed };
  }

  it('malformed MessagePack', async () => {
    const { server, logs, stillServed } = await withBystander();
    const peer = track(await greetedPeer(server.url));
    peer.sendBytes(Uint8Array.from([0xc1]));
    const error = await peer.next(isError('malformed'));
    expect(error).toMatchObject({ fatal: false, seq: -1 });
    expect(error.message).toMatch(/not valid MessagePack/);
    peer.sendBytes(Uint8Array.from([0x92, 0x01])); // array of 2 with one element: truncated
    await until(() => peer.messages.filter(isError('malformed')).length === 2, 'second error');
    expect(logs.some((line) => /session \d+ "test".*malformed/.test(line))).toBe(true);
    await stillServed();
    // The offender is still connected too: a non-fatal error only discards the frame.
    peer.send({ t: 'sensor', seq: 0, ts: 0, v: [f32Bin([2, 2, 2])] });
    await until(() => server.connections.size === 2 && logs.length > 0, 'still connected');
  });

  it('text frames and non-map messages', async () => {
    const { server, stillServed } = await withBystander();
    const peer = track(await greetedPeer(server.url));
    peer.socket.send('{"t":"sensor"}');
    expect((await peer.next(isError('malformed'))).message).toMatch(/binary/);
    peer.send([1, 2, 3]);
    expect((await peer.next(isError('bad-message'))).message).toMatch(/map/);
    await stillServed();
  });

  it('unknown message types', async () => {
    const { server, logs, stillServed } = await withBystander();
    const peer = track(await greetedPeer(server.url));
    peer.send({ t: 'teleport', x: 1 });
    const error = await peer.next(isError('unknown-type'));
    expect(error.message).toMatch(/"teleport"/);
    expect(logs.some((line) => line.includes('unknown-type'))).toBe(true);
    peer.send({ t: 'motor', seq: 1, ts: 0, tick: 0, v: [] });
    expect((await peer.next(isError('bad-message'))).message).toMatch(/sent by the server/);
    await stillServed();
  });

  it('wrong protocol version: fatal, closed with 4000', async () => {
    const { server, logs, stillServed } = await withBystander();
    const peer = track(await rawPeer(server.url));
    peer.send(hello({ version: 2 }));
    const error = await peer.next(isError('version'));
    expect(error).toMatchObject({ fatal: true });
    expect(error.message).toMatch(/version 2 is not supported.*version 1/);
    expect(await peer.closed).toEqual({ code: 4000, reason: 'version' });
    expect(logs.some((line) => line.includes('version: protocol version 2'))).toBe(true);
    await stillServed();
  });

  it('frames above maxFrameBytes are discarded with too-large; above maxPayloadBytes the socket is closed', async () => {
    const { server, logs, stillServed } = await withBystander();
    const peer = track(await greetedPeer(server.url));
    const big = { t: 'sensor', seq: 0, ts: 0, v: [new Uint8Array(server.limits.maxFrameBytes)] };
    peer.send(big);
    const error = await peer.next(isError('too-large'));
    expect(error).toMatchObject({ fatal: false });
    expect(error.message).toMatch(/exceeds maxFrameBytes 65536/);
    await stillServed();

    const huge = track(await greetedPeer(server.url));
    huge.sendBytes(new Uint8Array(server.limits.maxPayloadBytes + 1));
    expect((await huge.closed).code).toBe(1009);
    await until(() => logs.some((line) => line.includes('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH')), 'payload log');
    await stillServed();
  });

  it('NaN and Inf values', async () => {
    const { server, received, logs, stillServed } = await withBystander();
    const peer = track(await greetedPeer(server.url));
    peer.send({ t: 'sensor', seq: 0, ts: 0, v: [f32Bin([1, Number.NaN, 3])] });
    const nan = await peer.next(isError('invalid-value'));
    expect(nan).toMatchObject({ fatal: false, seq: 0 });
    expect(nan.message).toMatch(/sensor\.v\[0\] \(ranges\)\[1\] is NaN/);
    peer.send({ t: 'sensor', seq: 1, ts: 0, v: [[1, 2, Number.POSITIVE_INFINITY]] });
    await until(() => peer.messages.filter(isError('invalid-value')).length === 2, 'inf error');
    expect(peer.messages.filter(isError('invalid-value'))[1]!.message).toMatch(/\[2\] is Infinity/);
    peer.send({ t: 'sensor', seq: 2, ts: Number.NEGATIVE_INFINITY, v: [null] });
    await until(() => peer.messages.filter(isError('invalid-value')).length === 3, 'ts error');
    expect(received.every((r) => r.connection.hello!.name === 'bystander')).toBe(true);
    expect(logs.filter((line) => line.includes('invalid-value'))).toHaveLength(3);
    await stillServed();
  });

  it('missing or wrong token: unauthorized, closed with 4001', async () => {
    const { server, logs } = await serve({ token: 's3cret' });
    const good = track(await greetedPeer(server.url, { token: 's3cret', name: 'good' }));
    const missing = track(await rawPeer(server.url));
    missing.send(hello());
    const error = await missing.next(isError('unauthorized'));
    expect(error).toMatchObject({ fatal: true });
    expect(error.message).toMatch(/requires a token/);
    expect((await missing.closed).code).toBe(4001);
    const wrong = track(await rawPeer(server.url));
    wrong.send(hello({ token: 'guess' }));
    expect((await wrong.next(isError('unauthorized'))).message).toMatch(/does not match/);
    expect(logs.filter((line) => line.includes('unauthorized'))).toHaveLength(2);
    good.send({ t: 'sensor', seq: 0, ts: 0, v: [f32Bin([1, 2, 3])] });
    await until(() => server.connections.size === 1, 'only the good client left');
  });

  it('the client gives up instead of reconnecting when the token is refused', async () => {
    const { server } = await serve({ token: 's3cret' });
    const client = new BridgeClient({
      url: server.url,
      role: 'observer',
      token: 'nope',
      reconnect: { initialMs: 1 },
    });
    await expect(client.ready()).rejects.toThrow(/unauthorized: hello.token does not match/);
    expect(client.stats.reconnects).toBe(0);
  });
});

describe('world frames', () => {
  const world = (robot: number[]) => ({
    t: 'world',
    ts: 1,
    arena: {
      width: 4,
      height: 4,
      robot: f32Bin(robot),
      robotRadius: 0.1,
      rays: f32Bin([0, 1]),
      targets: f32Bin([1, 1, 0.2]),
      obstacles: f32Bin([]),
      segments: f32Bin([]),
      collisions: 0,
      targetsReached: 0,
    },
  });

  it('relays a simulator world view and refuses non-finite ones or ones from observers', async () => {
    const worlds: unknown[] = [];
    const { server } = await serve({ onWorld: (_connection, frame) => worlds.push(frame) });
    const peer = track(await greetedPeer(server.url));
    peer.send(world([1, 2, 0.5]));
    await until(() => worlds.length === 1, 'world frame');
    expect([...(worlds[0] as { arena: { robot: Float32Array } }).arena.robot]).toEqual([1, 2, 0.5]);
    peer.send(world([1, Number.NaN, 0]));
    expect((await peer.next(isError('invalid-value'))).message).toMatch(/world\.arena\.robot must be finite/);
    const observer = track(await greetedPeer(server.url, { role: 'observer', sensors: [], motors: [] }));
    observer.send(world([0, 0, 0]));
    expect((await observer.next(isError('bad-message'))).message).toMatch(
      /only simulator clients send world frames/,
    );
    expect(worlds).toHaveLength(1);
  });
});

describe('limits', () => {
  it('frames before hello are refused (not-ready) and the connection closed', async () => {
    const { server } = await serve();
    const peer = track(await rawPeer(server.url));
    peer.send({ t: 'sensor', seq: 0, ts: 0, v: [] });
    expect((await peer.next(isError('not-ready'))).fatal).toBe(true);
    expect((await peer.closed).code).toBe(1008);
  });

  it('hello must come within helloTimeoutMs', async () => {
    const { server } = await serve({ serverLimits: { helloTimeoutMs: 50 } });
    const peer = track(await rawPeer(server.url));
    expect((await peer.next(isError('hello-timeout'))).message).toMatch(/no hello within 50 ms/);
    expect((await peer.closed).code).toBe(4002);
  });

  it('sequence numbers must increase', async () => {
    const { server, received } = await serve();
    const peer = track(await greetedPeer(server.url));
    peer.send({ t: 'sensor', seq: 5, ts: 0, v: [null] });
    peer.send({ t: 'sensor', seq: 5, ts: 0, v: [null] });
    const error = await peer.next(isError('sequence'));
    expect(error).toMatchObject({ seq: 5, fatal: false });
    expect(received).toHaveLength(1);
  });

  it('channel declarations: unknown names, wrong sizes, too many, too large', async () => {
    const { server } = await serve({ limits: { maxChannels: 2, maxChannelValues: 8 } });
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        { sensors: [{ name: 'sonar', size: 3 }] },
        /unknown sensor channel "sonar"; this bridge has ranges\[3\]/,
      ],
      [{ motors: [{ name: 'wheels', size: 4 }] }, /"wheels" has 4 values; this bridge expects 2/],
      [{ sensors: [1, 2, 3].map((k) => ({ name: `s${k}`, size: 1 })) }, /3 channels > limit 2/],
      [{ sensors: [{ name: 'ranges', size: 9 }] }, /size must be an integer 1–8/],
    ];
    for (const [overrides, pattern] of cases) {
      const peer = track(await rawPeer(server.url));
      peer.send(hello(overrides));
      expect((await peer.next(isError('channel'))).message).toMatch(pattern);
    }
    const peer = track(await greetedPeer(server.url));
    peer.send({ t: 'sensor', seq: 0, ts: 0, v: [f32Bin([1, 2])] });
    expect((await peer.next(isError('channel'))).message).toMatch(
      /expected 3 float32 \(12 bytes\), got 8 bytes/,
    );
  });

  it('maxClients: the next client gets server-full', async () => {
    const { server } = await serve({ serverLimits: { maxClients: 1 } });
    track(await greetedPeer(server.url));
    const extra = track(await rawPeer(server.url));
    expect((await extra.next(isError('server-full'))).fatal).toBe(true);
    expect((await extra.closed).code).toBe(4004);
    // A refused client does not keep its seat: once the first leaves, a new one is served.
    const first = [...server.clients('simulator')][0]!;
    first.socket.close();
    await until(() => server.connections.size === 0, 'both gone');
    track(await greetedPeer(server.url));
    expect(server.connections.size).toBe(1);
  });

  it('maxErrorsPerConnection closes a client that keeps sending garbage', async () => {
    const { server } = await serve({ serverLimits: { maxErrorsPerConnection: 3 } });
    const peer = track(await greetedPeer(server.url));
    for (let k = 0; k < 3; k++) peer.sendBytes(Uint8Array.from([0xc1]));
    expect((await peer.next(isError('too-many-errors'))).fatal).toBe(true);
    expect((await peer.closed).code).toBe(4003);
  });

  it('maxFramesPerS: frames over the budget are discarded, counted, answered once with rate', async () => {
    const { server, received } = await serve({ limits: { maxFramesPerS: 100 } });
    const peer = track(await greetedPeer(server.url));
    // The burst allowance is max(10, rate/10) = 10 frames; a flood of 200 cannot all be accepted
    // in the few ms it takes to send them (100 frames/s refill).
    for (let seq = 0; seq < 200; seq++) peer.send({ t: 'sensor', seq, ts: 0, v: [null] });
    const error = await peer.next(isError('rate'));
    expect(error.message).toMatch(/more than 100 frames\/s/);
    const connection = [...server.clients('simulator')][0]!;
    await until(() => connection.stats.rateDropped + received.length === 200, 'all frames handled');
    expect(connection.stats.rateDropped).toBeGreaterThan(100);
    expect(peer.messages.filter(isError('rate'))).toHaveLength(1);
  });

  it('binding beyond loopback requires a token', async () => {
    await expect(testServer({ host: '0.0.0.0' })).rejects.toThrow(/a token is required/);
    const { server } = await testServer({ host: '0.0.0.0', token: 't' });
    cleanup.push(() => server.close());
    expect(server.url).toMatch(/^ws:\/\/0\.0\.0\.0:\d+$/);
  });
});

describe('backpressure', () => {
  it('a reader that stalls makes the server drop telemetry (newest wins) instead of queueing or blocking', async () => {
    const { server } = await serve();
    const slow = track(await greetedPeer(server.url, { role: 'observer', sensors: [], motors: [] }));
    slow.socket.pause(); // stop reading: the kernel buffers fill, then ws's bufferedAmount grows
    const frame = {
      t: 'telemetry' as const,
      tick: 1,
      ts: 0,
      tickMs: 1,
      rates: new Float32Array(16_000), // 64 KB per frame
      spikes: { step: new Uint32Array(0), id: new Uint32Array(0), neurons: 1, dropped: 0 },
      latency: {},
      histogram: null,
      counters: {},
      arena: null,
    };
    const connection = [...server.clients('observer')][0]!;
    for (let k = 0; k < 400 && connection.sender.dropped === 0; k++) {
      server.broadcastTelemetry(frame);
      // Let the socket write what it can, as the event loop would between telemetry frames.
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(connection.sender.dropped).toBeGreaterThan(0);
    expect(connection.sender.waiting).toBe(1);
    expect(server.outboundDropped).toBe(connection.sender.dropped);
    // Bytes queued in user space stay bounded by the high-water mark plus one frame.
    expect(connection.socket.bufferedAmount).toBeLessThan(server.serverLimits.highWaterBytes + 2 * 64_100);
  });
});

describe('reconnection', () => {
  it('the client reconnects with backoff when the bridge restarts on the same port', async () => {
    const first = await testServer(channels);
    const configs: number[] = [];
    const client = new BridgeClient({
      url: first.server.url,
      role: 'simulator',
      ...channels,
      reconnect: { initialMs: 10, maxMs: 50, jitter: 0 },
      onConfig: (config) => configs.push(config.session),
    });
    cleanup.push(() => client.close());
    await client.ready();
    const port = first.server.port;
    await first.server.close();
    expect(client.connected).toBe(false);
    expect(client.sendSensor([null])).toBe(-1);
    const second = await testServer({ ...channels, port });
    cleanup.push(() => second.server.close());
    await until(() => configs.length === 2, 'second config');
    expect(client.stats.reconnects).toBeGreaterThan(0);
    expect(client.sendSensor([new Float32Array([1, 2, 3])])).toBe(0);
    expect(client.stats.sensorDropped).toBe(1);
  });
});
