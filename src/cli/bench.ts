/**
 * `spikeloop bench <name>`: the benchmarks of docs/architecture.md. Each benchmark registers itself as a
 * subcommand from its own module (bench-*.ts); `bench all` runs every one of them in turn, each in
 * its own process so that one benchmark's threads and GPU device cannot disturb the next.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';

const BIN = fileURLToPath(new URL('../../bin/spikeloop.js', import.meta.url));

/** A default option value of a benchmark command. */
function defaultOf(command: Command, flag: string): unknown {
  return command.options.find((option) => option.long === flag)?.defaultValue;
}

/**
 * Rough wall time of a benchmark with its defaults: the loop and io benchmarks run for a fixed
 * wall-clock time; engine and batch about a minute each on the 2-core development machine (README).
 */
function expectedSeconds(command: Command): number {
  const duration = Number(defaultOf(command, '--duration') ?? 0);
  if (command.name() === 'loop') {
    const sizes = defaultOf(command, '--n');
    return (Array.isArray(sizes) ? sizes.length : 1) * (duration + 5);
  }
  if (command.name() === 'io') return duration + 10;
  return 60;
}

function minutes(seconds: number): string {
  return seconds < 90 ? `${Math.round(seconds)} s` : `${Math.round(seconds / 60)} min`;
}

export function registerBench(program: Command): Command {
  const bench = program
    .command('bench')
    .description('benchmarks: engine, loop, batch, io (JSON lines with --json)');
  bench
    .command('all')
    .description('run every benchmark with its defaults, one after another')
    .option('--json', 'JSON lines instead of tables')
    .action(async (options: { json?: boolean }) => {
      const commands = bench.commands.filter((command) => command.name() !== 'all');
      const names = commands.map((command) => command.name());
      const seconds = commands.map(expectedSeconds);
      const totalS = seconds.reduce((a, b) => a + b, 0);
      process.stderr.write(
        `spikeloop: bench all runs ${names.map((name, k) => `${name} (~${minutes(seconds[k]!)})`).join(', ')} one after another: about ${minutes(totalS)} in all (engine and batch take longer where WebGPU runs on a software adapter)\n`,
      );
      for (const [k, name] of names.entries()) {
        if (!options.json) process.stdout.write(`\n== bench ${name} (~${minutes(seconds[k]!)}) ==\n`);
        const status = await new Promise<number | null>((resolve, reject) => {
          const child = spawn(
            process.execPath,
            [...process.execArgv, BIN, 'bench', name, ...(options.json ? ['--json'] : [])],
            {
              stdio: 'inherit',
            },
          );
          child.once('error', reject);
          child.once('exit', resolve);
        });
        if (status !== 0) throw new Error(`bench ${name} exited with status ${status}`);
      }
    });
  return bench;
}
