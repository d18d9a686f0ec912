/**
 * The WebGPU backend: the whole batch in GPU buffers of size O(B·N), stepped by one fused
 * compute dispatch per substep (kernels/step.wgsl), all substeps of a run() in one submit and
 * one small readback (population counts) per run. Spikes are identical to the CPU backend's.
 */
import { readFileSync } from 'node:fs';
import { checkBatchCompatible, type Layout } from '../../model/network.js';
import {
  type BufferReport,
  checkCurrents,
  type Engine,
  EngineError,
  type EngineOptions,
  type NeuronState,
  type SpikeObserver,
} from '../engine.js';
import { type AcquiredAdapter, acquireAdapter } from './adapter.js';
import { NEURON_BYTES, packBatch, SPIKE_ENTRY_BYTES, STATE_BYTES } from './packing.js';

const WORKGROUP_SIZE = 64;
/** Neurons per invocation (LANES in step.wgsl). */
const NEURONS_PER_INVOCATION = 4;
/** Substeps encoded in one submit; longer runs are split (still one readback per run). */
const MAX_SUBSTEPS_PER_SUBMIT = 1024;
/** Spike ids the record buffer holds per submit, at least; see recordCapacity. */
const MIN_RECORD_ENTRIES = 1 << 18;
const RECORD_ENTRIES_PER_NEURON = 4;
/** Storage buffers bound by the step kernel. */
const STORAGE_BUFFERS = 8;
const MIB = 2 ** 20;
/**
 * llvmpipe stops any shader after 65535 loop iterations in total per invocation (gallivm's
 * LP_MAX_TGSI_LOOP_ITERATIONS) without an error; the kernel flags steps that would come close.
 */
const LLVMPIPE_LOOP_ITERATIONS = 65535;
const NO_LOOP_LIMIT = 0xffffffff;

function kernelSource(): string {
  const read = (name: string) => readFileSync(new URL(`./kernels/${name}`, import.meta.url), 'utf8');
  return `${read('rng.wgsl')}\n${read('step.wgsl')}`;
}

interface GpuBuffers {
  runParams: GPUBuffer;
  substeps: GPUBuffer;
  neurons: GPUBuffer;
  instances: GPUBuffer;
  stimPopulation: GPUBuffer;
  stimNeuron: GPUBuffer;
  states: GPUBuffer;
  spikeLists: GPUBuffer;
  counters: GPUBuffer;
  recordIds: GPUBuffer;
  countersReadback: GPUBuffer;
  recordReadback: GPUBuffer;
}

/** Sizes derived from the batch and the adapter's limits. */
interface Plan {
  total: number;
  populations: number;
  substepStride: number;
  recordCapacity: number;
  counterWords: number;
  groupsX: number;
  groupsY: number;
  bytes: Record<keyof GpuBuffers, number>;
}

