import { copyFileSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runClosedLoop } from '../../src/cli/closed-loop.js';
import { isiCvs, niceTicks, type PlotData, plotFigures } from '../../src/record/plot.js';
import { loadPlotData } from '../../src/record/plot-data.js';
import { readSpikeFileSidecar } from '../../src/telemetry/spike-file.js';
import { runCli } from '../cli/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'spikeloop-plot-'));

describe('spike file layout sidecar and spikeloop plot', () => {
  it('simulate --record states every neuron type and cluster in FILE.json; old files stay readable', async () => {
    const file = join(dir, 'spikes.spk');
    const result = runCli([
      'simulate',
      '--n',
      '1000',
      '--duration',
      '0.5',
      '--backend',
      'cpu',
      '--record',
      file,
      '--json',
    ]);
    expect(result.status).toBe(0);
    const sidecar = readSpikeFileSidecar(file)!;
    expect(sidecar).toMatchObject({
      format: 'spikeloop-spike-layout',
      n: 1000,
      nE: 800,
      nI: 200,
      clusters: 20,
    });
    expect(sidecar.populations[0]).toEqual({ name: 'E0', type: 'E', cluster: 0, start: 0, size: 40 });
    expect(sidecar.populations[20]).toEqual({ name: 'I0', type: 'I', cluster: 0, start: 800, size: 10 });
    expect(sidecar.populations.reduce((sum, p) => sum + p.size, 0)).toBe(1000);

    // A file written before sidecars: plotted without a layout.
    const old = join(dir, 'old.spk');
    copyFileSync(file, old);
    expect(readSpikeFileSidecar(old)).toBeNull();
    const data = await loadPlotData(old);
    expect(data.layout).toBeNull();
    expect(data.spikeIds.length).toBe(JSON.parse(result.stdout).spikes);

    const plotted = runCli(['plot', file, '--out', join(dir, 'spk-plots'), '--json']);
    expect(plotted.status).toBe(0);
    expect(JSON.parse(plotted.stdout)).toMatchObject({ figures: 3, layout: true });
    expect(readdirSync(join(dir, 'spk-plots')).sort()).toEqual(['isi-cv.svg', 'raster.svg', 'rates.svg']);
    const raster = readFileSync(join(dir, 'spk-plots', 'raster.svg'), 'utf8');
    expect(raster).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(raster).toContain('time (s)');
    expect(raster).toContain('neuron index');
    expect(raster).toContain('stroke="#1f5fbf"'); // E
    expect(raster).toContain('stroke="#d0342c"'); // I
  });

  it('plots a recording: trajectory and latency too', async () => {
    const file = join(dir, 'arena.mcap');
    await runClosedLoop({
      env: 'arena',
      durationS: 0.5,
      tickMs: 1,
      n: 400,
      model: 'ei-clustered',
      backend: 'cpu',
      seed: 1,
      latePolicy: 'skip',
      record: file,
      handleSignals: false,
    });
    const result = runCli(['plot', file, '--out', join(dir, 'mcap-plots'), '--json']);
    expect(result.status).toBe(0);
    expect(readdirSync(join(dir, 'mcap-plots')).sort()).toEqual([
      'isi-cv.svg',
      'latency.svg',
      'raster.svg',
      'rates.svg',
      'trajectory.svg',
    ]);
    expect(readFileSync(join(dir, 'mcap-plots', 'trajectory.svg'), 'utf8')).toContain('<polyline');
    const bad = runCli(['plot', join(dir, 'spk-plots', 'raster.svg')]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/neither an MCAP recording nor a spikeloop spike file/);
  });

  it('computes ISI CVs and axis ticks', () => {
    // Neuron 0 fires regularly (CV 0); neuron 1 with intervals 0.1, 0.3 (CV 0.5).
    const data: PlotData = {
      title: 't',
      n: 2,
      layout: null,
      durationS: 1,
      spikeTimesS: [0, 0, 0.1, 0.1, 0.2, 0.4, 0.3],
      spikeIds: [0, 1, 0, 1, 0, 1, 0],
    };
    const cvs = isiCvs(data);
    expect(cvs.i).toEqual([]);
    expect(cvs.e.map((cv) => Number(cv.toFixed(6))).sort()).toEqual([0, 0.5]);
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect([...plotFigures(data).keys()]).toEqual(['raster.svg', 'rates.svg', 'isi-cv.svg']);
  });
});
