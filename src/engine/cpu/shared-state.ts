/**
 * The CPU backend's state: one shared WebAssembly memory that every CPU thread maps, so the
 * WebAssembly kernel (assembly/kernel.ts) and the JavaScript around it step their own slice of
 * neurons in place. Arrays cover all B·N neurons of the batch (instance b at offset b·N).
 */
import { type DerivedNetwork, neuronArrays, populationOf } from '../../model/network.js';
import { counterU32, Stream, streamKey } from '../../model/rng.js';
import { balancedPartitionStarts } from './cost-model.js';

export const PAGE_BYTES = 65536;
/**
 * What no two threads' written data share: two 64-byte cache lines, since x86 cores fetch lines
 * in adjacent pairs. Regions, partitions (PARTITION_ALIGN neurons of 4 bytes) and per-partition
 * counters start on this boundary. A line that one thread writes every step and another reads or
 * writes moves between the cores' caches every step (~250 ns one way on the 2-vCPU VM, measured by
 * ping-pong), on the path from one barrier to the next.
 */
export const ISOLATION_BYTES = 128;
/** 32-bit words per ISOLATION_BYTES: the stride of each partition's block of counters. */
const ISOLATION_WORDS = ISOLATION_BYTES / 4;

/**
 * Elements (4 bytes each) left unused after each partition's slice of every array that the step
 * writes (PARTITIONED and the spike lists). Alignment alone is not enough: a core streaming through
 * its slice has its hardware prefetcher run on past the slice's end, into the next partition's
 * lines, which the other core then has to take back before it can write them, every step, in every
 * array. Measured on the 2-vCPU VM (N = 5000, two threads): each thread's update cost 1.4–1.7 ns
 * per neuron against 0.8 ns for one thread alone; a 64 KiB gap after each array cut the first
 * thread's update by a quarter. The gap is a page (4 KiB), which prefetchers do not cross.
 */
export const PARTITION_GAP = 1024;

/**
 * The per-neuron arrays the step writes, laid out partition by partition: neuron g of partition p
 * is element g + p·PARTITION_GAP. The other per-neuron arrays (constants, keys, stimuli, drive)
 * are only read during a step and keep element g.
 */
export const PARTITIONED = ['vMv', 'iExcPa', 'iInhPa', 'refractory', 'accExc', 'accInh'] as const;
export type PartitionedRegion = (typeof PARTITIONED)[number];
/** wasm32 addresses 4 GiB at most. */
export const MAX_PAGES = 65536;

/** Named arrays in the shared memory; the element type of each is given by REGION_TYPES. */
const REGION_TYPES = {
  // Neuron constants (read-only after build).
  p22: Float32Array,
  p11Exc: Float32Array,
  p11Inh: Float32Array,
  p21Exc: Float32Array,
  p21Inh: Float32Array,
  p20: Float32Array,
  backgroundPa: Float32Array,
  v0Mv: Float32Array,
  /** Population of each neuron within its instance. */
  population: Uint16Array,
  /** Connectivity hash keys of each neuron as presynaptic and as postsynaptic partner. */
  preKey: Uint32Array,
  postKey: Uint32Array,
  // Dynamic state.
  vMv: Float32Array,
  iExcPa: Float32Array,
  iInhPa: Float32Array,
  refractory: Int32Array,
  /** Fixed-point synaptic input gathered for the next step (units 2^-16 pA). */
  accExc: Int32Array,
  accInh: Int32Array,
  /** Stimulus per population (B·2Q) and per neuron (B·N). */
  stimPopulation: Float32Array,
  stimNeuron: Float32Array,
  /** P20·(background + stimulus) per neuron (mV per step), recomputed at the start of every run. */
  drive: Float32Array,
  /** Spike lists: two parities, each B·N slots plus a gap after each partition (spikeListStart). */
  spikeLists: Uint32Array,
  /** Spike list lengths: [partition·spikeCountStride + parity], each partition's in a block of its own. */
  spikeCounts: Int32Array,
  /** Population spike counts per partition: [partition·populationCountStride + instance·2Q + pop]. */
  populationCounts: Uint32Array,
  /** Fixed-point weight of each row segment: [instance][preIsInh][segment]. */
  segmentWeights: Int32Array,
  /** Control block for the step barrier, see CONTROL. */
  control: Int32Array,
} as const;

