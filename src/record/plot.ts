/**
 * `spikeloop plot`: SVG figures of a recording or a spike file — raster ordered by cluster (E and
 * I coloured, axes in s and neuron index), rates per cluster over time, the ISI-CV histogram, and
 * for recordings the robot's trajectory and the tick latency over time. Plain SVG, no scripts.
 */
import { viridis } from '../calibrate/heatmap.js';
import type { ArenaScene } from '../env/arena/world.js';

export interface PlotLayout {
  nE: number;
  nI: number;
  clusters: number;
  nEPerCluster: number;
  nIPerCluster: number;
}

export interface PlotData {
  title: string;
  /** Neurons of instance 0. */
  n: number;
  layout: PlotLayout | null;
  durationS: number;
  /** Spikes of instance 0: time (s) and neuron id, in time order. */
  spikeTimesS: number[];
  spikeIds: number[];
  trajectory?: { x: number[]; y: number[]; targets: { x: number; y: number }[]; scene: ArenaScene | null };
  latency?: { timeS: number[]; latenessUs: number[]; computeUs: number[] };
}

const W = 720;
const H = 420;
const M = { left: 70, right: 20, top: 36, bottom: 50 };
const E_COLOUR = '#1f5fbf';
const I_COLOUR = '#d0342c';

function esc(text: string): string {
  return text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function fmt(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
}

/** Round tick positions covering [min, max]. */
export function niceTicks(min: number, max: number, count = 6): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * power).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step)
    ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

