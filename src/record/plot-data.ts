/** Turns a recording or a spike file (with its layout sidecar, when there is one) into PlotData. */
import { open, readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseSpikeFile, readSpikeFileSidecar } from '../telemetry/spike-file.js';
import type { PlotData } from './plot.js';
import type { Recording } from './reader.js';
import { readRecording } from './reader.js';

export function plotDataFromRecording(recording: Recording): PlotData {
  const { description, ticks } = recording;
  const dtS = description.dtMs / 1000;
  const firstStep = ticks[0]?.firstStep ?? 0;
  const spikeTimesS: number[] = [];
  const spikeIds: number[] = [];
  const x: number[] = [];
  const y: number[] = [];
  const targets: { x: number; y: number }[] = [];
  const timeS: number[] = [];
  const latenessUs: number[] = [];
  const computeUs: number[] = [];
  const t0Us = ticks[0]?.startUs ?? 0;
  for (const tick of ticks) {
    const base = tick.firstStep - firstStep;
    tick.spikeIds.forEach((id, k) => {
      spikeTimesS.push((base + tick.spikeSteps[k]!) * dtS);
      spikeIds.push(id);
    });
    if (tick.world) {
      x.push(tick.world.x);
      y.push(tick.world.y);
      const last = targets[targets.length - 1];
      if (!last || last.x !== tick.world.targetX || last.y !== tick.world.targetY) {
        targets.push({ x: tick.world.targetX, y: tick.world.targetY });
      }
    }
    timeS.push((tick.startUs - t0Us) / 1e6);
    latenessUs.push(tick.latenessUs);
    computeUs.push(tick.computeUs);
  }
  const last = ticks[ticks.length - 1];
  const durationS = last ? (last.firstStep - firstStep + description.substeps) * dtS : 0;
  return {
    title: basename(recording.path),
    n: description.layout.n,
    layout: description.layout,
    durationS,
    spikeTimesS,
    spikeIds,
    ...(x.length > 0 ? { trajectory: { x, y, targets, scene: description.scene } } : {}),
    latency: { timeS, latenessUs, computeUs },
  };
}

export async function plotDataFromSpikeFile(path: string): Promise<PlotData> {
  const file = parseSpikeFile(await readFile(path));
  const sidecar = readSpikeFileSidecar(path);
  const dtS = file.dtMs / 1000;
  const spikeTimesS: number[] = [];
  const spikeIds: number[] = [];
  file.steps.forEach((step, k) => {
    for (const id of file.ids[k]!) {
      if (id >= file.n) break; // instance 0 only (ids ascend, instance·N + i)
      spikeTimesS.push(step * dtS);
      spikeIds.push(id);
    }
  });
  const lastStep = file.steps[file.steps.length - 1] ?? 0;
  const layout = sidecar
    ? {
        nE: sidecar.nE,
        nI: sidecar.nI,
        clusters: sidecar.clusters,
        nEPerCluster: sidecar.nE / sidecar.clusters,
        nIPerCluster: sidecar.nI / sidecar.clusters,
      }
    : null;
  return { title: basename(path), n: file.n, layout, durationS: (lastStep + 1) * dtS, spikeTimesS, spikeIds };
}

const MCAP_MAGIC = [0x89, 0x4d, 0x43, 0x41, 0x50];

/** A recording (.mcap) or a spike file, told apart by their first bytes. */
export async function loadPlotData(path: string): Promise<PlotData> {
  const handle = await open(path, 'r').catch((error: Error) => {
    throw new Error(`cannot read ${path}: ${error.message}`);
  });
  const head = Buffer.alloc(5);
  try {
    await handle.read(head, 0, 5, 0);
  } finally {
    await handle.close();
  }
  if (MCAP_MAGIC.every((byte, k) => head[k] === byte))
    return plotDataFromRecording(await readRecording(path));
  if (head.subarray(0, 4).toString('latin1') === 'SPKL') return plotDataFromSpikeFile(path);
  throw new Error(`${path}: neither an MCAP recording nor a spikeloop spike file`);
}
