import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { referenceFromHistogram, referenceMissing } from '../../src/cli/bench-reference.js';
import { ROOT, runSourceCli, SOURCE_CLI, sleep, startCli } from './live-cli.js';

describe('spikeloop bench loop', () => {
  it('prints one JSON line per network size with lateness percentiles and missed ticks', () => {
    const result = runSourceCli(['bench', 'loop', '--duration', '1', '--n', '100,200', '--json'], 120_000);
    expect(result.status).toBe(0);
    const rows = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(rows.map((row) => row.n)).toEqual([100, 200]);
    for (const row of rows) {
      expect(row).toMatchObject({
        bench: 'loop',
        backend: 'cpu',
        tickMs: 1,
        durationS: 1,
        latePolicy: 'skip',
      });
      expect(row.ticks + row.missed).toBe(1000);
      for (const key of ['p50', 'p99', 'p999', 'max']) expect(typeof row.latenessUs[key]).toBe('number');
      // Late ticks by cause, and the kernel's counters for the tick thread.
      expect(row.lateTicks).toBe(row.lateAfterOverrun + row.lateWakeup);
      expect(row.lateThresholdUs).toBe(250);
      expect(row.tickRunDelayMs).toBeGreaterThanOrEqual(0);
      expect(row.tickPreemptions).toBeGreaterThanOrEqual(0);
      expect(row.tickMajorFaults).toBeGreaterThanOrEqual(0);
      // The tick thread set its own timer slack (normal priority: the kernel keeps what it set).
      expect(row.tickTimerSlackNs).toBe(1);
    }
  });

  it('--record runs each size without and with a recording in the same process', () => {
    const result = runSourceCli(
      ['bench', 'loop', '--duration', '1', '--n', '100', '--record', '--json'],
      120_000,
    );
    expect(result.status).toBe(0);
    const rows = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(rows.map((row) => [row.n, row.recording])).toEqual([
      [100, false],
      [100, true],
    ]);
    expect(rows[0].recordBytes).toBe(0);
    expect(rows[1].recordBytes).toBeGreaterThan(1000);
    for (const row of rows) expect(typeof row.latenessUs.p999).toBe('number');
  });
});

