/** Entry points of the WebGPU backend for createEngine (loaded lazily, so the CPU path never loads Dawn). */
import type { EngineOptions } from '../engine.js';
import { WebGpuEngine } from './webgpu-engine.js';

export { hardwareWebGpuAvailable, SOFTWARE_ADAPTER_PACKAGES, webGpuAvailable } from './adapter.js';

export function createWebGpuEngine(options: EngineOptions): Promise<WebGpuEngine> {
  return WebGpuEngine.create(options);
}
