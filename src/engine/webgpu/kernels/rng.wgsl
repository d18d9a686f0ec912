// Counter-based hashing shared by every kernel; bit for bit the functions of src/model/rng.ts.
// u32 multiplication wraps modulo 2^32 in WGSL, exactly like Math.imul followed by >>> 0.

// "lowbias32" finalizer (C. Wellons): a bijection on u32 with strong avalanche.
fn mix32(value: u32) -> u32 {
  var x = value;
  x ^= x >> 16u;
  x *= 0x7feb352du;
  x ^= x >> 15u;
  x *= 0x846ca68bu;
  x ^= x >> 16u;
  return x;
}
