/**
 * Offline simulation as fast as possible: build, warm up, run, and measure the numbers of
 * docs/architecture.md (rates, wall time, real-time factor, synaptic events per second).
 */
import { type DerivedNetwork, deriveNetwork, synapseCount } from '../model/network.js';
import { type ModelName, type ModelParams, modelParams } from '../model/params.js';
import { createEngine } from './create.js';
import type { BackendChoice, ConnectivityMode, Engine, SpikeObserver, ThreadFit } from './engine.js';

export interface OfflineOptions {
  model: ModelName;
  n: number;
  durationS: number;
  warmupS: number;
  backend: BackendChoice;
  seed: number;
  batch: number;
  connectivity?: ConnectivityMode;
  threads?: number;
  /** This machine's measured CPU cost per thread count, for the default threads (EngineOptions). */
  measuredThreadCost?: readonly ThreadFit[];
  overrides?: Partial<ModelParams>;
  /** Receives every spike of the measured part (after warm-up), with steps counted from its start. */
  onSpikes?: SpikeObserver;
  /** Steps per engine call; larger amortises per-call overhead. */
  chunkSteps?: number;
}

export interface OfflineResult {
  backend: string;
  adapter: string;
  connectivity: string;
  n: number;
  batch: number;
  synapses: number;
  durationS: number;
  buildS: number;
  wallS: number;
  rtf: number;
  rateE: number;
  rateI: number;
  spikes: number;
  events: number;
  eventsPerS: number;
  /** Spikes per population summed over the measured part, per instance. */
  populationCounts: Uint32Array;
}

/** Mean out-degree of an E and of an I neuron: the synaptic events one of its spikes causes. */
export function meanOutDegree(network: DerivedNetwork): { e: number; i: number } {
  const { params } = network;
  const { nE, nI } = network.layout;
  return {
    e: params.pEE * (nE - 1) + params.pIE * nI,
    i: params.pEI * nE + params.pII * (nI - 1),
  };
}

/**
 * E and I spikes and the synaptic events they caused, from per-population counts of a batch
 * (index instance·populationCount + population).
 */
export function tallySpikes(networks: readonly DerivedNetwork[], totals: ArrayLike<number>) {
  let spikesE = 0;
  let spikesI = 0;
  let events = 0;
  for (const [b, network] of networks.entries()) {
    const { layout } = network;
    const degree = meanOutDegree(network);
    for (let pop = 0; pop < layout.populationCount; pop++) {
      const count = totals[b * layout.populationCount + pop]!;
      if (pop < layout.clusters) {
        spikesE += count;
        events += count * degree.e;
      } else {
        spikesI += count;
        events += count * degree.i;
      }
    }
  }
  return { spikesE, spikesI, events };
}

export function batchNetworks(options: OfflineOptions): DerivedNetwork[] {
  return Array.from({ length: options.batch }, (_, b) =>
    deriveNetwork(modelParams(options.model, options.n, { ...options.overrides, seed: options.seed + b })),
  );
}

export async function simulateOffline(options: OfflineOptions): Promise<OfflineResult> {
  if (!(options.durationS > 0)) throw new Error(`--duration must be > 0 s, got ${options.durationS}`);
  if (!(options.warmupS >= 0)) throw new Error(`--warmup must be ≥ 0 s, got ${options.warmupS}`);
  if (!Number.isInteger(options.batch) || options.batch < 1)
    throw new Error(`--batch must be ≥ 1, got ${options.batch}`);
  const networks = batchNetworks(options);
  const buildStart = performance.now();
  const engine = await createEngine(options.backend, {
    networks,
    connectivity: options.connectivity,
    threads: options.threads,
    measuredThreadCost: options.measuredThreadCost,
  });
  const buildS = (performance.now() - buildStart) / 1000;
  try {
    return await measure(engine, networks, options, buildS);
  } finally {
    await engine.dispose();
  }
}

async function measure(
  engine: Engine,
  networks: DerivedNetwork[],
  options: OfflineOptions,
  buildS: number,
): Promise<OfflineResult> {
  const dtMs = networks[0]!.params.dtMs;
  const chunk = options.chunkSteps ?? 1000;
  const warmupSteps = Math.round((options.warmupS * 1000) / dtMs);
  const steps = Math.round((options.durationS * 1000) / dtMs);
  for (let done = 0; done < warmupSteps; done += chunk) await engine.run(Math.min(chunk, warmupSteps - done));
  if (options.onSpikes) {
    const observer = options.onSpikes;
    engine.onSpikes((step, ids) => observer(step - warmupSteps, ids));
  }
  const { layout } = engine;
  const totals = new Uint32Array(engine.batch * layout.populationCount);
  const wallStart = performance.now();
  for (let done = 0; done < steps; done += chunk) {
    const counts = await engine.run(Math.min(chunk, steps - done));
    for (let k = 0; k < counts.length; k++) totals[k]! += counts[k]!;
  }
  const wallS = (performance.now() - wallStart) / 1000;
  engine.onSpikes(null);

  const { spikesE, spikesI, events } = tallySpikes(networks, totals);
  const durationS = (steps * dtMs) / 1000;
  const instanceS = durationS * engine.batch;
  return {
    backend: engine.backend,
    adapter: engine.adapter,
    connectivity: engine.connectivity,
    n: layout.n,
    batch: engine.batch,
    synapses: Math.round(
      networks.reduce((sum, network) => sum + synapseCount(network.params), 0) / engine.batch,
    ),
    durationS,
    buildS,
    wallS,
    rtf: wallS / durationS,
    rateE: layout.nE > 0 ? spikesE / (layout.nE * instanceS) : 0,
    rateI: layout.nI > 0 ? spikesI / (layout.nI * instanceS) : 0,
    spikes: spikesE + spikesI,
    events: Math.round(events),
    eventsPerS: events / wallS,
    populationCounts: totals,
  };
}
