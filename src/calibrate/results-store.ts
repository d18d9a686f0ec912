/**
 * A sweep's results directory: sweep.json (the spec), results.jsonl (one line per finished point,
 * appended and synced per finished batch: the source of truth for resuming), and results.csv and
 * heatmap.svg, rewritten from the rows after every batch.
 */
import {
  appendFileSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { METRIC_NAMES, type MetricName } from './metrics.js';
import { type ParamValues, type SweepSpec, specHash, specToFile, sweepSpecFrom } from './sweep-spec.js';

export type MetricValues = Record<MetricName, number | null>;

export interface ResultRow extends MetricValues {
  key: string;
  index: number;
  n: number;
  durationS: number;
  warmupS: number;
  /** The parameter overrides of this point (fixed and swept; N is `n`). */
  params: ParamValues;
  backend: string;
}

export const RESULTS_FILE = 'results.jsonl';
export const CSV_FILE = 'results.csv';
export const SPEC_FILE = 'sweep.json';
export const HEATMAP_FILE = 'heatmap.svg';

/** Writes via a temporary file and rename, so a reader never sees half a file. */
export function writeFileAtomic(path: string, content: string): void {
  const temporary = `${path}.tmp-${process.pid}`;
  writeFileSync(temporary, content);
  renameSync(temporary, path);
}

export function writeSpecFile(dir: string, spec: SweepSpec): void {
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(
    join(dir, SPEC_FILE),
    `${JSON.stringify({ specHash: specHash(spec), spec: specToFile(spec) }, null, 2)}\n`,
  );
}

export function readSpecFile(dir: string): { specHash: string; spec: SweepSpec } {
  const path = join(dir, SPEC_FILE);
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    throw new Error(`${dir} is a file, not a sweep results directory (give the slice folders to --merge)`);
  }
  if (!existsSync(path)) throw new Error(`${dir} is not a sweep results directory (no ${SPEC_FILE})`);
  const stored = JSON.parse(readFileSync(path, 'utf8')) as { specHash: string; spec: unknown };
  return { specHash: stored.specHash, spec: sweepSpecFrom(stored.spec, path) };
}

/**
 * Reads the finished rows of a results directory; a line cut short by a kill mid-write belongs
 * to a batch that did not finish and is ignored. With `repair` (only the sweep that is about to
 * append) it is also cut from the file, so appending stays valid; readers of a directory another
 * process may be writing never modify it.
 */
export function readResults(dir: string, options: { repair?: boolean } = {}): Map<string, ResultRow> {
  const rows = new Map<string, ResultRow>();
  const path = join(dir, RESULTS_FILE);
  if (!existsSync(path)) return rows;
  const text = readFileSync(path, 'utf8');
  const complete = text.lastIndexOf('\n') + 1;
  if (options.repair && complete < text.length)
    truncateSync(path, Buffer.byteLength(text.slice(0, complete)));
  text
    .slice(0, complete)
    .split('\n')
    .forEach((line, k) => {
      if (line.trim() === '') return;
      let row: unknown;
      try {
        row = JSON.parse(line);
      } catch (error) {
        throw new Error(
          `${path}:${k + 1}: not a result row (${(error as Error).message}); fix or delete that line and run again`,
        );
      }
      if (typeof row !== 'object' || row === null || typeof (row as ResultRow).key !== 'string') {
        throw new Error(`${path}:${k + 1}: not a result row (no string "key"); fix or delete that line`);
      }
      rows.set((row as ResultRow).key, row as ResultRow);
    });
  return rows;
}

/** Appends the rows of one finished batch in one write and syncs it to disk. */
export function appendResults(dir: string, rows: readonly ResultRow[]): void {
  const path = join(dir, RESULTS_FILE);
  appendFileSync(path, rows.map((row) => `${JSON.stringify(row)}\n`).join(''));
  const fd = openSync(path, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Rewrites results.jsonl with exactly these rows (for merges). */
export function writeResults(dir: string, rows: readonly ResultRow[]): void {
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, RESULTS_FILE), rows.map((row) => `${JSON.stringify(row)}\n`).join(''));
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** CSV of the rows in spec order: key, index, n, the swept parameters, every metric, backend. */
export function resultsCsv(rows: readonly ResultRow[]): string {
  const paramKeys = [...new Set(rows.flatMap((row) => Object.keys(row.params)))];
  const header = ['key', 'index', 'n', 'durationS', 'warmupS', ...paramKeys, ...METRIC_NAMES, 'backend'];
  const lines = [header.join(',')];
  for (const row of [...rows].sort((a, b) => a.index - b.index)) {
    lines.push(
      [
        row.key,
        row.index,
        row.n,
        row.durationS,
        row.warmupS,
        ...paramKeys.map((key) => row.params[key]),
        ...METRIC_NAMES.map((metric) => row[metric]),
        row.backend,
      ]
        .map(csvCell)
        .join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

export function writeCsv(dir: string, rows: readonly ResultRow[]): void {
  writeFileAtomic(join(dir, CSV_FILE), resultsCsv(rows));
}

export const LOCK_FILE = '.lock';

/**
 * Claims a results directory for this process until it exits: two sweeps appending to one
 * results.jsonl would compute the same points twice and duplicate their rows. A lock left by a
 * process that no longer exists (killed with SIGKILL) is taken over.
 */
export function lockResultsDirectory(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx' });
      const release = () => {
        try {
          if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
        } catch {
          // Already gone: nothing to release.
        }
      };
      process.once('exit', release);
      return () => {
        process.off('exit', release);
        release();
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number.parseInt(readFileSync(path, 'utf8'), 10);
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && processExists(owner)) {
        throw new Error(
          `${dir} is in use by another spikeloop process (pid ${owner}, ${path}); wait for it or stop it, or use another --out`,
        );
      }
      unlinkSync(path);
    }
  }
  throw new Error(`cannot lock ${dir}: ${path} keeps reappearing`);
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
