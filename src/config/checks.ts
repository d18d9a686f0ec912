/**
 * One check per kind of value (finite, positive, non-negative, integer in a range), for values that
 * are not checked by a schema: model parameters, codec mappings, message fields on the tick path.
 * Each returns what is wrong as a phrase ("must be > 0, got -1"), or undefined when the value is
 * fine; the caller puts it behind its own key path and error class. Returning instead of throwing
 * keeps the tick path free of allocation when nothing is wrong.
 */

/** A value as a message quotes it: strings in quotes, arrays by length, objects as "an object". */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

export function notFinite(value: unknown): string | undefined {
  return typeof value === 'number' && Number.isFinite(value)
    ? undefined
    : `must be a finite number, got ${describeValue(value)}`;
}

export function notPositive(value: unknown): string | undefined {
  return notFinite(value) ?? ((value as number) > 0 ? undefined : `must be > 0, got ${String(value)}`);
}

export function notNonNegative(value: unknown): string | undefined {
  return notFinite(value) ?? ((value as number) >= 0 ? undefined : `must be ≥ 0, got ${String(value)}`);
}

/** An integer in [min, max]. */
export function notIntegerIn(value: unknown, min: number, max: number): string | undefined {
  const problem = notFinite(value);
  if (problem !== undefined) return problem;
  const x = value as number;
  return Number.isInteger(x) && x >= min && x <= max
    ? undefined
    : `must be an integer in [${min}, ${max}], got ${x}`;
}
