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

/** Whether a backend can run here, and if not, why (one line). */
export async function backendAvailability(
  backend: BackendName,
): Promise<{ available: boolean; reason?: string }> {
  if (backend === 'cpu') return { available: true };
  try {
    const { webGpuAvailable, SOFTWARE_ADAPTER_PACKAGES } = await import('./webgpu/availability.js');
    return (await webGpuAvailable())
      ? { available: true }
      : { available: false, reason: `no WebGPU adapter (install ${SOFTWARE_ADAPTER_PACKAGES})` };
  } catch (error) {
    return { available: false, reason: `WebGPU backend failed to load: ${(error as Error).message}` };
  }
}

export async function createEngine(choice: BackendChoice, options: EngineOptions): Promise<Engine> {
  const backend = await resolveBackend(choice);
  if (backend === 'cpu') return CpuEngine.create(options);
  const { createWebGpuEngine } = await import('./webgpu/availability.js');
  return createWebGpuEngine(options);
}
