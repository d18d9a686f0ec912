import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'spikeloop-run-params-'));

describe('spikeloop run --params', () => {
  it('takes model, N and parameters from a calibrated params file', () => {
    const file = join(dir, 'calibrated.yaml');
    writeFileSync(file, 'model: balanced\nn: 500\nparams:\n  backgroundThresholdE: 1.5\n  jEPlus: 1\n');
    const result = runCli([
      'run',
      '--env',
      'synthetic',
      '--duration',
      '0.3',
      '--backend',
      'cpu',
      '--params',
      file,
      '--json',
    ]);
    expect(result.status).toBe(0);
    const summary = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(summary.n).toBe(500);
    const explicit = runCli([
      'run',
      '--env',
      'synthetic',
      '--duration',
      '0.2',
      '--backend',
      'cpu',
      '--params',
      file,
      '--n',
      '1000',
      '--json',
    ]);
    expect(JSON.parse(explicit.stdout.trim().split('\n').at(-1)!).n).toBe(1000);
  });

  it('changes the simulated network (simulate --params)', () => {
    const file = join(dir, 'quiet.yaml');
    writeFileSync(
      file,
      'model: balanced\nn: 1000\nparams:\n  backgroundThresholdE: 1.1\n  backgroundThresholdI: 0.9\n',
    );
    const simulate = (...extra: string[]) => {
      const result = runCli(['simulate', '--duration', '0.5', '--backend', 'cpu', '--json', ...extra]);
      expect(result.status).toBe(0);
      return JSON.parse(result.stdout) as { n: number; rateE: number };
    };
    const calibrated = simulate('--params', file);
    const defaults = simulate('--model', 'balanced', '--n', '1000');
    expect(calibrated.n).toBe(1000);
    expect(calibrated.rateE).toBeLessThan(defaults.rateE);
  });

  it('names the bad field of a params file', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'n: 500\nparams:\n  jEPlus: 0.2\n');
    const result = runCli([
      'run',
      '--env',
      'synthetic',
      '--duration',
      '0.2',
      '--backend',
      'cpu',
      '--params',
      file,
    ]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/bad\.yaml.*jEPlus/);
  });
});
