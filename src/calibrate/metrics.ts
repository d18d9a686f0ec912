/**
 * Activity metrics of one network instance, as pure functions of its spike train: E and I rates,
 * irregularity (CV of inter-spike intervals), count variability (Fano factor) and metastability
 * (how many clusters are active over time, how long they stay active, how often activity switches).
 *
 * Metrics that have no defined value (no neuron with enough spikes, a cluster never active) are
 * NaN; the sweep writes them as null / empty cells.
 */
import type { Layout } from '../model/network.js';

/** The spikes of one instance: parallel arrays, ordered by step (as the engine delivers them). */
export interface SpikeRecord {
  layout: Layout;
  dtMs: number;
  /** Length of the recording in steps. */
  durationSteps: number;
  /** Step of each spike, counted from the start of the recording. */
  steps: Uint32Array;
  /** Local neuron id (0..N−1) of each spike. */
  neurons: Uint32Array;
}

export interface MetricOptions {
  /** Window in which cluster rates are smoothed before deciding which clusters are active. */
  windowMs: number;
  /** A cluster is active in a window when its rate exceeds this factor × the mean E rate. */
  activeFactor: number;
  /** Window in which each neuron's spikes are counted for the Fano factor. */
  fanoWindowMs: number;
  /** Neurons with fewer spikes are left out of the CV (they have too few intervals). */
  minSpikesForCv: number;
}

export const DEFAULT_METRIC_OPTIONS: Readonly<MetricOptions> = Object.freeze({
  windowMs: 50,
  activeFactor: 2,
  fanoWindowMs: 100,
  minSpikesForCv: 3,
});

export interface Metastability {
  /** Mean number of active E clusters per window. */
  meanActiveClusters: number;
  /** Fraction of windows with at least one active cluster. */
  activeTimeFraction: number;
  /** Cluster activations (inactive → active) per second, summed over clusters. */
  switchingRateHz: number;
  /** Mean length of the active periods that start and end inside the recording. */
  meanDwellMs: number;
  /** Every such completed active period (ms), in cluster then time order. */
  dwellTimesMs: number[];
}

export interface InstanceMetrics extends Omit<Metastability, 'dwellTimesMs'> {
  rateE: number;
  rateI: number;
  cvE: number;
  cvI: number;
  fanoE: number;
  fanoI: number;
  /** Completed dwell periods behind meanDwellMs. */
  dwellCount: number;
}

/** Coefficient of variation (population standard deviation / mean) of the intervals of one train. */
export function isiCv(spikeTimes: ArrayLike<number>): number {
  const intervals = spikeTimes.length - 1;
  if (intervals < 2) return Number.NaN;
  let sum = 0;
  for (let k = 1; k < spikeTimes.length; k++) sum += spikeTimes[k]! - spikeTimes[k - 1]!;
  const mean = sum / intervals;
  if (mean <= 0) return Number.NaN;
  let squares = 0;
  for (let k = 1; k < spikeTimes.length; k++) {
    const deviation = spikeTimes[k]! - spikeTimes[k - 1]! - mean;
    squares += deviation * deviation;
  }
  return Math.sqrt(squares / intervals) / mean;
}

/** Variance / mean of a series of counts; NaN when the mean is 0 or there are fewer than 2 counts. */
export function fanoOfCounts(counts: ArrayLike<number>): number {
  if (counts.length < 2) return Number.NaN;
  let sum = 0;
  for (let k = 0; k < counts.length; k++) sum += counts[k]!;
  const mean = sum / counts.length;
  if (mean <= 0) return Number.NaN;
  let squares = 0;
  for (let k = 0; k < counts.length; k++) squares += (counts[k]! - mean) ** 2;
  return squares / counts.length / mean;
}

function meanOfFinite(values: Iterable<number>): number {
  let sum = 0;
  let count = 0;
  for (const value of values) {
    if (Number.isFinite(value)) {
      sum += value;
      count++;
    }
  }
  return count > 0 ? sum / count : Number.NaN;
}

/** Spike steps of every neuron in [from, to), as one array per neuron. */
function trainsOf(record: SpikeRecord, from: number, to: number): number[][] {
  const trains: number[][] = Array.from({ length: to - from }, () => []);
  for (let k = 0; k < record.neurons.length; k++) {
    const neuron = record.neurons[k]!;
    if (neuron >= from && neuron < to) trains[neuron - from]!.push(record.steps[k]!);
  }
  return trains;
}

/** Mean ISI CV over the neurons in [from, to) with at least `minSpikes` spikes. */
export function meanIsiCv(record: SpikeRecord, from: number, to: number, minSpikes: number): number {
  return meanOfFinite(
    trainsOf(record, from, to)
      .filter((train) => train.length >= Math.max(3, minSpikes))
      .map((train) => isiCv(train)),
  );
}

/** Mean Fano factor of spike counts in consecutive whole windows, over neurons in [from, to) that fire. */
export function meanFanoFactor(record: SpikeRecord, from: number, to: number, windowMs: number): number {
  const windowSteps = Math.max(1, Math.round(windowMs / record.dtMs));
  const windows = Math.floor(record.durationSteps / windowSteps);
  if (windows < 2) return Number.NaN;
  const counts = new Float64Array((to - from) * windows);
  for (let k = 0; k < record.neurons.length; k++) {
    const neuron = record.neurons[k]!;
    const window = Math.floor(record.steps[k]! / windowSteps);
    if (neuron >= from && neuron < to && window < windows) counts[(neuron - from) * windows + window]!++;
  }
  const fanos: number[] = [];
  for (let i = 0; i < to - from; i++)
    fanos.push(fanoOfCounts(counts.subarray(i * windows, (i + 1) * windows)));
  return meanOfFinite(fanos);
}

