/** Joins the results directories of one sweep's slices (or partial runs) into one directory. */
import { type ResultRow, readResults, readSpecFile, writeResults, writeSpecFile } from './results-store.js';
import { writeSummaries } from './sweep-run.js';
import { expandSweep } from './sweep-spec.js';

export interface MergeSummary {
  outDir: string;
  sources: number;
  /** Points of the whole sweep. */
  points: number;
  merged: number;
  /** Points no source has finished (run the missing slices, then merge again). */
  missing: number;
}

export function mergeSweeps(dirs: readonly string[], outDir: string): MergeSummary {
  if (dirs.length === 0) throw new Error('--merge needs at least one results directory');
  const first = readSpecFile(dirs[0]!);
  const rows = new Map<string, ResultRow>();
  for (const dir of dirs) {
    const { specHash } = readSpecFile(dir);
    if (specHash !== first.specHash) {
      throw new Error(
        `${dir} holds a different sweep than ${dirs[0]} (spec hash ${specHash} ≠ ${first.specHash})`,
      );
    }
    // Every point's result is deterministic, so a key finished twice holds the same row.
    for (const [key, row] of readResults(dir)) if (!rows.has(key)) rows.set(key, row);
  }
  const points = expandSweep(first.spec);
  const merged = points.filter((point) => rows.has(point.key)).map((point) => rows.get(point.key)!);
  writeSpecFile(outDir, first.spec);
  writeResults(outDir, merged);
  writeSummaries(outDir, first.spec, merged);
  return {
    outDir,
    sources: dirs.length,
    points: points.length,
    merged: merged.length,
    missing: points.length - merged.length,
  };
}
