/**
 * The host's side of kernels/step.wgsl, each layout named once: the bindings are read from the
 * kernel's own `@binding(k) var<…>` declarations (numbers and access written only there), the
 * counters buffer and the RunParams uniform are laid out here and handed to the kernel as
 * pipeline constants, so neither side repeats the other's offsets.
 */
import { readFileSync } from 'node:fs';
import type { Layout } from '../../model/network.js';
import { EngineError } from '../engine.js';

export const WORKGROUP_SIZE = 64;
/** Neurons per invocation (LANES in step.wgsl). */
export const NEURONS_PER_INVOCATION = 4;
/** Substeps encoded in one submit; longer runs are split (still one readback per run). */
export const MAX_SUBSTEPS_PER_SUBMIT = 1024;

/** step.wgsl with rng.wgsl prepended (compiler line numbers count from rng.wgsl's first line). */
export function kernelSource(): string {
  const read = (name: string) => readFileSync(new URL(`./kernels/${name}`, import.meta.url), 'utf8');
  return `${read('rng.wgsl')}\n${read('step.wgsl')}`;
}

export type BindingAccess = 'uniform' | 'read-only-storage' | 'storage';

export interface KernelBinding {
  binding: number;
  /** The WGSL variable name. */
  variable: string;
  access: BindingAccess;
}

const DECLARATION = /@group\(0\)\s*@binding\((\d+)\)\s*var<([^>]+)>\s*(\w+)\s*:/g;
const ACCESS: Record<string, BindingAccess> = {
  uniform: 'uniform',
  'storage,read': 'read-only-storage',
  'storage,read_write': 'storage',
};

/** The kernel's bind group 0, in binding order, as its WGSL declares it. */
export function kernelBindings(source: string): KernelBinding[] {
  const bindings: KernelBinding[] = [];
  for (const [, binding, space, variable] of source.matchAll(DECLARATION)) {
    const access = ACCESS[space!.replace(/\s+/g, '')];
    if (access === undefined)
      throw new EngineError(`step.wgsl: unsupported address space var<${space}> ${variable}`);
    bindings.push({ binding: Number(binding), variable: variable!, access });
  }
  return bindings.sort((a, b) => a.binding - b.binding);
}

/**
 * The u32 words of the `counters` buffer (atomics in the kernel). Population counts and the
 * recording words are read back and cleared after a submit; the spike-list lengths stay on the
 * device, since step t+1 reads the lengths step t wrote.
 */
export interface CounterLayout {
  /** Spike counts per population: words [0, batch·populationCount), instance-major. */
  populationCounts: number;
  /** Set to 1 when a step had more spikes than the driver's loop limit lets the kernel gather. */
  loopOverflow: number;
  /** Spike ids appended to the record in this submit. */
  recordTotal: number;
  /** Spikes recorded per substep of the submit (MAX_SUBSTEPS_PER_SUBMIT words). */
  recordSteps: number;
  /** Spike list lengths [list 0..2][instance][E, I]. */
  listCounts: number;
  words: number;
}

export function counterLayout(layout: Layout, batch: number): CounterLayout {
  const loopOverflow = batch * layout.populationCount;
  const recordTotal = loopOverflow + 1;
  const recordSteps = recordTotal + 1;
  const listCounts = recordSteps + MAX_SUBSTEPS_PER_SUBMIT;
  return {
    populationCounts: 0,
    loopOverflow,
    recordTotal,
    recordSteps,
    listCounts,
    words: listCounts + 3 * batch * 2,
  };
}

/** The pipeline-overridable constants of step.wgsl. */
export function kernelConstants(layout: Layout, batch: number): Record<string, number> {
  const counters = counterLayout(layout, batch);
  return {
    WORKGROUP_SIZE,
    N: layout.n,
    N_E: layout.nE,
    BATCH: batch,
    CLUSTERS: layout.clusters,
    N_E_PER_CLUSTER: layout.nEPerCluster,
    // At least 1: the kernel divides by it, also for networks without I neurons.
    N_I_PER_CLUSTER: Math.max(1, layout.nIPerCluster),
    POPULATIONS: layout.populationCount,
    MAX_SUBSTEPS: MAX_SUBSTEPS_PER_SUBMIT,
    LOOP_OVERFLOW: counters.loopOverflow,
    RECORD_TOTAL: counters.recordTotal,
    RECORD_STEPS: counters.recordSteps,
    LIST_COUNTS: counters.listCounts,
  };
}

/** struct RunParams of step.wgsl, field by field in declaration order. */
export interface RunParams {
  /** Global step of the submit's first substep, modulo 3: selects the spike lists. */
  listPhase: number;
  recording: boolean;
  recordCapacity: number;
  /** Spikes of one instance per step the gather loops can take; 0xffffffff where unlimited. */
  maxSpikesPerStep: number;
}

export const RUN_PARAMS_BYTES = 16;

export function runParamsWords(params: RunParams): Uint32Array {
  return new Uint32Array([
    params.listPhase,
    params.recording ? 1 : 0,
    params.recordCapacity,
    params.maxSpikesPerStep,
  ]);
}

/** struct Substep: one u32 per dispatch, at a dynamic uniform offset of `stride` bytes. */
export const SUBSTEP_BYTES = 16;
