/**
 * Bytes allocated on this thread's heap per tick, measured from V8's own count of live bytes
 * (`v8.getHeapStatistics().used_heap_size`, the sum of the spaces' allocation pointers, exact to
 * the byte between two collections). The heap only grows between collections, so the growth over
 * a window of ticks with no collection in it is exactly what those ticks allocated; a window in
 * which a collection ran shows as a shrink and is left out (counted in `windowsLost`).
 *
 * Reading the statistics allocates their result object itself: that constant is measured once
 * (two reads in a row) and taken off every window, so a thread that allocates nothing reads 0.
 */
import { getHeapStatistics } from 'node:v8';

/**
 * Ticks per allocation window: long enough that the one statistics read per window costs well
 * under a byte per tick, short enough that a window rarely contains a collection.
 */
export const ALLOC_WINDOW_TICKS = 256;
/**
 * Ticks before the measurement starts: the first few thousand ticks run while V8 compiles and
 * re-optimises the tick's code (feedback vectors, code objects, boxed numbers of code not yet
 * optimised); what the measurement reports is the steady state that follows.
 */
export const ALLOC_WARMUP_TICKS = 4096;
/**
 * Ticks at the start of every run that are not measured either: the end of the previous run took
 * the loop's compiled code down a path it had not seen (V8 drops that code), and the collection
 * before the run moved the heap; the code is optimised again within a few thousand ticks.
 */
export const ALLOC_RUN_SETTLE_TICKS = 4096;

export interface AllocationMeasure {
  /** Bytes allocated per tick over the measured windows (NaN when no window was measured). */
  bytesPerTick: number;
  /** Ticks in the measured windows. */
  ticks: number;
  /** Windows left out because a garbage collection ran in them. */
  windowsLost: number;
}

export class AllocationMeter {
  private readonly readCostBytes: number;
  private lastUsedBytes = Number.NaN;
  private lastTick = 0;
  private bytes = 0;
  private ticks = 0;
  private lost = 0;

  constructor() {
    // Warm the call up, then its steady cost: what one read allocates and nothing else.
    let used = 0;
    for (let k = 0; k < 4; k++) used = getHeapStatistics().used_heap_size;
    const next = getHeapStatistics().used_heap_size;
    this.readCostBytes = next >= used ? next - used : 0;
  }

  /** Starts a new series of windows at tick `tick` (nothing measured is kept from before). */
  start(tick: number): void {
    this.bytes = 0;
    this.ticks = 0;
    this.lost = 0;
    this.lastTick = tick;
    this.lastUsedBytes = getHeapStatistics().used_heap_size;
  }

  /** The end of a window at tick `tick`: `sample` when it counts, else `start` again. */
  window(tick: number, counted: boolean): void {
    if (counted) this.sample(tick);
    else this.start(tick);
  }

  /** Closes the window that ends at tick `tick` (exclusive) and opens the next one. */
  sample(tick: number): void {
    const used = getHeapStatistics().used_heap_size;
    if (Number.isNaN(this.lastUsedBytes)) {
      this.lastUsedBytes = used;
      this.lastTick = tick;
      return;
    }
    const grown = used - this.lastUsedBytes - this.readCostBytes;
    if (grown >= -this.readCostBytes) {
      this.bytes += Math.max(0, grown);
      this.ticks += tick - this.lastTick;
    } else {
      this.lost++;
    }
    this.lastUsedBytes = used;
    this.lastTick = tick;
  }

  result(): AllocationMeasure {
    return {
      bytesPerTick: this.ticks > 0 ? this.bytes / this.ticks : Number.NaN,
      ticks: this.ticks,
      windowsLost: this.lost,
    };
  }
}
