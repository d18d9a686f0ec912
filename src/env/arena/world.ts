/**
 * The built-in arena: a 2-D differential-drive robot in a walled rectangle with circular and
 * segment obstacles, N range sensors and one target at a time. Physics is stepped explicitly
 * (one call per tick) and knows nothing of clocks or transports, so the same world can run
 * in-process or behind the WebSocket protocol. Deterministic: the same config (seed included) and
 * the same commands give the same trajectory, bit for bit.
 */
import { type Static, Type } from '@sinclair/typebox';
import { schemaChecker, stringEnum, taggedUnion } from '../../config/schema.js';
import { counterUniform, streamKey } from '../../model/rng.js';
import { circleContact, clearance, rayHit, type Shape, wrapAngle } from './geometry.js';

const finite = Type.Number();
const positive = Type.Number({ exclusiveMinimum: 0 });
const closed = { additionalProperties: false } as const;

const ROBOT_SCHEMA = Type.Object(
  {
    radiusM: positive,
    /** Distance between the wheels (m). */
    wheelBaseM: positive,
    /** Each wheel's speed is clamped to ±this (m/s). */
    maxWheelSpeedMps: positive,
    startX: finite,
    startY: finite,
    startHeadingRad: finite,
  },
  closed,
);

const SHAPE_SCHEMA = taggedUnion('kind', [
  Type.Object({ kind: Type.Literal('circle'), x: finite, y: finite, radiusM: positive }, closed),
  Type.Object({ kind: Type.Literal('segment'), x1: finite, y1: finite, x2: finite, y2: finite }, closed),
]);

/** The arena's configuration; ArenaConfig is derived from it. */
export const ARENA_SCHEMA = Type.Object(
  {
    /** The walls enclose [0, widthM] × [0, heightM]. */
    widthM: positive,
    heightM: positive,
    obstacles: Type.Array(SHAPE_SCHEMA),
    robot: ROBOT_SCHEMA,
    sensors: Type.Object(
      {
        /** Ray directions relative to the heading (rad, counter-clockwise positive). */
        anglesRad: Type.Array(finite, { minItems: 1 }),
        /** Readings are distances from the robot's rim, clipped to this (m). */
        maxRangeM: positive,
      },
      closed,
    ),
    target: Type.Object(
      {
        /** The target counts as reached when the robot's centre comes this close (m). */
        reachRadiusM: positive,
        /** A new target keeps at least this clearance from walls and obstacles (m). */
        spawnClearanceM: Type.Number({ minimum: 0 }),
        /** …and appears at least this far from the robot (m). */
        minSpawnDistanceM: finite,
      },
      closed,
    ),
    /** How motor values are read: [v (m/s), ω (rad/s)] or [left, right] wheel speeds (m/s). */
    command: stringEnum(['twist', 'wheels']),
    /** Seeds the target positions. */
    seed: Type.Integer({ minimum: 0, maximum: 0xffffffff }),
  },
  closed,
);

export type RobotConfig = Static<typeof ROBOT_SCHEMA>;
export type ArenaConfig = Static<typeof ARENA_SCHEMA>;

const deg = Math.PI / 180;

/** A 4 m × 4 m arena with five obstacles, seven rays over ±90° and a 1 m sensor range. */
export const DEFAULT_ARENA: Readonly<ArenaConfig> = Object.freeze({
  widthM: 4,
  heightM: 4,
  obstacles: [
    { kind: 'circle', x: 1.2, y: 1.2, radiusM: 0.3 },
    { kind: 'circle', x: 2.9, y: 1.1, radiusM: 0.25 },
    { kind: 'circle', x: 2.1, y: 2.7, radiusM: 0.35 },
    { kind: 'circle', x: 0.8, y: 3.1, radiusM: 0.2 },
    { kind: 'segment', x1: 3.3, y1: 2.2, x2: 3.3, y2: 3.4 },
  ] as Shape[],
  robot: {
    radiusM: 0.1,
    wheelBaseM: 0.2,
    maxWheelSpeedMps: 0.4,
    startX: 0.5,
    startY: 0.5,
    startHeadingRad: 0,
  },
  sensors: { anglesRad: [-90, -60, -30, 0, 30, 60, 90].map((a) => a * deg), maxRangeM: 1 },
  target: { reachRadiusM: 0.2, spawnClearanceM: 0.25, minSpawnDistanceM: 1 },
  command: 'twist',
  seed: 1,
});

