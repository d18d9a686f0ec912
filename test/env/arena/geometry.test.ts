import { describe, expect, it } from 'vitest';
import {
  type CircleShape,
  circleContact,
  clearance,
  rayCircle,
  raySegment,
  type SegmentShape,
  wrapAngle,
} from '../../../src/env/arena/geometry.js';

const circle: CircleShape = { kind: 'circle', x: 3, y: 0, radiusM: 1 };
const wall: SegmentShape = { kind: 'segment', x1: 2, y1: -1, x2: 2, y2: 1 };

describe('ray casting', () => {
  it('hits a circle at the near surface', () => {
    expect(rayCircle(circle, 0, 0, 1, 0)).toBeCloseTo(2, 12);
    // Tangent-ish ray at height 0.6: x = 3 − sqrt(1 − 0.36) = 2.2.
    expect(rayCircle(circle, 0, 0.6, 1, 0)).toBeCloseTo(2.2, 12);
    expect(rayCircle(circle, 0, 1.5, 1, 0)).toBe(Infinity);
    expect(rayCircle(circle, 0, 0, -1, 0)).toBe(Infinity); // behind the origin
    expect(rayCircle(circle, 3, 0, 1, 0)).toBeCloseTo(1, 12); // from inside: the way out
  });

  it('hits a segment within its ends only', () => {
    expect(raySegment(wall, 0, 0, 1, 0)).toBeCloseTo(2, 12);
    const d = Math.SQRT1_2;
    expect(raySegment(wall, 0, 0, d, d)).toBe(Infinity); // would cross x = 2 at y = 2, past the end
    expect(raySegment(wall, 0, 0, 0.96, 0.28)).toBeCloseTo(2 / 0.96, 12); // crosses at (2, 0.583)
    expect(raySegment(wall, 0, 3, 1, 0)).toBe(Infinity);
    expect(raySegment(wall, 3, 0, 1, 0)).toBe(Infinity);
    expect(raySegment(wall, 0, 0, 0, 1)).toBe(Infinity); // parallel
  });
});

describe('contacts', () => {
  it('measures overlap and the normal that pushes out', () => {
    const c = circleContact(circle, 1.5, 0, 0.6)!;
    expect(c.depthM).toBeCloseTo(0.1, 12);
    expect(c.nx).toBeCloseTo(-1, 12);
    expect(circleContact(circle, 1.3, 0, 0.6)).toBeNull();
    const w = circleContact(wall, 2.05, 0.5, 0.1)!;
    expect(w.depthM).toBeCloseTo(0.05, 12);
    expect(w.nx).toBeCloseTo(1, 12);
    // Near an end the closest point is the end itself.
    const end = circleContact(wall, 2, 1.05, 0.1)!;
    expect(end.ny).toBeCloseTo(1, 12);
    expect(clearance(wall, 2.5, 0, 0.1)).toBeCloseTo(0.4, 12);
    expect(clearance(circle, 0, 0, 0.5)).toBeCloseTo(1.5, 12);
  });

  it('wraps angles to (−π, π]', () => {
    expect(wrapAngle(3 * Math.PI)).toBeCloseTo(Math.PI, 12);
    expect(wrapAngle(-Math.PI)).toBeCloseTo(Math.PI, 12);
    expect(wrapAngle(-0.5 - 4 * Math.PI)).toBeCloseTo(-0.5, 12);
  });
});
