/**
 * Encoders: one sensor input's values → extra input currents (pA) of chosen populations.
 * Linear (a weight matrix from values to populations), Gaussian tuning curves (a scalar becomes a
 * bump of current over an ordered list of clusters) and rate coding (a value sets the rate of a
 * virtual Poisson afferent population whose spikes become current).
 *
 * Every encoder holds the last good value of each index: a NaN/±Inf value is replaced by it (or
 * contributes nothing if no good value was seen yet), the currents are added, and then a
 * SensorValueError naming the input and index is thrown, so the loop can log it and carry on.
 */
import { describeValue } from '../config/checks.js';
import { counterUniform, mix32, streamKey } from '../model/rng.js';
import {
  CodecError,
  requireFinite,
  requireFiniteArray,
  requireInteger,
  requireName,
  requireNonNegative,
  requirePopulations,
  requirePositive,
  SensorValueError,
} from './errors.js';
import type { Encoder } from './types.js';

interface CommonEncoderOptions {
  /** Sensor input name (e.g. "ranges"). */
  input: string;
  /** Number of values each sample of the input carries. */
  size: number;
  /** Length of the current vector (2·Q populations). */
  populationCount: number;
  /** Where errors point (a config path); defaults to the input name. */
  path?: string;
}

abstract class HeldValueEncoder implements Encoder {
  readonly input: string;
  readonly size: number;
  readonly populationCount: number;
  /** Last good value per index, and whether one was seen. */
  protected readonly held: Float64Array;
  protected readonly known: Uint8Array;

  constructor(options: CommonEncoderOptions, path: string) {
    this.input = requireName(`${path}.input`, options.input);
    this.size = requireInteger(`${path}.size`, options.size, 1, 1 << 20);
    this.populationCount = requireInteger(`${path}.populationCount`, options.populationCount, 1, 1 << 24);
    this.held = new Float64Array(this.size);
    this.known = new Uint8Array(this.size);
  }

  encode(values: Float32Array, currentsPa: Float32Array): void {
    if (values.length !== this.size) {
      throw new CodecError(`input "${this.input}": expected ${this.size} values, got ${values.length}`);
    }
    if (currentsPa.length !== this.populationCount) {
      throw new CodecError(
        `input "${this.input}": current vector has ${currentsPa.length} populations, expected ${this.populationCount}`,
      );
    }
    let bad = -1;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (Number.isFinite(v)) {
        this.held[i] = v;
        this.known[i] = 1;
      } else if (bad < 0) {
        bad = i;
      }
    }
    this.addCurrents(currentsPa);
    if (bad >= 0) throw new SensorValueError(this.input, bad, values[bad]!);
  }

  /** Adds the currents of the held values (indices in `known` only). */
  protected abstract addCurrents(currentsPa: Float32Array): void;
}

export interface LinearEncoderOptions extends CommonEncoderOptions {
  populations: number[];
  /**
   * pA per unit of (value − offset): a matrix [size][populations.length], or one gain applied from
   * every value to every population.
   */
  weightsPa: number[][] | number;
  /** Subtracted from each value before weighting (one per value, or one for all). Default 0. */
  offset?: number[] | number;
  /** (value − offset) is clamped to this range before weighting. */
  clamp?: { min: number; max: number };
}

/** currents[pop_j] += Σ_i W[i][j] · clamp(value_i − offset_i). */
export class LinearEncoder extends HeldValueEncoder {
  readonly populations: readonly number[];
  private readonly weights: Float64Array;
  private readonly offsets: Float64Array;
  private readonly min: number;
  private readonly max: number;

