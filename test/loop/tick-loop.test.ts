import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/create.js';
import type { Engine } from '../../src/engine/engine.js';
import { createEnvironment } from '../../src/env/registry.js';
import type { RecordingSink } from '../../src/env/synthetic.js';
import type { Environment } from '../../src/loop/ports.js';
import type { LatePolicy } from '../../src/loop/schedule.js';
import { TickLoop } from '../../src/loop/tick-loop.js';
import { deriveNetwork } from '../../src/model/network.js';
import { modelParams } from '../../src/model/params.js';
import type { TelemetrySnapshot } from '../../src/telemetry/live.js';

const network = deriveNetwork(modelParams('ei-clustered', 100, { seed: 3 }));
let engine: Engine;

beforeAll(async () => {
  engine = await createEngine('cpu', { networks: [network] });
});
afterAll(async () => {
  await engine.dispose();
});

/** A fake monotonic clock: the sleeper jumps it to the deadline, the environment advances it as "compute". */
function fakeTime() {
  const time = { nowUs: 1_000_000 };
  return {
    time,
    clock: () => time.nowUs,
    sleep: async (deadlineUs: number) => {
      if (time.nowUs < deadlineUs) time.nowUs = deadlineUs + 5;
    },
  };
}

/** The synthetic environment, with a step() that spends fake time: 200 µs a tick, 3.5 ms on tick 5. */
async function slowOnTick5(time: { nowUs: number }, clock: () => number): Promise<Environment> {
  const env = await createEnvironment('synthetic', {
    layout: network.layout,
    tickMs: 1,
    seed: 1,
    clockUs: clock,
  });
  let tick = 0;
  return {
    ...env,
    step: () => {
      time.nowUs += tick === 5 ? 3500 : 200;
      tick += 1;
    },
  };
}

async function runWithPolicy(policy: LatePolicy, ticks: number) {
  const { time, clock, sleep } = fakeTime();
  const env = await slowOnTick5(time, clock);
  const warnings: string[] = [];
  const loop = new TickLoop({
    engine,
    env,
    tickMs: 1,
    dtMs: network.params.dtMs,
    latePolicy: policy,
    clock,
    sleep,
    warn: (message) => warnings.push(message),
  });
  await loop.run(ticks);
  await new Promise((resolve) => setImmediate(resolve)); // warnings are printed off the tick
  return { loop, env, warnings, sink: env.sinks[0] as RecordingSink };
}

