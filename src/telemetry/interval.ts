/**
 * Exact percentiles of a short interval (the live feed's 100 ms between snapshots) without HDR:
 * the values go into a preallocated ring, and a snapshot sorts the few hundred of them. Reading
 * percentiles of an HDR histogram scans its whole counts array (milliseconds at 3 significant
 * digits), which would stall the loop's thread every snapshot.
 */
import type { LatencySummary } from './loop-telemetry.js';

export class IntervalRecorder {
  private readonly values: Float64Array;
  private next = 0;
  private count = 0;
  private sum = 0;
  private max = 0;
  private min = Number.POSITIVE_INFINITY;

  /** Percentiles cover the newest `capacity` values of an interval; count, mean, min and max all of them. */
  constructor(capacity = 8192) {
    this.values = new Float64Array(capacity);
  }

  record(value: number): void {
    this.values[this.next] = value;
    this.next = (this.next + 1) % this.values.length;
    this.count += 1;
    this.sum += value;
    if (value > this.max) this.max = value;
    if (value < this.min) this.min = value;
  }

  /** The interval's summary; then a new interval starts. */
  take(): LatencySummary {
    const count = this.count;
    const kept = this.values.slice(0, Math.min(count, this.values.length)).sort();
    const at = (percentile: number) =>
      kept.length === 0
        ? 0
        : // The nearest rank; the small guard keeps 99.9 % of 1000 at rank 999 despite rounding.
          kept[Math.max(0, Math.ceil((percentile / 100) * kept.length - 1e-9) - 1)]!;
    const summary: LatencySummary = {
      count,
      min: count === 0 ? 0 : this.min,
      mean: count === 0 ? 0 : this.sum / count,
      p50: at(50),
      p90: at(90),
      p99: at(99),
      p999: at(99.9),
      p9999: at(99.99),
      max: this.max,
    };
    this.next = 0;
    this.count = 0;
    this.sum = 0;
    this.max = 0;
    this.min = Number.POSITIVE_INFINITY;
    return summary;
  }
}
