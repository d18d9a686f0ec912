/**
 * `spikeloop arena --connect ws://HOST:PORT`: the built-in arena as a separate process speaking the
 * WebSocket protocol, exactly as an external simulator would (docs/protocol.md). Prints the round
 * trips it measured and what the robot achieved when it stops.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ArenaClient } from '../env/arena/client.js';
import { DEFAULT_ARENA } from '../env/arena/world.js';
import { safeLogLine } from '../io/ws/log-line.js';
import { printRows } from './output.js';
import { integer, MAX_WALL_S, numberInRange } from './parse.js';
import { onStopSignal } from './signals.js';

interface ArenaCommandOptions {
  connect: string;
  token?: string;
  lockstep?: boolean;
  rateHz: number;
  steps?: number;
  duration?: number;
  seed: number;
  trajectory?: string;
  json?: boolean;
}

export function registerArena(program: Command): Command {
  return program
    .command('arena')
    .description('run the built-in arena as an external simulator connected to a bridge over WebSocket')
    .requiredOption('--connect <url>', 'bridge address, e.g. ws://127.0.0.1:8765')
    .option('--token <token>', 'access token (default: $SPIKELOOP_TOKEN)')
    .option(
      '--lockstep',
      'one physics step per motor frame (deterministic) instead of stepping on its own clock',
    )
    .option(
      '--rate-hz <hz>',
      'physics steps per second on its own clock',
      numberInRange('--rate-hz', 0, 1e6, 'Hz', true),
      1000,
    )
    .option('--steps <n>', 'stop after this many physics steps', integer('--steps', 1))
    .option(
      '--duration <s>',
      'stop after this many wall-clock seconds',
      numberInRange('--duration', 0, MAX_WALL_S, 's', true),
    )
    .option('--seed <n>', 'arena seed (target positions)', integer('--seed', 0), DEFAULT_ARENA.seed)
    .option(
      '--trajectory <file>',
      'write the robot pose after every step (JSON lines: step, x, y, headingRad)',
    )
    .option('--json', 'print one JSON object')
    .action(async (options: ArenaCommandOptions) => {
      if (!/^wss?:\/\//.test(options.connect))
        throw new Error(`--connect expects ws://HOST:PORT, got "${options.connect}"`);
      if (!(options.rateHz > 0)) throw new Error('--rate-hz must be > 0');
      const client = new ArenaClient({
        url: options.connect,
        token: options.token ?? process.env.SPIKELOOP_TOKEN,
        arena: { ...DEFAULT_ARENA, seed: options.seed },
        clock: options.lockstep ? { mode: 'lockstep' } : { mode: 'realtime', rateHz: options.rateHz },
        maxSteps: options.steps,
        recordTrajectory: options.trajectory !== undefined,
        // The bridge's error messages are text from another process: escaped and cut like the server's.
        log: (line) => process.stderr.write(`${safeLogLine(line)}\n`),
      });
      const stop = () => void client.close();
      // Until the summary is printed: a signal closes the client, a second one cannot cut the output.
      const releaseSignals = onStopSignal(stop);
      const timer = options.duration === undefined ? null : setTimeout(stop, options.duration * 1000);
      const result = await client.run();
      if (timer) clearTimeout(timer);
      await client.close();
      const { trajectory, ...summary } = result;
      if (options.trajectory !== undefined) {
        const lines = trajectory.map((pose, step) =>
          JSON.stringify({ step: step + 1, x: pose.x, y: pose.y, headingRad: pose.headingRad }),
        );
        writeFileSync(options.trajectory, lines.length > 0 ? `${lines.join('\n')}\n` : '');
      }
      printRows(
        [{ url: options.connect, mode: options.lockstep ? 'lockstep' : 'realtime', ...summary }],
        Boolean(options.json),
      );
      releaseSignals();
    });
}
