/**
 * The synthetic environment: a sensor that samples a sine (or square-wave step) pattern at a fixed
 * rate, a motor sink that records commands, and linear codecs between them, so the loop runs end
 * to end without any robot. Samples are produced lazily: `takeLatest` returns the newest sample
 * that would have arrived by now, stamped with that arrival time, so it never blocks and needs no
 * timer on the event loop.
 */
import type { Decoder, Encoder, PopulationActivity } from '../codec/types.js';
import { checkSettingKeys } from '../config/settings.js';
import type {
  Environment,
  EnvironmentOptions,
  MotorCommand,
  MotorSink,
  SensorSample,
  SensorSource,
} from '../loop/ports.js';
import type { Layout } from '../model/network.js';

export type SyntheticPattern = 'sine' | 'step';

export interface SyntheticSourceOptions {
  name: string;
  channels: number;
  /** Samples per second. */
  rateHz: number;
  /** Frequency of the pattern. */
  patternHz: number;
  pattern: SyntheticPattern;
  clockUs: () => number;
}

/** Values in [0, 1]; channel c is phase-shifted by c/channels of a period. */
export class SyntheticSource implements SensorSource {
  readonly name: string;
  readonly size: number;
  private readonly startUs: number;
  private readonly periodUs: number;
  private lastIndex = -1;
  /**
   * One sample, refilled: the loop keeps only the newest sample, and whoever keeps one longer
   * copies it (the recorder), so taking a sample allocates nothing.
   */
  private readonly sample: SensorSample;

  constructor(private readonly options: SyntheticSourceOptions) {
    if (!(options.rateHz > 0)) throw new RangeError(`synthetic rateHz must be > 0, got ${options.rateHz}`);
    if (!Number.isInteger(options.channels) || options.channels < 1) {
      throw new RangeError(`synthetic channels must be an integer ≥ 1, got ${options.channels}`);
    }
    this.name = options.name;
    this.size = options.channels;
    this.startUs = options.clockUs();
    this.periodUs = 1e6 / options.rateHz;
    this.sample = { values: new Float32Array(options.channels), seq: -1, arrivalUs: Number.NaN };
  }

  takeLatest(): SensorSample | null {
    const index = Math.floor((this.options.clockUs() - this.startUs) / this.periodUs);
    if (index <= this.lastIndex) return null;
    this.lastIndex = index;
    const arrivalUs = this.startUs + index * this.periodUs;
    const { channels, patternHz, pattern } = this.options;
    const values = this.sample.values;
    const timeS = arrivalUs / 1e6 - this.startUs / 1e6;
    for (let c = 0; c < channels; c++) {
      const phase = 2 * Math.PI * (patternHz * timeS + c / channels);
      values[c] = pattern === 'sine' ? 0.5 + 0.5 * Math.sin(phase) : Math.sin(phase) >= 0 ? 1 : 0;
    }
    this.sample.seq = index;
    this.sample.arrivalUs = arrivalUs;
    return this.sample;
  }
}

/**
 * Keeps the number of commands and copies of the first `historyLimit` for inspection (the loop
 * refills one command object per output, ports.ts).
 */
export class RecordingSink implements MotorSink {
  count = 0;
  readonly history: MotorCommand[] = [];

  constructor(
    readonly name: string,
    private readonly historyLimit = 1000,
  ) {}

  write(command: MotorCommand): void {
    this.count += 1;
    if (this.history.length < this.historyLimit) this.history.push(copyCommand(command));
  }
}

function copyCommand(command: MotorCommand): MotorCommand {
  const copy: MotorCommand = {
    values: command.values.slice(),
    sourceSeq: { ...command.sourceSeq },
    computedUs: command.computedUs,
  };
  if (command.safety !== undefined) copy.safety = command.safety;
  return copy;
}

/** Channel c adds gainPa·value to E cluster c mod Q. */
export class LinearClusterEncoder implements Encoder {
  constructor(
    readonly input: string,
    private readonly clusters: number,
    private readonly gainPa: number,
  ) {}

  encode(values: Float32Array, currentsPa: Float32Array): void {
    for (let c = 0; c < values.length; c++) {
      const value = values[c]!;
      if (!Number.isFinite(value)) throw new RangeError(`value ${c} is ${value}`);
      currentsPa[c % this.clusters]! += this.gainPa * value;
    }
  }
}

/**
 * Output j is the mean rate (Hz) of the E clusters j, j + outputs, j + 2·outputs, … times a gain.
 * Decodes into one buffer, refilled each tick.
 */
export class LinearRateDecoder implements Decoder {
  private readonly values: Float32Array;

  constructor(
    readonly output: string,
    private readonly outputs: number,
    private readonly clusters: number,
    private readonly gain: number,
  ) {
    this.values = new Float32Array(outputs);
  }

  decode(activity: PopulationActivity): Float32Array {
    const values = this.values;
    const seconds = activity.tickMs / 1000;
    for (let j = 0; j < this.outputs; j++) {
      let spikes = 0;
      let neurons = 0;
      for (let q = j; q < this.clusters; q += this.outputs) {
        spikes += activity.counts[q]!;
        neurons += activity.sizes[q]!;
      }
      values[j] = neurons > 0 ? (this.gain * spikes) / (neurons * seconds) : 0;
    }
    return values;
  }
}

function setting(options: EnvironmentOptions, key: string, fallback: number): number {
  const value = options.settings?.[key];
  if (value === undefined) return fallback;
  const number = Number(value);
  if (typeof value === 'boolean' || !Number.isFinite(number)) {
    throw new RangeError(`synthetic environment: setting "${key}" must be a number, got "${value}"`);
  }
  return number;
}

const SETTINGS = ['pattern', 'channels', 'rateHz', 'patternHz', 'gainPa', 'outputs'];

export async function createSyntheticEnvironment(options: EnvironmentOptions): Promise<Environment> {
  checkSettingKeys('synthetic', options.settings, SETTINGS);
  const layout: Layout = options.layout;
  const pattern = options.settings?.pattern ?? 'sine';
  if (pattern !== 'sine' && pattern !== 'step') {
    throw new RangeError(`synthetic environment: pattern must be sine or step, got "${pattern}"`);
  }
  const source = new SyntheticSource({
    name: 'synthetic',
    channels: setting(options, 'channels', Math.min(4, layout.clusters)),
    rateHz: setting(options, 'rateHz', 1000),
    patternHz: setting(options, 'patternHz', 2),
    pattern,
    clockUs: options.clockUs,
  });
  const sink = new RecordingSink('motor');
  return {
    name: 'synthetic',
    sources: [source],
    sinks: [sink],
    encoders: [new LinearClusterEncoder(source.name, layout.clusters, setting(options, 'gainPa', 5))],
    decoders: [new LinearRateDecoder(sink.name, setting(options, 'outputs', 2), layout.clusters, 1)],
    summary: () => ({ commands: sink.count }),
    close: async () => {},
  };
}
