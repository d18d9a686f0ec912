/** The run's full description for a recording, and how to read it back from an environment. */
import { createRequire } from 'node:module';
import type { CodecMapping } from '../codec/mapping.js';
import type { ArenaScene } from '../env/arena/world.js';
import type { RobotParams } from '../io/ros2/params.js';
import type { EngineInfo } from '../loop/handle.js';
import type { Environment } from '../loop/ports.js';
import { safetyFromSettings } from '../loop/safety.js';
import type { DerivedNetwork } from '../model/network.js';
import type { ModelName } from '../model/params.js';
import type { RunDescription } from './channels.js';
import { recordSafety } from './recorded-safety.js';

export function spikeloopVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('../../package.json') as { version: string }).version;
}

/** The mapping an environment's codecs were built from, when it keeps one (arena, ws). */
export function mappingOf(env: object): CodecMapping | null {
  const mapping = (env as { mapping?: unknown }).mapping;
  return mapping && typeof mapping === 'object' ? (mapping as CodecMapping) : null;
}

/** The resolved robot params of a ROS 2 environment (what its codecs and safety were built from). */
export function robotOf(env: object): RobotParams | null {
  const candidate = env as { robot?: unknown };
  return candidate.robot && typeof candidate.robot === 'object' ? (candidate.robot as RobotParams) : null;
}

/** The in-process arena's static world. */
export function sceneOf(env: object): ArenaScene | null {
  const candidate = env as { name?: string; scene?: () => ArenaScene };
  return candidate.name === 'arena' && typeof candidate.scene === 'function' ? candidate.scene() : null;
}

export interface DescribeOptions {
  env: Environment;
  envName: string;
  envSettings?: Record<string, string | number | boolean>;
  engine: EngineInfo;
  network: DerivedNetwork;
  model: ModelName;
  tickMs: number;
  substeps: number;
  warmupTicks: number;
  latePolicy: string;
}

export function describeRun(options: DescribeOptions): RunDescription {
  const { network, engine, env } = options;
  return {
    spikeloopVersion: spikeloopVersion(),
    env: options.envName,
    envSettings: { ...(options.envSettings ?? {}) },
    model: options.model,
    params: network.params,
    n: network.layout.n,
    seed: network.params.seed,
    backend: engine.backend,
    adapter: engine.adapter,
    tickMs: options.tickMs,
    dtMs: network.params.dtMs,
    substeps: options.substeps,
    warmupTicks: options.warmupTicks,
    latePolicy: options.latePolicy,
    layout: network.layout,
    mapping: mappingOf(env),
    scene: sceneOf(env),
    robot: robotOf(env),
    // The settings the loop is given (closed-loop.ts): the environment's, then --env-set keys.
    safety: recordSafety(safetyFromSettings(options.envSettings, env.safety).safety),
    startedAt: new Date().toISOString(),
  };
}
