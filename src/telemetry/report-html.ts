/**
 * A self-contained HTML page (inline SVG and CSS, no scripts or external assets) that shows where
 * and when time went: latency against percentile (HdrHistogram's usual form, 1/(1 − p) on a log
 * axis) with latency on a log axis, so a 1 ms median and a 50 ms maximum are both readable;
 * lateness over the run with the bins in which ticks were missed; the network's activity (E and I
 * rates over time, rate per cluster); the environment's results; and the percentile table.
 */
import type { BudgetMetric } from './budget.js';
import type { Histogram } from './loop-telemetry.js';
import type { LatencyReport } from './report.js';
import { e2eNote, renderText } from './report-text.js';

const WIDTH = 860;
const HEIGHT = 380;
const MARGIN = { left: 76, right: 45, top: 20, bottom: 50 };
/** Up to the 99.999th percentile: 1/(1 − p) = 10^5. */
const MAX_DECADES = 5;
const COLORS: Record<BudgetMetric, string> = { lateness: '#d62728', compute: '#1f77b4', e2e: '#2ca02c' };
const LABELS: Record<BudgetMetric, string> = {
  lateness: 'lateness (tick start − deadline)',
  compute: 'compute (read → write)',
  e2e: 'end-to-end (sample arrival → command)',
};
const EXCITATORY = '#1f77b4';
const INHIBITORY = '#d62728';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Points (decades, µs) of one histogram's percentile curve, up to the resolution its count allows. */
function curve(histogram: Histogram): [number, number][] {
  const count = histogram.totalCount;
  if (count === 0) return [];
  const decades = Math.min(MAX_DECADES, Math.log10(count));
  const points: [number, number][] = [];
  const max = histogram.maxValue;
  for (let x = 0; x <= decades + 1e-9; x += 0.05) {
    points.push([x, Math.min(max, histogram.getValueAtPercentile(100 * (1 - 10 ** -x)))]);
  }
  points.push([decades, max]);
  return points;
}

/** A latency in µs as people read it: µs below 1 ms, ms above, s above 1 s. */
export function formatLatency(us: number): string {
  if (us >= 1e6) return `${Number((us / 1e6).toPrecision(3))} s`;
  if (us >= 1000) return `${Number((us / 1000).toPrecision(3))} ms`;
  return `${Number(us.toPrecision(3))} µs`;
}

/** A log axis over [low, high] µs in whole decades (at least 1 µs … 10 µs). */
function logAxis(lowUs: number, highUs: number): { low: number; high: number } {
  const low = 10 ** Math.floor(Math.log10(Math.max(1, lowUs)));
  const high = 10 ** Math.ceil(Math.log10(Math.max(low * 10, highUs)));
  return { low, high };
}

interface Frame {
  px: (x: number) => number;
  py: (y: number) => number;
  plotW: number;
  plotH: number;
  parts: string[];
}

/** An SVG plot frame with an x and a y axis title. */
function frame(width: number, height: number): Frame {
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  return {
    px: (fraction) => MARGIN.left + fraction * plotW,
    py: (fraction) => MARGIN.top + plotH - fraction * plotH,
    plotW,
    plotH,
    parts: [],
  };
}

