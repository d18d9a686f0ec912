/** Checks that an environment's codecs and ports fit together, and rate-limits loop warnings. */
import type { Environment } from './ports.js';

export class WiringError extends Error {
  override name = 'WiringError';
}

/** Every encoder reads an existing source, every decoder writes an existing sink, names are unique. */
export function checkWiring(env: Environment, populationCount: number): void {
  const where = `environment "${env.name}"`;
  const unique = (kind: string, names: readonly string[]) => {
    const seen = new Set<string>();
    for (const name of names) {
      if (seen.has(name)) throw new WiringError(`${where}: two ${kind}s are named "${name}"`);
      seen.add(name);
    }
    return seen;
  };
  const sources = unique(
    'source',
    env.sources.map((source) => source.name),
  );
  const sinks = unique(
    'sink',
    env.sinks.map((sink) => sink.name),
  );
  unique(
    'decoder output',
    env.decoders.map((decoder) => decoder.output),
  );
  for (const encoder of env.encoders) {
    if (!sources.has(encoder.input)) {
      throw new WiringError(
        `${where}: encoder input "${encoder.input}" has no sensor source (sources: ${[...sources].join(', ') || 'none'})`,
      );
    }
    // A size mismatch would make the encoder refuse every sample: a run with a dead input.
    const source = env.sources.find((candidate) => candidate.name === encoder.input)!;
    if (encoder.size !== undefined && source.size !== undefined && encoder.size !== source.size) {
      throw new WiringError(
        `${where}: the mapping reads ${encoder.size} value(s) from input "${encoder.input}", but that source gives ${source.size} per sample; set the encoder's size to ${source.size}`,
      );
    }
  }
  for (const decoder of env.decoders) {
    if (!sinks.has(decoder.output)) {
      throw new WiringError(
        `${where}: decoder output "${decoder.output}" has no motor sink (sinks: ${[...sinks].join(', ') || 'none'})`,
      );
    }
  }
  if (!Number.isInteger(populationCount) || populationCount < 1) {
    throw new WiringError(`${where}: the network has no populations`);
  }
}

/** Emits at most one message per interval and says how many were suppressed in between. */
export class ThrottledWarning {
  private lastUs = Number.NEGATIVE_INFINITY;
  private suppressed = 0;

  /**
   * `emit` is called on the event loop (printing can block on a slow terminal), or at once when
   * `deferred` is false: for an emit that only hands the message on (the tick thread's postMessage).
   */
  constructor(
    private readonly emit: (message: string) => void,
    private readonly clockUs: () => number,
    private readonly intervalUs = 5_000_000,
    private readonly deferred = true,
  ) {}

  warn(message: string): void {
    if (this.suppress()) return;
    this.emitNow(message);
  }

  /**
   * Counts a warning that falls in the quiet interval and says so; the caller then skips building
   * its message, so a suppressed warning (a missed tick each tick) allocates nothing.
   */
  suppress(): boolean {
    if (this.clockUs() - this.lastUs < this.intervalUs) {
      this.suppressed += 1;
      return true;
    }
    return false;
  }

  /** Emits at once (after `suppress()` said no). */
  emitNow(message: string): void {
    const nowUs = this.clockUs();
    const note = this.suppressed > 0 ? ` (${this.suppressed} similar warning(s) suppressed)` : '';
    this.lastUs = nowUs;
    this.suppressed = 0;
    // Printing can block on a slow terminal: hand it to the event loop, off the tick.
    if (this.deferred) setImmediate(() => this.emit(`${message}${note}`));
    else this.emit(`${message}${note}`);
  }
}
