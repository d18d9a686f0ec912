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
import type { LoopHandle } from './handle.js';
import type { TickEvent, TickInput, TickObserver, TickOutput } from './observer.js';
import type { Environment, MotorCommand, MotorSink, SensorSample, SensorSource } from './ports.js';
import { SafetyGuard, type SafetySettings } from './safety.js';
import { type LatePolicy, TickSchedule } from './schedule.js';
import { type BlockingSleeper, type ClockUs, monotonicUs, preciseSleeper, type Sleeper } from './sleep.js';
import { checkWiring, ThrottledWarning } from './wiring.js';

interface InputState {
  source: SensorSource;
  encoders: Encoder[];
  /** The newest sample taken; held while no newer one arrives. */
  latest: SensorSample | null;
  /**
   * Arrival time of the newest sample taken but not yet answered by a motor command (end-to-end
   * latency), NaN when answered: a number, because sources may refill their sample objects.
   */
  unansweredArrivalUs: number;
  /** Taken in the current tick (observers). */
  taken: SensorSample | null;
}

/**
 * How often the synchronous driver lets the event loop run: nothing the tick thread must react to
 * waits there (its stop and summary requests are shared-memory words read every tick, its
 * warnings are posted at once: `warnAtOnce`), only the GC observer's entries (docs/tick.md).
 */
const DEFAULT_TURN_INTERVAL_MS = 1000;

/** One turn of the event loop (timers, messages, I/O callbacks, immediates). */
function turnEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
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
  /**
   * `warn` only hands the message on without blocking (the tick thread posts it to the main
   * thread): it is called at once instead of on the next event-loop turn, which in the tick
   * thread's synchronous driver comes only once a second.
   */
  warnAtOnce?: boolean;
  /** The stale-input safety policy (default: the environment's own, else safety.ts's defaults). */
  safety?: SafetySettings;
  /**
   * A blocking sleeper for a thread that serves nothing else (the tick thread): with an engine
   * that steps synchronously, ticks then run without a promise (see `run`).
   */
  sleepSync?: BlockingSleeper;
  /** The synchronous driver turns the event loop at least this often (default 1000 ms). */
  turnIntervalMs?: number;
  /**
   * Where the tick's measurements go (default: a new LoopTelemetry). The tick thread passes one
   * that also copies each measurement into its shared tick record (src/loop/tick-thread/).
   */
  telemetry?: LoopTelemetry;
}

export class TickLoop implements LoopHandle {
  readonly telemetry: LoopTelemetry;
  readonly feed: TelemetryFeed;
  readonly substeps: number;
  private running = false;
  private maxTicks = Number.POSITIVE_INFINITY;
  private schedule = new TickSchedule(0, 1, 'late');
  /** The running tick's start, slot and lateness (fields, not locals: the tick spans calls). */
  private tickStartUs = Number.NaN;
  private tickSlot = 0;
  private tickLatenessUs = 0;
  private tickComputeUs = 0;
  private countsView: Uint32Array | null = null;
  private countsViewOf: Uint32Array | null = null;
  private spikeConsumers = 0;
  private stopRequested = false;
  private readonly clock: ClockUs;
  private readonly sleep: Sleeper;
  private readonly missWarning: ThrottledWarning;
  private readonly codecWarning: ThrottledWarning;
  private readonly inputs: InputState[];
  private readonly outputs: {
    decoder: Decoder;
    sink: MotorSink;
    /** This tick's command (`reused`, refilled) or null. */
    command: MotorCommand | null;
    reused: MotorCommand;
    stopValues: Float32Array;
    holdValues: Float32Array;
  }[];
  /** The sourceSeq every command carries, refilled each tick. */
  private readonly sourceSeq: Record<string, number> = {};
  private readonly observers: TickObserver[] = [];
  private readonly currentsPa: Float32Array;
  private readonly activity: PopulationActivity;
  /** Stale inputs → stop/hold per output (safety.ts); `lastCommands` is what `hold` repeats. */
  readonly safety: SafetyGuard;
  private readonly lastCommands: (Float32Array | null)[];
  /** Reused for every observer call (observers copy what they keep), so notifying allocates nothing. */
  private readonly event: {
    -readonly [K in keyof TickEvent]: TickEvent[K];
  };
  private readonly eventInputs: { name: string; taken: SensorSample | null; usedSeq: number }[];
  private readonly eventOutputs: { name: string; command: MotorCommand | null }[];

