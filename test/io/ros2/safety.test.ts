import { describe, expect, it } from 'vitest';
import { CommandLimiter, Watchdog } from '../../../src/io/ros2/safety.js';

describe('CommandLimiter', () => {
  it('clamps every value into its range', () => {
    const limiter = new CommandLimiter([
      { min: -0.22, max: 0.22, maxRatePerS: Number.POSITIVE_INFINITY },
      { min: -2, max: 2, maxRatePerS: Number.POSITIVE_INFINITY },
    ]);
    const out = new Float64Array(2);
    limiter.apply([5, -7], 0, out);
    expect(Array.from(out)).toEqual([0.22, -2]);
  });

  it('limits the change per second between commands (clock-driven, no timers)', () => {
    const limiter = new CommandLimiter([{ min: -1, max: 1, maxRatePerS: 2 }]);
    const out = new Float64Array(1);
    limiter.apply([0], 0, out);
    limiter.apply([1], 100_000, out); // 0.1 s → at most 0.2
    expect(out[0]).toBeCloseTo(0.2, 12);
    limiter.apply([1], 200_000, out);
    expect(out[0]).toBeCloseTo(0.4, 12);
    limiter.apply([-1], 250_000, out); // 0.05 s down
    expect(out[0]).toBeCloseTo(0.3, 12);
  });

  it('ramps up from a stop command after resetTo', () => {
    const limiter = new CommandLimiter([{ min: -1, max: 1, maxRatePerS: 1 }]);
    const out = new Float64Array(1);
    limiter.apply([1], 0, out);
    expect(out[0]).toBe(1);
    limiter.resetTo([0], 1_000_000);
    limiter.apply([1], 1_500_000, out);
    expect(out[0]).toBeCloseTo(0.5, 12);
  });
});

describe('Watchdog', () => {
  const options = { timeoutMs: 100, maxLatenessMs: 20 };

  it('fires once when commands stop, and re-arms when they resume', () => {
    const dog = new Watchdog(options);
    expect(dog.check(1_000_000)).toBeNull(); // nothing written yet: nothing to stop
    expect(dog.onCommand(0, 0)).toBe('command');
    expect(dog.check(100_000)).toBeNull();
    expect(dog.check(100_001)).toBe('timeout');
    expect(dog.check(500_000)).toBeNull(); // once per incident
    expect(dog.state).toBe('timeout');
    expect(dog.onCommand(600_000, 0)).toBe('command');
    expect(dog.state).toBeNull();
    expect(dog.check(700_001)).toBe('timeout');
    expect(dog.trips).toBe(2);
  });

  it('stops on an overrun beyond the lateness limit and holds until ticks are on time', () => {
    const dog = new Watchdog(options);
    expect(dog.onCommand(0, 19_999)).toBe('command');
    expect(dog.onCommand(1_000, 20_001)).toBe('stop');
    expect(dog.onCommand(2_000, 50_000)).toBe('none'); // still late: stay stopped, no repeated stops
    expect(dog.onCommand(3_000, 0)).toBe('command');
    expect(dog.trips).toBe(1);
  });
});