export class ArenaError extends Error {
  override name = 'ArenaError';
}

export interface RobotState {
  x: number;
  y: number;
  headingRad: number;
  /** Speeds actually applied in the last step (after wheel limits). */
  vMps: number;
  omegaRadPerS: number;
}

/** Everything that changes, as plain data (for the dashboard and the protocol). */
export interface ArenaState {
  timeS: number;
  steps: number;
  robot: RobotState;
  target: { x: number; y: number };
  rangesM: number[];
  inContact: boolean;
  collisions: number;
  targetsReached: number;
  distanceM: number;
}

/** The static part of the world, as plain data. */
export interface ArenaScene {
  widthM: number;
  heightM: number;
  obstacles: Shape[];
  robotRadiusM: number;
  sensorAnglesRad: number[];
  maxRangeM: number;
  reachRadiusM: number;
}

export interface StepEvents {
  /** Contact began during this step. */
  collision: boolean;
  targetReached: boolean;
}

/** Longest straight move per physics sub-step, as a fraction of the robot radius (no tunnelling). */
const MAX_MOVE_FRACTION = 0.25;
const TARGET_STREAM = 0x54524754;
const MAX_SPAWN_TRIES = 10_000;

export class Arena {
  readonly config: ArenaConfig;
  private readonly shapes: Shape[];
  private readonly robot: RobotState;
  private readonly target = { x: 0, y: 0 };
  private readonly command = new Float64Array(2);
  /** What `step` returns, refilled by every step (the tick steps the arena without allocating). */
  private readonly events: StepEvents = { collision: false, targetReached: false };
  private readonly targetKey: number;
  private draws = 0;
  private time = 0;
  private steps = 0;
  private contact = false;
  private collisions = 0;
  private reached = 0;
  private distance = 0;

  constructor(config: ArenaConfig = DEFAULT_ARENA) {
    this.config = validateArena(config);
    const { widthM: w, heightM: h } = this.config;
    const walls: Shape[] = [
      { kind: 'segment', x1: 0, y1: 0, x2: w, y2: 0 },
      { kind: 'segment', x1: w, y1: 0, x2: w, y2: h },
      { kind: 'segment', x1: w, y1: h, x2: 0, y2: h },
      { kind: 'segment', x1: 0, y1: h, x2: 0, y2: 0 },
    ];
    this.shapes = [...walls, ...this.config.obstacles.map((s) => ({ ...s }))];
    const r = this.config.robot;
    this.robot = { x: r.startX, y: r.startY, headingRad: r.startHeadingRad, vMps: 0, omegaRadPerS: 0 };
    for (const shape of this.shapes) {
      if (clearance(shape, r.startX, r.startY, r.radiusM) < 0) {
        throw new ArenaError('robot start position overlaps a wall or an obstacle');
      }
    }
    this.targetKey = streamKey(this.config.seed, TARGET_STREAM);
    this.spawnTarget();
  }

  /** Walls (4 segments) and obstacles, in world coordinates. */
  get geometry(): readonly Shape[] {
    return this.shapes;
  }

  /** Holds a motor command until the next one (twist [v, ω] or wheels [left, right]). */
  setCommand(values: ArrayLike<number>): void {
    if (values.length !== 2) {
      throw new ArenaError(`command: expected 2 values (${this.commandNames()}), got ${values.length}`);
    }
    for (let i = 0; i < 2; i++) {
      if (!Number.isFinite(values[i])) {
        throw new ArenaError(
          `command: value ${i} (${this.commandNames()}) is ${values[i]}; kept the last command`,
        );
      }
    }
    this.command[0] = values[0]!;
    this.command[1] = values[1]!;
  }

  private commandNames(): string {
    return this.config.command === 'twist' ? 'v m/s, ω rad/s' : 'left, right m/s';
  }

