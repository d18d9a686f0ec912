import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { buildMapping, resolvePopulation } from '../../src/codec/mapping.js';
import { CodecRuntime } from '../../src/codec/runtime.js';

const yaml = `
version: 1
description: two rays push steering clusters, a bearing makes a bump
encoders:
  - kind: linear
    input: ranges
    size: 2
    populations: [E0, E1]
    weightsPa: [[1, 0], [0, 1]]
    offset: 1
  - kind: gaussian
    input: target
    populations: [E0, E1, E2]
    preferred: [-1, 0, 1]
    sigma: 0.5
    amplitudePa: 2
decoders:
  - kind: wta
    output: cmd
    tauMs: 20
    groups: [[E0], [E1, E2]]
    values: [[0, 1], [0, -1]]
  - kind: rate
    output: inhibition
    tauMs: 20
    groups: [[I0, I1, I2]]
`;

/** A parsed mapping, loosely typed so that tests can break it in any way. */
type LooseEntry = Record<string, unknown> & { populations: unknown[]; weightsPa: unknown[] };
interface LooseMapping {
  version?: unknown;
  encoders: LooseEntry[];
  decoders: LooseEntry[];
}

describe('mapping format', () => {
  it('builds encoders and decoders from a YAML file with population names', () => {
    const built = buildMapping(parseYaml(yaml), { clusters: 3, tickMs: 1 });
    expect(built.encoders.map((e) => e.input)).toEqual(['ranges', 'target']);
    expect(built.outputs).toEqual(['cmd', 'inhibition']);
    expect(built.inputs.get('ranges')).toBe(2);
    expect(built.inputs.get('target')).toBe(1);
    expect(built.populationCount).toBe(6);
  });

  it('resolves population names and indices', () => {
    expect(resolvePopulation('p', 'E2', 4)).toBe(2);
    expect(resolvePopulation('p', 'I0', 4)).toBe(4);
    expect(resolvePopulation('p', 7, 4)).toBe(7);
    expect(() => resolvePopulation('p', 'E4', 4)).toThrow(/names cluster 4, but the network has 4/);
    expect(() => resolvePopulation('p', 'X1', 4)).toThrow(/expected a population index or a name/);
  });

  it('names the path of every configuration error', () => {
    const good = parseYaml(yaml);
    const broken = (edit: (m: LooseMapping) => void) => {
      const m = structuredClone(good) as LooseMapping;
      edit(m);
      return () => buildMapping(m, { clusters: 3, tickMs: 1 });
    };
    expect(broken((m) => (m.encoders[0].kind = 'cubic'))).toThrow(
      /encoders\[0\].kind: unknown encoder "cubic"/,
    );
    expect(broken((m) => (m.encoders[1].sigmaa = 1))).toThrow(/encoders\[1\].sigmaa: unknown key/);
    expect(broken((m) => (m.encoders[1].populations[2] = 'E9'))).toThrow(
      /encoders\[1\].populations\[2\]: "E9"/,
    );
    expect(broken((m) => (m.encoders[0].weightsPa[1] = [0]))).toThrow(
      /encoders\[0\].weightsPa\[1\]: expected 2 values, got 1/,
    );
    expect(broken((m) => (m.decoders[1].output = 'cmd'))).toThrow(/output "cmd" is produced by two decoders/);
    expect(broken((m) => (m.decoders[0].groups = 'all'))).toThrow(/decoders\[0\].groups: must be an array/);
    expect(broken((m) => (m.version = 2))).toThrow(/mapping.version: expected 1, got 2/);
    expect(broken((m) => (m.encoders[1].size = 3))).not.toThrow();
    expect(broken((m) => m.encoders.push({ ...m.encoders[1], size: 2 }))).toThrow(
      /input "target" has 2 values here but 1 in an earlier encoder/,
    );
    expect(() => buildMapping({ encoders: [] }, { clusters: 3, tickMs: 1 })).toThrow(
      /mapping.decoders: must be an array/,
    );
  });
});

describe('CodecRuntime', () => {
  const sizes = Uint32Array.of(10, 10, 10, 5, 5, 5);

  it('encodes the newest samples, holds them between deliveries, decodes every output', () => {
    const runtime = new CodecRuntime(buildMapping(parseYaml(yaml), { clusters: 3, tickMs: 1 }), sizes);
    const first = runtime.encode(
      new Map([
        ['ranges', Float32Array.of(0.5, 1)],
        ['target', Float32Array.of(0)],
      ]),
    );
    expect(first.errors).toEqual([]);
    const snapshot = Array.from(first.currentsPa);
    expect(snapshot[0]).toBeCloseTo(-0.5 + 2 * Math.exp(-2), 5);
    expect(snapshot[1]).toBeCloseTo(2, 5);
    // No new samples: the same currents again.
    expect(Array.from(runtime.encode(new Map()).currentsPa)).toEqual(snapshot);
    const out = runtime.decode(Uint32Array.of(5, 0, 0, 1, 1, 1), 1);
    expect([...out.keys()]).toEqual(['cmd', 'inhibition']);
    expect(Array.from(out.get('cmd')!)).toEqual([0, 1]);
  });

  it('reports bad samples once and keeps the last good values', () => {
    const runtime = new CodecRuntime(buildMapping(parseYaml(yaml), { clusters: 3, tickMs: 1 }), sizes);
    const good = Array.from(runtime.encode(new Map([['ranges', Float32Array.of(0.5, 1)]])).currentsPa);
    const bad = runtime.encode(
      new Map([
        ['ranges', Float32Array.of(Number.NaN, 1)],
        ['lidar', Float32Array.of(1)],
      ]),
    );
    expect(bad.errors.map((e) => e.message)).toEqual([
      'input "lidar" is not in the mapping',
      'input "ranges": value 0 is NaN; kept the last good value',
    ]);
    expect(Array.from(bad.currentsPa)).toEqual(good);
    expect(runtime.encode(new Map()).errors).toEqual([]);
    const short = runtime.encode(new Map([['ranges', Float32Array.of(1)]]));
    expect(short.errors[0]!.message).toBe('input "ranges": expected 2 values, got 1');
    expect(Array.from(short.currentsPa)).toEqual(good);
  });
});