export type RegionName = keyof typeof REGION_TYPES;
type RegionArray<K extends RegionName> = InstanceType<(typeof REGION_TYPES)[K]>;

export interface Region {
  offset: number;
  length: number;
}

export interface SharedBuffers {
  memory: WebAssembly.Memory;
  regions: Record<RegionName, Region>;
  batch: number;
  n: number;
  threads: number;
  /** First neuron of each partition, threads + 1 entries (the last is B·N); see balancedPartitionStarts. */
  partitionStarts: Int32Array;
  /** Words between two partitions' spike counts (spikeCounts). */
  spikeCountStride: number;
  /** Words between two partitions' population counts (populationCounts, B·2Q used). */
  populationCountStride: number;
  nE: number;
  clusters: number;
  nEPerCluster: number;
  nIPerCluster: number;
  /** Per instance: 8 fixed-point weights, then 4 connection thresholds. */
  instanceTable: Float64Array;
  thresholdMv: Float64Array;
  resetMv: Float64Array;
  refractorySteps: Int32Array;
}

export const INSTANCE_TABLE_STRIDE = 12;
export const CONTROL = {
  command: 0,
  substeps: 1,
  /**
   * Barrier arrivals since the engine was built (wrapping int32): the barrier of a thread's k-th
   * step is complete when it reaches k·threads, so one atomic add per thread per step suffices.
   */
  barrier: 2,
  /** Threads asleep (Atomics.wait) on the barrier word: the completing thread wakes them only if > 0. */
  sleepers: 3,
  failed: 4,
  startStep: 5,
  shutdown: 6,
  /** Incremented whenever a stimulus changes: partitions recompute their drive on the next run. */
  stimulusVersion: 7,
  length: 8,
} as const;

/** A typed view of one region (valid across memory growth: regions never move). */
export function view<K extends RegionName>(buffers: SharedBuffers, name: K): RegionArray<K> {
  const { offset, length } = buffers.regions[name];
  const Type = REGION_TYPES[name] as unknown as new (
    buffer: ArrayBufferLike,
    offset: number,
    length: number,
  ) => RegionArray<K>;
  return new Type(buffers.memory.buffer, offset, length);
}

/**
 * Byte offset from which neuron g of `partition` is element g of a PARTITIONED array: the pointer
 * a partition hands to the kernel.
 */
export function partitionBase(buffers: SharedBuffers, name: PartitionedRegion, partition: number): number {
  return buffers.regions[name].offset + 4 * partition * PARTITION_GAP;
}

/** First slot of `partition`'s spike list of `parity` (the list holds neuron ids, ascending). */
export function spikeListStart(buffers: SharedBuffers, parity: number, partition: number): number {
  const { batch, n, threads } = buffers;
  return (
    parity * (batch * n + threads * PARTITION_GAP) +
    buffers.partitionStarts[partition]! +
    partition * PARTITION_GAP
  );
}

/** Where `partition`'s spike count of `parity` is in spikeCounts. */
export function spikeCountIndex(buffers: SharedBuffers, partition: number, parity: number): number {
  return partition * buffers.spikeCountStride + parity;
}

/** Neurons [from, to) of a PARTITIONED array, copied out in neuron order. */
export function readPartitioned<K extends PartitionedRegion>(
  buffers: SharedBuffers,
  name: K,
  from: number,
  to: number,
): RegionArray<K> {
  const array = view(buffers, name);
  const out = new (REGION_TYPES[name] as Float32ArrayConstructor | Int32ArrayConstructor)(to - from);
  forEachPartitionSlice(buffers, from, to, (lo, hi, partition) => {
    out.set(array.subarray(lo + partition * PARTITION_GAP, hi + partition * PARTITION_GAP), lo - from);
  });
  return out as RegionArray<K>;
}

