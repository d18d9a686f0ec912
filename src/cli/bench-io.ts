/**
 * `spikeloop bench io`: the sensor→motor round trip over a loopback WebSocket (docs/architecture.md). The
 * bridge runs the real-time loop with the 'ws' environment; the built-in arena runs as a separate
 * process (`spikeloop arena --connect`), stepping at 1 kHz on its own clock and stamping every
 * sensor frame. The round trip is measured by the arena per frame (send → first motor frame whose
 * seq reflects it), on one clock, so no clock synchronisation is involved. A benchmark reports
 * numbers; it never fails on them.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import type { BackendChoice } from '../engine/engine.js';
import type { WsEnvironment } from '../env/ws/environment.js';
import { runClosedLoop } from './closed-loop.js';
import { printRows, type Row } from './output.js';
import { choice, finiteNumber, integer } from './parse.js';

const BIN = fileURLToPath(new URL('../../bin/spikeloop.js', import.meta.url));

interface BenchIoOptions {
  duration: number;
  n: number;
  rateHz: number;
  backend: BackendChoice;
  seed: number;
  threads?: number;
  json?: boolean;
}

export function registerBenchIo(bench: Command): Command {
  return bench
    .command('io')
    .description('sensor→motor round trip over loopback WebSocket with the arena as a separate process')
    .option('--duration <s>', 'wall-clock seconds', finiteNumber('--duration'), 60)
    .option('--n <neurons>', 'network size', integer('--n', 5), 5000)
    .option('--rate-hz <hz>', 'arena steps (sensor frames) per second', finiteNumber('--rate-hz'), 1000)
    .option('--backend <name>', 'auto|webgpu|cpu', choice(['auto', 'webgpu', 'cpu'] as const), 'cpu')
    .option('--seed <n>', 'random seed', integer('--seed', 0), 1)
    .option('--threads <n>', 'CPU backend threads (default: chosen from N)', integer('--threads', 1))
    .option('--json', 'print one JSON object')
    .action(async (options: BenchIoOptions) => {
      if (!(options.duration > 0) || !(options.rateHz > 0))
        throw new Error('--duration and --rate-hz must be > 0');
      let arenaOut = '';
      let arenaErr = '';
      let arenaExit: Promise<number | null> = Promise.resolve(null);
      let stoppedArena = false;
      const { summary } = await runClosedLoop({
        env: 'ws',
        envSettings: { port: 0 },
        tickMs: 1,
        n: options.n,
        model: 'ei-clustered',
        backend: options.backend,
        seed: options.seed,
        latePolicy: 'skip',
        warmupTicks: 200,
        threads: options.threads,
        onStart: async (loop, env) => {
          const url = (env as WsEnvironment).server!.url;
          const child = spawn(
            process.execPath,
            [
              BIN,
              'arena',
              '--connect',
              url,
              '--rate-hz',
              String(options.rateHz),
              '--duration',
              String(options.duration),
              '--json',
            ],
            { stdio: ['ignore', 'pipe', 'pipe'] },
          );
          child.stdout.on('data', (chunk) => {
            arenaOut += chunk;
          });
          child.stderr.on('data', (chunk) => {
            arenaErr += chunk;
          });
          // The loop runs for as long as the arena does.
          arenaExit = new Promise((resolve) =>
            child.on('close', (code) => {
              loop.stop();
              resolve(code);
            }),
          );
          return async () => {
            if (child.exitCode === null) {
              stoppedArena = true;
              child.kill('SIGTERM');
            }
            await arenaExit;
          };
        },
      });
      const code = await arenaExit;
      const lastLine = arenaOut.trim().split('\n').at(-1) ?? '';
      // Stopped by us after the loop's own end, the arena exits 143 (SIGTERM) with its summary.
      const expected = code === 0 || (stoppedArena && code === 143);
      if (!expected || !lastLine.startsWith('{')) {
        throw new Error(`the arena process failed (exit ${code}): ${arenaErr.trim() || arenaOut.trim()}`);
      }
      const arena = JSON.parse(lastLine) as Record<string, number | Record<string, number>>;
      const row: Row = {
        bench: 'io',
        n: options.n,
        backend: summary.backend!,
        rateHz: options.rateHz,
        durationS: options.duration,
        sensorSent: arena.sensorSent!,
        motorReceived: arena.motorReceived!,
        // Simulator clock: sensor frame sent → first motor frame reflecting it arrived.
        rttUs: arena.rttUs!,
        // Bridge clock: sensor frame arrived → motor command computed.
        e2eUs: summary.e2eUs!,
        framesDropped: (arena.sensorUnanswered as number) + (arena.sensorDropped as number),
        sensorSuperseded: summary.sensorSuperseded ?? 0,
        motorDropped: summary.motorDropped ?? 0,
        ticks: summary.ticks!,
        missed: summary.missed!,
        latenessUs: summary.latenessUs!,
      };
      printRows([row], Boolean(options.json));
    });
}
