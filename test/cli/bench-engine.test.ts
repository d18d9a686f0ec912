/** `spikeloop bench engine --reference`: the machine's own parallel reference next to the engine. */
import { describe, expect, it } from 'vitest';
import { runSourceCli } from './live-cli.js';

type SizeRow = Record<string, unknown> & { kind: string; n: number; rtf: number; threads: number };

function sizeRows(args: string[]): SizeRow[] {
  const result = runSourceCli(
    [
      'bench',
      'engine',
      '--backend',
      'cpu',
      '--duration',
      '1',
      '--warmup',
      '0.1',
      '--overhead-calls',
      '10',
      '--reference',
      '--json',
      ...args,
    ],
    180_000,
  );
  expect(result.status, result.stderr).toBe(0);
  return result.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as SizeRow)
    .filter((row) => row.kind === 'size');
}

function expectConsistentReference(row: SizeRow, copies: number): void {
  // The reference ran the one-thread engine at the row's own N, alone and as `copies` copies.
  expect(row.refN).toBe(row.n);
  expect(row.refCopies).toBe(copies);
  const alone = row.refRtfAlone as number;
  const together = row.refRtfTogether as number[];
  expect(alone).toBeGreaterThan(0);
  expect(together).toHaveLength(copies);
  for (const rtf of together) expect(rtf).toBeGreaterThan(0);
  const slowdowns = row.refSlowdowns as number[];
  expect(slowdowns).toHaveLength(copies);
  slowdowns.forEach((slowdown, k) => {
    expect(slowdown).toBeCloseTo(together[k]! / alone, 9);
  });
  const efficiency = row.refEfficiency as number;
  const mean = together.reduce((sum, rtf) => sum + alone / rtf, 0) / copies;
  expect(efficiency).toBeCloseTo(mean, 9);
  expect(efficiency).toBeGreaterThan(0);
  expect(efficiency).toBeLessThanOrEqual(1.2);
  expect(row.refIdealRtf as number).toBeCloseTo(alone / (copies * efficiency), 9);
}

describe('spikeloop bench engine --reference', () => {
  it('reports the parallel efficiency of one-thread copies and the engine against the ideal', () => {
    const [one] = sizeRows(['--sizes', '1000', '--threads', '1']);
    expect(one!.threads).toBe(1);
    expectConsistentReference(one!, 2);
    // A one-thread engine is not compared with a multi-thread ideal.
    expect(one!.rtfVsIdeal).toBeNull();

    const [two] = sizeRows(['--sizes', '1000', '--threads', '2']);
    expect(two!.threads).toBe(2);
    expectConsistentReference(two!, 2);
    expect(two!.rtfVsIdeal as number).toBeCloseTo(two!.rtf / (two!.refIdealRtf as number), 9);
  }, 400_000);

  it('prints the reference columns in the table', () => {
    const result = runSourceCli(
      [
        'bench',
        'engine',
        '--backend',
        'cpu',
        '--sizes',
        '300',
        '--duration',
        '0.1',
        '--warmup',
        '0',
        '--overhead-calls',
        '10',
        '--threads',
        '2',
        '--reference',
      ],
      180_000,
    );
    expect(result.status, result.stderr).toBe(0);
    // One size prints as name–value lines.
    for (const column of ['refCopies', 'refEfficiency', 'refIdealRtf', 'rtfVsIdeal']) {
      expect(result.stdout).toMatch(new RegExp(`^\\s*${column}\\s+\\d`, 'm'));
    }
  }, 200_000);
});

describe('spikeloop bench engine --repeats', () => {
  const base = ['bench', 'engine', '--backend', 'cpu', '--sizes', '300', '--duration', '0.05'];
  const quick = ['--warmup', '0', '--overhead-calls', '10', '--threads', '1'];

  it('reports the median of the timed windows as RT, with the fastest and slowest beside it', () => {
    const result = runSourceCli([...base, ...quick, '--repeats', '3', '--json'], 120_000);
    expect(result.status, result.stderr).toBe(0);
    const row = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, number | string>)
      .find((r) => r.kind === 'size')!;
    expect(row.repeats).toBe(3);
    const [rtf, min, max] = [row.rtf as number, row.rtfMin as number, row.rtfMax as number];
    expect(min).toBeGreaterThan(0);
    expect(min).toBeLessThanOrEqual(rtf);
    expect(rtf).toBeLessThanOrEqual(max);
    // RT is one window's wall time over that window's biological time.
    expect(row.durationS).toBeCloseTo(0.05, 9);
    expect(rtf).toBeCloseTo((row.wallS as number) / 0.05, 9);
    expect(row.nsPerEventPerThread as number).toBeGreaterThan(0);

    const table = runSourceCli([...base, ...quick, '--repeats', '2'], 120_000);
    expect(table.status, table.stderr).toBe(0);
    for (const column of ['rtfMin', 'rtfMax'])
      expect(table.stdout).toMatch(new RegExp(`^\\s*${column}\\s+\\d`, 'm'));
  }, 250_000);

  it('refuses a window count below one, naming the option', () => {
    const result = runSourceCli([...base, ...quick, '--repeats', '0'], 60_000);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/--repeats/);
  }, 70_000);
});
