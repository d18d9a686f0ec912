/**
 * What a replay feeds the tick loop instead of the live environment: the recorded run's encoders
 * and decoders (rebuilt from the recording's metadata), its samples tick by tick, and its
 * stale-input safety decisions (recorded-safety.ts).
 */
import { buildMapping } from '../codec/mapping.js';
import type { Decoder, Encoder } from '../codec/types.js';
import { createEnvironment } from '../env/registry.js';
import { ros2Codecs } from '../env/ros2/codecs.js';
import type { Environment, MotorCommand, MotorSink, SensorSample, SensorSource } from '../loop/ports.js';
import type { SafetySettings } from '../loop/safety.js';
import type { Layout } from '../model/network.js';
import type { RunDescription } from './channels.js';
import type { RecordedTick, Recording } from './reader.js';
import { replaySafety, staleInputsOf } from './recorded-safety.js';

/** The recorded run's encoders and decoders for a network of this layout, without its environment. */
export async function recordedCodecs(
  description: RunDescription,
  layout: Layout,
  path: string,
): Promise<{ encoders: readonly Encoder[]; decoders: readonly Decoder[] }> {
  const context = { clusters: layout.clusters, tickMs: description.tickMs };
  // A ROS 2 run's codecs come from its robot params (the mapping plus the Stimulus input).
  if (description.robot) {
    try {
      return ros2Codecs(description.robot, context);
    } catch (error) {
      throw new Error(
        `cannot replay ${path}: the codec mapping of robot "${description.robot.robot}" does not fit this network (${layout.clusters} clusters): ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  if (description.env === 'ros2') {
    throw new Error(
      `cannot replay ${path}: this ROS 2 recording holds no robot params (it was made by an older spikeloop); record the run again`,
    );
  }
  if (description.mapping) return buildMapping(description.mapping, context);
  if (description.env === 'synthetic') {
    const env = await createEnvironment('synthetic', {
      layout,
      tickMs: description.tickMs,
      seed: description.seed,
      clockUs: () => 0,
      settings: description.envSettings,
    });
    await env.close();
    return { encoders: env.encoders, decoders: env.decoders };
  }
  throw new Error(
    `cannot replay a recording of the "${description.env}" environment: its codec mapping is not in the recording`,
  );
}

/** A source that hands out, tick by tick, the samples the recorded run took. */
class RecordedSource implements SensorSource {
  current: RecordedTick | null = null;
  stale: ReadonlySet<string> = new Set();
  readonly isLive: (() => boolean) | undefined;

  constructor(
    readonly name: string,
    forceStaleness: boolean,
  ) {
    this.isLive = forceStaleness ? () => !this.stale.has(this.name) : undefined;
  }

  takeLatest(): SensorSample | null {
    const sample = this.current?.samples.get(this.name);
    return sample ? { values: sample.values, seq: sample.seq, arrivalUs: sample.arrivalUs } : null;
  }
}

class NullSink implements MotorSink {
  constructor(readonly name: string) {}
  write(_command: MotorCommand): void {}
}

/** The environment of a replay: recorded samples in, commands nowhere (the comparator reads them). */
export class RecordedInputs implements Environment {
  readonly name = 'replay';
  readonly sources: RecordedSource[];
  readonly sinks: MotorSink[];
  /** Absent for recordings without safety metadata: the loop's defaults apply, as they did then. */
  readonly safety?: SafetySettings;
  private cursor = 0;

  constructor(
    private readonly recording: Recording,
    readonly encoders: readonly Encoder[],
    readonly decoders: readonly Decoder[],
  ) {
    const recorded = recording.description.safety;
    this.sources = recording.inputs.map((name) => new RecordedSource(name, recorded !== undefined));
    this.sinks = recording.outputs.map((name) => new NullSink(name));
    if (recorded) this.safety = replaySafety(recorded);
    this.moveTo(0);
  }

  private moveTo(index: number): void {
    const tick = this.recording.ticks[index] ?? null;
    const recorded = this.recording.description.safety;
    const stale = tick && recorded ? staleInputsOf(tick, this.recording.inputs, recorded) : new Set<string>();
    for (const source of this.sources) {
      source.current = tick;
      source.stale = stale;
    }
  }

  step(): void {
    this.moveTo(++this.cursor);
  }

  async close(): Promise<void> {}
}