  constructor(options: LinearEncoderOptions) {
    const path = options.path ?? `encoder "${options.input}"`;
    super(options, path);
    this.populations = requirePopulations(`${path}.populations`, options.populations, this.populationCount);
    const cols = this.populations.length;
    this.weights = new Float64Array(this.size * cols);
    if (typeof options.weightsPa === 'number') {
      this.weights.fill(requireFinite(`${path}.weightsPa`, options.weightsPa));
    } else {
      if (!Array.isArray(options.weightsPa) || options.weightsPa.length !== this.size) {
        throw new CodecError(
          `${path}.weightsPa: expected a number or ${this.size} rows (one per value), got ${describeValue(options.weightsPa)}`,
        );
      }
      options.weightsPa.forEach((row, i) => {
        this.weights.set(requireFiniteArray(`${path}.weightsPa[${i}]`, row, cols), i * cols);
      });
    }
    this.offsets = new Float64Array(this.size);
    const offset = options.offset ?? 0;
    if (typeof offset === 'number') this.offsets.fill(requireFinite(`${path}.offset`, offset));
    else this.offsets.set(requireFiniteArray(`${path}.offset`, offset, this.size));
    this.min = -Infinity;
    this.max = Infinity;
    if (options.clamp !== undefined) {
      this.min = requireFinite(`${path}.clamp.min`, options.clamp?.min);
      this.max = requireFinite(`${path}.clamp.max`, options.clamp?.max);
      if (this.min > this.max) throw new CodecError(`${path}.clamp: min ${this.min} > max ${this.max}`);
    }
  }

  protected addCurrents(currentsPa: Float32Array): void {
    const cols = this.populations.length;
    for (let i = 0; i < this.size; i++) {
      if (!this.known[i]) continue;
      const x = Math.min(this.max, Math.max(this.min, this.held[i]! - this.offsets[i]!));
      if (x === 0) continue;
      for (let j = 0; j < cols; j++) currentsPa[this.populations[j]!]! += this.weights[i * cols + j]! * x;
    }
  }
}

export interface GaussianEncoderOptions extends CommonEncoderOptions {
  /** Which value of the sample is encoded. Default 0. */
  index?: number;
  /** Ordered clusters that carry the tuning curves. */
  populations: number[];
  /** Preferred value of each population (same units as the value). */
  preferred: number[];
  /** Width (standard deviation) of every tuning curve, in the value's units. */
  sigma: number;
  /** Peak current (pA) of a tuning curve; negative inhibits. */
  amplitudePa: number;
  /** For circular quantities (angles): differences are wrapped to (−period/2, period/2]. */
  period?: number;
  /** Constant current (pA) added to every population of the curve while the input is live. Default 0. */
  baselinePa?: number;
}

/** currents[pop_k] += baseline + A · exp(−d(value, preferred_k)² / 2σ²): a bump of current over clusters. */
export class GaussianEncoder extends HeldValueEncoder {
  readonly populations: readonly number[];
  readonly index: number;
  private readonly preferred: number[];
  private readonly sigma: number;
  private readonly amplitudePa: number;
  private readonly period: number;
  private readonly baselinePa: number;

  constructor(options: GaussianEncoderOptions) {
    const path = options.path ?? `encoder "${options.input}"`;
    super(options, path);
    this.index = requireInteger(`${path}.index`, options.index ?? 0, 0, this.size - 1);
    this.populations = requirePopulations(`${path}.populations`, options.populations, this.populationCount);
    this.preferred = requireFiniteArray(`${path}.preferred`, options.preferred, this.populations.length);
    this.sigma = requirePositive(`${path}.sigma`, options.sigma);
    this.amplitudePa = requireFinite(`${path}.amplitudePa`, options.amplitudePa);
    this.period = options.period === undefined ? 0 : requirePositive(`${path}.period`, options.period);
    this.baselinePa = requireFinite(`${path}.baselinePa`, options.baselinePa ?? 0);
  }

  /** The bump for one value, without the held-value bookkeeping (for inspection and tests). */
  tuning(value: number): number[] {
    return this.preferred.map((p) => this.tuningAt(value, p));
  }

  /** One population's current (pA) for `value`, preferring `preferred`. */
  private tuningAt(value: number, preferred: number): number {
    let d = value - preferred;
    if (this.period > 0) d -= this.period * Math.round(d / this.period);
    return this.baselinePa + this.amplitudePa * Math.exp((-d * d) / (2 * this.sigma * this.sigma));
  }

  protected addCurrents(currentsPa: Float32Array): void {
    if (!this.known[this.index]) return;
    const value = this.held[this.index]!;
    // Population by population, not through tuning(): encoding allocates nothing.
    for (let k = 0; k < this.preferred.length; k++) {
      currentsPa[this.populations[k]!]! += this.tuningAt(value, this.preferred[k]!);
    }
  }
}

