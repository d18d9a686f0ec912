import { describe, expect, it } from 'vitest';
import { SafetyError, SafetyGuard, safetyFromSettings } from '../../src/loop/safety.js';

describe('SafetyGuard (stale inputs → stop/hold/continue per output)', () => {
  it('stops before the first sample, resumes when it arrives, stops again after the timeout; logs each change once', () => {
    const log: string[] = [];
    const guard = new SafetyGuard([{ name: 'scan' }], ['cmd_vel'], { staleAfterMs: { scan: 500 } }, (m) =>
      log.push(m),
    );
    guard.evaluate(0);
    guard.evaluate(1000);
    expect(guard.action(0)).toBe('stop');
    guard.noteSample(0, 1500);
    guard.evaluate(1600);
    expect(guard.action(0)).toBe('command');
    guard.evaluate(501_000);
    expect(guard.action(0)).toBe('command');
    guard.evaluate(501_600);
    expect(guard.action(0)).toBe('stop');
    guard.evaluate(900_000);
    expect(log).toEqual([
      'safety: cmd_vel → stop: no scan sample yet',
      'safety: cmd_vel resumes: scan fresh again',
      'safety: cmd_vel → stop: scan stale (no sample for 500 ms > 500 ms)',
    ]);
    expect(guard.state()).toEqual({ staleInputs: ['scan'], outputs: { cmd_vel: 'stop' }, incidents: 2 });
  });

  it('hold, continue and dependsOn; an offline source is stale at once', () => {
    let live = true;
    const guard = new SafetyGuard(
      [{ name: 'joints' }, { name: 'camera', isLive: () => live }],
      ['arm', 'wheels', 'lamp'],
      { onStale: { arm: 'hold', lamp: 'continue' }, dependsOn: { arm: ['joints'] } },
      () => {},
    );
    guard.noteSample(0, 0);
    guard.noteSample(1, 0);
    guard.evaluate(10);
    expect([guard.action(0), guard.action(1), guard.action(2)]).toEqual(['command', 'command', 'command']);
    live = false;
    guard.evaluate(20);
    // The arm depends on joints only; wheels on both; the lamp continues regardless.
    expect([guard.action(0), guard.action(1), guard.action(2)]).toEqual(['command', 'stop', 'command']);
    guard.evaluate(600_000);
    expect(guard.action(0)).toBe('hold');
  });

  it('rejects names that are not inputs or outputs, and bad settings, naming them', () => {
    expect(
      () => new SafetyGuard([{ name: 'scan' }], ['cmd_vel'], { staleAfterMs: { lidar: 100 } }, () => {}),
    ).toThrow(/"lidar", which is not an input \(inputs: scan\)/);
    expect(
      () => new SafetyGuard([{ name: 'scan' }], ['cmd_vel'], { onStale: { arm: 'hold' } }, () => {}),
    ).toThrow(SafetyError);
    expect(() => safetyFromSettings({ onStale: 'brake' })).toThrow(
      /onStale: expected stop, hold or continue/,
    );
    expect(() => safetyFromSettings({ staleAfterMs: '-1' })).toThrow(/milliseconds > 0 or "off"/);
    const { safety, consumed } = safetyFromSettings({
      staleAfterMs: 'off',
      'onStale.cmd_vel': 'hold',
      port: 1,
    });
    expect(safety.defaultStaleAfterMs).toBe(Number.POSITIVE_INFINITY);
    expect(safety.onStale).toEqual({ cmd_vel: 'hold' });
    expect([...consumed]).toEqual(['staleAfterMs', 'onStale.cmd_vel']);
  });
});