  constructor(private readonly options: TickLoopOptions) {
    const { engine, env, tickMs } = options;
    this.substeps = substepsPerTick(tickMs, options.dtMs);
    checkWiring(env, engine.layout.populationCount);
    this.clock = options.clock ?? monotonicUs;
    this.sleep = options.sleep ?? preciseSleeper(this.clock);
    this.telemetry =
      options.telemetry ??
      new LoopTelemetry(
        tickMs * 1000,
        env.sources.map((source) => source.name),
      );
    const { layout } = engine;
    const sizes = populationSizes(layout);
    this.telemetry.setPopulations(sizes, layout.clusters);
    this.feed = new TelemetryFeed(this.telemetry, sizes, layout.clusters, tickMs, this.clock);
    const warn = options.warn ?? ((message: string) => console.error(`spikeloop: ${message}`));
    const deferred = options.warnAtOnce !== true;
    this.missWarning = new ThrottledWarning(warn, this.clock, undefined, deferred);
    this.codecWarning = new ThrottledWarning(warn, this.clock, undefined, deferred);
    this.inputs = env.sources.map((source) => ({
      source,
      encoders: env.encoders.filter((encoder) => encoder.input === source.name),
      latest: null,
      unansweredArrivalUs: Number.NaN,
      taken: null,
    }));
    this.outputs = env.decoders.map((decoder) => ({
      decoder,
      sink: env.sinks.find((sink) => sink.name === decoder.output)!,
      command: null,
      reused: { values: new Float32Array(0), sourceSeq: this.sourceSeq, computedUs: 0, safety: undefined },
      stopValues: new Float32Array(decoder.size ?? 0),
      holdValues: new Float32Array(decoder.size ?? 0),
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
      deferred ? (message) => setImmediate(() => warn(message)) : warn,
    );
    this.lastCommands = this.outputs.map(() => null);
    this.feed.safetyState = () => this.safety.state();
    this.eventInputs = this.inputs.map((input) => ({ name: input.source.name, taken: null, usedSeq: -1 }));
    this.eventOutputs = this.outputs.map((output) => ({ name: output.sink.name, command: null }));
    this.event = {
      index: 0,
      slot: 0,
      startUs: Number.NaN,
      latenessUs: 0,
      computeUs: 0,
      firstStep: 0,
      substeps: this.substeps,
      inputs: this.eventInputs as readonly TickInput[],
      currentsPa: this.currentsPa,
      counts: new Uint32Array(0),
      outputs: this.eventOutputs as readonly TickOutput[],
    };
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
      for (let k = 0; k < observers.length; k++) observers[k]!.onSpikes!(step, ids);
    });
  }

  /** Asks the loop to stop after the current tick; `run` then resolves. */
  stop(): void {
    this.stopRequested = true;
  }

  /**
   * Runs ticks until `stop()` or until `maxTicks` ticks have been scheduled. Two drivers run the
   * same tick body (beginTick → read → engine → finishTick):
   * - the synchronous one, where the caller gave a blocking sleeper (`sleepSync`) and the engine
   *   can step synchronously (`Engine.runSync`: the CPU backend) — the tick thread. Ticks run
   *   without a promise; the event loop turns once every `turnIntervalMs` (docs/tick.md);
   * - the asynchronous one everywhere else (WebGPU's mapAsync, the in-process loop that shares
   *   its thread with sockets, virtual time): it awaits the sleeper and the engine every tick.
   */
  async run(maxTicks = Number.POSITIVE_INFINITY): Promise<void> {
    if (this.running) throw new Error('the tick loop is already running');
    this.running = true;
    this.stopRequested = false;
    this.maxTicks = maxTicks;
    const tickUs = this.options.tickMs * 1000;
    try {
      // One short sleep first: start-up work still queued on the event loop runs, and the sleeper
      // is compiled, before t0 rather than making the first tick late.
      await this.sleep(this.clock() + 200, true);
      this.schedule = new TickSchedule(this.clock() + tickUs, tickUs, this.options.latePolicy);
      const { sleepSync, turnIntervalMs = DEFAULT_TURN_INTERVAL_MS } = this.options;
      const { engine } = this.options;
      if (sleepSync !== undefined && engine.runSync !== undefined) {
        const turnIntervalUs = turnIntervalMs * 1000;
        while (this.ticksUntil(this.clock() + turnIntervalUs, sleepSync)) await turnEventLoop();
        return;
      }
      while (this.wantsTick()) {
        // The engine's promise has resolved: nothing the tick needs is pending on the event loop.
        await this.sleep(this.schedule.nextDeadlineUs, true);
        if (!this.beginTick()) break;
        this.read();
        this.finishTick(await engine.run(this.substeps));
      }
    } finally {
      this.running = false;
    }
  }

