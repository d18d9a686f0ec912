/**
 * The baseline the closed loop must beat: a robot whose wheels are driven by noise. Each wheel
 * speed is an Ornstein–Uhlenbeck process (time constant tauS, stationary spread over the wheel
 * limits), so the robot wanders with momentum instead of jittering on the spot. Deterministic for a
 * seed (counter-based draws).
 */
import { counterUniform, streamKey } from '../../model/rng.js';

export interface NoiseDriverOptions {
  seed: number;
  /** Correlation time of each wheel's speed (s). */
  tauS: number;
  /** Stationary standard deviation of each wheel's speed (m/s). */
  sigmaMps: number;
  wheelBaseM: number;
}

export class NoiseDriver {
  private readonly key: number;
  private draws = 0;
  private left = 0;
  private right = 0;

  constructor(private readonly options: NoiseDriverOptions) {
    if (!(options.tauS > 0) || !(options.sigmaMps >= 0) || !(options.wheelBaseM > 0)) {
      throw new Error('noise driver: tauS and wheelBaseM must be > 0 and sigmaMps ≥ 0');
    }
    this.key = streamKey(options.seed, 0x4e4f4953);
  }

  private gaussian(): number {
    const u1 = Math.max(counterUniform(this.key, this.draws++), 2 ** -25);
    const u2 = counterUniform(this.key, this.draws++);
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** The next twist command [v m/s, ω rad/s] after dtS seconds. */
  next(dtS: number): Float32Array {
    const { tauS, sigmaMps, wheelBaseM } = this.options;
    const decay = Math.exp(-dtS / tauS);
    const spread = sigmaMps * Math.sqrt(1 - decay * decay);
    this.left = this.left * decay + spread * this.gaussian();
    this.right = this.right * decay + spread * this.gaussian();
    return Float32Array.of((this.left + this.right) / 2, (this.right - this.left) / wheelBaseM);
  }
}
