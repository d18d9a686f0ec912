/**
 * `spikeloop bench loop`: the real-time loop at 1 ms ticks against the synthetic environment, for a
 * tiny network and for N = 5000 (docs/architecture.md): tick lateness percentiles, compute time, end-to-end
 * latency and missed ticks. A benchmark reports numbers; it never fails on them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import type { BackendChoice } from '../engine/engine.js';
import { LATE_POLICIES, type LatePolicy } from '../loop/schedule.js';
import { DEFAULT_REALTIME_PRIORITY } from '../loop/tick-thread/realtime.js';
import { runClosedLoop } from './closed-loop.js';
import { printRows, type Row } from './output.js';
import { choice, integer, MAX_TICK_MS, MAX_WALL_S, numberInRange } from './parse.js';
import { realtimeRequest } from './run.js';

function sizeList(value: string): number[] {
  const sizes = value.split(',').map((part) => Number(part.trim()));
  if (sizes.length === 0 || sizes.some((n) => !Number.isInteger(n) || n < 5)) {
    throw new InvalidArgumentError(`--n expects comma-separated integers ≥ 5, got "${value}"`);
  }
  return sizes;
}

interface BenchLoopOptions {
  duration: number;
  tickMs: number;
  n: number[];
  backend: BackendChoice;
  latePolicy: LatePolicy;
  seed: number;
  threads?: number;
  nice?: number;
  json?: boolean;
  /** Each size twice in the same process: without, then with an MCAP recording. */
  record?: boolean;
  tickThread: 'on' | 'off';
  realtime?: boolean | string;
  cpu?: number;
}

type Percentiles = { p50: number; p99: number; p999: number; max: number };

export function registerBenchLoop(bench: Command): Command {
  return bench
    .command('loop')
    .description('tick lateness, compute time and missed ticks of the real-time loop (synthetic environment)')
    .option(
      '--duration <s>',
      'wall-clock seconds per network size',
      numberInRange('--duration', 0, MAX_WALL_S, 's', true),
      60,
    )
    .option('--tick-ms <ms>', 'tick length', numberInRange('--tick-ms', 0, MAX_TICK_MS, 'ms', true), 1)
    .option('--n <list>', 'network sizes, comma-separated', sizeList, [100, 5000])
    .option('--backend <name>', 'auto|webgpu|cpu', choice(['auto', 'webgpu', 'cpu'] as const), 'cpu')
    .option('--late-policy <policy>', 'skip|late', choice(LATE_POLICIES), 'skip')
    .option('--seed <n>', 'random seed', integer('--seed', 0), 1)
    .option('--threads <n>', 'CPU backend threads (default: chosen from N)', integer('--threads', 1))
    .option(
      '--nice <n>',
      'scheduling priority of the loop (-20…19; negative needs root)',
      integer('--nice', -20),
    )
    .option('--record', 'run each size twice, without and with --record (recording overhead in one run)')
    .option(
      '--tick-thread <on|off>',
      'the tick on a thread of its own, or on the main thread',
      choice(['on', 'off'] as const),
      'on',
    )
    .option(
      '--realtime [priority]',
      `FIFO priority for the tick thread alone (default ${DEFAULT_REALTIME_PRIORITY})`,
    )
    .option('--cpu <n>', 'pin the tick thread to this CPU (with --realtime)', integer('--cpu', 0))
    .option('--json', 'one JSON object per network size')
    .action(async (options: BenchLoopOptions) => {
      const realtime = realtimeRequest(options.realtime, options.cpu);
      const rows: Row[] = [];
      const recordDir = options.record ? mkdtempSync(join(tmpdir(), 'spikeloop-bench-record-')) : null;
      const runs = options.n.flatMap((n) =>
        recordDir
          ? [
              { n, record: false },
              { n, record: true },
            ]
          : [{ n, record: false }],
      );
      for (const { n, record } of runs) {
        const recordFile = record && recordDir ? join(recordDir, `n${n}.mcap`) : undefined;
        const { summary, recording } = await runClosedLoop({
          record: recordFile,
          env: 'synthetic',
          durationS: options.duration,
          tickMs: options.tickMs,
          n,
          model: 'ei-clustered',
          backend: options.backend,
          seed: options.seed,
          latePolicy: options.latePolicy,
          warmupTicks: 200,
          threads: options.threads,
          nice: options.nice,
          tickThread: options.tickThread !== 'off',
          realtime,
        });
        const row: Row = {
          bench: 'loop',
          backend: summary.backend!,
          adapter: summary.adapter!,
          n,
          tickMs: options.tickMs,
          durationS: options.duration,
          latePolicy: options.latePolicy,
          nice: summary.nice ?? null,
          tickThread: summary.tickThread!,
          realtimePriority: summary.realtimePriority ?? null,
          ticks: summary.ticks!,
          missed: summary.missed!,
          overruns: summary.overruns!,
          latenessUs: summary.latenessUs!,
          computeUs: summary.computeUs!,
          e2eUs: summary.e2eUs!,
          ...(recordDir
            ? {
                recording: record,
                recordBytes: recording?.bytes ?? 0,
                // Per tick run, scaled to a minute of ticks: missed ticks write nothing.
                recordMiBPerMin:
                  recording && recording.ticks > 0
                    ? ((recording.bytes / recording.ticks) * (60_000 / options.tickMs)) / 2 ** 20
                    : 0,
              }
            : {}),
        };
        if (options.json) printRows([row], true);
        rows.push(row);
      }
      if (recordDir) rmSync(recordDir, { recursive: true, force: true });
      if (!options.json) printRows(rows.map(flatten), false);
    });
}

/** Table form: one column per percentile. */
function flatten(row: Row): Row {
  const flat: Row = {};
  for (const [key, value] of Object.entries(row)) {
    if (key === 'adapter') continue;
    if (value !== null && typeof value === 'object' && 'p99' in value) {
      const p = value as Percentiles;
      const base = key.replace(/Us$/, '');
      Object.assign(flat, {
        [`${base}P50Us`]: p.p50,
        [`${base}P99Us`]: p.p99,
        [`${base}P999Us`]: p.p999,
        [`${base}MaxUs`]: p.max,
      });
    } else flat[key] = value;
  }
  return flat;
}
