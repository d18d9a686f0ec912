import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('spikeloop bench loop', () => {
  it('prints one JSON line per network size with lateness percentiles and missed ticks', () => {
    const result = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'src/cli/main.ts'),
        'bench',
        'loop',
        '--duration',
        '1',
        '--n',
        '100,200',
        '--json',
      ],
      { cwd: ROOT, encoding: 'utf8', timeout: 120_000 },
    );
    expect(result.status).toBe(0);
    const rows = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(rows.map((row) => row.n)).toEqual([100, 200]);
    for (const row of rows) {
      expect(row).toMatchObject({
        bench: 'loop',
        backend: 'cpu',
        tickMs: 1,
        durationS: 1,
        latePolicy: 'skip',
      });
      expect(row.ticks + row.missed).toBe(1000);
      for (const key of ['p50', 'p99', 'p999', 'max']) expect(typeof row.latenessUs[key]).toBe('number');
    }
  });

  it('--record runs each size without and with a recording in the same process', () => {
    const result = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'src/cli/main.ts'),
        'bench',
        'loop',
        '--duration',
        '1',
        '--n',
        '100',
        '--record',
        '--json',
      ],
      { cwd: ROOT, encoding: 'utf8', timeout: 120_000 },
    );
    expect(result.status).toBe(0);
    const rows = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(rows.map((row) => [row.n, row.recording])).toEqual([
      [100, false],
      [100, true],
    ]);
    expect(rows[0].recordBytes).toBe(0);
    expect(rows[1].recordBytes).toBeGreaterThan(1000);
    for (const row of rows) expect(typeof row.latenessUs.p999).toBe('number');
  });
});
