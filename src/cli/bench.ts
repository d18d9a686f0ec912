/**
 * `spikeloop bench <name>`: the benchmarks of DESIGN.md §8. Each benchmark registers itself as a
 * subcommand from its own module (bench-*.ts); `bench all` runs them one after another.
 */
import type { Command } from 'commander';

export function registerBench(program: Command): Command {
  return program.command('bench').description('benchmarks: engine, loop, batch, io (JSON lines with --json)');
}
