/**
 * Errors and checks shared by encoders, decoders and the mapping parser. Every message names the
 * offending field (a config path such as `encoders[1].populations[3]`, or an input and index).
 */

import { describeValue, notFinite, notIntegerIn, notNonNegative, notPositive } from '../config/checks.js';

export class CodecError extends Error {
  override name = 'CodecError';
}

/**
 * A sensor sample carried NaN or ±Infinity. The encoder has already added the currents of the last
 * good values when it throws, so a loop that logs this and carries on holds the last good value.
 */
export class SensorValueError extends CodecError {
  override name = 'SensorValueError';
  constructor(
    readonly input: string,
    readonly index: number,
    readonly value: number,
  ) {
    super(`input "${input}": value ${index} is ${value}; kept the last good value`);
  }
}

/** `value` when `problem` is undefined; else a CodecError naming the path. */
function checked(path: string, value: unknown, problem: string | undefined): number {
  if (problem !== undefined) throw new CodecError(`${path}: ${problem}`);
  return value as number;
}

export function requireFinite(path: string, value: unknown): number {
  return checked(path, value, notFinite(value));
}

export function requirePositive(path: string, value: unknown): number {
  return checked(path, value, notPositive(value));
}

export function requireNonNegative(path: string, value: unknown): number {
  return checked(path, value, notNonNegative(value));
}

export function requireInteger(path: string, value: unknown, min: number, max: number): number {
  return checked(path, value, notIntegerIn(value, min, max));
}

export function requireName(path: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new CodecError(`${path}: must be a non-empty string, got ${describeValue(value)}`);
  }
  return value;
}

export function requireFiniteArray(path: string, value: unknown, length?: number): number[] {
  if (!Array.isArray(value)) throw new CodecError(`${path}: must be an array, got ${describeValue(value)}`);
  if (length !== undefined && value.length !== length) {
    throw new CodecError(`${path}: expected ${length} values, got ${value.length}`);
  }
  return value.map((x, i) => requireFinite(`${path}[${i}]`, x));
}

/** Population indices: distinct integers in [0, populationCount). */
export function requirePopulations(path: string, value: unknown, populationCount: number): number[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new CodecError(`${path}: must be a non-empty array of populations, got ${describeValue(value)}`);
  }
  const seen = new Set<number>();
  return value.map((p, i) => {
    const pop = requireInteger(`${path}[${i}]`, p, 0, populationCount - 1);
    if (seen.has(pop)) throw new CodecError(`${path}[${i}]: population ${pop} is listed twice`);
    seen.add(pop);
    return pop;
  });
}

/** Exact one-step factor of an exponential low-pass filter with time constant tauMs over stepMs. */
export function lowPassFactor(stepMs: number, tauMs: number): number {
  return 1 - Math.exp(-stepMs / tauMs);
}
