/**
 * A self-contained HTML page (inline SVG and CSS, no scripts or external assets) with the
 * latency percentile distributions in HdrHistogram's usual form: latency against percentile on a
 * log scale of 1/(1 − p), budgets as dashed lines, and the percentile table.
 */
import type { BudgetMetric } from './budget.js';
import type { Histogram } from './loop-telemetry.js';
import type { LatencyReport } from './report.js';
import { renderText } from './report-text.js';

const WIDTH = 860;
const HEIGHT = 420;
const MARGIN = { left: 70, right: 45, top: 20, bottom: 50 };
/** Up to the 99.999th percentile: 1/(1 − p) = 10^5. */
const MAX_DECADES = 5;
const COLORS: Record<BudgetMetric, string> = { lateness: '#d62728', compute: '#1f77b4', e2e: '#2ca02c' };

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Points (decades, µs) of one histogram's percentile curve, up to the resolution its count allows. */
function curve(histogram: Histogram): [number, number][] {
  const count = histogram.totalCount;
  if (count === 0) return [];
  const decades = Math.min(MAX_DECADES, Math.log10(count));
  const points: [number, number][] = [];
  for (let x = 0; x <= decades + 1e-9; x += 0.05) {
    points.push([x, histogram.getValueAtPercentile(100 * (1 - 10 ** -x))]);
  }
  points.push([decades, histogram.maxValue]);
  return points;
}

/** 1, 2 or 5 times a power of ten, at least `roughUs`: readable axis steps. */
function niceStep(roughUs: number): number {
  const power = 10 ** Math.floor(Math.log10(roughUs));
  const multiple = [1, 2, 5, 10].find((m) => m * power >= roughUs) ?? 10;
  return multiple * power;
}

export function renderHtml(report: LatencyReport, histograms: Record<BudgetMetric, Histogram>): string {
  const series = (Object.keys(COLORS) as BudgetMetric[]).map((metric) => ({
    metric,
    points: curve(histograms[metric]),
  }));
  const budgetLines = report.budgets.flatMap((result) =>
    result.metric in COLORS ? [{ result, metric: result.metric as BudgetMetric }] : [],
  );
  const dataMaxUs = Math.max(
    10,
    ...series.flatMap((s) => s.points.map(([, us]) => us)),
    ...budgetLines.map(({ result }) => result.limit),
  );
  const stepUs = niceStep(dataMaxUs / 5);
  const topUs = Math.ceil(dataMaxUs / stepUs) * stepUs;
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const px = (decades: number) => MARGIN.left + (decades / MAX_DECADES) * plotW;
  const py = (us: number) => MARGIN.top + plotH - (us / topUs) * plotH;
  const parts: string[] = [];
  for (let d = 0; d <= MAX_DECADES; d++) {
    const label = d === 0 ? '0%' : `${(100 * (1 - 10 ** -d)).toFixed(Math.max(0, d - 2))}%`;
    parts.push(
      `<line x1="${px(d)}" y1="${MARGIN.top}" x2="${px(d)}" y2="${MARGIN.top + plotH}" class="grid"/>`,
      `<text x="${px(d)}" y="${MARGIN.top + plotH + 18}" text-anchor="middle">${label}</text>`,
    );
  }
  for (let us = 0; us <= topUs + stepUs / 2; us += stepUs) {
    parts.push(
      `<line x1="${MARGIN.left}" y1="${py(us)}" x2="${MARGIN.left + plotW}" y2="${py(us)}" class="grid"/>`,
      `<text x="${MARGIN.left - 6}" y="${py(us) + 4}" text-anchor="end">${Math.round(us)}</text>`,
    );
  }
  for (const { metric, points } of series) {
    if (points.length === 0) continue;
    const d = points.map(([x, us]) => `${px(x).toFixed(1)},${py(us).toFixed(1)}`).join(' ');
    parts.push(`<polyline points="${d}" fill="none" stroke="${COLORS[metric]}" stroke-width="2"/>`);
  }
  for (const { result, metric } of budgetLines) {
    parts.push(
      `<line x1="${MARGIN.left}" y1="${py(result.limit)}" x2="${MARGIN.left + plotW}" y2="${py(result.limit)}" stroke="${COLORS[metric]}" stroke-dasharray="6 4"/>`,
      `<text x="${MARGIN.left + plotW - 4}" y="${py(result.limit) - 4}" text-anchor="end">${escapeHtml(result.budget)}</text>`,
    );
  }
  const legend = series
    .map(
      ({ metric }, k) =>
        `<rect x="${MARGIN.left + 10}" y="${MARGIN.top + 8 + 18 * k}" width="14" height="4" fill="${COLORS[metric]}"/>` +
        `<text x="${MARGIN.left + 30}" y="${MARGIN.top + 13 + 18 * k}">${metric}</text>`,
    )
    .join('');
  const title = `spikeloop latency report: ${report.run.env}, ${report.run.tickMs} ms ticks`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:sans-serif;margin:24px;color:#222}svg text{font-size:12px;fill:#333}
.grid{stroke:#ddd}pre{background:#f6f6f6;padding:12px;overflow:auto}</style></head>
<body><h1>${escapeHtml(title)}</h1>
<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="latency by percentile">
${parts.join('\n')}
${legend}
<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 8}" text-anchor="middle">percentile</text>
<text transform="translate(16 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">latency (µs)</text>
</svg>
<pre>${escapeHtml(renderText(report))}</pre>
</body></html>
`;
}
