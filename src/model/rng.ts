/**
 * Counter-based random numbers: every random quantity of the model is a pure function of
 * (seed, stream, index), so any backend can regenerate it anywhere without storing it.
 * The WGSL kernels implement the same functions bit for bit (src/engine/webgpu/kernels/rng.wgsl).
 */

/** Golden-ratio increment: spreads consecutive indices across the 32-bit space before mixing. */
export const GOLDEN_U32 = 0x9e3779b9;

/** "lowbias32" integer finalizer (C. Wellons): a bijection on u32 with strong avalanche. */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Named streams, so that e.g. connectivity and initial voltages never share random numbers. */
export const Stream = {
  connectivityPre: 1,
  connectivityPost: 2,
  initialVoltage: 3,
  tauSyn: 4,
} as const;

/** Key of one stream of one seed. */
export function streamKey(seed: number, stream: number): number {
  return mix32((seed >>> 0) ^ mix32(stream + GOLDEN_U32));
}

/** Random u32 for element `index` of a stream. */
export function counterU32(key: number, index: number): number {
  return mix32((key + Math.imul(index, GOLDEN_U32)) >>> 0);
}

/** Uniform in [0, 1) with 24 random bits, exactly representable in float32. */
export function counterUniform(key: number, index: number): number {
  return (counterU32(key, index) >>> 8) * 2 ** -24;
}

/**
 * Connection probability p as a 31-bit threshold: a synapse exists when (hash >>> 1) < threshold.
 * 31 bits make p = 1 representable (2^31) in a u32.
 */
export function probabilityThreshold(p: number): number {
  return Math.round(p * 2 ** 31);
}

/**
 * Whether pre → post exists. `preKey`/`postKey` are counterU32 of the connectivity streams for
 * the two neurons (each computed once per neuron), so a pair costs one mix.
 */
export function isConnected(preKey: number, postKey: number, threshold31: number): boolean {
  return mix32(preKey ^ postKey) >>> 1 < threshold31;
}
