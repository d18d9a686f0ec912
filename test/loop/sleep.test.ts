import { describe, expect, it } from 'vitest';
import { monotonicUs, preciseSleeper } from '../../src/loop/sleep.js';

describe('preciseSleeper', () => {
  for (const mayBlock of [true, false]) {
    it(`never returns before the deadline and keeps the event loop turning (mayBlock ${mayBlock})`, async () => {
      const sleep = preciseSleeper();
      let turns = 0;
      let running = true;
      const spinEventLoop = () => {
        turns += 1;
        if (running) setImmediate(spinEventLoop);
      };
      setImmediate(spinEventLoop);
      for (const aheadUs of [0, 50, 700, 4500]) {
        const deadlineUs = monotonicUs() + aheadUs;
        await sleep(deadlineUs, mayBlock);
        expect(monotonicUs()).toBeGreaterThanOrEqual(deadlineUs);
      }
      running = false;
      // Other work (here a setImmediate chain standing for socket callbacks) ran during the waits.
      expect(turns).toBeGreaterThan(2);
    });
  }
});
