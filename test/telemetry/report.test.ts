import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBudgets } from '../../src/telemetry/budget.js';
import { LoopTelemetry } from '../../src/telemetry/loop-telemetry.js';
import { buildReport, type RunInfo, readReport, writeReport } from '../../src/telemetry/report.js';
import { validateReportJson } from '../../src/telemetry/report-schema.js';
import { parseHgrm } from './hgrm.js';

const run: RunInfo = {
  env: 'synthetic',
  tickMs: 1,
  latePolicy: 'skip',
  startedAt: '2026-01-02T03:04:05.678Z',
  wallS: 1.5,
  stopReason: 'duration',
  backend: 'cpu',
  n: 100,
};

function telemetryWithKnownValues(): LoopTelemetry {
  const telemetry = new LoopTelemetry(1000, ['scan']);
  // Two clusters: E0, E1 of 40 neurons, I0, I1 of 10.
  telemetry.setPopulations(Uint32Array.of(40, 40, 10, 10), 2);
  for (let k = 0; k < 1000; k++) {
    telemetry.recordStart(k % 100, 0, 0, false);
    telemetry.recordCounts(Uint32Array.of(k % 10 === 0 ? 2 : 0, 0, k % 2, 0));
    telemetry.recordEnd(200 + (k % 50));
    telemetry.recordEndToEnd('scan', 300 + k);
  }
  telemetry.recordStart(10, 3, 3500, false); // three dropped ticks
  telemetry.recordEnd(3700); // an overrun
  return telemetry;
}

describe('latency report', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spikeloop-report-'));

  it('writes JSON (schema-valid), text, .hgrm and a self-contained HTML plot, and reads them back', async () => {
    const telemetry = telemetryWithKnownValues();
    const loaded = buildReport(telemetry, run, parseBudgets('p99<=1ms,compute.max<=1ms'));
    const files = await writeReport(dir, loaded);
    expect(files.map((file) => file.slice(dir.length + 1)).sort()).toEqual(
      [
        'compute.hgrm',
        'e2e-scan.hgrm',
        'e2e.hgrm',
        'lateness.hgrm',
        'report.html',
        'report.json',
        'report.txt',
      ].sort(),
    );

    const json = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(() => validateReportJson(json, 'report.json')).not.toThrow();
    expect(json.counters).toEqual({ ticks: 1001, missed: 3, overruns: 1 });
    expect(json.histograms.lateness.count).toBe(1004);
    expect(json.histograms.compute.count).toBe(1001);
    expect(json.histograms.e2e.count).toBe(1000);
    expect(json.budgets.map((b: { ok: boolean }) => b.ok)).toEqual([true, false]);

    const hgrm = parseHgrm(readFileSync(join(dir, 'lateness.hgrm'), 'utf8'));
    expect(hgrm.totalCount).toBe(1004);
    expect(hgrm.rows.at(-1)!.totalCount).toBe(1004);
    expect(hgrm.rows.at(-1)!.percentile).toBe(1);
    expect(parseHgrm(readFileSync(join(dir, 'e2e-scan.hgrm'), 'utf8')).max).toBeGreaterThanOrEqual(1299);

    // No percentile above the maximum, whatever HDR's bucket edges say.
    for (const summary of Object.values(json.histograms) as { p9999: number; p999: number; max: number }[]) {
      expect(summary.p9999).toBeLessThanOrEqual(summary.max);
      expect(summary.p999).toBeLessThanOrEqual(summary.max);
    }
    // Activity over the 1001 ticks run (1.001 s): E0 spiked 2 × 100 times in 40 neurons of 80.
    expect(json.activity.clusters).toBe(2);
    expect(json.activity.rateEHz).toBeCloseTo(200 / 80 / 1.001, 6);
    expect(json.activity.rateIHz).toBeCloseTo(500 / 20 / 1.001, 6);
    expect(json.activity.populationRatesHz[0]).toBeCloseTo(200 / 40 / 1.001, 6);
    // Timeline: 100 ms bins; the 1004 slots (1001 run + 3 dropped) fill 11 of them; the misses
    // and the 3.5 ms lateness are in the last.
    expect(json.timeline.binMs).toBe(100);
    expect(json.timeline.ticks).toHaveLength(11);
    expect(json.timeline.ticks.reduce((a: number, b: number) => a + b, 0)).toBe(1001);
    expect(json.timeline.missed.at(-1)).toBe(3);
    expect(json.timeline.missed.slice(0, -1).every((m: number) => m === 0)).toBe(true);
    expect(json.timeline.latenessMaxUs.at(-1)).toBe(3500);
    expect(json.timeline.computeMaxUs.at(-1)).toBe(3700);

    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<svg');
    // Percentile curves (3), lateness and compute over time (2), E and I rates over time (2).
    expect(html.match(/<polyline/g)).toHaveLength(7);
    expect(html).toContain('latency (log scale)');
    expect(html).toContain('time since the first tick (s)');
    expect(html).toMatch(/bins with missed ticks \(3 missed in all\)/);
    expect(html).toContain('class="missed"');
    expect(html).toContain('mean rate over the run (Hz)');
    expect(html).toMatch(/>1 ms</);
    expect(html).not.toMatch(/<script|<link|src=|url\(|href=/);

    const text = readFileSync(join(dir, 'report.txt'), 'utf8');
    expect(text).toContain('ticks 1001, missed 3, overruns 1');
    expect(text).toMatch(/network: E 2\.50 Hz, I 24\.98 Hz \(700 spikes\)/);
    expect(text).toContain('e2e: one value per sensor sample answered by a motor command');
    expect(text).toMatch(/FAIL {2}compute max = 3\.\d+ ms \(budget compute.max<=1ms: violated\)/);

    // Read back: the decoded histograms hold the same distribution as the originals.
    const again = await readReport(dir);
    expect(again.histograms.lateness.totalCount).toBe(telemetry.lateness.totalCount);
    expect(again.histograms.e2e.getValueAtPercentile(99)).toBe(telemetry.e2e.getValueAtPercentile(99));
    expect(again.e2eByInput.get('scan')!.totalCount).toBe(1000);
  });

  it('rejects a directory without a report, invalid JSON and a report that breaks the schema', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'spikeloop-report-empty-'));
    await expect(readReport(empty)).rejects.toThrow(/report.json does not exist/);
    writeFileSync(join(empty, 'report.json'), '{ not json');
    await expect(readReport(empty)).rejects.toThrow(/is not valid JSON/);
    const json = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    json.counters.ticks = -1;
    writeFileSync(join(empty, 'report.json'), JSON.stringify(json));
    await expect(readReport(empty)).rejects.toThrow(
      /not a spikeloop latency report: counters.ticks: must be ≥ 0, got -1/,
    );
  });
});
