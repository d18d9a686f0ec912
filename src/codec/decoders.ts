/**
 * Decoders: population activity (spike counts per tick) → motor values. Each keeps exponentially
 * low-pass filtered rates (Hz) of its groups, because one tick's counts are far too noisy to steer
 * by. Filtered rates start at 0 Hz and follow the activity with the configured time constant.
 *
 * - RateDecoder: one value per group, gain · filtered rate + offset.
 * - WinnerTakeAllDecoder: the motor vector of the group with the highest filtered rate.
 * - PopulationVectorDecoder: Σ (r_k − mean r) · (cos θ_k, sin θ_k) over clusters with preferred
 *   directions θ_k, as (x, y), (angle, length) or a differential-drive command (v, ω).
 */
import { describeValue } from '../config/checks.js';
import { hypot } from '../math/hypot.js';
import {
  CodecError,
  lowPassFactor,
  requireFinite,
  requireFiniteArray,
  requireInteger,
  requireName,
  requireNonNegative,
  requirePopulations,
  requirePositive,
} from './errors.js';
import type { Decoder, PopulationActivity } from './types.js';

interface CommonDecoderOptions {
  /** Motor output name (e.g. "cmd_vel"). */
  output: string;
  /** Time constant of the rate filter (ms). */
  tauMs: number;
  /** Number of populations in the activity (2·Q). */
  populationCount: number;
  path?: string;
}

/** Filtered rates (Hz) of groups of populations; a group's rate is its spikes over its neurons. */
class GroupRates {
  readonly rates: Float64Array;
  private stepMs = Number.NaN;
  private alpha = 0;

  constructor(
    readonly groups: readonly (readonly number[])[],
    private readonly tauMs: number,
    private readonly populationCount: number,
    private readonly output: string,
  ) {
    this.rates = new Float64Array(groups.length);
  }

  update(activity: PopulationActivity): Float64Array {
    const { counts, sizes, tickMs } = activity;
    if (counts.length !== this.populationCount || sizes.length !== this.populationCount) {
      throw new CodecError(
        `output "${this.output}": activity has ${counts.length} counts and ${sizes.length} sizes, expected ${this.populationCount}`,
      );
    }
    if (!(tickMs > 0) || !Number.isFinite(tickMs)) {
      throw new CodecError(`output "${this.output}": activity tickMs must be > 0, got ${tickMs}`);
    }
    if (tickMs !== this.stepMs) {
      this.stepMs = tickMs;
      this.alpha = lowPassFactor(tickMs, this.tauMs);
    }
    for (let g = 0; g < this.groups.length; g++) {
      let spikes = 0;
      let neurons = 0;
      const group = this.groups[g]!;
      for (let k = 0; k < group.length; k++) {
        const pop = group[k]!;
        spikes += counts[pop]!;
        neurons += sizes[pop]!;
      }
      const rateHz = neurons > 0 ? (spikes * 1000) / (neurons * tickMs) : 0;
      this.rates[g]! += this.alpha * (rateHz - this.rates[g]!);
    }
    return this.rates;
  }

  reset(): void {
    this.rates.fill(0);
  }
}

function requireGroups(path: string, value: unknown, populationCount: number): number[][] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new CodecError(
      `${path}: must be a non-empty array of population groups, got ${describeValue(value)}`,
    );
  }
  return value.map((group, g) => requirePopulations(`${path}[${g}]`, group, populationCount));
}

abstract class FilteredDecoder implements Decoder {
  readonly output: string;
  protected readonly path: string;
  protected readonly populationCount: number;
  protected readonly tauMs: number;

  constructor(options: CommonDecoderOptions) {
    this.path = options.path ?? `decoder "${options.output}"`;
    this.output = requireName(`${this.path}.output`, options.output);
    this.populationCount = requireInteger(
      `${this.path}.populationCount`,
      options.populationCount,
      1,
      1 << 24,
    );
    this.tauMs = requirePositive(`${this.path}.tauMs`, options.tauMs);
  }

  abstract decode(activity: PopulationActivity): Float32Array;
  /** Clears the filter state (rates back to 0 Hz). */
  abstract reset(): void;
}

export interface RateDecoderOptions extends CommonDecoderOptions {
  groups: number[][];
  /** Output = gain · rate (Hz) + offset. Defaults 1 and 0: the rates themselves. */
  gain?: number;
  offset?: number;
}

function setPair(out: Float32Array, a: number, b: number): Float32Array {
  out[0] = a;
  out[1] = b;
  return out;
}

