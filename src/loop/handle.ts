/**
 * What the rest of the bridge (the dashboard, Foxglove, recordings, ROS 2 telemetry, reports) uses
 * of a running loop. TickLoop provides it in-process; TickThread (src/loop/tick-thread/host.ts)
 * provides it on the main thread while the tick runs on a thread of its own.
 */
import type { Engine } from '../engine/engine.js';
import type { TelemetryFeed } from '../telemetry/live.js';
import type { LoopTelemetry } from '../telemetry/loop-telemetry.js';
import type { TickObserver } from './observer.js';
import type { SafetyState } from './safety.js';

export interface LoopHandle {
  readonly telemetry: LoopTelemetry;
  readonly feed: TelemetryFeed;
  /** Simulation substeps per tick. */
  readonly substeps: number;
  readonly safety: { state(): SafetyState };
  /** Streams the spikes of instance 0 into `feed` while at least one consumer asks for them. */
  streamSpikes(enabled: boolean): void;
  /** Observers are told about every tick; they must copy what they keep and return quickly. */
  addObserver(observer: TickObserver): void;
  removeObserver(observer: TickObserver): void;
  /** Stops after the current tick; `run` then resolves. */
  stop(): void;
  run(maxTicks?: number): Promise<void>;
}

/** What the bridge shows of the engine (summary, report, dashboard, recording description). */
export type EngineInfo = Pick<Engine, 'backend' | 'adapter' | 'layout'>;