function planBuffers(layout: Layout, batch: number, limits: GPUSupportedLimits): Plan {
  const total = batch * layout.n;
  const populations = batch * layout.populationCount;
  const substepStride = Math.max(16, limits.minUniformBufferOffsetAlignment);
  const bindingLimit = limits.maxStorageBufferBindingSize;
  const recordCapacity = Math.min(
    Math.floor(bindingLimit / 4),
    Math.max(MIN_RECORD_ENTRIES, RECORD_ENTRIES_PER_NEURON * total),
  );
  // Population counts, loop-overflow flag, recorded total, recorded per substep, list lengths [3][B][E, I].
  const counterWords = populations + 2 + MAX_SUBSTEPS_PER_SUBMIT + 6 * batch;
  // One row of workgroups per instance (workgroup_id.y), each invocation owning 4 neurons.
  const groupsX = Math.ceil(layout.n / (WORKGROUP_SIZE * NEURONS_PER_INVOCATION));
  const groupsY = batch;
  const perDimension = limits.maxComputeWorkgroupsPerDimension;
  if (groupsX > perDimension || groupsY > perDimension) {
    throw new EngineError(
      `${batch} × ${layout.n} neurons need ${groupsX} × ${groupsY} workgroups, above this adapter's maxComputeWorkgroupsPerDimension (${perDimension})`,
    );
  }
  const bytes: Record<keyof GpuBuffers, number> = {
    runParams: 16,
    substeps: substepStride * MAX_SUBSTEPS_PER_SUBMIT,
    neurons: NEURON_BYTES * total,
    instances: 64 * batch,
    stimPopulation: 4 * populations,
    stimNeuron: 4 * total,
    states: STATE_BYTES * total,
    spikeLists: SPIKE_ENTRY_BYTES * 3 * total,
    counters: 4 * counterWords,
    recordIds: 4 * recordCapacity,
    countersReadback: 4 * counterWords,
    recordReadback: 4 * recordCapacity,
  };
  for (const [name, size] of Object.entries(bytes)) {
    const limit = Math.min(bindingLimit, limits.maxBufferSize);
    if (size > limit) {
      const which = size > limits.maxBufferSize ? 'maxBufferSize' : 'maxStorageBufferBindingSize';
      throw new EngineError(
        `buffer "${name}" would need ${(size / MIB).toFixed(1)} MiB for ${batch} × ${layout.n} neurons, above this ` +
          `adapter's ${which} (${(limit / MIB).toFixed(1)} MiB); reduce N or the batch size`,
      );
    }
  }
  return { total, populations, substepStride, recordCapacity, counterWords, groupsX, groupsY, bytes };
}

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

  private constructor(
    private readonly device: GPUDevice,
    private readonly pipeline: GPUComputePipeline,
    private readonly bindGroup: GPUBindGroup,
    private readonly buffers: GpuBuffers,
    private readonly plan: Plan,
    acquired: AcquiredAdapter,
    layout: Layout,
    batch: number,
    packed: { initialStates: ArrayBuffer; minRefractorySteps: number },
  ) {
    this.adapter = acquired.description;
    this.layout = layout;
    this.batch = batch;
    this.initialStates = packed.initialStates;
    this.minRefractorySteps = packed.minRefractorySteps;
    // Both gather loops count against the limit; keep a margin for any loop the compiler adds.
    this.maxSpikesPerStep = /llvmpipe/i.test(acquired.description)
      ? LLVMPIPE_LOOP_ITERATIONS - 64
      : NO_LOOP_LIMIT;
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
    const layout = networks[0]!.layout;
    const batch = networks.length;
    const acquired = await acquireAdapter();
    const adapterLimits = acquired.adapter.limits;
    if (adapterLimits.maxStorageBuffersPerShaderStage < STORAGE_BUFFERS) {
      throw new EngineError(
        `this adapter allows ${adapterLimits.maxStorageBuffersPerShaderStage} storage buffers per shader stage (maxStorageBuffersPerShaderStage); the step kernel needs ${STORAGE_BUFFERS}`,
      );
    }
    if (adapterLimits.maxComputeWorkgroupSizeX < WORKGROUP_SIZE) {
      throw new EngineError(
        `this adapter's maxComputeWorkgroupSizeX is ${adapterLimits.maxComputeWorkgroupSizeX}; the step kernel needs ${WORKGROUP_SIZE}`,
      );
    }
    const plan = planBuffers(layout, batch, adapterLimits);
    const device = await acquired.adapter.requestDevice({
      requiredLimits: {
        maxStorageBuffersPerShaderStage: STORAGE_BUFFERS,
        maxStorageBufferBindingSize: adapterLimits.maxStorageBufferBindingSize,
        maxBufferSize: adapterLimits.maxBufferSize,
        maxComputeWorkgroupsPerDimension: adapterLimits.maxComputeWorkgroupsPerDimension,
        maxComputeWorkgroupSizeX: adapterLimits.maxComputeWorkgroupSizeX,
        maxComputeInvocationsPerWorkgroup: adapterLimits.maxComputeInvocationsPerWorkgroup,
        // The plan's substep stride assumes the adapter's (often smaller) alignment.
        minUniformBufferOffsetAlignment: adapterLimits.minUniformBufferOffsetAlignment,
      },
    });
    try {
      return await WebGpuEngine.build(device, acquired, networks, layout, batch, plan);
    } catch (error) {
      device.destroy();
      throw error;
    }
  }

  private static async build(
    device: GPUDevice,
    acquired: AcquiredAdapter,
    networks: EngineOptions['networks'],
    layout: Layout,
    batch: number,
    plan: Plan,
  ): Promise<WebGpuEngine> {
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    const packed = packBatch(networks);
    const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
    const make = (name: keyof GpuBuffers, usage: number) =>
      device.createBuffer({ label: name, size: Math.max(16, plan.bytes[name]), usage });
    const buffers: GpuBuffers = {
      runParams: make('runParams', GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST),
      substeps: make('substeps', GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST),
      neurons: make('neurons', storage),
      instances: make('instances', storage),
      stimPopulation: make('stimPopulation', storage),
      stimNeuron: make('stimNeuron', storage),
      states: make('states', storage | GPUBufferUsage.COPY_SRC),
      spikeLists: make('spikeLists', storage),
      counters: make('counters', storage | GPUBufferUsage.COPY_SRC),
      recordIds: make('recordIds', storage | GPUBufferUsage.COPY_SRC),
      countersReadback: make('countersReadback', GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST),
      recordReadback: make('recordReadback', GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST),
    };
    const substepIndices = new Uint32Array((plan.substepStride / 4) * MAX_SUBSTEPS_PER_SUBMIT);
    for (let s = 0; s < MAX_SUBSTEPS_PER_SUBMIT; s++) substepIndices[(s * plan.substepStride) / 4] = s;
    device.queue.writeBuffer(buffers.substeps, 0, substepIndices);
    device.queue.writeBuffer(buffers.neurons, 0, packed.neurons);
    device.queue.writeBuffer(buffers.instances, 0, packed.instances);
    device.queue.writeBuffer(buffers.states, 0, packed.initialStates);

    const module = device.createShaderModule({ label: 'step.wgsl', code: kernelSource() });
    const info = await module.getCompilationInfo();
    const compileErrors = info.messages.filter((message) => message.type === 'error');
    if (compileErrors.length > 0) {
      // Line numbers count from the start of rng.wgsl, which is prepended.
      throw new EngineError(
        `the WGSL step kernel does not compile: ${compileErrors.map((m) => `line ${m.lineNum}: ${m.message}`).join('; ')}`,
      );
    }
    const bindGroupLayout = device.createBindGroupLayout({
      entries: [
        { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform' } },
        {
          binding: 1,
          visibility: GPUShaderStage.COMPUTE,
          buffer: { type: 'uniform', hasDynamicOffset: true, minBindingSize: 16 },
        },
        ...[2, 3, 4, 5].map((binding) => ({
          binding,
          visibility: GPUShaderStage.COMPUTE,
          buffer: { type: 'read-only-storage' as const },
        })),
        ...[6, 7, 8, 9].map((binding) => ({
          binding,
          visibility: GPUShaderStage.COMPUTE,
          buffer: { type: 'storage' as const },
        })),
      ],
    });
    const pipeline = await device
      .createComputePipelineAsync({
        label: 'step',
        layout: device.createPipelineLayout({ bindGroupLayouts: [bindGroupLayout] }),
        compute: {
          module,
          entryPoint: 'step',
          constants: {
            WORKGROUP_SIZE,
            N: layout.n,
            N_E: layout.nE,
            BATCH: batch,
            CLUSTERS: layout.clusters,
            N_E_PER_CLUSTER: layout.nEPerCluster,
            N_I_PER_CLUSTER: Math.max(1, layout.nIPerCluster),
            MAX_SUBSTEPS: MAX_SUBSTEPS_PER_SUBMIT,
          },
        },
      })
      .catch((error: unknown) => {
        throw new EngineError(
          `creating the WebGPU step pipeline failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      });
    const bindGroup = device.createBindGroup({
      layout: bindGroupLayout,
      entries: [
        { binding: 0, resource: { buffer: buffers.runParams } },
        { binding: 1, resource: { buffer: buffers.substeps, size: 16 } },
        { binding: 2, resource: { buffer: buffers.neurons } },
        { binding: 3, resource: { buffer: buffers.instances } },
        { binding: 4, resource: { buffer: buffers.stimPopulation } },
        { binding: 5, resource: { buffer: buffers.stimNeuron } },
        { binding: 6, resource: { buffer: buffers.states } },
        { binding: 7, resource: { buffer: buffers.spikeLists } },
        { binding: 8, resource: { buffer: buffers.counters } },
        { binding: 9, resource: { buffer: buffers.recordIds } },
      ],
    });
    const validation = await device.popErrorScope();
    const outOfMemory = await device.popErrorScope();
    const error = validation ?? outOfMemory;
    if (error) throw new EngineError(`building the WebGPU pipeline failed: ${error.message}`);
    return new WebGpuEngine(device, pipeline, bindGroup, buffers, plan, acquired, layout, batch, packed);
  }

  get stepCount(): number {
    return this.steps;
  }

  async run(substeps: number): Promise<Uint32Array> {
    this.checkUsable();
    if (!Number.isInteger(substeps) || substeps < 0)
      throw new EngineError(`substeps must be ≥ 0, got ${substeps}`);
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
      const readback = this.submitChunk(chunk, false, last ? this.plan.populations + 1 : 0);
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
      const words = this.submitChunk(chunk, true, this.plan.populations + 2 + chunk);
      done += chunk;
      const counters = await this.readCounters(words, totals);
      const recorded = counters[this.plan.populations + 1]!;
      if (recorded > this.plan.recordCapacity) {
        throw new EngineError(
          `spike record overflow: ${recorded} spikes > capacity ${this.plan.recordCapacity}`,
        );
      }
      const ids = await this.readRecord(recorded);
      let offset = 0;
      for (let s = 0; s < chunk; s++) {
        const count = counters[this.plan.populations + 2 + s]!;
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
      new Uint32Array([this.steps % 3, recording ? 1 : 0, plan.recordCapacity, this.maxSpikesPerStep]),
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
    if (counters[this.plan.populations] !== 0) {
      this.failure ??= new EngineError(
        `more than ${this.maxSpikesPerStep} neurons of one instance spiked in one step: beyond the loop ` +
          `iteration limit of this adapter (${this.adapter}); the results would be wrong. Use --backend cpu, ` +
          'a smaller N, or a GPU adapter',
      );
      throw this.failure;
    }
    for (let k = 0; k < totals.length; k++) totals[k]! += counters[k]!;
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