export class RateDecoder extends FilteredDecoder {
  readonly size: number;
  /** Refilled by every decode (the loop copies what it keeps): decoding allocates nothing. */
  private readonly out: Float32Array;
  private readonly rates: GroupRates;
  private readonly gain: number;
  private readonly offset: number;

  constructor(options: RateDecoderOptions) {
    super(options);
    const groups = requireGroups(`${this.path}.groups`, options.groups, this.populationCount);
    this.rates = new GroupRates(groups, this.tauMs, this.populationCount, this.output);
    this.size = groups.length;
    this.out = new Float32Array(this.size);
    this.gain = requireFinite(`${this.path}.gain`, options.gain ?? 1);
    this.offset = requireFinite(`${this.path}.offset`, options.offset ?? 0);
  }

  decode(activity: PopulationActivity): Float32Array {
    const rates = this.rates.update(activity);
    const out = this.out;
    for (let g = 0; g < rates.length; g++) out[g] = this.gain * rates[g]! + this.offset;
    return out;
  }

  reset(): void {
    this.rates.reset();
  }
}

export interface WinnerTakeAllOptions extends CommonDecoderOptions {
  groups: number[][];
  /** Motor vector emitted while each group wins (all the same length). */
  values: number[][];
  /** Below this filtered rate (Hz) nobody wins and `idle` is emitted. Default 0. */
  minRateHz?: number;
  /** A challenger must exceed the current winner by this much (Hz) to take over. Default 0. */
  hysteresisHz?: number;
  /** Motor vector when nobody wins. Default zeros. */
  idle?: number[];
}

export class WinnerTakeAllDecoder extends FilteredDecoder {
  readonly size: number;
  private readonly out: Float32Array;
  private readonly rates: GroupRates;
  private readonly values: Float32Array[];
  private readonly idle: Float32Array;
  private readonly minRateHz: number;
  private readonly hysteresisHz: number;
  /** Index of the current winner, −1 for none. */
  winner = -1;

  constructor(options: WinnerTakeAllOptions) {
    super(options);
    const groups = requireGroups(`${this.path}.groups`, options.groups, this.populationCount);
    this.rates = new GroupRates(groups, this.tauMs, this.populationCount, this.output);
    if (!Array.isArray(options.values) || options.values.length !== groups.length) {
      throw new CodecError(
        `${this.path}.values: expected one motor vector per group (${groups.length}), got ${describeValue(options.values)}`,
      );
    }
    const width = Array.isArray(options.values[0]) ? options.values[0].length : 0;
    if (width === 0) throw new CodecError(`${this.path}.values[0]: must be a non-empty array`);
    this.size = width;
    this.out = new Float32Array(width);
    this.values = options.values.map(
      (v, g) => new Float32Array(requireFiniteArray(`${this.path}.values[${g}]`, v, width)),
    );
    this.idle = new Float32Array(width);
    if (options.idle !== undefined) {
      this.idle.set(requireFiniteArray(`${this.path}.idle`, options.idle, width));
    }
    this.minRateHz = requireNonNegative(`${this.path}.minRateHz`, options.minRateHz ?? 0);
    this.hysteresisHz = requireNonNegative(`${this.path}.hysteresisHz`, options.hysteresisHz ?? 0);
  }

  decode(activity: PopulationActivity): Float32Array {
    const rates = this.rates.update(activity);
    let best = -1;
    for (let g = 0; g < rates.length; g++) if (best < 0 || rates[g]! > rates[best]!) best = g;
    const current = this.winner;
    if (current >= 0 && best !== current && rates[best]! - rates[current]! <= this.hysteresisHz) {
      best = current;
    }
    this.winner = rates[best]! >= this.minRateHz && rates[best]! > 0 ? best : -1;
    // A buffer of its own, refilled: the caller may not change the decoder's values or idle.
    this.out.set(this.winner >= 0 ? this.values[this.winner]! : this.idle);
    return this.out;
  }

  reset(): void {
    this.rates.reset();
    this.winner = -1;
  }
}

export interface SteerOptions {
  /** Forward speed when the vector points straight ahead at full length (m/s). */
  maxSpeedMps: number;
  /** Vector length (Hz) that gives full speed; shorter vectors scale the speed down. */
  fullSpeedHz: number;
  /** Turn rate per radian of vector angle (1/s), and its limit (rad/s). */
  turnGainPerS: number;
  maxTurnRadPerS: number;
}

