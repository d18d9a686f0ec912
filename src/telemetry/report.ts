/**
 * The latency report of one run: built from the loop's telemetry, written to a directory as
 * report.json (with every histogram HDR-encoded, so nothing is lost), report.txt, one .hgrm per
 * histogram and report.html; read back and re-rendered by `spikeloop report DIR`.
 */
import { mkdir, readFile, rename, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as hdr from 'hdr-histogram-js';
import { type Budget, type BudgetMetric, type BudgetResult, checkBudgets } from './budget.js';
import {
  type ActivitySummary,
  type Histogram,
  type LatencySummary,
  type LoopCounters,
  type LoopTelemetry,
  summarize,
} from './loop-telemetry.js';
import { renderHtml } from './report-html.js';
import { ReportFormatError, validateReportJson } from './report-schema.js';
import { renderText } from './report-text.js';
import type { Timeline } from './timeline.js';

export interface HistogramRecord extends LatencySummary {
  unit: 'us';
  encoded: string;
}

export type RunScalar = string | number | boolean;

export interface RunInfo {
  env: string;
  tickMs: number;
  latePolicy: 'skip' | 'late';
  /** ISO 8601 wall-clock start. */
  startedAt: string;
  wallS: number;
  /** "duration", "SIGINT", "SIGTERM", "error: …" */
  stopReason: string;
  backend?: string;
  adapter?: string;
  n?: number;
  model?: string;
  seed?: number;
  /** Whether the tick ran on a thread of its own (loop/tick-thread/) or on the main thread. */
  tickThread?: boolean;
  /** How the tick was scheduled: "normal", or "FIFO <priority>" when `--realtime` was granted. */
  scheduling?: string;
  /**
   * Bytes the tick thread allocated per tick once warmed up (absent: run too short to measure), and
   * its heap's collections during the run (tick-thread/alloc-meter.ts, docs/tick.md).
   */
  tickAllocBytesPerTick?: number;
  tickGcMinor?: number;
  tickGcMajor?: number;
  /** The environment's own results (e.g. collisions, targetsReached). */
  environment?: Record<string, RunScalar>;
  [key: string]: RunScalar | Record<string, RunScalar> | undefined;
}

export interface LatencyReport {
  format: 'spikeloop-latency-report';
  version: 1;
  run: RunInfo;
  counters: LoopCounters;
  histograms: Record<BudgetMetric, HistogramRecord>;
  e2eByInput: Record<string, HistogramRecord>;
  budgets: BudgetResult[];
  /** Network rates over the run (absent in reports written before it existed). */
  activity?: ActivitySummary;
  /** Ticks, misses, worst lateness/compute and E/I rates per time bin: when things happened. */
  timeline?: Timeline;
}

/** A report with its histograms decoded, ready to render. */
export interface LoadedReport {
  report: LatencyReport;
  histograms: Record<BudgetMetric, Histogram>;
  e2eByInput: Map<string, Histogram>;
}

function record(histogram: Histogram): HistogramRecord {
  return { unit: 'us', ...summarize(histogram), encoded: hdr.encodeIntoCompressedBase64(histogram) };
}

export function buildReport(
  telemetry: LoopTelemetry,
  run: RunInfo,
  budgets: readonly Budget[],
): LoadedReport {
  const histograms = { lateness: telemetry.lateness, compute: telemetry.compute, e2e: telemetry.e2e };
  const report: LatencyReport = {
    format: 'spikeloop-latency-report',
    version: 1,
    run,
    counters: { ...telemetry.counters },
    histograms: {
      lateness: record(histograms.lateness),
      compute: record(histograms.compute),
      e2e: record(histograms.e2e),
    },
    e2eByInput: Object.fromEntries([...telemetry.e2eByInput].map(([input, h]) => [input, record(h)])),
    budgets: [],
  };
  const activity = telemetry.activity();
  if (activity) report.activity = activity;
  report.timeline = telemetry.timeline();
  report.budgets = checkBudgets(budgets, { summaries: report.histograms, counters: report.counters });
  return { report, histograms, e2eByInput: new Map(telemetry.e2eByInput) };
}

/**
 * Checks budgets against a loaded report (e.g. `spikeloop report DIR --strict …`) and returns the
 * report with those results; the loaded one, and the run's own verdict in it, are left as they are.
 */
export function recheckBudgets(loaded: LoadedReport, budgets: readonly Budget[]): LatencyReport {
  const { report } = loaded;
  return {
    ...report,
    budgets: checkBudgets(budgets, { summaries: report.histograms, counters: report.counters }),
  };
}

/** File-name-safe form of an input name for its .hgrm file. */
function fileSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]+/g, '_');
}

export function hgrmText(histogram: Histogram): string {
  // Values are recorded in µs; the .hgrm shows them in µs (scaling ratio 1).
  return histogram.outputPercentileDistribution(5, 1);
}

/** The report could not be written: the message names the path and the cause. */
export class ReportWriteError extends Error {
  override name = 'ReportWriteError';
}

