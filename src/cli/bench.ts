/**
 * `spikeloop bench <name>`: the benchmarks of docs/architecture.md. Each benchmark registers itself as a
 * subcommand from its own module (bench-*.ts); `bench all` runs every one of them in turn, each in
 * its own process so that one benchmark's threads and GPU device cannot disturb the next.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';

const BIN = fileURLToPath(new URL('../../bin/spikeloop.js', import.meta.url));

export function registerBench(program: Command): Command {
  const bench = program
    .command('bench')
    .description('benchmarks: engine, loop, batch, io (JSON lines with --json)');
  bench
    .command('all')
    .description('run every benchmark with its defaults, one after another')
    .option('--json', 'JSON lines instead of tables')
    .action(async (options: { json?: boolean }) => {
      const names = bench.commands.map((command) => command.name()).filter((name) => name !== 'all');
      for (const name of names) {
        if (!options.json) process.stdout.write(`\n== bench ${name} ==\n`);
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
