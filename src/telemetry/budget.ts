/**
 * Deadline budgets for strict mode: `--strict 'p99<=1ms,p999<=2ms,e2e.p99<=3ms,missed<=0'`.
 * A latency budget is `[metric.]stat<=value unit` with metric lateness (default), compute or e2e,
 * stat p50|p90|p99|p999|p9999 (or p99.9, p99.99)|max|mean, unit us|µs|ms|s. A counter budget is
 * `missed<=N` or `overruns<=N`. Parsing is strict: anything else is an error naming the token.
 */
import type { LatencySummary, LoopCounters } from './loop-telemetry.js';

export const BUDGET_METRICS = ['lateness', 'compute', 'e2e'] as const;
export type BudgetMetric = (typeof BUDGET_METRICS)[number];
export type BudgetStat = 'p50' | 'p90' | 'p99' | 'p999' | 'p9999' | 'max' | 'mean';
export type BudgetCounter = 'missed' | 'overruns';

export type Budget =
  | { kind: 'latency'; text: string; metric: BudgetMetric; stat: BudgetStat; limitUs: number }
  | { kind: 'counter'; text: string; counter: BudgetCounter; limit: number };

export interface BudgetResult {
  budget: string;
  /** lateness, compute, e2e, missed or overruns. */
  metric: BudgetMetric | BudgetCounter;
  ok: boolean;
  /** The measured value (µs for latency budgets, a count for counters). */
  value: number;
  limit: number;
  message: string;
}

export class BudgetError extends Error {
  override name = 'BudgetError';
}

const STATS: Record<string, BudgetStat> = {
  p50: 'p50',
  p90: 'p90',
  p99: 'p99',
  p999: 'p999',
  'p99.9': 'p999',
  p9999: 'p9999',
  'p99.99': 'p9999',
  max: 'max',
  mean: 'mean',
};
const UNITS_US: Record<string, number> = { us: 1, µs: 1, ms: 1000, s: 1_000_000 };

export function parseBudgets(spec: string): Budget[] {
  const tokens = spec.split(',').map((token) => token.trim());
  if (tokens.length === 0 || tokens.every((token) => token === '')) {
    throw new BudgetError('--strict needs at least one budget, e.g. "p99<=1ms,p999<=2ms"');
  }
  return tokens.map(parseBudget);
}

function parseBudget(text: string): Budget {
  const fail = (why: string): never => {
    throw new BudgetError(`invalid budget "${text}": ${why}`);
  };
  if (text === '') fail('empty budget (a stray comma?)');
  const match = /^([A-Za-z0-9.]+)\s*<=\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zµ]*)$/.exec(text);
  if (!match) return fail('expected [metric.]stat<=value unit, e.g. "p99<=1ms" or "e2e.p999<=2ms"');
  const [, left = '', number = '', unit = ''] = match;
  const value = Number(number);
  if (left === 'missed' || left === 'overruns') {
    if (unit !== '') fail(`${left} is a count of ticks and takes no unit`);
    if (!Number.isInteger(value)) fail(`${left} must be compared with a whole number`);
    return { kind: 'counter', text, counter: left, limit: value };
  }
  let metric: BudgetMetric = 'lateness';
  let statText = left;
  const dot = left.indexOf('.');
  if (dot > 0 && !/^p\d/.test(left)) {
    const name = left.slice(0, dot);
    if (!BUDGET_METRICS.includes(name as BudgetMetric)) {
      fail(`unknown metric "${name}"; expected ${BUDGET_METRICS.join(', ')}, missed or overruns`);
    }
    metric = name as BudgetMetric;
    statText = left.slice(dot + 1);
  }
  const stat = STATS[statText];
  if (!stat) fail(`unknown statistic "${statText}"; expected ${Object.keys(STATS).join(', ')}`);
  if (unit === '') fail('the value needs a unit: us or ms');
  const scale = UNITS_US[unit];
  if (scale === undefined) fail(`unknown unit "${unit}"; expected us, ms or s`);
  return { kind: 'latency', text, metric, stat: stat as BudgetStat, limitUs: value * scale! };
}

export interface BudgetInputs {
  summaries: Record<BudgetMetric, LatencySummary>;
  counters: LoopCounters;
}

export function checkBudgets(budgets: readonly Budget[], inputs: BudgetInputs): BudgetResult[] {
  return budgets.map((budget) => {
    if (budget.kind === 'counter') {
      const value = inputs.counters[budget.counter];
      const ok = value <= budget.limit;
      return {
        budget: budget.text,
        metric: budget.counter,
        ok,
        value,
        limit: budget.limit,
        message: `${budget.counter} = ${value} (budget ${budget.text}${ok ? '' : ': violated'})`,
      };
    }
    const summary = inputs.summaries[budget.metric];
    if (summary.count === 0) {
      // Nothing measured cannot show that a budget holds.
      return {
        budget: budget.text,
        metric: budget.metric,
        ok: false,
        value: 0,
        limit: budget.limitUs,
        message: `${budget.metric}: no samples (budget ${budget.text}: not shown to hold)`,
      };
    }
    const value = summary[budget.stat];
    const ok = value <= budget.limitUs;
    return {
      budget: budget.text,
      metric: budget.metric,
      ok,
      value,
      limit: budget.limitUs,
      message: `${budget.metric} ${budget.stat} = ${formatUs(value)} (budget ${budget.text}${ok ? '' : ': violated'})`,
    };
  });
}

export function formatUs(us: number): string {
  return us >= 1000 ? `${(us / 1000).toFixed(3)} ms` : `${Math.round(us)} µs`;
}
