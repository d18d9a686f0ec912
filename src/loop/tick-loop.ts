/**
 * The real-time tick, read → update → write, against absolute deadlines (DESIGN.md §3):
 * read the newest sample of every input and encode it into population currents, run the engine
 * for one tick of substeps, decode the population counts into motor commands, then sleep until
 * t0 + (k+1)·tick. Everything slow (snapshots, reports, warnings) happens off this path.
 */
import type { PopulationActivity } from '../codec/types.js';
import type { Engine } from '../engine/engine.js';
import { substepsPerTick } from '../model/params.js';
import { TelemetryFeed } from '../telemetry/live.js';
import { LoopTelemetry } from '../telemetry/loop-telemetry.js';
import type { Environment, SensorSample } from './ports.js';
import { type LatePolicy, TickSchedule } from './schedule.js';
import { type ClockUs, monotonicUs, preciseSleeper, type Sleeper } from './sleep.js';
import { checkWiring, ThrottledWarning } from './wiring.js';

export interface TickLoopOptions {
  engine: Engine;
  env: Environment;
  tickMs: number;
  /** The network's time step: a tick runs tickMs / dtMs substeps. */
  dtMs: number;
  latePolicy: LatePolicy;
  clock?: ClockUs;
  sleep?: Sleeper;
  /** Receives rate-limited warnings (missed ticks, bad sensor values); default stderr. */
  warn?: (message: string) => void;
}

export class TickLoop {
  readonly telemetry: LoopTelemetry;
  readonly feed: TelemetryFeed;
  readonly substeps: number;
  private running = false;
  private stopRequested = false;
  private readonly clock: ClockUs;
  private readonly sleep: Sleeper;
  private readonly missWarning: ThrottledWarning;
  private readonly codecWarning: ThrottledWarning;

  constructor(private readonly options: TickLoopOptions) {
    const { engine, env, tickMs } = options;
    this.substeps = substepsPerTick(tickMs, options.dtMs);
    checkWiring(env, engine.layout.populationCount);
    this.clock = options.clock ?? monotonicUs;
    this.sleep = options.sleep ?? preciseSleeper(this.clock);
    this.telemetry = new LoopTelemetry(
      tickMs * 1000,
      env.sources.map((source) => source.name),
    );
    const { layout } = engine;
    const sizes = Uint32Array.from({ length: layout.populationCount }, (_, p) =>
      p < layout.clusters ? layout.nEPerCluster : layout.nIPerCluster,
    );
    this.feed = new TelemetryFeed(this.telemetry, sizes, layout.clusters, tickMs, this.clock);
    const warn = options.warn ?? ((message: string) => console.error(`spikeloop: ${message}`));
    this.missWarning = new ThrottledWarning(warn, this.clock);
    this.codecWarning = new ThrottledWarning(warn, this.clock);
  }

  /** Streams every spike of instance 0 into the telemetry feed (for a raster display), or stops. */
  streamSpikes(enabled: boolean): void {
    this.options.engine.onSpikes(enabled ? (step, ids) => this.feed.addSpikes(step, ids) : null);
  }

  /** Asks the loop to stop after the current tick; `run` then resolves. */
  stop(): void {
    this.stopRequested = true;
  }

  /** Runs ticks until `stop()` or until `maxTicks` ticks have been scheduled. */
  async run(maxTicks = Number.POSITIVE_INFINITY): Promise<void> {
    if (this.running) throw new Error('the tick loop is already running');
    this.running = true;
    this.stopRequested = false;
    const { engine, env, tickMs } = this.options;
    const io = env.sources.map((source) => ({
      source,
      encoders: env.encoders.filter((encoder) => encoder.input === source.name),
      latest: null as SensorSample | null,
      unanswered: null as SensorSample | null,
    }));
    const sinks = env.decoders.map((decoder) => ({
      decoder,
      sink: env.sinks.find((sink) => sink.name === decoder.output)!,
    }));
    const currentsPa = new Float32Array(engine.layout.populationCount);
    const activity: PopulationActivity = {
      counts: new Uint32Array(0),
      sizes: this.feed.populationSizes,
      tickMs,
    };
    const schedule = new TickSchedule(this.clock() + tickMs * 1000, tickMs * 1000, this.options.latePolicy);
    try {
      while (!this.stopRequested && schedule.pendingTick < maxTicks) {
        // The engine's promise has resolved, so a short final busy wait delays nothing it needs.
        await this.sleep(schedule.nextDeadlineUs, true);
        const startUs = this.clock();
        if (this.options.latePolicy === 'skip') {
          // A bounded run ends at t0 + maxTicks·tick: slots past the end are not scheduled.
          const end = schedule.dropRemaining(startUs, maxTicks);
          this.telemetry.recordDropped(end.dropped, end.firstDroppedLatenessUs);
          if (end.dropped > 0) break;
        }
        const start = schedule.begin(startUs);
        this.telemetry.recordStart(
          start.latenessUs,
          start.dropped,
          start.firstDroppedLatenessUs,
          start.missedSlot,
        );
        if (start.dropped > 0 || start.missedSlot) this.warnMissed();

        // read: newest sample per input (never waits); inputs without a new sample hold their last one.
        currentsPa.fill(0);
        for (const input of io) {
          const sample = input.source.takeLatest();
          if (sample) input.latest = input.unanswered = sample;
          if (!input.latest) continue;
          for (const encoder of input.encoders) {
            try {
              encoder.encode(input.latest.values, currentsPa);
            } catch (error) {
              this.codecWarning.warn(`input "${input.source.name}": ${messageOf(error)}`);
            }
          }
        }
        engine.setPopulationCurrents(0, currentsPa);

        // update: one tick of substeps; counts of instance 0.
        activity.counts = (await engine.run(this.substeps)).subarray(0, currentsPa.length);

        // write: decoders → commands that carry the newest sample seq of every input.
        const sourceSeq: Record<string, number> = {};
        for (const input of io) if (input.latest) sourceSeq[input.source.name] = input.latest.seq;
        let firstCommandUs = Number.NaN;
        for (const { decoder, sink } of sinks) {
          const computedUs = this.clock();
          sink.write({ values: decoder.decode(activity), sourceSeq, computedUs });
          if (Number.isNaN(firstCommandUs)) firstCommandUs = computedUs;
        }
        for (const input of io) {
          if (!input.unanswered || Number.isNaN(firstCommandUs)) continue;
          this.telemetry.recordEndToEnd(input.source.name, firstCommandUs - input.unanswered.arrivalUs);
          input.unanswered = null;
        }
        env.step?.(tickMs);
        this.feed.addCounts(activity.counts);
        const endUs = this.clock();
        this.telemetry.recordEnd(endUs - startUs);
      }
    } finally {
      this.running = false;
    }
  }

  private warnMissed(): void {
    const { missed, ticks } = this.telemetry.counters;
    this.missWarning.warn(`missed ${missed} tick(s) of ${this.options.tickMs} ms so far (${ticks} run)`);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
