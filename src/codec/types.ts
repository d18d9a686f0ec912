/**
 * Encoders turn a sensor input's values into input currents of chosen populations; decoders turn
 * population activity into motor values. Both are pure: no I/O, no clocks, tested on plain arrays.
 */

export interface PopulationActivity {
  /** Spikes per population during the last tick (index = population, E clusters then I clusters). */
  counts: Uint32Array;
  /** Neurons per population. */
  sizes: Uint32Array;
  tickMs: number;
}

export interface Encoder {
  readonly input: string;
  /** Values this encoder expects per sample, when fixed (checked against the source before a run). */
  readonly size?: number;
  /** Adds this input's currents (pA) per population into `currentsPa` (length = population count). */
  encode(values: Float32Array, currentsPa: Float32Array): void;
}

export interface Decoder {
  readonly output: string;
  /** Values per command, when fixed (what a motor channel carrying this output must declare). */
  readonly size?: number;
  /** Motor values for this tick; decoders may keep filter state between ticks. */
  decode(activity: PopulationActivity): Float32Array;
}
