/**
 * A heatmap (SVG) of one metric over two swept parameters, labelled with the model's symbols and
 * units (J_E+, I_th,E, …, not code names). Where other parameters (e.g. seeds) vary too, each cell
 * shows the mean over them with the number of points and their standard deviation; cells without
 * a value are grey.
 */
import type { MetricName } from './metrics.js';
import type { HeatmapChoice } from './sweep-spec.js';

export type HeatmapRow = { n: number; params: Record<string, number> } & Partial<
  Record<MetricName, number | null>
>;

/** Compact label: integers as they are, others to 4 significant digits. */
function formatValue(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
}

/** Viridis at 5 stops, interpolated linearly: perceptually ordered and readable in greyscale. */
const VIRIDIS: readonly [number, number, number][] = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];

export function viridis(t: number): string {
  const clamped = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0));
  const position = clamped * (VIRIDIS.length - 1);
  const lower = Math.min(VIRIDIS.length - 2, Math.floor(position));
  const fraction = position - lower;
  const [r, g, b] = VIRIDIS[lower]!.map((c, k) => Math.round(c + (VIRIDIS[lower + 1]![k]! - c) * fraction));
  return `rgb(${r},${g},${b})`;
}

function escapeXml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function coordinate(row: HeatmapRow, key: string): number | undefined {
  return key === 'n' ? (row.params.n ?? row.n) : row.params[key];
}

/** How a parameter or metric is written on a figure: symbol (or words) and unit. */
export interface AxisLabel {
  text: string;
  unit?: string;
}

const LABELS: Record<string, AxisLabel> = {
  n: { text: 'N (neurons)' },
  clusters: { text: 'Q (clusters)' },
  pEE: { text: 'p_EE' },
  pEI: { text: 'p_EI' },
  pIE: { text: 'p_IE' },
  pII: { text: 'p_II' },
  jEPlus: { text: 'J_E+ (E→E cluster strength)' },
  inhibitoryClusterRatio: { text: 'R_J = (J_I+ − 1)/(J_E+ − 1)' },
  gE: { text: 'g_E (inhibition onto E)' },
  gI: { text: 'g_I (inhibition onto I)' },
  tauMembraneEMs: { text: 'τ_m,E', unit: 'ms' },
  tauMembraneIMs: { text: 'τ_m,I', unit: 'ms' },
  capacitancePf: { text: 'C_m', unit: 'pF' },
  restingMv: { text: 'E_L', unit: 'mV' },
  thresholdMv: { text: 'V_th', unit: 'mV' },
  resetMv: { text: 'V_reset', unit: 'mV' },
  refractoryMs: { text: 't_ref', unit: 'ms' },
  tauSynExcMs: { text: 'τ_syn,E', unit: 'ms' },
  tauSynInhMs: { text: 'τ_syn,I', unit: 'ms' },
  backgroundThresholdE: { text: 'I_x,E / I_rheobase (E background)' },
  backgroundThresholdI: { text: 'I_x,I / I_rheobase (I background)' },
  initialVoltageLowMv: { text: 'V_0 low', unit: 'mV' },
  initialVoltageHighMv: { text: 'V_0 high', unit: 'mV' },
  dtMs: { text: 'dt', unit: 'ms' },
  delayMs: { text: 'delay', unit: 'ms' },
  seed: { text: 'seed' },
  rateE: { text: 'E rate', unit: 'Hz' },
  rateI: { text: 'I rate', unit: 'Hz' },
  cvE: { text: 'CV of ISIs, E' },
  cvI: { text: 'CV of ISIs, I' },
  fanoE: { text: 'Fano factor, E' },
  fanoI: { text: 'Fano factor, I' },
  meanActiveClusters: { text: 'active clusters (mean)' },
  activeTimeFraction: { text: 'time with an active cluster (fraction)' },
  switchingRateHz: { text: 'cluster switching rate', unit: 'Hz' },
  meanDwellMs: { text: 'mean dwell time', unit: 'ms' },
  dwellCount: { text: 'completed dwells' },
};

