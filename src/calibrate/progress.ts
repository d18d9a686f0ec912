/**
 * A progress bar with ETA on stderr. On a terminal it redraws one line (at most every 200 ms);
 * otherwise (logs, CI, child processes) it prints a plain line per reported milestone.
 */

export interface ProgressSink {
  /** Work done so far, in the units of `total`; `label` says what finished (printed off-terminal). */
  update(done: number, label?: string): void;
  finish(label?: string): void;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${seconds.toFixed(0)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

export class ProgressBar implements ProgressSink {
  private readonly startMs = performance.now();
  private lastDrawMs = 0;
  private done = 0;

  constructor(
    private readonly title: string,
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    // SPIKELOOP_STDERR_TTY: stderr is a pipe to bin/spikeloop.js, which writes to a terminal.
    private readonly interactive = Boolean(process.stderr.isTTY) || process.env.SPIKELOOP_STDERR_TTY === '1',
  ) {}

  private line(): string {
    const fraction = this.total > 0 ? Math.min(1, this.done / this.total) : 1;
    const elapsedS = (performance.now() - this.startMs) / 1000;
    const etaS = fraction > 0 ? (elapsedS * (1 - fraction)) / fraction : Number.POSITIVE_INFINITY;
    const width = 28;
    const filled = Math.round(fraction * width);
    const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
    return `${this.title} [${bar}] ${(fraction * 100).toFixed(0).padStart(3)}% elapsed ${formatDuration(elapsedS)} ETA ${formatDuration(etaS)}`;
  }

  update(done: number, label?: string): void {
    this.done = done;
    if (this.interactive) {
      const now = performance.now();
      if (now - this.lastDrawMs < 200 && done < this.total) return;
      this.lastDrawMs = now;
      this.stream.write(`\r${this.line()}\x1b[K`);
    } else if (label) {
      this.stream.write(`${this.line()} ${label}\n`);
    }
  }

  finish(label?: string): void {
    this.done = this.total;
    if (this.interactive) this.stream.write(`\r${this.line()}\x1b[K\n`);
    else this.stream.write(`${this.line()}${label ? ` ${label}` : ''}\n`);
  }
}

/** Reports nothing (library use, tests). */
export const SILENT_PROGRESS: ProgressSink = { update() {}, finish() {} };
