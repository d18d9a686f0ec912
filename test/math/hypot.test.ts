import { describe, expect, it } from 'vitest';
import { hypot } from '../../src/math/hypot.js';

/** Bits of a float64, so -0/+0 and NaN payloads compare exactly. */
function bits(x: number): bigint {
  return new BigUint64Array(new Float64Array([x]).buffer)[0]!;
}

describe('hypot', () => {
  it('gives Math.hypot(dx, dy) bit for bit: special values, arena-sized values, wide magnitudes, random bit patterns', () => {
    const special = [
      0,
      -0,
      1,
      -1,
      3,
      4,
      Infinity,
      -Infinity,
      Number.NaN,
      Number.MIN_VALUE,
      Number.MAX_VALUE,
      1e-300,
      1e300,
    ];
    const pairs: [number, number][] = [];
    for (const a of special) for (const b of special) pairs.push([a, b]);
    // A fixed xorshift stream: the same pairs every run.
    let state = 0x9e3779b9;
    const next = () => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) / 2 ** 32;
    };
    const raw = new Float64Array(1);
    const words = new Uint32Array(raw.buffer);
    const randomBits = () => {
      words[0] = next() * 2 ** 32;
      words[1] = next() * 2 ** 32;
      return raw[0]!;
    };
    for (let k = 0; k < 200_000; k++) {
      pairs.push([next() * 8 - 4, next() * 8 - 4]);
      pairs.push([(next() - 0.5) * 10 ** (next() * 40 - 20), (next() - 0.5) * 10 ** (next() * 40 - 20)]);
      pairs.push([randomBits(), randomBits()]);
    }
    const differing = pairs.filter(([a, b]) => bits(hypot(a, b)) !== bits(Math.hypot(a, b)));
    expect(differing.slice(0, 5)).toEqual([]);
    expect(pairs.length).toBeGreaterThan(600_000);
  });
});
