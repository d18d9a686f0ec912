import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModelParamsFile, writeModelParamsFile } from '../../src/calibrate/params-file.js';
import { readResults } from '../../src/calibrate/results-store.js';
import {
  better,
  boundaryOptima,
  calibrateParams,
  calibrationSpecFrom,
  scoreRow,
  targetOutcomes,
  targetPenalty,
} from '../../src/calibrate/targets.js';
import { modelParams } from '../../src/model/params.js';

const dir = mkdtempSync(join(tmpdir(), 'spikeloop-targets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('targets', () => {
  it('scores values against a centre ± tolerance and against bounds', () => {
    expect(targetPenalty(3, { value: 3, tolerance: 0.5 })).toEqual({ penalty: 0, met: true });
    expect(targetPenalty(3.5, { value: 3, tolerance: 0.5 })).toEqual({ penalty: 1, met: true });
    expect(targetPenalty(4, { value: 3, tolerance: 0.5 })).toEqual({ penalty: 4, met: false });
    expect(targetPenalty(0.5, { min: 1 }).met).toBe(false);
    expect(targetPenalty(2, { min: 1 })).toEqual({ penalty: 0, met: true });
    expect(targetPenalty(null, { min: 1 })).toEqual({ penalty: 100, met: false });
    const targets = { rateE: { value: 3, tolerance: 0.5 }, switchingRateHz: { min: 0.5 } };
    expect(scoreRow({ rateE: 3.2, switchingRateHz: 2 } as never, targets).met).toBe(true);
    expect(scoreRow({ rateE: 3.2, switchingRateHz: 0 } as never, targets).met).toBe(false);
    // A point meeting every target beats a closer one that misses a bound.
    expect(better({ loss: 0.9, met: true }, { loss: 0.1, met: false })).toBe(true);
    expect(better({ loss: 0.2, met: true }, { loss: 0.1, met: true })).toBe(false);
  });

  it('names each target as met or missed, and search keys whose best value lies on an edge', () => {
    const targets = {
      rateE: { value: 3, tolerance: 0.5 },
      switchingRateHz: { min: 0.5 },
      rateI: { max: 20 },
    };
    expect(targetOutcomes({ rateE: 3.2, switchingRateHz: 0, rateI: null } as never, targets)).toEqual([
      { metric: 'rateE', achieved: 3.2, target: '3 ± 0.5', met: true, penalty: expect.closeTo(0.16, 9) },
      { metric: 'switchingRateHz', achieved: 0, target: '≥ 0.5', met: false, penalty: 2 },
      { metric: 'rateI', achieved: null, target: '≤ 20', met: false, penalty: 100 },
    ]);
    const search = { jEPlus: { min: 2, max: 12 }, gE: { min: 1, max: 2 }, gI: { min: 1, max: 1 } };
    expect(boundaryOptima(search, { jEPlus: 12, gE: 1.5, gI: 1 })).toEqual([
      { key: 'jEPlus', value: 12, edge: 'max', min: 2, max: 12 },
    ]);
    expect(boundaryOptima(search, { jEPlus: 2, gE: 1 }).map((e) => `${e.key} ${e.edge}`)).toEqual([
      'jEPlus min',
      'gE min',
    ]);
  });

  it('names the bad key of a targets file', () => {
    expect(() =>
      calibrationSpecFrom(
        { search: { jEPlus: { min: 1, max: 5 } }, targets: { rate: { min: 1 } } },
        't.yaml',
      ),
    ).toThrow(/t\.yaml: targets: unknown key "rate"/);
    expect(() =>
      calibrationSpecFrom({ search: { seed: { min: 1, max: 5 } }, targets: { rateE: { min: 1 } } }, 't.yaml'),
    ).toThrow(/search: unknown key "seed"/);
    expect(() =>
      calibrationSpecFrom({ search: { gE: { min: 2, max: 1 } }, targets: { rateE: { min: 1 } } }, 't.yaml'),
    ).toThrow(/search\.gE: max must be ≥ min/);
  });

  it('finds the best point by a coarse grid and a refinement around it, and writes a loadable params file', async () => {
    const spec = calibrationSpecFrom(
      {
        n: 500,
        duration: 0.3,
        warmup: 0.1,
        backend: 'cpu',
        params: { seed: 3 },
        search: { backgroundThresholdE: { min: 1.6, max: 2.4 } },
        coarseSteps: 3,
        refine: { rounds: 1, steps: 3 },
        targets: { rateE: { value: 8, tolerance: 2 } },
      },
      'targets',
    );
    const result = await calibrateParams(spec, join(dir, 'search'));
    expect(result.rounds).toHaveLength(2);
    expect(result.rounds[0]!.ranges.backgroundThresholdE).toEqual({ min: 1.6, max: 2.4 });
    // Round 1 spans one coarse spacing (0.4) either side of the coarse best, inside the bounds.
    const coarseBest = result.rounds[0]!.bestValues.backgroundThresholdE!;
    expect(result.rounds[1]!.ranges.backgroundThresholdE).toEqual({
      min: Math.max(1.6, coarseBest - 0.4),
      max: Math.min(2.4, coarseBest + 0.4),
    });
    // The chosen point is the best of everything simulated: met targets first, then the lowest loss.
    const all = [0, 1].flatMap((round) => [...readResults(join(dir, 'search', `round-${round}`)).values()]);
    for (const row of all) {
      const score = scoreRow(row, spec.targets);
      if (score.met === result.met) expect(score.loss).toBeGreaterThanOrEqual(result.loss);
      else expect(result.met).toBe(true);
    }
    expect(result.params.seed).toBe(3);

    const path = join(dir, 'params.yaml');
    writeModelParamsFile(path, {
      model: 'ei-clustered',
      n: 500,
      params: result.params,
      achieved: { rateE: result.best.rateE },
      targetsMet: result.met,
    });
    const loaded = loadModelParamsFile(path);
    expect(loaded.params).toEqual(result.params);
    expect(modelParams(loaded.model, loaded.n, loaded.params).backgroundThresholdE).toBe(
      result.params.backgroundThresholdE,
    );
    expect(readFileSync(path, 'utf8')).toMatch(/^# spikeloop model parameters/);
  });

  it('rejects a params file with an unknown or invalid parameter, naming it', () => {
    const unknown = join(dir, 'unknown.yaml');
    writeFileSync(unknown, 'n: 1000\nparams:\n  jEPlsu: 3\n');
    expect(() => loadModelParamsFile(unknown)).toThrow(/unknown\.yaml: params: unknown key "jEPlsu"/);
    const invalid = join(dir, 'invalid.yaml');
    writeFileSync(invalid, 'n: 1000\nparams:\n  pEE: 1.5\n');
    expect(() => loadModelParamsFile(invalid)).toThrow(/invalid\.yaml: invalid parameter pEE/);
  });
});
