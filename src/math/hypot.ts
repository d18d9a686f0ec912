/**
 * Math functions for the tick's hot paths: pure float64, bit-identical to the built-ins they stand
 * for, but free of garbage once V8 has optimised their caller.
 */

/**
 * Math.hypot(dx, dy), bit for bit, without its garbage: V8's Math.hypot is a builtin that V8's
 * optimiser does not inline, so every call boxes its arguments and result and allocates a scratch
 * array (about 90 bytes, measured on Node 20). This is V8's algorithm for two values (builtins-
 * math.cc: Infinity before NaN, both scaled by the larger; the Kahan compensation of the second term
 * is exactly 0), small enough to be inlined; test/math/hypot.test.ts compares the two.
 */
export function hypot(dx: number, dy: number): number {
  const ax = Math.abs(dx);
  const ay = Math.abs(dy);
  if (ax === Number.POSITIVE_INFINITY || ay === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
  if (Number.isNaN(ax) || Number.isNaN(ay)) return Number.NaN;
  const max = Math.max(ax, ay);
  if (max === 0) return 0;
  const nx = ax / max;
  const ny = ay / max;
  return Math.sqrt(nx * nx + ny * ny) * max;
}
