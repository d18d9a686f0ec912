/** Reconnection delays: exponential with full jitter, capped, so many clients do not reconnect in step. */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** 0 … 1: the fraction of each delay drawn at random (0 = deterministic). */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 100, maxMs: 5000, factor: 2, jitter: 0.5 };

/** Delay (ms) before reconnection attempt `attempt` (0-based); `random` is in [0, 1). */
export function backoffDelayMs(attempt: number, options: BackoffOptions, random: number): number {
  const base = Math.min(options.maxMs, options.initialMs * options.factor ** Math.max(0, attempt));
  return base * (1 - options.jitter * random);
}
