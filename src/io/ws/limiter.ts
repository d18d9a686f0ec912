/**
 * Per-connection frame rate limit (token bucket): a client flooding frames cannot take the CPU the
 * tick needs; frames over the budget are discarded and counted, not queued.
 */
export class FrameRateLimiter {
  private tokens: number;
  private lastUs: number;

  constructor(
    private readonly framesPerS: number,
    /** Frames allowed in one burst (e.g. after a pause). */
    private readonly burst: number,
    nowUs: number,
  ) {
    this.tokens = burst;
    this.lastUs = nowUs;
  }

  /** True if a frame arriving at `nowUs` is within the budget (and takes one token). */
  allow(nowUs: number): boolean {
    const elapsedUs = Math.max(0, nowUs - this.lastUs);
    this.lastUs = nowUs;
    this.tokens = Math.min(this.burst, this.tokens + (elapsedUs * this.framesPerS) / 1e6);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
