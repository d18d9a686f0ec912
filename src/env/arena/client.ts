/**
 * The built-in arena as an external simulator: it connects to a bridge, declares the arena's
 * sensor channels ("ranges", "target") and motor channel ("cmd_vel"), and exchanges frames exactly
 * as any other simulator would. Two ways to keep time:
 * - lockstep: one physics step per motor frame, then the next sensor frame (deterministic: the
 *   trajectory equals the in-process arena's for the same seed and commands);
 * - realtime: steps on its own clock at `rateHz`, applying the newest motor command, like a
 *   physics engine or a real robot would.
 * Either way it measures sensor→motor round trips per frame on its own clock: a motor frame's seq
 * names the newest sensor frame it reflects.
 */
import * as hdr from 'hdr-histogram-js';
import { BridgeClient } from '../../io/ws/client.js';
import type { ChannelSpec, MotorFrame } from '../../io/ws/protocol.js';
import { arenaView } from './view.js';
import { Arena, type ArenaConfig, DEFAULT_ARENA, type RobotState } from './world.js';

export type ArenaClock = { mode: 'lockstep' } | { mode: 'realtime'; rateHz: number };

export interface ArenaClientOptions {
  url: string;
  token?: string;
  arena?: ArenaConfig;
  clock: ArenaClock;
  /** Stop after this many physics steps (default: run until closed). */
  maxSteps?: number;
  /** Records the robot pose after every step (for trajectory comparisons). */
  recordTrajectory?: boolean;
  log?: (line: string) => void;
}

export interface ArenaClientResult {
  steps: number;
  sensorSent: number;
  /** Sensor frames that no motor frame ever reflected (superseded on either side, or lost). */
  sensorUnanswered: number;
  /** Sensor frames dropped by the client's newest-wins sender. */
  sensorDropped: number;
  motorReceived: number;
  /** Round trip (µs) from sending a sensor frame to the first motor frame reflecting it. */
  rttUs: { count: number; p50: number; p99: number; p999: number; max: number };
  collisions: number;
  targetsReached: number;
  reconnects: number;
  skippedSteps: number;
  trajectory: RobotState[];
}

/** Send times of the last 2^16 sensor frames, indexed by seq. */
const SEND_RING = 1 << 16;

