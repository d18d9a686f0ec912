import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { buildMapping, resolvePopulation } from '../../src/codec/mapping.js';
import type { PopulationActivity } from '../../src/codec/types.js';
import { createEngine } from '../../src/engine/create.js';
import type { Engine } from '../../src/engine/engine.js';
import type {
  Environment,
  MotorCommand,
  MotorSink,
  SensorSample,
  SensorSource,
} from '../../src/loop/ports.js';
import { virtualTime } from '../../src/loop/sleep.js';
import { TickLoop } from '../../src/loop/tick-loop.js';
import { deriveNetwork, populationSizes } from '../../src/model/network.js';
import { modelParams } from '../../src/model/params.js';

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
    expect(broken((m) => (m.encoders[0]!.kind = 'cubic'))).toThrow(
      /encoders\[0\].kind: unknown encoder "cubic"/,
    );
    expect(broken((m) => (m.encoders[1]!.sigmaa = 1))).toThrow(/encoders\[1\].sigmaa: unknown key/);
    expect(broken((m) => (m.encoders[1]!.populations[2] = 'E9'))).toThrow(
      /encoders\[1\].populations\[2\]: "E9"/,
    );
    expect(broken((m) => (m.encoders[0]!.weightsPa[1] = [0]))).toThrow(
      /encoders\[0\].weightsPa\[1\]: expected 2 values, got 1/,
    );
    expect(broken((m) => (m.decoders[1]!.output = 'cmd'))).toThrow(
      /output "cmd" is produced by two decoders/,
    );
    expect(broken((m) => (m.decoders[0]!.groups = 'all'))).toThrow(/decoders\[0\].groups: must be an array/);
    expect(broken((m) => (m.version = 2))).toThrow(/mapping.version: expected 1, got 2/);
    expect(broken((m) => (m.encoders[1]!.size = 3))).not.toThrow();
    expect(broken((m) => m.encoders.push({ ...m.encoders[1]!, size: 2 }))).toThrow(
      /input "target" has 2 values here but 1 in an earlier encoder/,
    );
    expect(() => buildMapping({ encoders: [] }, { clusters: 3, tickMs: 1 })).toThrow(
      /mapping.decoders: must be an array/,
    );
  });
});

/** A source that hands the loop, tick by tick, the samples of a script (null: nothing new). */
class ScriptedSource implements SensorSource {
  private tick = 0;
  constructor(
    readonly name: string,
    private readonly script: readonly (readonly number[] | null)[],
    private readonly clock: () => number,
  ) {}
  takeLatest(): SensorSample | null {
    const values = this.script[this.tick++] ?? null;
    return values === null
      ? null
      : { values: Float32Array.from(values), seq: this.tick, arrivalUs: this.clock() };
  }
}

/** Keeps a copy of every command: the loop refills one command object per output (ports.ts). */
class KeptSink implements MotorSink {
  readonly commands: MotorCommand[] = [];
  constructor(readonly name: string) {}
  write(command: MotorCommand): void {
    this.commands.push({ ...command, values: command.values.slice(), sourceSeq: { ...command.sourceSeq } });
  }
}

/** The mapping above applied by the one TickLoop (simulated time) to a 3-cluster network. */
describe('the mapping in the tick loop', () => {
  const network = deriveNetwork(modelParams('ei-clustered', 150, { clusters: 3, jEPlus: 3, seed: 1 }));
  let engine: Engine;
  beforeAll(async () => {
    engine = await createEngine('cpu', { networks: [network], threads: 1 });
  });
  afterAll(async () => {
    await engine.dispose();
  });

  async function run(script: Record<string, (readonly number[] | null)[]>) {
    const time = virtualTime();
    const built = buildMapping(parseYaml(yaml), { clusters: 3, tickMs: 1 });
    const sinks = built.outputs.map((name) => new KeptSink(name));
    const env: Environment = {
      name: 'scripted',
      sources: Object.entries(script).map(([name, samples]) => new ScriptedSource(name, samples, time.clock)),
      sinks,
      encoders: built.encoders,
      decoders: built.decoders,
      close: async () => {},
    };
    const ticks: { currentsPa: number[]; counts: Uint32Array }[] = [];
    const warnings: string[] = [];
    const loop = new TickLoop({
      engine,
      env,
      tickMs: 1,
      dtMs: network.params.dtMs,
      latePolicy: 'late',
      clock: time.clock,
      sleep: time.sleep,
      warn: (message) => warnings.push(message),
    });
    loop.addObserver({
      onTick: (event) =>
        ticks.push({ currentsPa: Array.from(event.currentsPa), counts: event.counts.slice() }),
    });
    await loop.run(Math.max(...Object.values(script).map((samples) => samples.length)));
    // Warnings are printed off the tick (setImmediate).
    await new Promise((resolve) => setImmediate(resolve));
    return { ticks, warnings, sinks };
  }

  it('encodes the newest samples, holds them between deliveries, decodes every output', async () => {
    const { ticks, warnings, sinks } = await run({
      ranges: [[0.5, 1], null, null],
      target: [[0], null, [1]],
    });
    expect(warnings).toEqual([]);
    const first = ticks[0]!.currentsPa;
    expect(first[0]).toBeCloseTo(-0.5 + 2 * Math.exp(-2), 5);
    expect(first[1]).toBeCloseTo(2, 5);
    // No new samples: the same currents again; a new target sample moves the bump.
    expect(ticks[1]!.currentsPa).toEqual(first);
    expect(ticks[2]!.currentsPa[1]).toBeCloseTo(2 * Math.exp(-2), 5);
    // Every output gets a command every tick: what its decoder makes of that tick's counts.
    const reference = buildMapping(parseYaml(yaml), { clusters: 3, tickMs: 1 }).decoders;
    const activity: PopulationActivity = {
      counts: new Uint32Array(0),
      sizes: populationSizes(network.layout),
      tickMs: 1,
    };
    expect(sinks.map((sink) => sink.name)).toEqual(['cmd', 'inhibition']);
    ticks.forEach(({ counts }, k) => {
      activity.counts = counts;
      for (const [d, decoder] of reference.entries()) {
        const command = sinks[d]!.commands[k]!;
        expect(Array.from(command.values)).toEqual(Array.from(decoder.decode(activity)));
        expect(command.sourceSeq).toEqual({ ranges: 1, target: k === 2 ? 3 : 1 });
      }
    });
  });

  it('warns about a bad sample once, naming the input, and keeps the last good values', async () => {
    const { ticks, warnings } = await run({
      ranges: [[0.5, 1], [Number.NaN, 1], null],
      target: [[0], null, null],
    });
    expect(warnings).toEqual(['input "ranges": value 0 is NaN; kept the last good value']);
    expect(ticks[1]!.currentsPa).toEqual(ticks[0]!.currentsPa);
    expect(ticks[2]!.currentsPa).toEqual(ticks[0]!.currentsPa);
  });
});
