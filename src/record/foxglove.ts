/**
 * `--foxglove [PORT]`: the bridge as a Foxglove WebSocket server (protocol foxglove.websocket.v1,
 * @foxglove/ws-protocol), advertising the recording's channels. Ticks are captured only while a
 * client is connected and sent from a 20 Hz timer, never from the tick; a client whose socket
 * backs up past 8 MiB misses messages rather than growing memory. Same access rule as the other
 * servers: loopback by default, a token for any other address (`?token=` in the URL, or an
 * `Authorization: Bearer` header), checked before the WebSocket upgrade.
 */
import type { IncomingMessage } from 'node:http';
import foxgloveProtocol from '@foxglove/ws-protocol';
import { type WebSocket, WebSocketServer } from 'ws';
import { checkBindAccess, DEFAULT_HOST, tokenMatches } from '../io/ws/access.js';
import type { LoopHandle } from '../loop/handle.js';
import type { Environment } from '../loop/ports.js';
import { channelsFor, LogClock, type RunDescription, tickMessages } from './channels.js';
import { externalWorldProbeOf, TickCapture, worldProbeOf } from './tick-record.js';

const { FoxgloveServer } = foxgloveProtocol;

export const DEFAULT_FOXGLOVE_PORT = 8766;
const SEND_INTERVAL_MS = 50;
const MAX_BUFFERED_BYTES = 8 << 20;

export interface FoxgloveOptions {
  port?: number;
  host?: string;
  token?: string;
}

export interface FoxgloveLive {
  /** ws://host:port/ (with ?token=… when a token is set). */
  url: string;
  port: number;
  close(): Promise<void>;
}

function tokenOf(request: IncomingMessage): string | null {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const query = url.searchParams.get('token');
  if (query !== null) return query;
  const header = request.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice(7) : null;
}

export async function startFoxgloveServer(
  source: { loop: LoopHandle; env: Environment; description: RunDescription },
  options: FoxgloveOptions = {},
): Promise<FoxgloveLive> {
  const host = options.host ?? DEFAULT_HOST;
  const { token } = options;
  checkBindAccess(host, token);
  const { loop, env, description } = source;
  const server = new FoxgloveServer({
    name: `spikeloop ${description.spikeloopVersion} (${description.env}, N = ${description.n})`,
    capabilities: [],
    supportedEncodings: ['json'],
    metadata: { description: JSON.stringify(description) },
  });
  const channelIds = new Map<string, number>();
  for (const channel of channelsFor(
    description,
    env.sources.map((s) => s.name),
    env.sinks.map((s) => s.name),
  )) {
    const id = server.addChannel({
      topic: channel.topic,
      encoding: 'json',
      schemaName: channel.schemaName,
      schema: channel.schema,
      schemaEncoding: 'jsonschema',
    });
    channelIds.set(channel.topic, id);
  }
  const subscribers = new Map<number, number>();
  server.on('subscribe', (id) => subscribers.set(id, (subscribers.get(id) ?? 0) + 1));
  server.on('unsubscribe', (id) => subscribers.set(id, Math.max(0, (subscribers.get(id) ?? 0) - 1)));
  server.on('error', (error) => console.error(`spikeloop: Foxglove server: ${error.message}`));

  const sockets = new Set<WebSocket>();
  const capture = new TickCapture(worldProbeOf(env), 2000, externalWorldProbeOf(env));
  const clock = new LogClock(performance.now() * 1000, Date.now());
  const encoder = new TextEncoder();
  let attached = false;
  const setAttached = (want: boolean) => {
    if (want === attached) return;
    attached = want;
    if (want) loop.addObserver(capture);
    else {
      loop.removeObserver(capture);
      capture.drain();
    }
  };

  const wss = new WebSocketServer({
    host,
    port: options.port ?? DEFAULT_FOXGLOVE_PORT,
    handleProtocols: (protocols) => server.handleProtocols(protocols),
    verifyClient: (info, done) => {
      if (token === undefined || tokenMatches(token, tokenOf(info.req))) done(true);
      else done(false, 401, 'a token is required (?token=… or Authorization: Bearer …)');
    },
  });
  wss.on('connection', (socket, request) => {
    sockets.add(socket);
    setAttached(true);
    socket.on('close', () => {
      sockets.delete(socket);
      setAttached(sockets.size > 0);
    });
    server.handleConnection(socket, `${request.socket.remoteAddress}:${request.socket.remotePort}`);
  });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', (error) =>
      reject(new Error(`Foxglove server: cannot listen on ${host}: ${error.message}`)),
    );
  });

  const timer = setInterval(() => {
    const records = capture.drain();
    if (records.length === 0) return;
    for (const socket of sockets) if (socket.bufferedAmount > MAX_BUFFERED_BYTES) return;
    for (const record of records) {
      for (const message of tickMessages(record, description, clock)) {
        const id = channelIds.get(message.topic);
        if (id === undefined || !subscribers.get(id)) continue;
        server.sendMessage(id, message.logTimeNs, encoder.encode(JSON.stringify(message.data)));
      }
    }
  }, SEND_INTERVAL_MS);

  const address = wss.address();
  const port =
    typeof address === 'object' && address ? address.port : (options.port ?? DEFAULT_FOXGLOVE_PORT);
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const url = `ws://${shownHost}:${port}/${token ? `?token=${encodeURIComponent(token)}` : ''}`;
  return {
    url,
    port,
    close: async () => {
      clearInterval(timer);
      setAttached(false);
      for (const socket of sockets) socket.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
