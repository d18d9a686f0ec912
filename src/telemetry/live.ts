/**
 * The live telemetry feed: snapshots of population rates, latency summaries and recent spikes,
 * published on an interval timer, off the tick path (the dashboard and ROS 2 diagnostics consume
 * it). The tick only adds counts into preallocated arrays; summarising happens here.
 */
import type { SafetyState } from '../loop/safety.js';
import type { LatencySummary, LoopCounters, LoopTelemetry } from './loop-telemetry.js';

export interface SpikeBatch {
  /** Engine time step of these spikes. */
  step: number;
  /** Neuron ids (instance 0). */
  ids: number[];
}

export interface TelemetrySnapshot {
  /** Monotonic µs when the snapshot was taken. */
  atUs: number;
  /** Ticks run so far and the other counters. */
  counters: LoopCounters;
  /** Mean rate (Hz) per population (E clusters, then I clusters) since the previous snapshot. */
  populationRatesHz: number[];
  /** Spikes per population (instance 0) since the previous snapshot, counted. */
  populationSpikeCounts?: number[];
  /** Ticks run since the previous snapshot (biological time = windowTicks · tickMs). */
  windowTicks?: number;
  rateEHz: number;
  rateIHz: number;
  /** Since the previous snapshot (exact), so a display shows the present, not the whole run. */
  latenessUs: LatencySummary;
  computeUs: LatencySummary;
  e2eUs: LatencySummary;
  /** Spikes since the previous snapshot (newest last, capped), when spikes were asked for. */
  recentSpikes: SpikeBatch[];
  /** The stale-input safety state (loop/safety.ts), when the loop has one. */
  safety?: SafetyState;
}

export type TelemetryListener = (snapshot: TelemetrySnapshot) => void;

/** Spike ids kept between two snapshots at most, so a burst cannot grow memory without bound. */
const MAX_BUFFERED_SPIKES = 20_000;

export class TelemetryFeed {
  private readonly listeners = new Set<TelemetryListener>();
  private readonly counts: Float64Array;
  private ticksSinceSnapshot = 0;
  private spikes: SpikeBatch[] = [];
  private bufferedSpikes = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly nE: number;
  private readonly nI: number;
  /** Set by the tick loop: the safety state to include in every snapshot. */
  safetyState: (() => SafetyState) | null = null;

  constructor(
    private readonly telemetry: LoopTelemetry,
    readonly populationSizes: Uint32Array,
    private readonly clusters: number,
    private readonly tickMs: number,
    private readonly clockUs: () => number,
  ) {
    this.counts = new Float64Array(populationSizes.length);
    this.nE = populationSizes.slice(0, clusters).reduce((a, b) => a + b, 0);
    this.nI = populationSizes.slice(clusters).reduce((a, b) => a + b, 0);
  }

  get active(): boolean {
    return this.listeners.size > 0;
  }

  /** Called once per tick with that tick's spike counts per population. */
  addCounts(counts: Uint32Array): void {
    for (let p = 0; p < this.counts.length; p++) this.counts[p]! += counts[p]!;
    this.ticksSinceSnapshot += 1;
  }

  addSpikes(step: number, ids: Uint32Array): void {
    if (ids.length === 0 || this.bufferedSpikes + ids.length > MAX_BUFFERED_SPIKES) return;
    this.spikes.push({ step, ids: Array.from(ids) });
    this.bufferedSpikes += ids.length;
  }

  /**
   * Subscribes; snapshots are published every `intervalMs` (the first subscriber's choice) while
   * anyone listens. Returns the unsubscribe function.
   */
  subscribe(listener: TelemetryListener, intervalMs = 100): () => void {
    this.listeners.add(listener);
    if (!this.timer) {
      this.snapshot(); // start the first interval's rates now
      this.timer = setInterval(() => this.publish(), intervalMs);
      this.timer.unref();
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  snapshot(): TelemetrySnapshot {
    const seconds = (this.ticksSinceSnapshot * this.tickMs) / 1000;
    const rate = (count: number, size: number) => (seconds > 0 && size > 0 ? count / (size * seconds) : 0);
    const populationRatesHz = Array.from(this.counts, (count, p) => rate(count, this.populationSizes[p]!));
    let spikesE = 0;
    let spikesI = 0;
    this.counts.forEach((count, p) => {
      if (p < this.clusters) spikesE += count;
      else spikesI += count;
    });
    // Whole-run percentiles would scan the HDR histograms: milliseconds on the loop's thread.
    const interval = this.telemetry.takeInterval();
    const snapshot: TelemetrySnapshot = {
      atUs: this.clockUs(),
      counters: { ...this.telemetry.counters },
      populationRatesHz,
      populationSpikeCounts: Array.from(this.counts),
      windowTicks: this.ticksSinceSnapshot,
      rateEHz: rate(spikesE, this.nE),
      rateIHz: rate(spikesI, this.nI),
      latenessUs: interval.lateness,
      computeUs: interval.compute,
      e2eUs: interval.e2e,
      recentSpikes: this.spikes,
      ...(this.safetyState ? { safety: this.safetyState() } : {}),
    };
    this.counts.fill(0);
    this.ticksSinceSnapshot = 0;
    this.spikes = [];
    this.bufferedSpikes = 0;
    return snapshot;
  }

  private publish(): void {
    if (this.listeners.size === 0) return;
    const snapshot = this.snapshot();
    for (const listener of this.listeners) {
      try {
        listener(snapshot);
      } catch (error) {
        console.error(
          `spikeloop: telemetry listener failed: ${error instanceof Error ? error.message : error}`,
        );
      }
    }
  }
}
