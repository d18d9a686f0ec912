/** Option parsers for commander that fail with a message naming the option. */
import { InvalidArgumentError } from 'commander';

export function finiteNumber(option: string) {
  return (value: string): number => {
    const number = Number(value);
    if (value.trim() === '' || !Number.isFinite(number)) {
      throw new InvalidArgumentError(`${option} must be a finite number, got "${value}"`);
    }
    return number;
  };
}

/** Longest wall-clock run a --duration may ask for (365 days); without --duration a run goes on until stopped. */
export const MAX_WALL_S = 365 * 24 * 3600;
/** Longest biological time one simulate/warm-up may ask for (s). */
export const MAX_BIOLOGICAL_S = 100_000;
/** Longest tick (ms). */
export const MAX_TICK_MS = 1000;

/** A finite number in (min, max] (`exclusiveMin`) or [min, max]; the message names the option and the range. */
export function numberInRange(option: string, min: number, max: number, unit: string, exclusiveMin = false) {
  return (value: string): number => {
    const number = Number(value);
    const low = exclusiveMin ? number > min : number >= min;
    if (value.trim() === '' || !Number.isFinite(number) || !low || number > max) {
      throw new InvalidArgumentError(
        `${option} must be a number ${exclusiveMin ? '>' : '≥'} ${min} and ≤ ${max} ${unit}, got "${value}"`,
      );
    }
    return number;
  };
}

export function integer(option: string, min = Number.MIN_SAFE_INTEGER) {
  return (value: string): number => {
    const number = Number(value);
    if (!Number.isInteger(number) || number < min) {
      throw new InvalidArgumentError(`${option} must be an integer ≥ ${min}, got "${value}"`);
    }
    return number;
  };
}

export function choice<T extends string>(values: readonly T[]) {
  return (value: string): T => {
    if (!values.includes(value as T)) {
      throw new InvalidArgumentError(`expected one of ${values.join(', ')}, got "${value}"`);
    }
    return value as T;
  };
}

/** Parses "2000,5000,10000" into integers ≥ min, naming the option on error. */
export function integerList(option: string, min: number) {
  return (value: string): number[] => {
    const items = value.split(',').map((item) => item.trim());
    const numbers = items.map(Number);
    if (items.length === 0 || numbers.some((n, k) => items[k] === '' || !Number.isInteger(n) || n < min)) {
      throw new InvalidArgumentError(
        `${option} must be a comma-separated list of integers ≥ ${min}, got "${value}"`,
      );
    }
    return numbers;
  };
}

/** Help for --n: the constraint a user otherwise meets first as an error. */
export const N_HELP =
  'number of neurons, N_E : N_I = 4 : 1 split evenly over Q clusters: a multiple of 5·Q (100 for the default Q = 20)';
