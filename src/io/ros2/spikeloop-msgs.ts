/**
 * TypeScript side of the spikeloop_msgs interface package (msgs/msg/*.msg), usable without ROS.
 * Field types follow rclnodejs's mapping: (u)int64 → bigint, other numbers → number, numeric
 * arrays → number[] or the matching typed array, nested messages → objects.
 *
 * Each message has a field table naming the ROS type of every field. The compiler checks that a
 * table lists exactly the interface's fields with matching TypeScript types, and a test parses the
 * .msg files and checks them against the tables, so the three cannot drift apart.
 */
import type { HeaderMsg } from './messages.js';

export interface PopulationActivityMsg {
  header: HeaderMsg;
  tick: bigint;
  window_s: number;
  names: string[];
  sizes: number[] | Uint32Array;
  spike_counts: number[] | Uint32Array;
  rates_hz: number[] | Float32Array;
}

export interface SpikeBatchMsg {
  header: HeaderMsg;
  first_step: bigint;
  dt_ms: number;
  neuron_count: number;
  neuron_ids: number[] | Uint32Array;
  step_offsets: number[] | Uint16Array;
}

export interface LatencyStatsMsg {
  name: string;
  count: bigint;
  p50_us: number;
  p90_us: number;
  p99_us: number;
  p999_us: number;
  max_us: number;
  mean_us: number;
}

export interface LatencyReportMsg {
  header: HeaderMsg;
  ticks: bigint;
  missed: bigint;
  tick_ms: number;
  late_policy: string;
  stats: LatencyStatsMsg[];
}

export interface StimulusMsg {
  header: HeaderMsg;
  populations: number[] | Uint32Array;
  currents_pa: number[] | Float32Array;
  duration_ms: number;
}

export const SPIKELOOP_MSGS_PACKAGE = 'spikeloop_msgs';
export const SpikeloopMessageType = {
  populationActivity: 'spikeloop_msgs/msg/PopulationActivity',
  spikeBatch: 'spikeloop_msgs/msg/SpikeBatch',
  latencyReport: 'spikeloop_msgs/msg/LatencyReport',
  stimulus: 'spikeloop_msgs/msg/Stimulus',
} as const;

// ---- field tables and their compile-time link to the interfaces ----

type Primitive =
  | 'bool'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'int32'
  | 'int64'
  | 'float32'
  | 'float64'
  | 'string';
interface NestedTypes {
  'std_msgs/Header': HeaderMsg;
  LatencyStats: LatencyStatsMsg;
}
export type RosFieldType = Primitive | `${Primitive}[]` | keyof NestedTypes | `${keyof NestedTypes}[]`;

type TsScalar<R> = R extends 'uint64' | 'int64'
  ? bigint
  : R extends 'string'
    ? string
    : R extends 'bool'
      ? boolean
      : number;
type TsArray<R> = R extends 'uint16'
  ? number[] | Uint16Array
  : R extends 'uint32'
    ? number[] | Uint32Array
    : R extends 'float32'
      ? number[] | Float32Array
      : R extends 'float64'
        ? number[] | Float64Array
        : TsScalar<R>[];
type TsOf<R> = R extends `${infer E}[]`
  ? E extends keyof NestedTypes
    ? NestedTypes[E][]
    : TsArray<E>
  : R extends keyof NestedTypes
    ? NestedTypes[R]
    : TsScalar<R>;

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** A table matches interface M when it has M's keys and each ROS type maps to M's field type. */
type Matches<M, T extends Record<string, RosFieldType>> = Equal<M, { -readonly [K in keyof T]: TsOf<T[K]> }>;

export const populationActivityFields = {
  header: 'std_msgs/Header',
  tick: 'uint64',
  window_s: 'float32',
  names: 'string[]',
  sizes: 'uint32[]',
  spike_counts: 'uint32[]',
  rates_hz: 'float32[]',
} as const;

export const spikeBatchFields = {
  header: 'std_msgs/Header',
  first_step: 'uint64',
  dt_ms: 'float32',
  neuron_count: 'uint32',
  neuron_ids: 'uint32[]',
  step_offsets: 'uint16[]',
} as const;

export const latencyStatsFields = {
  name: 'string',
  count: 'uint64',
  p50_us: 'float64',
  p90_us: 'float64',
  p99_us: 'float64',
  p999_us: 'float64',
  max_us: 'float64',
  mean_us: 'float64',
} as const;

export const latencyReportFields = {
  header: 'std_msgs/Header',
  ticks: 'uint64',
  missed: 'uint64',
  tick_ms: 'float32',
  late_policy: 'string',
  stats: 'LatencyStats[]',
} as const;

export const stimulusFields = {
  header: 'std_msgs/Header',
  populations: 'uint32[]',
  currents_pa: 'float32[]',
  duration_ms: 'float32',
} as const;

const _tablesMatch: [
  Matches<PopulationActivityMsg, typeof populationActivityFields>,
  Matches<SpikeBatchMsg, typeof spikeBatchFields>,
  Matches<LatencyStatsMsg, typeof latencyStatsFields>,
  Matches<LatencyReportMsg, typeof latencyReportFields>,
  Matches<StimulusMsg, typeof stimulusFields>,
] = [true, true, true, true, true];
void _tablesMatch;

/** Every message of the package with its field table, keyed by the .msg file's base name. */
export const spikeloopMessageFields: Record<string, Readonly<Record<string, RosFieldType>>> = {
  PopulationActivity: populationActivityFields,
  SpikeBatch: spikeBatchFields,
  LatencyStats: latencyStatsFields,
  LatencyReport: latencyReportFields,
  Stimulus: stimulusFields,
};
