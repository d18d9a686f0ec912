/** Raw protocol peers for tests: bytes in, decoded messages out, over a real loopback socket. */
import { pack, Unpackr } from 'msgpackr';
import WebSocket from 'ws';
import { BridgeServer, type BridgeServerOptions } from '../../../src/io/ws/server.js';

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

export type Decoded = Record<string, unknown>;

export interface RawPeer {
  socket: WebSocket;
  messages: Decoded[];
  closed: Promise<{ code: number; reason: string }>;
  send(value: unknown): void;
  sendBytes(bytes: Uint8Array): void;
  /** Resolves with the first message (from the start) that matches. */
  next(predicate: (message: Decoded) => boolean): Promise<Decoded>;
}

export async function rawPeer(url: string): Promise<RawPeer> {
  const socket = new WebSocket(url, { perMessageDeflate: false });
  const messages: Decoded[] = [];
  const waiters: { predicate: (m: Decoded) => boolean; resolve: (m: Decoded) => void }[] = [];
  socket.on('message', (data: Buffer) => {
    const message = unpackr.unpack(data) as Decoded;
    messages.push(message);
    for (const waiter of [...waiters]) {
      if (waiter.predicate(message)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(message);
      }
    }
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return {
    socket,
    messages,
    closed,
    send: (value) => socket.send(pack(value)),
    sendBytes: (bytes) => socket.send(bytes),
    next: (predicate) => {
      const found = messages.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ predicate, resolve }));
    },
  };
}

/** The channels the tests' server offers and `hello` declares: three ranges in, two wheels out. */
export const TEST_CHANNELS = {
  sensors: [{ name: 'ranges', size: 3, rateHz: 1000 }],
  motors: [{ name: 'wheels', size: 2, rateHz: 1000 }],
};

export function hello(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    t: 'hello',
    protocol: 'spikeloop',
    version: 1,
    role: 'simulator',
    name: 'test',
    token: null,
    sensors: TEST_CHANNELS.sensors,
    motors: TEST_CHANNELS.motors,
    features: [],
    ...overrides,
  };
}

export function f32Bin(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

/** A server on 127.0.0.1 with a free port whose log lines are collected. */
export async function testServer(
  options: BridgeServerOptions = {},
): Promise<{ server: BridgeServer; logs: string[] }> {
  const logs: string[] = [];
  const server = await BridgeServer.listen({ log: (line) => logs.push(line), ...options });
  return { server, logs };
}

/** A raw peer that has completed the handshake. */
export async function greetedPeer(url: string, overrides: Record<string, unknown> = {}): Promise<RawPeer> {
  const peer = await rawPeer(url);
  peer.send(hello(overrides));
  await peer.next((m) => m.t === 'config');
  return peer;
}

export async function until(condition: () => boolean, what: string, limitMs = 5000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > limitMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
