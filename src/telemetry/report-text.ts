/** The plain-text form of a latency report: a percentile table (µs), the counters and the budgets. */
import type { LatencySummary } from './loop-telemetry.js';
import type { LatencyReport } from './report.js';

const COLUMNS: [string, keyof LatencySummary][] = [
  ['count', 'count'],
  ['min', 'min'],
  ['p50', 'p50'],
  ['p90', 'p90'],
  ['p99', 'p99'],
  ['p99.9', 'p999'],
  ['p99.99', 'p9999'],
  ['max', 'max'],
];

export function percentileRows(report: LatencyReport): [string, LatencySummary][] {
  return [
    ['lateness', report.histograms.lateness],
    ['compute', report.histograms.compute],
    ['e2e', report.histograms.e2e],
    ...Object.entries(report.e2eByInput).map(([input, h]): [string, LatencySummary] => [`e2e ${input}`, h]),
  ];
}

export function renderText(report: LatencyReport): string {
  const { run, counters } = report;
  const header = ['metric (µs)', ...COLUMNS.map(([label]) => label)];
  const rows = percentileRows(report).map(([name, summary]) => [
    name,
    ...COLUMNS.map(([, key]) => String(Math.round(summary[key]))),
  ]);
  const widths = header.map((label, k) => Math.max(label.length, ...rows.map((row) => row[k]!.length)));
  const line = (cells: string[]) =>
    cells.map((cell, k) => (k === 0 ? cell.padEnd(widths[k]!) : cell.padStart(widths[k]!))).join('  ');
  const described = [
    `env ${run.env}`,
    run.backend ? `backend ${run.backend}` : '',
    run.n ? `n ${run.n}` : '',
    `tick ${run.tickMs} ms`,
    `policy ${run.latePolicy}`,
    `wall ${run.wallS.toFixed(3)} s`,
    `stopped by ${run.stopReason}`,
  ].filter(Boolean);
  const lines = [
    `spikeloop latency report: ${described.join(', ')}`,
    `ticks ${counters.ticks}, missed ${counters.missed}, overruns ${counters.overruns}`,
    '',
    line(header),
    line(widths.map((width) => '-'.repeat(width))),
    ...rows.map(line),
  ];
  if (report.budgets.length > 0) {
    lines.push('', 'budgets:');
    for (const result of report.budgets) lines.push(`  ${result.ok ? 'ok  ' : 'FAIL'}  ${result.message}`);
  }
  return lines.join('\n');
}
