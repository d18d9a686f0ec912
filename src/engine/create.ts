/** Picks a backend: WebGPU where an adapter exists (for `auto`), the CPU backend otherwise. */
import { CpuEngine } from './cpu/cpu-engine.js';
import type { BackendChoice, Engine, EngineOptions } from './engine.js';

export async function createEngine(backend: BackendChoice, options: EngineOptions): Promise<Engine> {
  if (backend === 'cpu') return CpuEngine.create(options);
  if (backend === 'webgpu' || backend === 'auto') {
    const { createWebGpuEngine, webGpuAvailable } = await import('./webgpu/availability.js');
    if (backend === 'webgpu' || (await webGpuAvailable())) return createWebGpuEngine(options);
    return CpuEngine.create(options);
  }
  throw new Error(`unknown backend "${String(backend)}"; expected auto, webgpu or cpu`);
}
