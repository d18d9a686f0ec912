/**
 * The built-in arena: a 2-D differential-drive robot in a walled rectangle with circular and
 * segment obstacles, N range sensors and one target at a time. Physics is stepped explicitly
 * (one call per tick) and knows nothing of clocks or transports, so the same world can run
 * in-process or behind the WebSocket protocol. Deterministic: the same config (seed included) and
 * the same commands give the same trajectory, bit for bit.
 */
import { type Static, Type } from '@sinclair/typebox';
import { schemaChecker, stringEnum, taggedUnion } from '../../config/schema.js';
import { hypot } from '../../math/hypot.js';
import { counterUniform, streamKey } from '../../model/rng.js';
import { clearance, type Shape } from './geometry.js';

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

// The numbers that change every step live in one Float64Array (`now`), at these indices. Kept out
// of object fields and out of arguments and results of calls V8 may not inline, a double is never
// boxed: the tick thread steps the arena without allocating (docs/tick.md).
const X = 0;
const Y = 1;
const HEADING = 2;
const V = 3;
const OMEGA = 4;
const TIME = 5;
const DISTANCE = 6;
const DT = 7;
const TARGET_X = 8;
const TARGET_Y = 9;
const NOW_FIELDS = 10;

// Each shape as numbers, SHAPE_STRIDE per shape in `shapeData`: a circle [x, y, radiusM], a segment
// [x1, y1, x2, y2, x2 − x1, y2 − y1, (x2 − x1)² + (y2 − y1)²]; `circles[i]` says which.
const SHAPE_STRIDE = 7;

