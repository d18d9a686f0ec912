/**
 * Telemetry snapshots → ROS messages (spikeloop_msgs PopulationActivity, LatencyReport, SpikeBatch
 * and a diagnostic_msgs DiagnosticArray with the deadline status). Pure builders; the bridge
 * publishes their results from a telemetry listener, off the tick path.
 */

import type { TelemetrySnapshot } from '../../telemetry/live.js';
import type { LatencySummary } from '../../telemetry/loop-telemetry.js';
import type { MotorStats, SensorStats } from './channels.js';
import {
  type DiagnosticArrayMsg,
  DiagnosticLevel,
  type DiagnosticStatusMsg,
  type HeaderMsg,
  type KeyValueMsg,
  type TimeMsg,
} from './messages.js';
import type {
  LatencyReportMsg,
  LatencyStatsMsg,
  PopulationActivityMsg,
  SpikeBatchMsg,
} from './spikeloop-msgs.js';

function header(stamp: TimeMsg): HeaderMsg {
  return { stamp, frame_id: '' };
}

/**
 * Counted spikes per population over a window of `windowTicks` ticks (biological time
 * windowTicks · tickMs, as the .msg says), with the mean rate per neuron derived from the counts.
 */
export function populationActivityMessage(
  tick: number,
  names: readonly string[],
  sizes: Uint32Array,
  spikeCounts: ArrayLike<number>,
  windowTicks: number,
  tickMs: number,
  stamp: TimeMsg,
): PopulationActivityMsg {
  const windowS = (windowTicks * tickMs) / 1000;
  const counts = Uint32Array.from(spikeCounts);
  const rates = Float32Array.from(counts, (count, p) =>
    windowS > 0 && sizes[p]! > 0 ? count / (sizes[p]! * windowS) : 0,
  );
  return {
    header: header(stamp),
    tick: BigInt(tick),
    window_s: windowS,
    names: [...names],
    sizes: Uint32Array.from(sizes),
    spike_counts: counts,
    rates_hz: rates,
  };
}

export function latencyStats(name: string, summary: LatencySummary): LatencyStatsMsg {
  return {
    name,
    count: BigInt(summary.count),
    p50_us: summary.p50,
    p90_us: summary.p90,
    p99_us: summary.p99,
    p999_us: summary.p999,
    max_us: summary.max,
    mean_us: summary.mean,
  };
}

export function latencyReportMessage(
  snapshot: TelemetrySnapshot,
  tickMs: number,
  latePolicy: string,
  stamp: TimeMsg,
): LatencyReportMsg {
  return {
    header: header(stamp),
    ticks: BigInt(snapshot.counters.ticks),
    missed: BigInt(snapshot.counters.missed),
    tick_ms: tickMs,
    late_policy: latePolicy,
    stats: [
      latencyStats('tick_lateness', snapshot.latenessUs),
      latencyStats('tick_compute', snapshot.computeUs),
      latencyStats('e2e', snapshot.e2eUs),
    ],
  };
}

/**
 * Spikes of a snapshot as one batch, or null when there were none. Step offsets are 16 bit; spikes
 * more than 65535 steps after the first one of the batch are left out (a snapshot covers far less).
 */
export function spikeBatchMessage(
  snapshot: TelemetrySnapshot,
  dtMs: number,
  neuronCount: number,
  stamp: TimeMsg,
): SpikeBatchMsg | null {
  const batches = snapshot.recentSpikes;
  if (batches.length === 0) return null;
  const firstStep = batches[0]!.step;
  const ids: number[] = [];
  const offsets: number[] = [];
  for (const batch of batches) {
    const offset = batch.step - firstStep;
    if (offset > 0xffff) break;
    for (const id of batch.ids) {
      ids.push(id);
      offsets.push(offset);
    }
  }
  return {
    header: header(stamp),
    first_step: BigInt(firstStep),
    dt_ms: dtMs,
    neuron_count: neuronCount,
    neuron_ids: Uint32Array.from(ids),
    step_offsets: Uint16Array.from(offsets),
  };
}

export interface DiagnosticsInput {
  nodeName: string;
  snapshot: TelemetrySnapshot;
  tickMs: number;
  /** Missed ticks at the previous diagnostics message (new misses since then raise a warning). */
  previousMissed: number;
  sensors: ReadonlyArray<{ name: string; topic: string; stats: SensorStats; stale: boolean }>;
  motors: ReadonlyArray<{ name: string; topic: string; stats: MotorStats; tripped: string | null }>;
  stamp: TimeMsg;
}

