/**
 * The real-time tick, read → update → write, against absolute deadlines (docs/tick.md):
 * read the newest sample of every input and encode it into population currents, run the engine
 * for one tick of substeps, decode the population counts into motor commands, then sleep until
 * t0 + (k+1)·tick. Everything slow (snapshots, reports, warnings) happens off this path.
 */
import { CodecError } from '../codec/errors.js';
import type { Decoder, Encoder, PopulationActivity } from '../codec/types.js';
import type { Engine } from '../engine/engine.js';
import { populationSizes } from '../model/network.js';
import { substepsPerTick } from '../model/params.js';
import { TelemetryFeed } from '../telemetry/live.js';
import { LoopTelemetry } from '../telemetry/loop-telemetry.js';
import type { TickEvent, TickInput, TickObserver, TickOutput } from './observer.js';
import type { Environment, MotorCommand, MotorSink, SensorSample, SensorSource } from './ports.js';
import { SafetyGuard, type SafetySettings } from './safety.js';
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
  /** Taken in the current tick (observers). */
  taken: SensorSample | null;
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
  /** The stale-input safety policy (default: the environment's own, else safety.ts's defaults). */
  safety?: SafetySettings;
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
  private readonly outputs: { decoder: Decoder; sink: MotorSink; command: MotorCommand | null }[];
  private readonly observers: TickObserver[] = [];
  private readonly currentsPa: Float32Array;
  private readonly activity: PopulationActivity;
  /** Stale inputs → stop/hold per output (safety.ts); `lastCommands` is what `hold` repeats. */
  readonly safety: SafetyGuard;
  private readonly lastCommands: (Float32Array | null)[];

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
    const sizes = populationSizes(layout);
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
      taken: null,
    }));
    this.outputs = env.decoders.map((decoder) => ({
      decoder,
      sink: env.sinks.find((sink) => sink.name === decoder.output)!,
      command: null,
    }));
    this.currentsPa = new Float32Array(layout.populationCount);
    this.activity = { counts: new Uint32Array(0), sizes, tickMs };
    const safety = options.safety ?? env.safety ?? {};
    // An input no encoder reads cannot make a command stale, unless its timeout is set explicitly.
    const unread = Object.fromEntries(
      this.inputs
        .filter(
          (input) => input.encoders.length === 0 && safety.staleAfterMs?.[input.source.name] === undefined,
        )
        .map((input) => [input.source.name, Number.POSITIVE_INFINITY]),
    );
    this.safety = new SafetyGuard(
      env.sources.map((source) => ({ name: source.name, isLive: source.isLive?.bind(source) })),
      this.outputs.map((output) => output.sink.name),
      { ...safety, staleAfterMs: { ...unread, ...safety.staleAfterMs } },
      (message) => setImmediate(() => warn(message)),
    );
    this.lastCommands = this.outputs.map(() => null);
    this.feed.safetyState = () => this.safety.state();
  }

  /**
   * Streams every spike of instance 0 into the telemetry feed (raster displays) while at least one
   * consumer has asked for it: each `streamSpikes(true)` is matched by one `streamSpikes(false)`.
   */
  streamSpikes(enabled: boolean): void {
    this.spikeConsumers = Math.max(0, this.spikeConsumers + (enabled ? 1 : -1));
    this.routeSpikes();
  }

  /**
   * Adds an observer told about every tick (and, if it asks, every spike) from the next tick on.
   * Observers are called on the tick's thread, so they must only copy and return.
   */
  addObserver(observer: TickObserver): void {
    this.observers.push(observer);
    this.routeSpikes();
  }

  removeObserver(observer: TickObserver): void {
    const index = this.observers.indexOf(observer);
    if (index >= 0) this.observers.splice(index, 1);
    this.routeSpikes();
  }

  /** The engine takes one spike listener: it feeds the live feed and observers as they need. */
  private routeSpikes(): void {
    const toFeed = this.spikeConsumers > 0;
    const observers = this.observers.filter((observer) => observer.onSpikes);
    if (!toFeed && observers.length === 0) {
      this.options.engine.onSpikes(null);
      return;
    }
    this.options.engine.onSpikes((step, ids) => {
      if (toFeed) this.feed.addSpikes(step, ids);
      for (const observer of observers) observer.onSpikes!(step, ids);
    });
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
        const computeUs = this.clock() - startUs;
        this.telemetry.recordEnd(computeUs);
        if (this.observers.length > 0) this.notify(start.tick, startUs, latenessUs, computeUs, counts);
      }
    } finally {
      this.running = false;
    }
  }

  /** Newest sample per input (never waits); an input without a new sample holds its last one. */
  private read(): void {
    this.currentsPa.fill(0);
    for (let i = 0; i < this.inputs.length; i++) {
      const input = this.inputs[i]!;
      const sample = input.source.takeLatest();
      input.taken = sample;
      if (sample) {
        input.latest = input.unanswered = sample;
        this.safety.noteSample(i, sample.arrivalUs);
      }
      if (!input.latest) continue;
      for (const encoder of input.encoders) {
        try {
          encoder.encode(input.latest.values, this.currentsPa);
        } catch (error) {
          // Codec errors already name their input ('input "scan": value 3 is NaN; …').
          const message = messageOf(error);
          this.codecWarning.warn(
            error instanceof CodecError ? message : `input "${input.source.name}": ${message}`,
          );
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
    this.safety.evaluate(this.clock());
    for (let k = 0; k < this.outputs.length; k++) {
      const output = this.outputs[k]!;
      const { decoder, sink } = output;
      output.command = null;
      let values: Float32Array;
      try {
        values = decoder.decode(this.activity);
      } catch (error) {
        this.codecWarning.warn(`output "${sink.name}": ${messageOf(error)}`);
        continue;
      }
      const computedUs = this.clock();
      // Decoders run every tick regardless, so their filters stay in step with the network.
      const action = this.safety.action(k);
      if (action === 'command') {
        output.command = { values, sourceSeq, computedUs };
        // Kept in a buffer of its own (no allocation per tick); `hold` hands out copies.
        const last = this.lastCommands[k];
        if (last && last.length === values.length) last.set(values);
        else this.lastCommands[k] = Float32Array.from(values);
        if (Number.isNaN(firstCommandUs)) firstCommandUs = computedUs;
      } else if (action === 'stop') {
        output.command = { values: new Float32Array(values.length), sourceSeq, computedUs, safety: 'stop' };
      } else {
        // hold: nothing commanded yet means nothing to hold; a position output then stays silent.
        const last = this.lastCommands[k];
        if (last) output.command = { values: Float32Array.from(last), sourceSeq, computedUs, safety: 'hold' };
      }
      if (output.command) sink.write(output.command);
    }
    if (Number.isNaN(firstCommandUs)) return;
    for (const input of this.inputs) {
      if (!input.unanswered) continue;
      this.telemetry.recordEndToEnd(input.source.name, firstCommandUs - input.unanswered.arrivalUs);
      input.unanswered = null;
    }
  }

  private notify(
    slot: number,
    startUs: number,
    latenessUs: number,
    computeUs: number,
    counts: Uint32Array,
  ): void {
    const inputs: TickInput[] = this.inputs.map((input) => ({
      name: input.source.name,
      taken: input.taken,
      usedSeq: input.latest ? input.latest.seq : -1,
    }));
    const outputs: TickOutput[] = this.outputs.map((output) => ({
      name: output.sink.name,
      command: output.command,
    }));
    const event: TickEvent = {
      index: this.telemetry.counters.ticks - 1,
      slot,
      startUs,
      latenessUs,
      computeUs,
      firstStep: this.options.engine.stepCount - this.substeps,
      substeps: this.substeps,
      inputs,
      currentsPa: this.currentsPa,
      counts,
      outputs,
    };
    for (const observer of this.observers) observer.onTick(event);
  }

  private warnMissed(): void {
    const { missed, ticks } = this.telemetry.counters;
    this.missWarning.warn(`missed ${missed} tick(s) of ${this.options.tickMs} ms so far (${ticks} run)`);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
