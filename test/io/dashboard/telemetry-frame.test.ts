import * as hdr from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { arenaView } from '../../../src/env/arena/view.js';
import { Arena, DEFAULT_ARENA } from '../../../src/env/arena/world.js';
import { latencyHistogram, telemetryFrame } from '../../../src/io/dashboard/telemetry-frame.js';
import { encodeTelemetryFrame, parseServerMessage } from '../../../src/io/ws/messages.js';
import { createWireCodec } from '../../../src/io/ws/wire.js';
import type { TelemetrySnapshot } from '../../../src/telemetry/live.js';

const summary = { count: 3, min: 1, mean: 2, p50: 2, p90: 3, p99: 3, p999: 3, p9999: 3, max: 3 };

function snapshot(spikes: TelemetrySnapshot['recentSpikes']): TelemetrySnapshot {
  return {
    atUs: 5e6,
    counters: { ticks: 100, missed: 1, overruns: 0 },
    populationRatesHz: [1, 2, 3, 4],
    rateEHz: 1.5,
    rateIHz: 3.5,
    latenessUs: summary,
    computeUs: summary,
    e2eUs: summary,
    recentSpikes: spikes,
  };
}

describe('telemetry frames', () => {
  it('thins spikes to evenly spaced neurons and caps them per frame', () => {
    const spikes = [
      { step: 10, ids: [0, 1, 2, 3, 4, 5] },
      { step: 11, ids: [6, 8, 9] },
    ];
    const frame = telemetryFrame(
      snapshot(spikes),
      { neurons: 10, tickMs: 1, rasterNeurons: 5, maxSpikes: 3 },
      { histogram: null, arena: null, counters: { telemetryDropped: 2 } },
    );
    // stride 2: ids 0, 2, 4, 6, 8 qualify; the cap keeps 3 and counts 2 dropped.
    expect([...frame.spikes.id]).toEqual([0, 2, 4]);
    expect([...frame.spikes.step]).toEqual([10, 10, 10]);
    expect(frame.spikes.dropped).toBe(2);
    expect([...frame.rates]).toEqual([1, 2, 3, 4]);
    expect(frame.counters).toEqual({ ticks: 100, missed: 1, overruns: 0, telemetryDropped: 2 });
    expect(frame.latency.e2e).toEqual({ count: 3, p50: 2, p99: 3, p999: 3, max: 3 });
  });

  it('survives the wire: encoded, decoded, typed arrays back, in plain and records mode', () => {
    const arena = new Arena(DEFAULT_ARENA);
    const frame = telemetryFrame(
      snapshot([{ step: 7, ids: [64, 65, 100] }]),
      { neurons: 200, tickMs: 1, rasterNeurons: 200, maxSpikes: 100 },
      {
        histogram: latencyHistogram(hdr.build()),
        arena: arenaView(arena.scene(), arena.state()),
        counters: {},
      },
    );
    for (const records of [false, true]) {
      const codec = createWireCodec(records);
      const decoded = parseServerMessage(codec.decode(encodeTelemetryFrame(codec, frame)));
      expect(decoded).toEqual(frame);
    }
  });

  it('bins the HDR histogram into log-spaced buckets that hold every value', () => {
    const histogram = hdr.build();
    for (let k = 0; k < 900; k++) histogram.recordValue(500);
    for (let k = 0; k < 100; k++) histogram.recordValue(5000);
    const { edgesUs, counts } = latencyHistogram(histogram, 40);
    expect(edgesUs).toHaveLength(40);
    expect(edgesUs[39]).toBeCloseTo(100_000, -1);
    const total = counts.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(995);
    expect(total).toBeLessThanOrEqual(1005);
    const bucketOf = (us: number) => edgesUs.findIndex((edge) => us <= edge);
    expect(counts[bucketOf(500)]).toBeGreaterThan(880);
    expect(counts[bucketOf(5000)]).toBeGreaterThan(90);
  });

  it('describes the arena: robot pose, rays, target, circles and segments', () => {
    const arena = new Arena(DEFAULT_ARENA);
    const view = arenaView(arena.scene(), arena.state());
    expect([...view.robot]).toEqual([0.5, 0.5, 0]);
    expect(view.rays).toHaveLength(2 * DEFAULT_ARENA.sensors.anglesRad.length);
    expect(view.obstacles).toHaveLength(3 * 4);
    expect(view.segments).toHaveLength(4);
    expect(view.targets).toHaveLength(3);
  });
});
