/**
 * What happened when, over a whole run: per time bin, the ticks run and missed, the worst lateness
 * and compute time, and the E and I spike counts. A fixed number of bins: when the run outgrows
 * them, neighbours merge and each bin covers twice the time, so recording stays O(1) and
 * allocation-free on the tick path however long the run is.
 */

/** Bins kept at most; a run fills between half and all of them. */
const CAPACITY = 600;

export interface Timeline {
  /** Length of one bin (ms); bin k covers [k·binMs, (k+1)·binMs) from the first deadline. */
  binMs: number;
  ticks: number[];
  missed: number[];
  /** Worst lateness (µs) of a scheduled tick in the bin, dropped ones included. */
  latenessMaxUs: number[];
  /** Worst read → write time (µs) of a tick in the bin. */
  computeMaxUs: number[];
  /** Mean rate (Hz) of all E and of all I neurons over the ticks run in the bin. */
  rateEHz: number[];
  rateIHz: number[];
}

export class TimelineRecorder {
  private readonly ticks = new Float64Array(CAPACITY);
  private readonly missed = new Float64Array(CAPACITY);
  private readonly lateness = new Float64Array(CAPACITY);
  private readonly compute = new Float64Array(CAPACITY);
  private readonly spikesE = new Float64Array(CAPACITY);
  private readonly spikesI = new Float64Array(CAPACITY);
  /** Scheduled tick slots seen so far (every slot is either run or dropped). */
  private slots = 0;
  private slotsPerBin: number;
  private current = 0;

  constructor(
    private readonly tickMs: number,
    /** A bin covers this long at first (it doubles as the run grows). */
    initialBinMs = 100,
  ) {
    this.slotsPerBin = Math.max(1, Math.round(initialBinMs / tickMs));
  }

  /** A scheduled slot begins (a tick that runs or one that was dropped); returns its bin. */
  slot(latenessUs: number, missed: boolean): void {
    let bin = Math.floor(this.slots / this.slotsPerBin);
    while (bin >= CAPACITY) {
      this.merge();
      bin = Math.floor(this.slots / this.slotsPerBin);
    }
    this.slots += 1;
    this.current = bin;
    if (latenessUs > this.lateness[bin]!) this.lateness[bin] = latenessUs;
    if (missed) this.missed[bin]! += 1;
  }

  /** The tick of the latest slot ran, taking `computeUs`, with these spike counts. */
  ran(computeUs: number): void {
    const bin = this.current;
    this.ticks[bin]! += 1;
    if (computeUs > this.compute[bin]!) this.compute[bin] = computeUs;
  }

  spikes(excitatory: number, inhibitory: number): void {
    this.spikesE[this.current]! += excitatory;
    this.spikesI[this.current]! += inhibitory;
  }

  /** Neighbouring bins become one; each bin now covers twice as many slots. */
  private merge(): void {
    const sum = (a: Float64Array, k: number) => a[2 * k]! + a[2 * k + 1]!;
    const max = (a: Float64Array, k: number) => Math.max(a[2 * k]!, a[2 * k + 1]!);
    for (let k = 0; k < CAPACITY / 2; k++) {
      this.ticks[k] = sum(this.ticks, k);
      this.missed[k] = sum(this.missed, k);
      this.spikesE[k] = sum(this.spikesE, k);
      this.spikesI[k] = sum(this.spikesI, k);
      this.lateness[k] = max(this.lateness, k);
      this.compute[k] = max(this.compute, k);
    }
    for (const array of [this.ticks, this.missed, this.spikesE, this.spikesI, this.lateness, this.compute]) {
      array.fill(0, CAPACITY / 2);
    }
    this.slotsPerBin *= 2;
  }

  /** The bins used so far, with rates for E and I populations of these sizes. */
  timeline(neuronsE: number, neuronsI: number): Timeline {
    const used = this.slots === 0 ? 0 : Math.floor((this.slots - 1) / this.slotsPerBin) + 1;
    const list = (a: Float64Array) => Array.from(a.subarray(0, used));
    const rate = (spikes: Float64Array, neurons: number) =>
      Array.from({ length: used }, (_, k) => {
        const seconds = (this.ticks[k]! * this.tickMs) / 1000;
        return neurons > 0 && seconds > 0 ? spikes[k]! / (neurons * seconds) : 0;
      });
    return {
      binMs: this.slotsPerBin * this.tickMs,
      ticks: list(this.ticks),
      missed: list(this.missed),
      latenessMaxUs: list(this.lateness),
      computeMaxUs: list(this.compute),
      rateEHz: rate(this.spikesE, neuronsE),
      rateIHz: rate(this.spikesI, neuronsI),
    };
  }
}
