/** How every measuring command prints: a readable table, or one JSON object per line with --json. */

export type Row = Record<string, string | number | boolean | null | object>;

export function formatValue(value: Row[string]): string {
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return String(value);
    const magnitude = Math.abs(value);
    if (magnitude !== 0 && (magnitude >= 1e6 || magnitude < 1e-3)) return value.toExponential(3);
    return value.toFixed(magnitude >= 100 ? 1 : 3);
  }
  if (value === null) return '-';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** A plain-text table with aligned columns. */
export function formatTable(rows: readonly Row[], columns?: readonly string[]): string {
  if (rows.length === 0) return '(no rows)';
  const keys = columns ?? [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const cells = rows.map((row) => keys.map((key) => (key in row ? formatValue(row[key]!) : '')));
  const widths = keys.map((key, k) => Math.max(key.length, ...cells.map((line) => line[k]!.length)));
  const line = (values: readonly string[]) => values.map((value, k) => value.padStart(widths[k]!)).join('  ');
  return [line(keys), line(widths.map((width) => '-'.repeat(width))), ...cells.map(line)].join('\n');
}

/** Prints one result: a JSON line with --json, otherwise a table (rows may be one summary). */
export function printRows(rows: readonly Row[], json: boolean, columns?: readonly string[]): void {
  if (json) for (const row of rows) process.stdout.write(`${JSON.stringify(row)}\n`);
  else process.stdout.write(`${formatTable(rows, columns)}\n`);
}
