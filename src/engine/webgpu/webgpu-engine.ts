/**
 * The WebGPU backend, running: the whole batch in GPU buffers of size O(B·N) (sized in plan.ts,
 * built in device.ts), stepped by one fused compute dispatch per substep (kernels/step.wgsl), all
 * substeps of a run() in one submit and one small readback (population counts) per run. Spikes
 * are identical to the CPU backend's.
 */
import { checkBatchCompatible, type Layout } from '../../model/network.js';
import {
  type BufferReport,
  checkCurrents,
  checkSubsteps,
  type Engine,
  EngineError,
  type EngineOptions,
  type NeuronState,
  type SpikeObserver,
} from '../engine.js';
import { acquireAdapter } from './adapter.js';
import { type GpuBuffers, type GpuSetup, setUpDevice } from './device.js';
import { STATE_BYTES } from './packing.js';
import type { Plan } from './plan.js';
import { MAX_SUBSTEPS_PER_SUBMIT, runParamsWords } from './step-kernel.js';

/**
 * llvmpipe (and lavapipe, which shares its gallivm compiler and names itself llvmpipe) stops any
 * shader after 65535 loop iterations in total per invocation (gallivm's LP_MAX_TGSI_LOOP_ITERATIONS)
 * without an error; the kernel flags steps that would come close.
 */
const LLVMPIPE_LOOP_ITERATIONS = 65535;
const NO_LOOP_LIMIT = 0xffffffff;

export class WebGpuEngine implements Engine {
  readonly backend = 'webgpu' as const;
  readonly adapter: string;
  readonly layout: Layout;
  readonly batch: number;
  readonly connectivity = 'procedural' as const;
  private steps = 0;
  private observer: SpikeObserver | null = null;
  private disposed = false;
  private busy = false;
  /** The first device loss or uncaptured error; every later call throws it. */
  private failure: EngineError | null = null;
  /** Current changes made while a run is in flight, applied when it ends (as on the CPU). */
  private deferredWrites: Array<() => void> = [];
  private stateReadback: GPUBuffer | null = null;
  private readonly initialStates: ArrayBuffer;
  private readonly minRefractorySteps: number;
  /** Spikes of one instance in one step that the gather loops can take on this driver. */
  private readonly maxSpikesPerStep: number;

  private readonly device: GPUDevice;
  private readonly pipeline: GPUComputePipeline;
  private readonly bindGroup: GPUBindGroup;
  private readonly buffers: GpuBuffers;
  private readonly plan: Plan;

  private constructor(setup: GpuSetup, adapter: string, layout: Layout, batch: number) {
    this.device = setup.device;
    this.pipeline = setup.pipeline;
    this.bindGroup = setup.bindGroup;
    this.buffers = setup.buffers;
    this.plan = setup.plan;
    this.adapter = adapter;
    this.layout = layout;
    this.batch = batch;
    this.initialStates = setup.packed.initialStates;
    this.minRefractorySteps = setup.packed.minRefractorySteps;
    // Both gather loops count against the limit; keep a margin for any loop the compiler adds.
    this.maxSpikesPerStep = /llvmpipe/i.test(adapter) ? LLVMPIPE_LOOP_ITERATIONS - 64 : NO_LOOP_LIMIT;
    const device = this.device;
    device.lost.then((info) => {
      if (!this.disposed) {
        this.failure ??= new EngineError(`the WebGPU device was lost (${info.reason}): ${info.message}`);
      }
    });
    device.addEventListener('uncapturederror', (event) => {
      const message = (event as GPUUncapturedErrorEvent).error.message;
      this.failure ??= new EngineError(`WebGPU error: ${message}`);
    });
  }

  static async create(options: EngineOptions): Promise<WebGpuEngine> {
    const networks = options.networks;
    checkBatchCompatible(networks);
    if (options.connectivity === 'stored') {
      throw new EngineError(
        'the WebGPU backend regenerates connectivity (procedural); stored rows are CPU-only',
      );
    }
    const acquired = await acquireAdapter();
    const setup = await setUpDevice(acquired, networks);
    return new WebGpuEngine(setup, acquired.description, networks[0]!.layout, networks.length);
  }

  get stepCount(): number {
    return this.steps;
  }

  async run(substeps: number): Promise<Uint32Array> {
    this.checkUsable();
    checkSubsteps(substeps);
    const totals = new Uint32Array(this.plan.populations);
    if (substeps === 0) return totals;
    this.busy = true;
    try {
      if (this.observer) await this.runRecorded(substeps, totals);
      else await this.runUnrecorded(substeps, totals);
      return totals;
    } finally {
      this.busy = false;
      this.applyDeferredWrites();
    }
  }

