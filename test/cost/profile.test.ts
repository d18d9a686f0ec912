import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { calibratedThreadCounts } from '../../src/cli/calibrate.js';
import {
  type HardwareProfile,
  loadHardwareProfile,
  machineProfile,
  machineThreadCost,
  recommendFromProfile,
  validateHardwareProfile,
} from '../../src/cost/profile.js';

const dir = mkdtempSync(join(tmpdir(), 'spikeloop-profile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: join(import.meta.dirname, '../..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** A profile with known fits: CPU RT(N) = N/10,000, WebGPU RT(N) = 0.2 + N/50,000, measured at 1 ms. */
function handBuiltProfile(): HardwareProfile {
  const sample = {
    n: 1000,
    synapses: 3e5,
    buildS: 0.1,
    durationS: 1,
    wallS: 0.1,
    rtf: 0.1,
    eventsPerS: 1e7,
    rssBytes: 1,
    engineBytes: 1,
  };
  return {
    schemaVersion: 1,
    name: 'test',
    date: new Date(0).toISOString(),
    host: { os: 'linux', arch: 'x64', cpuModel: 'test', cpuCores: 2, memoryBytes: 1 },
    software: { node: process.version, spikeloop: '0.1.0' },
    measurement: {
      model: 'ei-clustered',
      sizes: [1000, 20000],
      durationS: 1,
      warmupS: 0,
      tickMs: 1,
      stepsPerCall: 10,
    },
    safetyMargin: 0.25,
    backends: [
      {
        backend: 'cpu',
        available: true,
        samples: [{ ...sample, n: 20000 }],
        fit: { a0: 0, a1: 1e-4, a2: 0, r2: 1 },
        tickOverheadUs: 0,
      },
      {
        backend: 'webgpu',
        available: true,
        samples: [{ ...sample, n: 20000 }],
        fit: { a0: 0.2, a1: 2e-5, a2: 0, r2: 1 },
        tickOverheadUs: 100,
      },
    ],
    recommended: { backend: 'webgpu', n: 20000, tickMs: 1 },
  };
}

describe('hardware profile', () => {
  it('is written by calibrate and validates against the schema', async () => {
    const path = join(dir, 'tiny.json');
    const run = await cli([
      'calibrate',
      '--backend',
      'cpu',
      '--sizes',
      '200,400,600',
      '--duration',
      '0.05',
      '--warmup',
      '0',
      '--repeats',
      '2',
      '--no-extend',
      '--name',
      'tiny',
      '--output',
      path,
      '--json',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const profile = loadHardwareProfile(path);
    expect(profile.name).toBe('tiny');
    expect(profile.software.node).toBe(process.version);
    expect(profile.measurement).toMatchObject({
      sizes: [200, 400, 600],
      tickMs: 1,
      stepsPerCall: 10,
      repeats: 2,
    });
    const cpu = profile.backends.find((b) => b.backend === 'cpu')!;
    expect(cpu.available).toBe(true);
    expect(cpu.samples!.map((s) => s.n)).toEqual([200, 400, 600]);
    for (const sample of cpu.samples!) {
      expect(sample.rtf).toBeGreaterThan(0);
      // Two timed windows: the lower median of two is the faster one.
      expect(sample.repeats).toBe(2);
      expect(sample.rtfMin).toBe(sample.rtf);
      expect(sample.rtfMax!).toBeGreaterThanOrEqual(sample.rtf);
      expect(sample.eventsPerS).toBeGreaterThan(0);
      expect(sample.buildS).toBeGreaterThan(0);
    }
    expect(cpu.fit).toBeDefined();
    expect(cpu.tickOverheadUs).toBeGreaterThan(0);
    // Every size at 1, 2, 4, … threads (up to the cores): one fit per count, and each size's sample
    // is its fastest count.
    const counts = calibratedThreadCounts(availableParallelism());
    expect(cpu.threadFits!.map((fit) => fit.threads)).toEqual(counts);
    expect(cpu.threadSamples!.length).toBe(3 * counts.length);
    for (const sample of cpu.samples!) {
      const measured = cpu.threadSamples!.filter((t) => t.n === sample.n);
      expect(measured.map((t) => t.threads)).toEqual(counts);
      const fastest = measured.reduce((best, t) => (t.rtf < best.rtf ? t : best));
      expect(sample).toMatchObject({ threads: fastest.threads, rtf: fastest.rtf });
    }
    // The recommendation is the profile's own computation at its tick.
    const recommendation = recommendFromProfile(profile, 1);
    expect(profile.recommended).toEqual({ backend: recommendation.backend, n: recommendation.n, tickMs: 1 });
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.at(-1)).toMatchObject({ kind: 'profile', profile: path });
  });

  it("finds this machine's newest profile with measured thread costs by CPU model and cores", () => {
    const folder = mkdtempSync(join(dir, 'machine-'));
    const host = { cpuModel: 'Test CPU 9000', cpuCores: 4 };
    const withFits = (date: string, a1: number): HardwareProfile => {
      const profile = handBuiltProfile();
      profile.date = date;
      profile.host = { ...profile.host, ...host };
      profile.backends[0]!.threadFits = [
        { threads: 1, a0: 0, a1, a2: 0, r2: 1 },
        { threads: 2, a0: 0, a1: a1 / 2, a2: 0, r2: 1 },
      ];
      return profile;
    };
    writeFileSync(join(folder, 'old.json'), JSON.stringify(withFits('2026-01-01T00:00:00Z', 1e-4)));
    writeFileSync(join(folder, 'new.json'), JSON.stringify(withFits('2026-06-01T00:00:00Z', 2e-4)));
    // Another machine, a profile without thread fits, and a file that is no profile: all passed over.
    const other = withFits('2026-12-01T00:00:00Z', 3e-4);
    other.host.cpuCores = 8;
    writeFileSync(join(folder, 'other.json'), JSON.stringify(other));
    writeFileSync(
      join(folder, 'plain.json'),
      JSON.stringify({
        ...handBuiltProfile(),
        host: { ...handBuiltProfile().host, ...host },
        date: '2027-01-01T00:00:00Z',
      }),
    );
    writeFileSync(join(folder, 'broken.json'), '{"schemaVersion": 1');
    const found = machineProfile([folder], host);
    expect(found?.path).toBe(join(folder, 'new.json'));
    expect(machineThreadCost([folder])).toBeNull(); // this process's CPU is not "Test CPU 9000"
    expect(machineProfile([folder], { ...host, cpuCores: 2 })).toBeNull();
    expect(machineProfile([join(folder, 'missing')], host)).toBeNull();
  });

  it('rejects a profile that breaks the schema, naming the key', () => {
    const broken = { ...handBuiltProfile(), backends: [{ backend: 'tpu', available: true }] } as unknown;
    expect(() => validateHardwareProfile(broken, 'p.json')).toThrow(
      /p\.json: backends\[0\]\.backend: must be one of "cpu", "webgpu"/,
    );
    const { host: _host, ...missing } = handBuiltProfile();
    expect(() => validateHardwareProfile(missing, 'p.json')).toThrow(/missing required key "host"/);
    const path = join(dir, 'extra.json');
    writeFileSync(path, JSON.stringify({ ...handBuiltProfile(), colour: 'red' }));
    expect(() => loadHardwareProfile(path)).toThrow(/unknown key "colour"/);
  });

  it('recommends the backend that holds real time for the largest N at the tick', () => {
    const profile = validateHardwareProfile(handBuiltProfile(), 'hand-built');
    // CPU: 1.25·N/10,000 ≤ 1 → N ≤ 8,000. WebGPU: 1.25·(0.2 + N/50,000) ≤ 1 → N ≤ 30,000,
    // inside the search limit of 2× the largest measured size (40,000).
    const at1 = recommendFromProfile(profile, 1);
    expect(at1).toMatchObject({ backend: 'webgpu', n: 30000 });
    expect(at1.predictedRtf).toBeCloseTo(0.8, 9);
    // A 0.25 ms tick pays WebGPU's 100 µs call overhead four times as often: +0.3 of real time,
    // 1.25·(0.5 + N/50,000) ≤ 1 → N ≤ 15,000; the CPU (no overhead) still holds 8,000.
    expect(recommendFromProfile(profile, 0.25)).toMatchObject({ backend: 'webgpu', n: 15000 });
    // At 0.125 ms WebGPU needs 0.2 + 0.7 = 0.9 before any neuron: the CPU wins.
    expect(recommendFromProfile(profile, 0.125)).toMatchObject({ backend: 'cpu', n: 8000 });
  });

  it('says so when no backend holds real time', () => {
    const profile = handBuiltProfile();
    for (const backend of profile.backends) backend.fit = { a0: 2, a1: 0, a2: 0, r2: 1 };
    const recommendation = recommendFromProfile(profile, 1);
    expect(recommendation).toMatchObject({ backend: null, n: null });
    expect(recommendation.reason).toMatch(/no backend in profile "test" holds real time/);
  });

  it('every committed profile of this repository validates', () => {
    const folder = join(import.meta.dirname, '../../hardware-profiles');
    for (const file of readdirSync(folder).filter(
      (name) => name.endsWith('.json') && name !== 'schema.json',
    )) {
      const profile = loadHardwareProfile(join(folder, file));
      expect(profile.backends.some((backend) => backend.available && backend.samples!.length >= 3)).toBe(
        true,
      );
    }
  });

  it('run --profile takes backend and N from the profile, and explicit options win', async () => {
    const profile = handBuiltProfile();
    // Only the CPU is available; at 1 ms it holds N ≤ 800 with RT(N) = N/1000 and a 25% margin.
    profile.backends = [{ ...profile.backends[0]!, fit: { a0: 0, a1: 1e-3, a2: 0, r2: 1 } }];
    const path = join(dir, 'cpu-only.json');
    writeFileSync(path, JSON.stringify(profile));
    const base = ['run', '--env', 'synthetic', '--duration', '0.2', '--profile', path, '--json'];
    const chosen = await cli(base);
    expect(chosen.code, chosen.stderr).toBe(0);
    expect(JSON.parse(chosen.stdout.trim())).toMatchObject({ backend: 'cpu', n: 800, tickMs: 1 });
    expect(chosen.stderr).toMatch(/cpu holds real time up to N = 800 at a 1 ms tick/);
    const explicit = await cli([...base, '--n', '500']);
    expect(explicit.code, explicit.stderr).toBe(0);
    expect(JSON.parse(explicit.stdout.trim())).toMatchObject({ backend: 'cpu', n: 500 });
    profile.backends[0]!.fit = { a0: 3, a1: 0, a2: 0, r2: 1 };
    writeFileSync(path, JSON.stringify(profile));
    const none = await cli(base);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no backend in profile "test" holds real time.*pass --backend and --n/);
  });
});
