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
 * Appends spiking neuron ids to the list at `spikeList` and returns how many there were.
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
): i32 {
  let spikes: i32 = 0;
  for (let g = from; g < to; g++) {
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
    if (v >= thresholdMv) {
      v = resetMv;
      store<i32>(refractory + o, refractorySteps);
      store<u32>(spikeList + ((<usize>spikes) << 2), g);
      spikes++;
      const pop = <usize>load<u16>(population + ((<usize>(g - instanceBase)) << 1));
      const counter = populationCounts + (pop << 2);
      store<u32>(counter, load<u32>(counter) + 1);
    }
    store<f32>(vMv + o, v);
  }
  return spikes;
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
        for (let t = start; t < end; t++) {
          const target = acc + ((<usize>load<u32>(targets + ((<usize>t) << 2))) << 2);
          store<i32>(target, load<i32>(target) + weight);
        }
      } else {
        for (let t = start; t < end; t++) {
          const target = acc + ((<usize>load<u16>(targets + ((<usize>t) << 1))) << 2);
          store<i32>(target, load<i32>(target) + weight);
        }
      }
    }
  }
}
