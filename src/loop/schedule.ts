/**
 * The scheduling arithmetic of the tick loop, free of clocks and I/O so that it can be driven by a
 * fake clock in tests. Deadlines are absolute: tick k starts at t0 + k·tick, computed by
 * multiplication (never by accumulating tick lengths), so long runs do not drift.
 */

/** `skip`: drop the ticks whose slot has passed and keep the phase. `late`: run every tick, catch up. */
export type LatePolicy = 'skip' | 'late';
export const LATE_POLICIES: readonly LatePolicy[] = ['skip', 'late'];

/** What to do at the start of a tick. */
export interface TickStart {
  /** Index k of the tick that runs now (deadline t0 + k·tick). */
  tick: number;
  deadlineUs: number;
  /** now − deadline (≥ 0 unless woken early). */
  latenessUs: number;
  /** Ticks dropped before this one (skip policy only). */
  dropped: number;
  /**
   * Lateness the first dropped tick would have had (now − its deadline); the telemetry records it
   * with the tick as expected interval, which fills in the other dropped ticks (coordinated omission).
   */
  firstDroppedLatenessUs: number;
  /** Whether this tick started after its own slot ended (lateness ≥ one tick; late policy). */
  missedSlot: boolean;
}

/** What `dropRemaining` found: the ticks dropped at the end of a bounded run. */
export interface RunEnd {
  dropped: number;
  firstDroppedLatenessUs: number;
}

/**
 * `begin` and `dropRemaining` return one object each, owned by the schedule and refilled on every
 * call, so scheduling a tick allocates nothing (docs/tick.md): read the result before the next call.
 * Their time fields start as NaN, a fraction, so V8 stores them unboxed from the start: a field
 * that starts as a small integer changes its representation at the first fraction, and the code
 * that read it before may then box every value it loads.
 */
export class TickSchedule {
  private next = 0;
  private readonly started: TickStart = {
    tick: 0,
    deadlineUs: Number.NaN,
    latenessUs: Number.NaN,
    dropped: 0,
    firstDroppedLatenessUs: Number.NaN,
    missedSlot: false,
  };
  private readonly ended: RunEnd = { dropped: 0, firstDroppedLatenessUs: Number.NaN };

  constructor(
    readonly t0Us: number,
    readonly tickUs: number,
    readonly policy: LatePolicy,
  ) {
    if (!Number.isFinite(t0Us)) throw new RangeError(`t0 must be finite, got ${t0Us}`);
    if (!(tickUs > 0) || !Number.isFinite(tickUs)) throw new RangeError(`tick must be > 0 µs, got ${tickUs}`);
    if (!LATE_POLICIES.includes(policy)) {
      throw new RangeError(`unknown late policy "${policy}"; expected ${LATE_POLICIES.join(' or ')}`);
    }
  }

  /** The same schedule shifted so that the pending tick is due at `nowUs` (t0 moves, k stays). */
  restartedAt(nowUs: number): TickSchedule {
    const shifted = new TickSchedule(nowUs - this.next * this.tickUs, this.tickUs, this.policy);
    shifted.next = this.next;
    return shifted;
  }

  deadlineOf(tick: number): number {
    return this.t0Us + tick * this.tickUs;
  }

  /** Index of the tick that runs next (before `begin` applies the overrun policy). */
  get pendingTick(): number {
    return this.next;
  }

  /** When the pending tick is due: the loop sleeps until then. */
  get nextDeadlineUs(): number {
    return this.deadlineOf(this.next);
  }

  /**
   * For a run bounded to ticks below `endTick`: if the end has passed by `nowUs` (all remaining
   * slots are gone), the remaining ticks are dropped and returned; otherwise nothing changes.
   */
  dropRemaining(nowUs: number, endTick: number): RunEnd {
    const ended = this.ended;
    if (this.next >= endTick || nowUs < this.deadlineOf(endTick)) {
      ended.dropped = 0;
      ended.firstDroppedLatenessUs = 0;
      return ended;
    }
    ended.dropped = endTick - this.next;
    ended.firstDroppedLatenessUs = nowUs - this.deadlineOf(this.next);
    this.next = endTick;
    return ended;
  }

  /**
   * Starts the pending tick at `nowUs`. Under `skip`, if one or more whole slots have passed since
   * the pending tick's deadline, those ticks are dropped and the tick whose slot contains `now` runs,
   * late by less than one tick. Under `late`, the pending tick runs however late it is.
   */
  begin(nowUs: number): TickStart {
    let tick = this.next;
    let dropped = 0;
    let firstDroppedLatenessUs = 0;
    if (this.policy === 'skip') {
      const slot = Math.floor((nowUs - this.t0Us) / this.tickUs);
      if (slot > tick) {
        dropped = slot - tick;
        firstDroppedLatenessUs = nowUs - this.deadlineOf(tick);
        tick = slot;
      }
    }
    const deadlineUs = this.deadlineOf(tick);
    const latenessUs = nowUs - deadlineUs;
    this.next = tick + 1;
    const started = this.started;
    started.tick = tick;
    started.deadlineUs = deadlineUs;
    started.latenessUs = latenessUs;
    started.dropped = dropped;
    started.firstDroppedLatenessUs = firstDroppedLatenessUs;
    started.missedSlot = latenessUs >= this.tickUs;
    return started;
  }
}
