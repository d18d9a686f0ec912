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
  /** CPU backend threads per job (passed to every slice; also the CPUs each job asks for). */
  threads?: number;
  /** CPUs each job asks for (default: threads, else 2). */
  cpusPerJob?: number;
  /** Slurm time limit per job (`--time`, e.g. 4:00:00 or 1-00:00:00). */
  time?: string;
  /** Memory per job (Slurm `--mem`, e.g. 4G; HTCondor request_memory). */
  mem?: string;
}

export interface EmittedJobs {
  /** The file to submit (Slurm: `sh submit.sh`, which submits the array and the merge job; HTCondor: condor_submit FILE). */
  submitFile: string;
  /** The command that submits everything. */
  submitCommand: string;
  wrapper: string;
  grid: string;
  /** Where the jobs' logs go (created now, so no job fails for want of it). */
  logDir: string;
  /** Directories the slices will write, for --merge. */
  sliceDirs: string[];
  mergeCommand: string;
}

/** bin/spikeloop.js of this installation (src/calibrate and dist/calibrate are both two levels down). */
function spikeloopBin(): string {
  return fileURLToPath(new URL('../../bin/spikeloop.js', import.meta.url));
}

/** Quotes for sh: any path, spaces and quotes included, is one word. */
export function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}

export const DEFAULT_JOB_TIME = '12:00:00';
export const DEFAULT_JOB_MEM = '4G';

function checkJobResources(options: EmitOptions): { cpus: number; time: string; mem: string } {
  const cpus = options.cpusPerJob ?? options.threads ?? 2;
  if (!Number.isInteger(cpus) || cpus < 1)
    throw new Error(`CPUs per job must be an integer ≥ 1, got ${cpus}`);
  const time = options.time ?? DEFAULT_JOB_TIME;
  // Slurm's formats: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S.
  if (!/^(\d+-\d{1,2}(:\d{2}){0,2}|\d+(:\d{2}){0,2})$/.test(time)) {
    throw new Error(`--time must be a Slurm time limit such as 4:00:00 or 1-00:00:00, got "${time}"`);
  }
  const mem = options.mem ?? DEFAULT_JOB_MEM;
  if (!/^\d+[KMGT]?$/.test(mem)) throw new Error(`--mem must look like 4G or 500M, got "${mem}"`);
  return { cpus, time, mem };
}

/** HTCondor wants MB (or a unit suffix with a space-free number). */
function condorMemory(mem: string): string {
  const match = /^(\d+)([KMGT]?)$/.exec(mem)!;
  const mb = { K: 1 / 1024, M: 1, G: 1024, T: 1024 * 1024, '': 1 }[match[2] as 'K' | 'M' | 'G' | 'T' | ''];
  return String(Math.max(1, Math.ceil(Number(match[1]) * mb)));
}