describe('TickLoop (real CPU engine, synthetic environment, fake clock)', () => {
  it('reads, updates and writes once per tick, commands carrying the newest sample seq', async () => {
    const { loop, sink } = await runWithPolicy('skip', 5);
    expect(loop.substeps).toBe(10);
    expect(loop.telemetry.counters).toEqual({ ticks: 5, missed: 0, overruns: 0 });
    expect(sink.count).toBe(5);
    const seqs = sink.history.map((command) => command.sourceSeq.synthetic!);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(5);
    expect(sink.history[0]!.values.length).toBe(2);
    // Every sample was answered by the command of the tick that read it.
    expect(loop.telemetry.e2e.totalCount).toBe(5);
    expect(loop.telemetry.compute.totalCount).toBe(5);
    // 200 µs of fake compute per tick, recorded to the microsecond.
    expect(loop.telemetry.compute.maxValue).toBeGreaterThanOrEqual(200);
    expect(loop.telemetry.compute.maxValue).toBeLessThan(210);
  });

  it('skip: an overrun of 3.5 ticks drops the 2 ticks whose slots passed and keeps the phase', async () => {
    const { loop, warnings } = await runWithPolicy('skip', 20);
    const { counters } = loop.telemetry;
    expect(counters.overruns).toBe(1);
    expect(counters.missed).toBe(2);
    // Scheduled ticks 0..19 plus the last index reached: every one is in the lateness histogram.
    expect(loop.telemetry.lateness.totalCount).toBe(counters.ticks + counters.missed);
    expect(loop.telemetry.compute.totalCount).toBe(counters.ticks);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/missed 2 tick\(s\) of 1 ms/);
  });

  it('skip: a bounded run that overruns its end schedules exactly the ticks asked for', async () => {
    const { loop } = await runWithPolicy('skip', 7);
    const { counters } = loop.telemetry;
    expect(counters).toEqual({ ticks: 6, missed: 1, overruns: 1 });
    expect(loop.telemetry.lateness.totalCount).toBe(7);
  });

  it('late: the same overrun runs every tick behind schedule and counts those a whole tick late', async () => {
    const { loop } = await runWithPolicy('late', 20);
    const { counters } = loop.telemetry;
    expect(counters.ticks).toBe(20);
    expect(counters.overruns).toBe(1);
    // Tick 6 starts 2.5 ms late and tick 7 1.7 ms late (missed their slots); tick 8 0.9 ms late, …
    expect(counters.missed).toBe(2);
    expect(loop.telemetry.lateness.totalCount).toBe(20);
    expect(loop.telemetry.lateness.maxValue).toBeGreaterThanOrEqual(2500);
  });

  it('a first wake-up delayed by start-up work moves t0 instead of counting missed ticks', async () => {
    const { time, clock } = fakeTime();
    const env = await slowOnTick5(time, clock);
    let sleeps = 0;
    // The first sleep to t0 comes back 3.2 ms late (start-up work on the event loop); later ones on time.
    const sleep = async (deadlineUs: number) => {
      sleeps += 1;
      if (time.nowUs < deadlineUs) time.nowUs = deadlineUs + (sleeps === 2 ? 3200 : 5);
    };
    const warnings: string[] = [];
    const loop = new TickLoop({
      engine,
      env,
      tickMs: 1,
      dtMs: network.params.dtMs,
      latePolicy: 'skip',
      clock,
      sleep,
      warn: (message) => warnings.push(message),
    });
    await loop.run(5);
    expect(loop.telemetry.counters).toEqual({ ticks: 5, missed: 0, overruns: 0 });
    expect(loop.telemetry.lateness.maxValue).toBeLessThan(100);
    expect(warnings).toEqual([]);
  });

  it('refuses an environment whose codecs name missing ports', async () => {
    const { clock } = fakeTime();
    const env = await createEnvironment('synthetic', {
      layout: network.layout,
      tickMs: 1,
      seed: 1,
      clockUs: clock,
    });
    const broken: Environment = { ...env, sinks: [] };
    expect(() => new TickLoop({ engine, env: broken, tickMs: 1, dtMs: 0.1, latePolicy: 'skip' })).toThrow(
      /decoder output "motor" has no motor sink/,
    );
    expect(() => new TickLoop({ engine, env, tickMs: 0.25, dtMs: 0.1, latePolicy: 'skip' })).toThrow(
      /does not divide the tick/,
    );
  });

  it('publishes telemetry snapshots off the tick path with population rates', async () => {
    const { loop } = await runWithPolicy('skip', 50);
    const snapshot = loop.feed.snapshot();
    expect(snapshot.counters.ticks + snapshot.counters.missed).toBe(50);
    expect(snapshot.populationRatesHz).toHaveLength(network.layout.populationCount);
    expect(snapshot.rateEHz).toBeGreaterThan(0);
    expect(snapshot.latenessUs.count).toBe(loop.telemetry.lateness.totalCount);
  });
});

describe('live telemetry feed', () => {
  it('publishes snapshots to subscribers on an interval while the loop runs, with spikes when asked', async () => {
    const env = await createEnvironment('synthetic', {
      layout: network.layout,
      tickMs: 1,
      seed: 1,
      clockUs: () => performance.now() * 1000,
    });
    const loop = new TickLoop({ engine, env, tickMs: 1, dtMs: 0.1, latePolicy: 'skip', warn: () => {} });
    const snapshots: TelemetrySnapshot[] = [];
    const unsubscribe = loop.feed.subscribe((snapshot) => snapshots.push(snapshot), 20);
    loop.streamSpikes(true);
    // Real time: stop once three snapshots have arrived (however long that takes on a loaded machine).
    const stopper = setInterval(() => snapshots.length >= 3 && loop.stop(), 5);
    await loop.run();
    clearInterval(stopper);
    unsubscribe();
    loop.streamSpikes(false);
    expect(snapshots.length).toBeGreaterThanOrEqual(3);
    // Two consumers: spikes keep flowing until both have let go.
    loop.streamSpikes(true);
    loop.streamSpikes(true);
    loop.streamSpikes(false);
    await loop.run(20);
    expect(loop.feed.snapshot().recentSpikes.length).toBeGreaterThan(0);
    loop.streamSpikes(false);
    await loop.run(20);
    expect(loop.feed.snapshot().recentSpikes).toEqual([]);
    const last = snapshots.at(-1)!;
    expect(last.counters.ticks).toBeGreaterThan(0);
    expect(last.populationRatesHz).toHaveLength(network.layout.populationCount);
    expect(snapshots.some((snapshot) => snapshot.recentSpikes.length > 0)).toBe(true);
    for (const batch of snapshots.flatMap((snapshot) => snapshot.recentSpikes)) {
      for (const id of batch.ids) expect(id).toBeLessThan(network.layout.n);
    }
  });
});

