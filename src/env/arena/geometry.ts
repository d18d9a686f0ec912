/**
 * 2-D geometry of the arena: ray casts against circles and segments, and the contact of a circular
 * robot with them. Pure float64 functions, so the same inputs give the same bits in any process.
 */

export interface CircleShape {
  kind: 'circle';
  x: number;
  y: number;
  radiusM: number;
}

export interface SegmentShape {
  kind: 'segment';
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export type Shape = CircleShape | SegmentShape;

/**
 * Distance along a ray (origin ox, oy; unit direction dx, dy) to its first hit with a shape, or
 * Infinity if it misses. A ray starting inside a circle hits its boundary on the way out.
 */
export function rayHit(shape: Shape, ox: number, oy: number, dx: number, dy: number): number {
  return shape.kind === 'circle' ? rayCircle(shape, ox, oy, dx, dy) : raySegment(shape, ox, oy, dx, dy);
}

export function rayCircle(c: CircleShape, ox: number, oy: number, dx: number, dy: number): number {
  const fx = ox - c.x;
  const fy = oy - c.y;
  const b = fx * dx + fy * dy;
  const cc = fx * fx + fy * fy - c.radiusM * c.radiusM;
  const disc = b * b - cc;
  if (disc < 0) return Infinity;
  const root = Math.sqrt(disc);
  const near = -b - root;
  if (near >= 0) return near;
  const far = -b + root;
  return far >= 0 ? far : Infinity;
}

export function raySegment(s: SegmentShape, ox: number, oy: number, dx: number, dy: number): number {
  const ex = s.x2 - s.x1;
  const ey = s.y2 - s.y1;
  const denom = dx * ey - dy * ex;
  if (denom === 0) return Infinity; // parallel: a grazing ray does not count as a hit
  const wx = s.x1 - ox;
  const wy = s.y1 - oy;
  const t = (wx * ey - wy * ex) / denom;
  const u = (wx * dy - wy * dx) / denom;
  return t >= 0 && u >= 0 && u <= 1 ? t : Infinity;
}

/**
 * How far a circle (cx, cy, r) overlaps a shape and the unit normal pushing it out; null when they
 * do not touch.
 */
export function circleContact(
  shape: Shape,
  cx: number,
  cy: number,
  r: number,
): { depthM: number; nx: number; ny: number } | null {
  let px: number;
  let py: number;
  let reach: number;
  if (shape.kind === 'circle') {
    px = shape.x;
    py = shape.y;
    reach = r + shape.radiusM;
  } else {
    const ex = shape.x2 - shape.x1;
    const ey = shape.y2 - shape.y1;
    const len2 = ex * ex + ey * ey;
    const t = len2 > 0 ? Math.max(0, Math.min(1, ((cx - shape.x1) * ex + (cy - shape.y1) * ey) / len2)) : 0;
    px = shape.x1 + t * ex;
    py = shape.y1 + t * ey;
    reach = r;
  }
  const dx = cx - px;
  const dy = cy - py;
  const dist = Math.hypot(dx, dy);
  if (dist >= reach) return null;
  if (dist === 0) return { depthM: reach, nx: 1, ny: 0 };
  return { depthM: reach - dist, nx: dx / dist, ny: dy / dist };
}

/** Clearance between a circle and a shape (negative when they overlap). */
export function clearance(shape: Shape, cx: number, cy: number, r: number): number {
  if (shape.kind === 'circle') return Math.hypot(cx - shape.x, cy - shape.y) - r - shape.radiusM;
  const ex = shape.x2 - shape.x1;
  const ey = shape.y2 - shape.y1;
  const len2 = ex * ex + ey * ey;
  const t = len2 > 0 ? Math.max(0, Math.min(1, ((cx - shape.x1) * ex + (cy - shape.y1) * ey) / len2)) : 0;
  return Math.hypot(cx - (shape.x1 + t * ex), cy - (shape.y1 + t * ey)) - r;
}

/** An angle wrapped to (−π, π]. */
export function wrapAngle(rad: number): number {
  const wrapped = rad - 2 * Math.PI * Math.floor((rad + Math.PI) / (2 * Math.PI));
  return wrapped === -Math.PI ? Math.PI : wrapped;
}
