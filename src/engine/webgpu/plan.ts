/**
 * Sizing: every device buffer's size from the batch and the adapter's limits, refused with a
 * message naming the limit before anything is allocated.
 */
import type { Layout } from '../../model/network.js';
import { EngineError } from '../engine.js';
import { INSTANCE_BYTES, NEURON_BYTES, SPIKE_ENTRY_BYTES, STATE_BYTES } from './packing.js';
import {
  type CounterLayout,
  counterLayout,
  MAX_SUBSTEPS_PER_SUBMIT,
  NEURONS_PER_INVOCATION,
  RUN_PARAMS_BYTES,
  SUBSTEP_BYTES,
  WORKGROUP_SIZE,
} from './step-kernel.js';

/** Spike ids the record buffer holds per submit, at least; see recordCapacity. */
const MIN_RECORD_ENTRIES = 1 << 18;
const RECORD_ENTRIES_PER_NEURON = 4;
const MIB = 2 ** 20;

export const BUFFER_NAMES = [
  'runParams',
  'substeps',
  'neurons',
  'instances',
  'stimPopulation',
  'stimNeuron',
  'states',
  'spikeLists',
  'counters',
  'recordIds',
  'countersReadback',
  'recordReadback',
] as const;
export type BufferName = (typeof BUFFER_NAMES)[number];

/** Sizes derived from the batch and the adapter's limits. */
export interface Plan {
  /** Neurons over all instances. */
  total: number;
  /** Populations over all instances: the length of run()'s counts. */
  populations: number;
  /** Bytes between two substeps' dynamic uniform offsets. */
  substepStride: number;
  /** Spike ids the record buffer holds. */
  recordCapacity: number;
  counters: CounterLayout;
  groupsX: number;
  groupsY: number;
  bytes: Record<BufferName, number>;
}

/** Refuses an adapter that cannot run the step kernel at all. */
export function checkAdapterLimits(limits: GPUSupportedLimits, storageBuffers: number): void {
  if (limits.maxStorageBuffersPerShaderStage < storageBuffers) {
    throw new EngineError(
      `this adapter allows ${limits.maxStorageBuffersPerShaderStage} storage buffers per shader stage (maxStorageBuffersPerShaderStage); the step kernel needs ${storageBuffers}`,
    );
  }
  if (limits.maxComputeWorkgroupSizeX < WORKGROUP_SIZE) {
    throw new EngineError(
      `this adapter's maxComputeWorkgroupSizeX is ${limits.maxComputeWorkgroupSizeX}; the step kernel needs ${WORKGROUP_SIZE}`,
    );
  }
}

/** The limits to request from the device: what the kernel needs, and the adapter's maxima for sizes. */
export function requiredLimits(limits: GPUSupportedLimits, storageBuffers: number): Record<string, number> {
  return {
    maxStorageBuffersPerShaderStage: storageBuffers,
    maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
    maxBufferSize: limits.maxBufferSize,
    maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
    maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
    maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
    // The plan's substep stride assumes the adapter's (often smaller) alignment.
    minUniformBufferOffsetAlignment: limits.minUniformBufferOffsetAlignment,
  };
}

export function planBuffers(layout: Layout, batch: number, limits: GPUSupportedLimits): Plan {
  const total = batch * layout.n;
  const populations = batch * layout.populationCount;
  const substepStride = Math.max(SUBSTEP_BYTES, limits.minUniformBufferOffsetAlignment);
  const bindingLimit = limits.maxStorageBufferBindingSize;
  const recordCapacity = Math.min(
    Math.floor(bindingLimit / 4),
    Math.max(MIN_RECORD_ENTRIES, RECORD_ENTRIES_PER_NEURON * total),
  );
  const counters = counterLayout(layout, batch);
  // One row of workgroups per instance (workgroup_id.y), each invocation owning 4 neurons.
  const groupsX = Math.ceil(layout.n / (WORKGROUP_SIZE * NEURONS_PER_INVOCATION));
  const groupsY = batch;
  const perDimension = limits.maxComputeWorkgroupsPerDimension;
  if (groupsX > perDimension || groupsY > perDimension) {
    throw new EngineError(
      `${batch} × ${layout.n} neurons need ${groupsX} × ${groupsY} workgroups, above this adapter's maxComputeWorkgroupsPerDimension (${perDimension})`,
    );
  }
  const bytes: Record<BufferName, number> = {
    runParams: RUN_PARAMS_BYTES,
    substeps: substepStride * MAX_SUBSTEPS_PER_SUBMIT,
    neurons: NEURON_BYTES * total,
    instances: INSTANCE_BYTES * batch,
    stimPopulation: 4 * populations,
    stimNeuron: 4 * total,
    states: STATE_BYTES * total,
    spikeLists: SPIKE_ENTRY_BYTES * 3 * total,
    counters: 4 * counters.words,
    recordIds: 4 * recordCapacity,
    countersReadback: 4 * counters.words,
    recordReadback: 4 * recordCapacity,
  };
  for (const name of BUFFER_NAMES) {
    const size = bytes[name];
    const limit = Math.min(bindingLimit, limits.maxBufferSize);
    if (size > limit) {
      const which = size > limits.maxBufferSize ? 'maxBufferSize' : 'maxStorageBufferBindingSize';
      throw new EngineError(
        `buffer "${name}" would need ${(size / MIB).toFixed(1)} MiB for ${batch} × ${layout.n} neurons, above this ` +
          `adapter's ${which} (${(limit / MIB).toFixed(1)} MiB); reduce N or the batch size`,
      );
    }
  }
  return { total, populations, substepStride, recordCapacity, counters, groupsX, groupsY, bytes };
}
