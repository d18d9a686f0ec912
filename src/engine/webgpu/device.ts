/**
 * Set-up: the device, the buffers with the packed batch uploaded, and the step pipeline with its
 * bind group, all built from the kernel's declared bindings. Everything a WebGpuEngine runs on.
 */
import type { DerivedNetwork, Layout } from '../../model/network.js';
import { EngineError } from '../engine.js';
import type { AcquiredAdapter } from './adapter.js';
import { type PackedBatch, packBatch } from './packing.js';
import {
  BUFFER_NAMES,
  type BufferName,
  checkAdapterLimits,
  type Plan,
  planBuffers,
  requiredLimits,
} from './plan.js';
import {
  type KernelBinding,
  kernelBindings,
  kernelConstants,
  kernelSource,
  MAX_SUBSTEPS_PER_SUBMIT,
  SUBSTEP_BYTES,
} from './step-kernel.js';

export type GpuBuffers = Record<BufferName, GPUBuffer>;

/** The buffer behind each variable step.wgsl binds; a binding the host does not know fails the build. */
export const BUFFER_OF_VARIABLE: Readonly<Record<string, BufferName>> = {
  run: 'runParams',
  substep: 'substeps',
  neurons: 'neurons',
  instances: 'instances',
  stimPopulationPa: 'stimPopulation',
  stimNeuronPa: 'stimNeuron',
  states: 'states',
  spikeLists: 'spikeLists',
  counters: 'counters',
  recordIds: 'recordIds',
};
/** Bound at a dynamic offset: one Substep record per dispatch of a submit. */
const DYNAMIC_VARIABLE = 'substep';

const USAGE: Record<BufferName, () => number> = {
  runParams: () => GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  substeps: () => GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  neurons: () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
  instances: () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
  stimPopulation: () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
  stimNeuron: () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
  states: () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
  spikeLists: () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
  counters: () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
  recordIds: () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
  countersReadback: () => GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  recordReadback: () => GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
};

export interface GpuSetup {
  device: GPUDevice;
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  buffers: GpuBuffers;
  plan: Plan;
  packed: PackedBatch;
}

/** Opens a device on `acquired` sized for the batch, and builds everything on it (or destroys it). */
export async function setUpDevice(
  acquired: AcquiredAdapter,
  networks: readonly DerivedNetwork[],
): Promise<GpuSetup> {
  const layout = networks[0]!.layout;
  const batch = networks.length;
  const source = kernelSource();
  const bindings = kernelBindings(source);
  const storageBuffers = bindings.filter((binding) => binding.access !== 'uniform').length;
  const limits = acquired.adapter.limits;
  checkAdapterLimits(limits, storageBuffers);
  const plan = planBuffers(layout, batch, limits);
  const device = await acquired.adapter.requestDevice({
    requiredLimits: requiredLimits(limits, storageBuffers),
  });
  try {
    return await build(device, source, bindings, networks, layout, plan);
  } catch (error) {
    device.destroy();
    throw error;
  }
}

async function build(
  device: GPUDevice,
  source: string,
  bindings: readonly KernelBinding[],
  networks: readonly DerivedNetwork[],
  layout: Layout,
  plan: Plan,
): Promise<GpuSetup> {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  const packed = packBatch(networks);
  const buffers = {} as GpuBuffers;
  for (const name of BUFFER_NAMES) {
    buffers[name] = device.createBuffer({
      label: name,
      size: Math.max(16, plan.bytes[name]),
      usage: USAGE[name](),
    });
  }
  const substepIndices = new Uint32Array((plan.substepStride / 4) * MAX_SUBSTEPS_PER_SUBMIT);
  for (let s = 0; s < MAX_SUBSTEPS_PER_SUBMIT; s++) substepIndices[(s * plan.substepStride) / 4] = s;
  device.queue.writeBuffer(buffers.substeps, 0, substepIndices);
  device.queue.writeBuffer(buffers.neurons, 0, packed.neurons);
  device.queue.writeBuffer(buffers.instances, 0, packed.instances);
  device.queue.writeBuffer(buffers.states, 0, packed.initialStates);

  const module = device.createShaderModule({ label: 'step.wgsl', code: source });
  const info = await module.getCompilationInfo();
  const compileErrors = info.messages.filter((message) => message.type === 'error');
  if (compileErrors.length > 0) {
    // Line numbers count from the start of rng.wgsl, which is prepended.
    throw new EngineError(
      `the WGSL step kernel does not compile: ${compileErrors.map((m) => `line ${m.lineNum}: ${m.message}`).join('; ')}`,
    );
  }
  const bound = bindings.map((binding) => {
    const buffer = BUFFER_OF_VARIABLE[binding.variable];
    if (buffer === undefined) {
      throw new EngineError(`step.wgsl binds "${binding.variable}", which the host has no buffer for`);
    }
    return { ...binding, buffer, dynamic: binding.variable === DYNAMIC_VARIABLE };
  });
  for (const variable of Object.keys(BUFFER_OF_VARIABLE)) {
    if (!bound.some((binding) => binding.variable === variable)) {
      throw new EngineError(`step.wgsl declares no binding for "${variable}"`);
    }
  }
  const bindGroupLayout = device.createBindGroupLayout({
    entries: bound.map(({ binding, access, dynamic }) => ({
      binding,
      visibility: GPUShaderStage.COMPUTE,
      buffer: dynamic
        ? { type: access, hasDynamicOffset: true, minBindingSize: SUBSTEP_BYTES }
        : { type: access },
    })),
  });
  const pipeline = await device
    .createComputePipelineAsync({
      label: 'step',
      layout: device.createPipelineLayout({ bindGroupLayouts: [bindGroupLayout] }),
      compute: { module, entryPoint: 'step', constants: kernelConstants(layout, networks.length) },
    })
    .catch((error: unknown) => {
      throw new EngineError(
        `creating the WebGPU step pipeline failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    });
  const bindGroup = device.createBindGroup({
    layout: bindGroupLayout,
    entries: bound.map(({ binding, buffer, dynamic }) => ({
      binding,
      resource: dynamic ? { buffer: buffers[buffer], size: SUBSTEP_BYTES } : { buffer: buffers[buffer] },
    })),
  });
  const validation = await device.popErrorScope();
  const outOfMemory = await device.popErrorScope();
  const error = validation ?? outOfMemory;
  if (error) throw new EngineError(`building the WebGPU pipeline failed: ${error.message}`);
  return { device, pipeline, bindGroup, buffers, plan, packed };
}
