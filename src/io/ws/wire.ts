/**
 * MessagePack encoding of protocol messages. Values travel as `bin` holding little-endian float32
 * (or uint32 for spike arrays): any MessagePack library reads them, and both ends copy them with
 * one memcpy. The 'records' feature switches the two 1 kHz frame kinds to msgpackr's record
 * extension with fixed shared structures (SHARED_RECORDS), which saves the key strings.
 */
import { endianness } from 'node:os';
import { C1, Packr, Unpackr } from 'msgpackr';
import { SHARED_RECORDS } from './protocol.js';

if (endianness() !== 'LE')
  throw new Error('spikeloop protocol: typed-array views assume a little-endian host');

export type WireValue =
  | null
  | boolean
  | number
  | string
  | Uint8Array
  | WireValue[]
  | { [key: string]: WireValue };

function sharedStructures(): string[][] {
  return SHARED_RECORDS.map((keys) => [...keys]);
}

function matchesSharedRecord(value: object): boolean {
  const keys = Object.keys(value);
  return SHARED_RECORDS.some(
    (shape) => shape.length === keys.length && shape.every((key, k) => keys[k] === key),
  );
}

export interface WireCodec {
  readonly records: boolean;
  encode(message: { [key: string]: WireValue }): Buffer;
  /** Throws on malformed MessagePack, trailing bytes included. */
  decode(bytes: Uint8Array): unknown;
}

/** One per connection and direction pair: the record variant must match what the peer was granted. */
export function createWireCodec(records: boolean): WireCodec {
  const packr = records
    ? new Packr({
        structures: sharedStructures(),
        maxSharedStructures: SHARED_RECORDS.length,
        // Only the frames with a shared structure become records; every other object stays a
        // plain map, so no inline record definitions (which other libraries cannot read) appear.
        useRecords: (value: object) => matchesSharedRecord(value),
        shouldShareStructure: () => false,
      })
    : new Packr({ useRecords: false });
  const unpackr = records
    ? new Unpackr({
        structures: sharedStructures(),
        maxSharedStructures: SHARED_RECORDS.length,
        mapsAsObjects: true,
      })
    : new Unpackr({ useRecords: false, mapsAsObjects: true });
  return {
    records,
    // pack() returns a view into a buffer msgpackr reuses, so each message gets its own copy:
    // ws may still hold it in its send queue when the next message is packed.
    encode: (message) => Buffer.from(packr.pack(message)),
    decode: (bytes) => {
      const value: unknown = unpackr.unpack(bytes);
      // msgpackr returns a marker for the never-used byte 0xc1 instead of failing.
      if (value === C1) throw new Error('0xc1 is not a MessagePack value');
      return value;
    },
  };
}

/** The bytes of a typed array as a MessagePack bin (a view: no copy). */
export function bytesOf(values: Float32Array | Uint32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/** Copies a bin into a new aligned typed array (the received view may sit at any offset). */
export function float32FromBytes(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

export function uint32FromBytes(bytes: Uint8Array): Uint32Array {
  const out = new Uint32Array(bytes.byteLength / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}
