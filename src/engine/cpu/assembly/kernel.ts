/**
 * The CPU backend's hot loops in AssemblyScript, compiled to WebAssembly (build/kernel.wasm) and run
 * by every CPU thread over one shared linear memory. WebAssembly f32 arithmetic is IEEE binary32 with
 * no fused multiply-add, so these loops give exactly the bits of the WGSL kernel (same operations,
 * same order). Pointers are byte offsets into the shared memory; see ../shared-state.ts.
 */

/** Fixed-point input: accumulators hold 2^-16 pA units. */
const FRACTION: f32 = 1.0 / 65536.0;

/**
 * One time step of iaf_psc_exp for neurons [from, to) of one instance, with exact propagators:
 *   V ← ((P22·V + P21ex·I_ex) + P21in·I_in) + drive      (mV; drive = P20·I_external, per run)
 *   I_x ← P11x·I_x + input_x                              (pA; input from the previous step's spikes)
 * V is held (not integrated) while refractory; V ≥ V_th emits a spike and resets V.
 * Appends spiking neuron ids (ascending) to the list at `spikeList` and returns how many there were.
 *
 * Four neurons at a time in 128-bit SIMD lanes: every lane does the scalar loop's f32 operations in
 * the same order (WebAssembly SIMD has no fused multiply-add either), so the bits are those of
 * `updateOne` and of the WGSL kernel. A refractory lane computes the integrated V too and then keeps
 * its old V, which costs nothing and avoids a branch per neuron.
 *
 * `uniform`: the caller knows that the five propagators (P22, P11ex, P11in, P21ex, P21in) are the
 * same for every neuron of [from, to) (one neuron type with homogeneous synaptic time constants, the
 * default model): they are then read once, from neuron `from`, instead of five loads per four
 * neurons — the same values, so the same bits.
 */
export function update(
  from: i32,
  to: i32,
  accExc: usize,
  accInh: usize,
  vMv: usize,
  iExcPa: usize,
  iInhPa: usize,
  refractory: usize,
  p22: usize,
  p11Exc: usize,
  p11Inh: usize,
  p21Exc: usize,
  p21Inh: usize,
  drive: usize,
  spikeList: usize,
  thresholdMv: f32,
  resetMv: f32,
  refractorySteps: i32,
  population: usize,
  instanceBase: i32,
  populationCounts: usize,
  uniform: bool,
): i32 {
  const f = (<usize>from) << 2;
  if (uniform) {
    return updateLanes<f32>(
      from,
      to,
      accExc,
      accInh,
      vMv,
      iExcPa,
      iInhPa,
      refractory,
      p22,
      p11Exc,
      p11Inh,
      p21Exc,
      p21Inh,
      drive,
      spikeList,
      thresholdMv,
      resetMv,
      refractorySteps,
      population,
      instanceBase,
      populationCounts,
      v128.load32_splat(p22 + f),
      v128.load32_splat(p11Exc + f),
      v128.load32_splat(p11Inh + f),
      v128.load32_splat(p21Exc + f),
      v128.load32_splat(p21Inh + f),
    );
  }
  const none = i32x4.splat(0);
  return updateLanes<i32>(
    from,
    to,
    accExc,
    accInh,
    vMv,
    iExcPa,
    iInhPa,
    refractory,
    p22,
    p11Exc,
    p11Inh,
    p21Exc,
    p21Inh,
    drive,
    spikeList,
    thresholdMv,
    resetMv,
    refractorySteps,
    population,
    instanceBase,
    populationCounts,
    none,
    none,
    none,
    none,
    none,
  );
}

/**
 * The loop of `update`, compiled twice: `Uniform` = f32 reads the propagators from the splatted
 * values `p22Uniform` … `p21InhUniform`, any other type from the arrays (isFloat<Uniform>() is
 * decided at compile time, so neither copy tests it per neuron).
 */
