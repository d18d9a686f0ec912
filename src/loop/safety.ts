/**
 * The safety policy on stale inputs, one mechanism for every environment (ROS 2, the ws protocol,
 * the arena, synthetic): each input has a staleness timeout; each output a policy for while any
 * input it depends on is stale or has never delivered a sample:
 *   - `stop`: a zero command (the default: velocity outputs, a robot that cannot see must not move),
 *   - `hold`: the last command again (position outputs, where zeros would move the joints to 0 rad),
 *   - `continue`: the decoded command as if nothing happened.
 * Entering and leaving the state is logged once per output and shown in telemetry (and in ROS 2
 * diagnostics). A source may also report itself offline (a ws simulator that disconnected): then
 * its input is stale at once, without waiting for the timeout.
 */

export const STALE_POLICIES = ['stop', 'hold', 'continue'] as const;
export type StalePolicy = (typeof STALE_POLICIES)[number];

/** What the loop sends on an output this tick. */
export type SafetyAction = 'command' | 'stop' | 'hold';

/** The default staleness timeout of an input (ms) when neither the environment nor settings give one. */
export const DEFAULT_STALE_AFTER_MS = 500;

/** An environment's safety settings; anything left out takes the defaults above. */
export interface SafetySettings {
  /** Per input name: ms without a new sample after which it is stale; Infinity = never stale. */
  staleAfterMs?: Readonly<Record<string, number>>;
  /** For inputs not named in staleAfterMs. */
  defaultStaleAfterMs?: number;
  /** Per output name. */
  onStale?: Readonly<Record<string, StalePolicy>>;
  /** For outputs not named in onStale (default `stop`). */
  defaultOnStale?: StalePolicy;
  /** Per output name: the inputs it depends on (default: every guarded input). */
  dependsOn?: Readonly<Record<string, readonly string[]>>;
}

/** The state as telemetry shows it. */
export interface SafetyState {
  /** Inputs that are stale now (never arrived, silent beyond their timeout, or offline). */
  staleInputs: string[];
  /** Per output: what it sends now. */
  outputs: Record<string, SafetyAction>;
  /** How many times any output entered its stale policy. */
  incidents: number;
}

interface GuardInput {
  name: string;
  staleAfterUs: number;
  /** NaN until the first sample (a number field, so updating it allocates nothing). */
  lastArrivalUs: number;
  isLive: (() => boolean) | undefined;
  stale: boolean;
  /** Why it is stale, as data: the message is built only when it is logged. */
  reason: 'offline' | 'none yet' | 'silent';
  ageUs: number;
}

interface GuardOutput {
  name: string;
  policy: StalePolicy;
  inputs: GuardInput[];
  action: SafetyAction;
}

function reasonOf(input: GuardInput): string {
  if (input.reason === 'offline') return `${input.name} offline`;
  if (input.reason === 'none yet') return `no ${input.name} sample yet`;
  return `${input.name} stale (no sample for ${Math.round(input.ageUs / 1000)} ms > ${input.staleAfterUs / 1000} ms)`;
}

export class SafetyError extends Error {
  override name = 'SafetyError';
}

/**
 * Tracks input freshness and decides each output's action. Driven by the loop: `noteSample` when an
 * input delivers, `evaluate` once per tick before the commands are written.
 */
export class SafetyGuard {
  private readonly inputs: GuardInput[];
  private readonly outputs: GuardOutput[];
  private readonly byName: Map<string, GuardInput>;
  private startUs: number | null = null;
  private nowUs = Number.NaN;
  private incidents = 0;

