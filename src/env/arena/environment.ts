/**
 * The built-in arena as an in-process Environment: sources "ranges" (one reading per ray, m) and
 * "target" ([bearing rad, distance m]), sink "cmd_vel" ([v m/s, ω rad/s], or wheel speeds), and
 * step(tickMs) advancing the physics once per tick after the command is written. The default
 * codecs are the arena controller mapping; any other CodecMapping with the same names fits.
 */

import { buildMapping, type CodecMapping } from '../../codec/mapping.js';
import type { Decoder, Encoder } from '../../codec/types.js';
import { readConfigFile } from '../../config/load.js';
import { checkSettingKeys } from '../../config/settings.js';
import type {
  Environment,
  EnvironmentOptions,
  EnvironmentView,
  MonotonicUs,
  MotorCommand,
  MotorSink,
  SensorSample,
  SensorSource,
} from '../../loop/ports.js';
import { arenaControllerMapping } from './controller.js';
import { arenaView } from './view.js';
import { Arena, type ArenaConfig, type ArenaScene, type ArenaState, DEFAULT_ARENA } from './world.js';

export interface ArenaEnvironmentOptions {
  /** Q of the network (the mapping addresses its clusters). */
  clusters: number;
  tickMs: number;
  arena?: ArenaConfig;
  /** Defaults to arenaControllerMapping for the arena's sensors. */
  mapping?: CodecMapping;
  /** Monotonic µs for sample arrival times. */
  clock?: () => MonotonicUs;
}

/**
 * A source that offers its newest sample once. Two sample objects, refilled in turn: the one the
 * loop took last stays intact (observers read it after the step that publishes the next), and
 * publishing allocates nothing.
 */
class LatestSource implements SensorSource {
  private pending: SensorSample | null = null;
  private seq = 0;
  private readonly samples: [SensorSample, SensorSample];
  private next = 0;

  constructor(
    readonly name: string,
    readonly size: number,
  ) {
    // arrivalUs starts as a fraction (NaN) so the field never changes representation (schedule.ts).
    this.samples = [
      { values: new Float32Array(size), seq: 0, arrivalUs: Number.NaN },
      { values: new Float32Array(size), seq: 0, arrivalUs: Number.NaN },
    ];
  }

  /**
   * The sample to fill next (its values and arrivalUs), then `publish`. The caller sets the time
   * itself: a number passed to a call V8 does not inline is boxed (16 bytes per tick, measured).
   */
  nextSample(): SensorSample {
    return this.samples[this.next]!;
  }

  publish(): void {
    const sample = this.samples[this.next]!;
    this.next ^= 1;
    sample.seq = ++this.seq;
    this.pending = sample;
  }

  takeLatest(): SensorSample | null {
    const sample = this.pending;
    this.pending = null;
    return sample;
  }
}

class ArenaCommandSink implements MotorSink {
  readonly name = 'cmd_vel';
  rejected = 0;
  lastError: string | null = null;

  constructor(private readonly arena: Arena) {}

  write(command: MotorCommand): void {
    try {
      this.arena.setCommand(command.values);
    } catch (error) {
      // A bad command must not stop the tick: the arena keeps the previous one and we count it.
      this.rejected++;
      this.lastError = error instanceof Error ? error.message : String(error);
    }
  }
}

/** Whether this thread has run Arena.warmUp (V8's type feedback is per thread, shared by arenas). */
let warmedUp = false;

export class ArenaEnvironment implements Environment {
  readonly name = 'arena';
  readonly arena: Arena;
  readonly sources: readonly SensorSource[];
  readonly sinks: readonly MotorSink[];
  readonly encoders: readonly Encoder[];
  readonly decoders: readonly Decoder[];
  readonly mapping: CodecMapping;
  private readonly ranges: LatestSource;
  private readonly target: LatestSource;
  private readonly sink: ArenaCommandSink;
  private readonly clock: () => MonotonicUs;
  private readonly rangesScratch: Float32Array;
  /** The world as live consumers draw it, rebuilt from the current state at their rate (off the tick). */
  readonly view: EnvironmentView;

  constructor(options: ArenaEnvironmentOptions) {
    this.arena = new Arena(options.arena ?? DEFAULT_ARENA);
    if (!warmedUp) {
      warmedUp = true;
      Arena.warmUp(this.arena.config);
    }
    const { sensors } = this.arena.config;
    this.ranges = new LatestSource('ranges', sensors.anglesRad.length);
    this.rangesScratch = new Float32Array(sensors.anglesRad.length);
    this.target = new LatestSource('target', 2);
    this.mapping =
      options.mapping ??
      arenaControllerMapping({
        clusters: options.clusters,
        sensorAnglesRad: sensors.anglesRad,
        maxRangeM: sensors.maxRangeM,
      });
    const built = buildMapping(this.mapping, { clusters: options.clusters, tickMs: options.tickMs });
    this.encoders = built.encoders;
    this.decoders = built.decoders;
    this.sink = new ArenaCommandSink(this.arena);
    this.sources = [this.ranges, this.target];
    this.sinks = [this.sink];
    this.clock = options.clock ?? (() => performance.now() * 1000);
    const scene = this.arena.scene();
    this.view = { world: () => arenaView(scene, this.arena.state()) };
    this.publish();
  }

  /** Samples the sensors as they are now; the loop takes them on its next read. */
  private publish(): void {
    const now = this.clock();
    const ranges = this.ranges.nextSample();
    this.arena.ranges(ranges.values);
    ranges.arrivalUs = now;
    this.ranges.publish();
    const target = this.target.nextSample();
    this.arena.targetSensor(target.values);
    target.arrivalUs = now;
    this.target.publish();
  }

  step(tickMs: number): void {
    this.arena.stepMs(tickMs);
    this.publish();
  }

  /** Arena.writeState: the state into the tick thread's record, without allocating. */
  writeState(out: Float64Array, at: number, rays: number): void {
    this.arena.writeState(out, at, rays, this.rangesScratch);
  }

  state(): ArenaState {
    return this.arena.state();
  }

  /** The static part of the world (walls, obstacles, sensors), sent once to viewers. */
  scene(): ArenaScene {
    return this.arena.scene();
  }

  summary(): Record<string, number> {
    // From the counters, not state(): that computes the ranges into a new array.
    return {
      collisions: this.arena.collisionCount,
      targetsReached: this.arena.targetsReached,
      distanceM: this.arena.distanceM,
      rejectedCommands: this.sink.rejected,
    };
  }

  async close(): Promise<void> {}
}

/**
 * Registry factory for `spikeloop run --env arena`. Settings: `seed` (target positions; default the
 * run's seed), `mapping` (a JSON or YAML CodecMapping file replacing the default controller).
 */
export async function createArenaEnvironment(options: EnvironmentOptions): Promise<ArenaEnvironment> {
  const settings = options.settings ?? {};
  checkSettingKeys('arena', settings, ['seed', 'mapping']);
  const seed = Number(settings.seed ?? options.seed);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new Error(
      `arena: seed must be an integer in [0, 2^32), got ${String(settings.seed ?? options.seed)}`,
    );
  }
  let mapping: CodecMapping | undefined;
  if (settings.mapping !== undefined) {
    const path = String(settings.mapping);
    mapping = (await readConfigFile(path, 'mapping file')) as CodecMapping;
  }
  return new ArenaEnvironment({
    clusters: options.layout.clusters,
    tickMs: options.tickMs,
    arena: { ...DEFAULT_ARENA, seed },
    mapping,
    clock: options.clockUs,
  });
}
