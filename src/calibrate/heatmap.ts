/**
 * A heatmap (SVG) of one metric over two swept parameters. Where other parameters (e.g. seeds)
 * vary too, each cell shows the mean over them; cells without a value are grey.
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

/** Mean metric per (x, y) cell. */
export function heatmapCells(
  rows: readonly HeatmapRow[],
  choice: HeatmapChoice,
): { xs: number[]; ys: number[]; values: (number | null)[][] } {
  const xs = [...new Set(rows.map((row) => coordinate(row, choice.x)).filter((v) => v !== undefined))].sort(
    (a, b) => a - b,
  );
  const ys = [...new Set(rows.map((row) => coordinate(row, choice.y)).filter((v) => v !== undefined))].sort(
    (a, b) => a - b,
  );
  const sums = ys.map(() => xs.map(() => ({ sum: 0, count: 0 })));
  for (const row of rows) {
    const x = coordinate(row, choice.x);
    const y = coordinate(row, choice.y);
    const value = row[choice.metric];
    if (x === undefined || y === undefined || typeof value !== 'number' || !Number.isFinite(value)) continue;
    const cell = sums[ys.indexOf(y)]![xs.indexOf(x)]!;
    cell.sum += value;
    cell.count++;
  }
  return { xs, ys, values: sums.map((line) => line.map((c) => (c.count > 0 ? c.sum / c.count : null))) };
}

export function heatmapSvg(rows: readonly HeatmapRow[], choice: HeatmapChoice): string {
  const { xs, ys, values } = heatmapCells(rows, choice);
  const finite = values.flat().filter((v): v is number => v !== null);
  const low = finite.length > 0 ? Math.min(...finite) : 0;
  const high = finite.length > 0 ? Math.max(...finite) : 1;
  const cell = { w: Math.max(40, Math.min(90, 720 / Math.max(1, xs.length))), h: 32 };
  const margin = { left: 90, top: 48, right: 110, bottom: 60 };
  const width = margin.left + xs.length * cell.w + margin.right;
  const height = margin.top + ys.length * cell.h + margin.bottom;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(`${choice.metric} over ${choice.x} × ${choice.y}`)}</text>`,
  ];
  ys.forEach((y, row) => {
    // Largest y at the top, as on a plot's axis.
    const top = margin.top + (ys.length - 1 - row) * cell.h;
    parts.push(
      `<text x="${margin.left - 6}" y="${top + cell.h / 2 + 4}" text-anchor="end">${escapeXml(formatValue(y))}</text>`,
    );
    xs.forEach((_, column) => {
      const value = values[row]![column]!;
      const left = margin.left + column * cell.w;
      const fill = value === null ? '#ccc' : viridis(high > low ? (value - low) / (high - low) : 0.5);
      const text = value === null ? 'n/a' : formatValue(value);
      const ink = value !== null && high > low && (value - low) / (high - low) > 0.6 ? 'black' : 'white';
      parts.push(
        `<rect x="${left}" y="${top}" width="${cell.w}" height="${cell.h}" fill="${fill}" stroke="white"><title>${escapeXml(`${choice.x}=${xs[column]}, ${choice.y}=${y}: ${text}`)}</title></rect>`,
        `<text x="${left + cell.w / 2}" y="${top + cell.h / 2 + 4}" text-anchor="middle" fill="${value === null ? 'black' : ink}">${escapeXml(text)}</text>`,
      );
    });
  });
  const bottom = margin.top + ys.length * cell.h;
  xs.forEach((x, column) => {
    parts.push(
      `<text x="${margin.left + column * cell.w + cell.w / 2}" y="${bottom + 16}" text-anchor="middle">${escapeXml(formatValue(x))}</text>`,
    );
  });
  parts.push(
    `<text x="${margin.left + (xs.length * cell.w) / 2}" y="${bottom + 40}" text-anchor="middle" font-size="13">${escapeXml(choice.x)}</text>`,
    `<text x="20" y="${margin.top + (ys.length * cell.h) / 2}" text-anchor="middle" font-size="13" transform="rotate(-90 20 ${margin.top + (ys.length * cell.h) / 2})">${escapeXml(choice.y)}</text>`,
  );
  // Colour bar: low at the bottom, high at the top.
  const barLeft = margin.left + xs.length * cell.w + 30;
  const barHeight = Math.max(60, ys.length * cell.h);
  const stops = 20;
  for (let k = 0; k < stops; k++) {
    const y = margin.top + barHeight - ((k + 1) * barHeight) / stops;
    parts.push(
      `<rect x="${barLeft}" y="${y}" width="16" height="${barHeight / stops + 0.5}" fill="${viridis(k / (stops - 1))}"/>`,
    );
  }
  parts.push(
    `<text x="${barLeft + 22}" y="${margin.top + 10}">${escapeXml(formatValue(high))}</text>`,
    `<text x="${barLeft + 22}" y="${margin.top + barHeight}">${escapeXml(formatValue(low))}</text>`,
    '</svg>',
  );
  return `${parts.join('\n')}\n`;
}
