/** The CPU kernel (build/kernel.wasm, compiled from assembly/kernel.ts) and its exports. */
import { readFileSync } from 'node:fs';
import { EngineError } from '../engine.js';

export interface KernelExports {
  update(
    from: number,
    to: number,
    accExc: number,
    accInh: number,
    vMv: number,
    iExcPa: number,
    iInhPa: number,
    refractory: number,
    p22: number,
    p11Exc: number,
    p11Inh: number,
    p21Exc: number,
    p21Inh: number,
    drive: number,
    spikeList: number,
    thresholdMv: number,
    resetMv: number,
    refractorySteps: number,
    population: number,
    instanceBase: number,
    populationCounts: number,
    uniform: number,
  ): number;
  deliverStored(
    spikeList: number,
    count: number,
    n: number,
    nE: number,
    targets: number,
    wideTargets: number,
    segmentStart: number,
    segmentWeights: number,
    accExc: number,
    accInh: number,
    lo: number,
  ): void;
  connectSegment(
    preKey: number,
    postKeys: number,
    start: number,
    end: number,
    threshold: number,
    self: number,
    offset: number,
    out: number,
    wideTargets: number,
  ): number;
  copyBytes(target: number, source: number, bytes: number): void;
  accumulateSegment(
    preKey: number,
    postKeys: number,
    start: number,
    end: number,
    threshold: number,
    self: number,
    acc: number,
    weight: number,
  ): void;
  prepareDrive(
    from: number,
    to: number,
    instanceBase: number,
    population: number,
    backgroundPa: number,
    stimPopulation: number,
    stimNeuron: number,
    p20: number,
    drive: number,
  ): void;
}

let compiled: WebAssembly.Module | undefined;

/** The compiled kernel (build/kernel.wasm, made by `npm run build`), compiled once per thread. */
export function kernelModule(): WebAssembly.Module {
  if (compiled) return compiled;
  const url = new URL('../../../build/kernel.wasm', import.meta.url);
  let bytes: Buffer;
  try {
    bytes = readFileSync(url);
  } catch {
    throw new EngineError(`the CPU kernel ${url.pathname} is missing: run \`npm run build\``);
  }
  compiled = new WebAssembly.Module(bytes);
  return compiled;
}

/** An instance of the kernel over the shared memory of a CPU engine (one per thread). */
export function instantiateKernel(memory: WebAssembly.Memory): KernelExports {
  const instance = new WebAssembly.Instance(kernelModule(), {
    env: {
      memory,
      abort: () => {
        throw new EngineError('the CPU kernel aborted');
      },
    },
  });
  return instance.exports as unknown as KernelExports;
}
