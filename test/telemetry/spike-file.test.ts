import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSpikeFile, SpikeFileWriter } from '../../src/telemetry/spike-file.js';

describe('spike files', () => {
  it('writes the documented little-endian layout and reads it back', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'spk-')), 'x.spk');
    const writer = new SpikeFileWriter(path, { n: 10, batch: 2, dtMs: 0.1 });
    writer.write(0, new Uint32Array([1, 12]));
    writer.write(1, new Uint32Array([]));
    writer.write(7, new Uint32Array([3]));
    await writer.close();
    const bytes = readFileSync(path);
    expect(bytes.length).toBe(24 + (8 + 8) + (8 + 4));
    expect(bytes.subarray(0, 4).toString('latin1')).toBe('SPKL');
    expect(bytes.readUInt16LE(4)).toBe(1);
    expect(bytes.readUInt32LE(8)).toBe(10);
    expect(bytes.readUInt32LE(12)).toBe(2);
    expect(bytes.readDoubleLE(16)).toBe(0.1);
    expect([
      bytes.readUInt32LE(24),
      bytes.readUInt32LE(28),
      bytes.readUInt32LE(32),
      bytes.readUInt32LE(36),
    ]).toEqual([0, 2, 1, 12]);
    const file = parseSpikeFile(bytes);
    expect(file.steps).toEqual([0, 7]);
    expect(file.ids.map((ids) => Array.from(ids))).toEqual([[1, 12], [3]]);
    expect(writer.spikes).toBe(3);
  });

  it('rejects files that are not spike files or are truncated', () => {
    expect(() => parseSpikeFile(new Uint8Array(30))).toThrow(/not a spikeloop spike file/);
    const header = Buffer.alloc(24 + 6);
    header.write('SPKL', 0, 'latin1');
    header.writeUInt16LE(1, 4);
    expect(() => parseSpikeFile(header)).toThrow(/truncated spike record at byte 24/);
  });

  it('reports a failed write, naming the file', async () => {
    const writer = new SpikeFileWriter('/nonexistent-dir/x.spk', { n: 1, batch: 1, dtMs: 0.1 });
    writer.write(0, new Uint32Array([0]));
    await expect(writer.close()).rejects.toThrow(/recording to \/nonexistent-dir\/x.spk failed/);
  });
});
