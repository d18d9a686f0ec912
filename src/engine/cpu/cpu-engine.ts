/** The CPU backend: the reference for the GPU kernels and the engine where no adapter exists. */
import { availableParallelism, cpus, freemem } from 'node:os';
import { Worker } from 'node:worker_threads';
import { checkBatchCompatible, type Layout, synapseCount } from '../../model/network.js';
import {
  type BufferReport,
  type ConnectivityMode,
  checkCurrents,
  checkSubsteps,
  type Engine,
  EngineError,
  type EngineOptions,
  type NeuronState,
  type SpikeObserver,
} from '../engine.js';
import { storedRowsBytes } from './connectivity.js';
import { PartitionStepper } from './partition-stepper.js';
import {
  allocateSharedState,
  CONTROL,
  partitionRange,
  regionBytes,
  resetDynamicState,
  type SharedBuffers,
  view,
} from './shared-state.js';

/** Stored rows must fit in this share of free memory (and under an absolute cap). */
const STORED_MEMORY_SHARE = 0.5;
// All rows share one WebAssembly memory, which addresses 4 GiB; the neuron state needs the rest.
const STORED_MEMORY_CAP_BYTES = 3.5 * 2 ** 30;

/**
 * Per-step costs of the CPU kernel on the 2-core development VM (ns): a neuron update (SIMD) and a
 * synaptic event through stored rows, from a CPU profile of `simulate` at N = 5000 (update and
 * delivery shares of the step time); a barrier crossing of two threads on separate cores, from
 * RT(5000) on one and on two threads (overhead over half the one-thread time); a (spike, post)
 * pair hashed by procedural delivery. Only their ratios matter to the choice below.
 */
export const STEP_COST_NS = { perNeuron: 1, perEvent: 0.5, perBarrier: 1000, perCandidate: 2 } as const;
/** Mean firing rate assumed when choosing threads (the default model fires at 9–13 Hz). */
const ASSUMED_RATE_HZ = 10;
/**
 * A thread is added only when it cuts the estimated step time by this share: a thread that spins
 * at every barrier takes a core from everything else on the machine for a small gain.
 */
const MIN_GAIN_PER_THREAD = 0.2;

/**
 * Threads that minimise the estimated wall time of one step: the neuron updates and the synaptic
 * events divided over t threads, plus one barrier per step when t > 1 (growing with log2 t, the
 * depth at which t arrivals meet). Up to the core count and 8.
 */
