/**
 * Beyond one machine: a sweep split into k slices and written as a job array for an existing
 * scheduler (Slurm `sbatch --array`, HTCondor `queue k`). Every job runs one slice into its own
 * results directory; `spikeloop sweep --merge` joins them. Slices are resumable like any sweep,
 * so resubmitting a failed job continues it.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify as toYaml } from 'yaml';
import type { BackendChoice } from '../engine/engine.js';
import { writeSpecFile } from './results-store.js';
import { type SweepSpec, specToFile } from './sweep-spec.js';

export type SchedulerName = 'slurm' | 'htcondor';
export const SCHEDULERS: readonly SchedulerName[] = ['slurm', 'htcondor'];

export interface EmitOptions {
  scheduler: SchedulerName;
  spec: SweepSpec;
  outDir: string;
  slices: number;
  batch: number;
  backend: BackendChoice;
  /** CPUs each job asks for. */
  cpusPerJob?: number;
}

export interface EmittedJobs {
  /** The file to submit (sbatch FILE / condor_submit FILE). */
  submitFile: string;
  wrapper: string;
  grid: string;
  /** Directories the slices will write, for --merge. */
  sliceDirs: string[];
  mergeCommand: string;
}

/** bin/spikeloop.js of this installation (src/calibrate and dist/calibrate are both two levels down). */
function spikeloopBin(): string {
  return fileURLToPath(new URL('../../bin/spikeloop.js', import.meta.url));
}

function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}

export function emitJobArray(options: EmitOptions): EmittedJobs {
  const { slices } = options;
  if (!Number.isInteger(slices) || slices < 1)
    throw new Error(`--slices must be an integer ≥ 1, got ${slices}`);
  const outDir = resolve(options.outDir);
  mkdirSync(outDir, { recursive: true });
  // The jobs read a copy of the spec, so editing the original later cannot change a running sweep.
  const grid = join(outDir, 'grid.yaml');
  writeFileSync(grid, toYaml(specToFile(options.spec)));
  writeSpecFile(outDir, options.spec);
  const cpus = options.cpusPerJob ?? 2;
  const wrapper = join(outDir, 'run-slice.sh');
  const packageRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));
  writeFileSync(
    wrapper,
    [
      '#!/bin/sh',
      `# Runs slice $1 of ${slices} of this sweep into ${outDir}/slice-$1 (resumable: rerunning continues it).`,
      '# Set NODE to the node binary if `node` is not on the PATH of the compute nodes.',
      'set -eu',
      'test $# -eq 1 || { echo "usage: $0 SLICE_INDEX" >&2; exit 2; }',
      `cd ${shellQuote(packageRoot)}`,
      `exec "\${NODE:-node}" ${shellQuote(spikeloopBin())} sweep ${shellQuote(grid)} --slice "$1/${slices}" --out ${shellQuote(outDir)}/slice-"$1" --batch ${options.batch} --backend ${options.backend}`,
      '',
    ].join('\n'),
  );
  chmodSync(wrapper, 0o755);
  let submitFile: string;
  if (options.scheduler === 'slurm') {
    submitFile = join(outDir, 'sweep.sbatch');
    writeFileSync(
      submitFile,
      [
        '#!/bin/bash',
        '#SBATCH --job-name=spikeloop-sweep',
        `#SBATCH --array=0-${slices - 1}`,
        `#SBATCH --cpus-per-task=${cpus}`,
        `#SBATCH --output=${outDir}/slice-%a.log`,
        `exec ${shellQuote(wrapper)} "$SLURM_ARRAY_TASK_ID"`,
        '',
      ].join('\n'),
    );
  } else {
    submitFile = join(outDir, 'sweep.sub');
    writeFileSync(
      submitFile,
      [
        '# HTCondor job array: one job per slice ($(Process) = 0 … k−1).',
        'universe     = vanilla',
        `executable   = ${wrapper}`,
        'arguments    = $(Process)',
        `output       = ${outDir}/slice-$(Process).out`,
        `error        = ${outDir}/slice-$(Process).err`,
        `log          = ${outDir}/sweep.log`,
        `request_cpus = ${cpus}`,
        'getenv       = True',
        `queue ${slices}`,
        '',
      ].join('\n'),
    );
  }
  const sliceDirs = Array.from({ length: slices }, (_, k) => join(outDir, `slice-${k}`));
  return {
    submitFile,
    wrapper,
    grid,
    sliceDirs,
    mergeCommand: `spikeloop sweep --merge ${shellQuote(outDir)}/slice-* --out ${shellQuote(join(outDir, 'merged'))}`,
  };
}