  constructor(
    inputs: readonly { name: string; isLive?: () => boolean }[],
    outputNames: readonly string[],
    settings: SafetySettings,
    private readonly log: (message: string) => void,
  ) {
    const defaultStale = settings.defaultStaleAfterMs ?? DEFAULT_STALE_AFTER_MS;
    for (const name of Object.keys(settings.staleAfterMs ?? {})) {
      if (!inputs.some((input) => input.name === name)) {
        throw new SafetyError(
          `staleness timeout for "${name}", which is not an input (inputs: ${inputs.map((i) => i.name).join(', ') || 'none'})`,
        );
      }
    }
    this.inputs = inputs.map((input) => {
      const ms = settings.staleAfterMs?.[input.name] ?? defaultStale;
      if (!(ms > 0)) throw new SafetyError(`input "${input.name}": staleAfterMs must be > 0, got ${ms}`);
      return {
        name: input.name,
        staleAfterUs: ms * 1000,
        lastArrivalUs: Number.NaN,
        isLive: input.isLive,
        stale: false,
        reason: 'silent',
        ageUs: Number.NaN,
      };
    });
    this.byName = new Map(this.inputs.map((input) => [input.name, input]));
    for (const name of [...Object.keys(settings.onStale ?? {}), ...Object.keys(settings.dependsOn ?? {})]) {
      if (!outputNames.includes(name)) {
        throw new SafetyError(
          `stale policy for "${name}", which is not an output (outputs: ${outputNames.join(', ') || 'none'})`,
        );
      }
    }
    const guarded = this.inputs.filter((input) => Number.isFinite(input.staleAfterUs));
    this.outputs = outputNames.map((name) => {
      const policy = settings.onStale?.[name] ?? settings.defaultOnStale ?? 'stop';
      if (!STALE_POLICIES.includes(policy)) {
        throw new SafetyError(`output "${name}": onStale must be stop, hold or continue, got "${policy}"`);
      }
      const depends = settings.dependsOn?.[name];
      const dependsOn =
        depends === undefined
          ? guarded
          : depends.map((inputName) => {
              const input = this.byName.get(inputName);
              if (!input) {
                throw new SafetyError(
                  `output "${name}" depends on "${inputName}", which is not an input (inputs: ${this.inputs.map((i) => i.name).join(', ')})`,
                );
              }
              return input;
            });
      return { name, policy, inputs: dependsOn, action: 'command' };
    });
  }

  /**
   * An input delivered `sample` (the loop's form of noteSample: the arrival time is read here, so
   * no number crosses a call on the tick path, where passing one may allocate a box for it).
   */
  noteSampleOf(inputIndex: number, sample: { readonly arrivalUs: number }): void {
    const input = this.inputs[inputIndex];
    const arrivalUs = sample.arrivalUs;
    if (input && (Number.isNaN(input.lastArrivalUs) || arrivalUs > input.lastArrivalUs))
      input.lastArrivalUs = arrivalUs;
  }

  /** An input delivered a sample that arrived at `arrivalUs` (monotonic µs). */
  noteSample(inputIndex: number, arrivalUs: number): void {
    this.noteSampleOf(inputIndex, { arrivalUs });
  }

  /**
   * Updates every input's staleness and every output's action at `nowUs`; logs each output's entry
   * into and exit from its stale policy once. A sample that arrived before the loop started counts
   * as arriving at its start: set-up and warm-up time is not the sensor's silence.
   */
  evaluate(nowUs: number): void {
    this.nowUs = nowUs;
    this.evaluateStored();
  }

  /** evaluate(clock()) for the tick: the time is read here rather than passed (see noteSampleOf). */
  evaluateAt(clock: () => number): void {
    this.nowUs = clock();
    this.evaluateStored();
  }