/** `τ_m,E (ms)`: a key as a figure labels it (unknown keys as they are). */
export function axisLabel(key: string): string {
  const label = LABELS[key] ?? { text: key };
  return label.unit ? `${label.text} (${label.unit})` : label.text;
}

/** Writes `X_sub` as X with a subscript (SVG tspans); the rest of the text stays as it is. */
function svgText(text: string): string {
  return escapeXml(text).replace(
    /([A-Za-zτ])_([A-Za-z0-9,+]+)/g,
    (_, base: string, sub: string) => `${base}<tspan baseline-shift="sub" font-size="80%">${sub}</tspan>`,
  );
}

export interface HeatmapCells {
  xs: number[];
  ys: number[];
  /** Mean per cell (rows by y, columns by x); null where no point has a value. */
  values: (number | null)[][];
  /** Points averaged into each cell. */
  counts: number[][];
  /** Standard deviation over those points (0 for one point). */
  spreads: number[][];
}

/** Mean metric per (x, y) cell, with the number of points and their spread. */
export function heatmapCells(rows: readonly HeatmapRow[], choice: HeatmapChoice): HeatmapCells {
  const xs = [...new Set(rows.map((row) => coordinate(row, choice.x)).filter((v) => v !== undefined))].sort(
    (a, b) => a - b,
  );
  const ys = [...new Set(rows.map((row) => coordinate(row, choice.y)).filter((v) => v !== undefined))].sort(
    (a, b) => a - b,
  );
  const sums = ys.map(() => xs.map(() => ({ sum: 0, squares: 0, count: 0 })));
  for (const row of rows) {
    const x = coordinate(row, choice.x);
    const y = coordinate(row, choice.y);
    const value = row[choice.metric];
    if (x === undefined || y === undefined || typeof value !== 'number' || !Number.isFinite(value)) continue;
    const cell = sums[ys.indexOf(y)]![xs.indexOf(x)]!;
    cell.sum += value;
    cell.squares += value * value;
    cell.count++;
  }
  return {
    xs,
    ys,
    values: sums.map((line) => line.map((c) => (c.count > 0 ? c.sum / c.count : null))),
    counts: sums.map((line) => line.map((c) => c.count)),
    spreads: sums.map((line) =>
      line.map((c) => {
        if (c.count < 2) return 0;
        const mean = c.sum / c.count;
        return Math.sqrt(Math.max(0, (c.squares - c.count * mean * mean) / (c.count - 1)));
      }),
    ),
  };
}

