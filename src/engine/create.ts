/**
 * Picks a backend. `auto` takes WebGPU on a hardware adapter and the CPU backend otherwise: on a
 * machine whose only adapter is a software rasteriser (Mesa llvmpipe) the CPU backend is faster.
 */
import { CpuEngine } from './cpu/cpu-engine.js';
import type { BackendChoice, BackendName, Engine, EngineOptions } from './engine.js';
import { gpuDeviceNodesPresent } from './gpu-devices.js';

/** The backend `choice` stands for on this machine. */
export async function resolveBackend(choice: BackendChoice): Promise<BackendName> {
  if (choice === 'cpu' || choice === 'webgpu') return choice;
  if (choice !== 'auto') throw new Error(`unknown backend "${String(choice)}"; expected auto, webgpu or cpu`);
  // Without a GPU device node no hardware adapter exists: decided without loading Dawn.
  if (!gpuDeviceNodesPresent()) return 'cpu';
  const { hardwareWebGpuAvailable } = await import('./webgpu/availability.js');
  return (await hardwareWebGpuAvailable()) ? 'webgpu' : 'cpu';
}

export async function createEngine(choice: BackendChoice, options: EngineOptions): Promise<Engine> {
  const backend = await resolveBackend(choice);
  if (backend === 'cpu') return CpuEngine.create(options);
  const { createWebGpuEngine } = await import('./webgpu/availability.js');
  return createWebGpuEngine(options);
}
