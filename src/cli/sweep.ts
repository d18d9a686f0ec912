/**
 * `spikeloop sweep GRID.yaml`: batched, resumable parameter sweeps; `--slice`/`--emit` split them
 * over a scheduler's job array and `--merge` joins the slices.
 */
import { basename, extname, join } from 'node:path';
import type { Command } from 'commander';
import { mergeSweeps } from '../calibrate/merge.js';
import { METRIC_NAMES, type MetricName } from '../calibrate/metrics.js';
import { ProgressBar } from '../calibrate/progress.js';
import {
  DEFAULT_JOB_MEM,
  DEFAULT_JOB_TIME,
  emitJobArray,
  SCHEDULERS,
  type SchedulerName,
} from '../calibrate/scheduler.js';
import { runSweep } from '../calibrate/sweep-run.js';
import { loadSweepSpec, parseSlice } from '../calibrate/sweep-spec.js';
import type { BackendChoice } from '../engine/engine.js';
import { printRows } from './output.js';
import { choice, integer } from './parse.js';

export const BACKENDS = ['auto', 'webgpu', 'cpu'] as const;

export function defaultOutDir(specPath: string, prefix: string): string {
  return join(prefix, basename(specPath, extname(specPath)));
}

export function registerSweep(program: Command): void {
  program
    .command('sweep')
    .description('batched parameter sweep with metastability metrics (resumable; CSV, JSONL, heatmap SVG)')
    .argument('[grid]', 'sweep file (YAML): grid and/or points over model parameters, n, duration, warmup')
    .option(
      '--batch <B>',
      'instances per engine simulation (default: the file, else 8)',
      integer('--batch', 1),
    )
    .option('--out <dir>', 'results directory (default sweeps/<grid name>)')
    .option('--backend <name>', 'auto|webgpu|cpu (default: the file, else auto)', choice(BACKENDS))
    .option(
      '--threads <n>',
      'CPU backend threads (default: chosen from N·B and the cores)',
      integer('--threads', 1),
    )
    .option('--slice <i/k>', 'run only slice i of k (0-based), e.g. 0/4')
    .option(
      '--emit <scheduler>',
      `write a job array running the slices (${SCHEDULERS.join('|')})`,
      choice(SCHEDULERS),
    )
    .option('--slices <k>', 'number of slices for --emit', integer('--slices', 1), 4)
    .option('--time <limit>', `time limit per job for --emit slurm (default ${DEFAULT_JOB_TIME})`)
    .option('--mem <size>', `memory per job for --emit, e.g. 8G (default ${DEFAULT_JOB_MEM})`)
    .option('--merge <dirs...>', 'join the results directories of slices into --out')
    .option(
      '--heatmap <metric>',
      `metric drawn in heatmap.svg (${METRIC_NAMES.join('|')})`,
      choice(METRIC_NAMES),
    )
    .option('--json', 'print the summary as JSON')
    .action(async (grid: string | undefined, options) => {
      const json = Boolean(options.json);
      if (options.merge) {
        if (grid) throw new Error('--merge takes result directories, not a sweep file');
        const outDir = options.out ?? 'sweeps/merged';
        const summary = mergeSweeps(options.merge as string[], outDir);
        printRows([{ ...summary }], json);
        if (summary.missing > 0) {
          process.stderr.write(
            `spikeloop: ${summary.missing} of ${summary.points} points have no result yet: run the missing slices (they resume) and merge again\n`,
          );
          // An incomplete merge is not a success: a chained job or script must see it.
          process.exitCode = 1;
        }
        return;
      }
      if (!grid) throw new Error('sweep needs a sweep file (GRID.yaml), or --merge DIR...');
      const spec = loadSweepSpec(grid);
      if (options.heatmap && spec.heatmap) spec.heatmap.metric = options.heatmap as MetricName;
      const outDir: string = options.out ?? defaultOutDir(grid, 'sweeps');
      const batch: number = options.batch ?? spec.batch;
      const backend: BackendChoice = options.backend ?? spec.backend;
      if (options.emit) {
        const jobs = emitJobArray({
          scheduler: options.emit as SchedulerName,
          spec,
          outDir,
          slices: options.slices,
          batch,
          backend,
          threads: options.threads,
          time: options.time,
          mem: options.mem,
        });
        printRows(
          [
            {
              scheduler: options.emit,
              slices: options.slices,
              submit: jobs.submitCommand,
              logs: jobs.logDir,
              merge: jobs.mergeCommand,
            },
          ],
          json,
        );
        return;
      }
      const slice = options.slice ? parseSlice(options.slice) : undefined;
      const title = slice ? `sweep ${slice.index}/${slice.count}` : 'sweep';
      const summary = await runSweep({
        spec,
        outDir,
        batch,
        backend,
        slice,
        threads: options.threads,
        progress: (total) => new ProgressBar(title, total),
      });
      printRows([{ ...summary }], json);
    });
}