export function heatmapSvg(rows: readonly HeatmapRow[], choice: HeatmapChoice): string {
  const { xs, ys, values, counts, spreads } = heatmapCells(rows, choice);
  const finite = values.flat().filter((v): v is number => v !== null);
  const low = finite.length > 0 ? Math.min(...finite) : 0;
  const high = finite.length > 0 ? Math.max(...finite) : 1;
  const averaged = counts.flat().some((count) => count > 1);
  const cell = { w: Math.max(56, Math.min(96, 760 / Math.max(1, xs.length))), h: averaged ? 40 : 32 };
  const margin = { left: 70, top: 80, right: 190, bottom: 64 };
  const metricLabel = axisLabel(choice.metric);
  const title = `${metricLabel} over ${axisLabel(choice.x)} and ${axisLabel(choice.y)}`;
  const subtitle =
    'each cell: mean ± standard deviation over the points (n) that differ only in other keys, e.g. seeds';
  // Wide enough for the title lines (about 7.5 px per character at 14 px, 6 px at 11 px).
  const width = Math.ceil(
    Math.max(
      margin.left + xs.length * cell.w + margin.right,
      title.length * 7.5 + 40,
      averaged ? subtitle.length * 6 + 40 : 0,
    ),
  );
  const height = margin.top + Math.max(ys.length * cell.h, 120) + margin.bottom;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="14">${svgText(title)}</text>`,
  ];
  if (averaged) {
    parts.push(
      `<text x="${width / 2}" y="40" text-anchor="middle" fill="#555">${escapeXml(subtitle)}</text>`,
    );
  }
  ys.forEach((y, row) => {
    // Largest y at the top, as on a plot's axis.
    const top = margin.top + (ys.length - 1 - row) * cell.h;
    parts.push(
      `<text x="${margin.left - 6}" y="${top + cell.h / 2 + 4}" text-anchor="end">${escapeXml(formatValue(y))}</text>`,
    );
    xs.forEach((_, column) => {
      const value = values[row]![column]!;
      const count = counts[row]![column]!;
      const spread = spreads[row]![column]!;
      const left = margin.left + column * cell.w;
      const fill = value === null ? '#ccc' : viridis(high > low ? (value - low) / (high - low) : 0.5);
      const text = value === null ? 'n/a' : formatValue(value);
      const ink = value !== null && high > low && (value - low) / (high - low) > 0.6 ? 'black' : 'white';
      const detail = count > 1 ? `± ${formatValue(spread)} (n ${count})` : '';
      parts.push(
        `<rect x="${left}" y="${top}" width="${cell.w}" height="${cell.h}" fill="${fill}" stroke="white"><title>${escapeXml(`${choice.x}=${xs[column]}, ${choice.y}=${y}: ${text}${detail ? ` ${detail}` : ''}`)}</title></rect>`,
        `<text x="${left + cell.w / 2}" y="${top + cell.h / 2 + (detail ? 0 : 4)}" text-anchor="middle" fill="${value === null ? 'black' : ink}">${escapeXml(text)}</text>`,
      );
      if (detail) {
        parts.push(
          `<text x="${left + cell.w / 2}" y="${top + cell.h / 2 + 13}" text-anchor="middle" font-size="9" fill="${ink}">${escapeXml(detail)}</text>`,
        );
      }
    });
  });
  const bottom = margin.top + ys.length * cell.h;
  xs.forEach((x, column) => {
    parts.push(
      `<text x="${margin.left + column * cell.w + cell.w / 2}" y="${bottom + 16}" text-anchor="middle">${escapeXml(formatValue(x))}</text>`,
    );
  });
  // The y title sits above the y axis, horizontal: a rotated one would outgrow a grid of few rows.
  parts.push(
    `<text x="${margin.left + (xs.length * cell.w) / 2}" y="${bottom + 42}" text-anchor="middle" font-size="13">${svgText(axisLabel(choice.x))}</text>`,
    `<text x="${margin.left - 40}" y="${margin.top - 10}" font-size="13">↑ ${svgText(axisLabel(choice.y))}</text>`,
  );
  // Colour bar: low at the bottom, high at the top, with five labelled ticks and its title.
  const barLeft = margin.left + xs.length * cell.w + 30;
  const barHeight = Math.max(120, ys.length * cell.h);
  const stops = 40;
  for (let k = 0; k < stops; k++) {
    const y = margin.top + barHeight - ((k + 1) * barHeight) / stops;
    parts.push(
      `<rect x="${barLeft}" y="${y}" width="16" height="${barHeight / stops + 0.5}" fill="${viridis(k / (stops - 1))}"/>`,
    );
  }
  const ticks = high > low ? 5 : 1;
  for (let k = 0; k < ticks; k++) {
    const fraction = ticks === 1 ? 0.5 : k / (ticks - 1);
    const y = margin.top + barHeight - fraction * barHeight;
    parts.push(
      `<line x1="${barLeft + 16}" y1="${y}" x2="${barLeft + 20}" y2="${y}" stroke="black"/>`,
      `<text x="${barLeft + 23}" y="${y + 4}">${escapeXml(formatValue(low + fraction * (high - low)))}</text>`,
    );
  }
  const barMiddle = margin.top + barHeight / 2;
  parts.push(
    `<text x="${barLeft + 80}" y="${barMiddle}" text-anchor="middle" font-size="12" transform="rotate(-90 ${barLeft + 80} ${barMiddle})">${svgText(metricLabel)}</text>`,
    '</svg>',
  );
  return `${parts.join('\n')}\n`;
}
