/**
 * Where a late tick's lateness came from (bench loop, docs/tick.md "The tails"). A tick starts late
 * either because the tick before it was still computing when it was due (an overrun: the engine,
 * or a thread the engine waited for, took too long or was preempted), or because the tick thread
 * was idle at the deadline and woke up late (the OS did not run it in time: another thread had the
 * CPU, the host did not give the vCPU, a timer or futex wake-up was slow, or its own event-loop turn
 * between ticks took long).
 */
import type { TickEvent, TickObserver } from '../loop/observer.js';

export interface LateTickCounts {
  /** Ticks that started at least `thresholdUs` after they were due (dropped slots included). */
  lateTicks: number;
  /** …of which the previous tick was still computing at their deadline. */
  lateAfterOverrun: number;
  /** …of which the tick thread was idle at their deadline and woke late. */
  lateWakeup: number;
  /** The threshold, µs. */
  lateThresholdUs: number;
}

export class LateTickCauses implements TickObserver {
  private previousEndUs = Number.NaN;
  private previousSlot = -1;
  private readonly counts: LateTickCounts;

  constructor(
    private readonly tickUs: number,
    thresholdUs = tickUs / 4,
  ) {
    this.counts = { lateTicks: 0, lateAfterOverrun: 0, lateWakeup: 0, lateThresholdUs: thresholdUs };
  }

  onTick(event: TickEvent): void {
    // Under the skip policy a late tick runs in a later slot; it was due at its first dropped slot.
    const dropped = this.previousSlot >= 0 ? Math.max(0, event.slot - this.previousSlot - 1) : 0;
    const dueUs = event.startUs - event.latenessUs - dropped * this.tickUs;
    if (event.startUs - dueUs >= this.counts.lateThresholdUs) {
      this.counts.lateTicks++;
      if (this.previousEndUs > dueUs) this.counts.lateAfterOverrun++;
      else this.counts.lateWakeup++;
    }
    this.previousEndUs = event.startUs + event.computeUs;
    this.previousSlot = event.slot;
  }

  result(): LateTickCounts {
    return { ...this.counts };
  }
}
