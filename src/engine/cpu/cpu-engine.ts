/** The CPU backend: the reference for the GPU kernels and the engine where no adapter exists. */
import { availableParallelism, cpus, freemem } from 'node:os';
import { Worker } from 'node:worker_threads';
import { checkBatchCompatible, type Layout, synapseCount } from '../../model/network.js';
import {
  type BufferReport,
  type ConnectivityMode,
  type CpuWaitMode,
  checkCurrents,
  checkSubsteps,
  type Engine,
  EngineError,
  type EngineOptions,
  type NeuronState,
  type SpikeObserver,
  type ThreadFit,
  type ThreadPurpose,
} from '../engine.js';
import { storedRowsBytes } from './connectivity.js';
import { chooseThreads, modelThreadCost } from './cost-model.js';
import { PartitionStepper } from './partition-stepper.js';
import {
  allocateSharedState,
  CONTROL,
  readPartitioned,
  regionBytes,
  resetDynamicState,
  type SharedBuffers,
  spikeCountIndex,
  spikeListStart,
  view,
} from './shared-state.js';

/** Stored rows must fit in this share of free memory (and under an absolute cap). */
const STORED_MEMORY_SHARE = 0.5;
// All rows share one WebAssembly memory, which addresses 4 GiB; the neuron state needs the rest.
const STORED_MEMORY_CAP_BYTES = 3.5 * 2 ** 30;

export { STEP_COST_NS } from './cost-model.js';

/**
 * The default thread count (chooseThreads) on this machine's cores (at most 8), from the measured
 * cost per thread count when given (a hardware profile of this machine; one instance, stored rows,
 * as calibrate measures) and from the cost model otherwise. With `waitMode: 'block'` every barrier
 * may cost a kernel wake-up, so the model needs larger networks before a second thread pays.
 */
export function defaultThreads(
  totalNeurons: number,
  totalSynapses: number,
  options: {
    dtMs: number;
    procedural: boolean;
    neuronsPerInstance: number;
    waitMode?: CpuWaitMode;
    purpose?: ThreadPurpose;
    measured?: readonly ThreadFit[];
  },
): number {
  const cores = Math.min(availableParallelism(), 8);
  const measured =
    !options.procedural && totalNeurons === options.neuronsPerInstance
      ? (options.measured ?? [])
          .filter((fit) => fit.threads <= cores)
          .map((fit) => ({
            threads: fit.threads,
            rtf: fit.a0 + fit.a1 * totalNeurons + fit.a2 * totalSynapses,
          }))
      : [];
  const costs =
    measured.length > 0 ? measured : modelThreadCost(totalNeurons, totalSynapses, { ...options, cores });
  return chooseThreads(costs, options.purpose ?? 'offline');
}

export function chooseConnectivity(
  mode: ConnectivityMode,
  expectedSynapses: number,
  n: number,
  batch: number,
  threads: number,
): 'stored' | 'procedural' {
  if (mode !== 'auto') return mode;
  const bytes = storedRowsBytes(expectedSynapses, n, batch, threads);
  return bytes <= Math.min(STORED_MEMORY_CAP_BYTES, freemem() * STORED_MEMORY_SHARE)
    ? 'stored'
    : 'procedural';
}

/** The worker entry; under vitest or tsx the sources run as .ts and the worker registers tsx first. */
function spawnWorker(workerData: unknown): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./worker.js', here), { workerData });
  const entry = JSON.stringify(new URL('./worker.ts', here).href);
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${entry}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}

/** Spike counts per step whose observer views are made with the engine (about 100 bytes each). */
const PREMADE_SPIKE_VIEWS = 2048;

export class CpuEngine implements Engine {
  readonly backend = 'cpu' as const;
  readonly adapter: string;
  readonly layout: Layout;
  readonly batch: number;
  readonly connectivity: 'stored' | 'procedural';
  private steps = 0;
  private observer: SpikeObserver | null = null;
  private disposed = false;
  private readonly control: Int32Array;
  private readonly populationCounts: Uint32Array;
  private readonly spikeLists: Uint32Array;
  private readonly spikeCounts: Int32Array;
  private readonly stimPopulation: Float32Array;
  /** What runSync returns: refilled by every run, so a run allocates nothing. */
  private readonly counts: Uint32Array;
  /** A step's spikes for the observer, gathered from the partitions' lists. */
  private readonly spikeScratch: Uint32Array;
  /**
   * One view of spikeScratch per spike count, so handing the observer a view of the right length
   * allocates nothing per step: made up front for the counts a step usually has (a rare larger
   * count, a burst, makes its view when it first happens).
   */
  private readonly spikeViews: (Uint32Array | undefined)[];

