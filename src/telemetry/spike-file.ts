/**
 * Binary spike files (`--record FILE`). Little-endian:
 *   header: "SPKL" | u16 version = 1 | u16 reserved = 0 | u32 N | u32 batch | f64 dt (ms)   (24 bytes)
 *   then for every time step with spikes: u32 step | u32 count | count × u32 neuron id (instance·N + i, ascending)
 * The same seed gives byte-identical files on every run and on either backend.
 */
import { createWriteStream, existsSync, readFileSync, type WriteStream } from 'node:fs';

export const SPIKE_FILE_MAGIC = 'SPKL';
export const SPIKE_FILE_VERSION = 1;
const HEADER_BYTES = 24;
/** Flush to the stream in chunks of this size so recording stays off the tick path. */
const CHUNK_BYTES = 1 << 20;

export interface SpikeFileHeader {
  n: number;
  batch: number;
  dtMs: number;
}

export function encodeHeader(header: SpikeFileHeader): Uint8Array {
  const bytes = new Uint8Array(HEADER_BYTES);
  const view = new DataView(bytes.buffer);
  bytes.set(new TextEncoder().encode(SPIKE_FILE_MAGIC), 0);
  view.setUint16(4, SPIKE_FILE_VERSION, true);
  view.setUint32(8, header.n, true);
  view.setUint32(12, header.batch, true);
  view.setFloat64(16, header.dtMs, true);
  return bytes;
}

export class SpikeFileWriter {
  private readonly stream: WriteStream;
  private chunk = new Uint8Array(CHUNK_BYTES);
  private view = new DataView(this.chunk.buffer);
  private used = 0;
  private failure: Error | null = null;
  spikes = 0;

  constructor(
    readonly path: string,
    header: SpikeFileHeader,
  ) {
    this.stream = createWriteStream(path);
    this.stream.on('error', (error) => {
      this.failure ??= new Error(`recording to ${path} failed: ${error.message}`);
    });
    this.stream.write(encodeHeader(header));
  }

  /** Appends one step's spikes (ascending ids); steps without spikes are not written. */
  write(step: number, ids: Uint32Array): void {
    if (ids.length === 0) return;
    const bytes = 8 + 4 * ids.length;
    if (this.used + bytes > this.chunk.length) this.flush(bytes);
    this.view.setUint32(this.used, step, true);
    this.view.setUint32(this.used + 4, ids.length, true);
    for (let k = 0; k < ids.length; k++) this.view.setUint32(this.used + 8 + 4 * k, ids[k]!, true);
    this.used += bytes;
    this.spikes += ids.length;
  }

  private flush(nextBytes = 0): void {
    if (this.used > 0) this.stream.write(this.chunk.subarray(0, this.used));
    this.chunk = new Uint8Array(Math.max(CHUNK_BYTES, nextBytes));
    this.view = new DataView(this.chunk.buffer);
    this.used = 0;
  }

  /** Flushes and closes; rejects if any write failed (e.g. a full disk), naming the file. */
  async close(): Promise<void> {
    this.flush();
    await new Promise<void>((resolve) => this.stream.end(resolve));
    if (this.failure) throw this.failure;
  }
}

export interface SpikeFile extends SpikeFileHeader {
  steps: number[];
  ids: Uint32Array[];
}

export function parseSpikeFile(bytes: Uint8Array): SpikeFile {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < HEADER_BYTES || new TextDecoder().decode(bytes.subarray(0, 4)) !== SPIKE_FILE_MAGIC) {
    throw new Error('not a spikeloop spike file (missing "SPKL" header)');
  }
  const version = view.getUint16(4, true);
  if (version !== SPIKE_FILE_VERSION) throw new Error(`unsupported spike file version ${version}`);
  const file: SpikeFile = {
    n: view.getUint32(8, true),
    batch: view.getUint32(12, true),
    dtMs: view.getFloat64(16, true),
    steps: [],
    ids: [],
  };
  let offset = HEADER_BYTES;
  while (offset < bytes.length) {
    if (offset + 8 > bytes.length) throw new Error(`truncated spike record at byte ${offset}`);
    const step = view.getUint32(offset, true);
    const count = view.getUint32(offset + 4, true);
    if (offset + 8 + 4 * count > bytes.length) throw new Error(`truncated spike record at byte ${offset}`);
    const ids = new Uint32Array(count);
    for (let k = 0; k < count; k++) ids[k] = view.getUint32(offset + 8 + 4 * k, true);
    file.steps.push(step);
    file.ids.push(ids);
    offset += 8 + 4 * count;
  }
  return file;
}

/**
 * The sidecar `FILE.json` next to a spike file: which neurons are excitatory or inhibitory and in
 * which cluster, as contiguous id ranges per population (ids count from 0 within an instance), so a
 * raster can be ordered and coloured by cluster. The binary format is unchanged (old files stay
 * readable; a file without a sidecar just has no layout).
 */
export interface SpikeFilePopulation {
  /** E0 … E(Q−1), I0 … I(Q−1). */
  name: string;
  type: 'E' | 'I';
  cluster: number;
  /** First neuron id and count. */
  start: number;
  size: number;
}

export interface SpikeFileSidecar {
  format: 'spikeloop-spike-layout';
  version: 1;
  model: string;
  n: number;
  batch: number;
  dtMs: number;
  seed: number;
  nE: number;
  nI: number;
  clusters: number;
  populations: SpikeFilePopulation[];
}

export function sidecarPath(spikeFilePath: string): string {
  return `${spikeFilePath}.json`;
}

export function spikeFileSidecar(
  layout: { n: number; nE: number; nI: number; clusters: number; nEPerCluster: number; nIPerCluster: number },
  info: { model: string; batch: number; dtMs: number; seed: number },
): SpikeFileSidecar {
  const populations: SpikeFilePopulation[] = [];
  for (let q = 0; q < layout.clusters; q++) {
    populations.push({
      name: `E${q}`,
      type: 'E',
      cluster: q,
      start: q * layout.nEPerCluster,
      size: layout.nEPerCluster,
    });
  }
  for (let q = 0; q < layout.clusters; q++) {
    populations.push({
      name: `I${q}`,
      type: 'I',
      cluster: q,
      start: layout.nE + q * layout.nIPerCluster,
      size: layout.nIPerCluster,
    });
  }
  return {
    format: 'spikeloop-spike-layout',
    version: 1,
    model: info.model,
    n: layout.n,
    batch: info.batch,
    dtMs: info.dtMs,
    seed: info.seed,
    nE: layout.nE,
    nI: layout.nI,
    clusters: layout.clusters,
    populations,
  };
}

/** Reads and checks a sidecar; null when there is none (files written before sidecars existed). */
export function readSpikeFileSidecar(spikeFilePath: string): SpikeFileSidecar | null {
  const path = sidecarPath(spikeFilePath);
  if (!existsSync(path)) return null;
  let parsed: Partial<SpikeFileSidecar>;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<SpikeFileSidecar>;
  } catch (error) {
    throw new Error(`${path}: not valid JSON (${(error as Error).message})`);
  }
  if (parsed.format !== 'spikeloop-spike-layout' || !Array.isArray(parsed.populations)) {
    throw new Error(`${path}: not a spikeloop spike layout (format "${String(parsed.format)}")`);
  }
  return parsed as SpikeFileSidecar;
}
