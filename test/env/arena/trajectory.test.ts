/**
 * The arena's stepping, sensing and target spawning are written out over typed arrays so the tick
 * thread steps it without allocating (world.ts). This checks that they still give exactly what
 * the arena gave when it was written with geometry.ts's pure functions: a reference stepper built
 * from those functions (the arena's code as it was, with objects and Math.hypot) runs beside the
 * arena under the same commands, and every pose, range, target reading and counter must match bit
 * for bit, tick by tick, over runs with collisions and reached targets.
 */
import { describe, expect, it } from 'vitest';
import { ArenaEnvironment } from '../../../src/env/arena/environment.js';
import { circleContact, clearance, rayHit, type Shape, wrapAngle } from '../../../src/env/arena/geometry.js';
import { Arena, type ArenaConfig, DEFAULT_ARENA } from '../../../src/env/arena/world.js';
import { counterUniform, streamKey } from '../../../src/model/rng.js';

/** The arena's physics as first written: plain objects, geometry.ts functions, Math.hypot. */
class ReferenceArena {
  readonly robot: { x: number; y: number; headingRad: number; vMps: number; omegaRadPerS: number };
  readonly target = { x: 0, y: 0 };
  readonly shapes: Shape[];
  private readonly command = [0, 0];
  private readonly targetKey: number;
  private draws = 0;
  time = 0;
  steps = 0;
  contact = false;
  collisions = 0;
  reached = 0;
  distance = 0;

  constructor(readonly config: ArenaConfig) {
    const { widthM: w, heightM: h } = config;
    this.shapes = [
      { kind: 'segment', x1: 0, y1: 0, x2: w, y2: 0 },
      { kind: 'segment', x1: w, y1: 0, x2: w, y2: h },
      { kind: 'segment', x1: w, y1: h, x2: 0, y2: h },
      { kind: 'segment', x1: 0, y1: h, x2: 0, y2: 0 },
      ...config.obstacles,
    ];
    const r = config.robot;
    this.robot = { x: r.startX, y: r.startY, headingRad: r.startHeadingRad, vMps: 0, omegaRadPerS: 0 };
    this.targetKey = streamKey(config.seed, 0x54524754);
    this.spawnTarget();
  }

  setCommand(values: ArrayLike<number>): void {
    this.command[0] = values[0]!;
    this.command[1] = values[1]!;
  }

