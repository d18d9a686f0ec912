/**
 * A monotonic microsecond clock that allocates nothing per read, for the tick thread.
 *
 * In Node 20 every `performance.now()` returns a freshly boxed number (16 bytes on the heap,
 * measured), and the tick reads the clock a few times per tick plus about once per microsecond in
 * the sleeper's final spin: that alone is hundreds of bytes per tick. WASI's `clock_time_get`
 * (CLOCK_MONOTONIC, the clock libuv's `uv_hrtime` and so `performance.now()` read) writes the time
 * into WebAssembly memory instead; the reading is taken from a Float64Array view, which optimised
 * code keeps unboxed. The reading is shifted onto `performance.now()`'s origin (the process's
 * time origin, shared by every thread), so times compare with the main thread's as before.
 *
 * The module (145 bytes) is this WAT, assembled with binaryen:
 *   (module
 *     (import "wasi_snapshot_preview1" "clock_time_get" (func $ct (param i32 i64 i32) (result i32)))
 *     (memory (export "memory") 1)
 *     (func (export "_initialize"))
 *     (func (export "now")  ;; f64 µs at byte 0
 *       (drop (call $ct (i32.const 1) (i64.const 1) (i32.const 8)))
 *       (f64.store (i32.const 0)
 *         (f64.div (f64.convert_i64_u (i64.load (i32.const 8))) (f64.const 1000)))))
 */
import type { ClockUs } from './sleep.js';

const MODULE_BASE64 =
  'AGFzbQEAAAABCwJgA39+fwF/YAAAAikBFndhc2lfc25hcHNob3RfcHJldmlldzEOY2xvY2tfdGltZV9nZXQAAAMDAgEBBQMBAAEHHgMGbWVtb3J5AgALX2luaXRpYWxpemUAAQNub3cAAgolAgIACyAAQQFCAUEIEAAaQQBBCCkDALpEAAAAAABAj0CjOQMACw==';

/**
 * Node 20 marks WASI experimental and prints a warning when the module loads; this clock uses one
 * stable call of it, so that one warning is dropped (every other warning still prints).
 */
function dropWasiWarning(): void {
  const listeners = process.listeners('warning');
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    if (warning.name === 'ExperimentalWarning' && warning.message.includes('WASI')) return;
    for (const listener of listeners) listener(warning);
  });
}

/**
 * The allocation-free clock, on performance.now()'s origin; null where WASI is not available
 * (the caller then keeps `monotonicUs`).
 */
export async function allocationFreeClock(): Promise<ClockUs | null> {
  try {
    dropWasiWarning();
    const { WASI } = await import('node:wasi');
    const wasi = new WASI({ version: 'preview1' });
    const module = new WebAssembly.Module(Buffer.from(MODULE_BASE64, 'base64'));
    const instance = new WebAssembly.Instance(module, {
      wasi_snapshot_preview1: wasi.wasiImport,
    } as WebAssembly.Imports);
    wasi.initialize(instance);
    const exports = instance.exports as { memory: WebAssembly.Memory; now: () => void };
    const cell = new Float64Array(exports.memory.buffer, 0, 1);
    const now = exports.now;
    const raw = () => {
      now();
      return cell[0]!;
    };
    // The offset to performance.now(): taken between two raw reads, the tightest pair of a few.
    let offsetUs = 0;
    let bestSpanUs = Number.POSITIVE_INFINITY;
    for (let k = 0; k < 20; k++) {
      const before = raw();
      const performanceUs = performance.now() * 1000;
      const after = raw();
      if (after - before < bestSpanUs) {
        bestSpanUs = after - before;
        offsetUs = performanceUs - (before + after) / 2;
      }
    }
    // Written out rather than `raw() + offsetUs`: a function this small (under 27 bytes of
    // bytecode, nothing inlined into it) is inlined by V8's optimiser at every call site, budget
    // or not. Where it was not inlined (a caller that had spent its inlining budget, as the
    // arena's tick does), the reading came back as a boxed number: 16 bytes per call.
    const shiftUs = offsetUs;
    return () => {
      now();
      return cell[0]! + shiftUs;
    };
  } catch {
    return null;
  }
}
