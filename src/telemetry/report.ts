/**
 * The latency report of one run: built from the loop's telemetry, written to a directory as
 * report.json (with every histogram HDR-encoded, so nothing is lost), report.txt, one .hgrm per
 * histogram and report.html; read back and re-rendered by `spikeloop report DIR`.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
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

/** Re-checks budgets against a loaded report (e.g. `spikeloop report DIR --strict …`). */
export function recheckBudgets(loaded: LoadedReport, budgets: readonly Budget[]): void {
  const { report } = loaded;
  report.budgets = checkBudgets(budgets, { summaries: report.histograms, counters: report.counters });
}

/** File-name-safe form of an input name for its .hgrm file. */
function fileSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]+/g, '_');
}

export function hgrmText(histogram: Histogram): string {
  // Values are recorded in µs; the .hgrm shows them in µs (scaling ratio 1).
  return histogram.outputPercentileDistribution(5, 1);
}

/** Writes report.json, report.txt, *.hgrm and report.html into `dir`; returns the paths. */
export async function writeReport(dir: string, loaded: LoadedReport): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files: [string, string][] = [
    ['report.json', `${JSON.stringify(loaded.report, null, 2)}\n`],
    ['report.txt', `${renderText(loaded.report)}\n`],
    ['lateness.hgrm', hgrmText(loaded.histograms.lateness)],
    ['compute.hgrm', hgrmText(loaded.histograms.compute)],
    ['e2e.hgrm', hgrmText(loaded.histograms.e2e)],
    ...[...loaded.e2eByInput].map(([input, h]): [string, string] => [
      `e2e-${fileSafe(input)}.hgrm`,
      hgrmText(h),
    ]),
    ['report.html', renderHtml(loaded.report, loaded.histograms)],
  ];
  const paths = files.map(([name]) => join(dir, name));
  await Promise.all(files.map(([name, text]) => writeFile(join(dir, name), text)));
  return paths;
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
