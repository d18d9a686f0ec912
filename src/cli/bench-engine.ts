/**
 * `spikeloop bench engine`: cost of each backend over N (docs/architecture.md): fixed cost, wall time,
 * real-time factor, synaptic events per second, memory, per-tick overhead, and the paper's fit
 * RT(N) = a0 + a1·N + a2·M with the largest N that holds real time.
 */
import { type Command, Option } from 'commander';
import type { CostMeasurement } from '../cost/cost.js';
import { measureBackends } from '../cost/cost-sweep.js';
import { buildHardwareProfile, machineThreadCost } from '../cost/profile.js';
import type { BackendName } from '../engine/engine.js';
import { DEFAULT_PARAMS, MODEL_NAMES, type ModelName } from '../model/params.js';
import { printRows, type Row } from './output.js';
import { choice, finiteNumber, integer, integerList } from './parse.js';

export const BACKEND_SETS = ['all', 'cpu', 'webgpu'] as const;

export function backendsOf(choice: (typeof BACKEND_SETS)[number]): BackendName[] {
  return choice === 'all' ? ['cpu', 'webgpu'] : [choice];
}

export function sampleRow(m: CostMeasurement): Row {
  return {
    kind: 'size',
    backend: m.backend,
    adapter: m.adapter,
    n: m.n,
    synapses: m.synapses,
    buildS: m.buildS,
    durationS: m.durationS,
    wallS: m.wallS,
    rtf: m.rtf,
    repeats: m.repeats,
    rtfMin: m.rtfMin,
    rtfMax: m.rtfMax,
    realTime: m.rtf <= 1,
    eventsPerS: m.eventsPerS,
    threads: m.threads,
    nsPerEventPerThread: m.nsPerEventPerThread,
    rateE: m.rateE,
    rateI: m.rateI,
    rssMiB: m.rssBytes / 2 ** 20,
    engineMiB: m.engineBytes / 2 ** 20,
    wallVsBioSlope: m.wallVsBio.slope,
    ...(m.reference ? referenceColumns(m) : {}),
  };
}

/**
 * The machine's own reference (parallel-reference.ts) next to the engine: how efficiently
 * `refCopies` one-thread copies run at once here, the RT a multi-threaded engine would reach if it
 * scaled like them, and the engine's RT against that ideal (multi-threaded runs only).
 */
function referenceColumns(m: CostMeasurement): Row {
  const reference = m.reference!;
  return {
    refN: reference.n,
    refCopies: reference.copies,
    refRtfAlone: reference.rtfAlone,
    refRtfTogether: reference.rtfTogether,
    refSlowdowns: reference.slowdowns,
    refEfficiency: reference.efficiency,
    refIdealRtf: reference.idealRtf,
    rtfVsIdeal: m.threads !== null && m.threads >= 2 ? m.rtf / reference.idealRtf : null,
  };
}

const SIZE_COLUMNS = [
  'backend',
  'n',
  'synapses',
  'buildS',
  'wallS',
  'rtf',
  'eventsPerS',
  'threads',
  'nsPerEventPerThread',
  'rateE',
  'rateI',
  'rssMiB',
  'engineMiB',
];

/** With --repeats: the fastest and slowest window beside the median RT. */
const SPREAD_COLUMNS = ['rtfMin', 'rtfMax'];

const REFERENCE_COLUMNS = ['refCopies', 'refEfficiency', 'refIdealRtf', 'rtfVsIdeal'];

/** `--repeats K`, shared with calibrate: timed windows per measurement (CostOptions.repeats). */
export function repeatsOption(): Option {
  return new Option(
    '--repeats <k>',
    'timed windows of --duration per measurement; RT is their median, rtfMin/rtfMax the spread',
  )
    .argParser(integer('--repeats', 1))
    .default(1);
}

