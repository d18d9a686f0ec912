import { describe, expect, it } from 'vitest';
import { IntervalRecorder } from '../../src/telemetry/interval.js';

describe('IntervalRecorder', () => {
  it('gives exact percentiles of one interval, then starts the next', () => {
    const recorder = new IntervalRecorder();
    for (let v = 1; v <= 1000; v++) recorder.record(1001 - v);
    expect(recorder.take()).toEqual({
      count: 1000,
      min: 1,
      mean: 500.5,
      p50: 500,
      p90: 900,
      p99: 990,
      p999: 999,
      p9999: 1000,
      max: 1000,
    });
    expect(recorder.take()).toMatchObject({ count: 0, min: 0, p50: 0, max: 0 });
    recorder.record(7);
    expect(recorder.take()).toMatchObject({ count: 1, min: 7, p50: 7, p9999: 7, max: 7 });
  });

  it('keeps the newest values when an interval outgrows its capacity; count and max cover all', () => {
    const recorder = new IntervalRecorder(4);
    for (const v of [100, 1, 2, 3, 4]) recorder.record(v);
    expect(recorder.take()).toMatchObject({ count: 5, max: 100, p50: 2, p9999: 4 });
  });
});