export class ArenaClient {
  readonly arena: Arena;
  private readonly client: BridgeClient;
  private readonly sentUs = new Float64Array(SEND_RING);
  private answeredSeq = -1;
  private answered = 0;
  private motorReceived = 0;
  private steps = 0;
  private readonly rtt = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
  });
  private readonly trajectory: RobotState[] = [];
  private readonly command = new Float32Array(2);
  private hasCommand = false;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  /** Realtime mode: steps not simulated after a stall longer than the catch-up allowance. */
  private skippedSteps = 0;
  private finished: (() => void) | null = null;
  private readonly done: Promise<void>;
  private readonly tickDtS: { value: number } = { value: 0.001 };

  constructor(private readonly options: ArenaClientOptions) {
    this.arena = new Arena(options.arena ?? DEFAULT_ARENA);
    this.done = new Promise((resolve) => {
      this.finished = resolve;
    });
    const rateHz = options.clock.mode === 'realtime' ? options.clock.rateHz : 1000;
    this.sendWorldEvery = Math.max(1, Math.round(rateHz / 20));
    const sensors: ChannelSpec[] = [
      { name: 'ranges', size: this.arena.config.sensors.anglesRad.length, rateHz },
      { name: 'target', size: 2, rateHz },
    ];
    this.client = new BridgeClient({
      url: options.url,
      role: 'simulator',
      name: 'spikeloop arena',
      token: options.token,
      sensors,
      motors: [{ name: 'cmd_vel', size: 2, rateHz }],
      onConfig: (config) => {
        this.tickDtS.value = config.tickMs / 1000;
        options.log?.(
          `arena: connected to ${options.url} (session ${config.session}, tick ${config.tickMs} ms)`,
        );
        // The bridge needs a first observation before it can command anything.
        if (options.clock.mode === 'lockstep') this.sendSensors();
      },
      onMotor: (frame, arrivalUs) => this.onMotor(frame, arrivalUs),
      onError: (error) => options.log?.(`arena: bridge error ${error.code}: ${error.message}`),
      onClose: (code) => options.log?.(`arena: connection closed (${code})`),
    });
  }

  /** Waits for the first config; then runs until maxSteps or close(). */
  async run(): Promise<ArenaClientResult> {
    // Closed before a bridge ever answered: the run ends with nothing stepped instead of waiting on.
    await Promise.race([this.client.ready(), this.done]);
    if (!this.client.connected) return this.result();
    if (this.options.clock.mode === 'realtime') this.startRealtime(this.options.clock.rateHz);
    await this.done;
    return this.result();
  }

  async close(): Promise<void> {
    this.stop();
    await this.client.close();
  }

  result(): ArenaClientResult {
    const state = this.arena.state();
    const at = (p: number) => (this.rtt.totalCount === 0 ? 0 : this.rtt.getValueAtPercentile(p));
    return {
      steps: this.steps,
      sensorSent: this.client.stats.sensorSent,
      sensorUnanswered: this.client.stats.sensorSent - this.answered,
      sensorDropped: this.client.stats.sensorDropped,
      motorReceived: this.motorReceived,
      rttUs: { count: this.rtt.totalCount, p50: at(50), p99: at(99), p999: at(99.9), max: this.rtt.maxValue },
      collisions: state.collisions,
      targetsReached: state.targetsReached,
      reconnects: this.client.stats.reconnects,
      skippedSteps: this.skippedSteps,
      trajectory: this.trajectory,
    };
  }

  private stop(): void {
    this.running = false;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.finished?.();
  }

  /** World frames for dashboards, about 20 per second of simulated time. */
  private sendWorldEvery = 50;
  private lastWorldStep = -1;

  private sendSensors(): void {
    if (this.lastWorldStep < 0 || this.steps - this.lastWorldStep >= this.sendWorldEvery) {
      if (this.client.sendWorld(arenaView(this.arena.scene(), this.arena.state())))
        this.lastWorldStep = this.steps;
    }
    const seq = this.client.sendSensor([this.arena.ranges(), this.arena.targetSensor()]);
    if (seq >= 0) this.sentUs[seq % SEND_RING] = performance.now() * 1000;
  }

  private onMotor(frame: MotorFrame, arrivalUs: number): void {
    this.motorReceived++;
    if (frame.seq > this.answeredSeq) {
      // Only the first motor frame reflecting a sensor frame measures its round trip.
      if (this.client.nextSeq - frame.seq < SEND_RING) {
        this.rtt.recordValue(Math.max(0, Math.round(arrivalUs - this.sentUs[frame.seq % SEND_RING]!)));
      }
      this.answeredSeq = frame.seq;
      this.answered++;
    }
    const values = frame.v[0];
    if (values !== null && values !== undefined) {
      this.command.set(values);
      this.hasCommand = true;
    }
    if (this.options.clock.mode === 'lockstep' && !this.reachedMaxSteps()) {
      this.step(this.tickDtS.value);
      this.sendSensors();
    }
  }

  private reachedMaxSteps(): boolean {
    return this.options.maxSteps !== undefined && this.steps >= this.options.maxSteps;
  }

  private step(dtS: number): void {
    // Motor frames still in flight after the last step must not step the world again (`--steps
    // 500` writes exactly 500 trajectory lines).
    if (this.reachedMaxSteps()) return;
    if (this.hasCommand) {
      try {
        this.arena.setCommand(this.command);
      } catch (error) {
        // Like the in-process sink: a bad command is reported and the previous one is kept.
        this.options.log?.(`arena: command refused: ${(error as Error).message}`);
      }
    }
    this.arena.step(dtS);
    this.steps++;
    if (this.options.recordTrajectory) this.trajectory.push({ ...this.arena.state().robot });
    if (this.options.maxSteps !== undefined && this.steps >= this.options.maxSteps) this.stop();
  }

  /**
   * Steps at absolute deadlines k/rateHz: the world advances in real time. A late wake-up runs the
   * steps that came due (catch-up, so simulated time keeps pace with the wall clock) and sends one
   * sensor frame with the resulting state. Waiting is done on timers, not by spinning: on a small
   * machine a spinning simulator would steal the core the bridge's tick needs.
   */
  private startRealtime(rateHz: number): void {
    const periodUs = 1e6 / rateHz;
    const startUs = performance.now() * 1000;
    // At most this many catch-up steps per wake-up: after a long stall the world jumps ahead
    // instead of freezing the process while it replays seconds of physics.
    const maxCatchUp = Math.max(1, Math.round(rateHz / 10));
    let k = 0;
    this.running = true;
    const tick = () => {
      if (!this.running) return;
      const nowUs = performance.now() * 1000;
      const due = Math.floor((nowUs - startUs) / periodUs) + 1;
      if (due > k) {
        const steps = Math.min(due - k, maxCatchUp);
        for (let s = 0; s < steps && this.running; s++) this.step(1 / rateHz);
        this.skippedSteps += due - k - steps;
        k = due;
        this.sendSensors();
      }
      if (!this.running) return;
      const waitUs = startUs + k * periodUs - performance.now() * 1000;
      if (waitUs > 300) this.timer = setTimeout(tick, waitUs / 1000);
      else setImmediate(tick);
    };
    setImmediate(tick);
  }
}
