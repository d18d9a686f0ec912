/** Placeholder until the WebGPU backend lands: reports that no adapter-backed engine exists yet. */
import { EngineError, type EngineOptions } from '../engine.js';

export async function webGpuAvailable(): Promise<boolean> {
  return false;
}

export async function createWebGpuEngine(_options: EngineOptions): Promise<never> {
  throw new EngineError('the WebGPU backend is not built yet; use --backend cpu');
}
