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
  /** Post index relative to the partition start (a view of the shared memory at `targetsOffset`). */
  targets: Uint16Array | Uint32Array;
  /** Row g, segment s spans targets[segmentStart[g·6 + s] .. segmentStart[g·6 + s + 1]). */
  segmentStart: Uint32Array;
  /** Byte offsets of both arrays in the shared memory, where the WebAssembly delivery loop reads them. */
  targetsOffset: number;
  segmentStartOffset: number;
  synapses: number;
  /** Shared memory taken by the rows (the targets block is sized before the rows are known). */
  bytes: number;
}

/**
 * Room for the targets of partition [lo, hi): the expected synapse count (p·N_pre per post and
 * block) plus 8 standard deviations, plus the longest segment, since a segment is given room for
 * all its posts before it is hashed. Exceeding it is not an error, only a copy.
 */
function targetCapacity(buffers: SharedBuffers, table: Float64Array, lo: number, hi: number): number {
  const { n, nE, batch } = buffers;
  let expected = 0;
  for (let b = 0; b < batch; b++) {
    const from = Math.max(lo, b * n) - b * n;
    const to = Math.min(hi, (b + 1) * n) - b * n;
    if (from >= to) continue;
    const postsE = Math.max(0, Math.min(to, nE) - from);
    const postsI = to - from - postsE;
    const p = (postIsInh: boolean, preIsInh: boolean) =>
      blockThreshold(table, b, postIsInh, preIsInh) / 2 ** 31;
    expected +=
      postsE * (p(false, false) * nE + p(false, true) * (n - nE)) +
      postsI * (p(true, false) * nE + p(true, true) * (n - nE));
  }
  return Math.ceil(expected + 8 * Math.sqrt(expected) + (hi - lo) + 1024);
}

/**
 * Materialises the rows of every presynaptic neuron of the batch onto the posts [lo, hi), directly
 * in the shared memory: the WebAssembly kernel hashes four posts per SIMD step (connectSegment) and
 * appends each segment's targets to one block sized from the expected synapse count. (Copying rows
 * built in JavaScript into the shared memory cost more than building them: TypedArray.set into a
 * SharedArrayBuffer copies element by element.)
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
  const wide = hi - lo > 0xffff;
  const width = wide ? 4 : 2;
  const startsBytes = (rows * SEGMENTS + 1) * 4;
  const segmentStartOffset = allocate(buffers.memory, startsBytes);
  const segmentStart = new Uint32Array(buffers.memory.buffer, segmentStartOffset, rows * SEGMENTS + 1);
  let capacity = targetCapacity(buffers, table, lo, hi);
  let targetsOffset = allocate(buffers.memory, capacity * width);
  let bytes = startsBytes + capacity * width;
  const postKeys = buffers.regions.postKey.offset;
  const preKeys = view(buffers, 'preKey');
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
    for (let s = 0; s < SEGMENTS; s++) {
      segmentStart[g * SEGMENTS + s] = count;
      const segment = segments[s];
      if (!segment || segment.start >= segment.end) continue;
      const threshold = blockThreshold(table, b, segment.postIsInh, preIsInh);
      if (threshold === 0) continue;
      if (count + (segment.end - segment.start) > capacity) {
        capacity = Math.max(capacity * 2, count + (segment.end - segment.start));
        const moved = allocate(buffers.memory, capacity * width);
        kernel.copyBytes(moved, targetsOffset, count * width);
        targetsOffset = moved;
        bytes += capacity * width;
      }
      count += kernel.connectSegment(
        preKey,
        postKeys + 4 * base,
        segment.start,
        segment.end,
        threshold,
        pre,
        base - lo,
        targetsOffset + count * width,
        wide ? 1 : 0,
      );
    }
  }
  segmentStart[rows * SEGMENTS] = count;
  const memory = buffers.memory.buffer;
  const targets = wide
    ? new Uint32Array(memory, targetsOffset, count)
    : new Uint16Array(memory, targetsOffset, count);
  return { targets, segmentStart, targetsOffset, segmentStartOffset, synapses: count, bytes };
}

/** Estimated bytes of stored rows for the whole batch (all partitions together). */
export function storedRowsBytes(synapses: number, n: number, batch: number, threads: number): number {
  const indexBytes = n / threads > 0xffff ? 4 : 2;
  return synapses * indexBytes + threads * batch * n * SEGMENTS * 4;
}