export interface RateEncoderOptions extends CommonEncoderOptions {
  /** Which value of the sample is encoded. Default 0. */
  index?: number;
  populations: number[];
  /** Afferent rate = baseRateHz + rateHzPerUnit · value, clamped to [0, maxRateHz]. */
  rateHzPerUnit: number;
  baseRateHz?: number;
  maxRateHz: number;
  /** Virtual afferent neurons per population, each firing at the afferent rate. */
  afferents: number;
  /** Amplitude of one afferent spike's exponential current (pA) and its time constant (ms). */
  weightPa: number;
  tauSynMs: number;
  /** Tick length (ms): each encode() is one tick of Poisson afferent spikes. */
  tickMs: number;
  seed?: number;
}

/**
 * Rate coding: the value sets the rate of a virtual Poisson afferent population per target. Each
 * tick draws the afferent spike count and injects its charge (weight · tau_syn per spike) spread
 * over the tick as a constant current. Draws are a pure function of (seed, tick, population), so a
 * run is reproducible.
 */
export class RateEncoder extends HeldValueEncoder {
  readonly populations: readonly number[];
  readonly index: number;
  private readonly rateHzPerUnit: number;
  private readonly baseRateHz: number;
  private readonly maxRateHz: number;
  private readonly afferents: number;
  private readonly chargePerSpikePaMs: number;
  private readonly tickMs: number;
  private readonly key: number;
  private tick = 0;

  constructor(options: RateEncoderOptions) {
    const path = options.path ?? `encoder "${options.input}"`;
    super(options, path);
    this.index = requireInteger(`${path}.index`, options.index ?? 0, 0, this.size - 1);
    this.populations = requirePopulations(`${path}.populations`, options.populations, this.populationCount);
    this.rateHzPerUnit = requireFinite(`${path}.rateHzPerUnit`, options.rateHzPerUnit);
    this.baseRateHz = requireFinite(`${path}.baseRateHz`, options.baseRateHz ?? 0);
    this.maxRateHz = requireNonNegative(`${path}.maxRateHz`, options.maxRateHz);
    this.afferents = requireInteger(`${path}.afferents`, options.afferents, 1, 1 << 24);
    const weightPa = requireFinite(`${path}.weightPa`, options.weightPa);
    this.chargePerSpikePaMs = weightPa * requirePositive(`${path}.tauSynMs`, options.tauSynMs);
    this.tickMs = requirePositive(`${path}.tickMs`, options.tickMs);
    this.key = streamKey(requireInteger(`${path}.seed`, options.seed ?? 0, 0, 0xffffffff), 0x52415445);
  }

  /** Afferent rate (Hz) for a value. */
  rateHz(value: number): number {
    return Math.min(this.maxRateHz, Math.max(0, this.baseRateHz + this.rateHzPerUnit * value));
  }

  protected addCurrents(currentsPa: Float32Array): void {
    const tick = this.tick++;
    if (!this.known[this.index]) return;
    const mean = (this.afferents * this.rateHz(this.held[this.index]!) * this.tickMs) / 1000;
    for (let k = 0; k < this.populations.length; k++) {
      const spikes = poisson(mean, mix32(this.key ^ mix32(tick * 0x10001 + k)));
      currentsPa[this.populations[k]!]! += (spikes * this.chargePerSpikePaMs) / this.tickMs;
    }
  }
}

/**
 * A Poisson draw from a counter-based stream: inversion for small means, a normal approximation
 * (rounded, clipped at 0) above 30 where inversion would need many terms.
 */
export function poisson(mean: number, key: number): number {
  if (mean <= 0) return 0;
  if (mean > 30) {
    const u1 = Math.max(counterUniform(key, 0), 2 ** -25);
    const u2 = counterUniform(key, 1);
    const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    return Math.max(0, Math.round(mean + Math.sqrt(mean) * z));
  }
  const u = counterUniform(key, 0);
  let k = 0;
  let p = Math.exp(-mean);
  let cumulative = p;
  while (u > cumulative && k < 1000) {
    k++;
    p *= mean / k;
    cumulative += p;
  }
  return k;
}
