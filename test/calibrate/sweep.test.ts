import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ResultRow, readResults } from '../../src/calibrate/results-store.js';
import { emitJobArray } from '../../src/calibrate/scheduler.js';
import { runSweep } from '../../src/calibrate/sweep-run.js';
import {
  expandSweep,
  loadSweepSpec,
  parseSlice,
  selectSlice,
  sweepSpecFrom,
} from '../../src/calibrate/sweep-spec.js';

const GRID = `
n: 1000
duration: 0.3
warmup: 0.1
backend: cpu
params:
  seed: 5
grid:
  jEPlus: [5, 10]
  backgroundThresholdE: [2.0, 2.13, 2.3]
heatmap: { x: jEPlus, y: backgroundThresholdE, metric: switchingRateHz }
`;

let dir: string;
let gridPath: string;
/** Rows of the whole sweep run as one batch: the reference the other runs must equal. */
let reference: ResultRow[];

function sortedRows(rows: Iterable<ResultRow>): ResultRow[] {
  return [...rows].sort((a, b) => a.index - b.index);
}

function cli(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: join(import.meta.dirname, '../..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function finished(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'spikeloop-sweep-'));
  gridPath = join(dir, 'grid.yaml');
  writeFileSync(gridPath, GRID);
  const summary = await runSweep({ spec: loadSweepSpec(gridPath), outDir: join(dir, 'batched'), batch: 6 });
  expect(summary).toMatchObject({ points: 6, computed: 6, batches: 1 });
  reference = sortedRows(readResults(join(dir, 'batched')).values());
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sweep spec', () => {
  it('expands the cartesian product in a stable order with stable keys', () => {
    const spec = sweepSpecFrom({ n: 1000, grid: { jEPlus: [5, 10], seed: [1, 2, 3] } }, 'test');
    const points = expandSweep(spec);
    expect(points.map((p) => p.values)).toEqual([
      { jEPlus: 5, seed: 1 },
      { jEPlus: 5, seed: 2 },
      { jEPlus: 5, seed: 3 },
      { jEPlus: 10, seed: 1 },
      { jEPlus: 10, seed: 2 },
      { jEPlus: 10, seed: 3 },
    ]);
    expect(new Set(points.map((p) => p.key)).size).toBe(6);
    expect(
      expandSweep(sweepSpecFrom({ n: 1000, grid: { seed: [1, 2, 3], jEPlus: [5, 10] } }, 'test'))[0]!.key,
    ).toBe(points[0]!.key);
  });

  it('combines explicit points with the grid and expands ranges', () => {
    const spec = sweepSpecFrom(
      { points: [{ seed: 1 }, { seed: 2, gE: 1.1 }], grid: { jEPlus: { from: 2, to: 4, steps: 3 } } },
      'test',
    );
    expect(expandSweep(spec).map((p) => p.values)).toEqual([
      { seed: 1, jEPlus: 2 },
      { seed: 1, jEPlus: 3 },
      { seed: 1, jEPlus: 4 },
      { seed: 2, gE: 1.1, jEPlus: 2 },
      { seed: 2, gE: 1.1, jEPlus: 3 },
      { seed: 2, gE: 1.1, jEPlus: 4 },
    ]);
  });

  it('names the bad key in its errors', () => {
    expect(() => sweepSpecFrom({ grid: { jEPluss: [1] } }, 'g.yaml')).toThrow(
      /g\.yaml: grid: unknown key "jEPluss"/,
    );
    expect(() => sweepSpecFrom({ grid: { jEPlus: 'x' } }, 'g.yaml')).toThrow(/grid\.jEPlus/);
    expect(() => sweepSpecFrom({ duration: -1 }, 'g.yaml')).toThrow(/duration: must be > 0/);
    expect(() => sweepSpecFrom({ grid: { jEPlus: [5, 25] } }, 'g.yaml')).toThrow(
      /point 1 \(jEPlus=25\): invalid parameter jEPlus/,
    );
    expect(() => sweepSpecFrom({ n: 1010, grid: { seed: [1] } }, 'g.yaml')).toThrow(
      /N = 1010 .*multiple of 5·Q = 100/,
    );
    expect(() => sweepSpecFrom({ heatmap: { x: 'jEPlus', y: 'seed', metric: 'speed' } }, 'g.yaml')).toThrow(
      /heatmap\.metric: must be one of/,
    );
  });

  it('accepts the example sweep and targets files', async () => {
    const examples = join(import.meta.dirname, '../../examples');
    expect(expandSweep(loadSweepSpec(join(examples, 'sweep-cluster-strength.yaml')))).toHaveLength(60);
    const { loadCalibrationSpec } = await import('../../src/calibrate/targets.js');
    expect(loadCalibrationSpec(join(examples, 'targets-low-rates.yaml')).targets.rateE).toEqual({
      value: 3,
      tolerance: 0.5,
    });
  });

  it('cuts slices that cover every point once', () => {
    expect(parseSlice('2/5')).toEqual({ index: 2, count: 5 });
    expect(() => parseSlice('5/5')).toThrow(/--slice 5\/5/);
    expect(() => parseSlice('a')).toThrow(/--slice must look like i\/k/);
    const items = Array.from({ length: 11 }, (_, k) => k);
    const slices = [0, 1, 2].map((index) => selectSlice(items, { index, count: 3 }));
    expect(slices.flat()).toEqual(items);
  });
});