  private constructor(
    private readonly buffers: SharedBuffers,
    private readonly kernel: PartitionStepper,
    private readonly workers: Worker[],
    connectivity: 'stored' | 'procedural',
    private readonly synapses: number,
    private readonly rowBytes: number,
    layout: Layout,
    private readonly workerThreadIds: readonly number[],
  ) {
    this.layout = layout;
    this.batch = buffers.batch;
    this.connectivity = connectivity;
    this.control = view(buffers, 'control');
    this.populationCounts = view(buffers, 'populationCounts');
    this.spikeLists = view(buffers, 'spikeLists');
    this.spikeCounts = view(buffers, 'spikeCounts');
    this.stimPopulation = view(buffers, 'stimPopulation');
    this.counts = new Uint32Array(this.batch * layout.populationCount);
    this.spikeScratch = new Uint32Array(this.batch * layout.n);
    const premade = Math.min(this.spikeScratch.length, PREMADE_SPIKE_VIEWS);
    this.spikeViews = Array.from({ length: premade + 1 }, (_, count) => this.spikeScratch.subarray(0, count));
    this.adapter = `${cpus()[0]?.model.trim() ?? 'CPU'} (${buffers.threads} thread${buffers.threads > 1 ? 's' : ''})`;
  }

  static async create(options: EngineOptions): Promise<CpuEngine> {
    const networks = options.networks;
    checkBatchCompatible(networks);
    const layout = networks[0]!.layout;
    const total = networks.length * layout.n;
    const expected = networks.reduce((sum, network) => sum + synapseCount(network.params), 0);
    const mode = options.connectivity ?? 'auto';
    const waitMode = options.waitMode ?? 'spin';
    if (waitMode !== 'spin' && waitMode !== 'block')
      throw new EngineError(`waitMode must be 'spin' or 'block', got ${JSON.stringify(waitMode)}`);
    const purpose = options.threadPurpose ?? 'offline';
    if (purpose !== 'offline' && purpose !== 'loop')
      throw new EngineError(`threadPurpose must be 'offline' or 'loop', got ${JSON.stringify(purpose)}`);
    const costOf = (procedural: boolean) =>
      defaultThreads(total, expected, {
        dtMs: networks[0]!.params.dtMs,
        procedural,
        neuronsPerInstance: layout.n,
        waitMode,
        purpose,
        measured: options.measuredThreadCost,
      });
    let threads = options.threads ?? costOf(mode === 'procedural');
    if (!Number.isInteger(threads) || threads < 1)
      throw new EngineError(`threads must be ≥ 1, got ${threads}`);
    const connectivity = chooseConnectivity(mode, expected, layout.n, networks.length, threads);
    // Too large to store: regenerating synapses costs far more per spike, which favours more threads.
    if (options.threads === undefined && connectivity === 'procedural') threads = costOf(true);
    const stored = connectivity === 'stored';
    const buffers = allocateSharedState(networks, threads, stored);
    const workers: Worker[] = [];
    const ready: Promise<{ synapses: number; rowBytes: number; tid: number }>[] = [];
    for (let p = 1; p < threads; p++) {
      const worker = spawnWorker({ buffers, partition: p, stored, waitMode });
      workers.push(worker);
      ready.push(
        new Promise((resolve, reject) => {
          worker.once(
            'message',
            (message: {
              ready?: boolean;
              error?: string;
              synapses: number;
              rowBytes: number;
              tid: number;
            }) =>
              message.ready
                ? resolve(message)
                : reject(new EngineError(`CPU worker ${p} failed: ${message.error}`)),
          );
          worker.once('error', reject);
        }),
      );
    }
    // The main thread builds its own partition while the workers build theirs.
    const kernel = new PartitionStepper(buffers, 0, stored, waitMode);
    let results: { synapses: number; rowBytes: number; tid: number }[];
    try {
      results = await Promise.all(ready);
    } catch (error) {
      await Promise.all(workers.map((worker) => worker.terminate()));
      throw error;
    }
    for (const worker of workers) {
      worker.on('message', (message: { error?: string }) => {
        if (message.error) console.error(`spikeloop: CPU worker failed: ${message.error}`);
      });
    }
    const synapses = kernel.synapses + results.reduce((sum, r) => sum + r.synapses, 0);
    const rowBytes = kernel.rowBytes + results.reduce((sum, r) => sum + r.rowBytes, 0);
    const tids = results.map((r) => r.tid).filter((tid) => tid > 0);
    return new CpuEngine(buffers, kernel, workers, connectivity, synapses, rowBytes, layout, tids);
  }

  /** Threads stepping the network (the main thread and threads − 1 workers). */
  get threads(): number {
    return this.buffers.threads;
  }

  /** Linux thread ids of the worker threads (partitions 1…threads − 1; the caller's thread runs 0). */
  threadIds(): readonly number[] {
    return this.workerThreadIds;
  }

  get stepCount(): number {
    return this.steps;
  }

