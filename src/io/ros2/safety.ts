/**
 * The safety stage between the decoders and the robot: per-value clamps, rate limits (maximum
 * change per second between published commands) and a watchdog that decides when a stop command
 * must go out. Pure state machines driven by the caller's clock, so they are tested without timers.
 */

export interface ValueLimit {
  min: number;
  max: number;
  /** Largest change per second between consecutive published values; Infinity = no limit. */
  maxRatePerS: number;
}

/**
 * Clamps each value into [min, max], then limits its change since the previous output to
 * maxRatePerS · elapsed time. The first command is only clamped (there is nothing to ramp from).
 */
export class CommandLimiter {
  private readonly previous: Float64Array;
  private hasPrevious = false;
  private previousUs = 0;

  constructor(private readonly limits: readonly ValueLimit[]) {
    this.previous = new Float64Array(limits.length);
  }

  /** Writes the limited command into `out` (same length as the limits). */
  apply(values: ArrayLike<number>, nowUs: number, out: Float64Array): void {
    const dtS = this.hasPrevious ? Math.max(0, nowUs - this.previousUs) / 1e6 : 0;
    for (let i = 0; i < this.limits.length; i++) {
      const limit = this.limits[i]!;
      let value = Math.min(limit.max, Math.max(limit.min, values[i]!));
      if (this.hasPrevious && Number.isFinite(limit.maxRatePerS)) {
        const step = limit.maxRatePerS * dtS;
        const prev = this.previous[i]!;
        value = Math.min(prev + step, Math.max(prev - step, value));
      }
      out[i] = value;
      this.previous[i] = value;
    }
    this.hasPrevious = true;
    this.previousUs = nowUs;
  }

  /**
   * A stop command was published: the next command ramps up from it, so a loop that resumes after
   * the watchdog fired does not jump straight back to full speed.
   */
  resetTo(values: ArrayLike<number>, nowUs: number): void {
    for (let i = 0; i < this.limits.length; i++) this.previous[i] = values[i]!;
    this.hasPrevious = true;
    this.previousUs = nowUs;
  }
}

export interface WatchdogOptions {
  /** A stop command goes out when no command was written for this long (the loop stopped or stalls). */
  timeoutMs: number;
  /** …or when a tick reports lateness beyond this (the loop overruns). */
  maxLatenessMs: number;
}

export type WatchdogReason = 'timeout' | 'overrun';

/**
 * Decides when to publish the stop command. It fires once per incident: after firing it stays
 * tripped (no repeated stops) until a command arrives from a tick that is on time again.
 */
export class Watchdog {
  private lastCommandUs: number | null = null;
  private tripped: WatchdogReason | null = null;
  /** How many times the watchdog fired. */
  trips = 0;

  constructor(private readonly options: WatchdogOptions) {}

  get state(): WatchdogReason | null {
    return this.tripped;
  }

  /**
   * A command is about to be published from a tick that was `latenessUs` late. Returns what to
   * publish: the command; the stop command (the first late tick of an overrun); or nothing (later
   * late ticks of the same overrun: the robot stays stopped until the loop is on time again).
   */
  onCommand(nowUs: number, latenessUs: number): 'command' | 'stop' | 'none' {
    this.lastCommandUs = nowUs;
    if (latenessUs > this.options.maxLatenessMs * 1000) {
      return this.trip('overrun') === null ? 'none' : 'stop';
    }
    this.tripped = null;
    return 'command';
  }

  /** Periodic check; returns 'timeout' exactly once when the command stream has stopped. */
  check(nowUs: number): WatchdogReason | null {
    if (this.lastCommandUs === null || this.tripped !== null) return null;
    if (nowUs - this.lastCommandUs > this.options.timeoutMs * 1000) return this.trip('timeout');
    return null;
  }

  private trip(reason: WatchdogReason): WatchdogReason | null {
    // An overrun that continues must not re-publish the stop at every late tick.
    if (this.tripped !== null) return null;
    this.tripped = reason;
    this.trips++;
    return reason;
  }
}
