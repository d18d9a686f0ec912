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

/** What the e2e count means: one value per answered sample of every input, not one per tick. */
export function e2eNote(inputs: number): string {
  return inputs > 1
    ? `e2e: one value per sensor sample answered by a motor command, all ${inputs} inputs together (so up to ${inputs} per tick); "e2e INPUT" rows are per input.`
    : 'e2e: one value per sensor sample answered by a motor command (sample arrival → command computed).';
}

/** The network's activity and the environment's own results, one line each. */
function activityLines(report: LatencyReport): string[] {
  const lines: string[] = [];
  if (report.activity) {
    const { rateEHz, rateIHz, spikes } = report.activity;
    lines.push(`network: E ${rateEHz.toFixed(2)} Hz, I ${rateIHz.toFixed(2)} Hz (${spikes} spikes)`);
  }
  const environment = report.run.environment;
  if (environment && Object.keys(environment).length > 0) {
    const fields = Object.entries(environment).map(([key, value]) =>
      typeof value === 'number' && !Number.isInteger(value)
        ? `${key} ${value.toFixed(3)}`
        : `${key} ${value}`,
    );
    lines.push(`environment: ${fields.join(', ')}`);
  }
  return lines;
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
    run.scheduling && run.scheduling !== 'normal' ? run.scheduling : '',
    `policy ${run.latePolicy}`,
    `wall ${run.wallS.toFixed(3)} s`,
    `stopped by ${run.stopReason}`,
  ].filter(Boolean);
  const lines = [
    `spikeloop latency report: ${described.join(', ')}`,
    `ticks ${counters.ticks}, missed ${counters.missed}, overruns ${counters.overruns}`,
    ...activityLines(report),
    '',
    line(header),
    line(widths.map((width) => '-'.repeat(width))),
    ...rows.map(line),
    '',
    e2eNote(Object.keys(report.e2eByInput).length),
  ];
  if (report.budgets.length > 0) {
    lines.push('', 'budgets:');
    for (const result of report.budgets) lines.push(`  ${result.ok ? 'ok  ' : 'FAIL'}  ${result.message}`);
  }
  return lines.join('\n');
}
