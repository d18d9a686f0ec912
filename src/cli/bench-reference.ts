/**
 * The machine's own floor beside each `bench loop` row: `cyclictest` (rt-tests), a C thread that
 * sleeps to a deadline every tick and does nothing else, at the row's scheduling (FIFO N for
 * realtime rows, SCHED_OTHER for normal rows), same interval, for as many wake-ups as the row has
 * ticks, run concurrently with the loop so that it sees the same load (and the loop itself, which
 * it competes with). Its wake-up latency is what any thread at that priority gets on this machine
 * at that moment; the loop's lateness can be compared with it in the same run (docs/tick.md).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** How the reference thread is scheduled: a FIFO priority, or null for SCHED_OTHER. */
export interface ReferenceSpec {
  fifoPriority: number | null;
  intervalUs: number;
  /** Wake-ups to measure: the row's ticks (the run is also stopped with the row). */
  wakeups: number;
}

export interface ReferenceResult {
  /** Wake-ups measured (cyclictest's cycles). */
  wakeups: number;
  /**
   * Latency past each deadline, µs, counted per period as the loop counts its lateness: after a
   * wake-up L late, cyclictest skips the periods it slept through and records one sample, where
   * the loop records every dropped tick (L, L − tick, …; coordinated-omission correction). The
   * same correction is applied here, so the two histograms count the same thing.
   */
  latencyUs: { p50: number; p99: number; p999: number; max: number };
  /** Wake-ups at least one interval (one tick) late. */
  lateWakeups: number;
  /** Periods slept through (what the loop's `missed` would be for a thread that woke like this). */
  missed: number;
}

/** Latencies up to this many ticks (at least 20 ms) are binned per µs; later ones count as overflow. */
const HISTOGRAM_TICKS = 20;
const HISTOGRAM_MIN_US = 20_000;

/** Why the reference cannot run here (cyclictest not on PATH), or null when it can. */
export function referenceMissing(path = process.env.PATH ?? ''): string | null {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, 'cyclictest'), constants.X_OK);
      return null;
    } catch {
      // Not in this directory.
    }
  }
  return 'cyclictest is not on PATH (Debian/Ubuntu: apt-get install rt-tests)';
}

/**
 * Percentiles of cyclictest's per-µs histogram, corrected per period like the loop's lateness (a
 * wake-up L ≥ one interval late also counts L − interval, L − 2·interval, … down to below one
 * interval, one value per period slept through); the overflow above the histogram counts at the
 * maximum.
 */
export function referenceFromHistogram(
  histogram: Record<string, number>,
  cycles: number,
  maxUs: number,
  intervalUs: number,
): ReferenceResult {
  const counts = new Map<number, number>();
  const add = (us: number, count: number) => counts.set(us, (counts.get(us) ?? 0) + count);
  let binned = 0;
  let lateWakeups = 0;
  let missed = 0;
  const record = (us: number, count: number) => {
    const skipped = Math.floor(us / intervalUs);
    if (skipped > 0) lateWakeups += count;
    missed += skipped * count;
    for (let k = 0; k <= skipped; k++) add(us - k * intervalUs, count);
  };
  for (const [us, count] of Object.entries(histogram)) {
    binned += count;
    record(Number(us), count);
  }
  record(maxUs, Math.max(0, cycles - binned));
  const bins = [...counts.entries()].filter(([, count]) => count > 0).sort((a, b) => a[0] - b[0]);
  const total = bins.reduce((sum, [, count]) => sum + count, 0);
  const quantile = (q: number): number => {
    const rank = Math.ceil(q * total);
    let seen = 0;
    for (const [us, count] of bins) {
      seen += count;
      if (seen >= rank) return us;
    }
    return maxUs;
  };
  return {
    wakeups: cycles,
    latencyUs: { p50: quantile(0.5), p99: quantile(0.99), p999: quantile(0.999), max: maxUs },
    lateWakeups,
    missed,
  };
}

export class CyclictestReference {
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private stderr = '';
  private done = false;
  private readonly killOnExit = () => this.child.kill('SIGKILL');

  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    private readonly spec: ReferenceSpec,
  ) {
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      this.stderr += text;
    });
    this.exited = new Promise((resolve) => {
      child.once('error', (error) => {
        this.stderr += error.message;
        resolve({ code: -1, signal: null });
      });
      child.once('exit', (code, signal) => {
        this.done = true;
        resolve({ code, signal });
      });
    });
    // A benchmark that exits however it exits leaves no FIFO cyclictest behind.
    process.once('exit', this.killOnExit);
  }

  /** Starts cyclictest for the row; its wake-ups begin at once (start it just before the first tick). */
  static start(spec: ReferenceSpec): CyclictestReference {
    const dir = mkdtempSync(join(tmpdir(), 'spikeloop-reference-'));
    const histogramUs = Math.max(HISTOGRAM_MIN_US, HISTOGRAM_TICKS * spec.intervalUs);
    const policy =
      spec.fifoPriority === null
        ? ['--policy=other']
        : ['--policy=fifo', '--priority', String(spec.fifoPriority)];
    const child = spawn(
      'cyclictest',
      [
        // Lock its memory (no page fault in the measurement), print only the summary, and leave
        // the system as it is: by default cyclictest writes 0 to /dev/cpu_dma_latency while it
        // runs, which would change the machine the loop is measured on.
        '--mlockall',
        '--quiet',
        '--default-system',
        ...policy,
        '--interval',
        String(Math.round(spec.intervalUs)),
        '--loops',
        String(Math.max(1, spec.wakeups)),
        '--histogram',
        String(histogramUs),
        `--json=${join(dir, 'reference.json')}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    return new CyclictestReference(child, dir, spec);
  }

  /**
   * Ends the measurement (SIGINT when the row stopped before its wake-ups were done; cyclictest
   * then writes what it measured) and reads the result; rejects with cyclictest's own words when it
   * could not run (e.g. FIFO without the privilege).
   */
  async stop(): Promise<ReferenceResult> {
    try {
      if (!this.done) this.child.kill('SIGINT');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      const { code, signal } = await this.exited;
      clearTimeout(timer);
      if (code !== 0) {
        const said = this.stderr
          .split('\n')
          .map((line) => line.trim())
          .filter((line) => line !== '' && !line.startsWith('WARN'))
          .join(' ');
        throw new Error(
          `cyclictest ${signal ? `was killed (${signal})` : `exited with status ${code}`}${said ? `: ${said}` : ''}`,
        );
      }
      const json = JSON.parse(readFileSync(join(this.dir, 'reference.json'), 'utf8')) as {
        thread?: Record<string, { histogram?: Record<string, number>; cycles?: number; max?: number }>;
      };
      const thread = json.thread?.['0'];
      if (!thread || typeof thread.cycles !== 'number' || typeof thread.max !== 'number') {
        throw new Error('cyclictest wrote no result for its thread');
      }
      return referenceFromHistogram(thread.histogram ?? {}, thread.cycles, thread.max, this.spec.intervalUs);
    } finally {
      process.removeListener('exit', this.killOnExit);
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
