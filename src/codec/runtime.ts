/**
 * Applies a built mapping once per tick: the newest sample of each input (or, when none arrived,
 * the previous one again) → one population current vector; population counts → one value vector
 * per output. Bad sensor values are returned as errors instead of thrown, so one broken input
 * never stops the tick; encoders keep the last good values meanwhile.
 */
import { CodecError } from './errors.js';
import type { BuiltMapping } from './mapping.js';
import type { Decoder, Encoder, PopulationActivity } from './types.js';

export class CodecRuntime {
  readonly currentsPa: Float32Array;
  private readonly last = new Map<string, Float32Array>();
  private readonly activity: PopulationActivity;

  constructor(
    readonly mapping: BuiltMapping,
    /** Neurons per population (2·Q values). */
    populationSizes: Uint32Array,
  ) {
    if (populationSizes.length !== mapping.populationCount) {
      throw new CodecError(
        `population sizes: expected ${mapping.populationCount} values, got ${populationSizes.length}`,
      );
    }
    this.currentsPa = new Float32Array(mapping.populationCount);
    this.activity = { counts: new Uint32Array(0), sizes: populationSizes, tickMs: 1 };
  }

  get encoders(): readonly Encoder[] {
    return this.mapping.encoders;
  }

  get decoders(): readonly Decoder[] {
    return this.mapping.decoders;
  }

  /**
   * Currents (pA per population) for this tick. `samples` holds the newest values of inputs that
   * delivered this tick; other inputs are encoded from their previous sample. Returns errors of
   * newly delivered samples (wrong length, NaN/Inf); the vector is still complete.
   */
  encode(samples: ReadonlyMap<string, Float32Array>): { currentsPa: Float32Array; errors: CodecError[] } {
    const errors: CodecError[] = [];
    const fresh = new Set<string>();
    for (const [name, values] of samples) {
      const size = this.mapping.inputs.get(name);
      if (size === undefined) {
        errors.push(new CodecError(`input "${name}" is not in the mapping`));
      } else if (values.length !== size) {
        // The previous sample stays in use: a malformed one never reaches the encoders.
        errors.push(new CodecError(`input "${name}": expected ${size} values, got ${values.length}`));
      } else {
        this.last.set(name, values);
        fresh.add(name);
      }
    }
    this.currentsPa.fill(0);
    for (const encoder of this.mapping.encoders) {
      const values = this.last.get(encoder.input);
      if (values === undefined) continue;
      try {
        encoder.encode(values, this.currentsPa);
      } catch (error) {
        if (!(error instanceof CodecError)) throw error;
        // A sample is reported once, when it arrives; repeats of a held sample stay quiet.
        if (fresh.has(encoder.input) && !errors.some((e) => e.message === error.message)) errors.push(error);
      }
    }
    return { currentsPa: this.currentsPa, errors };
  }

  /** Motor values per output from one tick's spike counts per population. */
  decode(counts: Uint32Array, tickMs: number): Map<string, Float32Array> {
    this.activity.counts = counts;
    this.activity.tickMs = tickMs;
    const out = new Map<string, Float32Array>();
    for (const decoder of this.mapping.decoders) out.set(decoder.output, decoder.decode(this.activity));
    return out;
  }
}