  /** Synapses materialised (stored connectivity) or 0 when they are regenerated per spike. */
  get storedSynapses(): number {
    return this.synapses;
  }

  async run(substeps: number): Promise<Uint32Array> {
    return this.runSync(substeps).slice();
  }

  /**
   * The same run without a promise: the barrier already waits synchronously (Atomics.wait), so a
   * caller that may block (a worker thread: the tick thread) steps with no allocation at all. The
   * returned counts are refilled by the next run: copy what must outlive it.
   */
  runSync(substeps: number): Uint32Array {
    this.checkAlive();
    checkSubsteps(substeps);
    const threads = this.buffers.threads;
    if (threads > 1 && substeps > 0) {
      Atomics.store(this.control, CONTROL.substeps, substeps);
      Atomics.store(this.control, CONTROL.startStep, this.steps);
      Atomics.add(this.control, CONTROL.command, 1);
      Atomics.notify(this.control, CONTROL.command);
    }
    this.kernel.prepareDrive();
    for (let s = 0; s < substeps; s++) {
      const step = this.steps + s;
      this.kernel.step(step);
      if (threads > 1) this.kernel.barrier();
      if (this.observer) this.observer(step, this.spikesOf(step));
    }
    this.steps += substeps;
    return this.collectCounts();
  }

  private spikesOf(step: number): Uint32Array {
    const parity = step & 1;
    const { threads } = this.buffers;
    let count = 0;
    for (let p = 0; p < threads; p++) count += this.spikeCounts[spikeCountIndex(this.buffers, p, parity)]!;
    let ids = this.spikeViews[count];
    if (ids === undefined) {
      ids = this.spikeScratch.subarray(0, count);
      this.spikeViews[count] = ids;
    }
    const lists = this.spikeLists;
    let offset = 0;
    for (let p = 0; p < threads; p++) {
      const length = this.spikeCounts[spikeCountIndex(this.buffers, p, parity)]!;
      const start = spikeListStart(this.buffers, parity, p);
      for (let k = 0; k < length; k++) ids[offset + k] = lists[start + k]!;
      offset += length;
    }
    return ids;
  }

  private collectCounts(): Uint32Array {
    const counts = this.counts;
    const size = counts.length;
    const perThread = this.populationCounts;
    counts.fill(0);
    for (let p = 0; p < this.buffers.threads; p++) {
      const base = p * this.buffers.populationCountStride;
      for (let k = 0; k < size; k++) {
        counts[k]! += perThread[base + k]!;
        perThread[base + k] = 0;
      }
    }
    return counts;
  }

  setPopulationCurrents(instance: number, currentsPa: Float32Array): void {
    this.checkInstance(instance);
    const size = this.layout.populationCount;
    checkCurrents('population', currentsPa, size);
    this.stimPopulation.set(currentsPa, instance * size);
    Atomics.add(this.control, CONTROL.stimulusVersion, 1);
  }

  setNeuronCurrents(instance: number, currentsPa: Float32Array | null): void {
    this.checkInstance(instance);
    const start = instance * this.layout.n;
    const target = view(this.buffers, 'stimNeuron').subarray(start, start + this.layout.n);
    if (currentsPa === null) {
      target.fill(0);
    } else {
      checkCurrents('neuron', currentsPa, this.layout.n);
      target.set(currentsPa);
    }
    Atomics.add(this.control, CONTROL.stimulusVersion, 1);
  }

  onSpikes(observer: SpikeObserver | null): void {
    this.observer = observer;
  }

  async readState(instance: number): Promise<NeuronState> {
    this.checkInstance(instance);
    const from = instance * this.layout.n;
    const to = from + this.layout.n;
    return {
      vMv: readPartitioned(this.buffers, 'vMv', from, to),
      iExcPa: readPartitioned(this.buffers, 'iExcPa', from, to),
      iInhPa: readPartitioned(this.buffers, 'iInhPa', from, to),
    };
  }

  memory(): BufferReport[] {
    return [{ name: 'connectivity rows', bytes: this.rowBytes }, ...regionBytes(this.buffers)];
  }

  async reset(): Promise<void> {
    this.checkAlive();
    resetDynamicState(this.buffers);
    this.steps = 0;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    Atomics.store(this.control, CONTROL.shutdown, 1);
    Atomics.add(this.control, CONTROL.command, 1);
    Atomics.notify(this.control, CONTROL.command);
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  private checkAlive(): void {
    if (this.disposed) throw new EngineError('the engine has been disposed');
    if (Atomics.load(this.control, CONTROL.failed) !== 0) throw new EngineError('a CPU engine worker failed');
  }

  private checkInstance(instance: number): void {
    if (!Number.isInteger(instance) || instance < 0 || instance >= this.batch) {
      throw new EngineError(`instance must be in [0, ${this.batch}), got ${instance}`);
    }
  }
}
