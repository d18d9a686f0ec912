/**
 * MCAP files on disk: a synchronous file writable for McapWriter, zstd chunk compression
 * (@foxglove/wasm-zstd, WebAssembly, nothing native), and a streaming reader of every record.
 */
import { closeSync, createReadStream, openSync, writeSync } from 'node:fs';
import * as zstd from '@foxglove/wasm-zstd';
import { type IWritable, McapStreamReader, type TypedMcapRecord } from '@mcap/core';

export const ZSTD_LEVEL = 3;

/** Appends to a file with plain synchronous writes (the writer runs on its own thread). */
export class FileWritable implements IWritable {
  private readonly fd: number;
  private offset = 0n;

  constructor(path: string) {
    this.fd = openSync(path, 'w');
  }

  async write(buffer: Uint8Array): Promise<void> {
    let done = 0;
    while (done < buffer.byteLength) done += writeSync(this.fd, buffer, done, buffer.byteLength - done);
    this.offset += BigInt(buffer.byteLength);
  }

  position(): bigint {
    return this.offset;
  }

  close(): void {
    closeSync(this.fd);
  }
}

export async function zstdReady(): Promise<void> {
  await zstd.isLoaded;
}

export function compressChunk(chunk: Uint8Array): { compression: string; compressedData: Uint8Array } {
  return { compression: 'zstd', compressedData: zstd.compress(chunk, ZSTD_LEVEL) };
}

export const decompressHandlers = {
  zstd: (buffer: Uint8Array, decompressedSize: bigint) => zstd.decompress(buffer, Number(decompressedSize)),
};

/** Every record of an MCAP file in file order (chunks decompressed and CRC-checked). */
export async function* readMcapRecords(path: string): AsyncGenerator<TypedMcapRecord> {
  await zstdReady();
  const reader = new McapStreamReader({ decompressHandlers });
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  try {
    for await (const data of stream as AsyncIterable<Buffer>) {
      reader.append(data);
      for (let record = reader.nextRecord(); record; record = reader.nextRecord()) yield record;
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${path}: not a readable MCAP file (${message})`);
  }
  if (!reader.done())
    throw new Error(`${path}: the MCAP file is truncated (no footer; was the recording cut short?)`);
}