export function registerBenchEngine(bench: Command): void {
  bench
    .command('engine')
    .description(
      'engine cost over N per backend: fixed cost, RT factor, events/s, memory, tick overhead, RT(N) fit',
    )
    .option('--backend <name>', 'all|cpu|webgpu', choice(BACKEND_SETS), 'all')
    .option(
      '--sizes <list>',
      'network sizes N (comma-separated)',
      integerList('--sizes', 100),
      [2000, 5000, 10000, 20000],
    )
    .option('--duration <s>', 'biological time measured per size (s)', finiteNumber('--duration'), 2)
    .option('--warmup <s>', 'biological time simulated before measuring (s)', finiteNumber('--warmup'), 0.5)
    .addOption(repeatsOption())
    .option('--model <name>', `network model (${MODEL_NAMES.join('|')})`, choice(MODEL_NAMES), 'ei-clustered')
    .option(
      '--steps-per-call <k>',
      'substeps per engine call (10 = one 1 ms tick)',
      integer('--steps-per-call', 1),
      10,
    )
    .option('--margin <fraction>', 'safety margin for the largest real-time N', finiteNumber('--margin'), 0.2)
    .option(
      '--max-wall <s>',
      'skip larger sizes once one size takes longer (s)',
      finiteNumber('--max-wall'),
      300,
    )
    .option(
      '--overhead-calls <k>',
      'engine calls timed for the per-tick overhead',
      integer('--overhead-calls', 10),
      2000,
    )
    .option('--seed <n>', 'random seed', integer('--seed', 0), 1)
    .option(
      '--threads <n>',
      'CPU backend threads (default: chosen from N and the cores)',
      integer('--threads', 1),
    )
    .option(
      '--reference',
      "CPU: also run the one-thread engine alone and as 2 (or the engine's threads) copies at once, for this machine's parallel efficiency and the ideal multi-thread RT",
    )
    .option('--json', 'one JSON object per line')
    .action(async (options) => {
      const json = Boolean(options.json);
      const reference = Boolean(options.reference);
      const stepsPerCall: number = options.stepsPerCall;
      const results = await measureBackends({
        backends: backendsOf(options.backend),
        sizes: options.sizes,
        model: options.model as ModelName,
        durationS: options.duration,
        warmupS: options.warmup,
        repeats: options.repeats,
        stepsPerCall,
        seed: options.seed,
        threads: options.threads,
        measuredThreadCost: options.threads === undefined ? machineThreadCost()?.fits : undefined,
        overheadCalls: options.overheadCalls,
        maxWallS: options.maxWall,
        reference,
        onSample: (m) => {
          if (json) printRows([sampleRow(m)], true);
          else process.stderr.write(`bench engine: ${m.backend} N=${m.n} rtf ${m.rtf.toFixed(3)}\n`);
        },
        onSkip: (backend, reason) => process.stderr.write(`bench engine: ${backend}: ${reason}\n`),
      });
      // The profile logic computes each largest real-time N; nothing is written here.
      const tickMs = stepsPerCall * DEFAULT_PARAMS.dtMs;
      const profile = buildHardwareProfile(
        'bench',
        {
          model: options.model,
          sizes: options.sizes,
          durationS: options.duration,
          warmupS: options.warmup,
          tickMs,
          stepsPerCall,
        },
        options.margin,
        results,
      );
      const fitRows: Row[] = profile.backends.map((backend, k) => {
        const result = results[k]!;
        const measured = result.samples.filter((s) => s.rtf <= 1).map((s) => s.n);
        return {
          kind: 'fit',
          backend: backend.backend,
          available: backend.available,
          adapter: backend.adapter ?? null,
          a0: backend.fit?.a0 ?? null,
          a1: backend.fit?.a1 ?? null,
          a2: backend.fit?.a2 ?? null,
          r2: backend.fit?.r2 ?? null,
          coldBuildS: result.coldBuildS,
          buildS0: backend.fixedCost?.intercept ?? null,
          buildSPerNeuron: backend.fixedCost?.slope ?? null,
          tickOverheadUs: backend.tickOverheadUs ?? null,
          largestMeasuredRealTimeN: measured.length > 0 ? Math.max(...measured) : null,
          largestRealTimeN: backend.largestRealTimeN ?? null,
          extrapolated: backend.extrapolated ?? false,
          tickMs,
          margin: options.margin,
          ...(backend.reason ? { note: backend.reason } : {}),
        };
      });
      if (json) {
        printRows(fitRows, true);
      } else {
        printRows(
          results.flatMap((r) => r.samples.map(sampleRow)),
          false,
          [
            ...SIZE_COLUMNS,
            ...(options.repeats > 1 ? SPREAD_COLUMNS : []),
            ...(reference ? REFERENCE_COLUMNS : []),
          ],
        );
        process.stdout.write('\n');
        printRows(fitRows, false, [
          'backend',
          'a0',
          'a1',
          'a2',
          'r2',
          'coldBuildS',
          'buildS0',
          'tickOverheadUs',
          'largestMeasuredRealTimeN',
          'largestRealTimeN',
        ]);
        // A fit row of dashes needs its reason (too few sizes, backend unavailable, …).
        for (const row of fitRows) {
          if (row.note !== undefined)
            process.stdout.write(`${String(row.backend)} fit: ${String(row.note)}\n`);
        }
      }
    });
}