/** Calls `slice` for each partition's part [lo, hi) of neurons [from, to). */
function forEachPartitionSlice(
  buffers: SharedBuffers,
  from: number,
  to: number,
  slice: (lo: number, hi: number, partition: number) => void,
): void {
  const starts = buffers.partitionStarts;
  for (let p = 0; p < buffers.threads; p++) {
    const lo = Math.max(from, starts[p]!);
    const hi = Math.min(to, starts[p + 1]!);
    if (lo < hi) slice(lo, hi, p);
  }
}

/** Grows the shared memory by `bytes` (atomically, safe from any thread) and returns the new block's offset. */
export function allocate(memory: WebAssembly.Memory, bytes: number): number {
  const pages = Math.ceil(Math.max(bytes, 1) / PAGE_BYTES);
  const current = memory.buffer.byteLength / PAGE_BYTES;
  if (current + pages > MAX_PAGES) {
    throw new Error(
      `the CPU backend needs ${(((current + pages) * PAGE_BYTES) / 2 ** 30).toFixed(2)} GiB, over WebAssembly's 4 GiB; ` +
        'use procedural connectivity (--connectivity procedural) or a smaller network',
    );
  }
  return memory.grow(pages) * PAGE_BYTES;
}

/**
 * The shared state of `networks` stepped by `threads` partitions, cut where the expected cost of
 * stored (or procedural) delivery is balanced.
 */
