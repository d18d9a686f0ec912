/** Parses HdrHistogram's percentile distribution (.hgrm) text, checking its format line by line. */
export interface HgrmFile {
  rows: { value: number; percentile: number; totalCount: number }[];
  mean: number;
  max: number;
  totalCount: number;
}

export function parseHgrm(text: string): HgrmFile {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  if (!/^\s*Value\s+Percentile\s+TotalCount\s+1\/\(1-Percentile\)\s*$/.test(lines[0] ?? '')) {
    throw new Error(`not an .hgrm header: "${lines[0]}"`);
  }
  const rows: HgrmFile['rows'] = [];
  let mean = Number.NaN;
  let max = Number.NaN;
  let totalCount = Number.NaN;
  for (const line of lines.slice(1)) {
    const footer = /^#\[Mean\s+=\s+([\d.]+), StdDeviation\s+=\s+([\d.]+)\]$/.exec(line);
    const maxLine = /^#\[Max\s+=\s+([\d.]+), Total count\s+=\s+(\d+)\]$/.exec(line);
    if (footer) mean = Number(footer[1]);
    else if (maxLine) {
      max = Number(maxLine[1]);
      totalCount = Number(maxLine[2]);
    } else if (line.startsWith('#[Buckets')) continue;
    else {
      const cells = line.trim().split(/\s+/).map(Number);
      if (cells.length < 3 || cells.length > 4 || cells.some((cell) => !Number.isFinite(cell))) {
        throw new Error(`bad .hgrm row: "${line}"`);
      }
      rows.push({ value: cells[0]!, percentile: cells[1]!, totalCount: cells[2]! });
    }
  }
  if (rows.length === 0 || Number.isNaN(mean) || Number.isNaN(totalCount))
    throw new Error('incomplete .hgrm');
  return { rows, mean, max, totalCount };
}
