/**
 * The engine interface: one network (or a batch of B independent instances sharing a layout),
 * stepped in substeps of dt. Backends (cpu/, webgpu/) implement it; nothing here knows about I/O.
 */
import type { DerivedNetwork, Layout } from '../model/network.js';

export type BackendName = 'cpu' | 'webgpu';
export type BackendChoice = BackendName | 'auto';
export type ConnectivityMode = 'auto' | 'stored' | 'procedural';

export interface EngineOptions {
  /** One derived network per batch instance; all share N, Q and dt. */
  networks: readonly DerivedNetwork[];
  /** Stored rows (materialised from the same hash) or regenerated per spike. Default auto. */
  connectivity?: ConnectivityMode;
  /** CPU threads (main thread included). Default: chosen from N, the core count and `waitMode`. */
  threads?: number;
  /**
   * CPU backend: how a thread with nothing to do waits, at the barrier that ends every time step
   * and (workers) between runs.
   * - 'spin' (default): poll; at the barrier for up to ~20,000 polls (a budget halved after each
   *   wait that had to sleep and doubled after each it covered, so that threads short of cores
   *   stop polling), between runs for 3 ms after each run, then sleep. Lowest latency when every thread has a core to itself (offline runs,
   *   benchmarks, a loop at normal priority).
   * - 'block': poll at the barrier for at most ~1,000 polls (a few µs), then sleep on a futex;
   *   between runs sleep at once. Use it when the caller runs at real-time (SCHED_FIFO) priority:
   *   a FIFO thread that spins waiting for a normal-priority worker holds the core that worker or
   *   the process's I/O needs, and a worker that polls for 3 ms after every tick takes the core
   *   the rest of the process needs. Each sleep costs a kernel wake-up (tens of µs), so the
   *   default thread count is chosen with that cost: fewer threads than with 'spin'.
   */
  waitMode?: CpuWaitMode;
  /**
   * CPU backend, when `threads` is not given: what the thread count is chosen for
   * (cpu/cost-model.ts chooseThreads). 'offline' (default): the fastest. 'loop': the fewest threads
   * whose compute stays under half the tick, since a spinning extra thread takes a core from the
   * loop's I/O and load.
   */
  threadPurpose?: ThreadPurpose;
  /**
   * CPU backend: this machine's measured cost per thread count (a hardware profile's `threadFits`,
   * written by `spikeloop calibrate`), used for the default thread count instead of the built-in
   * cost model. Applies to one instance with stored rows (what calibrate measures).
   */
  measuredThreadCost?: readonly ThreadFit[];
}

export type CpuWaitMode = 'spin' | 'block';
export type ThreadPurpose = 'offline' | 'loop';

/** Expected real-time factor (wall / biological time) of the CPU engine with `threads` threads. */
export interface ThreadCost {
  threads: number;
  rtf: number;
}

/** Measured RT(N, M) = a0 + a1·N + a2·M of the CPU engine with `threads` threads (one instance). */
export interface ThreadFit {
  threads: number;
  a0: number;
  a1: number;
  a2: number;
}

/**
 * Spikes of one time step: global neuron ids (instance·N + i), ascending. The array is valid only
 * during the call (the CPU engine refills it for the next step, so reporting spikes allocates
 * nothing): an observer that keeps ids copies them.
 */
export type SpikeObserver = (step: number, neuronIds: Uint32Array) => void;

export interface NeuronState {
  /** Membrane potential relative to E_L (mV). */
  vMv: Float32Array;
  iExcPa: Float32Array;
  iInhPa: Float32Array;
}

export interface BufferReport {
  name: string;
  bytes: number;
}

export interface Engine {
  readonly backend: BackendName;
  /** Human-readable description of where it runs (CPU model and threads, or GPU adapter). */
  readonly adapter: string;
  readonly layout: Layout;
  readonly batch: number;
  /** Time steps simulated since build or reset. */
  readonly stepCount: number;
  /** Connectivity actually used. */
  readonly connectivity: Exclude<ConnectivityMode, 'auto'>;
  /**
   * Advances every instance by `substeps` steps of dt. Resolves to the spike counts per
   * population summed over those steps: index instance·populationCount + population.
   */
  run(substeps: number): Promise<Uint32Array>;
  /**
   * The same run, synchronously, where the backend can step without waiting on the event loop
   * (the CPU backend; WebGPU's results arrive through mapAsync, a promise, so it has none). It may
   * block the calling thread, so only a worker thread (the tick thread) calls it. The counts it
   * returns are the backend's own buffer, refilled by the next run.
   */
  runSync?(substeps: number): Uint32Array;
  /** Extra input current (pA) per population of one instance, held until changed. */
  setPopulationCurrents(instance: number, currentsPa: Float32Array): void;
  /** Extra input current (pA) per neuron of one instance (length N), or null to clear. */
  setNeuronCurrents(instance: number, currentsPa: Float32Array | null): void;
  /** Receives every step's spikes while set (recording); null stops it. */
  onSpikes(observer: SpikeObserver | null): void;
  readState(instance: number): Promise<NeuronState>;
  /** Memory held for the simulation, buffer by buffer. */
  memory(): BufferReport[];
  /** Back to the initial state at step 0 (same connectivity). */
  reset(): Promise<void>;
  /**
   * Linux thread ids of the threads the engine runs besides the caller's (the CPU backend's
   * workers), so that a real-time caller can give them its scheduling; absent or empty where there
   * are none or they are not known. The engine only reports them: it never changes scheduling.
   */
  threadIds?(): readonly number[];
  dispose(): Promise<void>;
}

export class EngineError extends Error {
  override name = 'EngineError';
}

/** Validates the argument of Engine.run before a backend acts on it. */
export function checkSubsteps(substeps: number): void {
  if (!Number.isInteger(substeps) || substeps < 0) {
    throw new EngineError(`substeps must be an integer ≥ 0, got ${substeps}`);
  }
}

/** Validates a population current vector before it reaches a backend. */
export function checkCurrents(kind: string, currents: Float32Array, expectedLength: number): void {
  if (currents.length !== expectedLength) {
    throw new EngineError(`${kind} currents: expected ${expectedLength} values, got ${currents.length}`);
  }
  for (let k = 0; k < currents.length; k++) {
    if (!Number.isFinite(currents[k]))
      throw new EngineError(`${kind} currents: value ${k} is ${currents[k]}`);
  }
}
