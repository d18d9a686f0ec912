import { describe, expect, it } from 'vitest';
import { buildMapping } from '../../../src/codec/mapping.js';
import { arenaControllerMapping, clusterDirectionsRad } from '../../../src/env/arena/controller.js';

const deg = Math.PI / 180;
const rays = [-90, -60, -30, 0, 30, 60, 90].map((a) => a * deg);

function currents(ranges: number[], bearingRad: number): Float32Array {
  const built = buildMapping(arenaControllerMapping({ clusters: 20, sensorAnglesRad: rays, maxRangeM: 1 }), {
    clusters: 20,
    tickMs: 1,
  });
  const out = new Float32Array(40);
  for (const encoder of built.encoders) {
    encoder.encode(
      encoder.input === 'ranges' ? Float32Array.from(ranges) : Float32Array.of(bearingRad, 1),
      out,
    );
  }
  return out;
}

/** Cluster pointing closest to an angle. */
const clusterAt = (angleRad: number) => {
  const d = clusterDirectionsRad(20).map((t) =>
    Math.abs(Math.atan2(Math.sin(t - angleRad), Math.cos(t - angleRad))),
  );
  return d.indexOf(Math.min(...d));
};

describe('default arena controller', () => {
  it('spreads preferred directions around the circle with one cluster straight ahead', () => {
    const directions = clusterDirectionsRad(20);
    expect(directions[10]).toBe(0);
    expect(directions[15]).toBeCloseTo(Math.PI / 2, 12);
    expect(directions[5]).toBeCloseTo(-Math.PI / 2, 12);
  });

  it('puts the target bump on the clusters facing the target, E clusters only', () => {
    const free = [1, 1, 1, 1, 1, 1, 1];
    const c = currents(free, 60 * deg);
    const peak = Array.from(c.subarray(0, 20)).indexOf(Math.max(...c.subarray(0, 20)));
    expect(peak).toBe(clusterAt(60 * deg));
    expect(Array.from(c.subarray(20)).every((x) => x === 0)).toBe(true);
  });

  it('an obstacle on the left inhibits left-facing clusters and drives right-facing ones', () => {
    const free = currents([1, 1, 1, 1, 1, 1, 1], 0);
    const left = currents([1, 1, 1, 1, 1, 0.2, 1], 0); // something 0.2 m away at +60°
    expect(left[clusterAt(60 * deg)]!).toBeLessThan(free[clusterAt(60 * deg)]! - 2);
    expect(left[clusterAt(-30 * deg)]!).toBeGreaterThan(free[clusterAt(-30 * deg)]! + 1);
  });

  it('an obstacle dead ahead drives both sides equally', () => {
    const ahead = currents([1, 1, 1, 0.1, 1, 1, 1], 180 * deg);
    expect(ahead[clusterAt(90 * deg)]!).toBeCloseTo(ahead[clusterAt(-90 * deg)]!, 5);
    expect(ahead[clusterAt(0)]!).toBeLessThan(-2);
  });

  it('offers a winner-take-all variant with one command per cluster', () => {
    const mapping = arenaControllerMapping({
      clusters: 20,
      sensorAnglesRad: rays,
      maxRangeM: 1,
      decoder: 'wta',
    });
    const decoder = mapping.decoders[0]!;
    expect(decoder.kind).toBe('wta');
    if (decoder.kind !== 'wta') return;
    expect(decoder.values[10]).toEqual([0.3, 0]); // straight ahead: full speed, no turn
    expect(decoder.values[15]![0]).toBeCloseTo(0, 12); // sideways: turn on the spot
    expect(decoder.values[15]![1]).toBeCloseTo(1.5 * (Math.PI / 2), 12);
  });
});