function updateLanes<Uniform>(
  from: i32,
  to: i32,
  accExc: usize,
  accInh: usize,
  vMv: usize,
  iExcPa: usize,
  iInhPa: usize,
  refractory: usize,
  p22: usize,
  p11Exc: usize,
  p11Inh: usize,
  p21Exc: usize,
  p21Inh: usize,
  drive: usize,
  spikeList: usize,
  thresholdMv: f32,
  resetMv: f32,
  refractorySteps: i32,
  population: usize,
  instanceBase: i32,
  populationCounts: usize,
  p22Uniform: v128,
  p11ExcUniform: v128,
  p11InhUniform: v128,
  p21ExcUniform: v128,
  p21InhUniform: v128,
): i32 {
  let spikes: i32 = 0;
  const fraction = f32x4.splat(FRACTION);
  const threshold = f32x4.splat(thresholdMv);
  const reset = f32x4.splat(resetMv);
  const refractoryStart = i32x4.splat(refractorySteps);
  const zero = i32x4.splat(0);
  let g = from;
  for (; g + 4 <= to; g += 4) {
    const o = (<usize>g) << 2;
    const accE = v128.load(accExc + o);
    const accI = v128.load(accInh + o);
    v128.store(accExc + o, zero);
    v128.store(accInh + o, zero);
    // acc·2^-16 rounded once: i32 → f32 conversion rounds to nearest even and the power-of-two
    // scale is exact, which is the one rounding of updateOne's (integer + fraction) sum.
    const inExc = f32x4.mul(f32x4.convert_i32x4_s(accE), fraction);
    const inInh = f32x4.mul(f32x4.convert_i32x4_s(accI), fraction);
    const vOld = v128.load(vMv + o);
    const iExc = v128.load(iExcPa + o);
    const iInh = v128.load(iInhPa + o);
    const r = v128.load(refractory + o);
    const integrating = i32x4.eq(r, zero);
    let p22v = p22Uniform;
    let p21ExcV = p21ExcUniform;
    let p21InhV = p21InhUniform;
    let p11ExcV = p11ExcUniform;
    let p11InhV = p11InhUniform;
    if (!isFloat<Uniform>()) {
      p22v = v128.load(p22 + o);
      p21ExcV = v128.load(p21Exc + o);
      p21InhV = v128.load(p21Inh + o);
      p11ExcV = v128.load(p11Exc + o);
      p11InhV = v128.load(p11Inh + o);
    }
    const vIntegrated = f32x4.add(
      f32x4.add(f32x4.add(f32x4.mul(p22v, vOld), f32x4.mul(p21ExcV, iExc)), f32x4.mul(p21InhV, iInh)),
      v128.load(drive + o),
    );
    let v = v128.bitselect(vIntegrated, vOld, integrating);
    // r − 1 where r ≠ 0: the "not integrating" mask is −1 in exactly those lanes.
    let rNext = i32x4.add(r, v128.not(integrating));
    v128.store(iExcPa + o, f32x4.add(f32x4.mul(p11ExcV, iExc), inExc));
    v128.store(iInhPa + o, f32x4.add(f32x4.mul(p11InhV, iInh), inInh));
    const fired = f32x4.ge(v, threshold);
    if (v128.any_true(fired)) {
      v = v128.bitselect(reset, v, fired);
      rNext = v128.bitselect(refractoryStart, rNext, fired);
      let lanes = i32x4.bitmask(fired);
      while (lanes !== 0) {
        const id = g + ctz(lanes);
        lanes &= lanes - 1;
        store<u32>(spikeList + ((<usize>spikes) << 2), id);
        spikes++;
        countSpike(population, id - instanceBase, populationCounts);
      }
    }
    v128.store(vMv + o, v);
    v128.store(refractory + o, rNext);
  }
  for (; g < to; g++) {
    if (
      updateOne(
        g,
        accExc,
        accInh,
        vMv,
        iExcPa,
        iInhPa,
        refractory,
        p22,
        p11Exc,
        p11Inh,
        p21Exc,
        p21Inh,
        drive,
        thresholdMv,
        resetMv,
        refractorySteps,
      )
    ) {
      store<u32>(spikeList + ((<usize>spikes) << 2), g);
      spikes++;
      countSpike(population, g - instanceBase, populationCounts);
    }
  }
  return spikes;
}

function countSpike(population: usize, local: i32, populationCounts: usize): void {
  const pop = <usize>load<u16>(population + ((<usize>local) << 1));
  const counter = populationCounts + (pop << 2);
  store<u32>(counter, load<u32>(counter) + 1);
}

