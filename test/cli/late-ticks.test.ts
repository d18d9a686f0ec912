/** bench loop's late-tick causes: overrun of the previous tick versus a late wake-up of an idle tick thread. */
import { describe, expect, it } from 'vitest';
import { LateTickCauses } from '../../src/cli/late-ticks.js';
import type { TickEvent } from '../../src/loop/observer.js';

function tick(slot: number, startUs: number, latenessUs: number, computeUs: number): TickEvent {
  return {
    index: slot,
    slot,
    startUs,
    latenessUs,
    computeUs,
    firstStep: slot * 10,
    substeps: 10,
    inputs: [],
    currentsPa: new Float32Array(0),
    counts: new Uint32Array(0),
    outputs: [],
  };
}

describe('LateTickCauses', () => {
  it('tells a tick delayed by the previous tick’s overrun from one whose idle thread woke late', () => {
    const causes = new LateTickCauses(1000);
    // Slot 0 on time; slot 1 due at 2000 but slot 0 computed until 2600: an overrun.
    causes.onTick(tick(0, 1000, 0, 1600));
    causes.onTick(tick(1, 2600, 600, 100));
    // Slot 2 due at 3000, the previous tick ended at 2700: the thread slept and woke 400 µs late.
    causes.onTick(tick(2, 3400, 400, 100));
    // Slot 3 on time (100 µs: under the ¼-tick threshold).
    causes.onTick(tick(3, 4100, 100, 100));
    // Slots 4 and 5 dropped (skip policy): slot 6 runs 300 µs into its slot; it was due at 5000,
    // and the previous tick had ended at 4200: a late wake-up of 2.3 ms.
    causes.onTick(tick(6, 7300, 300, 100));
    expect(causes.result()).toEqual({
      lateTicks: 3,
      lateAfterOverrun: 1,
      lateWakeup: 2,
      lateThresholdUs: 250,
    });
  });
});
