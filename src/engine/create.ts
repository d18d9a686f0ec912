/**
 * Picks a backend. `auto` takes WebGPU on a hardware adapter and the CPU backend otherwise: on a
 * machine whose only adapter is a software rasteriser (Mesa llvmpipe) the CPU backend is faster.
 */
import { CpuEngine } from './cpu/cpu-engine.js';
import type { BackendChoice, Engine, EngineOptions } from './engine.js';

export async function createEngine(backend: BackendChoice, options: EngineOptions): Promise<Engine> {
  if (backend === 'cpu') return CpuEngine.create(options);
  if (backend === 'webgpu' || backend === 'auto') {
    const { createWebGpuEngine, hardwareWebGpuAvailable } = await import('./webgpu/availability.js');
    if (backend === 'webgpu' || (await hardwareWebGpuAvailable())) return createWebGpuEngine(options);
    return CpuEngine.create(options);
  }
  throw new Error(`unknown backend "${String(backend)}"; expected auto, webgpu or cpu`);
}