  /**
   * The synchronous driver: ticks until the first tick that ends after `turnAtUs`. True when the
   * run goes on (the caller turns the event loop and calls again), false when it has ended.
   */
  private ticksUntil(turnAtUs: number, sleepSync: BlockingSleeper): boolean {
    const engine = this.options.engine;
    while (this.wantsTick()) {
      sleepSync.deadlineUs = this.schedule.nextDeadlineUs;
      sleepSync.sleep();
      if (!this.beginTick()) return false;
      this.read();
      this.finishTick(engine.runSync!(this.substeps));
      if (this.clock() >= turnAtUs) return true;
    }
    return false;
  }

  private wantsTick(): boolean {
    return !this.stopRequested && this.schedule.pendingTick < this.maxTicks;
  }

  /**
   * The start of a tick, woken at or after its deadline: applies the overrun policy and records
   * lateness. False when a bounded run has reached its end instead (its remaining slots passed).
   */
  private beginTick(): boolean {
    const startUs = this.clock();
    const tickUs = this.schedule.tickUs;
    if (this.schedule.pendingTick === 0 && startUs - this.schedule.nextDeadlineUs >= tickUs) {
      // Nothing has run yet, so no phase has been promised: a first wake-up delayed by start-up
      // work (a cold sleeper, the dashboard's server still on the event loop) moves t0 instead of
      // counting as missed ticks.
      this.schedule = this.schedule.restartedAt(startUs);
    }
    if (this.options.latePolicy === 'skip' && startUs >= this.schedule.deadlineOf(this.maxTicks)) {
      // A bounded run ends at t0 + maxTicks·tick: slots past the end are not scheduled.
      const end = this.schedule.dropRemaining(startUs, this.maxTicks);
      this.telemetry.recordDropped(end.dropped, Math.round(end.firstDroppedLatenessUs));
      if (end.dropped > 0) return false;
    }
    const start = this.schedule.begin(startUs);
    this.tickStartUs = startUs;
    this.tickSlot = start.tick;
    // Durations leave the loop as whole µs (the histograms' unit): a whole number passed to a
    // function is a small integer to V8, while a fraction is boxed on the heap at each call.
    const latenessUs = Math.round(start.latenessUs);
    this.tickLatenessUs = latenessUs;
    this.telemetry.recordStart(
      latenessUs,
      start.dropped,
      Math.round(start.firstDroppedLatenessUs),
      start.missedSlot,
    );
    if (start.dropped > 0 || start.missedSlot) this.warnMissed();
    return true;
  }

  /** The end of a tick, given the engine's counts: write, the environment's step, telemetry, observers. */
  private finishTick(engineCounts: Uint32Array): void {
    const counts = this.ownCounts(engineCounts);
    this.write(counts);
    this.options.env.step?.(this.options.tickMs);
    const computeUs = Math.round(this.clock() - this.tickStartUs);
    this.tickComputeUs = computeUs;
    this.telemetry.recordEnd(computeUs);
    if (this.observers.length > 0) this.notify(counts);
  }

  /** Instance 0's counts: a view made once per engine buffer, not per tick. */
  private ownCounts(engineCounts: Uint32Array): Uint32Array {
    const populations = this.currentsPa.length;
    if (engineCounts.length === populations) return engineCounts;
    if (this.countsView === null || this.countsViewOf !== engineCounts) {
      this.countsViewOf = engineCounts;
      this.countsView = engineCounts.subarray(0, populations);
    }
    return this.countsView;
  }

