/**
 * A closed loop without a clock: read → update → write → step, as fast as the engine goes. For
 * tests and evaluations of a controller over long simulated time (the real-time loop in src/loop
 * does the same with deadlines and telemetry).
 */
import type { PopulationActivity } from '../../codec/types.js';
import type { Engine } from '../../engine/engine.js';
import type { Environment, SensorSample } from '../../loop/ports.js';

export interface OfflineLoopOptions {
  engine: Engine;
  env: Environment;
  ticks: number;
  tickMs: number;
  /** Engine substeps per tick (tickMs / dt). */
  substeps: number;
  /** Called after every tick (e.g. to record a trajectory). */
  onTick?: (tick: number) => void;
}

export interface OfflineLoopResult {
  ticks: number;
  /** Encoder or decoder errors met along the way (a count; the loop carried on). */
  codecErrors: number;
  spikes: number;
}

export async function runOfflineLoop(options: OfflineLoopOptions): Promise<OfflineLoopResult> {
  const { engine, env, ticks, tickMs, substeps } = options;
  const { layout } = engine;
  const sizes = Uint32Array.from({ length: layout.populationCount }, (_, p) =>
    p < layout.clusters ? layout.nEPerCluster : layout.nIPerCluster,
  );
  const currentsPa = new Float32Array(layout.populationCount);
  const activity: PopulationActivity = { counts: new Uint32Array(0), sizes, tickMs };
  const latest = new Map<string, SensorSample>();
  const sinkOf = new Map(env.sinks.map((sink) => [sink.name, sink]));
  let codecErrors = 0;
  let spikes = 0;
  for (let tick = 0; tick < ticks; tick++) {
    currentsPa.fill(0);
    for (const source of env.sources) {
      const sample = source.takeLatest();
      if (sample) latest.set(source.name, sample);
    }
    for (const encoder of env.encoders) {
      const sample = latest.get(encoder.input);
      if (!sample) continue;
      try {
        encoder.encode(sample.values, currentsPa);
      } catch {
        codecErrors++;
      }
    }
    engine.setPopulationCurrents(0, currentsPa);
    activity.counts = (await engine.run(substeps)).subarray(0, layout.populationCount);
    for (let p = 0; p < activity.counts.length; p++) spikes += activity.counts[p]!;
    const sourceSeq: Record<string, number> = {};
    for (const [name, sample] of latest) sourceSeq[name] = sample.seq;
    for (const decoder of env.decoders) {
      const sink = sinkOf.get(decoder.output);
      if (!sink) throw new Error(`decoder output "${decoder.output}" has no motor sink`);
      sink.write({ values: decoder.decode(activity), sourceSeq, computedUs: 0 });
    }
    env.step?.(tickMs);
    options.onTick?.(tick);
  }
  return { ticks, codecErrors, spikes };
}