export class Arena {
  readonly config: ArenaConfig;
  private readonly shapes: Shape[];
  private readonly circles: Uint8Array;
  private readonly shapeData: Float64Array;
  private readonly now = new Float64Array(NOW_FIELDS);
  private readonly command = new Float64Array(2);
  /** What `step` returns, refilled by every step (the tick steps the arena without allocating). */
  private readonly events: StepEvents = { collision: false, targetReached: false };
  private readonly targetKey: number;
  private draws = 0;
  private steps = 0;
  private contact = false;
  private collisions = 0;
  private reached = 0;

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
    this.circles = new Uint8Array(this.shapes.length);
    this.shapeData = new Float64Array(this.shapes.length * SHAPE_STRIDE);
    this.shapes.forEach((shape, i) => {
      const d = this.shapeData;
      const at = i * SHAPE_STRIDE;
      if (shape.kind === 'circle') {
        this.circles[i] = 1;
        d[at] = shape.x;
        d[at + 1] = shape.y;
        d[at + 2] = shape.radiusM;
      } else {
        const ex = shape.x2 - shape.x1;
        const ey = shape.y2 - shape.y1;
        d[at] = shape.x1;
        d[at + 1] = shape.y1;
        d[at + 2] = shape.x2;
        d[at + 3] = shape.y2;
        d[at + 4] = ex;
        d[at + 5] = ey;
        d[at + 6] = ex * ex + ey * ey;
      }
    });
    const r = this.config.robot;
    this.now[X] = r.startX;
    this.now[Y] = r.startY;
    this.now[HEADING] = r.startHeadingRad;
    for (const shape of this.shapes) {
      if (clearance(shape, r.startX, r.startY, r.radiusM) < 0) {
        throw new ArenaError('robot start position overlaps a wall or an obstacle');
      }
    }
    this.targetKey = streamKey(this.config.seed, TARGET_STREAM);
    this.spawnTarget();
  }

  /**
   * Takes the arena's code down every branch of a step once, on a scratch arena of the same config
   * (this arena is not touched), so V8 has type feedback for all of it before it optimises the
   * step. Without it the first reached target or the first ray that meets a circle, often minutes
   * into a run, lands in optimised code on a branch it never saw: V8 throws that code away and the
   * step runs unoptimised, boxing every number (about 1-2 KB per tick for a second or more, measured
   * on the tick thread) until it is optimised again. Called once per thread by ArenaEnvironment.
   */
  static warmUp(config: ArenaConfig): void {
    const scratch = new Arena(config);
    const now = scratch.now;
    const { robot, command } = scratch.config;
    const rays = scratch.config.sensors.anglesRad.length;
    const record = new Float64Array(13 + rays);
    const ranges = new Float32Array(rays);
    const target = new Float32Array(2);
    const ahead =
      command === 'twist' ? [robot.maxWheelSpeedMps, 0] : [robot.maxWheelSpeedMps, robot.maxWheelSpeedMps];
    const arc = command === 'twist' ? [robot.maxWheelSpeedMps / 2, 1] : [0.1, robot.maxWheelSpeedMps];
    const tick = (dtS: number): void => {
      scratch.stepMs(dtS * 1000);
      scratch.ranges(ranges);
      scratch.targetSensor(target);
      scratch.writeState(record, 0, rays, ranges);
    };
    // Straight and curved moves, long enough (at 50 ms) to reach a wall: contacts, collisions.
    for (let k = 0; k < 400; k++) {
      scratch.setCommand(k % 40 < 30 ? ahead : arc);
      tick(0.05);
    }
    // Every circle: touched from outside (a contact), then the robot's centre on it (the push of
    // a zero-length normal) and a ray cast from inside it.
    scratch.setCommand([0, 0]);
    for (let i = 0; i < scratch.circles.length; i++) {
      if (scratch.circles[i] !== 1) continue;
      const at = i * SHAPE_STRIDE;
      for (const offset of [robot.radiusM / 2, -(scratch.shapeData[at + 2]! + robot.radiusM / 2), 0]) {
        now[X] = scratch.shapeData[at]! - scratch.shapeData[at + 2]! - offset;
        now[Y] = scratch.shapeData[at + 1]!;
        if (offset === 0) {
          now[X] = scratch.shapeData[at]!;
          scratch.ranges(ranges);
        }
        tick(0.001);
      }
    }
    // A reached target and the spawn of the next one, a few times.
    const { widthM, heightM } = scratch.config;
    for (let k = 0; k < 12; k++) {
      if (now[X]! > 0 && now[X]! < widthM && now[Y]! > 0 && now[Y]! < heightM) {
        scratch.placeTarget(now[X]!, now[Y]!);
      }
      tick(0.001);
    }
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
    this.now[DT] = dtS;
    return this.advance();
  }

  /** `step(tickMs / 1000)`, for the tick: the step's length reaches the physics as a float64, never boxed. */
  stepMs(tickMs: number): StepEvents {
    const dtS = tickMs / 1000;
    if (!(dtS > 0) || !Number.isFinite(dtS)) throw new ArenaError(`step: dt must be > 0 s, got ${dtS}`);
    this.now[DT] = dtS;
    return this.advance();
  }

  /** The step itself, dt in `now[DT]`: one function with no calls but Math's, so nothing is boxed. */
  private advance(): StepEvents {
    const now = this.now;
    const dtS = now[DT]!;
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
    now[V] = v;
    now[OMEGA] = omega;

    const subSteps = Math.max(1, Math.ceil((Math.abs(v) * dtS) / (MAX_MOVE_FRACTION * radiusM)));
    const h = dtS / subSteps;
    let touched = false;
    for (let s = 0; s < subSteps; s++) {
      const x0 = now[X]!;
      const y0 = now[Y]!;
      // Exact arc motion of a differential drive over h seconds.
      const heading = now[HEADING]!;
      const dTheta = omega * h;
      if (Math.abs(dTheta) < 1e-9) {
        now[X] = x0 + v * h * Math.cos(heading);
        now[Y] = y0 + v * h * Math.sin(heading);
      } else {
        const radius = v / omega;
        now[X] = x0 + radius * (Math.sin(heading + dTheta) - Math.sin(heading));
        now[Y] = y0 - radius * (Math.cos(heading + dTheta) - Math.cos(heading));
      }
      // geometry.ts wrapAngle, written out.
      const turned = heading + dTheta;
      const wrapped = turned - 2 * Math.PI * Math.floor((turned + Math.PI) / (2 * Math.PI));
      now[HEADING] = wrapped === -Math.PI ? Math.PI : wrapped;
      touched = this.resolveContacts() || touched;
      now[DISTANCE] = now[DISTANCE]! + hypot(now[X]! - x0, now[Y]! - y0);
    }
    const collision = touched && !this.contact;
    if (collision) this.collisions++;
    this.contact = touched;

    const targetReached =
      hypot(now[TARGET_X]! - now[X]!, now[TARGET_Y]! - now[Y]!) <= this.config.target.reachRadiusM;
    if (targetReached) {
      this.reached++;
      this.spawnTarget();
    }
    this.steps++;
    now[TIME] = now[TIME]! + dtS;
    this.events.collision = collision;
    this.events.targetReached = targetReached;
    return this.events;
  }

  /**
   * Pushes the robot out of every shape it overlaps; returns whether it touched any. geometry.ts
   * circleContact, written out over `shapeData` (no contact object, no boxed distance).
   */
  private resolveContacts(): boolean {
    const now = this.now;
    const d = this.shapeData;
    const count = this.circles.length;
    const r = this.config.robot.radiusM;
    let touched = false;
    // A few passes settle corners where two shapes push in different directions.
    for (let pass = 0; pass < 4; pass++) {
      let moved = false;
      for (let i = 0; i < count; i++) {
        const at = i * SHAPE_STRIDE;
        const cx = now[X]!;
        const cy = now[Y]!;
        let px: number;
        let py: number;
        let reach: number;
        if (this.circles[i] === 1) {
          px = d[at]!;
          py = d[at + 1]!;
          reach = r + d[at + 2]!;
        } else {
          const x1 = d[at]!;
          const y1 = d[at + 1]!;
          const ex = d[at + 4]!;
          const ey = d[at + 5]!;
          const len2 = d[at + 6]!;
          const t = len2 > 0 ? Math.max(0, Math.min(1, ((cx - x1) * ex + (cy - y1) * ey) / len2)) : 0;
          px = x1 + t * ex;
          py = y1 + t * ey;
          reach = r;
        }
        const dx = cx - px;
        const dy = cy - py;
        const dist = hypot(dx, dy);
        if (dist >= reach) continue;
        touched = true;
        moved = true;
        if (dist === 0) {
          now[X] = cx + 1 * reach;
          now[Y] = cy + 0 * reach;
        } else {
          const depthM = reach - dist;
          now[X] = cx + (dx / dist) * depthM;
          now[Y] = cy + (dy / dist) * depthM;
        }
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
    const now = this.now;
    out[at] = now[TIME]!;
    out[at + 1] = this.steps;
    out[at + 2] = now[X]!;
    out[at + 3] = now[Y]!;
    out[at + 4] = now[HEADING]!;
    out[at + 5] = now[V]!;
    out[at + 6] = now[OMEGA]!;
    out[at + 7] = now[TARGET_X]!;
    out[at + 8] = now[TARGET_Y]!;
    out[at + 9] = this.contact ? 1 : 0;
    out[at + 10] = this.collisions;
    out[at + 11] = this.reached;
    out[at + 12] = now[DISTANCE]!;
    const ranges = this.ranges(rangesScratch);
    const count = Math.min(rays, ranges.length);
    for (let k = 0; k < count; k++) out[at + 13 + k] = ranges[k]!;
  }

  /**
   * Range readings (m from the rim, clipped to the sensor range), one per ray. geometry.ts rayHit,
   * written out over `shapeData` so no distance crosses a call.
   */
  ranges(out: Float32Array = new Float32Array(this.config.sensors.anglesRad.length)): Float32Array {
    const { anglesRad, maxRangeM } = this.config.sensors;
    const r = this.config.robot.radiusM;
    const now = this.now;
    const d = this.shapeData;
    const count = this.circles.length;
    const ox = now[X]!;
    const oy = now[Y]!;
    for (let k = 0; k < anglesRad.length; k++) {
      const a = now[HEADING]! + anglesRad[k]!;
      const dx = Math.cos(a);
      const dy = Math.sin(a);
      let hit = Infinity;
      for (let i = 0; i < count; i++) {
        const at = i * SHAPE_STRIDE;
        let distance = Infinity;
        if (this.circles[i] === 1) {
          // rayCircle: a ray starting inside the circle hits its boundary on the way out.
          const radiusM = d[at + 2]!;
          const fx = ox - d[at]!;
          const fy = oy - d[at + 1]!;
          const b = fx * dx + fy * dy;
          const cc = fx * fx + fy * fy - radiusM * radiusM;
          const disc = b * b - cc;
          if (disc >= 0) {
            const root = Math.sqrt(disc);
            const near = -b - root;
            if (near >= 0) distance = near;
            else {
              const far = -b + root;
              if (far >= 0) distance = far;
            }
          }
        } else {
          // raySegment: a ray parallel to the segment does not count as a hit.
          const ex = d[at + 4]!;
          const ey = d[at + 5]!;
          const denom = dx * ey - dy * ex;
          if (denom !== 0) {
            const wx = d[at]! - ox;
            const wy = d[at + 1]! - oy;
            const t = (wx * ey - wy * ex) / denom;
            const u = (wx * dy - wy * dx) / denom;
            if (t >= 0 && u >= 0 && u <= 1) distance = t;
          }
        }
        hit = Math.min(hit, distance);
      }
      out[k] = Math.min(maxRangeM, Math.max(0, hit - r));
    }
    return out;
  }

  /** [bearing (rad, counter-clockwise from the heading, in (−π, π]), distance (m)] of the target. */
  targetSensor(out: Float32Array = new Float32Array(2)): Float32Array {
    const now = this.now;
    const dx = now[TARGET_X]! - now[X]!;
    const dy = now[TARGET_Y]! - now[Y]!;
    // geometry.ts wrapAngle, written out.
    const bearing = Math.atan2(dy, dx) - now[HEADING]!;
    const wrapped = bearing - 2 * Math.PI * Math.floor((bearing + Math.PI) / (2 * Math.PI));
    out[0] = wrapped === -Math.PI ? Math.PI : wrapped;
    out[1] = hypot(dx, dy);
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
    const now = this.now;
    return {
      timeS: now[TIME]!,
      steps: this.steps,
      robot: {
        x: now[X]!,
        y: now[Y]!,
        headingRad: now[HEADING]!,
        vMps: now[V]!,
        omegaRadPerS: now[OMEGA]!,
      },
      target: { x: now[TARGET_X]!, y: now[TARGET_Y]! },
      rangesM: Array.from(this.ranges()),
      inContact: this.contact,
      collisions: this.collisions,
      targetsReached: this.reached,
      distanceM: now[DISTANCE]!,
    };
  }

  get collisionCount(): number {
    return this.collisions;
  }

  get targetsReached(): number {
    return this.reached;
  }

  /** Distance travelled so far (m). */
  get distanceM(): number {
    return this.now[DISTANCE]!;
  }

  /** Moves the target (tests and scripted scenarios); it must be inside the walls. */
  placeTarget(x: number, y: number): void {
    if (!(x > 0 && x < this.config.widthM && y > 0 && y < this.config.heightM)) {
      throw new ArenaError(`target (${x}, ${y}) is outside the arena`);
    }
    this.now[TARGET_X] = x;
    this.now[TARGET_Y] = y;
  }

  /** Draws target positions from the seeded stream until one is clear of everything and far enough. */
  private spawnTarget(): void {
    const { widthM: w, heightM: h } = this.config;
    const { spawnClearanceM: margin, minSpawnDistanceM: far } = this.config.target;
    const now = this.now;
    for (let attempt = 0; attempt < MAX_SPAWN_TRIES; attempt++) {
      const x = margin + counterUniform(this.targetKey, this.draws++) * (w - 2 * margin);
      const y = margin + counterUniform(this.targetKey, this.draws++) * (h - 2 * margin);
      if (hypot(x - now[X]!, y - now[Y]!) < far) continue;
      if (!this.clearOfShapes(x, y, margin)) continue;
      now[TARGET_X] = x;
      now[TARGET_Y] = y;
      return;
    }
    throw new ArenaError(
      'target: found no free spawn position; lower target.spawnClearanceM or target.minSpawnDistanceM',
    );
  }

  private clearOfShapes(x: number, y: number, margin: number): boolean {
    for (let i = 0; i < this.shapes.length; i++) {
      if (clearance(this.shapes[i]!, x, y, 0) < margin) return false;
    }
    return true;
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