/** What an output sends under the stale-input policy, as the diagnostics say it. */
function staleNote(snapshot: TelemetrySnapshot, motor: string): string | null {
  const action = snapshot.safety?.outputs[motor];
  if (action === undefined || action === 'command') return null;
  return `${action} (stale input: ${snapshot.safety!.staleInputs.join(', ') || 'none'})`;
}

const kv = (key: string, value: string | number | null): KeyValueMsg => ({
  key,
  value: value === null ? '' : typeof value === 'number' ? formatNumber(value) : value,
});

function formatNumber(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(1);
}

/** Deadline status of the loop, each sensor and each motor, for rqt_runtime_monitor and friends. */
export function diagnosticsMessage(input: DiagnosticsInput): DiagnosticArrayMsg {
  const { snapshot, nodeName } = input;
  const { ticks, missed, overruns } = snapshot.counters;
  const newMisses = missed - input.previousMissed;
  const watchdogTripped = input.motors.some((m) => m.tripped !== null);
  const loopLevel = watchdogTripped
    ? DiagnosticLevel.ERROR
    : newMisses > 0
      ? DiagnosticLevel.WARN
      : DiagnosticLevel.OK;
  const loopMessage = watchdogTripped
    ? 'watchdog stopped the robot'
    : newMisses > 0
      ? `${newMisses} tick deadline(s) missed since the last report`
      : 'deadlines met';
  const status: DiagnosticStatusMsg[] = [
    {
      level: loopLevel,
      name: `${nodeName}: tick deadlines`,
      message: loopMessage,
      hardware_id: nodeName,
      values: [
        kv('tick_ms', input.tickMs),
        kv('ticks', ticks),
        kv('missed', missed),
        kv('overruns', overruns),
        kv('lateness_p99_us', snapshot.latenessUs.p99),
        kv('lateness_max_us', snapshot.latenessUs.max),
        kv('compute_p99_us', snapshot.computeUs.p99),
        kv('e2e_p99_us', snapshot.e2eUs.p99),
        kv('rate_e_hz', snapshot.rateEHz),
        kv('rate_i_hz', snapshot.rateIHz),
        kv('stale_inputs', snapshot.safety?.staleInputs.join(',') ?? ''),
        kv('stale_incidents', snapshot.safety?.incidents ?? 0),
      ],
    },
  ];
  for (const sensor of input.sensors) {
    const { stats } = sensor;
    const level = sensor.stale
      ? DiagnosticLevel.STALE
      : stats.errors > 0
        ? DiagnosticLevel.WARN
        : DiagnosticLevel.OK;
    status.push({
      level,
      name: `${nodeName}: sensor ${sensor.name}`,
      message: sensor.stale ? `no message on ${sensor.topic}` : (stats.lastError ?? 'ok'),
      hardware_id: nodeName,
      values: [
        kv('topic', sensor.topic),
        kv('received', stats.received),
        kv('errors', stats.errors),
        kv('delivery_us', stats.deliveryUs),
        kv('max_delivery_us', stats.maxDeliveryUs),
      ],
    });
  }
  for (const motor of input.motors) {
    const { stats } = motor;
    const stale = staleNote(snapshot, motor.name);
    const level =
      motor.tripped !== null
        ? DiagnosticLevel.ERROR
        : stats.rejected > 0 || stale !== null
          ? DiagnosticLevel.WARN
          : DiagnosticLevel.OK;
    status.push({
      level,
      name: `${nodeName}: motor ${motor.name}`,
      message:
        motor.tripped !== null
          ? `stopped by the watchdog (${motor.tripped})`
          : stale !== null
            ? `stale-input policy: ${stale}`
            : (stats.lastError ?? 'ok'),
      hardware_id: nodeName,
      values: [
        kv('topic', motor.topic),
        kv('published', stats.published),
        kv('throttled', stats.throttled),
        kv('rejected', stats.rejected),
        kv('stops', stats.stops),
        kv('safety', snapshot.safety?.outputs[motor.name] ?? 'command'),
        kv('stale_commands', stats.staleCommands),
      ],
    });
  }
  return { header: header(input.stamp), status };
}