export function allocateSharedState(
  networks: readonly DerivedNetwork[],
  threads: number,
  stored = true,
): SharedBuffers {
  const first = networks[0]!;
  const { layout } = first;
  const batch = networks.length;
  const total = batch * layout.n;
  const populations = batch * layout.populationCount;
  const partitionedLength = total + threads * PARTITION_GAP;
  const spikeCountStride = ISOLATION_WORDS;
  const populationCountStride = Math.ceil(populations / ISOLATION_WORDS) * ISOLATION_WORDS;
  const lengths: Record<RegionName, number> = {
    p22: total,
    p11Exc: total,
    p11Inh: total,
    p21Exc: total,
    p21Inh: total,
    p20: total,
    backgroundPa: total,
    v0Mv: total,
    population: layout.n,
    preKey: total,
    postKey: total,
    vMv: partitionedLength,
    iExcPa: partitionedLength,
    iInhPa: partitionedLength,
    refractory: partitionedLength,
    accExc: partitionedLength,
    accInh: partitionedLength,
    stimPopulation: populations,
    stimNeuron: total,
    drive: total,
    spikeLists: 2 * partitionedLength,
    spikeCounts: threads * spikeCountStride,
    populationCounts: threads * populationCountStride,
    segmentWeights: batch * 2 * 6,
    control: CONTROL.length,
  };
  // Page 0 stays unused so that no region starts at address 0.
  let offset = PAGE_BYTES;
  const regions = {} as Record<RegionName, Region>;
  for (const name of Object.keys(lengths) as RegionName[]) {
    regions[name] = { offset, length: lengths[name] };
    const bytes = lengths[name] * REGION_TYPES[name].BYTES_PER_ELEMENT;
    offset += Math.ceil(bytes / ISOLATION_BYTES) * ISOLATION_BYTES;
  }
  const pages = Math.ceil(offset / PAGE_BYTES);
  if (pages > MAX_PAGES) throw new Error(`the CPU backend's neuron state for ${total} neurons exceeds 4 GiB`);
  const memory = new WebAssembly.Memory({ initial: pages, maximum: MAX_PAGES, shared: true });
  const buffers: SharedBuffers = {
    memory,
    regions,
    batch,
    n: layout.n,
    threads,
    partitionStarts: balancedPartitionStarts(networks, threads, stored),
    spikeCountStride,
    populationCountStride,
    nE: layout.nE,
    clusters: layout.clusters,
    nEPerCluster: layout.nEPerCluster,
    nIPerCluster: layout.nIPerCluster,
    instanceTable: new Float64Array(INSTANCE_TABLE_STRIDE * batch),
    thresholdMv: new Float64Array(batch),
    resetMv: new Float64Array(batch),
    refractorySteps: new Int32Array(batch),
  };
  const population = view(buffers, 'population');
  for (let i = 0; i < layout.n; i++) population[i] = populationOf(layout, i);
  const preKeys = view(buffers, 'preKey');
  const postKeys = view(buffers, 'postKey');
  const segmentWeights = view(buffers, 'segmentWeights');
  for (const [b, network] of networks.entries()) {
    const arrays = neuronArrays(network);
    const base = b * layout.n;
    for (const key of [
      'p22',
      'p11Exc',
      'p11Inh',
      'p21Exc',
      'p21Inh',
      'p20',
      'backgroundPa',
      'v0Mv',
    ] as const) {
      view(buffers, key).set(arrays[key], base);
    }
    const preStream = streamKey(network.params.seed, Stream.connectivityPre);
    const postStream = streamKey(network.params.seed, Stream.connectivityPost);
    for (let i = 0; i < layout.n; i++) {
      preKeys[base + i] = counterU32(preStream, i);
      postKeys[base + i] = counterU32(postStream, i);
    }
    const table = buffers.instanceTable;
    const row = b * INSTANCE_TABLE_STRIDE;
    for (let k = 0; k < 8; k++) table[row + k] = network.weightsFixed[k]!;
    table[row + 8] = network.thresholds31.ee;
    table[row + 9] = network.thresholds31.ei;
    table[row + 10] = network.thresholds31.ie;
    table[row + 11] = network.thresholds31.ii;
    // Row segments: E posts before / in / after the pre's cluster, then I posts (connectivity.ts).
    for (const preIsInh of [false, true]) {
      for (let s = 0; s < 6; s++) {
        const postIsInh = s >= 3;
        const same = s % 3 === 1;
        segmentWeights[(b * 2 + (preIsInh ? 1 : 0)) * 6 + s] =
          network.weightsFixed[(postIsInh ? 4 : 0) + (preIsInh ? 2 : 0) + (same ? 1 : 0)]!;
      }
    }
    buffers.thresholdMv[b] = Math.fround(network.params.thresholdMv - network.params.restingMv);
    buffers.resetMv[b] = Math.fround(network.params.resetMv - network.params.restingMv);
    buffers.refractorySteps[b] = network.refractorySteps;
  }
  resetDynamicState(buffers);
  return buffers;
}

/** Initial voltages, zero currents, no refractoriness, no pending input or spikes. */
export function resetDynamicState(buffers: SharedBuffers): void {
  const vMv = view(buffers, 'vMv');
  const v0Mv = view(buffers, 'v0Mv');
  forEachPartitionSlice(buffers, 0, buffers.batch * buffers.n, (lo, hi, partition) => {
    vMv.set(v0Mv.subarray(lo, hi), lo + partition * PARTITION_GAP);
  });
  for (const key of [
    'iExcPa',
    'iInhPa',
    'refractory',
    'accExc',
    'accInh',
    'spikeCounts',
    'populationCounts',
  ] as const) {
    view(buffers, key).fill(0);
  }
}

/** Bytes of each region, for memory reports. */
export function regionBytes(buffers: SharedBuffers): Array<{ name: string; bytes: number }> {
  return (Object.keys(buffers.regions) as RegionName[]).map((name) => ({
    name,
    bytes: buffers.regions[name].length * REGION_TYPES[name].BYTES_PER_ELEMENT,
  }));
}
