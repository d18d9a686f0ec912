import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArenaEnvironment, createArenaEnvironment } from '../../../src/env/arena/environment.js';
import { NoiseDriver } from '../../../src/env/arena/noise.js';
import { Arena, type ArenaConfig, DEFAULT_ARENA } from '../../../src/env/arena/world.js';
import { createEnvironment } from '../../../src/env/registry.js';

/** An empty 4 m × 4 m box, robot at (1, 1) facing +x, rays at 0°, 90°, 180°, −90°. */
function box(overrides: Partial<ArenaConfig> = {}): ArenaConfig {
  return {
    ...DEFAULT_ARENA,
    obstacles: [],
    robot: { ...DEFAULT_ARENA.robot, startX: 1, startY: 1, startHeadingRad: 0 },
    sensors: { anglesRad: [0, Math.PI / 2, Math.PI, -Math.PI / 2], maxRangeM: 5 },
    ...overrides,
  };
}

function drive(arena: Arena, command: number[], seconds: number, dtS = 0.001): void {
  arena.setCommand(command);
  for (let t = 0; t < Math.round(seconds / dtS); t++) arena.step(dtS);
}

describe('arena sensing', () => {
  it('range readings match the geometry (from the rim, clipped to the range)', () => {
    const arena = new Arena(box());
    const ranges = Array.from(arena.ranges());
    // Walls at x = 4, y = 4, x = 0, y = 0; radius 0.1.
    expect(ranges[0]).toBeCloseTo(2.9, 5);
    expect(ranges[1]).toBeCloseTo(2.9, 5);
    expect(ranges[2]).toBeCloseTo(0.9, 5);
    expect(ranges[3]).toBeCloseTo(0.9, 5);
    const near = new Arena(box({ sensors: { anglesRad: [0], maxRangeM: 1 } }));
    expect(near.ranges()[0]).toBe(1);
  });

  it('sees obstacles before walls, including at an angle', () => {
    const arena = new Arena(
      box({
        obstacles: [
          { kind: 'circle', x: 2, y: 1, radiusM: 0.25 },
          { kind: 'segment', x1: 0.5, y1: 2, x2: 1.5, y2: 2 },
        ],
        sensors: { anglesRad: [0, Math.PI / 2, Math.PI / 4], maxRangeM: 5 },
      }),
    );
    const [ahead, left, diagonal] = Array.from(arena.ranges());
    expect(ahead).toBeCloseTo(1 - 0.25 - 0.1, 5);
    expect(left).toBeCloseTo(1 - 0.1, 5);
    // 45° misses the circle (it would need to pass within 0.25 of (2, 1): distance 0.707) and the
    // segment (it crosses y = 2 at x = 2 > 1.5): the wall x = 4 at y = 4, distance 3·√2.
    expect(diagonal).toBeCloseTo(3 * Math.SQRT2 - 0.1, 5);
  });

  it('reports the target bearing and distance relative to the heading', () => {
    const arena = new Arena(box());
    arena.placeTarget(1, 3);
    const [bearing, distance] = Array.from(arena.targetSensor());
    expect(bearing).toBeCloseTo(Math.PI / 2, 6);
    expect(distance).toBeCloseTo(2, 6);
  });
});

