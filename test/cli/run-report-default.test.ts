import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { reportDirectory } from '../../src/cli/run.js';
import { runCli } from './run-cli.js';

describe('every run writes its latency report', () => {
  it('picks reports/ENV-TIMESTAMP unless a directory or --no-report is given', () => {
    expect(reportDirectory(undefined, 'arena')).toMatch(
      /^reports\/arena-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}$/,
    );
    expect(reportDirectory(true, 'ws')).toMatch(/^reports\/ws-/);
    expect(reportDirectory('out', 'ws')).toBe('out');
    expect(reportDirectory(false, 'ws')).toBeUndefined();
  });

  it('writes the report files by default, and none with --no-report', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'spikeloop-report-default-'));
    const args = [
      'run',
      '--env',
      'synthetic',
      '--duration',
      '0.3',
      '--backend',
      'cpu',
      '--n',
      '100',
      '--json',
    ];
    const first = runCli(args, 60_000, cwd);
    expect(first.status).toBe(0);
    const summary = JSON.parse(first.stdout.trim().split('\n').at(-1)!) as { report: string };
    expect(summary.report).toMatch(/^reports\/synthetic-/);
    for (const file of ['report.json', 'report.txt', 'report.html', 'lateness.hgrm']) {
      expect(existsSync(join(cwd, summary.report, file))).toBe(true);
    }
    const second = runCli([...args, '--no-report'], 60_000, cwd);
    expect(second.status).toBe(0);
    expect(readdirSync(join(cwd, 'reports'))).toHaveLength(1);
  });
});
