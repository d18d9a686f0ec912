/**
 * The files a researcher opens, in a real headless Chromium: report.html of a real closed-loop run
 * (in-process arena, CPU engine) and heatmap.svg of a real sweep. Checks that the figures carry
 * axis titles with units, legends and the new sections, and keeps screenshots in test-artifacts/.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runSweep } from '../../src/calibrate/sweep-run.js';
import { sweepSpecFrom } from '../../src/calibrate/sweep-spec.js';
import { runClosedLoop } from '../../src/cli/closed-loop.js';
import { ARTIFACTS, withPage } from '../chromium.js';

const work = mkdtempSync(join(tmpdir(), 'spikeloop-report-page-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The text of every SVG <text> element on the page. */
async function svgTexts(page: import('playwright-core').Page): Promise<string[]> {
  return page.$$eval('svg text', (nodes) => nodes.map((node) => node.textContent ?? ''));
}

describe('report.html and heatmap.svg in Chromium', () => {
  it('report.html: log latency axes, lateness over time, activity and environment', async () => {
    const dir = join(work, 'report');
    const result = await runClosedLoop({
      env: 'arena',
      tickMs: 1,
      n: 500,
      model: 'ei-clustered',
      backend: 'cpu',
      seed: 2,
      latePolicy: 'skip',
      durationS: 4,
      warmupTicks: 100,
      handleSignals: false,
      reportDir: dir,
    });
    expect(result.files).toContain(join(dir, 'report.html'));
    await withPage({ width: 960, height: 900 }, async (page) => {
      await page.goto(pathToFileURL(resolve(dir, 'report.html')).href);
      const headings = await page.$$eval('h2', (nodes) => nodes.map((node) => node.textContent ?? ''));
      expect(headings).toEqual([
        'Run',
        'Latency by percentile',
        'When time went',
        'Network activity',
        'Environment (arena)',
        'Percentiles (µs)',
      ]);
      const texts = await svgTexts(page);
      expect(texts).toEqual(
        expect.arrayContaining([
          'percentile (log scale of 1/(1 − p))',
          'latency (log scale)',
          '10 µs',
          '1 ms',
          'time since the first tick (s)',
          'one tick (1 ms)',
          'mean rate (Hz)',
          'E (all excitatory neurons)',
          'mean rate over the run (Hz)',
          'cluster q',
          'E cluster',
          'I cluster',
        ]),
      );
      expect(texts.some((text) => /^end-to-end \(sample arrival → command\), n = \d+$/.test(text))).toBe(
        true,
      );
      expect(texts.some((text) => /^bins with missed ticks \(\d+ missed in all\)$/.test(text))).toBe(true);
      // Four figures: percentiles, lateness over time, rates over time, rate per cluster.
      expect(await page.$$eval('svg', (nodes) => nodes.length)).toBe(4);
      expect(await page.$$eval('svg polyline', (nodes) => nodes.length)).toBe(7);
      const environment = await page.$$eval('table', (tables) => tables.at(-1)?.textContent ?? '');
      expect(environment).toMatch(/collisions\d+/);
      expect(environment).toMatch(/targetsReached\d+/);
      expect(await page.textContent('body')).toContain('e2e: one value per sensor sample answered');
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
    });
  });

  it('heatmap.svg: symbols and units, a titled colour bar, seeds counted per cell', async () => {
    const dir = join(work, 'sweep');
    const spec = sweepSpecFrom(
      {
        model: 'ei-clustered',
        n: 200,
        duration: 0.3,
        warmup: 0.1,
        batch: 12,
        backend: 'cpu',
        grid: { jEPlus: [3, 6], backgroundThresholdE: [1.8, 2.4], seed: [1, 2, 3] },
        heatmap: { x: 'jEPlus', y: 'backgroundThresholdE', metric: 'rateE' },
      },
      'test sweep',
    );
    await runSweep({ spec, outDir: dir });
    const svg = readFileSync(join(dir, 'heatmap.svg'), 'utf8');
    await withPage({ width: 700, height: 420 }, async (page) => {
      await page.goto(pathToFileURL(resolve(dir, 'heatmap.svg')).href);
      const texts = await svgTexts(page);
      expect(texts[0]).toBe(
        'E rate (Hz) over JE+ (E→E cluster strength) and Ix,E / Irheobase (E background)',
      );
      expect(texts).toContain(
        'each cell: mean ± standard deviation over the points (n) that differ only in other keys, e.g. seeds',
      );
      expect(texts.filter((text) => /^± [\d.e-]+ \(n 3\)$/.test(text))).toHaveLength(4);
      expect(texts.filter((text) => text === 'E rate (Hz)')).toHaveLength(1);
      expect(svg).not.toMatch(/>jEPlus</);
      await page.locator('svg').screenshot({ path: join(ARTIFACTS, 'heatmap.png') });
    });
  });
});
