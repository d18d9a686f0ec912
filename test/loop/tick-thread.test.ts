/**
 * The tick on a thread of its own (src/loop/tick-thread/): the one TickLoop runs in a worker with
 * the engine; samples, commands, telemetry and spikes cross through shared memory. These tests run
 * the real worker (CPU engine, N = 200) and check behaviour, not timing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { describe, expect, it } from 'vitest';
import type { ArenaState } from '../../src/env/arena/world.js';
import type { TickEvent } from '../../src/loop/observer.js';
import type { Environment, MotorCommand, SensorSample } from '../../src/loop/ports.js';
import { TickThread } from '../../src/loop/tick-thread/host.js';
import {
  allowedCpus,
  applyRealtime,
  applyRealtimeToEngine,
  applyTickNice,
  schedulingOf,
  timerSlackNs,
} from '../../src/loop/tick-thread/realtime.js';

const engineSetup = {
  backend: 'cpu' as const,
  model: 'ei-clustered' as const,
  n: 200,
  seed: 3,
  warmupTicks: 50,
};

function synthetic(extra: Partial<Parameters<typeof TickThread.start>[0]> = {}) {
  return TickThread.start({
    setup: { engine: engineSetup, tickMs: 1, latePolicy: 'late' },
    env: { kind: 'in-thread', name: 'synthetic', settings: {}, seed: 1 },
    warn: () => {},
    ...extra,
  });
}

/** An external world on the main thread: the test pushes samples; commands land in `written`. */
/**
 * Runs 6,000 ticks to warm the compiler up, then 8,000 measured after their first 4,096 (alloc-meter.ts:
 * windows of 256 ticks, all of them unless a collection spoiled one), and asserts that the tick
 * thread allocated under 64 bytes per tick with no collection.
 */
async function expectAllocationFree(thread: TickThread): Promise<void> {
  await thread.run(6000);
  expect(thread.allocation).not.toBeNull();
  await thread.run(8000);
  expect(thread.telemetry.counters.ticks).toBe(14_000);
  const allocation = thread.allocation!;
  expect(allocation.ticks).toBeGreaterThanOrEqual(3584);
  expect(allocation.bytesPerTick).toBeLessThan(64);
  expect(thread.gc).toMatchObject({ minor: 0, major: 0 });
}

function pushEnvironment() {
  let pending: SensorSample | null = null;
  let seq = 0;
  const written: MotorCommand[] = [];
  const env: Environment = {
    name: 'push',
    sources: [
      {
        name: 'sensor',
        size: 2,
        takeLatest: () => {
          const sample = pending;
          pending = null;
          return sample;
        },
      },
    ],
    sinks: [{ name: 'motor', write: (command) => void written.push(command) }],
    encoders: [],
    decoders: [],
    codecSpec: {
      mapping: {
        encoders: [{ kind: 'linear', input: 'sensor', size: 2, populations: ['E0', 'E1'], weightsPa: 20 }],
        decoders: [{ kind: 'rate', output: 'motor', groups: [['E0'], ['E1']], tauMs: 5 }],
      },
    },
    close: async () => {},
  };
  return {
    env,
    written,
    push: (values: number[]) => {
      pending = { values: Float32Array.from(values), seq: ++seq, arrivalUs: performance.now() * 1000 };
      return seq;
    },
  };
}