export function defaultThreads(
  totalNeurons: number,
  totalSynapses: number,
  options: { dtMs: number; procedural: boolean; neuronsPerInstance: number },
): number {
  const spikesPerStep = totalNeurons * ASSUMED_RATE_HZ * options.dtMs * 1e-3;
  const delivery = options.procedural
    ? spikesPerStep * options.neuronsPerInstance * STEP_COST_NS.perCandidate
    : (totalSynapses / totalNeurons) * spikesPerStep * STEP_COST_NS.perEvent;
  const work = totalNeurons * STEP_COST_NS.perNeuron + delivery;
  const cores = Math.min(availableParallelism(), 8);
  let best = 1;
  let bestNs = work;
  for (let t = 2; t <= cores; t++) {
    const ns = work / t + STEP_COST_NS.perBarrier * Math.log2(t);
    if (ns > bestNs * (1 - MIN_GAIN_PER_THREAD)) break;
    best = t;
    bestNs = ns;
  }
  return best;
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

  private constructor(
    private readonly buffers: SharedBuffers,
    private readonly kernel: PartitionStepper,
    private readonly workers: Worker[],
    connectivity: 'stored' | 'procedural',
    private readonly synapses: number,
    private readonly rowBytes: number,
    layout: Layout,
  ) {
    this.layout = layout;
    this.batch = buffers.batch;
    this.connectivity = connectivity;
    this.control = view(buffers, 'control');
    this.populationCounts = view(buffers, 'populationCounts');
    this.spikeLists = view(buffers, 'spikeLists');
    this.spikeCounts = view(buffers, 'spikeCounts');
    this.adapter = `${cpus()[0]?.model.trim() ?? 'CPU'} (${buffers.threads} thread${buffers.threads > 1 ? 's' : ''})`;
  }

  static async create(options: EngineOptions): Promise<CpuEngine> {
    const networks = options.networks;
    checkBatchCompatible(networks);
    const layout = networks[0]!.layout;
    const total = networks.length * layout.n;
    const expected = networks.reduce((sum, network) => sum + synapseCount(network.params), 0);
    const mode = options.connectivity ?? 'auto';
    const costOf = (procedural: boolean) =>
      defaultThreads(total, expected, {
        dtMs: networks[0]!.params.dtMs,
        procedural,
        neuronsPerInstance: layout.n,
      });
    let threads = options.threads ?? costOf(mode === 'procedural');
    if (!Number.isInteger(threads) || threads < 1)
      throw new EngineError(`threads must be ≥ 1, got ${threads}`);
    const connectivity = chooseConnectivity(mode, expected, layout.n, networks.length, threads);
    // Too large to store: regenerating synapses costs far more per spike, which favours more threads.
    if (options.threads === undefined && connectivity === 'procedural') threads = costOf(true);
    const buffers = allocateSharedState(networks, threads);
    const stored = connectivity === 'stored';
    const workers: Worker[] = [];
    const ready: Promise<{ synapses: number; rowBytes: number }>[] = [];
    for (let p = 1; p < threads; p++) {
      const worker = spawnWorker({ buffers, partition: p, stored });
      workers.push(worker);
      ready.push(
        new Promise((resolve, reject) => {
          worker.once(
            'message',
            (message: { ready?: boolean; error?: string; synapses: number; rowBytes: number }) =>
              message.ready
                ? resolve(message)
                : reject(new EngineError(`CPU worker ${p} failed: ${message.error}`)),
          );
          worker.once('error', reject);
        }),
      );
    }
    // The main thread builds its own partition while the workers build theirs.
    const kernel = new PartitionStepper(buffers, 0, stored);
    let results: { synapses: number; rowBytes: number }[];
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
    return new CpuEngine(buffers, kernel, workers, connectivity, synapses, rowBytes, layout);
  }

  /** Threads stepping the network (the main thread and threads − 1 workers). */
  get threads(): number {
    return this.buffers.threads;
  }

  get stepCount(): number {
    return this.steps;
  }

  /** Synapses materialised (stored connectivity) or 0 when they are regenerated per spike. */
  get storedSynapses(): number {
    return this.synapses;
  }

  async run(substeps: number): Promise<Uint32Array> {
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
    const { threads, batch, n } = this.buffers;
    const total = batch * n;
    let count = 0;
    for (let p = 0; p < threads; p++) count += this.spikeCounts[parity * threads + p]!;
    const ids = new Uint32Array(count);
    let offset = 0;
    for (let p = 0; p < threads; p++) {
      const length = this.spikeCounts[parity * threads + p]!;
      const start = parity * total + partitionRange(total, threads, p).lo;
      ids.set(this.spikeLists.subarray(start, start + length), offset);
      offset += length;
    }
    return ids;
  }

  private collectCounts(): Uint32Array {
    const size = this.batch * this.layout.populationCount;
    const counts = new Uint32Array(size);
    for (let p = 0; p < this.buffers.threads; p++) {
      const slice = this.populationCounts.subarray(p * size, (p + 1) * size);
      for (let k = 0; k < size; k++) counts[k]! += slice[k]!;
      slice.fill(0);
    }
    return counts;
  }

  setPopulationCurrents(instance: number, currentsPa: Float32Array): void {
    this.checkInstance(instance);
    const size = this.layout.populationCount;
    checkCurrents('population', currentsPa, size);
    view(this.buffers, 'stimPopulation').set(currentsPa, instance * size);
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
      vMv: view(this.buffers, 'vMv').slice(from, to),
      iExcPa: view(this.buffers, 'iExcPa').slice(from, to),
      iInhPa: view(this.buffers, 'iInhPa').slice(from, to),
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