/** The scalar update of neuron g (the reference for the SIMD lanes); returns whether it spiked. */
function updateOne(
  g: i32,
  accExc: usize,
  accInh: usize,
  vMv: usize,
  iExcPa: usize,
  iInhPa: usize,
  refractory: usize,
  p22: usize,
  p11Exc: usize,
  p11Inh: usize,
  p21Exc: usize,
  p21Inh: usize,
  drive: usize,
  thresholdMv: f32,
  resetMv: f32,
  refractorySteps: i32,
): bool {
  const o = (<usize>g) << 2;
  const accE = load<i32>(accExc + o);
  const accI = load<i32>(accInh + o);
  store<i32>(accExc + o, 0);
  store<i32>(accInh + o, 0);
  // Integer and fractional parts are both exact in f32: one rounding, in any language.
  const inExc: f32 = <f32>(accE >> 16) + <f32>(accE & 0xffff) * FRACTION;
  const inInh: f32 = <f32>(accI >> 16) + <f32>(accI & 0xffff) * FRACTION;
  let v = load<f32>(vMv + o);
  const iExc = load<f32>(iExcPa + o);
  const iInh = load<f32>(iInhPa + o);
  const r = load<i32>(refractory + o);
  if (r === 0) {
    v =
      load<f32>(p22 + o) * v +
      load<f32>(p21Exc + o) * iExc +
      load<f32>(p21Inh + o) * iInh +
      load<f32>(drive + o);
  } else {
    store<i32>(refractory + o, r - 1);
  }
  store<f32>(iExcPa + o, load<f32>(p11Exc + o) * iExc + inExc);
  store<f32>(iInhPa + o, load<f32>(p11Inh + o) * iInh + inInh);
  const spiked = v >= thresholdMv;
  if (spiked) {
    v = resetMv;
    store<i32>(refractory + o, refractorySteps);
  }
  store<f32>(vMv + o, v);
  return spiked;
}

/**
 * Delivers the spikes in `spikeList[0..count)` through stored rows: every target of segment s of
 * row g receives the segment's fixed-point weight (integer sums: order-independent).
 * targets: u16 or u32 post indices relative to `lo`; segmentStart: u32, 6 per row (+1).
 */
export function deliverStored(
  spikeList: usize,
  count: i32,
  n: i32,
  nE: i32,
  targets: usize,
  wideTargets: bool,
  segmentStart: usize,
  segmentWeights: usize,
  accExc: usize,
  accInh: usize,
  lo: i32,
): void {
  const accBase = (<usize>lo) << 2;
  for (let k = 0; k < count; k++) {
    const g = load<u32>(spikeList + ((<usize>k) << 2));
    const b = g / <u32>n;
    const preIsInh = <i32>(g - b * <u32>n) >= nE;
    const acc = (preIsInh ? accInh : accExc) + accBase;
    const weights = segmentWeights + ((<usize>(b * 2 + (preIsInh ? 1 : 0)) * 6) << 2);
    const row = segmentStart + ((<usize>g * 6) << 2);
    for (let s: usize = 0; s < 6; s++) {
      const start = load<u32>(row + (s << 2));
      const end = load<u32>(row + ((s + 1) << 2));
      const weight = load<i32>(weights + (s << 2));
      if (wideTargets) {
        deliverWide(targets, start, end, acc, weight);
      } else {
        deliverNarrow(targets, start, end, acc, weight);
      }
    }
  }
}

/**
 * Adds `weight` at acc[targets[t]] for t in [start, end), u16 targets: eight per 128-bit load,
 * widened and turned into byte addresses in SIMD lanes, so that each event costs one lane
 * extract and its load, add and store (the scatter itself has no SIMD form).
 */