describe('the tick thread', () => {
  it('runs the loop in the worker: every tick reaches the main telemetry, the observers and the summary', async () => {
    const thread = await synthetic();
    const events: { index: number; outputs: number; seq: number; counts: number }[] = [];
    thread.addObserver({
      onTick: (event: TickEvent) => {
        const command = event.outputs[0]!.command;
        events.push({
          index: event.index,
          outputs: command ? command.values.length : -1,
          seq: command ? (command.sourceSeq.synthetic ?? -1) : -1,
          counts: event.counts.length,
        });
      },
    });
    try {
      await thread.run(1500);
      const { counters } = thread.telemetry;
      // The late policy runs every scheduled tick: all 1500 are in the main thread's telemetry.
      expect(counters.ticks).toBe(1500);
      expect(thread.telemetry.lateness.totalCount).toBe(1500);
      expect(thread.telemetry.compute.totalCount).toBe(1500);
      // One e2e value per tick that took a new sample (a catching-up burst takes none): load-dependent.
      expect(thread.telemetry.e2e.totalCount).toBeGreaterThan(0);
      expect(thread.telemetry.e2e.totalCount).toBeLessThanOrEqual(1500);
      expect(events).toHaveLength(1500);
      expect(events.map((e) => e.index)).toEqual(Array.from({ length: 1500 }, (_, k) => k));
      expect(
        events.every(
          (e) => e.outputs === 2 && e.seq >= 0 && e.counts === thread.engine.layout.populationCount,
        ),
      ).toBe(true);
      expect(thread.env.summary?.()).toEqual({ commands: 1500 });
      expect(thread.engine.stepCount).toBe(50 * 10 + 1500 * 10);
      expect(thread.telemetry.activity()!.spikes).toBeGreaterThan(0);
      expect(thread.droppedRecords).toBe(0);
    } finally {
      await thread.dispose();
    }
  });

  it('the tick thread sets its own timer slack to 1 ns; the main thread keeps the default', async () => {
    const thread = await synthetic();
    try {
      const tid = thread.threadId;
      expect(tid).not.toBeNull();
      expect(timerSlackNs(tid!)).toBe(1);
      expect(timerSlackNs(process.pid)).not.toBe(1);
    } finally {
      await thread.dispose();
    }
  });

  it('spinUs: the tick thread busy-waits that long before each deadline (its CPU time grows with it)', async () => {
    /** CPU time of the tick thread (ns) over 1,000 ticks of 1 ms, and the wall time (ns). */
    const busy = async (spinUs: number) => {
      const thread = await synthetic({
        setup: { engine: engineSetup, tickMs: 1, latePolicy: 'late', spinUs },
      });
      try {
        const cpuNs = () =>
          Number(readFileSync(`/proc/self/task/${thread.threadId!}/schedstat`, 'utf8').split(' ')[0]);
        await thread.run(200);
        const [cpu0, wall0] = [cpuNs(), process.hrtime.bigint()];
        await thread.run(1000);
        return { cpuNs: cpuNs() - cpu0, wallNs: Number(process.hrtime.bigint() - wall0) };
      } finally {
        await thread.dispose();
      }
    };
    const napping = await busy(0);
    const spinning = await busy(700);
    // N = 200 computes in a few µs per tick: a napping thread is idle almost all the time, one that
    // spins the last 700 µs of every 1 ms tick is on the CPU most of it (less where preempted).
    expect(napping.cpuNs / napping.wallNs).toBeLessThan(0.3);
    expect(spinning.cpuNs / spinning.wallNs).toBeGreaterThan(0.4);
    expect(spinning.cpuNs).toBeGreaterThan(2 * napping.cpuNs);
  });

  it('allocates (almost) nothing per tick once warmed up: under 64 bytes per tick over 3500 ticks, no collection', async () => {
    const thread = await synthetic();
    try {
      // Before the synchronous driver (promises, schedule objects, commands, boxed clock reads)
      // this measured about 3,500-4,300 bytes per tick. Now 2-35 remain, depending on which code
      // V8's optimiser settles on (one or two boxed numbers per tick; docs/tick.md).
      await expectAllocationFree(thread);
    } finally {
      await thread.dispose();
    }
  });

  it('streaming spikes to the main thread allocates nothing per tick either (the dashboard case)', async () => {
    const thread = await synthetic();
    try {
      let spikes = 0;
      thread.addObserver({
        onSpikes: (_step, ids) => {
          spikes += ids.length;
        },
        onTick: () => {},
      });
      // A new id array per substep made this about 3,300 bytes per tick with the dashboard attached.
      await expectAllocationFree(thread);
      expect(spikes).toBeGreaterThan(0);
    } finally {
      await thread.dispose();
    }
  });
  it('the built-in arena loop allocates (almost) nothing per tick either: physics, rays, samples, pose', async () => {
    const thread = await TickThread.start({
      setup: { engine: engineSetup, tickMs: 1, latePolicy: 'late' },
      env: { kind: 'in-thread', name: 'arena', settings: {}, seed: 1 },
      warn: () => {},
    });
    try {
      // Before the arena's physics were made allocation-free (boxed Math.hypot results, a contact
      // object per overlap, numbers passed between non-inlined calls) this measured about 2 KB per tick.
      await expectAllocationFree(thread);
      // The robot moved and the pose reached the main thread (the publisher copies it per tick).
      const world = (thread.env as unknown as { state(): ArenaState }).state();
      expect(world.steps).toBe(14_000);
      expect(world.distanceM).toBeGreaterThan(0);
    } finally {
      await thread.dispose();
    }
  });

  it('streams spikes of instance 0 to the main thread only while asked', async () => {
    const thread = await synthetic();
    const spikes: number[] = [];
    const steps = new Set<number>();
    try {
      await thread.run(200);
      thread.addObserver({
        onSpikes: (step, ids) => {
          steps.add(step);
          for (const id of ids) spikes.push(id);
        },
        onTick: () => {},
      });
      await thread.run(500);
      expect(spikes.length).toBeGreaterThan(0);
      expect(spikes.every((id) => id >= 0 && id < 200)).toBe(true);
      // Steps of the second run only: it began after warm-up (50 ticks) and the first run (200).
      expect(Math.min(...steps)).toBeGreaterThanOrEqual((50 + 200) * 10);
      expect(thread.droppedSpikes).toBe(0);
    } finally {
      await thread.dispose();
    }
  });

  it('an external world: main-thread samples reach the tick, its commands reach the main-thread sink with their sourceSeq', async () => {
    const world = pushEnvironment();
    const thread = await TickThread.start({
      setup: { engine: engineSetup, tickMs: 1, latePolicy: 'skip' },
      env: { kind: 'external', env: world.env, codecs: world.env.codecSpec! },
      warn: () => {},
    });
    try {
      // No sample yet: the stale-input policy sends zeros, flagged.
      await thread.run(50);
      expect(world.written.length).toBeGreaterThan(0);
      expect(world.written.every((c) => c.safety === 'stop' && c.values.every((v) => v === 0))).toBe(true);
      world.written.length = 0;
      const timer = setInterval(() => world.push([1, 0.5]), 2);
      try {
        await thread.run(300);
      } finally {
        clearInterval(timer);
      }
      const fresh = world.written.filter((c) => c.safety === undefined);
      expect(fresh.length).toBeGreaterThan(20);
      const seqs = fresh.map((c) => c.sourceSeq.sensor!);
      expect(seqs.every((seq) => seq >= 1)).toBe(true);
      // Newest-sample semantics: the seq a command reflects never goes back.
      expect(seqs.every((seq, k) => k === 0 || seq >= seqs[k - 1]!)).toBe(true);
      expect(fresh.every((c) => c.values.length === 2)).toBe(true);
      expect(thread.telemetry.e2eByInput.get('sensor')!.totalCount).toBeGreaterThan(10);
      expect(thread.safety.state().outputs.motor).toBe('command');
    } finally {
      await thread.dispose();
    }
  });

  it('stop() ends an open-ended run after the current tick', async () => {
    const thread = await synthetic();
    try {
      let seen = 0;
      thread.addObserver({
        onTick: () => {
          if (++seen === 100) thread.stop();
        },
      });
      await thread.run();
      // The stop request reaches the tick thread at its next tick end: a few ticks more at most.
      expect(thread.telemetry.counters.ticks).toBeGreaterThanOrEqual(100);
      expect(thread.telemetry.counters.ticks).toBeLessThan(1000);
    } finally {
      await thread.dispose();
    }
  });

  it('a bad environment setting fails in the tick thread with the environment’s own message', async () => {
    await expect(
      TickThread.start({
        setup: { engine: engineSetup, tickMs: 1, latePolicy: 'skip' },
        env: { kind: 'in-thread', name: 'synthetic', settings: { colour: 'red' }, seed: 1 },
      }),
    ).rejects.toThrow(/synthetic environment: unknown setting "colour"/);
  });

  const root = process.getuid?.() === 0 && spawnSync('chrt', ['--version']).status === 0;
  if (!root) {
    console.log(
      'tick-thread tests of FIFO priority, worker scheduling and nice skipped: they need root and chrt',
    );
  }

  it.skipIf(!root)('--realtime gives the tick thread alone FIFO priority, by its thread id', async () => {
    const thread = await synthetic();
    try {
      const tid = thread.threadId;
      expect(tid).not.toBeNull();
      expect(tid).not.toBe(process.pid);
      const applied = applyRealtime(tid, { priority: 7 });
      expect(applied).toEqual({ priority: 7, cpu: null, warnings: [] });
      expect(schedulingOf(tid!)).toEqual({ policy: 'SCHED_FIFO', priority: 7 });
      // The process (its main thread) keeps the normal policy.
      expect(schedulingOf(process.pid)!.policy).toBe('SCHED_OTHER');
      await thread.run(200);
      expect(thread.telemetry.counters.ticks).toBeGreaterThan(0);
    } finally {
      await thread.dispose();
    }
  });

  it.skipIf(!root)(
    '--realtime gives the engine’s worker threads the tick’s FIFO priority by their thread ids, kept off the tick’s CPU',
    async () => {
      // Two CPU threads: the tick thread steps partition 0, one worker thread partition 1.
      const thread = await synthetic({
        setup: { engine: { ...engineSetup, threads: 2, realtime: true }, tickMs: 1, latePolicy: 'late' },
      });
      try {
        const tick = thread.threadId!;
        const workers = thread.engineThreadIds;
        expect(workers).toHaveLength(1);
        expect(workers).not.toContain(tick);
        expect(workers).not.toContain(process.pid);
        for (const tid of workers) expect(schedulingOf(tid)!.policy).toBe('SCHED_OTHER');
        const cpus = allowedCpus()!;
        const tickCpu = cpus.length > 1 ? cpus[0]! : null;
        const applied = applyRealtime(tick, { priority: 9, ...(tickCpu !== null ? { cpu: tickCpu } : {}) });
        expect(applied.priority).toBe(9);
        const helpers = applyRealtimeToEngine(workers, { priority: 9 }, applied.cpu);
        expect(helpers).toMatchObject({ priority: 9, threads: 1 });
        // Tick thread + one worker at FIFO on two CPUs or fewer leave nothing for the rest: one line.
        if (cpus.length <= 2) {
          expect(helpers.warnings).toHaveLength(1);
          expect(helpers.warnings[0]).toMatch(
            /the tick thread and 1 engine worker thread\(s\) at FIFO priority can occupy all \d CPUs; .* prefer --threads 1 or fewer/,
          );
        } else expect(helpers.warnings).toEqual([]);
        for (const tid of workers) {
          expect(schedulingOf(tid)).toEqual({ policy: 'SCHED_FIFO', priority: 9 });
          if (tickCpu !== null) {
            const affinity = spawnSync('taskset', ['-p', '-c', String(tid)], { encoding: 'utf8' }).stdout;
            expect(affinity.trim().split(': ').pop()).toBe(helpers.cpus);
            expect(helpers.cpus!.split(',').map(Number)).not.toContain(tickCpu);
          }
        }
        expect(schedulingOf(tick)).toEqual({ policy: 'SCHED_FIFO', priority: 9 });
        expect(schedulingOf(process.pid)!.policy).toBe('SCHED_OTHER');
        await thread.run(300);
        expect(thread.telemetry.counters.ticks).toBeGreaterThan(0);
      } finally {
        await thread.dispose();
      }
    },
  );

  it.skipIf(!root)(
    '--tick-nice gives the tick thread and the engine’s worker a nice value by thread id, not the process',
    async () => {
      const thread = await synthetic({
        setup: { engine: { ...engineSetup, threads: 2 }, tickMs: 1, latePolicy: 'late' },
      });
      try {
        const tids = [thread.threadId!, ...thread.engineThreadIds];
        expect(tids).toHaveLength(2);
        const mainNice = getPriority(process.pid);
        expect(applyTickNice(tids, -7)).toEqual({ nice: -7, warnings: [] });
        for (const tid of tids) expect(getPriority(tid)).toBe(-7);
        expect(getPriority(process.pid)).toBe(mainNice);
        await thread.run(200);
        expect(thread.telemetry.counters.ticks).toBeGreaterThan(0);
      } finally {
        await thread.dispose();
      }
      expect(() => applyTickNice([1], 20)).toThrow('--tick-nice must be an integer from -20 to 19, got 20');
    },
  );

  it('--realtime without the privilege says so in one line and the run goes on', async () => {
    // A thread id of a process we may not touch: pid 1 is init, owned by root; as non-root (here,
    // setpriv to nobody) chrt is refused with EPERM.
    const setpriv = spawnSync('setpriv', ['--version']).status === 0;
    if (!setpriv || !root) {
      const applied = applyRealtime(null, { priority: 50 });
      expect(applied.priority).toBeNull();
      expect(applied.warnings).toHaveLength(1);
      return;
    }
    const script = `
      import('${new URL('../../src/loop/tick-thread/realtime.ts', import.meta.url).href}').then((m) => {
        const r = m.applyRealtime(process.pid, { priority: 50 });
        console.log(JSON.stringify(r));
      });`;
    const child = spawnSync(
      'setpriv',
      [
        '--reuid=nobody',
        '--regid=nogroup',
        '--clear-groups',
        '--inh-caps=-all',
        process.execPath,
        '--import',
        'tsx',
        '-e',
        script,
      ],
      { encoding: 'utf8', timeout: 30_000, cwd: process.cwd() },
    );
    const result = JSON.parse(child.stdout.trim().split('\n').pop()!) as {
      priority: number | null;
      warnings: string[];
    };
    expect(result.priority).toBeNull();
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toMatch(
      /--realtime: could not give the tick thread FIFO priority 50 \(Operation not permitted; it needs root, CAP_SYS_NICE or an rtprio limit\); running at normal priority/,
    );
  });

  it.skipIf(!root)(
    'a tick thread that stops getting the CPU (a FIFO spinner on its pinned CPU) makes run() fail: no tick for the stall time',
    async () => {
      const thread = await synthetic({ stallMs: 300 });
      const spinner = { kill: () => {} } as { kill: () => void };
      try {
        const tid = thread.threadId!;
        expect(spawnSync('taskset', ['-p', '-c', '0', String(tid)]).status).toBe(0);
        const running = thread.run();
        await new Promise((resolve) => setTimeout(resolve, 300));
        // RT throttling leaves other tasks 5 % of each second: the tick thread is silent ~950 ms.
        // Its own process group, killed whole: SIGKILL to `timeout` alone would leave the spinner
        // running at FIFO 99 after the test. `-s KILL 2` bounds it even if this process dies.
        const child = spawn(
          'timeout',
          ['-s', 'KILL', '2', 'chrt', '-f', '99', 'taskset', '-c', '0', 'sh', '-c', 'while :; do :; done'],
          { stdio: 'ignore', detached: true },
        );
        spinner.kill = () => {
          try {
            if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
          } catch {
            // Already gone: the 2 s bound ended it.
          }
        };
        await expect(running).rejects.toThrow(/the tick thread stopped answering: no tick for \d+ ms/);
      } finally {
        spinner.kill();
        await thread.dispose();
      }
    },
  );
});