describe('a loop slower than real time', () => {
  for (const policy of ['skip', 'late'] as const) {
    it(`still serves the event loop every tick, so it can be stopped (${policy})`, async () => {
      const env = await createEnvironment('synthetic', {
        layout: network.layout,
        tickMs: 1,
        seed: 1,
        clockUs: () => performance.now() * 1000,
      });
      // Every tick computes for 1.5 ms of real time: the loop is always behind.
      const slow: Environment = {
        ...env,
        step: () => {
          const until = performance.now() + 1.5;
          while (performance.now() < until) {
            // a controller slower than the tick
          }
        },
      };
      const loop = new TickLoop({
        engine,
        env: slow,
        tickMs: 1,
        dtMs: 0.1,
        latePolicy: policy,
        warn: () => {},
      });
      // The stop request arrives through the event loop, as SIGINT does.
      // After a few ticks rather than after a fixed time: on a loaded machine 30 ms may hold only one.
      let ticksAtStop = -1;
      const timer = setInterval(() => {
        if (loop.telemetry.counters.ticks < 5) return;
        ticksAtStop = loop.telemetry.counters.ticks;
        loop.stop();
        clearInterval(timer);
      }, 2);
      await loop.run();
      clearInterval(timer);
      const { ticks, missed, overruns } = loop.telemetry.counters;
      expect(ticksAtStop).toBeGreaterThan(0);
      expect(ticks).toBeLessThanOrEqual(ticksAtStop + 1);
      expect(overruns).toBe(ticks);
      expect(missed).toBeGreaterThan(0);
      expect(loop.telemetry.compute.totalCount).toBe(ticks);
    });
  }

  it('tells observers every tick: taken samples, counts, commands, and the tick spikes', async () => {
    const { time, clock, sleep } = fakeTime();
    const env = await slowOnTick5(time, clock);
    const loop = new TickLoop({
      engine,
      env,
      tickMs: 1,
      dtMs: network.params.dtMs,
      latePolicy: 'skip',
      clock,
      sleep,
    });
    const events: {
      index: number;
      taken: number | null;
      used: number;
      counts: number;
      spikes: number;
      seq: number;
    }[] = [];
    let spikes = 0;
    loop.addObserver({
      onSpikes: (_step, ids) => {
        spikes += ids.length;
      },
      onTick: (event) => {
        const input = event.inputs[0]!;
        events.push({
          index: event.index,
          taken: input.taken?.seq ?? null,
          used: input.usedSeq,
          counts: event.counts.reduce((a, b) => a + b, 0),
          spikes,
          seq: event.outputs[0]!.command!.sourceSeq.synthetic!,
        });
        spikes = 0;
        expect(event.firstStep).toBe(engine.stepCount - event.substeps);
      },
    });
    await loop.run(8);
    expect(events.map((e) => e.index)).toEqual(events.map((_, k) => k));
    expect(events.length).toBe(loop.telemetry.counters.ticks);
    for (const event of events) {
      // The spikes streamed during a tick are exactly those counted in it; commands carry the seq used.
      expect(event.spikes).toBe(event.counts);
      expect(event.seq).toBe(event.used);
      if (event.taken !== null) expect(event.taken).toBe(event.used);
    }
  });
});
