/**
 * Sleeping until an absolute deadline with microsecond precision on Node's event loop.
 *
 * Node timers have millisecond granularity and usually fire 1–2 ms late, so they only cover the
 * bulk of long waits. Closer to the deadline the sleeper yields to the event loop with
 * setImmediate between clock reads: sockets, ROS 2 callbacks and WebGPU promises (which Dawn
 * resolves only while the loop turns) keep flowing. Only the last `spinUs` are a synchronous busy
 * wait, and only when the caller says nothing is pending on the event loop.
 */
import { setTimeout as delay } from 'node:timers/promises';

/** Monotonic microseconds. */
export type ClockUs = () => number;

export const monotonicUs: ClockUs = () => performance.now() * 1000;

export interface SleepOptions {
  /** Waits longer than this use a timer for all but the last `timerMarginUs`. */
  timerThresholdUs: number;
  /** How early a timer wakes before the deadline: covers Node's timer lateness. */
  timerMarginUs: number;
  /** Synchronous busy wait for at most this long before the deadline (0: never). */
  spinUs: number;
}

export const DEFAULT_SLEEP: Readonly<SleepOptions> = Object.freeze({
  timerThresholdUs: 3000,
  timerMarginUs: 2000,
  spinUs: 40,
});

export type Sleeper = (deadlineUs: number, allowSpin: boolean) => Promise<void>;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export function preciseSleeper(clock: ClockUs = monotonicUs, options: SleepOptions = DEFAULT_SLEEP): Sleeper {
  return async (deadlineUs, allowSpin) => {
    let remainingUs = deadlineUs - clock();
    if (remainingUs > options.timerThresholdUs) {
      await delay((remainingUs - options.timerMarginUs) / 1000);
      remainingUs = deadlineUs - clock();
    }
    const spinUs = allowSpin ? options.spinUs : 0;
    while (remainingUs > spinUs) {
      await yieldToEventLoop();
      remainingUs = deadlineUs - clock();
    }
    while (clock() < deadlineUs) {
      // Busy wait for the last few microseconds only: nothing else is due on this thread now.
    }
  };
}