describe('arena physics', () => {
  it('drives straight, turns and follows arcs exactly', () => {
    const straight = new Arena(box());
    drive(straight, [0.2, 0], 1);
    expect(straight.state().robot.x).toBeCloseTo(1.2, 9);
    expect(straight.state().robot.y).toBeCloseTo(1, 9);
    expect(straight.state().distanceM).toBeCloseTo(0.2, 9);

    const arc = new Arena(box());
    // v = 0.1 m/s, ω = 0.5 rad/s: radius 0.2 m; after π s a quarter circle ends at (1.2, 1.2).
    drive(arc, [0.1, 0.5], Math.PI, Math.PI / 1000);
    const s = arc.state().robot;
    expect(s.x).toBeCloseTo(1.2, 9);
    expect(s.y).toBeCloseTo(1.2, 9);
    expect(s.headingRad).toBeCloseTo(Math.PI / 2, 9);
  });

  it('limits each wheel to its maximum speed', () => {
    const arena = new Arena(box());
    drive(arena, [5, 0], 0.5);
    expect(arena.state().robot.vMps).toBeCloseTo(0.4, 12);
    expect(arena.state().robot.x).toBeCloseTo(1.2, 9);
    const spin = new Arena(box());
    drive(spin, [0, 100], 0.01);
    expect(spin.state().robot.omegaRadPerS).toBeCloseTo((2 * 0.4) / 0.2, 12);
    const wheels = new Arena(box({ command: 'wheels' }));
    drive(wheels, [0.1, 0.3], 0.001);
    expect(wheels.state().robot.vMps).toBeCloseTo(0.2, 12);
    expect(wheels.state().robot.omegaRadPerS).toBeCloseTo(1, 12);
  });

  it('stops at walls and obstacles and counts each new contact once', () => {
    const arena = new Arena(box({ obstacles: [{ kind: 'circle', x: 2, y: 1, radiusM: 0.25 }] }));
    drive(arena, [0.3, 0], 3); // pushes into the circle for ~1.8 s
    let s = arena.state();
    expect(s.collisions).toBe(1);
    expect(s.inContact).toBe(true);
    expect(s.robot.x).toBeLessThanOrEqual(2 - 0.25 - 0.1 + 1e-9);
    expect(s.robot.x).toBeGreaterThan(2 - 0.25 - 0.1 - 1e-3);
    drive(arena, [-0.3, 0], 0.5);
    expect(arena.state().inContact).toBe(false);
    drive(arena, [0.3, 0], 1);
    expect(arena.state().collisions).toBe(2);
    // Into the wall behind: the robot stays inside the box.
    drive(arena, [-0.4, 0], 10);
    s = arena.state();
    expect(s.collisions).toBe(3);
    expect(s.robot.x).toBeGreaterThanOrEqual(0.1 - 1e-9);
  });

  it('counts a reached target and respawns it deterministically, clear of everything', () => {
    const config = box({ seed: 42 });
    const arena = new Arena(config);
    arena.placeTarget(1.5, 1);
    drive(arena, [0.3, 0], 1.5);
    const s = arena.state();
    expect(s.targetsReached).toBe(1);
    const twin = new Arena(config);
    twin.placeTarget(1.5, 1);
    drive(twin, [0.3, 0], 1.5);
    expect(twin.state().target).toEqual(s.target);
    // Far from the robot and inside the spawn margin.
    expect(Math.hypot(s.target.x - s.robot.x, s.target.y - s.robot.y)).toBeGreaterThanOrEqual(1);
    expect(s.target.x).toBeGreaterThanOrEqual(0.25);
    expect(s.target.x).toBeLessThanOrEqual(3.75);
    expect(new Arena(box({ seed: 43 })).state().target).not.toEqual(new Arena(config).state().target);
  });

  it('gives the same trajectory for the same seed and commands, bit for bit', () => {
    const run = (seed: number) => {
      const arena = new Arena({ ...DEFAULT_ARENA, seed });
      const noise = new NoiseDriver({ seed: 7, tauS: 1, sigmaMps: 0.3, wheelBaseM: 0.2 });
      const trace: number[] = [];
      for (let t = 0; t < 20_000; t++) {
        arena.setCommand(noise.next(0.001));
        arena.step(0.001);
        if (t % 100 === 0) trace.push(arena.state().robot.x, arena.state().robot.y);
      }
      return { trace, state: arena.state() };
    };
    const a = run(1);
    const b = run(1);
    expect(b.trace).toEqual(a.trace);
    expect(b.state).toEqual(a.state);
    expect(a.state.distanceM).toBeGreaterThan(0.5);
    // The state is plain data: it survives JSON.
    expect(JSON.parse(JSON.stringify(a.state))).toEqual(a.state);
  });

  it('rejects bad commands (keeping the last one) and bad configuration', () => {
    const arena = new Arena(box());
    arena.setCommand([0.2, 0]);
    expect(() => arena.setCommand([Number.NaN, 0])).toThrow(/command: value 0 \(v m\/s, ω rad\/s\) is NaN/);
    expect(() => arena.setCommand([0.1])).toThrow(/expected 2 values/);
    arena.step(1);
    expect(arena.state().robot.x).toBeCloseTo(1.2, 9);
    expect(() => arena.step(0)).toThrow(/dt must be > 0/);
    expect(() => new Arena(box({ widthM: -1 }))).toThrow(/arena.widthM: must be > 0/);
    expect(() => new Arena(box({ obstacles: [{ kind: 'circle', x: 1, y: 1, radiusM: 0.5 }] }))).toThrow(
      /start position overlaps/,
    );
    expect(() => new Arena(box({ sensors: { anglesRad: [], maxRangeM: 1 } }))).toThrow(/anglesRad/);
    expect(() => new Arena(box({ command: 'joystick' as 'twist' }))).toThrow(
      /arena.command: must be one of "twist", "wheels", got "joystick"/,
    );
  });
});