/** One clause naming what went wrong with `path`, by errno code rather than the raw message. */
export function describeFileError(error: unknown, path: string): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOSPC':
      return `${path}: no space left on device (ENOSPC)`;
    case 'EDQUOT':
      return `${path}: disk quota exceeded (EDQUOT)`;
    case 'EROFS':
      return `${path}: read-only file system (EROFS)`;
    case 'EACCES':
    case 'EPERM':
      return `${path}: permission denied (${code})`;
    case 'ENOTDIR':
      return `${path}: a part of the path is a file, not a directory (ENOTDIR)`;
    case 'EEXIST':
      return `${path}: a file is in the way (EEXIST)`;
    case 'EISDIR':
      return `${path}: is a directory (EISDIR)`;
    case 'ENOENT':
      return `${path}: a part of the path does not exist (ENOENT)`;
    default:
      return `${path}: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** A report of a long run is a few hundred KiB; below this much free space a run is refused. */
export const MIN_REPORT_FREE_BYTES = 1 << 20;

/**
 * Checks, before a run starts, that its report can be written into `dir`: creates it, writes and
 * removes a probe file, and checks the free space, so a full disk, a read-only or missing folder
 * or a file in the way is found in the first second rather than after hours.
 */
export async function prepareReportDirectory(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw new ReportWriteError(`cannot create the report directory ${describeFileError(error, dir)}`);
  }
  if (!(await stat(dir)).isDirectory()) {
    throw new ReportWriteError(`the report directory ${dir} is a file, not a directory`);
  }
  const probe = join(dir, `.spikeloop-write-test-${process.pid}`);
  try {
    await writeFile(probe, 'spikeloop checks that the report can be written here\n');
  } catch (error) {
    throw new ReportWriteError(`cannot write the report into ${describeFileError(error, dir)}`);
  } finally {
    await rm(probe, { force: true });
  }
  const fs = await statfs(dir);
  const freeBytes = fs.bavail * fs.bsize;
  if (freeBytes < MIN_REPORT_FREE_BYTES) {
    throw new ReportWriteError(
      `cannot write the report into ${dir}: only ${Math.floor(freeBytes / 1024)} KiB free on its file system (a report needs up to ${MIN_REPORT_FREE_BYTES >> 10} KiB)`,
    );
  }
}

/**
 * Writes report.json, report.txt, *.hgrm and report.html into `dir`; returns the paths. Each file
 * is written to a temporary name and renamed, so a failure (full disk) leaves no empty or
 * truncated file behind; the error names the file and the cause.
 */
export async function writeReport(
  dir: string,
  loaded: LoadedReport,
  options: { keepJson?: boolean } = {},
): Promise<string[]> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw new ReportWriteError(`cannot create the report directory ${describeFileError(error, dir)}`);
  }
  const files: [string, () => string][] = [
    ['report.json', () => `${JSON.stringify(loaded.report, null, 2)}\n`],
    ['report.txt', () => `${renderText(loaded.report)}\n`],
    ['lateness.hgrm', () => hgrmText(loaded.histograms.lateness)],
    ['compute.hgrm', () => hgrmText(loaded.histograms.compute)],
    ['e2e.hgrm', () => hgrmText(loaded.histograms.e2e)],
    ...[...loaded.e2eByInput].map(([input, h]): [string, () => string] => [
      `e2e-${fileSafe(input)}.hgrm`,
      () => hgrmText(h),
    ]),
    ['report.html', () => renderHtml(loaded.report, loaded.histograms)],
  ];
  const paths: string[] = [];
  // One at a time, report.json (everything else is rendered from it) first.
  for (const [name, render] of files) {
    // Re-rendering a saved report never touches its source of truth.
    if (options.keepJson && name === 'report.json') continue;
    const path = join(dir, name);
    await writeFileAtomic(path, render());
    paths.push(path);
  }
  return paths;
}

async function writeFileAtomic(path: string, text: string): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(temporary, text);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw new ReportWriteError(`cannot write ${describeFileError(error, path)}`);
  }
}

function decode(record: HistogramRecord, where: string): Histogram {
  try {
    return hdr.decodeFromCompressedBase64(record.encoded);
  } catch (error) {
    throw new ReportFormatError(`${where}: the encoded histogram cannot be decoded (${String(error)})`);
  }
}

/** Reads and validates DIR/report.json and decodes its histograms. */
export async function readReport(dir: string): Promise<LoadedReport> {
  const path = join(dir, 'report.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ReportFormatError(
      code === 'ENOENT'
        ? `${path} does not exist: is ${dir} a report directory?`
        : `${path}: ${String(error)}`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ReportFormatError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  validateReportJson(value, path);
  const report = value as LatencyReport;
  const histograms = {
    lateness: decode(report.histograms.lateness, `${path} histograms.lateness`),
    compute: decode(report.histograms.compute, `${path} histograms.compute`),
    e2e: decode(report.histograms.e2e, `${path} histograms.e2e`),
  };
  const e2eByInput = new Map(
    Object.entries(report.e2eByInput).map(([input, r]) => [input, decode(r, `${path} e2eByInput.${input}`)]),
  );
  return { report, histograms, e2eByInput };
}