  /** All substeps in as few submits as MAX_SUBSTEPS_PER_SUBMIT allows, one readback at the end. */
  private async runUnrecorded(substeps: number, totals: Uint32Array): Promise<void> {
    for (let done = 0; done < substeps; ) {
      const chunk = Math.min(MAX_SUBSTEPS_PER_SUBMIT, substeps - done);
      const last = done + chunk === substeps;
      // Population counts and the loop-overflow flag.
      const readback = this.submitChunk(chunk, false, last ? this.plan.counters.recordTotal : 0);
      done += chunk;
      if (readback) await this.readCounters(readback, totals);
    }
  }

  /**
   * Like runUnrecorded, but each submit is short enough that its spikes cannot overflow the record
   * buffer even in the worst case (every neuron firing as often as refractoriness allows).
   */
  private async runRecorded(substeps: number, totals: Uint32Array): Promise<void> {
    const observer = this.observer!;
    const spikesPerNeuronMax = Math.floor(this.plan.recordCapacity / this.plan.total);
    // ceil(k / (t_ref + 1)) spikes per neuron at most in k substeps.
    const chunkMax = Math.max(
      1,
      Math.min(MAX_SUBSTEPS_PER_SUBMIT, spikesPerNeuronMax * (this.minRefractorySteps + 1)),
    );
    for (let done = 0; done < substeps; ) {
      const chunk = Math.min(chunkMax, substeps - done);
      const firstStep = this.steps;
      const layout = this.plan.counters;
      const words = this.submitChunk(chunk, true, layout.recordSteps + chunk);
      done += chunk;
      const counters = await this.readCounters(words, totals);
      const recorded = counters[layout.recordTotal]!;
      if (recorded > this.plan.recordCapacity) {
        throw new EngineError(
          `spike record overflow: ${recorded} spikes > capacity ${this.plan.recordCapacity}`,
        );
      }
      const ids = await this.readRecord(recorded);
      let offset = 0;
      for (let s = 0; s < chunk; s++) {
        const count = counters[layout.recordSteps + s]!;
        // Atomic appends arrive in any order; ascending ids make the output deterministic.
        const stepIds = ids.slice(offset, offset + count).sort();
        offset += count;
        observer(firstStep + s, stepIds);
      }
    }
  }

  /**
   * Encodes and submits `chunk` substeps; when `readWords` > 0, also copies that many counter
   * words to the readback buffer and clears them. Returns readWords (or 0).
   */
  private submitChunk(chunk: number, recording: boolean, readWords: number): number {
    const { device, buffers, plan } = this;
    device.queue.writeBuffer(
      buffers.runParams,
      0,
      runParamsWords({
        listPhase: this.steps % 3,
        recording,
        recordCapacity: plan.recordCapacity,
        maxSpikesPerStep: this.maxSpikesPerStep,
      }),
    );
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(this.pipeline);
    const offset = [0];
    for (let s = 0; s < chunk; s++) {
      offset[0] = s * plan.substepStride;
      pass.setBindGroup(0, this.bindGroup, offset);
      pass.dispatchWorkgroups(plan.groupsX, plan.groupsY);
    }
    pass.end();
    if (readWords > 0) {
      encoder.copyBufferToBuffer(buffers.counters, 0, buffers.countersReadback, 0, 4 * readWords);
      encoder.clearBuffer(buffers.counters, 0, 4 * readWords);
    }
    device.queue.submit([encoder.finish()]);
    this.steps += chunk;
    return readWords;
  }

  /** Maps the counter readback; adds the population counts to `totals`; returns a copy of the words. */
  private async readCounters(words: number, totals: Uint32Array): Promise<Uint32Array> {
    const buffer = this.buffers.countersReadback;
    await this.mapChecked(buffer, 4 * words);
    const counters = new Uint32Array(buffer.getMappedRange(0, 4 * words)).slice();
    buffer.unmap();
    if (counters[this.plan.counters.loopOverflow] !== 0) {
      this.failure ??= new EngineError(
        `more than ${this.maxSpikesPerStep} neurons of one instance spiked in one step: beyond the loop ` +
          `iteration limit of this adapter (${this.adapter}); the results would be wrong. Use --backend cpu, ` +
          'a smaller N, or a GPU adapter',
      );
      throw this.failure;
    }
    const first = this.plan.counters.populationCounts;
    for (let k = 0; k < totals.length; k++) totals[k]! += counters[first + k]!;
    return counters;
  }

  private async readRecord(count: number): Promise<Uint32Array> {
    if (count === 0) return new Uint32Array(0);
    const { device, buffers } = this;
    const encoder = device.createCommandEncoder();
    encoder.copyBufferToBuffer(buffers.recordIds, 0, buffers.recordReadback, 0, 4 * count);
    device.queue.submit([encoder.finish()]);
    await this.mapChecked(buffers.recordReadback, 4 * count);
    const ids = new Uint32Array(buffers.recordReadback.getMappedRange(0, 4 * count)).slice();
    buffers.recordReadback.unmap();
    return ids;
  }

