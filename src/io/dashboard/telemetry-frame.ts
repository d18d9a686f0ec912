/**
 * Builds telemetry frames from the loop's live snapshots, off the tick path: rates and latency
 * summaries as they are, spikes thinned to at most `rasterNeurons` evenly spaced neurons, the
 * end-to-end latency histogram (recomputed only every few frames: it walks the whole HDR
 * histogram), and the arena's view when the environment has one.
 */

import type { TelemetrySnapshot } from '../../telemetry/live.js';
import type { Histogram, LatencySummary as LoopSummary } from '../../telemetry/loop-telemetry.js';
import type { ArenaView, LatencyHistogram, LatencySummary, TelemetryFrame } from '../ws/protocol.js';

export interface TelemetryFrameOptions {
  neurons: number;
  tickMs: number;
  /** Neurons shown in the raster (evenly spaced ids). */
  rasterNeurons: number;
  /** Spikes per frame at most; the rest are counted in spikes.dropped. */
  maxSpikes: number;
}

const pick = (s: LoopSummary): LatencySummary => ({
  count: s.count,
  p50: s.p50,
  p99: s.p99,
  p999: s.p999,
  max: s.max,
});

export function telemetryFrame(
  snapshot: TelemetrySnapshot,
  options: TelemetryFrameOptions,
  extra: { histogram: LatencyHistogram | null; arena: ArenaView | null; counters: Record<string, number> },
): TelemetryFrame {
  const stride = Math.max(1, Math.ceil(options.neurons / options.rasterNeurons));
  const steps: number[] = [];
  const ids: number[] = [];
  let dropped = 0;
  for (const batch of snapshot.recentSpikes) {
    for (const id of batch.ids) {
      if (id % stride !== 0) continue;
      if (ids.length >= options.maxSpikes) {
        dropped++;
        continue;
      }
      steps.push(batch.step);
      ids.push(id);
    }
  }
  return {
    t: 'telemetry',
    tick: snapshot.counters.ticks,
    ts: snapshot.atUs,
    tickMs: options.tickMs,
    rates: Float32Array.from(snapshot.populationRatesHz),
    spikes: { step: Uint32Array.from(steps), id: Uint32Array.from(ids), neurons: options.neurons, dropped },
    latency: {
      e2e: pick(snapshot.e2eUs),
      lateness: pick(snapshot.latenessUs),
      compute: pick(snapshot.computeUs),
    },
    histogram: extra.histogram,
    counters: { ...snapshot.counters, ...extra.counters },
    arena: extra.arena,
  };
}

/** Percentiles sampled to rebuild a bucketed view: every 2 % up to 98 %, then the tail. */
const PERCENTILES = [...Array.from({ length: 49 }, (_, k) => 2 * k + 1), 99, 99.5, 99.9, 99.99, 100];

/**
 * Log-spaced buckets from 10 µs to 100 ms (the last one also holds everything slower), counts
 * estimated from sampled percentiles (each stands for the share of values up to the next one).
 * This costs ~0.2 ms on the thread that ticks, so the dashboard does it only every few frames;
 * walking the HDR counts array instead was measured slower (it spans every recorded magnitude).
 */
export function latencyHistogram(histogram: Histogram, buckets = 40): LatencyHistogram {
  const edgesUs = new Float32Array(buckets);
  const counts = new Uint32Array(buckets);
  const lowUs = 10;
  const highUs = 100_000;
  for (let b = 0; b < buckets; b++) edgesUs[b] = lowUs * (highUs / lowUs) ** ((b + 1) / buckets);
  const total = histogram.totalCount;
  if (total === 0) return { edgesUs, counts };
  let previous = 0;
  for (const percentile of PERCENTILES) {
    const value = histogram.getValueAtPercentile(percentile);
    const share = ((percentile - previous) / 100) * total;
    previous = percentile;
    let b = 0;
    while (b < buckets - 1 && value > edgesUs[b]!) b++;
    counts[b]! += Math.round(share);
  }
  return { edgesUs, counts };
}
