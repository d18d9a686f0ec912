/** `spikeloop simulate`: offline run as fast as possible, with rates, timing and optional recording. */
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { loadModelParamsFile } from '../calibrate/params-file.js';
import { machineThreadCost } from '../cost/profile.js';
import type { BackendChoice, ConnectivityMode } from '../engine/engine.js';
import { simulateOffline } from '../engine/offline.js';
import { layoutOf } from '../model/network.js';
import { MODEL_NAMES, type ModelName, modelParams } from '../model/params.js';
import { SpikeFileWriter, sidecarPath, spikeFileSidecar } from '../telemetry/spike-file.js';
import { printRows } from './output.js';
import { choice, integer, MAX_BIOLOGICAL_S, N_HELP, numberInRange } from './parse.js';

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('run the network offline as fast as possible and report rates and speed')
    .option('--model <name>', `network model (${MODEL_NAMES.join('|')})`, choice(MODEL_NAMES), 'ei-clustered')
    .option('--n <neurons>', N_HELP, integer('--n', 5), 5000)
    .option(
      '--duration <s>',
      'biological time to measure (s)',
      numberInRange('--duration', 0, MAX_BIOLOGICAL_S, 's', true),
      2,
    )
    .option(
      '--warmup <s>',
      'biological time simulated before measuring (s)',
      numberInRange('--warmup', 0, MAX_BIOLOGICAL_S, 's'),
      0,
    )
    .option('--backend <name>', 'auto|webgpu|cpu', choice(['auto', 'webgpu', 'cpu'] as const), 'auto')
    .option('--seed <n>', 'random seed (instance b uses seed + b)', integer('--seed', 0), 1)
    .option('--batch <B>', 'independent instances simulated together', integer('--batch', 1), 1)
    .option(
      '--threads <n>',
      "CPU backend threads (default: the fastest, from this machine's profile or the cost model)",
      integer('--threads', 1),
    )
    .option(
      '--connectivity <mode>',
      'auto|stored|procedural',
      choice(['auto', 'stored', 'procedural'] as const),
      'auto',
    )
    .option(
      '--params <file>',
      'model parameters from `spikeloop calibrate-params` (model and N unless given)',
    )
    .option('--record <file>', 'write every spike to a binary spike file')
    .option('--json', 'print one JSON object')
    .action(async (options, command: Command) => {
      const paramsFile = options.params ? loadModelParamsFile(options.params) : undefined;
      if (paramsFile) {
        if (command.getOptionValueSource('model') !== 'cli') options.model = paramsFile.model;
        if (command.getOptionValueSource('n') !== 'cli') options.n = paramsFile.n;
      }
      const { dtMs } = modelParams(options.model as ModelName, options.n, paramsFile?.params);
      const writer: SpikeFileWriter | null = options.record
        ? new SpikeFileWriter(options.record, { n: options.n, batch: options.batch, dtMs })
        : null;
      const result = await simulateOffline({
        model: options.model as ModelName,
        n: options.n,
        durationS: options.duration,
        warmupS: options.warmup,
        backend: options.backend as BackendChoice,
        seed: options.seed,
        batch: options.batch,
        threads: options.threads,
        measuredThreadCost: options.threads === undefined ? machineThreadCost()?.fits : undefined,
        connectivity: options.connectivity as ConnectivityMode,
        overrides: paramsFile?.params,
        onSpikes: writer ? (step, ids) => writer.write(step, ids) : undefined,
      });
      await writer?.close();
      if (writer) {
        // Which neuron is E or I and in which cluster, for rasters ordered by cluster (the binary format is unchanged).
        const layout = layoutOf(modelParams(options.model as ModelName, options.n, paramsFile?.params));
        const sidecar = spikeFileSidecar(layout, {
          model: options.model,
          batch: options.batch,
          dtMs: 0.1,
          seed: options.seed,
        });
        await writeFile(sidecarPath(writer.path), `${JSON.stringify(sidecar, null, 2)}\n`);
      }
      const { populationCounts: _counts, ...summary } = result;
      printRows([{ ...summary, ...(writer ? { record: writer.path } : {}) }], Boolean(options.json));
    });
}
