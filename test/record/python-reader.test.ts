/**
 * The recording read outside Node by the Python `mcap` package (examples/plot_recording.py). Runs
 * where `python3 -c 'import mcap'` works (CI installs it with pip); elsewhere it is skipped with the
 * reason printed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runClosedLoop } from '../../src/cli/closed-loop.js';
import { readRecording } from '../../src/record/reader.js';

const SCRIPT = fileURLToPath(new URL('../../examples/plot_recording.py', import.meta.url));
const probe = spawnSync('python3', ['-c', 'import mcap'], { encoding: 'utf8' });
const skipReason =
  probe.error !== undefined
    ? `python3 is not available (${probe.error.message})`
    : probe.status !== 0
      ? `the Python mcap package is not installed (pip install mcap zstandard): ${probe.stderr.trim().split('\n').pop()}`
      : null;
if (skipReason) console.warn(`test/record/python-reader.test.ts skipped: ${skipReason}`);

describe.skipIf(skipReason !== null)('the Python mcap reader', () => {
  it('reads a recording written by spikeloop run --record: ticks, spikes, commands, path', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'spikeloop-python-')), 'arena.mcap');
    await runClosedLoop({
      env: 'arena',
      durationS: 1,
      tickMs: 1,
      n: 400,
      model: 'ei-clustered',
      backend: 'cpu',
      seed: 2,
      latePolicy: 'skip',
      record: file,
      handleSignals: false,
    });
    const node = await readRecording(file);
    const result = spawnSync('python3', [SCRIPT, file, '--summary'], { encoding: 'utf8', timeout: 120_000 });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const summary = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({
      env: 'arena',
      n: 400,
      seed: 2,
      ticks: node.ticks.length,
      spikes: node.ticks.reduce((sum, tick) => sum + tick.spikeIds.length, 0),
      motorCommands: { '/motor/cmd_vel': node.ticks.length },
      pathPoints: node.ticks.length,
    });
    const probePlot = spawnSync('python3', ['-c', 'import matplotlib, numpy'], { encoding: 'utf8' });
    if (probePlot.status !== 0) {
      console.warn('plot_recording.py figure not drawn: matplotlib/numpy missing');
      return;
    }
    const png = join(tmpdir(), `spikeloop-python-${process.pid}.png`);
    const plotted = spawnSync('python3', [SCRIPT, file, '--out', png], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(plotted.status).toBe(0);
    expect(plotted.stdout.trim()).toBe(png);
  });
});