  step(dtS: number): { collision: boolean; targetReached: boolean } {
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
    const subSteps = Math.max(1, Math.ceil((Math.abs(v) * dtS) / (0.25 * radiusM)));
    const h = dtS / subSteps;
    let touched = false;
    for (let s = 0; s < subSteps; s++) {
      const x0 = this.robot.x;
      const y0 = this.robot.y;
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
    return { collision, targetReached };
  }

  private resolveContacts(): boolean {
    const r = this.config.robot.radiusM;
    let touched = false;
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

  ranges(): Float32Array {
    const { anglesRad, maxRangeM } = this.config.sensors;
    const out = new Float32Array(anglesRad.length);
    for (let k = 0; k < anglesRad.length; k++) {
      const a = this.robot.headingRad + anglesRad[k]!;
      const dx = Math.cos(a);
      const dy = Math.sin(a);
      let hit = Infinity;
      for (const shape of this.shapes) hit = Math.min(hit, rayHit(shape, this.robot.x, this.robot.y, dx, dy));
      out[k] = Math.min(maxRangeM, Math.max(0, hit - this.config.robot.radiusM));
    }
    return out;
  }

  targetSensor(): Float32Array {
    const dx = this.target.x - this.robot.x;
    const dy = this.target.y - this.robot.y;
    return Float32Array.of(wrapAngle(Math.atan2(dy, dx) - this.robot.headingRad), Math.hypot(dx, dy));
  }

  private spawnTarget(): void {
    const { widthM: w, heightM: h } = this.config;
    const { spawnClearanceM: margin, minSpawnDistanceM: far } = this.config.target;
    for (;;) {
      const x = margin + counterUniform(this.targetKey, this.draws++) * (w - 2 * margin);
      const y = margin + counterUniform(this.targetKey, this.draws++) * (h - 2 * margin);
      if (Math.hypot(x - this.robot.x, y - this.robot.y) < far) continue;
      if (this.shapes.some((shape) => clearance(shape, x, y, 0) < margin)) continue;
      this.target.x = x;
      this.target.y = y;
      return;
    }
  }
}

/** Every number the arena exposes after a step, as float64 bit patterns (−0 ≠ 0, NaN = NaN). */
function fingerprint(values: ArrayLike<number>): string {
  const f64 = Float64Array.from(values);
  return Array.from(new BigUint64Array(f64.buffer), (b) => b.toString(16)).join(' ');
}

function referenceState(ref: ReferenceArena): number[] {
  const r = ref.robot;
  return [
    ref.time,
    ref.steps,
    r.x,
    r.y,
    r.headingRad,
    r.vMps,
    r.omegaRadPerS,
    ref.target.x,
    ref.target.y,
    ref.contact ? 1 : 0,
    ref.collisions,
    ref.reached,
    ref.distance,
    ...ref.ranges(),
    ...ref.targetSensor(),
  ];
}

function arenaState(arena: Arena): number[] {
  const s = arena.state();
  return [
    s.timeS,
    s.steps,
    s.robot.x,
    s.robot.y,
    s.robot.headingRad,
    s.robot.vMps,
    s.robot.omegaRadPerS,
    s.target.x,
    s.target.y,
    s.inContact ? 1 : 0,
    s.collisions,
    s.targetsReached,
    s.distanceM,
    ...s.rangesM,
    ...arena.targetSensor(),
  ];
}

/**
 * Commands for tick t: steering at the target for a while (targets get reached), then a fixed
 * wander that runs into walls and obstacles (collisions), the command format per the config.
 */
function commandAt(t: number, bearing: number, wheels: boolean): number[] {
  const phase = t % 6000;
  if (phase < 2500) return wheels ? [0.3 - 0.3 * bearing, 0.3 + 0.3 * bearing] : [0.3, 3 * bearing];
  const turn = Math.sin(t * 0.0013) * 2.5;
  return wheels ? [0.4 - 0.1 * turn, 0.4 + 0.1 * turn] : [0.5, turn];
}

function compare(config: ArenaConfig, dtS: number, ticks: number) {
  const arena = new Arena(config);
  const ref = new ReferenceArena(structuredClone(config));
  const wheels = config.command === 'wheels';
  expect(fingerprint(arenaState(arena))).toBe(fingerprint(referenceState(ref)));
  let collisions = 0;
  let contactTicks = 0;
  let reached = 0;
  for (let t = 0; t < ticks; t++) {
    const command = commandAt(t, ref.targetSensor()[0]!, wheels);
    arena.setCommand(command);
    ref.setCommand(command);
    const events = arena.step(dtS);
    const expected = ref.step(dtS);
    expect({ ...events }).toEqual(expected);
    if (events.collision) collisions++;
    if (events.targetReached) reached++;
    if (arena.state().inContact) contactTicks++;
    const got = fingerprint(arenaState(arena));
    const want = fingerprint(referenceState(ref));
    // One message on the first divergence, not a 20,000-step diff.
    if (got !== want) expect(`tick ${t}: ${got}`).toBe(`tick ${t}: ${want}`);
  }
  return { collisions, contactTicks, reached };
}

describe('the arena against its reference physics', () => {
  it('default arena, twist commands, 1 ms ticks: every state bit for bit, with collisions and reached targets', () => {
    const { collisions, contactTicks, reached } = compare(DEFAULT_ARENA, 0.001, 30_000);
    expect(collisions).toBeGreaterThanOrEqual(3);
    expect(contactTicks).toBeGreaterThan(1000);
    expect(reached).toBeGreaterThanOrEqual(4);
  });

  it('wheel commands, another seed, 20 ms ticks (sub-stepped moves): bit for bit', () => {
    const { collisions, contactTicks, reached } = compare(
      { ...DEFAULT_ARENA, command: 'wheels', seed: 7 },
      0.02,
      6_000,
    );
    expect(collisions).toBeGreaterThanOrEqual(10);
    expect(contactTicks).toBeGreaterThan(100);
    expect(reached).toBeGreaterThanOrEqual(6);
  });

  it('the environment the tick runs (step(tickMs), the published samples, writeState) matches the reference', () => {
    const env = new ArenaEnvironment({ clusters: 10, tickMs: 1, clock: () => 0 });
    const ref = new ReferenceArena(structuredClone(DEFAULT_ARENA) as ArenaConfig);
    const record = new Float64Array(13 + 7);
    for (let t = 0; t < 5_000; t++) {
      const command = commandAt(t, ref.targetSensor()[0]!, false);
      env.sinks[0]!.write({ values: Float32Array.from(command), computedUs: 0, sourceSeq: {} });
      ref.setCommand(Float32Array.from(command));
      env.step(1);
      ref.step(1 / 1000);
      const ranges = env.sources[0]!.takeLatest()!.values;
      const target = env.sources[1]!.takeLatest()!.values;
      env.writeState(record, 0, 7);
      const want = referenceState(ref);
      const got = [...record, ...target];
      if (fingerprint(got) !== fingerprint(want)) {
        expect(`tick ${t}: ${fingerprint(got)}`).toBe(`tick ${t}: ${fingerprint(want)}`);
      }
      expect(fingerprint(ranges)).toBe(fingerprint(want.slice(13, 20)));
    }
  });
});