export function emitJobArray(options: EmitOptions): EmittedJobs {
  const { slices } = options;
  if (!Number.isInteger(slices) || slices < 1)
    throw new Error(`--slices must be an integer ≥ 1, got ${slices}`);
  const { cpus, time, mem } = checkJobResources(options);
  const outDir = resolve(options.outDir);
  const logDir = join(outDir, 'logs');
  // Logs live in their own folder: beside the slice folders a `slice-*` glob would catch them.
  mkdirSync(logDir, { recursive: true });
  // The jobs read a copy of the spec, so editing the original later cannot change a running sweep.
  const grid = join(outDir, 'grid.yaml');
  writeFileSync(grid, toYaml(specToFile(options.spec)));
  writeSpecFile(outDir, options.spec);
  const wrapper = join(outDir, 'run-slice.sh');
  const packageRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));
  const node = `"\${NODE:-node}" ${shellQuote(spikeloopBin())}`;
  const sliceDirs = Array.from({ length: slices }, (_, k) => join(outDir, `slice-${k}`));
  writeFileSync(
    wrapper,
    [
      '#!/bin/sh',
      `# Runs slice $1 of ${slices} of this sweep into ${outDir}/slice-$1 (resumable: rerunning continues it).`,
      '# Set NODE to the node binary if `node` is not on the PATH of the compute nodes.',
      'set -eu',
      'test $# -eq 1 || { echo "usage: $0 SLICE_INDEX" >&2; exit 2; }',
      `cd ${shellQuote(packageRoot)}`,
      `exec ${node} sweep ${shellQuote(grid)} --slice "$1/${slices}" --out ${shellQuote(outDir)}/slice-"$1" --batch ${options.batch} --backend ${options.backend}${options.threads !== undefined ? ` --threads ${options.threads}` : ''}`,
      '',
    ].join('\n'),
  );
  chmodSync(wrapper, 0o755);
  const mergeArgs = `sweep --merge ${sliceDirs.map(shellQuote).join(' ')} --out ${shellQuote(join(outDir, 'merged'))}`;
  let submitFile: string;
  let submitCommand: string;
  if (options.scheduler === 'slurm') {
    // Paths never appear in #SBATCH lines (sbatch splits those at spaces): they go on the sbatch
    // command line in submit.sh, quoted by the shell.
    const arrayFile = join(outDir, 'sweep.sbatch');
    writeFileSync(
      arrayFile,
      [
        '#!/bin/sh',
        '#SBATCH --job-name=spikeloop-sweep',
        `#SBATCH --array=0-${slices - 1}`,
        `#SBATCH --cpus-per-task=${cpus}`,
        `#SBATCH --time=${time}`,
        `#SBATCH --mem=${mem}`,
        '# Submitted by submit.sh, which sets --chdir and --output.',
        'exec ./run-slice.sh "$SLURM_ARRAY_TASK_ID"',
        '',
      ].join('\n'),
    );
    const mergeFile = join(outDir, 'merge.sbatch');
    writeFileSync(
      mergeFile,
      [
        '#!/bin/sh',
        '#SBATCH --job-name=spikeloop-merge',
        '#SBATCH --cpus-per-task=1',
        '#SBATCH --time=1:00:00',
        '#SBATCH --mem=2G',
        '# Runs after every slice succeeded (submit.sh chains it with --dependency=afterok).',
        'set -eu',
        `cd ${shellQuote(packageRoot)}`,
        `exec ${node} ${mergeArgs}`,
        '',
      ].join('\n'),
    );
    submitFile = join(outDir, 'submit.sh');
    writeFileSync(
      submitFile,
      [
        '#!/bin/sh',
        '# Submits the slices as one job array and the merge as a job that starts when all of them succeeded.',
        'set -eu',
        `cd ${shellQuote(outDir)}`,
        'mkdir -p logs',
        `array=$(sbatch --parsable --chdir=${shellQuote(outDir)} --output=${shellQuote(join(logDir, 'slice-%a.log'))} sweep.sbatch)`,
        // sh parameter expansions, not template placeholders: --parsable prints "jobid;cluster".
        // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax.
        'array=${array%%;*}',
        `merge=$(sbatch --parsable --chdir=${shellQuote(outDir)} --output=${shellQuote(join(logDir, 'merge.log'))} --dependency=afterok:"$array" merge.sbatch)`,
        // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax.
        'echo "submitted job array $array (slices) and job ${merge%%;*} (merge, after all slices succeed)"',
        '',
      ].join('\n'),
    );
    chmodSync(submitFile, 0o755);
    submitCommand = `sh ${shellQuote(submitFile)}`;
  } else {
    submitFile = join(outDir, 'sweep.sub');
    // HTCondor's submit language quotes with double quotes; a path with one cannot be written.
    if (outDir.includes('"')) throw new Error(`--out for HTCondor must not contain '"', got ${outDir}`);
    const q = (path: string) => (/\s/.test(path) ? `"${path}"` : path);
    writeFileSync(
      submitFile,
      [
        '# HTCondor job array: one job per slice ($(Process) = 0 … k−1).',
        'universe     = vanilla',
        `executable   = ${q(wrapper)}`,
        'arguments    = $(Process)',
        `initialdir   = ${q(outDir)}`,
        `output       = ${q(join(logDir, 'slice-$(Process).out'))}`,
        `error        = ${q(join(logDir, 'slice-$(Process).err'))}`,
        `log          = ${q(join(logDir, 'sweep.log'))}`,
        `request_cpus = ${cpus}`,
        `request_memory = ${condorMemory(mem)}`,
        'getenv       = True',
        `queue ${slices}`,
        '',
      ].join('\n'),
    );
    submitCommand = `condor_submit ${shellQuote(submitFile)}`;
  }
  return {
    submitFile,
    submitCommand,
    wrapper,
    grid,
    logDir,
    sliceDirs,
    mergeCommand: `spikeloop ${mergeArgs}`,
  };
}
