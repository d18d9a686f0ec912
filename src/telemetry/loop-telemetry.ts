/**
 * The loop's measurements: HDR histograms (microseconds) of tick lateness, tick compute time and
 * end-to-end sensor→motor latency per input, and the tick counters. Recording is O(1) and
 * allocation-free, so it happens on the tick path; summaries and encoding happen off it.
 */
import * as hdr from 'hdr-histogram-js';
import { IntervalRecorder } from './interval.js';

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
  const at = (percentile: number) => histogram.getValueAtPercentile(percentile);
  return {
    count,
    min: histogram.minNonZeroValue === Number.MAX_SAFE_INTEGER ? 0 : at(0),
    mean: histogram.mean,
    p50: at(50),
    p90: at(90),
    p99: at(99),
    p999: at(99.9),
    p9999: at(99.99),
    max: histogram.maxValue,
  };
}

export class LoopTelemetry {
  readonly lateness = newHistogram();
  readonly compute = newHistogram();
  /** All inputs together. */
  readonly e2e = newHistogram();
  readonly e2eByInput = new Map<string, Histogram>();
  readonly counters: LoopCounters = { ticks: 0, missed: 0, overruns: 0 };
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
    }
    this.counters.missed += dropped;
  }

  recordEnd(computeUs: number): void {
    const value = toRecordable(computeUs);
    this.compute.recordValue(value);
    this.interval.compute.record(value);
    this.counters.ticks += 1;
    if (computeUs > this.tickUs) this.counters.overruns += 1;
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
