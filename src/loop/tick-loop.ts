/**
 * The real-time tick, read → update → write, against absolute deadlines (DESIGN.md §3):
 * read the newest sample of every input and encode it into population currents, run the engine
 * for one tick of substeps, decode the population counts into motor commands, then sleep until
 * t0 + (k+1)·tick. Everything slow (snapshots, reports, warnings) happens off this path.
 */
import type { Decoder, Encoder, PopulationActivity } from '../codec/types.js';
import type { Engine } from '../engine/engine.js';
import { substepsPerTick } from '../model/params.js';
import { TelemetryFeed } from '../telemetry/live.js';
import { LoopTelemetry } from '../telemetry/loop-telemetry.js';
import type { Environment, MotorSink, SensorSample, SensorSource } from './ports.js';
import { type LatePolicy, TickSchedule } from './schedule.js';
import { type ClockUs, monotonicUs, preciseSleeper, type Sleeper } from './sleep.js';
import { checkWiring, ThrottledWarning } from './wiring.js';

interface InputState {
  source: SensorSource;
  encoders: Encoder[];
  /** The newest sample taken; held while no newer one arrives. */
  latest: SensorSample | null;
  /** Taken but not yet answered by a motor command (for end-to-end latency). */
  unanswered: SensorSample | null;
}

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
  private spikeConsumers = 0;
  private stopRequested = false;
  private readonly clock: ClockUs;
  private readonly sleep: Sleeper;
  private readonly missWarning: ThrottledWarning;
  private readonly codecWarning: ThrottledWarning;
  private readonly inputs: InputState[];
  private readonly outputs: { decoder: Decoder; sink: MotorSink }[];
  private readonly currentsPa: Float32Array;
  private readonly activity: PopulationActivity;

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
    this.telemetry.setPopulations(sizes, layout.clusters);
    this.feed = new TelemetryFeed(this.telemetry, sizes, layout.clusters, tickMs, this.clock);
    const warn = options.warn ?? ((message: string) => console.error(`spikeloop: ${message}`));
    this.missWarning = new ThrottledWarning(warn, this.clock);
    this.codecWarning = new ThrottledWarning(warn, this.clock);
    this.inputs = env.sources.map((source) => ({
      source,
      encoders: env.encoders.filter((encoder) => encoder.input === source.name),
      latest: null,
      unanswered: null,
    }));
    this.outputs = env.decoders.map((decoder) => ({
      decoder,
      sink: env.sinks.find((sink) => sink.name === decoder.output)!,
    }));
    this.currentsPa = new Float32Array(layout.populationCount);
    this.activity = { counts: new Uint32Array(0), sizes, tickMs };
  }

  /**
   * Streams every spike of instance 0 into the telemetry feed (raster displays) while at least one
   * consumer has asked for it: each `streamSpikes(true)` is matched by one `streamSpikes(false)`.
   */
  streamSpikes(enabled: boolean): void {
    const before = this.spikeConsumers;
    this.spikeConsumers = Math.max(0, before + (enabled ? 1 : -1));
    if (before === 0 && this.spikeConsumers > 0) {
      this.options.engine.onSpikes((step, ids) => this.feed.addSpikes(step, ids));
    } else if (before > 0 && this.spikeConsumers === 0) {
      this.options.engine.onSpikes(null);
    }
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
    const tickUs = this.options.tickMs * 1000;
    // One short sleep first: start-up work still queued on the event loop runs, and the sleeper
    // is compiled, before t0 rather than making the first tick late.
    await this.sleep(this.clock() + 200, true);
    let schedule = new TickSchedule(this.clock() + tickUs, tickUs, this.options.latePolicy);
    try {
      while (!this.stopRequested && schedule.pendingTick < maxTicks) {
        // The engine's promise has resolved: nothing the tick needs is pending on the event loop.
        await this.sleep(schedule.nextDeadlineUs, true);
        const startUs = this.clock();
        if (schedule.pendingTick === 0 && startUs - schedule.nextDeadlineUs >= tickUs) {
          // Nothing has run yet, so no phase has been promised: a first wake-up delayed by
          // start-up work (a cold sleeper, the dashboard's server still on the event loop) moves
          // t0 instead of counting as missed ticks.
          schedule = schedule.restartedAt(startUs);
        }
        if (this.options.latePolicy === 'skip') {
          // A bounded run ends at t0 + maxTicks·tick: slots past the end are not scheduled.
          const end = schedule.dropRemaining(startUs, maxTicks);
          this.telemetry.recordDropped(end.dropped, end.firstDroppedLatenessUs);
          if (end.dropped > 0) break;
        }
        const start = schedule.begin(startUs);
        const { latenessUs, dropped, firstDroppedLatenessUs, missedSlot } = start;
        this.telemetry.recordStart(latenessUs, dropped, firstDroppedLatenessUs, missedSlot);
        if (dropped > 0 || missedSlot) this.warnMissed();

        this.read();
        const counts = await this.update();
        this.write(counts);
        this.options.env.step?.(this.options.tickMs);
        this.telemetry.recordEnd(this.clock() - startUs);
      }
    } finally {
      this.running = false;
    }
  }

  /** Newest sample per input (never waits); an input without a new sample holds its last one. */
  private read(): void {
    this.currentsPa.fill(0);
    for (const input of this.inputs) {
      const sample = input.source.takeLatest();
      if (sample) input.latest = input.unanswered = sample;
      if (!input.latest) continue;
      for (const encoder of input.encoders) {
        try {
          encoder.encode(input.latest.values, this.currentsPa);
        } catch (error) {
          this.codecWarning.warn(`input "${input.source.name}": ${messageOf(error)}`);
        }
      }
    }
    this.options.engine.setPopulationCurrents(0, this.currentsPa);
  }

  /** One tick of substeps; spike counts per population of instance 0. */
  private async update(): Promise<Uint32Array> {
    const counts = await this.options.engine.run(this.substeps);
    return counts.subarray(0, this.currentsPa.length);
  }

  /** Decoders → motor commands carrying the newest sample seq of every input; end-to-end latency. */
  private write(counts: Uint32Array): void {
    this.activity.counts = counts;
    this.feed.addCounts(counts);
    this.telemetry.recordCounts(counts);
    const sourceSeq: Record<string, number> = {};
    for (const input of this.inputs) if (input.latest) sourceSeq[input.source.name] = input.latest.seq;
    let firstCommandUs = Number.NaN;
    for (const { decoder, sink } of this.outputs) {
      let values: Float32Array;
      try {
        values = decoder.decode(this.activity);
      } catch (error) {
        this.codecWarning.warn(`output "${sink.name}": ${messageOf(error)}`);
        continue;
      }
      const computedUs = this.clock();
      sink.write({ values, sourceSeq, computedUs });
      if (Number.isNaN(firstCommandUs)) firstCommandUs = computedUs;
    }
    if (Number.isNaN(firstCommandUs)) return;
    for (const input of this.inputs) {
      if (!input.unanswered) continue;
      this.telemetry.recordEndToEnd(input.source.name, firstCommandUs - input.unanswered.arrivalUs);
      input.unanswered = null;
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
