/**
 * Fuzzing the ingress: a bounded, seeded stream of random and mutated frames from several hostile
 * connections (reconnecting after every close) against a live server, while a well-behaved
 * simulator keeps its lockstep round trip going. The server must never throw, the good client
 * must be answered every time, and the log must stay bounded.
 */
import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { safeLogLine } from '../../../src/io/ws/log-line.js';
import { f32Bin, greetedPeer, hello, type RawPeer, rawPeer, TEST_CHANNELS, testServer } from './helpers.js';

const FRAMES = 4000;
const HOSTILE_CONNECTIONS = 4;
const LIMIT_MS = 60_000;

/** xorshift32: the same stream of frames on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
}

const channels = TEST_CHANNELS;

describe('fuzzed ingress beside a well-behaved simulator', () => {
  it(`${FRAMES} random and mutated frames: the good client is served throughout`, async () => {
    const next = random(0x5eed);
    const int = (n: number) => Math.floor(next() * n);
    const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
    const valid: Uint8Array[] = [
      pack(hello(channels)),
      pack({ t: 'sensor', seq: 1, ts: 5, v: [f32Bin([1, 2, 3])] }),
      pack({ t: 'sensor', seq: 2, ts: 6, v: [[1, 2, 3]] }),
      pack({ t: 'world', ts: 1, arena: { width: 4, height: 4, robot: f32Bin([1, 1, 0]) } }),
      pack({ t: 'error', code: 'x', message: 'hello from the client' }),
      pack(hello({ ...channels, features: ['records'] })),
    ];
    const weird: unknown[] = [
      null,
      true,
      -1,
      2 ** 60,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      '',
      'x'.repeat(70),
      '\n\x1b[31m',
      [],
      {},
      new Uint8Array(5),
      { t: 'sensor' },
      [[[[[[]]]]]],
    ];
    const keys = [
      't',
      'seq',
      'ts',
      'v',
      'version',
      'protocol',
      'role',
      'name',
      'token',
      'sensors',
      'motors',
      'features',
    ];
    const frame = (): Uint8Array | string => {
      switch (int(7)) {
        case 0: {
          // Random bytes.
          const bytes = new Uint8Array(1 + int(64));
          for (let k = 0; k < bytes.length; k++) bytes[k] = int(256);
          return bytes;
        }
        case 1: {
          // A valid frame with flipped bits.
          const bytes = Uint8Array.from(pick(valid));
          for (let flips = 1 + int(4); flips > 0; flips--) bytes[int(bytes.length)]! ^= 1 << int(8);
          return bytes;
        }
        case 2: {
          // A valid frame cut short or with trailing bytes.
          const bytes = pick(valid);
          return next() < 0.5
            ? bytes.subarray(0, int(bytes.length))
            : Uint8Array.from([...bytes, ...Array.from({ length: 1 + int(8) }, () => int(256))]);
        }
        case 3: {
          // A hello or sensor frame with one field replaced by something of the wrong type.
          const base =
            next() < 0.5 ? hello(channels) : { t: 'sensor', seq: int(10), ts: 0, v: [f32Bin([1, 2, 3])] };
          return pack({ ...base, [pick(keys)]: pick(weird) });
        }
        case 4:
          // A map of random keys and values.
          return pack(Object.fromEntries(Array.from({ length: int(6) }, () => [pick(keys), pick(weird)])));
        case 5:
          return 'text frame';
        default:
          // Large frames near and above maxFrameBytes.
          return pack({ t: 'sensor', seq: 1, ts: 0, v: [new Uint8Array(60_000 + int(10_000))] });
      }
    };

    const received: number[] = [];
    const { server, logs } = await testServer({
      ...channels,
      // The bridge's side of the lockstep: every accepted sensor frame is answered with a motor frame.
      onSensor: (connection, sensorFrame) => {
        if (connection.hello?.name !== 'good') return;
        received.push(sensorFrame.seq);
        server.sendMotor(connection, {
          t: 'motor',
          seq: sensorFrame.seq,
          ts: 0,
          tick: sensorFrame.seq,
          v: [new Float32Array([0, 0])],
        });
      },
    });
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    const started = Date.now();
    try {
      const good = await greetedPeer(server.url, { ...channels, name: 'good' });
      let goodSeq = 0;
      let goodDone = false;
      const goodLoop = (async () => {
        while (!goodDone && Date.now() - started < LIMIT_MS) {
          const seq = goodSeq++;
          good.send({ t: 'sensor', seq, ts: seq, v: [f32Bin([1, 1, 1])] });
          await good.next((m) => m.t === 'motor' && m.seq === seq);
        }
      })();

      let sent = 0;
      let connections = 0;
      const hostile = async () => {
        while (sent < FRAMES && Date.now() - started < LIMIT_MS) {
          let peer: RawPeer;
          try {
            peer = await rawPeer(server.url);
          } catch {
            continue;
          }
          connections++;
          // Half the connections start properly, so frames after hello are fuzzed too.
          if (next() < 0.5) peer.send(hello({ ...channels, name: `fuzz\n${connections}` }));
          while (sent < FRAMES && peer.socket.readyState === peer.socket.OPEN) {
            const bytes = frame();
            peer.socket.send(bytes, { binary: typeof bytes !== 'string' });
            sent++;
            if (sent % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
          }
          peer.socket.terminate();
        }
      };
      await Promise.all(Array.from({ length: HOSTILE_CONNECTIONS }, hostile));
      const servedDuringFuzz = received.length;
      // Still served after the storm.
      const after = goodSeq + 10;
      while (goodSeq < after) await new Promise((resolve) => setTimeout(resolve, 5));
      goodDone = true;
      await goodLoop;

      expect(sent).toBe(FRAMES);
      expect(connections).toBeGreaterThan(HOSTILE_CONNECTIONS);
      expect(uncaught).toEqual([]);
      expect(servedDuringFuzz).toBeGreaterThan(10);
      expect(received).toEqual(Array.from({ length: received.length }, (_, k) => k));
      expect(good.messages.filter((m) => m.t === 'error')).toEqual([]);
      expect(good.socket.readyState).toBe(good.socket.OPEN);
      // Bounded log: every line escaped and cut, far fewer lines than frames.
      expect(logs.length).toBeLessThan(FRAMES / 2);
      for (const line of logs) expect(line).toBe(safeLogLine(line));
      good.socket.close();
    } finally {
      process.off('uncaughtException', onUncaught);
      await server.close();
    }
  });
});