  /** Advances the physics by dtS seconds under the held command; the events are refilled next step. */
  step(dtS: number): StepEvents {
    if (!(dtS > 0) || !Number.isFinite(dtS)) throw new ArenaError(`step: dt must be > 0 s, got ${dtS}`);
    const { wheelBaseM: b, maxWheelSpeedMps: max, radiusM } = this.config.robot;
    let left: number;
    let right: number;
    if (this.config.command === 'twist') {
      left = this.command[0]! - (this.command[1]! * b) / 2;
      right = this.command[0]! + (this.command[1]! * b) / 2;
    } else {
      left = this.command[0]!;
      right = this.command[1]!;
    }
    left = Math.max(-max, Math.min(max, left));
    right = Math.max(-max, Math.min(max, right));
    const v = (left + right) / 2;
    const omega = (right - left) / b;
    this.robot.vMps = v;
    this.robot.omegaRadPerS = omega;

    const subSteps = Math.max(1, Math.ceil((Math.abs(v) * dtS) / (MAX_MOVE_FRACTION * radiusM)));
    const h = dtS / subSteps;
    let touched = false;
    for (let s = 0; s < subSteps; s++) {
      const x0 = this.robot.x;
      const y0 = this.robot.y;
      this.integrate(v, omega, h);
      touched = this.resolveContacts() || touched;
      this.distance += Math.hypot(this.robot.x - x0, this.robot.y - y0);
    }
    const collision = touched && !this.contact;
    if (collision) this.collisions++;
    this.contact = touched;

    const targetReached =
      Math.hypot(this.target.x - this.robot.x, this.target.y - this.robot.y) <=
      this.config.target.reachRadiusM;
    if (targetReached) {
      this.reached++;
      this.spawnTarget();
    }
    this.steps++;
    this.time += dtS;
    this.events.collision = collision;
    this.events.targetReached = targetReached;
    return this.events;
  }

  /** Exact arc motion of a differential drive over h seconds. */
  private integrate(v: number, omega: number, h: number): void {
    const r = this.robot;
    const dTheta = omega * h;
    if (Math.abs(dTheta) < 1e-9) {
      r.x += v * h * Math.cos(r.headingRad);
      r.y += v * h * Math.sin(r.headingRad);
    } else {
      const radius = v / omega;
      r.x += radius * (Math.sin(r.headingRad + dTheta) - Math.sin(r.headingRad));
      r.y -= radius * (Math.cos(r.headingRad + dTheta) - Math.cos(r.headingRad));
    }
    r.headingRad = wrapAngle(r.headingRad + dTheta);
  }

  /** Pushes the robot out of every shape it overlaps; returns whether it touched any. */
  private resolveContacts(): boolean {
    const r = this.config.robot.radiusM;
    let touched = false;
    // A few passes settle corners where two shapes push in different directions.
    for (let pass = 0; pass < 4; pass++) {
      let moved = false;
      for (const shape of this.shapes) {
        const contact = circleContact(shape, this.robot.x, this.robot.y, r);
        if (contact === null) continue;
        touched = true;
        moved = true;
        this.robot.x += contact.nx * contact.depthM;
        this.robot.y += contact.ny * contact.depthM;
      }
      if (!moved) break;
    }
    return touched;
  }

  /**
   * The state as `state()` gives it, written into `out` from `at` without allocating (the tick
   * thread's record, shared.ts W_FIELDS): timeS, steps, x, y, headingRad, vMps, omegaRadPerS,
   * targetX, targetY, inContact (0/1), collisions, targetsReached, distanceM, then up to `rays`
   * ranges (computed into `rangesScratch`).
   */
  writeState(out: Float64Array, at: number, rays: number, rangesScratch: Float32Array): void {
    const r = this.robot;
    out[at] = this.time;
    out[at + 1] = this.steps;
    out[at + 2] = r.x;
    out[at + 3] = r.y;
    out[at + 4] = r.headingRad;
    out[at + 5] = r.vMps;
    out[at + 6] = r.omegaRadPerS;
    out[at + 7] = this.target.x;
    out[at + 8] = this.target.y;
    out[at + 9] = this.contact ? 1 : 0;
    out[at + 10] = this.collisions;
    out[at + 11] = this.reached;
    out[at + 12] = this.distance;
    const ranges = this.ranges(rangesScratch);
    const count = Math.min(rays, ranges.length);
    for (let k = 0; k < count; k++) out[at + 13 + k] = ranges[k]!;
  }

