import { describe, expect, it } from 'vitest';
import { checkBudgets, parseBudgets } from '../../src/telemetry/budget.js';
import type { LatencySummary } from '../../src/telemetry/loop-telemetry.js';

const summary = (p99: number, max = p99 * 2): LatencySummary => ({
  count: 100,
  min: 1,
  mean: p99 / 2,
  p50: p99 / 4,
  p90: p99 / 2,
  p99,
  p999: max,
  p9999: max,
  max,
});

describe('parseBudgets', () => {
  it('reads latency budgets with optional metric and units, and counter budgets', () => {
    expect(parseBudgets('p99<=1ms, p999<=2000us,e2e.p99.9<=3ms,compute.max<=0.5ms,missed<=0')).toEqual([
      { kind: 'latency', text: 'p99<=1ms', metric: 'lateness', stat: 'p99', limitUs: 1000 },
      { kind: 'latency', text: 'p999<=2000us', metric: 'lateness', stat: 'p999', limitUs: 2000 },
      { kind: 'latency', text: 'e2e.p99.9<=3ms', metric: 'e2e', stat: 'p999', limitUs: 3000 },
      { kind: 'latency', text: 'compute.max<=0.5ms', metric: 'compute', stat: 'max', limitUs: 500 },
      { kind: 'counter', text: 'missed<=0', counter: 'missed', limit: 0 },
    ]);
  });

  it('names the offending token and what was expected', () => {
    expect(() => parseBudgets('p99<=1')).toThrow('invalid budget "p99<=1": the value needs a unit: us or ms');
    expect(() => parseBudgets('p99<=1h')).toThrow(/unknown unit "h"/);
    expect(() => parseBudgets('p98<=1ms')).toThrow(/unknown statistic "p98"/);
    expect(() => parseBudgets('jitter.p99<=1ms')).toThrow(/unknown metric "jitter"/);
    expect(() => parseBudgets('p99>=1ms')).toThrow(/expected \[metric.\]stat<=value unit/);
    expect(() => parseBudgets('p99<=1ms,')).toThrow(/empty budget/);
    expect(() => parseBudgets('missed<=1ms')).toThrow(/takes no unit/);
    expect(() => parseBudgets('')).toThrow(/at least one budget/);
  });
});

describe('checkBudgets', () => {
  it('passes budgets that hold and names the violated one', () => {
    const budgets = parseBudgets('p99<=1ms,e2e.p99<=1ms,missed<=0');
    const results = checkBudgets(budgets, {
      summaries: { lateness: summary(400), compute: summary(100), e2e: summary(1500) },
      counters: { ticks: 100, missed: 0, overruns: 0 },
    });
    expect(results.map((result) => result.ok)).toEqual([true, false, true]);
    expect(results[1]!.message).toBe('e2e p99 = 1.500 ms (budget e2e.p99<=1ms: violated)');
    expect(results[1]).toMatchObject({ metric: 'e2e', value: 1500, limit: 1000 });
  });

  it('fails a latency budget when nothing was measured', () => {
    const empty = { ...summary(0), count: 0 };
    const [result] = checkBudgets(parseBudgets('e2e.p99<=1ms'), {
      summaries: { lateness: summary(1), compute: summary(1), e2e: empty },
      counters: { ticks: 10, missed: 0, overruns: 0 },
    });
    expect(result).toMatchObject({
      ok: false,
      message: 'e2e: no samples (budget e2e.p99<=1ms: not shown to hold)',
    });
  });
});