describe('spikeloop bench loop --mode load', () => {
  it('runs the loop under a ws simulator and a dashboard client in another process, and says what the load was', () => {
    const result = runSourceCli(
      ['bench', 'loop', '--mode', 'quiet,load', '--n', '100', '--duration', '2', '--json'],
      180_000,
    );
    expect(result.status, result.stderr).toBe(0);
    const rows = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(rows.map((row) => [row.mode, row.priority, row.n])).toEqual([
      ['quiet', 'normal', 100],
      ['load', 'normal', 100],
    ]);
    for (const row of rows) {
      expect(typeof row.missed).toBe('number');
      expect(row.missedPct).toBeCloseTo((100 * row.missed) / (row.ticks + row.missed), 2);
      for (const key of ['p50', 'p99', 'p999', 'max']) expect(typeof row.latenessUs[key]).toBe('number');
      for (const key of ['p50', 'p99']) expect(typeof row.computeUs[key]).toBe('number');
    }
    const [quiet, load] = rows;
    expect(quiet.simSensorSent).toBeUndefined();
    // The simulator's frames reached the loop and its commands came back.
    expect(load.simSensorSent).toBeGreaterThan(0);
    expect(load.bridgeSensorReceived).toBeGreaterThan(0);
    expect(load.simMotorReceived).toBeGreaterThan(0);
    expect(load.simSensorSentPerS).toBeGreaterThan(0);
    expect(load.simMotorReceivedPerS).toBeGreaterThan(0);
    expect(load.simRttUs.count).toBeGreaterThan(0);
    // The dashboard client got telemetry frames, spikes included, as the page does.
    expect(load.dashboardFramesReceived).toBeGreaterThan(0);
    expect(load.dashboardFramesSent).toBeGreaterThan(0);
    expect(load.loadRateHz).toBe(1000);
    expect(load.loadError).toBeUndefined();
    if (load.ros2 === 'on') {
      expect(load.ros2Published).toBeGreaterThan(0);
      expect(load.ros2Received).toBeGreaterThan(0);
    } else {
      expect(load.ros2).toMatch(/^left out: /);
      expect(result.stderr).toContain('ROS 2 traffic left out');
    }
    // The load processes stopped with the row.
    const pids = [...result.stderr.matchAll(/\(pid (\d+)\)/g)].map((match) => Number(match[1]));
    expect(pids.length).toBeGreaterThan(0);
    for (const pid of pids) expect(existsSync(`/proc/${pid}`)).toBe(false);
  });

  it('a load process that dies ends the row with one line, marks it and exits 1 instead of hanging', async () => {
    const bench = startCli(['bench', 'loop', '--mode', 'load', '--n', '100', '--duration', '60', '--json'], {
      env: { ...process.env, ROS_DISTRO: '' },
    });
    try {
      const [, pid] = await bench.waitForStderr(
        /load on: ws simulator and dashboard client \(pid (\d+)\)/,
        120_000,
      );
      process.kill(Number(pid), 'SIGKILL');
      const { code, stdout, stderr } = await bench.done;
      expect(code).toBe(1);
      const row = JSON.parse(stdout.trim());
      expect(row.loadError).toMatch(
        /ws simulator and dashboard client exited during the run \(killed by SIGKILL\)/,
      );
      expect(row.ticks + row.missed).toBeLessThan(60_000);
      expect(stderr.match(/the row stops here/g)).toHaveLength(1);
    } finally {
      bench.child.kill('SIGKILL');
    }
  }, 180_000);

  it('--priority normal,realtime runs each size at both; realtime is FIFO for the tick thread or says it was refused', () => {
    const result = runSourceCli(
      [
        'bench',
        'loop',
        '--priority',
        'normal,realtime',
        '--realtime',
        '40',
        '--n',
        '100',
        '--duration',
        '1',
        '--json',
      ],
      120_000,
    );
    expect(result.status, result.stderr).toBe(0);
    const [normal, realtime] = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(normal).toMatchObject({
      mode: 'quiet',
      priority: 'normal',
      tickThread: 'on',
      realtimePriority: null,
    });
    expect(normal.realtime).toBeUndefined();
    expect(realtime).toMatchObject({ mode: 'quiet', priority: 'realtime', tickThread: 'on' });
    // The tick thread's final busy wait: 80 µs at normal priority, 400 µs in realtime rows.
    expect([normal.tickSpinUs, realtime.tickSpinUs]).toEqual([80, 400]);
    if (realtime.realtimePriority === 40) expect(realtime.realtime).toBe('FIFO 40');
    else {
      // Without the privilege the row still runs, at normal priority, and says so.
      expect(realtime.realtimePriority).toBeNull();
      expect(realtime.realtime).toMatch(/^refused: ran at normal priority/);
    }
    expect(realtime.ticks + realtime.missed).toBe(1000);
  });

  it('refuses realtime rows without the tick thread', () => {
    const result = runSourceCli([
      'bench',
      'loop',
      '--priority',
      'realtime',
      '--tick-thread',
      'off',
      '--json',
    ]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      '--priority realtime applies to the tick thread; it cannot be combined with --tick-thread off',
    );
  });

  it('refuses an unknown mode, naming the choices', () => {
    const result = runSourceCli(['bench', 'loop', '--mode', 'busy', '--json']);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('--mode expects a comma-separated list of quiet, load; got "busy"');
  });
});