describe('ArenaEnvironment', () => {
  it('offers fresh sensor samples once per step and drives the robot from the sink', () => {
    const env = new ArenaEnvironment({ clusters: 20, tickMs: 1, arena: box() });
    const [ranges, target] = env.sources;
    const first = ranges!.takeLatest()!;
    expect(first.seq).toBe(1);
    expect(first.values.length).toBe(4);
    expect(ranges!.takeLatest()).toBeNull();
    expect(target!.takeLatest()!.values.length).toBe(2);
    env.sinks[0]!.write({ values: Float32Array.of(0.2, 0), sourceSeq: {}, computedUs: 0 });
    env.sinks[0]!.write({ values: Float32Array.of(Number.NaN, 0), sourceSeq: {}, computedUs: 0 });
    for (let t = 0; t < 1000; t++) env.step(1);
    expect(ranges!.takeLatest()!.seq).toBe(1001);
    expect(env.state().robot.x).toBeCloseTo(1.2, 6);
    expect(env.summary()).toMatchObject({ collisions: 0, rejectedCommands: 1 });
    expect(env.encoders.map((e) => e.input).sort()).toEqual(['ranges', 'target']);
    expect(env.decoders.map((d) => d.output)).toEqual(['cmd_vel']);
  });
});

describe('createArenaEnvironment (registry factory)', () => {
  const layout = {
    n: 2000,
    nE: 1600,
    nI: 400,
    clusters: 20,
    nEPerCluster: 80,
    nIPerCluster: 20,
    populationCount: 40,
  };
  const base = { layout, tickMs: 1, seed: 3, clockUs: () => 0 };

  it('is registered as "arena" and takes seed and mapping settings', async () => {
    const env = await createEnvironment('arena', base);
    expect(env.name).toBe('arena');
    expect(env.sinks.map((s) => s.name)).toEqual(['cmd_vel']);
    const dir = await mkdtemp(join(tmpdir(), 'arena-'));
    const file = join(dir, 'mapping.yaml');
    await writeFile(
      file,
      [
        'encoders:',
        '  - { kind: linear, input: ranges, size: 7, populations: [E0], weightsPa: 1 }',
        'decoders:',
        '  - { kind: wta, output: cmd_vel, tauMs: 20, groups: [[E0], [E1]], values: [[0.1, 0], [0, 1]] }',
      ].join('\n'),
    );
    const custom = (await createArenaEnvironment({
      ...base,
      settings: { mapping: file, seed: 9 },
    })) as ArenaEnvironment;
    expect(custom.encoders.map((e) => e.input)).toEqual(['ranges']);
    expect(custom.arena.config.seed).toBe(9);
  });

  it('rejects unknown settings, bad seeds and unreadable mappings', async () => {
    await expect(createArenaEnvironment({ ...base, settings: { speed: 1 } })).rejects.toThrow(
      /arena environment: unknown setting "speed"; expected seed, mapping/,
    );
    await expect(createArenaEnvironment({ ...base, settings: { seed: -1 } })).rejects.toThrow(
      /arena: seed must be/,
    );
    await expect(
      createArenaEnvironment({ ...base, settings: { mapping: '/nonexistent.yaml' } }),
    ).rejects.toThrow(/cannot read mapping file \/nonexistent.yaml/);
  });
});
