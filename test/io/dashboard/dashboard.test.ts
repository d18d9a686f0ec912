/**
 * The live dashboard in a real headless Chromium: a real closed loop (CPU engine, in-process arena)
 * publishes telemetry; the page must connect over the protocol, receive frames and draw the raster.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runClosedLoop } from '../../../src/cli/closed-loop.js';
import { type Dashboard, startDashboard } from '../../../src/io/dashboard/dashboard.js';
import { BridgeClient } from '../../../src/io/ws/client.js';
import type { TelemetryFrame } from '../../../src/io/ws/protocol.js';
import type { TickLoop } from '../../../src/loop/tick-loop.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = 'test-artifacts';

let dashboard: Dashboard;
let loop: TickLoop;
let finished: Promise<unknown>;

beforeAll(async () => {
  let ready!: () => void;
  const started = new Promise<void>((resolve) => {
    ready = resolve;
  });
  finished = runClosedLoop({
    env: 'arena',
    tickMs: 1,
    n: 500,
    model: 'ei-clustered',
    backend: 'cpu',
    seed: 3,
    latePolicy: 'skip',
    durationS: 120,
    handleSignals: false,
    onStart: async (tickLoop, env, engine) => {
      loop = tickLoop;
      dashboard = await startDashboard(
        { loop: tickLoop, env, neurons: engine.layout.n, tickMs: 1 },
        { port: 0, log: () => {} },
      );
      ready();
      return () => dashboard.close();
    },
  });
  await Promise.race([started, finished]);
});

afterAll(async () => {
  loop?.stop();
  await finished;
});

describe('dashboard', () => {
  it('serves telemetry frames over the protocol to an observer client', async () => {
    const frames: TelemetryFrame[] = [];
    const client = new BridgeClient({
      url: dashboard.server.url,
      role: 'observer',
      reconnect: false,
      onTelemetry: (frame) => frames.push(frame),
    });
    const config = await client.ready();
    expect(config).toMatchObject({ role: 'observer', telemetryHz: 20 });
    while (frames.length < 3) await new Promise((resolve) => setTimeout(resolve, 20));
    await client.close();
    const frame = frames.at(-1)!;
    expect(frame.rates).toHaveLength(40); // 20 E clusters + 20 I clusters
    expect(frame.spikes.neurons).toBe(500);
    expect(frame.tick).toBeGreaterThan(frames[0]!.tick);
    expect(frame.arena).not.toBeNull();
    expect(frame.arena!.robot).toHaveLength(3);
    expect(Object.keys(frame.latency).sort()).toEqual(['compute', 'e2e', 'lateness']);
    expect(frames.some((f) => f.histogram !== null)).toBe(true);
  });

  it('draws live telemetry in headless Chromium (raster pixels, arena) and keeps a screenshot', async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} not found: the dashboard test needs Debian's chromium package (apt-get install -y chromium; .ci/run installs it)`,
      );
    }
    const profile = mkdtempSync(join(tmpdir(), 'spikeloop-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1280, height: 900 },
    });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      const consoleErrors: string[] = [];
      page.on('pageerror', (error) => consoleErrors.push(error.message));
      await page.goto(dashboard.url);
      await page.waitForFunction(
        () => {
          const view = (globalThis as { spikeloopDashboard?: { frames: number; spikesReceived: number } })
            .spikeloopDashboard;
          return view !== undefined && view.frames >= 10 && view.spikesReceived > 0;
        },
        undefined,
        { timeout: 60_000 },
      );
      const painted = await page.evaluate(() => {
        const count = (id: string) => {
          const canvas = document.getElementById(id) as HTMLCanvasElement;
          const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
          let drawn = 0;
          for (let k = 3; k < pixels.length; k += 4) if (pixels[k]! > 0) drawn++;
          return drawn;
        };
        return { raster: count('raster'), rates: count('rates'), arena: count('arena') };
      });
      expect(painted.raster).toBeGreaterThan(100);
      expect(painted.rates).toBeGreaterThan(0);
      expect(painted.arena).toBeGreaterThan(100);
      expect(await page.textContent('#status')).toMatch(/^live/);
      expect(await page.textContent('#arena-info')).toMatch(/collisions \d+ · targets \d+/);
      expect(consoleErrors).toEqual([]);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
      expect(dashboard.stats().framesSent).toBeGreaterThan(10);
    } finally {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    }
  });
});
