/**
 * Cost measurement of one backend at one size (docs/architecture.md): fixed cost (build, including
 * pipeline creation), variable cost (wall time per biological time, with checkpoints to check it
 * is linear in biological time), synaptic events per second, memory, and the per-call overhead
 * of a tick on a tiny network.
 */
import type { CpuEngine } from '../engine/cpu/cpu-engine.js';
import { createEngine } from '../engine/create.js';
import type { BackendName, ThreadFit } from '../engine/engine.js';
import { tallySpikes } from '../engine/offline.js';
import { deriveNetwork, synapseCount } from '../model/network.js';
import { type ModelName, modelParams } from '../model/params.js';
import { fitLine, type LineFit } from './fit.js';
import type { ParallelReference } from './parallel-reference.js';

export interface CostOptions {
  model: ModelName;
  durationS: number;
  warmupS: number;
  /** Substeps per engine call: 10 (one 1 ms tick) measures what the real-time loop pays. */
  stepsPerCall: number;
  seed: number;
  batch?: number;
  /** CPU backend threads (default: the engine's choice from N and the cores). */
  threads?: number;
  /** This machine's measured CPU cost per thread count, for the default threads (EngineOptions). */
  measuredThreadCost?: readonly ThreadFit[];
  /**
   * Timed windows of `durationS` each, back to back on the same engine after warm-up (default 1):
   * the RT reported is their median, so that one window disturbed by the machine (a shared VM's
   * neighbours, an interrupt storm) does not decide the result; rtfMin/rtfMax give the spread.
   */
  repeats?: number;
  /** Called after build and warm-up, right before the timed run (a reference copy waits here for the others). */
  beforeMeasure?: () => Promise<void>;
}

export interface CostMeasurement {
  backend: BackendName;
  adapter: string;
  n: number;
  batch: number;
  synapses: number;
  /** Engine construction: network derivation, connectivity, pipelines, buffers. */
  buildS: number;
  /** Biological time of one timed window. */
  durationS: number;
  /** Wall time of the median window (the RT's window). */
  wallS: number;
  /** Median over the windows of wall / biological time. */
  rtf: number;
  /** Timed windows (CostOptions.repeats) and the fastest and slowest window's RT. */
  repeats: number;
  rtfMin: number;
  rtfMax: number;
  rateE: number;
  rateI: number;
  eventsPerS: number;
  /** CPU backend: threads that stepped the network (null on WebGPU). */
  threads: number | null;
  /**
   * CPU backend: wall time per synaptic event times threads (ns), i.e. what one event costs one
   * thread with the neuron updates and barriers included; null on WebGPU or without events.
   */
  nsPerEventPerThread: number | null;
  /** Resident set size of the process after the run. */
  rssBytes: number;
  /** What the engine reports holding (host or device buffers). */
  engineBytes: number;
  /** Wall time against biological time within the run: slope ≈ rtf when the cost is linear. */
  wallVsBio: LineFit;
  /** CPU backend with `bench engine --reference`: what parallel threads can give on this machine. */
  reference?: ParallelReference;
}

