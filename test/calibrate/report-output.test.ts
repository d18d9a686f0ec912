import { describe, expect, it } from 'vitest';
import { heatmapCells, heatmapSvg, viridis } from '../../src/calibrate/heatmap.js';
import { formatDuration, ProgressBar } from '../../src/calibrate/progress.js';

describe('heatmap', () => {
  const rows = [
    { n: 1000, params: { jEPlus: 5, gE: 1, seed: 1 }, rateE: 2 },
    { n: 1000, params: { jEPlus: 5, gE: 1, seed: 2 }, rateE: 4 },
    { n: 1000, params: { jEPlus: 10, gE: 1, seed: 1 }, rateE: 8 },
    { n: 1000, params: { jEPlus: 5, gE: 2, seed: 1 }, rateE: null },
  ];

  it('averages over the other swept keys and leaves empty cells null', () => {
    const cells = heatmapCells(rows, { x: 'jEPlus', y: 'gE', metric: 'rateE' });
    expect(cells.xs).toEqual([5, 10]);
    expect(cells.ys).toEqual([1, 2]);
    expect(cells.values).toEqual([
      [3, 8],
      [null, null],
    ]);
    expect(cells.counts).toEqual([
      [2, 1],
      [0, 0],
    ]);
    // Two seeds with rateE 2 and 4: sample standard deviation √2.
    expect(cells.spreads[0]![0]).toBeCloseTo(Math.SQRT2, 12);
  });

  it('draws one labelled cell per (x, y) with a colour scale', () => {
    const svg = heatmapSvg(rows, { x: 'jEPlus', y: 'gE', metric: 'rateE' });
    expect(svg.startsWith('<svg')).toBe(true);
    // Symbols and units, not code names; the colour bar titled; seeds counted per cell.
    expect(svg).toContain(
      'E rate (Hz) over J<tspan baseline-shift="sub" font-size="80%">E+</tspan> (E→E cluster strength)',
    );
    expect(svg).not.toContain('jEPlus over');
    expect(svg).toContain('>± 1.414 (n 2)<');
    expect(svg).toContain('mean ± standard deviation over the points (n)');
    expect(svg.match(/<line [^>]*stroke="black"\/>/g)).toHaveLength(5);
    expect(svg).toMatch(/rotate\(-90 [\d.]+ [\d.]+\)">E rate \(Hz\)<\/text>/);
    expect(svg).toContain(`fill="${viridis(0)}"`);
    expect(svg).toContain(`fill="${viridis(1)}"`);
    expect(svg.match(/>n\/a</g)).toHaveLength(2);
    expect(viridis(0)).toBe('rgb(68,1,84)');
    expect(viridis(1)).toBe('rgb(253,231,37)');
  });
});

describe('progress', () => {
  it('formats durations', () => {
    expect(formatDuration(42)).toBe('42s');
    expect(formatDuration(125)).toBe('2m05s');
    expect(formatDuration(3 * 3600 + 60)).toBe('3h01m');
    expect(formatDuration(Number.POSITIVE_INFINITY)).toBe('?');
  });

  it('prints a line per milestone with percentage and ETA when stderr is not a terminal', () => {
    const lines: string[] = [];
    const stream = { write: (text: string) => lines.push(text) } as unknown as NodeJS.WriteStream;
    const bar = new ProgressBar('sweep', 4, stream, false);
    bar.update(1);
    bar.update(2, 'batch 1/2 saved');
    bar.finish('done');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^sweep \[#{14}-{14}\] {2}50% elapsed \d+s ETA \d+s batch 1\/2 saved\n$/);
    expect(lines[1]).toMatch(/100% .* done\n$/);
  });
});
