/**
 * Sleeping until an absolute deadline with microsecond precision on Node's event loop.
 *
 * Node timers have millisecond granularity and usually fire 1–2 ms late, so they only cover the
 * bulk of long waits. Closer to the deadline the thread naps in short Atomics.wait slices (a futex
 * wait: precise to tens of µs, and no CPU burnt) with a setImmediate turn of the event loop between
 * slices, so sockets, ROS 2 callbacks and WebGPU promises (which Dawn resolves only while the loop
 * turns) are served at least every `napMaxUs`. Only the last `spinUs` are a busy wait.
 *
 * Why naps rather than polling with setImmediate alone: on a loaded machine a thread that sleeps
 * keeps the scheduler's wake-up preference, while one that polls uses up its share and is
 * preempted for milliseconds; measured on the 2-core development machine under load, polling
 * missed several times more 1 ms ticks at ten times the CPU.
 *
 * Naps and the final spin block the event loop, so they are used only when the caller says the
 * tick waits on nothing there (`mayBlock`); otherwise the sleeper only yields.
 */
/** Monotonic microseconds. */
export type ClockUs = () => number;

export const monotonicUs: ClockUs = () => performance.now() * 1000;

export interface SleepOptions {
  /** Waits longer than this use a timer for all but the last `timerMarginUs`. */
  timerThresholdUs: number;
  /** How early a timer wakes before the deadline: covers Node's timer lateness. */
  timerMarginUs: number;
  /** Longest blocking nap; the event loop turns between naps. */
  napMaxUs: number;
  /** Busy wait for at most this long before the deadline (covers the nap's wake-up latency). */
  spinUs: number;
}

/**
 * The tick thread's final busy wait under `--realtime` (µs before each deadline). On a VM the late
 * wake-up, not the compute, makes most late ticks: the futex or timer wake-up of a sleeping thread
 * is delivered through the hypervisor, while a FIFO thread that is already running keeps its core.
 * Measured on the 2-vCPU VM, N = 5000, 15–20 s quiet rows, interleaved: with 80 µs the FIFO tick
 * thread missed 4–691 ticks (p99.9 682–11,487 µs), with 400 µs 2–31 (p99.9 74–1,580 µs, median
 * about 200). It costs that share of a core (40 % at 1 ms). At normal priority it gained nothing
 * measurable (a spinning thread is preempted like any other), so the default there stays 80 µs.
 */
export const REALTIME_SPIN_US = 400;

export const DEFAULT_SLEEP: Readonly<SleepOptions> = Object.freeze({
  timerThresholdUs: 3000,
  timerMarginUs: 2000,
  napMaxUs: 200,
  spinUs: 80,
});

/** Resolves at (or just after) `deadlineUs`; `mayBlock`: nothing the caller awaits is pending on the event loop. */
export type Sleeper = (deadlineUs: number, mayBlock: boolean) => Promise<void>;

const napCell = new Int32Array(new SharedArrayBuffer(4));

/** Kept in a module variable so the counting loop cannot be optimised away. */
let spinCounter = 0;
function countALittle(counter: number): number {
  for (let i = 0; i < 500; i++) counter = (counter + i) | 0;
  return counter;
}

export function preciseSleeper(clock: ClockUs = monotonicUs, options: SleepOptions = DEFAULT_SLEEP): Sleeper {
  // Callbacks rather than an async loop of awaited promises: one promise per sleep instead of one
  // per event-loop turn keeps the tick's garbage (and so the scavenges that stall it) small.
  return (deadlineUs, mayBlock) =>
    new Promise<void>((resolve) => {
      const spinUs = mayBlock ? options.spinUs : 0;
      let turned = false;
      const step = () => {
        const remainingUs = deadlineUs - clock();
        if (!turned && remainingUs <= spinUs) {
          // At least one event-loop turn per sleep, even when the deadline is near or past: a loop
          // that runs late (or catches up) must still serve sockets and signals (SIGINT) every tick.
          turned = true;
          setImmediate(step);
          return;
        }
        turned = true;
        if (remainingUs > options.timerThresholdUs) {
          setTimeout(step, (remainingUs - options.timerMarginUs) / 1000);
          return;
        }
        if (remainingUs > spinUs) {
          if (mayBlock) Atomics.wait(napCell, 0, 0, Math.min(remainingUs - spinUs, options.napMaxUs) / 1000);
          setImmediate(step);
          return;
        }
        // The last few microseconds only (a nap cannot wake this precisely). Every clock read
        // allocates in Node 20, so reads are spaced by a short counting loop (about a microsecond).
        while (clock() < deadlineUs) spinCounter = countALittle(spinCounter);
        resolve();
      };
      step();
    });
}

/**
 * Nap lengths for Atomics.wait, whose timeout is in (fractional) ms. A computed fraction passed to
 * it is boxed on the heap at every call; these are boxed once: whole µs below NAP_TABLE_US, taken
 * from an array that holds them as heap numbers (the null keeps it a generic array), and whole ms
 * (small integers, never boxed) above.
 */
const NAP_TABLE_US = 5000;
const NAP_MS_BY_US: (number | null)[] = [null];
for (let us = 1; us < NAP_TABLE_US; us++) NAP_MS_BY_US.push(us / 1000);

function napMs(us: number): number {
  if (us >= NAP_TABLE_US) return Math.floor(us / 1000);
  return NAP_MS_BY_US[us < 1 ? 1 : Math.floor(us)] as number;
}

/**
 * Sleeps the thread until `deadlineUs`, blocking it: no promise, no event-loop turn. The deadline
 * is a field set before `sleep()` rather than an argument: a fractional number passed to a function
 * the compiler did not inline is boxed on the heap at each call.
 */
export interface BlockingSleeper {
  deadlineUs: number;
  sleep(): void;
}

/**
 * The tick thread's sleeper (it serves no sockets or timers; docs/tick.md): futex naps up to the
 * last `spinUs` before the deadline, then the short spin. Nothing is allocated when `clock`
 * allocates nothing (wasi-clock.ts), so the tick thread can sleep this way for hours without
 * giving its heap anything to collect.
 */
export function blockingSleeper(
  clock: ClockUs = monotonicUs,
  spinUs = DEFAULT_SLEEP.spinUs,
): BlockingSleeper {
  return {
    deadlineUs: Number.NaN,
    sleep() {
      const deadlineUs = this.deadlineUs;
      // Atomics.wait may return early (a spurious wake-up): nap again for what is left.
      for (let remainingUs = deadlineUs - clock(); remainingUs > spinUs; remainingUs = deadlineUs - clock()) {
        Atomics.wait(napCell, 0, 0, napMs(remainingUs - spinUs));
      }
      while (clock() < deadlineUs) spinCounter = countALittle(spinCounter);
    },
  };
}

/**
 * Simulated time, for running the one TickLoop without waiting (replay, evaluations over long
 * simulated time, tests): the clock stands still while a tick computes and each sleep jumps it to
 * the deadline, so every tick starts on time. Every 50th sleep turns the event loop once, so
 * timers (a recorder's flush) and sockets are still served.
 */
export function virtualTime(startUs = 0): { clock: ClockUs; sleep: Sleeper } {
  let nowUs = startUs;
  let sleeps = 0;
  return {
    clock: () => nowUs,
    sleep: async (deadlineUs) => {
      if (deadlineUs > nowUs) nowUs = deadlineUs;
      if (++sleeps % 50 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    },
  };
}