export async function measureCost(
  backend: BackendName,
  n: number,
  options: CostOptions,
): Promise<CostMeasurement> {
  const batch = options.batch ?? 1;
  const networks = Array.from({ length: batch }, (_, b) =>
    deriveNetwork(modelParams(options.model, n, { seed: options.seed + b })),
  );
  const buildStart = performance.now();
  const engine = await createEngine(backend, {
    networks,
    threads: options.threads,
    measuredThreadCost: options.measuredThreadCost,
  });
  const buildS = (performance.now() - buildStart) / 1000;
  try {
    const { dtMs } = networks[0]!.params;
    const call = options.stepsPerCall;
    const warmupSteps = Math.round((options.warmupS * 1000) / dtMs);
    const steps = Math.round((options.durationS * 1000) / dtMs);
    for (let done = 0; done < warmupSteps; done += call) await engine.run(Math.min(call, warmupSteps - done));
    const { layout } = engine;
    const totals = new Float64Array(batch * layout.populationCount);
    const repeats = options.repeats ?? 1;
    const checkpointEvery = Math.max(call, Math.round(steps / 8 / call) * call);
    await options.beforeMeasure?.();
    const bioS: number[] = [];
    const wallAt: number[] = [];
    const windowWallS: number[] = [];
    const start = performance.now();
    for (let window = 0; window < repeats; window++) {
      const windowStart = performance.now();
      for (let done = 0; done < steps; ) {
        const now = Math.min(call, steps - done);
        const counts = await engine.run(now);
        for (let k = 0; k < counts.length; k++) totals[k]! += counts[k]!;
        done += now;
        if (done % checkpointEvery === 0 || done === steps) {
          bioS.push(((window * steps + done) * dtMs) / 1000);
          wallAt.push((performance.now() - start) / 1000);
        }
      }
      windowWallS.push((performance.now() - windowStart) / 1000);
    }
    const sortedWallS = [...windowWallS].sort((a, b) => a - b);
    // The lower median for an even count: a window that was actually measured.
    const wallS = sortedWallS[(repeats - 1) >> 1]!;
    const { spikesE, spikesI, events } = tallySpikes(networks, totals);
    const durationS = (steps * dtMs) / 1000;
    const eventsPerWindow = events / repeats;
    const threads = engine.backend === 'cpu' ? (engine as CpuEngine).threads : null;
    return {
      backend: engine.backend,
      adapter: engine.adapter,
      n,
      batch,
      synapses: Math.round(synapseCount(networks[0]!.params)),
      buildS,
      durationS,
      wallS,
      rtf: wallS / durationS,
      repeats,
      rtfMin: sortedWallS[0]! / durationS,
      rtfMax: sortedWallS[repeats - 1]! / durationS,
      rateE: spikesE / (layout.nE * durationS * repeats * batch),
      rateI: spikesI / (layout.nI * durationS * repeats * batch),
      eventsPerS: eventsPerWindow / wallS,
      threads,
      nsPerEventPerThread:
        threads !== null && eventsPerWindow > 0 ? (wallS * 1e9 * threads) / eventsPerWindow : null,
      rssBytes: process.memoryUsage().rss,
      engineBytes: engine.memory().reduce((sum, buffer) => sum + buffer.bytes, 0),
      wallVsBio: bioS.length >= 2 ? fitLine(bioS, wallAt) : { intercept: 0, slope: wallS / durationS, r2: 1 },
    };
  } finally {
    await engine.dispose();
  }
}

export interface TickOverhead {
  backend: BackendName;
  n: number;
  stepsPerCall: number;
  calls: number;
  /** Mean wall time of one engine call on a network too small to cost anything else. */
  perCallUs: number;
}

/** Per-tick overhead: many calls of `stepsPerCall` substeps on a tiny network (N = 100). */
export async function measureTickOverhead(
  backend: BackendName,
  options: { model: ModelName; stepsPerCall: number; calls: number; n?: number; threads?: number },
): Promise<TickOverhead> {
  const n = options.n ?? 100;
  const engine = await createEngine(backend, {
    networks: [deriveNetwork(modelParams(options.model, n))],
    threads: options.threads,
  });
  try {
    // Warm the code paths (JIT, pipeline caches) before timing.
    for (let k = 0; k < Math.min(100, options.calls); k++) await engine.run(options.stepsPerCall);
    const start = performance.now();
    for (let k = 0; k < options.calls; k++) await engine.run(options.stepsPerCall);
    const perCallUs = ((performance.now() - start) * 1000) / options.calls;
    return {
      backend: engine.backend,
      n,
      stepsPerCall: options.stepsPerCall,
      calls: options.calls,
      perCallUs,
    };
  } finally {
    await engine.dispose();
  }
}