class Frame {
  readonly parts: string[] = [];
  constructor(
    readonly x0: number,
    readonly x1: number,
    readonly y0: number,
    readonly y1: number,
    title: string,
    xLabel: string,
    yLabel: string,
    readonly width = W,
    readonly height = H,
  ) {
    const { left, top } = M;
    const right = width - M.right;
    const bottom = height - M.bottom;
    this.parts.push(
      `<rect x="${left}" y="${top}" width="${right - left}" height="${bottom - top}" fill="none" stroke="#333"/>`,
      `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`,
      `<text x="${(left + right) / 2}" y="${height - 12}" text-anchor="middle">${esc(xLabel)}</text>`,
      `<text transform="translate(18 ${(top + bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
    );
    for (const t of niceTicks(x0, x1)) {
      const x = this.x(t);
      this.parts.push(
        `<line x1="${x}" y1="${bottom}" x2="${x}" y2="${bottom + 5}" stroke="#333"/>`,
        `<text x="${x}" y="${bottom + 18}" text-anchor="middle">${fmt(t)}</text>`,
      );
    }
    for (const t of niceTicks(y0, y1)) {
      const y = this.y(t);
      this.parts.push(
        `<line x1="${left - 5}" y1="${y}" x2="${left}" y2="${y}" stroke="#333"/>`,
        `<text x="${left - 8}" y="${y + 4}" text-anchor="end">${fmt(t)}</text>`,
      );
    }
  }
  x(value: number): number {
    const span = this.x1 - this.x0 || 1;
    return Number((M.left + ((value - this.x0) / span) * (this.width - M.left - M.right)).toFixed(2));
  }
  y(value: number): number {
    const span = this.y1 - this.y0 || 1;
    const bottom = this.height - M.bottom;
    return Number((bottom - ((value - this.y0) / span) * (bottom - M.top)).toFixed(2));
  }
  polyline(xs: number[], ys: number[], colour: string, extra = ''): void {
    if (xs.length === 0) return;
    const points = xs.map((x, k) => `${this.x(x)},${this.y(ys[k]!)}`).join(' ');
    this.parts.push(
      `<polyline points="${points}" fill="none" stroke="${colour}" stroke-width="1.2" ${extra}/>`,
    );
  }
  legend(entries: { label: string; colour: string }[]): void {
    entries.forEach((entry, k) => {
      const x = this.width - M.right - 150;
      const y = M.top + 14 + 16 * k;
      this.parts.push(
        `<rect x="${x}" y="${y - 9}" width="12" height="10" fill="${entry.colour}"/>`,
        `<text x="${x + 18}" y="${y}">${esc(entry.label)}</text>`,
      );
    });
  }
  svg(): string {
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${this.width}" height="${this.height}" viewBox="0 0 ${this.width} ${this.height}" font-family="Helvetica, Arial, sans-serif" font-size="12">\n<rect width="100%" height="100%" fill="white"/>\n${this.parts.join('\n')}\n</svg>\n`;
  }
}

const isInhibitory = (layout: PlotLayout | null, id: number) => layout !== null && id >= layout.nE;

/** Most neurons a raster draws; beyond it every k-th neuron is shown (said in the title). */
export const RASTER_MAX_NEURONS = 1000;

export function rasterSvg(data: PlotData): string {
  const { n, layout } = data;
  const every = Math.max(1, Math.ceil(n / RASTER_MAX_NEURONS));
  const title = `${data.title}: spike raster${every > 1 ? ` (every ${every}th neuron)` : ''}, ordered by cluster`;
  const frame = new Frame(
    0,
    data.durationS,
    0,
    n,
    title,
    'time (s)',
    'neuron index (E clusters, then I clusters)',
  );
  const paths = { E: [] as string[], I: [] as string[] };
  const tickW = Math.max(0.6, (W - M.left - M.right) / Math.max(1, data.durationS * 1000));
  for (let k = 0; k < data.spikeIds.length; k++) {
    const id = data.spikeIds[k]!;
    if (id >= n || id % every !== 0) continue;
    (isInhibitory(layout, id) ? paths.I : paths.E).push(
      `M${frame.x(data.spikeTimesS[k]!)} ${frame.y(id + 0.5)}h${tickW.toFixed(2)}`,
    );
  }
  if (layout) {
    for (let q = 1; q < layout.clusters; q++) {
      for (const boundary of [q * layout.nEPerCluster, layout.nE + q * layout.nIPerCluster]) {
        frame.parts.push(
          `<line x1="${M.left}" x2="${W - M.right}" y1="${frame.y(boundary)}" y2="${frame.y(boundary)}" stroke="#ddd" stroke-width="0.5"/>`,
        );
      }
    }
    frame.parts.push(
      `<line x1="${M.left}" x2="${W - M.right}" y1="${frame.y(layout.nE)}" y2="${frame.y(layout.nE)}" stroke="#999"/>`,
    );
  }
  const thickness = Math.max(0.8, ((H - M.top - M.bottom) / n) * every * 0.8).toFixed(2);
  frame.parts.push(`<path d="${paths.E.join('')}" stroke="${E_COLOUR}" stroke-width="${thickness}"/>`);
  frame.parts.push(`<path d="${paths.I.join('')}" stroke="${I_COLOUR}" stroke-width="${thickness}"/>`);
  frame.legend(
    layout
      ? [
          { label: 'excitatory', colour: E_COLOUR },
          { label: 'inhibitory', colour: I_COLOUR },
        ]
      : [],
  );
  return frame.svg();
}

/** Rates per cluster over time: E clusters coloured, the mean I rate in red; bins of `binS`. */
export function ratesSvg(data: PlotData, binS = Math.max(0.01, data.durationS / 200)): string {
  const layout = data.layout ?? { nE: data.n, nI: 0, clusters: 1, nEPerCluster: data.n, nIPerCluster: 0 };
  const bins = Math.max(1, Math.ceil(data.durationS / binS));
  const eCounts = Array.from({ length: layout.clusters }, () => new Float64Array(bins));
  const iCounts = new Float64Array(bins);
  for (let k = 0; k < data.spikeIds.length; k++) {
    const id = data.spikeIds[k]!;
    if (id >= data.n) continue;
    const b = Math.min(bins - 1, Math.floor(data.spikeTimesS[k]! / binS));
    if (id < layout.nE) eCounts[Math.floor(id / layout.nEPerCluster)]![b]! += 1;
    else iCounts[b]! += 1;
  }
  const times = Array.from({ length: bins }, (_, b) => (b + 0.5) * binS);
  const eRates = eCounts.map((counts) => Array.from(counts, (c) => c / (layout.nEPerCluster * binS)));
  const iRate = Array.from(iCounts, (c) => (layout.nI > 0 ? c / (layout.nI * binS) : 0));
  const max = Math.max(1, ...eRates.flat(), ...iRate);
  const frame = new Frame(
    0,
    data.durationS,
    0,
    max * 1.05,
    `${data.title}: rates per cluster (${fmt(binS * 1000)} ms bins)`,
    'time (s)',
    'rate (Hz)',
  );
  eRates.forEach((rates, q) => {
    frame.polyline(times, rates, viridis(layout.clusters > 1 ? q / (layout.clusters - 1) : 0.3));
  });
  if (layout.nI > 0) frame.polyline(times, iRate, I_COLOUR, 'stroke-dasharray="4 3"');
  frame.legend([
    { label: `E clusters 0…${layout.clusters - 1}`, colour: viridis(0.5) },
    ...(layout.nI > 0 ? [{ label: 'I (all clusters)', colour: I_COLOUR }] : []),
  ]);
  return frame.svg();
}

/** Coefficient of variation of the inter-spike intervals of every neuron with ≥ 3 spikes. */
export function isiCvs(data: PlotData): { e: number[]; i: number[] } {
  const last = new Map<number, number>();
  const sums = new Map<number, { n: number; s: number; s2: number }>();
  for (let k = 0; k < data.spikeIds.length; k++) {
    const id = data.spikeIds[k]!;
    if (id >= data.n) continue;
    const t = data.spikeTimesS[k]!;
    const previous = last.get(id);
    last.set(id, t);
    if (previous === undefined) continue;
    const isi = t - previous;
    const acc = sums.get(id) ?? { n: 0, s: 0, s2: 0 };
    acc.n++;
    acc.s += isi;
    acc.s2 += isi * isi;
    sums.set(id, acc);
  }
  const out = { e: [] as number[], i: [] as number[] };
  for (const [id, { n, s, s2 }] of sums) {
    if (n < 2) continue;
    const mean = s / n;
    const variance = Math.max(0, s2 / n - mean * mean);
    (isInhibitory(data.layout, id) ? out.i : out.e).push(Math.sqrt(variance) / mean);
  }
  return out;
}

export function isiCvSvg(data: PlotData): string {
  const cvs = isiCvs(data);
  const bins = 30;
  const maxCv = Math.max(2, ...cvs.e, ...cvs.i);
  const width = maxCv / bins;
  const histogram = (values: number[]) => {
    const counts = new Array<number>(bins).fill(0);
    for (const v of values) counts[Math.min(bins - 1, Math.floor(v / width))]! += 1;
    return counts;
  };
  const e = histogram(cvs.e);
  const i = histogram(cvs.i);
  const top = Math.max(1, ...e, ...i);
  const frame = new Frame(
    0,
    maxCv,
    0,
    top * 1.05,
    `${data.title}: ISI CV (neurons with ≥ 3 spikes: ${cvs.e.length} E, ${cvs.i.length} I)`,
    'CV of inter-spike intervals',
    'neurons',
  );
  const bars = (counts: number[], colour: string) => {
    counts.forEach((count, b) => {
      if (count === 0) return;
      const x = frame.x(b * width);
      const y = frame.y(count);
      frame.parts.push(
        `<rect x="${x}" y="${y}" width="${(frame.x((b + 1) * width) - x).toFixed(2)}" height="${(frame.y(0) - y).toFixed(2)}" fill="${colour}" fill-opacity="0.55"/>`,
      );
    });
  };
  bars(e, E_COLOUR);
  bars(i, I_COLOUR);
  frame.legend([
    { label: 'excitatory', colour: E_COLOUR },
    { label: 'inhibitory', colour: I_COLOUR },
  ]);
  return frame.svg();
}

export function trajectorySvg(data: PlotData): string {
  const trajectory = data.trajectory!;
  const scene = trajectory.scene;
  const width = scene?.widthM ?? Math.max(...trajectory.x, 1);
  const height = scene?.heightM ?? Math.max(...trajectory.y, 1);
  const side = 560;
  const frame = new Frame(0, width, 0, height, `${data.title}: robot path`, 'x (m)', 'y (m)', side, side);
  for (const shape of scene?.obstacles ?? []) {
    if (shape.kind === 'circle') {
      const r = frame.x(shape.radiusM) - frame.x(0);
      frame.parts.push(
        `<circle cx="${frame.x(shape.x)}" cy="${frame.y(shape.y)}" r="${r.toFixed(2)}" fill="#bbb"/>`,
      );
    } else {
      frame.parts.push(
        `<line x1="${frame.x(shape.x1)}" y1="${frame.y(shape.y1)}" x2="${frame.x(shape.x2)}" y2="${frame.y(shape.y2)}" stroke="#777" stroke-width="3"/>`,
      );
    }
  }
  // At most ~5000 points: the path of a long run is thinned evenly.
  const every = Math.max(1, Math.ceil(trajectory.x.length / 5000));
  const xs = trajectory.x.filter((_, k) => k % every === 0);
  const ys = trajectory.y.filter((_, k) => k % every === 0);
  frame.polyline(xs, ys, E_COLOUR);
  for (const target of trajectory.targets) {
    frame.parts.push(`<circle cx="${frame.x(target.x)}" cy="${frame.y(target.y)}" r="5" fill="#1a9a40"/>`);
  }
  if (xs.length > 0) {
    frame.parts.push(
      `<circle cx="${frame.x(xs[0]!)}" cy="${frame.y(ys[0]!)}" r="4" fill="none" stroke="#000"/>`,
    );
  }
  frame.legend([
    { label: 'path', colour: E_COLOUR },
    { label: 'targets', colour: '#1a9a40' },
  ]);
  return frame.svg();
}

/** Lateness (max per bin) and compute time (mean per bin) over the run. */
export function latencySvg(data: PlotData): string {
  const { timeS, latenessUs, computeUs } = data.latency!;
  const duration = Math.max(data.durationS, timeS[timeS.length - 1] ?? 0);
  const bins = Math.max(1, Math.min(500, timeS.length));
  const binS = duration / bins || 1;
  const lateMax = new Float64Array(bins);
  const computeSum = new Float64Array(bins);
  const computeN = new Float64Array(bins);
  for (let k = 0; k < timeS.length; k++) {
    const b = Math.min(bins - 1, Math.floor(timeS[k]! / binS));
    lateMax[b] = Math.max(lateMax[b]!, latenessUs[k]!);
    computeSum[b]! += computeUs[k]!;
    computeN[b]! += 1;
  }
  const times = Array.from({ length: bins }, (_, b) => (b + 0.5) * binS);
  const computeMean = Array.from(computeSum, (s, b) => (computeN[b] ? s / computeN[b]! : 0));
  const top = Math.max(1, ...lateMax, ...computeMean);
  const frame = new Frame(
    0,
    duration,
    0,
    top * 1.05,
    `${data.title}: tick latency (${fmt(binS * 1000)} ms bins)`,
    'time (s)',
    'µs',
  );
  frame.polyline(times, Array.from(lateMax), I_COLOUR);
  frame.polyline(times, computeMean, E_COLOUR);
  frame.legend([
    { label: 'lateness (max)', colour: I_COLOUR },
    { label: 'compute (mean)', colour: E_COLOUR },
  ]);
  return frame.svg();
}

/** Every figure the data allows, by file name. */
export function plotFigures(data: PlotData): Map<string, string> {
  const figures = new Map<string, string>([
    ['raster.svg', rasterSvg(data)],
    ['rates.svg', ratesSvg(data)],
    ['isi-cv.svg', isiCvSvg(data)],
  ]);
  if (data.trajectory && data.trajectory.x.length > 0) figures.set('trajectory.svg', trajectorySvg(data));
  if (data.latency && data.latency.timeS.length > 0) figures.set('latency.svg', latencySvg(data));
  return figures;
}