  /** Newest sample per input (never waits); an input without a new sample holds its last one. */
  private read(): void {
    this.currentsPa.fill(0);
    for (let i = 0; i < this.inputs.length; i++) {
      const input = this.inputs[i]!;
      const sample = input.source.takeLatest();
      input.taken = sample;
      if (sample) {
        input.latest = sample;
        input.unansweredArrivalUs = sample.arrivalUs;
        this.safety.noteSampleOf(i, sample);
      }
      if (!input.latest) continue;
      for (let e = 0; e < input.encoders.length; e++) {
        try {
          input.encoders[e]!.encode(input.latest.values, this.currentsPa);
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

  /**
   * Decoders → motor commands carrying the newest sample seq of every input; end-to-end latency.
   * Each output has one MotorCommand, refilled every tick (sinks and observers copy or encode what
   * they keep, ports.ts), and all share one sourceSeq record: nothing is allocated per tick.
   */
  private write(counts: Uint32Array): void {
    this.activity.counts = counts;
    this.feed.addCounts(counts);
    this.telemetry.recordCounts(counts);
    const sourceSeq = this.sourceSeq;
    for (let i = 0; i < this.inputs.length; i++) {
      const input = this.inputs[i]!;
      // A key appears with an input's first sample and then stays: the record keeps its shape.
      if (input.latest) sourceSeq[input.source.name] = input.latest.seq;
    }
    let firstCommandUs = Number.NaN;
    this.safety.evaluateAt(this.clock);
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
      const command = output.reused;
      command.computedUs = computedUs;
      if (action === 'command') {
        command.values = values;
        command.safety = undefined;
        output.command = command;
        // Kept in a buffer of its own: `hold` repeats it after the decoder's buffer has moved on.
        let last = this.lastCommands[k];
        if (!last || last.length !== values.length)
          last = this.lastCommands[k] = new Float32Array(values.length);
        last.set(values);
        if (Number.isNaN(firstCommandUs)) firstCommandUs = computedUs;
      } else if (action === 'stop') {
        if (output.stopValues.length !== values.length) output.stopValues = new Float32Array(values.length);
        // Zeroed each time: a sink must not be able to turn the stop command into something else.
        command.values = output.stopValues.fill(0);
        command.safety = 'stop';
        output.command = command;
      } else {
        // hold: nothing commanded yet means nothing to hold; a position output then stays silent.
        const last = this.lastCommands[k];
        if (last) {
          if (output.holdValues.length !== last.length) output.holdValues = new Float32Array(last.length);
          command.values = output.holdValues;
          command.values.set(last);
          command.safety = 'hold';
          output.command = command;
        }
      }
      if (output.command) sink.write(output.command);
    }
    if (Number.isNaN(firstCommandUs)) return;
    for (let i = 0; i < this.inputs.length; i++) {
      const input = this.inputs[i]!;
      if (Number.isNaN(input.unansweredArrivalUs)) continue;
      this.telemetry.recordEndToEnd(
        input.source.name,
        Math.round(firstCommandUs - input.unansweredArrivalUs),
      );
      input.unansweredArrivalUs = Number.NaN;
    }
  }

  /** The tick's times are read from fields, not passed (see beginTick). */
  private notify(counts: Uint32Array): void {
    for (let i = 0; i < this.inputs.length; i++) {
      const input = this.inputs[i]!;
      const entry = this.eventInputs[i]!;
      entry.taken = input.taken;
      entry.usedSeq = input.latest ? input.latest.seq : -1;
    }
    for (let k = 0; k < this.outputs.length; k++) this.eventOutputs[k]!.command = this.outputs[k]!.command;
    const event = this.event;
    event.index = this.telemetry.counters.ticks - 1;
    event.slot = this.tickSlot;
    event.startUs = this.tickStartUs;
    event.latenessUs = this.tickLatenessUs;
    event.computeUs = this.tickComputeUs;
    event.firstStep = this.options.engine.stepCount - this.substeps;
    event.counts = counts;
    const observers = this.observers;
    for (let o = 0; o < observers.length; o++) observers[o]!.onTick(event);
  }

  private warnMissed(): void {
    if (this.missWarning.suppress()) return;
    const { missed, ticks } = this.telemetry.counters;
    this.missWarning.emitNow(`missed ${missed} tick(s) of ${this.options.tickMs} ms so far (${ticks} run)`);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