describe('sweep', () => {
  it('gives every point the same metrics in a batch as alone with its seed', async () => {
    const summary = await runSweep({ spec: loadSweepSpec(gridPath), outDir: join(dir, 'alone'), batch: 1 });
    expect(summary.batches).toBe(6);
    const alone = sortedRows(readResults(join(dir, 'alone')).values());
    expect(alone).toEqual(reference);
    // The metrics are real measurements, not placeholders.
    for (const row of reference) {
      expect(row.rateE).toBeGreaterThan(0);
      expect(row.rateI).toBeGreaterThan(0);
      expect(row.cvE).toBeGreaterThan(0);
    }
    const csv = readFileSync(join(dir, 'batched', 'results.csv'), 'utf8')
      .trim()
      .split('\n');
    expect(csv).toHaveLength(7);
    expect(csv[0]).toMatch(/^key,index,n,durationS,warmupS,seed,jEPlus,backgroundThresholdE,rateE,rateI/);
    const svg = readFileSync(join(dir, 'batched', 'heatmap.svg'), 'utf8');
    expect(svg).toContain('cluster switching rate (Hz) over J<tspan');
    expect(svg.match(/<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="(?:32|40)"/g)).toHaveLength(6);
  });

  it('sees metastable switching in the clustered network and none in the unclustered one', async () => {
    const spec = sweepSpecFrom(
      { n: 2000, duration: 2, warmup: 0.3, backend: 'cpu', params: { seed: 1 }, grid: { jEPlus: [1, 10] } },
      'switching',
    );
    await runSweep({ spec, outDir: join(dir, 'switching'), batch: 2 });
    const [flat, clustered] = sortedRows(readResults(join(dir, 'switching')).values());
    expect(flat!.meanActiveClusters!).toBeLessThan(0.2);
    expect(flat!.switchingRateHz!).toBeLessThan(1);
    expect(clustered!.meanActiveClusters!).toBeGreaterThan(1);
    expect(clustered!.switchingRateHz!).toBeGreaterThan(2);
    expect(clustered!.meanDwellMs!).toBeGreaterThan(50);
    // Cluster switching makes single neurons irregular and bursty: CV and Fano factor rise above the flat network's.
    expect(clustered!.cvE!).toBeGreaterThan(flat!.cvE! + 0.3);
    expect(clustered!.fanoE!).toBeGreaterThan(flat!.fanoE! + 0.5);
  });

  it('resumes after a kill without recomputing finished batches', async () => {
    const out = join(dir, 'killed');
    const results = join(out, 'results.jsonl');
    const first = cli(['sweep', gridPath, '--batch', '1', '--out', out]);
    const firstDone = finished(first);
    await new Promise<void>((resolve, reject) => {
      const poll = setInterval(() => {
        if (existsSync(results) && readFileSync(results, 'utf8').includes('\n')) {
          clearInterval(poll);
          first.kill('SIGKILL');
          resolve();
        }
      }, 5);
      first.on('exit', () => {
        clearInterval(poll);
        reject(new Error('the sweep finished before it could be killed'));
      });
    });
    await firstDone;
    const before = readFileSync(results, 'utf8');
    const doneBefore = before.split('\n').filter((line) => line !== '').length;
    expect(doneBefore).toBeGreaterThanOrEqual(1);
    expect(doneBefore).toBeLessThan(6);

    const second = await finished(cli(['sweep', gridPath, '--batch', '1', '--out', out, '--json']));
    expect(second.code).toBe(0);
    const summary = JSON.parse(second.stdout.trim()) as { alreadyDone: number; computed: number };
    expect(summary.alreadyDone).toBe(doneBefore);
    expect(summary.computed).toBe(6 - doneBefore);
    const after = readFileSync(results, 'utf8');
    // Finished rows are kept as they were; each point appears once; the results equal one batch.
    expect(after.startsWith(before)).toBe(true);
    expect(after.split('\n').filter((line) => line !== '')).toHaveLength(6);
    expect(sortedRows(readResults(out).values())).toEqual(reference);
  });

  it('runs slices as separate processes whose merge equals the unsliced sweep', async () => {
    const runs = [0, 1, 2].map((index) =>
      finished(
        cli([
          'sweep',
          gridPath,
          '--slice',
          `${index}/3`,
          '--batch',
          '2',
          '--out',
          join(dir, `slice-${index}`),
        ]),
      ),
    );
    for (const run of await Promise.all(runs)) expect(run.code).toBe(0);
    for (const index of [0, 1, 2]) expect(readResults(join(dir, `slice-${index}`)).size).toBe(2);
    const merged = join(dir, 'merged');
    const merge = await finished(
      cli(['sweep', '--merge', ...[0, 1, 2].map((k) => join(dir, `slice-${k}`)), '--out', merged, '--json']),
    );
    expect(merge.code).toBe(0);
    expect(JSON.parse(merge.stdout.trim())).toMatchObject({ points: 6, merged: 6, missing: 0 });
    expect(sortedRows(readResults(merged).values())).toEqual(reference);
    expect(readFileSync(join(merged, 'results.csv'), 'utf8')).toBe(
      readFileSync(join(dir, 'batched', 'results.csv'), 'utf8'),
    );
  });

  it('refuses to merge directories of different sweeps', async () => {
    const other = join(dir, 'other.yaml');
    writeFileSync(other, GRID.replace('duration: 0.3', 'duration: 0.2'));
    const otherOut = join(dir, 'other-out');
    await runSweep({ spec: loadSweepSpec(other), outDir: otherOut, slice: { index: 0, count: 6 } });
    const merge = await finished(
      cli(['sweep', '--merge', join(dir, 'batched'), otherOut, '--out', join(dir, 'bad')]),
    );
    expect(merge.code).toBe(1);
    expect(merge.stderr).toMatch(/holds a different sweep/);
  });

  it('emits Slurm and HTCondor job arrays that run every slice', () => {
    const spec = loadSweepSpec(gridPath);
    const slurm = emitJobArray({
      scheduler: 'slurm',
      spec,
      outDir: join(dir, 'jobs'),
      slices: 3,
      batch: 2,
      backend: 'cpu',
    });
    // submit.sh submits sweep.sbatch (the array) and merge.sbatch (test/calibrate/sweep-hardening.test.ts).
    expect(slurm.submitFile).toBe(join(dir, 'jobs', 'submit.sh'));
    const sbatch = readFileSync(join(dir, 'jobs', 'sweep.sbatch'), 'utf8');
    expect(sbatch).toContain('#SBATCH --array=0-2');
    expect(sbatch).toContain('"$SLURM_ARRAY_TASK_ID"');
    const wrapper = readFileSync(slurm.wrapper, 'utf8');
    expect(wrapper).toMatch(
      /sweep \S+grid\.yaml --slice "\$1\/3" --out \S+\/slice-"\$1" --batch 2 --backend cpu/,
    );
    expect(loadSweepSpec(slurm.grid)).toEqual(spec);
    const condor = emitJobArray({
      scheduler: 'htcondor',
      spec,
      outDir: join(dir, 'jobs'),
      slices: 3,
      batch: 2,
      backend: 'cpu',
    });
    const submit = readFileSync(condor.submitFile, 'utf8');
    expect(submit).toContain('arguments    = $(Process)');
    expect(submit).toMatch(/queue 3\n$/);
    expect(condor.sliceDirs).toHaveLength(3);
  });
});
