import { describe, expect, it } from 'vitest';
import { checkBindAccess, isLoopbackHost, tokenMatches } from '../../../src/io/ws/access.js';
import { backoffDelayMs, DEFAULT_BACKOFF } from '../../../src/io/ws/backoff.js';
import { FrameRateLimiter } from '../../../src/io/ws/limiter.js';

describe('FrameRateLimiter', () => {
  it('allows a burst, then the sustained rate', () => {
    const limiter = new FrameRateLimiter(1000, 5, 0);
    const burst = Array.from({ length: 8 }, () => limiter.allow(0));
    expect(burst.filter(Boolean)).toHaveLength(5);
    // 1000 frames/s refills one token per ms.
    expect(limiter.allow(1000)).toBe(true);
    expect(limiter.allow(1000)).toBe(false);
    expect(limiter.allow(2000)).toBe(true);
    // A long pause refills only up to the burst size.
    let allowed = 0;
    for (let k = 0; k < 20; k++) if (limiter.allow(10_000_000)) allowed++;
    expect(allowed).toBe(5);
  });
});

describe('backoff', () => {
  it('grows exponentially to the cap, with jitter shortening each delay at most by its fraction', () => {
    const options = { ...DEFAULT_BACKOFF, jitter: 0 };
    expect([0, 1, 2, 3, 10].map((a) => backoffDelayMs(a, options, 0.9))).toEqual([100, 200, 400, 800, 5000]);
    expect(backoffDelayMs(2, { ...options, jitter: 0.5 }, 0.5)).toBe(300);
  });
});

describe('bind access', () => {
  it('treats only loopback hosts as private', () => {
    expect(['127.0.0.1', '127.1.2.3', 'localhost', '::1'].every(isLoopbackHost)).toBe(true);
    expect(['0.0.0.0', '192.168.1.4', '::', 'example.org'].some(isLoopbackHost)).toBe(false);
  });

  it('requires a token for any other bind address', () => {
    expect(() => checkBindAccess('0.0.0.0', undefined)).toThrow(/token is required/);
    expect(() => checkBindAccess('0.0.0.0', 'secret')).not.toThrow();
    expect(() => checkBindAccess('127.0.0.1', undefined)).not.toThrow();
  });

  it('compares tokens exactly', () => {
    expect(tokenMatches('abc', 'abc')).toBe(true);
    expect(tokenMatches('abc', 'abd')).toBe(false);
    expect(tokenMatches('abc', 'ab')).toBe(false);
    expect(tokenMatches('abc', null)).toBe(false);
  });
});
