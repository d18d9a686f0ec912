/**
 * `spikeloop bench batch`: sweep throughput of B instances in one simulation against the same
 * points run one by one (network-seconds of biological time per wall second).
 */
import type { Command } from 'commander';
import { benchBatch } from '../cost/batch-bench.js';
import { MODEL_NAMES, type ModelName } from '../model/params.js';
import { printRows } from './output.js';
import { choice, finiteNumber, integer, integerList } from './parse.js';

export function registerBenchBatch(bench: Command): void {
  bench
    .command('batch')
    .description(
      'sweep throughput: network-seconds per wall second for B instances in one simulation vs one by one',
    )
    .option('--backend <name>', 'auto|webgpu|cpu', choice(['auto', 'webgpu', 'cpu'] as const), 'auto')
    .option('--n <neurons>', 'network size', integer('--n', 100), 2000)
    .option(
      '--batches <list>',
      'batch sizes B (comma-separated)',
      integerList('--batches', 1),
      [1, 8, 32, 128],
    )
    .option('--duration <s>', 'biological time per instance (s)', finiteNumber('--duration'), 1)
    .option('--warmup <s>', 'biological time before measuring (s)', finiteNumber('--warmup'), 0.2)
    .option('--sequential <k>', 'points of each batch also run one by one', integer('--sequential', 1), 4)
    .option('--model <name>', `network model (${MODEL_NAMES.join('|')})`, choice(MODEL_NAMES), 'ei-clustered')
    .option('--seed <n>', 'seed of the first instance', integer('--seed', 0), 1)
    .option(
      '--threads <n>',
      'CPU backend threads (default: chosen from N·B and the cores)',
      integer('--threads', 1),
    )
    .option('--json', 'one JSON object per line')
    .action(async (options) => {
      const json = Boolean(options.json);
      const rows = await benchBatch(
        {
          backend: options.backend,
          model: options.model as ModelName,
          n: options.n,
          batches: options.batches,
          durationS: options.duration,
          warmupS: options.warmup,
          seed: options.seed,
          stepsPerCall: 1000,
          sequentialSample: options.sequential,
          threads: options.threads,
        },
        (row) => {
          if (json) printRows([{ ...row }], true);
          else process.stderr.write(`bench batch: B=${row.batch} speedup ${row.speedup.toFixed(2)}×\n`);
        },
      );
      if (!json) {
        printRows(
          rows.map((row) => ({ ...row })),
          false,
          [
            'backend',
            'n',
            'batch',
            'batchedNetworkSPerS',
            'sequentialNetworkSPerS',
            'speedup',
            'batchedSimNetworkSPerS',
            'sequentialSimNetworkSPerS',
            'simSpeedup',
          ],
        );
      }
    });
}