export interface PopulationVectorOptions extends CommonDecoderOptions {
  populations: number[];
  /** Preferred direction of each population (rad, counter-clockwise from straight ahead). */
  preferredRad: number[];
  /**
   * 'cartesian' → [x, y] (Hz), 'polar' → [angle (rad), length (Hz)], 'steer' → [v (m/s), ω (rad/s)]
   * with v = maxSpeed · max(0, cos angle) · min(1, length / fullSpeedHz), ω = turnGain · angle (clamped).
   */
  mode: 'cartesian' | 'polar' | 'steer';
  steer?: SteerOptions;
  /**
   * Without it, rates are contrasted against their mean (uniform activity → zero vector, silenced
   * clusters push the vector away from themselves). With it, only the excess over this rate (Hz)
   * counts: the vector follows the active clusters and ignores silenced ones.
   */
  baselineHz?: number;
}

export class PopulationVectorDecoder extends FilteredDecoder {
  /** Every mode gives two values: [x, y], [angle, length] or [v, ω]. */
  readonly size = 2;
  readonly mode: 'cartesian' | 'polar' | 'steer';
  private readonly rates: GroupRates;
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;
  private readonly steer: SteerOptions | null;
  private readonly baselineHz: number | null;
  /** Refilled by every decode, with the vector's components. */
  private readonly out = new Float32Array(2);
  private x = 0;
  private y = 0;

  constructor(options: PopulationVectorOptions) {
    super(options);
    const pops = requirePopulations(`${this.path}.populations`, options.populations, this.populationCount);
    if (pops.length < 2) throw new CodecError(`${this.path}.populations: need at least 2 populations`);
    this.rates = new GroupRates(
      pops.map((p) => [p]),
      this.tauMs,
      this.populationCount,
      this.output,
    );
    const angles = requireFiniteArray(`${this.path}.preferredRad`, options.preferredRad, pops.length);
    this.cos = Float64Array.from(angles, Math.cos);
    this.sin = Float64Array.from(angles, Math.sin);
    if (!['cartesian', 'polar', 'steer'].includes(options.mode)) {
      throw new CodecError(
        `${this.path}.mode: expected cartesian, polar or steer, got ${describeValue(options.mode)}`,
      );
    }
    this.mode = options.mode;
    this.baselineHz =
      options.baselineHz === undefined
        ? null
        : requireNonNegative(`${this.path}.baselineHz`, options.baselineHz);
    this.steer = null;
    if (options.mode === 'steer') {
      const s = options.steer;
      if (s === undefined || typeof s !== 'object') {
        throw new CodecError(`${this.path}.steer: required for mode "steer"`);
      }
      this.steer = {
        maxSpeedMps: requireFinite(`${this.path}.steer.maxSpeedMps`, s.maxSpeedMps),
        fullSpeedHz: requirePositive(`${this.path}.steer.fullSpeedHz`, s.fullSpeedHz),
        turnGainPerS: requireFinite(`${this.path}.steer.turnGainPerS`, s.turnGainPerS),
        maxTurnRadPerS: requireNonNegative(`${this.path}.steer.maxTurnRadPerS`, s.maxTurnRadPerS),
      };
    }
  }

  /** The population vector (Hz) of filtered rates, contrasted against their mean or a baseline. */
  vector(rates: Float64Array): { x: number; y: number } {
    this.computeVector(rates);
    return { x: this.x, y: this.y };
  }

  /** vector() into `x` and `y`, so decoding allocates nothing. */
  private computeVector(rates: Float64Array): void {
    let mean = 0;
    for (let k = 0; k < rates.length; k++) mean += rates[k]!;
    mean /= rates.length;
    const baseline = this.baselineHz;
    let x = 0;
    let y = 0;
    for (let k = 0; k < rates.length; k++) {
      const r = baseline === null ? rates[k]! - mean : Math.max(0, rates[k]! - baseline);
      x += r * this.cos[k]!;
      y += r * this.sin[k]!;
    }
    this.x = x;
    this.y = y;
  }

  decode(activity: PopulationActivity): Float32Array {
    this.computeVector(this.rates.update(activity));
    const { x, y, out } = this;
    if (this.mode === 'cartesian') return setPair(out, x, y);
    const angle = x === 0 && y === 0 ? 0 : Math.atan2(y, x);
    const length = hypot(x, y);
    if (this.mode === 'polar') return setPair(out, angle, length);
    const s = this.steer!;
    const v = s.maxSpeedMps * Math.max(0, Math.cos(angle)) * Math.min(1, length / s.fullSpeedHz);
    const omega = Math.max(-s.maxTurnRadPerS, Math.min(s.maxTurnRadPerS, s.turnGainPerS * angle));
    return setPair(out, v, omega);
  }

  reset(): void {
    this.rates.reset();
  }
}