function deliverNarrow(targets: usize, start: u32, end: u32, acc: usize, weight: i32): void {
  let t = start;
  const base = i32x4.splat(<i32>acc);
  for (; t + 8 <= end; t += 8) {
    const eight = v128.load(targets + ((<usize>t) << 1));
    const low = i32x4.add(i32x4.shl(i32x4.extend_low_i16x8_u(eight), 2), base);
    const high = i32x4.add(i32x4.shl(i32x4.extend_high_i16x8_u(eight), 2), base);
    const a0 = <usize>i32x4.extract_lane(low, 0);
    const a1 = <usize>i32x4.extract_lane(low, 1);
    const a2 = <usize>i32x4.extract_lane(low, 2);
    const a3 = <usize>i32x4.extract_lane(low, 3);
    const a4 = <usize>i32x4.extract_lane(high, 0);
    const a5 = <usize>i32x4.extract_lane(high, 1);
    const a6 = <usize>i32x4.extract_lane(high, 2);
    const a7 = <usize>i32x4.extract_lane(high, 3);
    store<i32>(a0, load<i32>(a0) + weight);
    store<i32>(a1, load<i32>(a1) + weight);
    store<i32>(a2, load<i32>(a2) + weight);
    store<i32>(a3, load<i32>(a3) + weight);
    store<i32>(a4, load<i32>(a4) + weight);
    store<i32>(a5, load<i32>(a5) + weight);
    store<i32>(a6, load<i32>(a6) + weight);
    store<i32>(a7, load<i32>(a7) + weight);
  }
  for (; t < end; t++) {
    const target = acc + ((<usize>load<u16>(targets + ((<usize>t) << 1))) << 2);
    store<i32>(target, load<i32>(target) + weight);
  }
}

/** deliverNarrow for u32 targets (partitions over 65,535 neurons): four per 128-bit load. */
function deliverWide(targets: usize, start: u32, end: u32, acc: usize, weight: i32): void {
  let t = start;
  const base = i32x4.splat(<i32>acc);
  for (; t + 4 <= end; t += 4) {
    const four = i32x4.add(i32x4.shl(v128.load(targets + ((<usize>t) << 2)), 2), base);
    const a0 = <usize>i32x4.extract_lane(four, 0);
    const a1 = <usize>i32x4.extract_lane(four, 1);
    const a2 = <usize>i32x4.extract_lane(four, 2);
    const a3 = <usize>i32x4.extract_lane(four, 3);
    store<i32>(a0, load<i32>(a0) + weight);
    store<i32>(a1, load<i32>(a1) + weight);
    store<i32>(a2, load<i32>(a2) + weight);
    store<i32>(a3, load<i32>(a3) + weight);
  }
  for (; t < end; t++) {
    const target = acc + ((<usize>load<u32>(targets + ((<usize>t) << 2))) << 2);
    store<i32>(target, load<i32>(target) + weight);
  }
}

/**
 * drive ← P20·((background + population stimulus) + neuron stimulus) for neurons [from, to) of one
 * instance (mV per step), rounded as the WGSL kernel rounds it. Stimuli change only between runs.
 */
export function prepareDrive(
  from: i32,
  to: i32,
  instanceBase: i32,
  population: usize,
  backgroundPa: usize,
  stimPopulation: usize,
  stimNeuron: usize,
  p20: usize,
  drive: usize,
): void {
  for (let g = from; g < to; g++) {
    const o = (<usize>g) << 2;
    const pop = <usize>load<u16>(population + ((<usize>(g - instanceBase)) << 1));
    const external: f32 =
      load<f32>(backgroundPa + o) + load<f32>(stimPopulation + (pop << 2)) + load<f32>(stimNeuron + o);
    store<f32>(drive + o, load<f32>(p20 + o) * external);
  }
}

/**
 * One segment of a stored row: the posts j in [start, end) connected to a presynaptic neuron, i.e.
 * mix32(preKey ^ postKey[j]) >>> 1 < threshold (model/rng.ts), except j = self (no autapses),
 * appended in ascending order to `out` as j + offset (u16, or u32 when `wideTargets`). Returns how
 * many. Four posts per SIMD hash (the hash is 32-bit integer multiplies, shifts and xors, exact in
 * every lane); this is what building the rows of a large network spends its time on.
 * postKeys: the u32 key of post 0 of the instance (keys of j at postKeys + 4·j).
 */