function svg(width: number, height: number, label: string, f: Frame, xTitle: string, yTitle: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(label)}">
<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${f.plotW}" height="${f.plotH}" class="frame"/>
${f.parts.join('\n')}
<text x="${MARGIN.left + f.plotW / 2}" y="${height - 8}" text-anchor="middle" class="axis-title">${escapeHtml(xTitle)}</text>
<text transform="translate(16 ${MARGIN.top + f.plotH / 2}) rotate(-90)" text-anchor="middle" class="axis-title">${escapeHtml(yTitle)}</text>
</svg>`;
}

/** Horizontal grid lines and labels of a log latency axis; returns the y mapping (µs → px). */
function logLatencyGrid(f: Frame, axis: { low: number; high: number }): (us: number) => number {
  const decades = Math.log10(axis.high / axis.low);
  const y = (us: number) => f.py(Math.log10(Math.max(axis.low, us) / axis.low) / decades);
  for (let value = axis.low; value <= axis.high * 1.0001; value *= 10) {
    f.parts.push(
      `<line x1="${MARGIN.left}" y1="${y(value)}" x2="${MARGIN.left + f.plotW}" y2="${y(value)}" class="grid"/>`,
      `<text x="${MARGIN.left - 6}" y="${y(value) + 4}" text-anchor="end">${formatLatency(value)}</text>`,
    );
    for (const m of [2, 5]) {
      if (value * m < axis.high) {
        f.parts.push(
          `<line x1="${MARGIN.left}" y1="${y(value * m)}" x2="${MARGIN.left + f.plotW}" y2="${y(value * m)}" class="minor"/>`,
        );
      }
    }
  }
  return y;
}

function percentilePlot(report: LatencyReport, histograms: Record<BudgetMetric, Histogram>): string {
  const series = (Object.keys(COLORS) as BudgetMetric[]).map((metric) => ({
    metric,
    points: curve(histograms[metric]),
  }));
  const budgetLines = report.budgets.flatMap((result) =>
    result.metric in COLORS ? [{ result, metric: result.metric as BudgetMetric }] : [],
  );
  const values = [
    ...series.flatMap((s) => s.points.map(([, us]) => us)),
    ...budgetLines.map((b) => b.result.limit),
  ];
  const axis = logAxis(Math.min(10, ...values.filter((v) => v > 0)), Math.max(100, ...values));
  const f = frame(WIDTH, HEIGHT);
  const y = logLatencyGrid(f, axis);
  const x = (decades: number) => f.px(decades / MAX_DECADES);
  for (let d = 0; d <= MAX_DECADES; d++) {
    const label = d === 0 ? '0%' : `${(100 * (1 - 10 ** -d)).toFixed(Math.max(0, d - 2))}%`;
    f.parts.push(
      `<line x1="${x(d)}" y1="${MARGIN.top}" x2="${x(d)}" y2="${MARGIN.top + f.plotH}" class="grid"/>`,
      `<text x="${x(d)}" y="${MARGIN.top + f.plotH + 18}" text-anchor="middle">${label}</text>`,
    );
  }
  for (const { metric, points } of series) {
    if (points.length === 0) continue;
    const d = points.map(([px, us]) => `${x(px).toFixed(1)},${y(us).toFixed(1)}`).join(' ');
    f.parts.push(`<polyline points="${d}" fill="none" stroke="${COLORS[metric]}" stroke-width="2"/>`);
  }
  for (const { result, metric } of budgetLines) {
    f.parts.push(
      `<line x1="${MARGIN.left}" y1="${y(result.limit)}" x2="${MARGIN.left + f.plotW}" y2="${y(result.limit)}" stroke="${COLORS[metric]}" stroke-dasharray="6 4"/>`,
      `<text x="${MARGIN.left + f.plotW - 4}" y="${y(result.limit) - 4}" text-anchor="end">${escapeHtml(result.budget)}</text>`,
    );
  }
  series.forEach(({ metric, points }, k) => {
    const n = histograms[metric].totalCount;
    f.parts.push(
      `<rect x="${MARGIN.left + 10}" y="${MARGIN.top + 8 + 18 * k}" width="14" height="4" fill="${COLORS[metric]}"/>`,
      `<text x="${MARGIN.left + 30}" y="${MARGIN.top + 13 + 18 * k}">${escapeHtml(LABELS[metric])}, n = ${n}${points.length === 0 ? ' (no samples)' : ''}</text>`,
    );
  });
  return svg(
    WIDTH,
    HEIGHT,
    'latency by percentile',
    f,
    'percentile (log scale of 1/(1 − p))',
    'latency (log scale)',
  );
}

/** Lateness over the run: worst lateness per bin on a log axis, bins with missed ticks marked. */
function latenessOverTime(report: LatencyReport): string {
  const timeline = report.timeline!;
  const bins = timeline.ticks.length;
  const height = 300;
  const f = frame(WIDTH, height);
  const tickUs = report.run.tickMs * 1000;
  const axis = logAxis(1, Math.max(tickUs * 10, ...timeline.latenessMaxUs, ...timeline.computeMaxUs));
  const y = logLatencyGrid(f, axis);
  const durationS = (bins * timeline.binMs) / 1000;
  const x = (seconds: number) => f.px(durationS > 0 ? seconds / durationS : 0);
  timeAxis(f, durationS, x);
  const binS = timeline.binMs / 1000;
  const missedTotal = timeline.missed.reduce((a, b) => a + b, 0);
  timeline.missed.forEach((missed, k) => {
    if (missed > 0) {
      f.parts.push(
        `<rect x="${x(k * binS).toFixed(1)}" y="${MARGIN.top}" width="${Math.max(1.5, x((k + 1) * binS) - x(k * binS)).toFixed(1)}" height="${f.plotH}" class="missed"><title>${(k * binS).toFixed(2)}–${((k + 1) * binS).toFixed(2)} s: ${missed} missed</title></rect>`,
      );
    }
  });
  for (const [values, color] of [
    [timeline.computeMaxUs, COLORS.compute],
    [timeline.latenessMaxUs, COLORS.lateness],
  ] as const) {
    const points = values.map((us, k) => `${x((k + 0.5) * binS).toFixed(1)},${y(us).toFixed(1)}`).join(' ');
    if (bins > 0)
      f.parts.push(`<polyline points="${points}" fill="none" stroke="${color}" stroke-width="1.5"/>`);
  }
  f.parts.push(
    `<line x1="${MARGIN.left}" y1="${y(tickUs)}" x2="${MARGIN.left + f.plotW}" y2="${y(tickUs)}" stroke="#555" stroke-dasharray="3 3"/>`,
    `<text x="${MARGIN.left + f.plotW - 4}" y="${y(tickUs) - 4}" text-anchor="end">one tick (${report.run.tickMs} ms)</text>`,
  );
  const legend: [string, string][] = [
    [COLORS.lateness, `worst lateness per ${formatLatency(timeline.binMs * 1000)} bin`],
    [COLORS.compute, 'worst compute per bin'],
    ['#f4a6a6', `bins with missed ticks (${missedTotal} missed in all)`],
  ];
  legend.forEach(([color, label], k) => {
    f.parts.push(
      `<rect x="${MARGIN.left + 10}" y="${MARGIN.top + 6 + 18 * k}" width="14" height="8" fill="${color}"/>`,
      `<text x="${MARGIN.left + 30}" y="${MARGIN.top + 14 + 18 * k}">${escapeHtml(label)}</text>`,
    );
  });
  return svg(WIDTH, height, 'lateness over time', f, 'time since the first tick (s)', 'latency (log scale)');
}

/** Vertical grid lines at readable seconds. */
function timeAxis(f: Frame, durationS: number, x: (seconds: number) => number): void {
  const step = niceStep(Math.max(durationS, 1e-3) / 8);
  for (let t = 0; t <= durationS + step / 2; t += step) {
    f.parts.push(
      `<line x1="${x(t)}" y1="${MARGIN.top}" x2="${x(t)}" y2="${MARGIN.top + f.plotH}" class="grid"/>`,
      `<text x="${x(t)}" y="${MARGIN.top + f.plotH + 18}" text-anchor="middle">${Number(t.toPrecision(3))}</text>`,
    );
  }
}

/** 1, 2 or 5 times a power of ten, at least `rough`: readable axis steps. */
function niceStep(rough: number): number {
  const power = 10 ** Math.floor(Math.log10(rough));
  const multiple = [1, 2, 5, 10].find((m) => m * power >= rough) ?? 10;
  return multiple * power;
}

/** Linear y grid from 0 to a readable top; returns the y mapping. */
function linearGrid(f: Frame, maxValue: number): (value: number) => number {
  const step = niceStep(Math.max(maxValue, 1e-9) / 5);
  const top = Math.max(step, Math.ceil(maxValue / step) * step);
  const y = (value: number) => f.py(value / top);
  for (let value = 0; value <= top + step / 2; value += step) {
    f.parts.push(
      `<line x1="${MARGIN.left}" y1="${y(value)}" x2="${MARGIN.left + f.plotW}" y2="${y(value)}" class="grid"/>`,
      `<text x="${MARGIN.left - 6}" y="${y(value) + 4}" text-anchor="end">${Number(value.toPrecision(3))}</text>`,
    );
  }
  return y;
}

function ratesOverTime(report: LatencyReport): string {
  const timeline = report.timeline!;
  const bins = timeline.ticks.length;
  const height = 260;
  const f = frame(WIDTH, height);
  const y = linearGrid(f, Math.max(1, ...timeline.rateEHz, ...timeline.rateIHz));
  const durationS = (bins * timeline.binMs) / 1000;
  const x = (seconds: number) => f.px(durationS > 0 ? seconds / durationS : 0);
  timeAxis(f, durationS, x);
  const binS = timeline.binMs / 1000;
  for (const [values, color, label, k] of [
    [timeline.rateEHz, EXCITATORY, 'E (all excitatory neurons)', 0],
    [timeline.rateIHz, INHIBITORY, 'I (all inhibitory neurons)', 1],
  ] as const) {
    const points = values.map((hz, b) => `${x((b + 0.5) * binS).toFixed(1)},${y(hz).toFixed(1)}`).join(' ');
    if (bins > 0)
      f.parts.push(`<polyline points="${points}" fill="none" stroke="${color}" stroke-width="1.5"/>`);
    f.parts.push(
      `<rect x="${MARGIN.left + 10}" y="${MARGIN.top + 6 + 18 * k}" width="14" height="4" fill="${color}"/>`,
      `<text x="${MARGIN.left + 30}" y="${MARGIN.top + 11 + 18 * k}">${label}</text>`,
    );
  }
  return svg(WIDTH, height, 'network rates over time', f, 'time since the first tick (s)', 'mean rate (Hz)');
}

function clusterRates(report: LatencyReport): string {
  const activity = report.activity!;
  const { clusters, populationRatesHz } = activity;
  const height = 260;
  const f = frame(WIDTH, height);
  const y = linearGrid(f, Math.max(1, ...populationRatesHz));
  const groupW = f.plotW / Math.max(1, clusters);
  const barW = Math.max(1, groupW / 2 - 2);
  for (let q = 0; q < clusters; q++) {
    const left = MARGIN.left + q * groupW + 1;
    for (const [p, color, offset] of [
      [q, EXCITATORY, 0],
      [clusters + q, INHIBITORY, barW + 1],
    ] as const) {
      const rate = populationRatesHz[p] ?? 0;
      f.parts.push(
        `<rect x="${(left + offset).toFixed(1)}" y="${y(rate).toFixed(1)}" width="${barW.toFixed(1)}" height="${(y(0) - y(rate)).toFixed(1)}" fill="${color}"><title>${p < clusters ? 'E' : 'I'}${q}: ${rate.toFixed(2)} Hz</title></rect>`,
      );
    }
    if (clusters <= 40 || q % Math.ceil(clusters / 40) === 0) {
      f.parts.push(
        `<text x="${(left + groupW / 2).toFixed(1)}" y="${MARGIN.top + f.plotH + 16}" text-anchor="middle">${q}</text>`,
      );
    }
  }
  f.parts.push(
    `<rect x="${MARGIN.left + 10}" y="${MARGIN.top + 6}" width="10" height="10" fill="${EXCITATORY}"/><text x="${MARGIN.left + 26}" y="${MARGIN.top + 15}">E cluster</text>`,
    `<rect x="${MARGIN.left + 100}" y="${MARGIN.top + 6}" width="10" height="10" fill="${INHIBITORY}"/><text x="${MARGIN.left + 116}" y="${MARGIN.top + 15}">I cluster</text>`,
  );
  return svg(WIDTH, height, 'rate per cluster', f, 'cluster q', 'mean rate over the run (Hz)');
}

function table(rows: [string, string][]): string {
  return `<table>${rows.map(([key, value]) => `<tr><th>${escapeHtml(key)}</th><td>${escapeHtml(value)}</td></tr>`).join('')}</table>`;
}

function scalarText(value: unknown): string {
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toFixed(3);
  return String(value);
}

export function renderHtml(report: LatencyReport, histograms: Record<BudgetMetric, Histogram>): string {
  const { run, counters } = report;
  const title = `spikeloop latency report: ${run.env}, ${run.tickMs} ms ticks`;
  const runRows: [string, string][] = [
    ['started', run.startedAt],
    ['wall time', `${run.wallS.toFixed(3)} s`],
    ['stopped by', run.stopReason],
    ['backend', [run.backend, run.adapter].filter(Boolean).join(', ') || '-'],
    ['network', `${run.model ?? '?'}, N = ${run.n ?? '?'}, seed ${run.seed ?? '?'}`],
    ['ticks run', String(counters.ticks)],
    ['missed ticks', `${counters.missed} (${run.latePolicy} policy)`],
    ['overruns (compute > one tick)', String(counters.overruns)],
  ];
  const sections: string[] = [
    `<h2>Run</h2>${table(runRows)}`,
    `<h2>Latency by percentile</h2><p>Each curve is the latency not exceeded by that share of values. ${escapeHtml(e2eNote(Object.keys(report.e2eByInput).length))}</p>${percentilePlot(report, histograms)}`,
  ];
  if (report.timeline) {
    sections.push(
      `<h2>When time went</h2><p>Worst lateness and compute time per bin of ${formatLatency(report.timeline.binMs * 1000)}; shaded bins are those in which ticks were missed.</p>${latenessOverTime(report)}`,
    );
  }
  if (report.activity) {
    const { rateEHz, rateIHz, spikes } = report.activity;
    sections.push(
      `<h2>Network activity</h2><p>Mean rates over the run: E ${rateEHz.toFixed(2)} Hz, I ${rateIHz.toFixed(2)} Hz (${spikes} spikes).</p>`,
      report.timeline ? ratesOverTime(report) : '',
      clusterRates(report),
    );
  }
  const environment = run.environment;
  if (environment && Object.keys(environment).length > 0) {
    sections.push(
      `<h2>Environment (${escapeHtml(run.env)})</h2>${table(Object.entries(environment).map(([key, value]) => [key, scalarText(value)]))}`,
    );
  }
  sections.push(`<h2>Percentiles (µs)</h2><pre>${escapeHtml(renderText(report))}</pre>`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:sans-serif;margin:24px;color:#222;max-width:900px}svg text{font-size:12px;fill:#333}
svg .axis-title{font-size:13px}.frame{fill:none;stroke:#999}.grid{stroke:#ddd}.minor{stroke:#f0f0f0}.missed{fill:#f4a6a6;opacity:.6}
table{border-collapse:collapse}th{text-align:left;font-weight:normal;color:#555;padding:2px 16px 2px 0}
td{font-variant-numeric:tabular-nums}h2{font-size:1.1em;margin-top:1.6em}pre{background:#f6f6f6;padding:12px;overflow:auto}</style></head>
<body><h1>${escapeHtml(title)}</h1>
${sections.join('\n')}
</body></html>
`;
}