  /** Range readings (m from the rim, clipped to the sensor range), one per ray. */
  ranges(out: Float32Array = new Float32Array(this.config.sensors.anglesRad.length)): Float32Array {
    const { anglesRad, maxRangeM } = this.config.sensors;
    const r = this.config.robot.radiusM;
    for (let k = 0; k < anglesRad.length; k++) {
      const a = this.robot.headingRad + anglesRad[k]!;
      const dx = Math.cos(a);
      const dy = Math.sin(a);
      let hit = Infinity;
      for (const shape of this.shapes) hit = Math.min(hit, rayHit(shape, this.robot.x, this.robot.y, dx, dy));
      out[k] = Math.min(maxRangeM, Math.max(0, hit - r));
    }
    return out;
  }

  /** [bearing (rad, counter-clockwise from the heading, in (−π, π]), distance (m)] of the target. */
  targetSensor(out: Float32Array = new Float32Array(2)): Float32Array {
    const dx = this.target.x - this.robot.x;
    const dy = this.target.y - this.robot.y;
    out[0] = wrapAngle(Math.atan2(dy, dx) - this.robot.headingRad);
    out[1] = Math.hypot(dx, dy);
    return out;
  }

  scene(): ArenaScene {
    const c = this.config;
    return {
      widthM: c.widthM,
      heightM: c.heightM,
      obstacles: c.obstacles.map((o) => ({ ...o })),
      robotRadiusM: c.robot.radiusM,
      sensorAnglesRad: [...c.sensors.anglesRad],
      maxRangeM: c.sensors.maxRangeM,
      reachRadiusM: c.target.reachRadiusM,
    };
  }

  state(): ArenaState {
    return {
      timeS: this.time,
      steps: this.steps,
      robot: { ...this.robot },
      target: { ...this.target },
      rangesM: Array.from(this.ranges()),
      inContact: this.contact,
      collisions: this.collisions,
      targetsReached: this.reached,
      distanceM: this.distance,
    };
  }

  get collisionCount(): number {
    return this.collisions;
  }

  get targetsReached(): number {
    return this.reached;
  }

  /** Moves the target (tests and scripted scenarios); it must be inside the walls. */
  placeTarget(x: number, y: number): void {
    if (!(x > 0 && x < this.config.widthM && y > 0 && y < this.config.heightM)) {
      throw new ArenaError(`target (${x}, ${y}) is outside the arena`);
    }
    this.target.x = x;
    this.target.y = y;
  }

  /** Draws target positions from the seeded stream until one is clear of everything and far enough. */
  private spawnTarget(): void {
    const { widthM: w, heightM: h } = this.config;
    const { spawnClearanceM: margin, minSpawnDistanceM: far } = this.config.target;
    for (let attempt = 0; attempt < MAX_SPAWN_TRIES; attempt++) {
      const x = margin + counterUniform(this.targetKey, this.draws++) * (w - 2 * margin);
      const y = margin + counterUniform(this.targetKey, this.draws++) * (h - 2 * margin);
      if (Math.hypot(x - this.robot.x, y - this.robot.y) < far) continue;
      if (this.shapes.some((shape) => clearance(shape, x, y, 0) < margin)) continue;
      this.target.x = x;
      this.target.y = y;
      return;
    }
    throw new ArenaError(
      'target: found no free spawn position; lower target.spawnClearanceM or target.minSpawnDistanceM',
    );
  }
}

const checkArena = schemaChecker(
  ARENA_SCHEMA,
  (source, problems) =>
    new ArenaError(
      problems
        .map((p) => `${source}${p.path === '' || p.path.startsWith('[') ? '' : '.'}${p.path}: ${p.detail}`)
        .join('; '),
    ),
);

/** Checks an arena config (its schema, then what a schema cannot say) and returns a deep copy. */
export function validateArena(config: ArenaConfig): ArenaConfig {
  const checked = structuredClone(checkArena(config, 'arena'));
  const { widthM: w, heightM: h, robot, target } = checked;
  if (!(robot.startX > 0 && robot.startX < w && robot.startY > 0 && robot.startY < h)) {
    throw new ArenaError(`arena.robot.start: (${robot.startX}, ${robot.startY}) is outside the walls`);
  }
  if (2 * target.spawnClearanceM >= Math.min(w, h)) {
    throw new ArenaError(
      'arena.target.spawnClearanceM: must leave room inside the walls (2 × clearance < the shorter side)',
    );
  }
  return checked;
}
