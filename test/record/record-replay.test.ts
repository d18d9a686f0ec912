import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runClosedLoop } from '../../src/cli/closed-loop.js';
import { readRecording } from '../../src/record/reader.js';
import { replay, replayRecording } from '../../src/record/replay.js';
import { runCli } from '../cli/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'spikeloop-record-'));
const file = join(dir, 'arena.mcap');

describe('run --record and replay', () => {
  it('records an arena run that replays bit for bit on the CPU, on WebGPU and in a fresh arena', async () => {
    const { summary, recording } = await runClosedLoop({
      env: 'arena',
      durationS: 1.5,
      tickMs: 1,
      n: 400,
      model: 'ei-clustered',
      backend: 'cpu',
      seed: 3,
      latePolicy: 'skip',
      warmupTicks: 20,
      record: file,
      handleSignals: false,
    });
    expect(recording?.error).toBeNull();
    expect(recording?.bytes).toBe(statSync(file).size);
    expect(summary.record).toBe(file);

    const read = await readRecording(file);
    expect(read.description).toMatchObject({
      env: 'arena',
      n: 400,
      seed: 3,
      backend: 'cpu',
      warmupTicks: 20,
    });
    expect(read.description.mapping?.encoders.length).toBeGreaterThan(0);
    expect(read.description.scene?.widthM).toBe(4);
    expect(read.inputs.sort()).toEqual(['ranges', 'target']);
    expect(read.outputs).toEqual(['cmd_vel']);
    expect(read.ticks.length).toBe(summary.ticks);
    const first = read.ticks[0]!;
    expect(first.samples.get('ranges')?.values.length).toBe(7);
    expect(first.commands.get('cmd_vel')?.length).toBe(2);
    expect(first.world?.x).toBeTypeOf('number');
    expect(read.ticks.reduce((sum, t) => sum + t.spikeIds.length, 0)).toBeGreaterThan(0);
    // Counts per population agree with the recorded spikes.
    const total = read.ticks.reduce((sum, t) => sum + t.counts.reduce((a, b) => a + b, 0), 0);
    expect(read.ticks.reduce((sum, t) => sum + t.spikeIds.length, 0)).toBe(total);

    const cpu = await replay(file, { backend: 'cpu' });
    expect(cpu).toMatchObject({ identical: true, ticks: read.ticks.length, firstDivergence: null });
    const gpu = await replay(file, { backend: 'webgpu' });
    expect(gpu).toMatchObject({ identical: true, ticks: read.ticks.length, backend: 'webgpu' });
    const closed = await replay(file, { backend: 'cpu', env: 'arena' });
    expect(closed).toMatchObject({ identical: true, closedLoop: true });
  });

  it('reports the first divergence: a changed recorded command, a changed network', async () => {
    const read = await readRecording(file);
    const tick = read.ticks[Math.floor(read.ticks.length / 2)]!;
    const recorded = tick.commands.get('cmd_vel')!;
    const altered = Float32Array.from(recorded);
    altered[1] = altered[1]! + 1;
    tick.commands.set('cmd_vel', altered);
    const result = await replayRecording(read, { backend: 'cpu' });
    expect(result.identical).toBe(false);
    expect(result.divergentTicks).toBe(1);
    expect(result.firstDivergence).toEqual({
      tick: tick.tick,
      output: 'motor/cmd_vel',
      expected: Array.from(altered),
      actual: Array.from(recorded),
    });

    const out = join(dir, 'changed.mcap');
    const changed = await replay(file, {
      backend: 'cpu',
      overrides: { jEPlus: 6 },
      changes: ['jEPlus=6'],
      out,
    });
    expect(changed.identical).toBe(false);
    expect(changed.firstDivergence?.output).toBe('spikes');
    const written = await readRecording(out);
    expect(written.description.params.jEPlus).toBe(6);
    expect(written.description.replayOf).toEqual({ file, changes: ['jEPlus=6'] });
    expect(written.ticks.length).toBe(read.ticks.length);
    // The new recording is itself a faithful recording of the changed network.
    expect(await replay(out, { backend: 'cpu' })).toMatchObject({ identical: true });
  });

  it('spikeloop replay --json prints identical, ticks and firstDivergence; bad files fail clearly', () => {
    const result = runCli(['replay', file, '--backend', 'cpu', '--json']);
    expect(result.status).toBe(0);
    const row = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(row).toMatchObject({ identical: true, firstDivergence: null });
    expect(row.ticks).toBeGreaterThan(0);

    const bad = runCli(['replay', join(dir, 'missing.mcap')]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/missing\.mcap/);
    const notMcap = runCli(['replay', __filename]);
    expect(notMcap.status).toBe(1);
    expect(notMcap.stderr).toMatch(/not a readable MCAP file/);
  });
});
