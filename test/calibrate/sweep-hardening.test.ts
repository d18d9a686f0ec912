/**
 * Sweeps against careless and hostile input (issue 11, items 5, 9, 11, 12): grid sizes checked
 * before anything is expanded, one sweep per results folder, corrupt result lines named, and the
 * Slurm scripts as emitted: paths with spaces, resources, logs, the chained merge. There is no
 * Slurm here: the scripts are run by a real shell, the sweep and merge they start are real
 * processes on real files, and `sbatch` is a recording stand-in on PATH whose only job is to show
 * the arguments submit.sh passes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { lockResultsDirectory, readResults } from '../../src/calibrate/results-store.js';
import { emitJobArray } from '../../src/calibrate/scheduler.js';
import { loadSweepSpec, MAX_SWEEP_POINTS, sweepSpecFrom } from '../../src/calibrate/sweep-spec.js';
import { calibrationSpecFrom } from '../../src/calibrate/targets.js';
import { runSourceCli } from '../cli/live-cli.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const spikeloop = (args: readonly string[], timeoutMs = 60_000) => runSourceCli(args, timeoutMs);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'spikeloop sweep hardening '));
});

describe('grid sizes are checked on the counts, before anything is expanded (item 5)', () => {
  it.each([
    [
      'a 10^9-step range',
      { grid: { jEPlus: { from: 1, to: 10, steps: 1e9 } } },
      /grid\.jEPlus: 1000000000 values/,
    ],
    ['a 10^12-step range', { grid: { jEPlus: { from: 1, to: 10, steps: 1e12 } } }, /1000000000000 values/],
    [
      'a product of 10^3 × 10^3 × 10^3',
      {
        grid: {
          jEPlus: { from: 1, to: 10, steps: 1000 },
          gE: { from: 1, to: 2, steps: 1000 },
          seed: { from: 1, to: 1000, steps: 1000 },
        },
      },
      /1\.00e\+9 points \(grid\.jEPlus 1000 × grid\.gE 1000 × grid\.seed 1000\)/,
    ],
  ])('%s is refused at once', (_what, file, message) => {
    // The schema is compiled on first use (hundreds of ms on a loaded machine): not what is timed.
    expect(() => sweepSpecFrom({ duration: -1 }, 'warm-up.yaml')).toThrow(/duration/);
    const start = performance.now();
    expect(() => sweepSpecFrom(file, 'big.yaml')).toThrow(message);
    expect(performance.now() - start).toBeLessThan(1000);
  });

  it('calibration: coarseSteps and refine.rounds are bounded before any round is built', () => {
    const base = {
      search: { jEPlus: { min: 2, max: 12 }, gE: { min: 1, max: 2 } },
      targets: { rateE: { max: 10 } },
    };
    expect(() => calibrationSpecFrom({ ...base, coarseSteps: 1000 }, 't.yaml')).toThrow(
      new RegExp(`1\\.00e\\+6 points.*at most ${MAX_SWEEP_POINTS}`),
    );
    expect(() => calibrationSpecFrom({ ...base, refine: { rounds: 1e9 } }, 't.yaml')).toThrow(
      /refine\.rounds: 1000000000; at most 50/,
    );
  });

  it('an empty sweep file is refused instead of running one default point (item 11)', () => {
    const empty = join(dir, 'empty.yaml');
    writeFileSync(empty, '');
    const result = spikeloop(['sweep', empty, '--out', join(dir, 'empty-out')]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/empty\.yaml: nothing to sweep/);
    expect(existsSync(join(dir, 'empty-out'))).toBe(false);
  });
});

describe('results folders (items 9 and 11)', () => {
  it('a second sweep into a folder in use is refused; a lock left by a killed process is taken over', async () => {
    const out = join(dir, 'locked');
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      mkdirSync(out, { recursive: true });
      writeFileSync(join(out, '.lock'), `${child.pid}\n`);
      expect(() => lockResultsDirectory(out)).toThrow(
        new RegExp(`in use by another spikeloop process \\(pid ${child.pid}`),
      );
    } finally {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    const release = lockResultsDirectory(out);
    expect(readFileSync(join(out, '.lock'), 'utf8').trim()).toBe(String(process.pid));
    release();
    expect(existsSync(join(out, '.lock'))).toBe(false);
  });

  it('two sweep processes on one folder: the second is refused; Ctrl-C ends the first with 130 and frees it', async () => {
    const grid = join(dir, 'two.yaml');
    // Long enough that the first is still running when the second has started (a faster CPU
    // kernel finished 8 × 5 s before that under load); SIGINT ends it anyway.
    writeFileSync(
      grid,
      'n: 2000\nduration: 60\nwarmup: 0\nbackend: cpu\ngrid:\n  seed: [1, 2, 3, 4, 5, 6, 7, 8]\n',
    );
    const out = join(dir, 'two-out');
    const start = () => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', 'src/cli/main.ts', 'sweep', grid, '--out', out, '--batch', '1', '--threads', '1'],
        { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let stderr = '';
      child.stderr.on('data', (chunk) => (stderr += chunk));
      const done = new Promise<{ code: number | null; stderr: string }>((resolve) =>
        child.on('close', (code) => resolve({ code, stderr })),
      );
      return { child, done };
    };
    const first = start();
    const deadline = Date.now() + 60_000;
    while (!existsSync(join(out, '.lock')) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    const second = await start().done;
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/is in use by another spikeloop process \(pid \d+/);
    first.child.kill('SIGINT');
    expect((await first.done).code).toBe(130);
    expect(existsSync(join(out, '.lock'))).toBe(false);
    const rows = readFileSync(join(out, 'results.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    expect(new Set(rows.map((row) => JSON.parse(row).key)).size).toBe(rows.length);
  });

  it('a corrupt line in results.jsonl is named by file and line', () => {
    const out = join(dir, 'corrupt');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'results.jsonl'), '{"key":"a","index":0}\n{"key": oops}\n');
    expect(() => readResults(out)).toThrow(`${join(out, 'results.jsonl')}:2: not a result row`);
  });
});

describe('Slurm job arrays as emitted (item 12)', () => {
  const GRID = 'n: 100\nduration: 0.2\nwarmup: 0\nbackend: cpu\ngrid:\n  seed: [1, 2, 3]\n';

  it('writes path-free #SBATCH lines with resources, passes --threads, and keeps logs out of the slice glob', () => {
    const out = join(dir, 'jobs with space');
    const jobs = emitJobArray({
      scheduler: 'slurm',
      spec: sweepSpecFrom({ n: 100, duration: 0.2, grid: { seed: [1, 2, 3] } }, 'g'),
      outDir: out,
      slices: 3,
      batch: 2,
      backend: 'cpu',
      threads: 3,
      time: '2:00:00',
      mem: '8G',
    });
    const sbatch = readFileSync(join(out, 'sweep.sbatch'), 'utf8');
    for (const line of [
      '#SBATCH --array=0-2',
      '#SBATCH --cpus-per-task=3',
      '#SBATCH --time=2:00:00',
      '#SBATCH --mem=8G',
    ])
      expect(sbatch).toContain(line);
    for (const line of sbatch.split('\n').filter((l) => l.startsWith('#SBATCH')))
      expect(line).not.toMatch(/\s.*\s/);
    expect(readFileSync(jobs.wrapper, 'utf8')).toMatch(/--batch 2 --backend cpu --threads 3\n$/);
    expect(existsSync(jobs.logDir)).toBe(true);
    expect(jobs.logDir).toBe(join(out, 'logs'));
    expect(jobs.submitCommand).toBe(`sh '${join(out, 'submit.sh')}'`);
    expect(() =>
      emitJobArray({
        scheduler: 'slurm',
        spec: loadSweepSpecFrom(GRID),
        outDir: out,
        slices: 2,
        batch: 1,
        backend: 'cpu',
        time: 'soon',
      }),
    ).toThrow(/--time must be a Slurm time limit/);
  });

  it('submit.sh hands sbatch the quoted paths and chains the merge with afterok', () => {
    const out = join(dir, 'submit with space');
    emitJobArray({
      scheduler: 'slurm',
      spec: loadSweepSpecFrom(GRID),
      outDir: out,
      slices: 3,
      batch: 1,
      backend: 'cpu',
    });
    const bin = join(dir, 'fake-bin');
    mkdirSync(bin, { recursive: true });
    const record = join(dir, 'sbatch-calls.txt');
    writeFileSync(
      join(bin, 'sbatch'),
      `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a" >> '${record}'; done\necho '---' >> '${record}'\necho "4242;cluster"\n`,
    );
    chmodSync(join(bin, 'sbatch'), 0o755);
    const result = spawnSync('sh', [join(out, 'submit.sh')], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/job array 4242 .* job 4242 \(merge/);
    const [array, merge] = readFileSync(record, 'utf8').split('---\n');
    expect(array!.split('\n')).toEqual([
      '--parsable',
      `--chdir=${out}`,
      `--output=${join(out, 'logs', 'slice-%a.log')}`,
      'sweep.sbatch',
      '',
    ]);
    expect(merge!.split('\n')).toContain('--dependency=afterok:4242');
    expect(merge!.split('\n')).toContain('merge.sbatch');
  });

  it('the emitted scripts run every slice and merge them; a merge with missing points exits 1', () => {
    const out = join(dir, 'run with space');
    const jobs = emitJobArray({
      scheduler: 'slurm',
      spec: loadSweepSpecFrom(GRID),
      outDir: out,
      slices: 3,
      batch: 1,
      backend: 'cpu',
    });
    const env = { ...process.env, NODE: process.execPath };
    const slice = (k: number) =>
      spawnSync('sh', ['./run-slice.sh', String(k)], { cwd: out, encoding: 'utf8', env, timeout: 60_000 });
    expect(slice(0).status).toBe(0);
    // A log file beside the slices (as an older layout left them) must not break the printed merge.
    writeFileSync(join(out, 'logs', 'slice-0.log'), 'log\n');
    const partial = spikeloop([
      'sweep',
      '--merge',
      ...jobs.sliceDirs.slice(0, 1),
      '--out',
      join(out, 'partial'),
    ]);
    expect(partial.status).toBe(1);
    expect(partial.stderr).toMatch(/2 of 3 points have no result yet/);
    expect(slice(1).status).toBe(0);
    expect(slice(2).status).toBe(0);
    const merge = spawnSync('sh', ['./merge.sbatch'], { cwd: out, encoding: 'utf8', env, timeout: 60_000 });
    expect(merge.stderr).toBe('');
    expect(merge.status).toBe(0);
    expect(readResults(join(out, 'merged')).size).toBe(3);
    const file = spikeloop(['sweep', '--merge', join(out, 'logs', 'slice-0.log'), '--out', join(out, 'x')]);
    expect(file.stderr).toMatch(/slice-0\.log is a file, not a sweep results directory/);
  });
});

function loadSweepSpecFrom(text: string) {
  const path = join(dir, `grid-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(path, text);
  return loadSweepSpec(path);
}
