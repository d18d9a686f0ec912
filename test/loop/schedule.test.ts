import { describe, expect, it } from 'vitest';
import { TickSchedule } from '../../src/loop/schedule.js';
import { LoopTelemetry } from '../../src/telemetry/loop-telemetry.js';

describe('TickSchedule', () => {
  it('puts tick k at t0 + k·tick and runs ticks in order when on time', () => {
    const schedule = new TickSchedule(5000, 1000, 'skip');
    expect(schedule.nextDeadlineUs).toBe(5000);
    const first = schedule.begin(5003);
    expect(first).toMatchObject({ tick: 0, deadlineUs: 5000, latenessUs: 3, dropped: 0, missedSlot: false });
    expect(schedule.nextDeadlineUs).toBe(6000);
    expect(schedule.begin(6000)).toMatchObject({ tick: 1, latenessUs: 0, dropped: 0 });
  });

  it('skip drops the ticks whose slot has passed and keeps the phase', () => {
    const schedule = new TickSchedule(0, 1000, 'skip');
    schedule.begin(0);
    // Tick 0 overran until 3.5 ticks: ticks 1 and 2 are dropped, tick 3 runs half a tick late.
    const start = schedule.begin(3500);
    expect(start).toMatchObject({
      tick: 3,
      deadlineUs: 3000,
      latenessUs: 500,
      dropped: 2,
      missedSlot: false,
    });
    expect(start.firstDroppedLatenessUs).toBe(2500);
    expect(schedule.nextDeadlineUs).toBe(4000);
  });

  it('late runs every tick, behind schedule, until it has caught up', () => {
    const schedule = new TickSchedule(0, 1000, 'late');
    schedule.begin(0);
    const behind = schedule.begin(3500);
    expect(behind).toMatchObject({ tick: 1, latenessUs: 2500, dropped: 0, missedSlot: true });
    expect(schedule.begin(3600)).toMatchObject({ tick: 2, latenessUs: 1600, missedSlot: true });
    expect(schedule.begin(3700)).toMatchObject({ tick: 3, latenessUs: 700, missedSlot: false });
    // Caught up: the next tick is due in the future again.
    expect(schedule.nextDeadlineUs).toBe(4000);
  });

  it('does not drift over a million ticks with jittery wake-ups and compute times', () => {
    const tickUs = 1000 / 3; // not representable exactly: accumulating it would drift
    const t0 = 1e9;
    const schedule = new TickSchedule(t0, tickUs, 'skip');
    let seed = 12345;
    const random = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    let now = t0;
    let worst = 0;
    let dropped = 0;
    let maxLatenessUs = 0;
    let accumulated = t0;
    const ticks = 1_000_000;
    for (let k = 0; k < ticks; k++) {
      now = Math.max(now, schedule.nextDeadlineUs) + random() * 50; // the sleeper wakes a little late
      const start = schedule.begin(now);
      dropped += start.dropped;
      maxLatenessUs = Math.max(maxLatenessUs, start.latenessUs);
      worst = Math.max(worst, Math.abs(start.deadlineUs - (t0 + k * tickUs)));
      now += random() * 200; // compute
      accumulated += tickUs;
    }
    expect(schedule.pendingTick).toBe(ticks);
    expect(dropped).toBe(0);
    // Every tick started within the wake-up jitter of its absolute deadline, the last as the first.
    expect(maxLatenessUs).toBeLessThanOrEqual(50);
    expect(worst).toBe(0);
    expect(schedule.nextDeadlineUs).toBe(t0 + ticks * tickUs);
    // What a loop that adds the tick length each time would have drifted to (it is not what we do).
    expect(accumulated).not.toBe(t0 + ticks * tickUs);
  });

  it('rejects bad parameters with a message naming them', () => {
    expect(() => new TickSchedule(0, 0, 'skip')).toThrow(/tick must be > 0/);
    expect(() => new TickSchedule(0, 1000, 'sometimes' as 'skip')).toThrow(/unknown late policy "sometimes"/);
  });
});

describe('lateness with coordinated-omission correction', () => {
  it('records every scheduled tick: run ticks and dropped ones', () => {
    const schedule = new TickSchedule(0, 1000, 'skip');
    const telemetry = new LoopTelemetry(1000);
    const times = [0, 1000, 2010, 7400, 8000, 9000];
    for (const now of times) {
      const start = schedule.begin(now);
      telemetry.recordStart(start.latenessUs, start.dropped, start.firstDroppedLatenessUs, start.missedSlot);
      telemetry.recordEnd(100);
    }
    // 7400: ticks 3..6 dropped (lateness 4400, 3400, 2400, 1400), tick 7 runs 400 late.
    expect(telemetry.counters).toEqual({ ticks: 6, missed: 4, overruns: 0 });
    expect(telemetry.lateness.totalCount).toBe(10);
    expect(telemetry.lateness.maxValue).toBeGreaterThanOrEqual(4400);
    expect(telemetry.lateness.getValueAtPercentile(50)).toBeLessThan(1000);
  });
});

describe('the end of a bounded run', () => {
  it('drops the remaining ticks when the last slot has passed, and nothing before', () => {
    const schedule = new TickSchedule(0, 1000, 'skip');
    schedule.begin(0);
    expect(schedule.dropRemaining(9999, 10)).toEqual({ dropped: 0, firstDroppedLatenessUs: 0 });
    expect(schedule.pendingTick).toBe(1);
    expect(schedule.dropRemaining(10_200, 10)).toEqual({ dropped: 9, firstDroppedLatenessUs: 9200 });
    expect(schedule.pendingTick).toBe(10);
  });
});