export function connectSegment(
  preKey: u32,
  postKeys: usize,
  start: i32,
  end: i32,
  threshold: u32,
  self: i32,
  offset: i32,
  out: usize,
  wideTargets: bool,
): i32 {
  let count: i32 = 0;
  const pre = i32x4.splat(<i32>preKey);
  const m1 = i32x4.splat(0x7feb352d);
  const m2 = i32x4.splat(<i32>0x846ca68b);
  const limit = i32x4.splat(<i32>threshold);
  const shift = wideTargets ? 2 : 1;
  let j = start;
  for (; j + 4 <= end; j += 4) {
    let x = v128.xor(v128.load(postKeys + ((<usize>j) << 2)), pre);
    x = v128.xor(x, i32x4.shr_u(x, 16));
    x = i32x4.mul(x, m1);
    x = v128.xor(x, i32x4.shr_u(x, 15));
    x = i32x4.mul(x, m2);
    x = v128.xor(x, i32x4.shr_u(x, 16));
    let lanes = i32x4.bitmask(i32x4.lt_u(i32x4.shr_u(x, 1), limit));
    while (lanes !== 0) {
      const post = j + ctz(lanes);
      lanes &= lanes - 1;
      if (post === self) continue;
      const at = out + ((<usize>count) << shift);
      if (wideTargets) store<u32>(at, post + offset);
      else store<u16>(at, post + offset);
      count++;
    }
  }
  for (; j < end; j++) {
    if (j === self || hash(preKey ^ load<u32>(postKeys + ((<usize>j) << 2))) >>> 1 >= threshold) continue;
    const at = out + ((<usize>count) << shift);
    if (wideTargets) store<u32>(at, j + offset);
    else store<u16>(at, j + offset);
    count++;
  }
  return count;
}

/** mix32 of model/rng.ts, one lane. */
function hash(key: u32): u32 {
  let x = key;
  x ^= x >>> 16;
  x *= 0x7feb352d;
  x ^= x >>> 15;
  x *= 0x846ca68b;
  x ^= x >>> 16;
  return x;
}

/** Moves `bytes` bytes from `source` to `target` (rows outgrowing their block while being built). */
export function copyBytes(target: usize, source: usize, bytes: usize): void {
  memory.copy(target, source, bytes);
}

/**
 * Procedural delivery of one spike to one row segment: acc[j] += weight for every post j in
 * [start, end) connected to the presynaptic neuron (the hash test of connectSegment), except
 * j = self. The posts are contiguous, so four accumulators are updated per SIMD add with the weight
 * masked to the connected lanes. The autapse is taken back afterwards if the hash connected it
 * (integer sums: the result is the same bits as never adding it).
 * postKeys and acc point at post 0 of the instance.
 */
export function accumulateSegment(
  preKey: u32,
  postKeys: usize,
  start: i32,
  end: i32,
  threshold: u32,
  self: i32,
  acc: usize,
  weight: i32,
): void {
  const pre = i32x4.splat(<i32>preKey);
  const m1 = i32x4.splat(0x7feb352d);
  const m2 = i32x4.splat(<i32>0x846ca68b);
  const limit = i32x4.splat(<i32>threshold);
  const w = i32x4.splat(weight);
  let j = start;
  for (; j + 4 <= end; j += 4) {
    const o = (<usize>j) << 2;
    let x = v128.xor(v128.load(postKeys + o), pre);
    x = v128.xor(x, i32x4.shr_u(x, 16));
    x = i32x4.mul(x, m1);
    x = v128.xor(x, i32x4.shr_u(x, 15));
    x = i32x4.mul(x, m2);
    x = v128.xor(x, i32x4.shr_u(x, 16));
    const connected = i32x4.lt_u(i32x4.shr_u(x, 1), limit);
    v128.store(acc + o, i32x4.add(v128.load(acc + o), v128.and(w, connected)));
  }
  for (; j < end; j++) {
    if (hash(preKey ^ load<u32>(postKeys + ((<usize>j) << 2))) >>> 1 < threshold) {
      const at = acc + ((<usize>j) << 2);
      store<i32>(at, load<i32>(at) + weight);
    }
  }
  if (
    self >= start &&
    self < end &&
    hash(preKey ^ load<u32>(postKeys + ((<usize>self) << 2))) >>> 1 < threshold
  ) {
    const at = acc + ((<usize>self) << 2);
    store<i32>(at, load<i32>(at) - weight);
  }
}
