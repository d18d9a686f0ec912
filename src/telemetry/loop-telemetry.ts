/**
 * The loop's measurements: HDR histograms (microseconds) of tick lateness, tick compute time and
 * end-to-end sensor→motor latency per input, and the tick counters. Recording is O(1) and
 * allocation-free, so it happens on the tick path; summaries and encoding happen off it.
 */
import * as hdr from 'hdr-histogram-js';
import { IntervalRecorder } from './interval.js';
import { type Timeline, TimelineRecorder } from './timeline.js';

export type Histogram = hdr.Histogram;

/** Percentiles every summary carries (µs). */
export interface LatencySummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  p9999: number;
  max: number;
}

export interface LoopCounters {
  /** Ticks that ran. */
  ticks: number;
  /** Ticks that missed their slot: dropped (skip policy) or started a whole tick late (late policy). */
  missed: number;
  /** Ticks whose own computation (read → update → write) took longer than one tick. */
  overruns: number;
}

/** 3 significant digits from 1 µs; grows as needed (a stalled process may be seconds late). */
export function newHistogram(): Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
  });
}

/** Summaries of the interval since the last `takeInterval`, for live telemetry. */
export interface IntervalSummaries {
  lateness: LatencySummary;
  compute: LatencySummary;
  e2e: LatencySummary;
}

/** Values are recorded as whole microseconds; negative ones (woken early) as 0. */
function toRecordable(us: number): number {
  return us > 0 ? Math.round(us) : 0;
}

export function summarize(histogram: Histogram): LatencySummary {
  const count = histogram.totalCount;
  if (count === 0) return { count, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, p9999: 0, max: 0 };
  const max = histogram.maxValue;
  // A percentile is reported as the top of its HDR bucket, which can lie above the largest value
  // recorded (p99.99 3489 > max 3488): no percentile is larger than the maximum.
  const at = (percentile: number) => Math.min(histogram.getValueAtPercentile(percentile), max);
  return {
    count,
    min: histogram.minNonZeroValue === Number.MAX_SAFE_INTEGER ? 0 : at(0),
    mean: histogram.mean,
    p50: at(50),
    p90: at(90),
    p99: at(99),
    p999: at(99.9),
    p9999: at(99.99),
    max,
  };
}

/** Network activity over a whole run (instance 0). */
export interface ActivitySummary {
  /** E clusters (the first `clusters` populations), then I clusters. */
  clusters: number;
  /** Mean rate (Hz) of each population over the ticks run. */
  populationRatesHz: number[];
  rateEHz: number;
  rateIHz: number;
  spikes: number;
}

export class LoopTelemetry {
  readonly lateness = newHistogram();
  readonly compute = newHistogram();
  /** All inputs together. */
  readonly e2e = newHistogram();
  readonly e2eByInput = new Map<string, Histogram>();
  readonly counters: LoopCounters = { ticks: 0, missed: 0, overruns: 0 };
  /** Per time bin: ticks, misses, worst lateness and compute, E/I rates (report's "when"). */
  private readonly timelineRecorder: TimelineRecorder;
  /** Spikes per population over the run, and the populations' sizes (set by the loop). */
  private populationSpikes = new Float64Array(0);
  private populationSizes = new Uint32Array(0);
  private clusters = 0;
  /** The same values since the last takeInterval(), for live snapshots. */
  private readonly interval = {
    lateness: new IntervalRecorder(),
    compute: new IntervalRecorder(),
    e2e: new IntervalRecorder(),
  };

  constructor(
    readonly tickUs: number,
    inputs: readonly string[] = [],
  ) {
    for (const input of inputs) this.e2eByInput.set(input, newHistogram());
    this.timelineRecorder = new TimelineRecorder(tickUs / 1000);
  }

  /** The network's populations (E clusters first), so spike counts become rates. */
  setPopulations(sizes: Uint32Array, clusters: number): void {
    this.populationSizes = Uint32Array.from(sizes);
    this.populationSpikes = new Float64Array(sizes.length);
    this.clusters = clusters;
  }

