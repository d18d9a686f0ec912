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
  /** CPU threads (main thread included). Default: chosen from N and the core count. */
  threads?: number;
  /**
   * The thread that calls `run` has real-time (FIFO) priority (`spikeloop run --realtime`):
   * helper threads must then wait without spinning, since a FIFO thread spinning for a helper on
   * the same core starves it. Default false.
   */
  realtime?: boolean;
}

/** Spikes of one time step: global neuron ids (instance·N + i), ascending. */
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
