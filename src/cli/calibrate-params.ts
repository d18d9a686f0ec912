/**
 * `spikeloop calibrate-params TARGETS.yaml`: searches model parameters that meet activity targets
 * (a coarse grid, then finer rounds; every round an ordinary sweep) and writes a params file.
 */
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import type { MetricName } from '../calibrate/metrics.js';
import { writeModelParamsFile } from '../calibrate/params-file.js';
import { ProgressBar } from '../calibrate/progress.js';
import {
  boundaryOptima,
  calibrateParams,
  loadCalibrationSpec,
  targetOutcomes,
} from '../calibrate/targets.js';
import { printRows } from './output.js';
import { choice, integer } from './parse.js';
import { BACKENDS, defaultOutDir } from './sweep.js';

export function registerCalibrateParams(program: Command): void {
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
