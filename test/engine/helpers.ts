/** Shared fixtures for engine tests: small networks built in code, and the backends under test. */
import { createEngine } from '../../src/engine/create.js';
import type { BackendName, Engine, EngineOptions } from '../../src/engine/engine.js';
import { type DerivedNetwork, deriveNetwork } from '../../src/model/network.js';
import { DEFAULT_PARAMS, type ModelParams } from '../../src/model/params.js';

/** Every backend runs the same behavioural tests; WebGPU uses Mesa's software adapter in CI. */
export const BACKENDS: readonly BackendName[] = ['cpu', 'webgpu'];

/** A tiny unconnected network without background input: single-neuron experiments. */
export function isolatedNeurons(nExcitatory: number, overrides: Partial<ModelParams> = {}): DerivedNetwork {
  return deriveNetwork({
    ...DEFAULT_PARAMS,
    nExcitatory,
    nInhibitory: 0,
    clusters: 1,
    pEE: 0,
    pEI: 0,
    pIE: 0,
    pII: 0,
    backgroundThresholdE: 0,
    initialVoltageLowMv: 0,
    initialVoltageHighMv: 0,
    ...overrides,
  });
}

export function buildEngine(backend: BackendName, options: EngineOptions): Promise<Engine> {
  return createEngine(backend, options);
}

/** Runs `steps` steps and returns every step's spike ids (copied). */
export async function collectSpikes(engine: Engine, steps: number, chunk = 500): Promise<Uint32Array[]> {
  const spikes: Uint32Array[] = [];
  engine.onSpikes((step, ids) => {
    spikes[step] = ids.slice();
  });
  for (let done = 0; done < steps; done += chunk) await engine.run(Math.min(chunk, steps - done));
  engine.onSpikes(null);
  return Array.from({ length: steps }, (_, k) => spikes[k] ?? new Uint32Array(0));
}
