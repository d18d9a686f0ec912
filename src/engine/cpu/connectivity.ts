/**
 * Connectivity of one partition of postsynaptic neurons [lo, hi) on the CPU. A synapse pre → post
 * exists when mix32(preKey[pre] ^ postKey[post]) >>> 1 is below the block's threshold (rng.ts):
 * a pure function of (seed, pre, post). "Stored" materialises that function as rows, sorted by
 * post and split into six segments by post type and cluster (each segment has one weight);
 * "procedural" evaluates it again for every spike.
 */
import { instantiateKernel, type KernelExports } from './kernel-module.js';
import { allocate, INSTANCE_TABLE_STRIDE, type SharedBuffers, view } from './shared-state.js';

/** Segments of a row: E posts before / in / after the pre's cluster, then the same for I posts. */
export const SEGMENTS = 6;

export interface Segment {
  start: number;
  end: number;
  postIsInh: boolean;
  sameCluster: boolean;
}

/**
 * The six post ranges (instance-local, intersected with [jlo, jhi)) for a presynaptic neuron in
 * cluster `preCluster`, in ascending order.
 */
export function segmentsFor(buffers: SharedBuffers, preCluster: number, jlo: number, jhi: number): Segment[] {
  const { nE, n, nEPerCluster, nIPerCluster } = buffers;
  const eOwnStart = preCluster * nEPerCluster;
  const iOwnStart = nE + preCluster * nIPerCluster;
  const bounds: Array<[number, number, boolean, boolean]> = [
    [0, eOwnStart, false, false],
    [eOwnStart, eOwnStart + nEPerCluster, false, true],
    [eOwnStart + nEPerCluster, nE, false, false],
    [nE, iOwnStart, true, false],
    [iOwnStart, iOwnStart + nIPerCluster, true, true],
    [iOwnStart + nIPerCluster, n, true, false],
  ];
  return bounds.map(([start, end, postIsInh, sameCluster]) => ({
    start: Math.max(start, jlo),
    end: Math.max(Math.max(start, jlo), Math.min(end, jhi)),
    postIsInh,
    sameCluster,
  }));
}

export function clusterOf(buffers: SharedBuffers, i: number): number {
  return i < buffers.nE
    ? Math.floor(i / buffers.nEPerCluster)
    : Math.floor((i - buffers.nE) / buffers.nIPerCluster);
}

/** Threshold of the block post ← pre from an instance's table. */
export function blockThreshold(table: Float64Array, instance: number, postIsInh: boolean, preIsInh: boolean) {
  return table[instance * INSTANCE_TABLE_STRIDE + 8 + (postIsInh ? 2 : 0) + (preIsInh ? 1 : 0)]!;
}

export interface StoredRows {
  /** Post index relative to the partition start. */
  targets: Uint16Array | Uint32Array;
  /** Row g, segment s spans targets[segmentStart[g·6 + s] .. segmentStart[g·6 + s + 1]). */
  segmentStart: Uint32Array;
  synapses: number;
}

/**
 * Materialises the rows of every presynaptic neuron of the batch onto the posts [lo, hi). The
 * hashing runs in the WebAssembly kernel (connectSegment, four posts per SIMD hash), which writes
 * each row into a scratch block of the shared memory (the partition's size: a row's segments are
 * disjoint posts of the partition); the row is then copied to the growing targets array.
 */
export function buildStoredRows(
  buffers: SharedBuffers,
  table: Float64Array,
  lo: number,
  hi: number,
  kernel: KernelExports = instantiateKernel(buffers.memory),
): StoredRows {
  const { n, batch, nE } = buffers;
  const rows = batch * n;
  const segmentStart = new Uint32Array(rows * SEGMENTS + 1);
  const wide = hi - lo > 0xffff;
  const scratch = allocate(buffers.memory, Math.max(hi - lo, 1) * 4);
  const postKeys = buffers.regions.postKey.offset;
  const preKeys = view(buffers, 'preKey');
  let capacity = 1024;
  let targets: Uint16Array | Uint32Array = wide ? new Uint32Array(capacity) : new Uint16Array(capacity);
  let count = 0;
  for (let g = 0; g < rows; g++) {
    const b = Math.floor(g / n);
    const pre = g - b * n;
    const base = b * n;
    const jlo = Math.max(lo, base) - base;
    const jhi = Math.min(hi, base + n) - base;
    const preIsInh = pre >= nE;
    const preKey = preKeys[g]!;
    const segments = jlo < jhi ? segmentsFor(buffers, clusterOf(buffers, pre), jlo, jhi) : [];
    let inRow = 0;
    for (let s = 0; s < SEGMENTS; s++) {
      segmentStart[g * SEGMENTS + s] = count + inRow;
      const segment = segments[s];
      if (!segment || segment.start >= segment.end) continue;
      const threshold = blockThreshold(table, b, segment.postIsInh, preIsInh);
      if (threshold === 0) continue;
      inRow += kernel.connectSegment(
        preKey,
        postKeys + 4 * base,
        segment.start,
        segment.end,
        threshold,
        pre,
        base - lo,
        scratch + inRow * (wide ? 4 : 2),
        wide ? 1 : 0,
      );
    }
    if (inRow === 0) continue;
    if (count + inRow > capacity) {
      capacity = Math.max(capacity * 2, count + inRow);
      const grown: Uint16Array | Uint32Array = wide ? new Uint32Array(capacity) : new Uint16Array(capacity);
      grown.set(targets.subarray(0, count));
      targets = grown;
    }
    const memory = buffers.memory.buffer;
    targets.set(
      wide ? new Uint32Array(memory, scratch, inRow) : new Uint16Array(memory, scratch, inRow),
      count,
    );
    count += inRow;
  }
  segmentStart[rows * SEGMENTS] = count;
  // Shrink to fit: the doubling above may have over-allocated by up to 2x.
  const fitted = wide ? new Uint32Array(count) : new Uint16Array(count);
  fitted.set(targets.subarray(0, count));
  return { targets: fitted, segmentStart, synapses: count };
}

/** Estimated bytes of stored rows for the whole batch (all partitions together). */
export function storedRowsBytes(synapses: number, n: number, batch: number, threads: number): number {
  const indexBytes = n / threads > 0xffff ? 4 : 2;
  return synapses * indexBytes + threads * batch * n * SEGMENTS * 4;
}
