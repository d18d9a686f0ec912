/**
 * The live dashboard: an HTTP page and observer WebSocket on one port (default 8787 on 127.0.0.1),
 * fed from the loop's telemetry feed on its own timer. The tick never waits on it: snapshots are
 * taken on the feed's interval, encoded once per frame, and offered newest-wins to every browser,
 * so a slow browser only misses frames. Spike streaming is on only while a browser is connected.
 */
import type { Environment, LiveLoop } from '../../loop/ports.js';
import type { TelemetrySnapshot } from '../../telemetry/live.js';
import type { LatencyHistogram } from '../ws/protocol.js';
import { BridgeServer, type LogLine } from '../ws/server.js';
import { serveDashboardAsset } from './static.js';
import { latencyHistogram, telemetryFrame } from './telemetry-frame.js';

export const DEFAULT_DASHBOARD_PORT = 8787;

export interface DashboardOptions {
  port?: number;
  host?: string;
  token?: string;
  telemetryHz?: number;
  rasterNeurons?: number;
  log?: LogLine;
}

export interface Dashboard {
  readonly server: BridgeServer;
  /** The page's address (with #token=… when a token is set). */
  readonly url: string;
  /** Telemetry frames sent, and frames dropped because a browser was slow. */
  stats(): { framesSent: number; framesDropped: number; observers: number };
  close(): Promise<void>;
}

/** The environment's own counters (collisions, superseded samples, …) for the page's header. */
function numericSummary(env: Environment): Record<string, number> {
  const counters: Record<string, number> = {};
  for (const [key, value] of Object.entries(env.summary?.() ?? {})) {
    if (typeof value === 'number' && Number.isFinite(value)) counters[key] = value;
  }
  return counters;
}

/** Frames between two recomputations of the latency histogram. */
const HISTOGRAM_EVERY = 10;

/** What the dashboard shows: the loop's feed and histograms, and the environment's view if any. */
export interface DashboardSource {
  loop: LiveLoop;
  env: Environment;
}

export async function startDashboard(
  source: DashboardSource,
  options: DashboardOptions = {},
): Promise<Dashboard> {
  const { loop, env } = source;
  const { neurons, tickMs } = loop;
  const telemetryHz = options.telemetryHz ?? 20;
  let observers = 0;
  const server = await BridgeServer.listen({
    host: options.host,
    port: options.port ?? DEFAULT_DASHBOARD_PORT,
    token: options.token,
    portHint: '--dashboard PORT',
    telemetryHz,
    tickMs,
    log: options.log,
    http: serveDashboardAsset,
    onConnect: (connection) => {
      if (connection.role === 'observer' && observers++ === 0) loop.streamSpikes(true);
    },
    onDisconnect: (connection) => {
      if (connection.role === 'observer' && --observers === 0) loop.streamSpikes(false);
    },
  });
  let framesSent = 0;
  let histogram: LatencyHistogram | null = null;
  const listener = (snapshot: TelemetrySnapshot) => {
    if (observers === 0) return;
    if (framesSent % HISTOGRAM_EVERY === 0) histogram = latencyHistogram(loop.e2e);
    const frame = telemetryFrame(
      snapshot,
      { neurons, tickMs, rasterNeurons: options.rasterNeurons ?? 1000, maxSpikes: 20_000 },
      {
        histogram: framesSent % HISTOGRAM_EVERY === 0 ? histogram : null,
        arena: env.view?.world() ?? null,
        counters: { ...numericSummary(env), telemetryDropped: server.outboundDropped },
      },
    );
    server.broadcastTelemetry(frame);
    framesSent++;
  };
  const unsubscribe = loop.feed.subscribe(listener, 1000 / telemetryHz);
  const base = server.httpUrl;
  const url = options.token ? `${base}/#token=${encodeURIComponent(options.token)}` : `${base}/`;
  return {
    server,
    url,
    stats: () => ({ framesSent, framesDropped: server.outboundDropped, observers }),
    close: async () => {
      unsubscribe();
      loop.streamSpikes(false);
      await server.close();
    },
  };
}
