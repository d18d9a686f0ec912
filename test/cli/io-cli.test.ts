/** The I/O commands end to end through the built bin: bench io (with the arena process) and --dashboard. */
import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

describe('spikeloop bench io', () => {
  it('measures round trips with the arena as a separate process and prints one JSON object', () => {
    const result = runCli(['bench', 'io', '--duration', '2', '--n', '200', '--json']);
    expect(result.status, result.stderr).toBe(0);
    const row = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(row).toMatchObject({ bench: 'io', n: 200, rateHz: 1000, durationS: 2, backend: 'cpu' });
    expect(row.sensorSent).toBeGreaterThan(0);
    expect(row.motorReceived).toBeGreaterThan(0);
    const rtt = row.rttUs as Record<string, number>;
    expect(rtt.count).toBeGreaterThan(0);
    expect(Object.keys(rtt).sort()).toEqual(['count', 'max', 'p50', 'p99', 'p999']);
    expect(typeof row.framesDropped).toBe('number');
    expect(result.stderr).toMatch(/"spikeloop arena".*connected as simulator/);
  });
});

describe('spikeloop run --dashboard', () => {
  it('prints the dashboard address and stops cleanly', () => {
    const result = runCli([
      'run',
      '--env',
      'arena',
      '--n',
      '200',
      '--duration',
      '1',
      '--dashboard',
      '0',
      '--json',
    ]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/spikeloop: dashboard at http:\/\/127\.0\.0\.1:\d+\//);
    expect(JSON.parse(result.stdout.trim())).toMatchObject({ env: 'arena' });
  });

  it('refuses a non-loopback dashboard without a token', () => {
    const result = runCli([
      'run',
      '--env',
      'arena',
      '--n',
      '200',
      '--duration',
      '1',
      '--dashboard',
      '0',
      '--dashboard-host',
      '0.0.0.0',
    ]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/a token is required/);
  });
});