  /** One tick's spike counts per population (E clusters, then I clusters). */
  recordCounts(counts: Uint32Array): void {
    let excitatory = 0;
    let inhibitory = 0;
    const length = Math.min(counts.length, this.populationSpikes.length);
    for (let p = 0; p < length; p++) {
      const count = counts[p]!;
      this.populationSpikes[p]! += count;
      if (p < this.clusters) excitatory += count;
      else inhibitory += count;
    }
    this.timelineRecorder.spikes(excitatory, inhibitory);
  }

  /** Rates over the whole run; null before setPopulations. */
  activity(): ActivitySummary | null {
    if (this.populationSizes.length === 0) return null;
    const seconds = (this.counters.ticks * this.tickUs) / 1e6;
    const rate = (spikes: number, size: number) => (seconds > 0 && size > 0 ? spikes / (size * seconds) : 0);
    let spikesE = 0;
    let spikesI = 0;
    let sizeE = 0;
    let sizeI = 0;
    this.populationSpikes.forEach((spikes, p) => {
      if (p < this.clusters) {
        spikesE += spikes;
        sizeE += this.populationSizes[p]!;
      } else {
        spikesI += spikes;
        sizeI += this.populationSizes[p]!;
      }
    });
    return {
      clusters: this.clusters,
      populationRatesHz: Array.from(this.populationSpikes, (spikes, p) =>
        rate(spikes, this.populationSizes[p]!),
      ),
      rateEHz: rate(spikesE, sizeE),
      rateIHz: rate(spikesI, sizeI),
      spikes: spikesE + spikesI,
    };
  }

  timeline(): Timeline {
    let sizeE = 0;
    let sizeI = 0;
    this.populationSizes.forEach((size, p) => {
      if (p < this.clusters) sizeE += size;
      else sizeI += size;
    });
    return this.timelineRecorder.timeline(sizeE, sizeI);
  }

  /**
   * A tick started `latenessUs` after its deadline, after `dropped` ticks were skipped (see
   * recordDropped); `missedSlot`: it started a whole tick or more late.
   */
  recordStart(
    latenessUs: number,
    dropped: number,
    firstDroppedLatenessUs: number,
    missedSlot: boolean,
  ): void {
    this.recordDropped(dropped, firstDroppedLatenessUs);
    const value = toRecordable(latenessUs);
    this.lateness.recordValue(value);
    this.interval.lateness.record(value);
    this.timelineRecorder.slot(value, missedSlot);
    if (missedSlot) this.counters.missed += 1;
  }

  /**
   * Dropped ticks are recorded too, each with the lateness it had when the loop noticed (one tick
   * apart): HDR's recordValueWithExpectedInterval correction for coordinated omission, done
   * explicitly so that the histogram counts exactly one value per scheduled tick whatever the rounding.
   */
  recordDropped(dropped: number, firstDroppedLatenessUs: number): void {
    for (let k = 0; k < dropped; k++) {
      const value = toRecordable(firstDroppedLatenessUs - k * this.tickUs);
      this.lateness.recordValue(value);
      this.interval.lateness.record(value);
      this.timelineRecorder.slot(value, true);
    }
    this.counters.missed += dropped;
  }

  recordEnd(computeUs: number): void {
    const value = toRecordable(computeUs);
    this.compute.recordValue(value);
    this.interval.compute.record(value);
    this.timelineRecorder.ran(value);
    this.counters.ticks += 1;
    // Counted without a branch: the first overrun, often well into a run, would otherwise reach
    // optimised code on a path it has no type feedback for and send the tick back to unoptimised
    // code (allocating) until V8 optimises it again (the tick thread allocates nothing per tick).
    this.counters.overruns += computeUs > this.tickUs ? 1 : 0;
  }

  recordEndToEnd(input: string, latencyUs: number): void {
    const value = toRecordable(latencyUs);
    this.e2e.recordValue(value);
    this.interval.e2e.record(value);
    let histogram = this.e2eByInput.get(input);
    if (!histogram) {
      histogram = newHistogram();
      this.e2eByInput.set(input, histogram);
    }
    histogram.recordValue(value);
  }

  /** Summaries since the previous call (exact, and cheap: a few hundred values), then a new interval. */
  takeInterval(): IntervalSummaries {
    const { lateness, compute, e2e } = this.interval;
    return { lateness: lateness.take(), compute: compute.take(), e2e: e2e.take() };
  }
}