  private evaluateStored(): void {
    const nowUs = this.nowUs;
    this.startUs ??= nowUs;
    // Index loops and reasons kept as data: evaluating every tick allocates nothing.
    for (let i = 0; i < this.inputs.length; i++) {
      const input = this.inputs[i]!;
      if (!Number.isFinite(input.staleAfterUs)) {
        input.stale = false;
        continue;
      }
      if (input.isLive?.() === false) {
        input.stale = true;
        input.reason = 'offline';
      } else if (Number.isNaN(input.lastArrivalUs)) {
        input.stale = true;
        input.reason = 'none yet';
      } else {
        const ageUs = nowUs - Math.max(input.lastArrivalUs, this.startUs);
        input.stale = ageUs > input.staleAfterUs;
        input.reason = 'silent';
        input.ageUs = ageUs;
      }
    }
    for (let o = 0; o < this.outputs.length; o++) {
      const output = this.outputs[o]!;
      let staleInput: GuardInput | undefined;
      for (let i = 0; i < output.inputs.length && staleInput === undefined; i++) {
        if (output.inputs[i]!.stale) staleInput = output.inputs[i];
      }
      const action: SafetyAction =
        staleInput === undefined || output.policy === 'continue' ? 'command' : output.policy;
      if (staleInput !== undefined && output.action === 'command' && output.policy !== 'continue') {
        this.incidents++;
        this.log(`safety: ${output.name} → ${output.policy}: ${reasonOf(staleInput)}`);
      } else if (staleInput === undefined && output.action !== 'command') {
        this.log(
          `safety: ${output.name} resumes: ${output.inputs.map((i) => i.name).join(', ')} fresh again`,
        );
      }
      output.action = action;
    }
  }

  action(outputIndex: number): SafetyAction {
    return this.outputs[outputIndex]?.action ?? 'command';
  }

  /** Whether input `inputIndex` was stale at the last evaluate (read without allocating). */
  inputStale(inputIndex: number): boolean {
    return this.inputs[inputIndex]?.stale ?? false;
  }

  /** How many times any output entered its stale policy so far. */
  get incidentCount(): number {
    return this.incidents;
  }

  state(): SafetyState {
    const outputs: Record<string, SafetyAction> = {};
    for (const output of this.outputs) outputs[output.name] = output.action;
    return {
      staleInputs: this.inputs.filter((input) => input.stale).map((input) => input.name),
      outputs,
      incidents: this.incidents,
    };
  }
}

/**
 * Safety settings from `--env-set` keys, the same for every environment: `staleAfterMs=MS` (every
 * input; `off` = never stale), `staleAfterMs.INPUT=MS`, `onStale=stop|hold|continue` (every
 * output), `onStale.OUTPUT=…`. Returns the settings and the keys it consumed.
 */
export function safetyFromSettings(
  settings: Readonly<Record<string, string | number | boolean>> | undefined,
  base: SafetySettings = {},
): { safety: SafetySettings; consumed: Set<string> } {
  const consumed = new Set<string>();
  const staleAfterMs: Record<string, number> = { ...base.staleAfterMs };
  const onStale: Record<string, StalePolicy> = { ...base.onStale };
  let defaultStaleAfterMs = base.defaultStaleAfterMs;
  let defaultOnStale = base.defaultOnStale;
  const ms = (key: string, value: string | number | boolean): number => {
    if (value === 'off') return Number.POSITIVE_INFINITY;
    const n = Number(value);
    if (typeof value === 'boolean' || !(n > 0) || !Number.isFinite(n)) {
      throw new SafetyError(`setting ${key}: expected milliseconds > 0 or "off", got "${String(value)}"`);
    }
    return n;
  };
  const policy = (key: string, value: string | number | boolean): StalePolicy => {
    if (!STALE_POLICIES.includes(value as StalePolicy)) {
      throw new SafetyError(`setting ${key}: expected stop, hold or continue, got "${String(value)}"`);
    }
    return value as StalePolicy;
  };
  for (const [key, value] of Object.entries(settings ?? {})) {
    if (key === 'staleAfterMs') defaultStaleAfterMs = ms(key, value);
    else if (key.startsWith('staleAfterMs.'))
      staleAfterMs[key.slice('staleAfterMs.'.length)] = ms(key, value);
    else if (key === 'onStale') defaultOnStale = policy(key, value);
    else if (key.startsWith('onStale.')) onStale[key.slice('onStale.'.length)] = policy(key, value);
    else continue;
    consumed.add(key);
  }
  return {
    safety: { ...base, staleAfterMs, onStale, defaultStaleAfterMs, defaultOnStale },
    consumed,
  };
}
