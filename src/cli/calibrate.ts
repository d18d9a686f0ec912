/**
 * `spikeloop calibrate`: measures fixed and variable cost over N per available backend, fits
 * RT(N) = a0 + a1·N + a2·M, finds the largest N that holds real time at the tick with a safety
 * margin and writes the hardware profile (hardware-profiles/NAME.json).
 */
import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { measureBackends } from '../cost/cost-sweep.js';
import { buildHardwareProfile, defaultProfileName, writeHardwareProfile } from '../cost/profile.js';
import { DEFAULT_PARAMS, isMultiple, MODEL_NAMES, type ModelName } from '../model/params.js';
import { BACKEND_SETS, backendsOf, repeatsOption, sampleRow } from './bench-engine.js';
import { printRows } from './output.js';
import { choice, finiteNumber, integer, integerList } from './parse.js';

/** Thread counts calibrate measures the CPU backend at: 1, 2, 4, … up to the cores (at most 8). */
export function calibratedThreadCounts(cores: number): number[] {
  const counts: number[] = [];
  for (let t = 1; t <= Math.min(cores, 8); t *= 2) counts.push(t);
  return counts;
}

export function registerCalibrate(program: Command): void {
  program
    .command('calibrate')
    .description(
      'measure this machine (cost over N per backend), fit RT(N), write hardware-profiles/NAME.json',
    )
    .option('--backend <name>', 'all|cpu|webgpu', choice(BACKEND_SETS), 'all')
    .option(
      '--sizes <list>',
      'network sizes N (comma-separated); doubled past the last while it still holds real time',
      integerList('--sizes', 100),
      [1000, 2000, 5000, 10000, 20000],
    )
    .option('--duration <s>', 'biological time measured per size (s)', finiteNumber('--duration'), 1)
    .option('--warmup <s>', 'biological time simulated before measuring (s)', finiteNumber('--warmup'), 0.2)
    .addOption(repeatsOption())
    .option(
      '--tick-ms <ms>',
      'loop tick the profile is for (engine calls of one tick)',
      finiteNumber('--tick-ms'),
      1,
    )
    .option(
      '--margin <fraction>',
      'safety margin: real time needs (1 + margin)·RT ≤ 1',
      finiteNumber('--margin'),
      0.2,
    )
    .option(
      '--max-wall <s>',
      'skip larger sizes once one size takes longer (s)',
      finiteNumber('--max-wall'),
      120,
    )
    .option('--model <name>', `network model (${MODEL_NAMES.join('|')})`, choice(MODEL_NAMES), 'ei-clustered')
    .option(
      '--threads <n>',
      'CPU backend: measure only this thread count (default: 1, 2, 4, … up to the cores, at most 8; the profile then holds the cost per thread count that picks the default threads on this machine)',
      integer('--threads', 1),
    )
    .option('--no-extend', 'measure only --sizes (do not double N until real time fails)')
    .option('--name <name>', 'profile name (default from the CPU model and cores)')
    .option('--output <file>', 'profile path (default hardware-profiles/<name>.json)')
    .option('--json', 'print the summary as JSON lines')
    .action(async (options) => {
      const json = Boolean(options.json);
      const tickMs: number = options.tickMs;
      const { dtMs } = DEFAULT_PARAMS;
      if (!(tickMs > 0) || !isMultiple(tickMs, dtMs)) {
        throw new Error(`--tick-ms must be a positive multiple of dt = ${dtMs} ms, got ${tickMs}`);
      }
      if (!(options.margin >= 0)) throw new Error(`--margin must be ≥ 0, got ${options.margin}`);
      const stepsPerCall = Math.round(tickMs / dtMs);
      const results = await measureBackends({
        backends: backendsOf(options.backend),
        sizes: options.sizes,
        model: options.model as ModelName,
        durationS: options.duration,
        warmupS: options.warmup,
        repeats: options.repeats,
        stepsPerCall,
        seed: 1,
        threads: options.threads,
        threadCounts:
          options.threads === undefined ? calibratedThreadCounts(availableParallelism()) : undefined,
        overheadCalls: 1000,
        maxWallS: options.maxWall,
        ...(options.extend ? { extendUntilNotRealTime: { margin: options.margin, maxN: 200_000 } } : {}),
        onSample: (m) => {
          if (json) printRows([sampleRow(m)], true);
          else
            process.stderr.write(
              `calibrate: ${m.backend} N=${m.n}${m.threads !== null ? ` threads ${m.threads}` : ''} rtf ${m.rtf.toFixed(3)} build ${m.buildS.toFixed(2)} s\n`,
            );
        },
        onSkip: (backend, reason) => process.stderr.write(`calibrate: ${backend}: ${reason}\n`),
      });
      const measuredSizes = [...new Set(results.flatMap((r) => r.samples.map((s) => s.n)))].sort(
        (a, b) => a - b,
      );
      const name: string = options.name ?? defaultProfileName();
      const profile = buildHardwareProfile(
        name,
        {
          model: options.model,
          sizes: measuredSizes.length > 0 ? measuredSizes : options.sizes,
          durationS: options.duration,
          warmupS: options.warmup,
          repeats: options.repeats,
          tickMs,
          stepsPerCall,
        },
        options.margin,
        results,
      );
      const path: string = options.output ?? join('hardware-profiles', `${name}.json`);
      mkdirSync(dirname(path), { recursive: true });
      writeHardwareProfile(path, profile);
      printRows(
        [
          ...profile.backends.map((b) => ({
            kind: 'backend',
            backend: b.backend,
            available: b.available,
            a0: b.fit?.a0 ?? null,
            a1: b.fit?.a1 ?? null,
            a2: b.fit?.a2 ?? null,
            r2: b.fit?.r2 ?? null,
            tickOverheadUs: b.tickOverheadUs ?? null,
            fastestThreadsByN: b.samples?.some((sample) => sample.threads !== undefined)
              ? b.samples.map((sample) => `${sample.n}:${sample.threads}`).join(' ')
              : null,
            largestRealTimeN: b.largestRealTimeN ?? null,
            extrapolated: b.extrapolated ?? false,
            ...(b.reason ? { note: b.reason } : {}),
          })),
          {
            kind: 'profile',
            profile: path,
            recommendedBackend: profile.recommended.backend,
            recommendedN: profile.recommended.n,
            tickMs,
          },
        ],
        json,
      );
    });
}