/**
 * Rates (Hz) of the E clusters in consecutive whole windows: row-major [window][cluster].
 * Spikes after the last whole window are left out.
 */
export function clusterRatesHz(
  record: SpikeRecord,
  windowMs: number,
): { rates: Float64Array; windows: number } {
  const { layout } = record;
  const windowSteps = Math.max(1, Math.round(windowMs / record.dtMs));
  const windows = Math.floor(record.durationSteps / windowSteps);
  const rates = new Float64Array(windows * layout.clusters);
  for (let k = 0; k < record.neurons.length; k++) {
    const neuron = record.neurons[k]!;
    if (neuron >= layout.nE) continue;
    const window = Math.floor(record.steps[k]! / windowSteps);
    if (window < windows) rates[window * layout.clusters + Math.floor(neuron / layout.nEPerCluster)]!++;
  }
  const toHz = 1000 / (windowSteps * record.dtMs * layout.nEPerCluster);
  for (let k = 0; k < rates.length; k++) rates[k]! *= toHz;
  return { rates, windows };
}

/**
 * Metastability from windowed cluster rates ([window][cluster], Hz): a cluster is active in a
 * window when its rate exceeds `thresholdHz`. Active periods touching the start or the end of the
 * recording are censored (their true length is unknown), so they count as activations only when
 * they begin inside it and never as dwell times.
 */
export function metastabilityOf(
  rates: ArrayLike<number>,
  windows: number,
  clusters: number,
  windowMs: number,
  thresholdHz: number,
): Metastability {
  let activeSum = 0;
  let windowsWithActive = 0;
  for (let w = 0; w < windows; w++) {
    let active = 0;
    for (let q = 0; q < clusters; q++) if (rates[w * clusters + q]! > thresholdHz) active++;
    activeSum += active;
    if (active > 0) windowsWithActive++;
  }
  let activations = 0;
  const dwellTimesMs: number[] = [];
  for (let q = 0; q < clusters; q++) {
    let runStart = -1;
    for (let w = 0; w <= windows; w++) {
      const active = w < windows && rates[w * clusters + q]! > thresholdHz;
      if (active && runStart < 0) {
        runStart = w;
        if (w > 0) activations++;
      } else if (!active && runStart >= 0) {
        if (runStart > 0 && w < windows) dwellTimesMs.push((w - runStart) * windowMs);
        runStart = -1;
      }
    }
  }
  const durationS = (windows * windowMs) / 1000;
  return {
    meanActiveClusters: windows > 0 ? activeSum / windows : Number.NaN,
    activeTimeFraction: windows > 0 ? windowsWithActive / windows : Number.NaN,
    switchingRateHz: durationS > 0 ? activations / durationS : Number.NaN,
    meanDwellMs: meanOfFinite(dwellTimesMs),
    dwellTimesMs,
  };
}

/** Every metric of one instance. */
export function instanceMetrics(
  record: SpikeRecord,
  options: MetricOptions = DEFAULT_METRIC_OPTIONS,
): InstanceMetrics {
  const { layout } = record;
  const durationS = (record.durationSteps * record.dtMs) / 1000;
  let spikesE = 0;
  for (let k = 0; k < record.neurons.length; k++) if (record.neurons[k]! < layout.nE) spikesE++;
  const spikesI = record.neurons.length - spikesE;
  const rateE = durationS > 0 && layout.nE > 0 ? spikesE / (layout.nE * durationS) : Number.NaN;
  const rateI = durationS > 0 && layout.nI > 0 ? spikesI / (layout.nI * durationS) : Number.NaN;
  const { rates, windows } = clusterRatesHz(record, options.windowMs);
  const windowMs = Math.max(1, Math.round(options.windowMs / record.dtMs)) * record.dtMs;
  const { dwellTimesMs, ...metastability } = metastabilityOf(
    rates,
    windows,
    layout.clusters,
    windowMs,
    options.activeFactor * rateE,
  );
  return {
    rateE,
    rateI,
    cvE: meanIsiCv(record, 0, layout.nE, options.minSpikesForCv),
    cvI: meanIsiCv(record, layout.nE, layout.n, options.minSpikesForCv),
    fanoE: meanFanoFactor(record, 0, layout.nE, options.fanoWindowMs),
    fanoI: meanFanoFactor(record, layout.nE, layout.n, options.fanoWindowMs),
    ...metastability,
    dwellCount: dwellTimesMs.length,
  };
}

export const METRIC_NAMES = [
  'rateE',
  'rateI',
  'cvE',
  'cvI',
  'fanoE',
  'fanoI',
  'meanActiveClusters',
  'activeTimeFraction',
  'switchingRateHz',
  'meanDwellMs',
  'dwellCount',
] as const satisfies readonly (keyof InstanceMetrics)[];
export type MetricName = (typeof METRIC_NAMES)[number];
