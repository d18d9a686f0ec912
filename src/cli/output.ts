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

type Value = Row[string];

function isPlainObject(value: Value): value is Record<string, Value> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A value on one line: small flat objects as `key value · key value`, lists joined by commas. */
function inline(value: Value): string {
  if (Array.isArray(value))
    return value.length === 0 ? '(none)' : value.map((v) => inline(v as Value)).join(', ');
  if (isPlainObject(value)) {
    return Object.entries(value)
      .map(([key, v]) => `${key} ${inline(v)}`)
      .join(' · ');
  }
  return formatValue(value);
}

/** Flat enough to read on one line: scalars (or short lists) only, at most eight of them. */
function fitsOnOneLine(value: Record<string, Value>): boolean {
  const entries = Object.values(value);
  return entries.length <= 8 && entries.every((v) => !isPlainObject(v));
}

/**
 * One result as `key  value` lines (a table of one row is a 350-character line): short flat objects
 * such as latency summaries on one line, longer or deeper ones as indented blocks.
 */
export function formatSummary(row: Row, indent = ''): string {
  const keys = Object.keys(row);
  if (keys.length === 0) return `${indent}(nothing)`;
  const width = Math.max(...keys.map((key) => key.length));
  const lines: string[] = [];
  for (const key of keys) {
    const value = row[key]!;
    if (isPlainObject(value) && (!fitsOnOneLine(value) || inline(value).length > 100)) {
      lines.push(`${indent}${key}`);
      lines.push(formatSummary(value as Row, `${indent}  `));
    } else {
      lines.push(`${indent}${key.padEnd(width)}  ${inline(value)}`);
    }
  }
  return lines.join('\n');
}

/** The given columns of a row (all of it without a list), in that order. */
function pickColumns(row: Row, columns?: readonly string[]): Row {
  if (!columns) return row;
  return Object.fromEntries(columns.filter((key) => key in row).map((key) => [key, row[key]!]));
}

/**
 * Prints results: a JSON line each with --json; otherwise a table where there are rows to compare,
 * and one result (a summary) as `key  value` lines.
 */
export function printRows(rows: readonly Row[], json: boolean, columns?: readonly string[]): void {
  if (json) for (const row of rows) process.stdout.write(`${JSON.stringify(row)}\n`);
  else if (rows.length === 1) process.stdout.write(`${formatSummary(pickColumns(rows[0]!, columns))}\n`);
  else process.stdout.write(`${formatTable(rows, columns)}\n`);
}
