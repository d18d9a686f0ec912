/**
 * `--record FILE.mcap`: a TickCapture on the tick's thread (copies only), drained every 50 ms into
 * a writer thread that converts, compresses (zstd) and writes. A failed write never stops the run:
 * it prints one line and the recording stops.
 */
import { Worker } from 'node:worker_threads';
import type { Environment } from '../loop/ports.js';
import { channelsFor, type RunDescription } from './channels.js';
import { externalWorldProbeOf, TickCapture, worldProbeOf } from './tick-record.js';
import type { WriterReply, WriterRequest, WriterSetup } from './writer-thread.js';

export const FLUSH_INTERVAL_MS = 50;
/**
 * Ticks handed to the writer but not yet written. Beyond this the capture keeps them (and past its
 * own bound drops the oldest, counted), so a writer that cannot keep up never grows memory without limit.
 */
export const MAX_TICKS_IN_FLIGHT = 30_000;

export interface RecordingResult {
  path: string;
  bytes: number;
  messages: number;
  ticks: number;
  /** Ticks lost because the writer fell too far behind (0 unless the disk stalls for a minute). */
  droppedTicks: number;
  error: string | null;
}

function spawnWriter(setup: WriterSetup): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./writer-thread.js', here), { workerData: setup });
  const entry = JSON.stringify(new URL('./writer-thread.ts', here).href);
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${entry}); });`;
  return new Worker(bootstrap, { eval: true, workerData: setup });
}

export class McapRecorder {
  readonly capture: TickCapture;
  private timer: NodeJS.Timeout | null = null;
  private ticks = 0;
  private inFlight = 0;
  private error: string | null = null;
  private closed: Promise<RecordingResult> | null = null;
  private closing: ((reply: { bytes: number; messages: number }) => void) | null = null;

  private constructor(
    readonly path: string,
    private readonly worker: Worker,
    capture: TickCapture,
    private readonly warn: (message: string) => void,
  ) {
    this.capture = capture;
    worker.on('message', (reply: WriterReply) => {
      if (reply.kind === 'written') this.inFlight -= reply.ticks;
      else if (reply.kind === 'error') this.fail(reply.message);
      else if (reply.kind === 'closed') this.closing?.(reply);
    });
    worker.on('error', (error) => this.fail(error.message));
    worker.on('exit', () => this.closing?.({ bytes: 0, messages: 0 }));
  }

  /** Opens the file (the writer thread is ready when this resolves) and starts the flush timer. */
  static async open(
    path: string,
    description: RunDescription,
    env: Pick<Environment, 'name' | 'sources' | 'sinks' | 'view'>,
    options: {
      sceneEvery?: number;
      warn?: (message: string) => void;
      /** The loop's clock (monotonic µs), mapped to Unix time for log times; default performance.now. */
      clock?: () => number;
    } = {},
  ): Promise<McapRecorder> {
    const channels = channelsFor(
      description,
      env.sources.map((source) => source.name),
      env.sinks.map((sink) => sink.name),
    );
    const worker = spawnWriter({
      path,
      description,
      channels,
      clockMonotonicUs: options.clock ? options.clock() : performance.now() * 1000,
      clockEpochMs: Date.now(),
      sceneEvery: options.sceneEvery ?? 20,
    });
    await new Promise<void>((resolve, reject) => {
      const onMessage = (reply: WriterReply) => {
        worker.off('error', reject);
        worker.off('message', onMessage);
        if (reply.kind === 'ready') resolve();
        else {
          void worker.terminate();
          reject(
            new Error(`cannot record to ${path}: ${reply.kind === 'error' ? reply.message : reply.kind}`),
          );
        }
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    });
    const warn = options.warn ?? ((message: string) => console.error(`spikeloop: ${message}`));
    const recorder = new McapRecorder(
      path,
      worker,
      new TickCapture(worldProbeOf(env), 60_000, externalWorldProbeOf(env)),
      warn,
    );
    recorder.timer = setInterval(() => recorder.flush(), FLUSH_INTERVAL_MS);
    return recorder;
  }

  private fail(message: string): void {
    if (this.error !== null) return;
    this.error = message;
    this.warn(`recording to ${this.path} failed: ${message}; the run goes on without it`);
    this.closing?.({ bytes: 0, messages: 0 });
  }

  /** Hands what the capture holds to the writer thread (a structured clone; typed arrays copy fast). */
  flush(force = false): void {
    if (!force && this.inFlight >= MAX_TICKS_IN_FLIGHT) return;
    const records = this.capture.drain();
    if (records.length === 0 || this.error !== null) return;
    this.ticks += records.length;
    this.inFlight += records.length;
    this.worker.postMessage({ kind: 'ticks', records } satisfies WriterRequest);
  }

  /** Writes what is left, the summary and the footer; resolves when the file is complete. */
  close(): Promise<RecordingResult> {
    if (this.closed) return this.closed;
    if (this.timer) clearInterval(this.timer);
    this.flush(true);
    this.closed = new Promise<{ bytes: number; messages: number }>((resolve) => {
      this.closing = resolve;
      if (this.error !== null) resolve({ bytes: 0, messages: 0 });
      else this.worker.postMessage({ kind: 'close' } satisfies WriterRequest);
    }).then(async ({ bytes, messages }) => {
      this.closing = null;
      await this.worker.terminate();
      return {
        path: this.path,
        bytes,
        messages,
        ticks: this.ticks,
        droppedTicks: this.capture.dropped,
        error: this.error,
      };
    });
    return this.closed;
  }
}
