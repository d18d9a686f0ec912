/**
 * The live dashboard in a real headless Chromium: a real closed loop (CPU engine, in-process arena)
 * publishes telemetry; the page must connect over the protocol, receive frames and draw every panel
 * with its axes, legends and units (checked from the text drawn on the canvases).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runClosedLoop } from '../../../src/cli/closed-loop.js';
import { type Dashboard, startDashboard } from '../../../src/io/dashboard/dashboard.js';
import { BridgeClient } from '../../../src/io/ws/client.js';
import type { TelemetryFrame } from '../../../src/io/ws/protocol.js';
import type { LiveLoop } from '../../../src/loop/ports.js';
import { ARTIFACTS, withPage } from '../../chromium.js';

let dashboard: Dashboard;
let loop: LiveLoop;
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
    onStart: async (live, env) => {
      loop = live;
      dashboard = await startDashboard({ loop: live, env }, { port: 0, log: () => {} });
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

  it('draws live telemetry in headless Chromium (axes, legend, trail, counters) and keeps a screenshot', async () => {
    await withPage({ width: 1280, height: 1300 }, async (page) => {
      const consoleErrors: string[] = [];
      const notFound: string[] = [];
      page.on('pageerror', (error) => consoleErrors.push(error.message));
      page.on('response', (response) => {
        if (response.status() >= 400) notFound.push(`${response.status()} ${response.url()}`);
      });
      await page.goto(dashboard.url);
      // 3 s of frames: the trail and the histories have something to show.
      await page.waitForFunction(
        () => {
          const view = (
            globalThis as {
              spikeloopDashboard?: {
                frames: number;
                spikesReceived: number;
                trail: unknown[];
                history: unknown[];
              };
            }
          ).spikeloopDashboard;
          return view !== undefined && view.frames >= 60 && view.spikesReceived > 0 && view.trail.length >= 5;
        },
        undefined,
        { timeout: 90_000 },
      );
      const painted = await page.evaluate(() => {
        type Canvas = {
          width: number;
          height: number;
          getContext(kind: '2d'): {
            getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
          };
        };
        const page = globalThis as unknown as { document: { getElementById(id: string): Canvas } };
        const count = (id: string) => {
          const canvas = page.document.getElementById(id);
          const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
          let drawn = 0;
          for (let k = 3; k < pixels.length; k += 4) if (pixels[k]! > 0) drawn++;
          return drawn;
        };
        const ids = ['raster', 'rates', 'rates-time', 'latency-time', 'latency', 'arena'];
        return Object.fromEntries(ids.map((id) => [id, count(id)]));
      });
      for (const [id, pixels] of Object.entries(painted)) expect(pixels, id).toBeGreaterThan(500);

      // Text drawn on the canvases: axis titles with units, legends, scale. Recorded by wrapping
      // fillText before the next frame is drawn.
      const texts = await page.evaluate(async () => {
        type FillText = (this: { canvas: { id: string } }, text: string, x: number, y: number) => void;
        const browser = globalThis as unknown as {
          CanvasRenderingContext2D: { prototype: { fillText: FillText } };
          requestAnimationFrame: (callback: () => void) => void;
          spikeloopDashboard: { frames: number };
        };
        const prototype = browser.CanvasRenderingContext2D.prototype;
        const drawn = new Map<string, Set<string>>();
        const original = prototype.fillText;
        prototype.fillText = function (text, x, y) {
          const id = this.canvas.id;
          if (!drawn.has(id)) drawn.set(id, new Set());
          drawn.get(id)!.add(text);
          return original.call(this, text, x, y);
        };
        const view = browser.spikeloopDashboard;
        const until = view.frames + 3;
        while (view.frames < until) await new Promise((resolve) => setTimeout(resolve, 50));
        await new Promise((resolve) => browser.requestAnimationFrame(() => resolve(null)));
        prototype.fillText = original;
        return Object.fromEntries([...drawn].map(([id, set]) => [id, [...set]]));
      });
      expect(texts.raster).toEqual(
        expect.arrayContaining([
          'time relative to now (s)',
          'neuron, ordered by cluster',
          'E0',
          'I0–I19',
          'excitatory (E, 400)',
          'inhibitory (I, 100)',
        ]),
      );
      expect(texts.rates).toEqual(
        expect.arrayContaining(['cluster q', 'rate (Hz)', 'E cluster', 'I cluster', '19']),
      );
      expect(texts['rates-time']).toEqual(expect.arrayContaining(['E cluster', 'rate (Hz)', '-30', '0']));
      expect(texts['latency-time']).toEqual(
        expect.arrayContaining([
          'latency (log)',
          '1 ms',
          'e2e p50',
          'lateness max',
          'missed ticks',
          'missed',
        ]),
      );
      expect(texts.latency).toEqual(
        expect.arrayContaining(['sensor → motor latency (log)', 'share of samples', '100 µs', '10 ms']),
      );
      expect(texts.arena).toEqual(expect.arrayContaining(['x (m)', 'y (m)', '1 m', 'robot, trail', '4']));
      expect(await page.textContent('#status')).toMatch(/^live/);
      expect(await page.textContent('#arena-info')).toMatch(
        /collisions \d+ · targets \d+ · v -?\d+\.\d\d m\/s · ω -?\d+\.\d\d rad\/s/,
      );
      const counters = await page.$$eval('#counters .counter', (tiles) =>
        tiles.map((tile) => (tile as unknown as { dataset: Record<string, string> }).dataset.counter),
      );
      expect(counters).toEqual(
        expect.arrayContaining(['ticks', 'missed', 'overruns', 'collisions', 'targetsReached']),
      );
      expect(consoleErrors).toEqual([]);
      // The favicon is served (no 404 for anything the page loads).
      expect(notFound).toEqual([]);
      const icon = await page.request.get(new URL('/favicon.ico', dashboard.url).href);
      expect(icon.status()).toBe(200);
      expect(icon.headers()['content-type']).toBe('image/svg+xml');
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
      expect(dashboard.stats().framesSent).toBeGreaterThan(10);
    });
  });
});
