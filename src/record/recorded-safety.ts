/**
 * The loop's stale-input safety settings in a recording, and how a replay takes the recorded
 * decisions again.
 *
 * Whether an input was stale depends on when its samples arrived relative to the loop's
 * clock, which an offline run on a virtual clock does not reproduce. The recording keeps, per tick
 * and output, what the policy did (command, stop, hold); the replay marks as stale (through
 * `SensorSource.isLive`) every input that no output commanding normally depended on, and turns off
 * staleness by age. The loop's own SafetyGuard then takes the recorded decisions again: the same
 * stops and, with the same network, the same held commands.
 */
import { DEFAULT_STALE_AFTER_MS, type SafetySettings } from '../loop/safety.js';
import type { RecordedSafety } from './channels.js';
import type { RecordedTick } from './reader.js';

/** The loop's safety settings as they go into a recording's metadata. */
export function recordSafety(settings: SafetySettings): RecordedSafety {
  const ms = (value: number) => (Number.isFinite(value) ? value : null);
  return {
    staleAfterMs: Object.fromEntries(
      Object.entries(settings.staleAfterMs ?? {}).map(([name, value]) => [name, ms(value)]),
    ),
    defaultStaleAfterMs: ms(settings.defaultStaleAfterMs ?? DEFAULT_STALE_AFTER_MS),
    onStale: { ...(settings.onStale ?? {}) },
    defaultOnStale: settings.defaultOnStale ?? 'stop',
    dependsOn: Object.fromEntries(
      Object.entries(settings.dependsOn ?? {}).map(([name, inputs]) => [name, [...inputs]]),
    ),
  };
}

/**
 * A timeout no offline run reaches (ms, ≈ 30 years): inputs stay guarded (their policy applies when
 * the replay marks them stale) but never go stale by age on the virtual clock.
 */
const NEVER_BY_AGE_MS = 1e12;

/** The replay loop's safety settings: the recorded policies, staleness only as the recording says. */
export function replaySafety(recorded: RecordedSafety): SafetySettings {
  const timeout = (value: number | null) => (value === null ? Number.POSITIVE_INFINITY : NEVER_BY_AGE_MS);
  return {
    staleAfterMs: Object.fromEntries(
      Object.entries(recorded.staleAfterMs).map(([name, value]) => [name, timeout(value)]),
    ),
    defaultStaleAfterMs: timeout(recorded.defaultStaleAfterMs),
    onStale: recorded.onStale,
    defaultOnStale: recorded.defaultOnStale,
    dependsOn: recorded.dependsOn,
  };
}

/**
 * The inputs to treat as stale in this tick: every input except those an output that sent its
 * decoded command under a `stop`/`hold` policy depends on. In the recorded run the stale inputs
 * were such a set, so each output the policy stopped or held depends on one of these too.
 */
export function staleInputsOf(
  tick: RecordedTick,
  inputs: readonly string[],
  safety: RecordedSafety,
): Set<string> {
  const stale = new Set(inputs);
  for (const [output, action] of tick.actions) {
    const policy = safety.onStale[output] ?? safety.defaultOnStale;
    if (action !== 'command' || policy === 'continue') continue;
    for (const input of safety.dependsOn[output] ?? inputs) stale.delete(input);
  }
  return stale;
}
