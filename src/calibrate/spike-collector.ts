/**
 * Collects the spikes an engine reports (global ids instance·N + i per step) into one SpikeRecord
 * per batch instance, so the metrics of each instance are computed exactly as if it ran alone.
 */
import type { SpikeObserver } from '../engine/engine.js';
import type { Layout } from '../model/network.js';
import type { SpikeRecord } from './metrics.js';

/** An append-only Uint32Array that doubles its capacity. */
class GrowableU32 {
  private data = new Uint32Array(1024);
  length = 0;

  push(value: number): void {
    if (this.length === this.data.length) {
      const larger = new Uint32Array(this.data.length * 2);
      larger.set(this.data);
      this.data = larger;
    }
    this.data[this.length++] = value;
  }

  toArray(): Uint32Array {
    return this.data.slice(0, this.length);
  }
}

export class SpikeCollector {
  private readonly steps: GrowableU32[];
  private readonly neurons: GrowableU32[];

  /** `firstStep` is the engine step that becomes step 0 of the records. */
  constructor(
    private readonly layout: Layout,
    private readonly batch: number,
    private readonly firstStep: number,
  ) {
    this.steps = Array.from({ length: batch }, () => new GrowableU32());
    this.neurons = Array.from({ length: batch }, () => new GrowableU32());
  }

  readonly observer: SpikeObserver = (step, ids) => {
    const relative = step - this.firstStep;
    if (relative < 0) return;
    const n = this.layout.n;
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k]!;
      const instance = Math.floor(id / n);
      if (instance >= this.batch) continue;
      this.steps[instance]!.push(relative);
      this.neurons[instance]!.push(id - instance * n);
    }
  };

  /** The record of one instance over `durationSteps` steps. */
  record(instance: number, durationSteps: number, dtMs: number): SpikeRecord {
    return {
      layout: this.layout,
      dtMs,
      durationSteps,
      steps: this.steps[instance]!.toArray(),
      neurons: this.neurons[instance]!.toArray(),
    };
  }
}
