/** The few messages between the main thread and the tick thread (never one per tick). */
import type { BackendChoice, BackendName, ConnectivityMode } from '../../engine/engine.js';
import type { Layout } from '../../model/network.js';
import type { ModelName, ModelParams } from '../../model/params.js';
import type { CodecSpec } from '../ports.js';
import type { SafetySettings } from '../safety.js';
import type { LatePolicy } from '../schedule.js';
import type { AllocationMeasure } from './alloc-meter.js';
import type { TickThreadBuffers, TickThreadShape } from './shared.js';

export type TickThreadEnvPlan =
  | {
      /** A pure in-process environment (synthetic, arena), created inside the tick thread. */
      kind: 'in-thread';
      name: string;
      settings: Record<string, string | number | boolean>;
      seed: number;
      token?: string;
    }
  | {
      /** An external environment: transports stay on the main thread, codecs run in the tick. */
      kind: 'external';
      name: string;
      codecs: CodecSpec;
      sources: { name: string; size?: number }[];
      sinks: string[];
    };

export interface TickThreadSetup {
  control: SharedArrayBuffer;
  engine: {
    backend: BackendChoice;
    model: ModelName;
    n: number;
    modelOverrides?: Partial<ModelParams>;
    seed: number;
    threads?: number;
    connectivity?: ConnectivityMode;
    warmupTicks: number;
    /** The tick thread is asked to run at FIFO priority (the CPU engine's workers block at any priority). */
    realtime?: boolean;
  };
  tickMs: number;
  latePolicy: LatePolicy;
  /** The sleeper's final busy wait before each deadline (µs); default DEFAULT_SLEEP.spinUs. */
  spinUs?: number;
  safety?: SafetySettings;
  env: TickThreadEnvPlan;
  recordCapacity?: number;
  spikeCapacity?: number;
}

export type { AllocationMeasure, CodecSpec };

export type ToTick = { kind: 'run'; maxTicks: number } | { kind: 'dispose' };

/** Garbage collections of the tick thread's heap while the loop ran. */
export interface GcStats {
  minor: number;
  major: number;
  maxPauseMs: number;
  totalPauseMs: number;
}

export type EnvSummary = Record<string, number | string | boolean>;

export type ToMain =
  | {
      kind: 'ready';
      buffers: TickThreadBuffers;
      shape: TickThreadShape;
      engine: {
        backend: BackendName;
        adapter: string;
        layout: Layout;
        substeps: number;
        /** Linux thread ids of the engine's own threads (Engine.threadIds), for --realtime. */
        threadIds: number[];
      };
      env: {
        name: string;
        sources: { name: string; size?: number }[];
        sinks: string[];
        mapping: unknown;
        scene: unknown;
        /** The in-thread arena's state before the first tick. */
        world: unknown;
        summary: EnvSummary | null;
      };
    }
  | { kind: 'warn'; message: string }
  | { kind: 'summary'; summary: EnvSummary }
  | {
      kind: 'done';
      summary: EnvSummary | null;
      stepCount: number;
      gc: GcStats;
      allocation: AllocationMeasure;
    }
  | { kind: 'error'; message: string }
  | { kind: 'disposed' };
