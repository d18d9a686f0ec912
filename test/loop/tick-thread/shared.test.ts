/**
 * An input slot between the main thread and the tick thread: newest-sample semantics, and the
 * writer learns whether the sample it replaces was ever read (a superseded sample).
 */
import { describe, expect, it } from 'vitest';
import { InputSlotReader, InputSlotWriter, newInputSlot } from '../../../src/loop/tick-thread/shared.js';

describe('input slot', () => {
  it('hands the tick the newest sample once and tells the writer what it superseded', () => {
    const buffer = newInputSlot(4);
    const writer = new InputSlotWriter(buffer);
    const reader = new InputSlotReader(buffer);
    const values = new Float32Array(4);
    const stamps = new Float64Array(2);

    expect(reader.read(values, stamps)).toBe(-1);
    expect(writer.publish(Float32Array.of(1, 2), 10, 1000)).toBe(false);
    // Not read yet: the next sample replaces it.
    expect(writer.publish(Float32Array.of(3, 4, 5), 11, 2000)).toBe(true);
    expect(reader.read(values, stamps)).toBe(3);
    expect(Array.from(values.subarray(0, 3))).toEqual([3, 4, 5]);
    expect(Array.from(stamps)).toEqual([11, 2000]);
    // Read once only: no new sample, nothing to read.
    expect(reader.read(values, stamps)).toBe(-1);
    // The sample before was read: nothing superseded.
    expect(writer.publish(Float32Array.of(6), 12, 3000)).toBe(false);
    expect(reader.read(values, stamps)).toBe(1);
    expect(values[0]).toBe(6);
  });
});