describe('spikeloop bench loop: the OS reference (cyclictest) beside each row', () => {
  // cyclictest sets its thread's policy even for SCHED_OTHER, which needs root (or CAP_SYS_NICE).
  const root = process.getuid?.() === 0;
  const cyclictest = referenceMissing() === null;
  if (!cyclictest || !root) {
    console.log(`bench loop reference test skipped: ${root ? referenceMissing() : 'cyclictest needs root'}`);
  }

  it.skipIf(!cyclictest || !root)(
    'measures cyclictest at each row’s priority and tick during the row: real wake-ups, percentiles and the ratio',
    () => {
      const result = runSourceCli(
        [
          'bench',
          'loop',
          '--priority',
          'normal,realtime',
          '--n',
          '300',
          '--threads',
          '2',
          '--tick-nice',
          '-2',
          '--duration',
          '2',
          '--json',
        ],
        120_000,
      );
      expect(result.status, result.stderr).toBe(0);
      const [normal, realtime] = result.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      expect(normal.reference).toBe('cyclictest SCHED_OTHER');
      expect(realtime.reference).toBe(`cyclictest FIFO ${realtime.realtimePriority}`);
      for (const row of [normal, realtime]) {
        expect(row.referenceConcurrent).toBe(true);
        // One wake-up per 1 ms tick for the row's 2 s: cyclictest really ran beside the loop
        // (fewer when the loop ended before cyclictest's last wake-up, never more).
        expect(row.referenceWakeups).toBeGreaterThan(1000);
        expect(row.referenceWakeups).toBeLessThanOrEqual(2000);
        const { p50, p99, p999, max } = row.referenceLatencyUs;
        expect(p50).toBeGreaterThan(0);
        expect(p50).toBeLessThanOrEqual(p99);
        expect(p99).toBeLessThanOrEqual(p999);
        expect(p999).toBeLessThanOrEqual(max);
        expect(row.referenceLateWakeups).toBeGreaterThanOrEqual(0);
        expect(row.referenceLateWakeups).toBeLessThanOrEqual(row.referenceWakeups);
        // Periods slept through: at least one per late wake-up.
        expect(row.referenceMissed).toBeGreaterThanOrEqual(row.referenceLateWakeups);
        expect(row.latenessP999VsReference).toBeCloseTo(row.latenessUs.p999 / p999, 1);
      }
      // The engine's worker thread (--threads 2) ran at the tick's FIFO priority too.
      expect(realtime).toMatchObject({ engineThreads: 1, engineThreadsFifo: 1 });
      expect(normal.engineThreads).toBeUndefined();
      // --tick-nice applies to every row (as root).
      expect([normal.tickNice, realtime.tickNice]).toEqual([-2, -2]);
    },
    150_000,
  );

  it('without cyclictest on PATH says so in one line and the rows still come out', () => {
    const empty = mkdtempSync(join(tmpdir(), 'spikeloop-no-path-'));
    try {
      const result = spawnSync(
        process.execPath,
        [...SOURCE_CLI, 'bench', 'loop', '--n', '100,200', '--duration', '1', '--json'],
        { cwd: ROOT, encoding: 'utf8', timeout: 120_000, env: { ...process.env, PATH: empty } },
      );
      expect(result.status, result.stderr).toBe(0);
      const rows = result.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      expect(rows.map((row) => row.n)).toEqual([100, 200]);
      for (const row of rows) {
        expect(row.ticks + row.missed).toBe(1000);
        expect(row.reference).toBe(
          'left out: cyclictest is not on PATH (Debian/Ubuntu: apt-get install rt-tests)',
        );
        expect(row.referenceLatencyUs).toBeUndefined();
      }
      expect(result.stderr.match(/no OS reference beside the rows: cyclictest is not on PATH/g)).toHaveLength(
        1,
      );
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('reads cyclictest’s histogram per period as the loop counts lateness: skipped periods count, the overflow at the maximum', () => {
    // 1000 wake-ups: 993 at 50 µs, 5 at 900 µs, 1 at 2300 µs (two periods slept through), 1 beyond
    // the histogram (the maximum, 4500 µs: four periods).
    const result = referenceFromHistogram({ '50': 993, '900': 5, '2300': 1 }, 1000, 4500, 1000);
    expect(result.wakeups).toBe(1000);
    expect(result.lateWakeups).toBe(2);
    expect(result.missed).toBe(6);
    // 1006 values: 2300, 1300, 300 and 4500, 3500, 2500, 1500, 500 besides the 998 others.
    expect(result.latencyUs).toEqual({ p50: 50, p99: 900, p999: 3500, max: 4500 });
  });
});

describe('spikeloop load-client', () => {
  // Port 9 (discard) on loopback: nothing listens, so the simulator keeps retrying and never connects.
  const unreachable = ['load-client', '--simulator', 'ws://127.0.0.1:9'];

  it('stops by itself after --max-s, even when it never connected', async () => {
    const client = startCli([...unreachable, '--max-s', '2'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const startedMs = Date.now();
    try {
      const { code, stdout, stderr } = await client.done;
      expect(code).toBe(1);
      expect(stderr).toContain('stopping after --max-s 2 s');
      expect(stderr).toContain('stopped before every part had connected');
      expect(stdout).not.toContain('"ready"');
      expect(Date.now() - startedMs).toBeLessThan(60_000);
    } finally {
      client.child.kill('SIGKILL');
    }
  }, 90_000);

  it('stops when its stdin ends (the benchmark that started it is gone)', async () => {
    const client = startCli([...unreachable, '--max-s', '600'], { stdio: ['pipe', 'pipe', 'pipe'] });
    try {
      // Started (the module graph loaded): the simulator is retrying by now.
      await sleep(3000);
      client.child.stdin!.end();
      const { code } = await Promise.race([
        client.done,
        sleep(60_000).then(() => ({ code: 'still running' })),
      ]);
      expect(code).toBe(1);
    } finally {
      client.child.kill('SIGKILL');
    }
  }, 90_000);

  it('refuses to start with nothing to do', () => {
    const result = runSourceCli(['load-client', '--max-s', '1']);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      'load-client: nothing to do; give --simulator, --dashboard and/or --ros2-topic',
    );
  });
});