  /**
   * Maps a readback buffer, surfacing device loss and uncaptured errors of the work before it:
   * a failed submit would otherwise leave stale data in the buffer and pass for a result.
   */
  private async mapChecked(buffer: GPUBuffer, bytes: number): Promise<void> {
    try {
      await buffer.mapAsync(GPUMapMode.READ, 0, bytes);
    } catch (error) {
      this.failure ??= new EngineError(
        `WebGPU readback failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    if (this.failure) {
      if (buffer.mapState === 'mapped') buffer.unmap();
      throw this.failure;
    }
  }

  setPopulationCurrents(instance: number, currentsPa: Float32Array): void {
    this.checkUsable(false);
    this.checkInstance(instance);
    const size = this.layout.populationCount;
    checkCurrents('population', currentsPa, size);
    const data = currentsPa.slice();
    this.write(() => this.device.queue.writeBuffer(this.buffers.stimPopulation, 4 * instance * size, data));
  }

  setNeuronCurrents(instance: number, currentsPa: Float32Array | null): void {
    this.checkUsable(false);
    this.checkInstance(instance);
    const n = this.layout.n;
    if (currentsPa !== null) checkCurrents('neuron', currentsPa, n);
    const data = currentsPa === null ? new Float32Array(n) : currentsPa.slice();
    this.write(() => this.device.queue.writeBuffer(this.buffers.stimNeuron, 4 * instance * n, data));
  }

  /** Writes now, or after the run in flight so that its later submits still see the old currents. */
  private write(apply: () => void): void {
    if (this.busy) this.deferredWrites.push(apply);
    else apply();
  }

  private applyDeferredWrites(): void {
    const writes = this.deferredWrites;
    this.deferredWrites = [];
    if (!this.disposed) for (const apply of writes) apply();
  }

  onSpikes(observer: SpikeObserver | null): void {
    this.observer = observer;
  }

  async readState(instance: number): Promise<NeuronState> {
    this.checkUsable();
    this.checkInstance(instance);
    const n = this.layout.n;
    const bytes = STATE_BYTES * n;
    this.stateReadback ??= this.device.createBuffer({
      label: 'stateReadback',
      size: bytes,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    this.busy = true;
    try {
      const encoder = this.device.createCommandEncoder();
      encoder.copyBufferToBuffer(this.buffers.states, bytes * instance, this.stateReadback, 0, bytes);
      this.device.queue.submit([encoder.finish()]);
      await this.mapChecked(this.stateReadback, bytes);
      const words = new Float32Array(this.stateReadback.getMappedRange(0, bytes));
      const state: NeuronState = {
        vMv: new Float32Array(n),
        iExcPa: new Float32Array(n),
        iInhPa: new Float32Array(n),
      };
      for (let i = 0; i < n; i++) {
        state.vMv[i] = words[4 * i]!;
        state.iExcPa[i] = words[4 * i + 1]!;
        state.iInhPa[i] = words[4 * i + 2]!;
      }
      this.stateReadback.unmap();
      return state;
    } finally {
      this.busy = false;
      this.applyDeferredWrites();
    }
  }

  memory(): BufferReport[] {
    const reports = Object.entries(this.buffers).map(([name, buffer]) => ({
      name,
      bytes: (buffer as GPUBuffer).size,
    }));
    if (this.stateReadback) reports.push({ name: 'stateReadback', bytes: this.stateReadback.size });
    return reports;
  }

  async reset(): Promise<void> {
    this.checkUsable();
    this.device.queue.writeBuffer(this.buffers.states, 0, this.initialStates);
    const encoder = this.device.createCommandEncoder();
    encoder.clearBuffer(this.buffers.counters);
    this.device.queue.submit([encoder.finish()]);
    this.steps = 0;
    // Surfaces a failure of the reset itself before the next run relies on it.
    await this.device.queue.onSubmittedWorkDone();
    if (this.failure) throw this.failure;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.deferredWrites = [];
    for (const buffer of Object.values(this.buffers)) (buffer as GPUBuffer).destroy();
    this.stateReadback?.destroy();
    // A live device keeps Node's event loop (and so the process) alive.
    this.device.destroy();
  }

  /** Throws on disposal, an earlier device failure, or (for GPU work) a call while one is in flight. */
  private checkUsable(exclusive = true): void {
    if (this.disposed) throw new EngineError('the engine has been disposed');
    if (this.failure) throw this.failure;
    if (exclusive && this.busy) {
      throw new EngineError(
        'a run(), readState() or reset() is still in flight: await it before the next call',
      );
    }
  }

  private checkInstance(instance: number): void {
    if (!Number.isInteger(instance) || instance < 0 || instance >= this.batch) {
      throw new EngineError(`instance must be in [0, ${this.batch}), got ${instance}`);
    }
  }
}
