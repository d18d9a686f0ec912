/**
 * `spikeloop sweep GRID.yaml`: batched, resumable parameter sweeps; `--slice`/`--emit` split them
 * over a scheduler's job array and `--merge` joins the slices. `spikeloop calibrate-params
 * TARGETS.yaml` searches parameters that meet activity targets and writes a params file.
 */
import { basename, extname, join } from 'node:path';
import type { Command } from 'commander';
import { mergeSweeps } from '../calibrate/merge.js';
import { METRIC_NAMES, type MetricName } from '../calibrate/metrics.js';
import { writeModelParamsFile } from '../calibrate/params-file.js';
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
import {
  boundaryOptima,
  calibrateParams,
  loadCalibrationSpec,
  targetOutcomes,
} from '../calibrate/targets.js';
import type { BackendChoice } from '../engine/engine.js';
import { printRows } from './output.js';
import { choice, integer } from './parse.js';

const BACKENDS = ['auto', 'webgpu', 'cpu'] as const;

function defaultOutDir(specPath: string, prefix: string): string {
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

  program
    .command('calibrate-params')
    .description('search model parameters that meet activity targets (coarse grid, then refinement)')
    .argument('<targets>', 'targets file (YAML): search ranges, targets per metric, n, duration')
    .option('--out <dir>', 'directory of the search rounds (default calibrations/<targets name>)')
    .option('--params-out <file>', 'params file to write (default <out>/params.yaml)')
    .option('--batch <B>', 'instances per engine simulation', integer('--batch', 1))
    .option('--backend <name>', 'auto|webgpu|cpu', choice(BACKENDS))
    .option('--json', 'print the result as JSON')
    .action(async (targetsPath: string, options) => {
      const spec = loadCalibrationSpec(targetsPath);
      const outDir: string = options.out ?? defaultOutDir(targetsPath, 'calibrations');
      const result = await calibrateParams(spec, outDir, {
        batch: options.batch,
        backend: options.backend,
        progress: (round) => (total) => new ProgressBar(`calibrate round ${round}`, total),
      });
      const paramsPath: string = options.paramsOut ?? join(outDir, 'params.yaml');
      const achieved = Object.fromEntries(
        Object.keys(spec.targets).map((m) => [m, result.best[m as MetricName]]),
      );
      writeModelParamsFile(paramsPath, {
        model: spec.model,
        n: spec.n,
        params: result.params,
        achieved,
        targetsMet: result.met,
        source: `calibrate-params ${basename(targetsPath)}`,
        date: new Date().toISOString(),
      });
      const outcomes = targetOutcomes(result.best, spec.targets);
      const edges = boundaryOptima(spec.search, result.params);
      const json = Boolean(options.json);
      printRows(
        [
          {
            paramsFile: paramsPath,
            targetsMet: result.met,
            loss: result.loss,
            params: result.params,
            achieved,
            ...(json
              ? { targets: outcomes, atSearchEdge: edges.map((edge) => edge.key) }
              : {
                  targets: Object.fromEntries(
                    outcomes.map((o) => [
                      o.metric,
                      `${o.achieved === null ? 'undefined' : Number(o.achieved.toPrecision(4))}, target ${o.target}: ${o.met ? 'met' : `MISSED (loss ${o.penalty.toFixed(3)})`}`,
                    ]),
                  ),
                }),
          },
        ],
        json,
      );
      if (!json) {
        process.stdout.write(
          'loss: the sum over targets of squared distances from each centre in tolerances (plus 1 per missed bound); a point meeting every target wins over any that misses one, so the chosen loss can exceed a rejected one\n',
        );
      }
      for (const edge of edges) {
        process.stderr.write(
          `spikeloop: warning: ${edge.key} = ${edge.value} lies on the ${edge.edge === 'min' ? 'lower' : 'upper'} edge of its search range [${edge.min}, ${edge.max}]: the best point may lie outside it; widen search.${edge.key}\n`,
        );
      }
      if (!result.met) {
        const missed = outcomes.filter((o) => !o.met).map((o) => `${o.metric} (target ${o.target})`);
        process.stderr.write(
          `spikeloop: no point met every target (missed: ${missed.join(', ')}); the params file holds the closest\n`,
        );
      }
    });
}
