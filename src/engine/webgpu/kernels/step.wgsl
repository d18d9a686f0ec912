// One 0.1 ms substep of every neuron of the batch, in ONE dispatch (prepended: rng.wgsl).
// The model (docs/model.md): NEST's iaf_psc_exp, integrated with exact propagators over h = dt,
// V relative to E_L (mV), synaptic currents I_ex, I_in (pA), external current I_e (pA):
//   V(t+h)    = P22·V + P21ex·I_ex + P21in·I_in + P20·I_e     (not while refractory)
//   I_x(t+h)  = P11x·I_x + Σ_spikes w                       (w in pA, one step of delay)
//   P22 = exp(−h/τ_m), P11x = exp(−h/τ_x), P20 = τ_m/C_m·(1 − P22) (mV/pA),
//   P21x = τ_m·τ_x/(C_m·(τ_m − τ_x))·(P22 − P11x) (mV/pA), all computed per neuron in float64 on
//   the host (src/model/propagators.ts) and rounded once to float32;
//   V ≥ V_th → V = V_reset, refractory for t_ref/h steps, spike.
// Each invocation owns LANES = 4 consecutive postsynaptic neurons j of one instance
// (workgroup_id.y), so each spike entry loaded serves four hashes and the per-invocation and
// per-iteration overheads (large on CPU drivers such as llvmpipe) are shared by four neurons:
//   1. pull: for every spike of the previous step in its own instance, regenerate the synapse
//      pre → j from the hash (procedural connectivity) and add its fixed-point weight
//      (i32, units 2^-16 pA; integer addition, so the order of spikes cannot change a bit);
//   2. update: the equations above in float32, in exactly the order of
//      src/engine/cpu/assembly/kernel.ts (each product is its own `let`, so nothing is fused);
//   3. emit: append a spike to this step's list (atomic slot), count it per population and,
//      while recording, append its id to the record.
// Spike lists are triple-buffered: read list t−1, append to list t, clear the counters of t+1.
// The host reads the bindings below from this file (step-kernel.ts kernelBindings) and supplies
// the counter offsets as pipeline constants (step-kernel.ts counterLayout): neither is repeated.

override WORKGROUP_SIZE: u32 = 64u;
const LANES: u32 = 4u;
override N: u32;
override N_E: u32;
override BATCH: u32;
override CLUSTERS: u32;
override N_E_PER_CLUSTER: u32;
// At least 1, so that the division below also compiles for networks without I neurons.
override N_I_PER_CLUSTER: u32;
// Maximum substeps per submit: the size of the per-substep record counters.
override MAX_SUBSTEPS: u32;
override POPULATIONS: u32;
// counters[] (host: step-kernel.ts CounterLayout): population counts (BATCH·POPULATIONS) from 0,
// loop-limit overflow flag, recorded total, recorded per substep (MAX_SUBSTEPS), then the spike
// list lengths [list 0..2][instance][E, I].
override LOOP_OVERFLOW: u32;
override RECORD_TOTAL: u32;
override RECORD_STEPS: u32;
override LIST_COUNTS: u32;

// Per-neuron constants (host-computed float32, identical to the CPU backend's).
struct Neuron {
  p22: f32,          // exp(−h/tau_m)
  p11Exc: f32,       // exp(−h/tau_syn,ex)
  p11Inh: f32,       // exp(−h/tau_syn,in)
  p21Exc: f32,       // mV per pA of excitatory synaptic current over a step
  p21Inh: f32,       // mV per pA of inhibitory synaptic current over a step
  p20: f32,          // mV per pA of constant current over a step
  backgroundPa: f32, // background current (pA)
  population: u32,   // E cluster q, or Q + q for I cluster q
  postKey: u32,      // connectivity hash key as postsynaptic partner (the presynaptic one is
                     // recomputed from the instance's preStream and the spike's index)
}

struct State {
  vMv: f32,          // membrane potential relative to E_L (mV)
  iExcPa: f32,
  iInhPa: f32,
  refractorySteps: u32,
}

struct Instance {
  // Fixed-point weights (2^-16 pA) at (postIsInh·4 + preIsInh·2 + sameCluster).
  weights: array<i32, 8>,
  // 31-bit connection thresholds at (postIsInh·2 + preIsInh).
  thresholds: array<u32, 4>,
  vThMv: f32,
  vResetMv: f32,
  refractorySteps: u32,
  // Key of the connectivityPre stream: preKey(i) = mix32(preStream + i·0x9e3779b9).
  preStream: u32,
}

struct RunParams {
  // Global step of substep 0, modulo 3: selects the spike lists.
  listPhase: u32,
  recording: u32,
  recordCapacity: u32,
  // Above this many spikes of one instance in one step, the gather loops would exceed the
  // driver's loop iteration limit (llvmpipe: 65535 per invocation); 0xffffffff where none.
  maxSpikesPerStep: u32,
}

struct Substep {
  // Index of this dispatch within the submit (dynamic uniform offset).
  index: u32,
}

@group(0) @binding(0) var<uniform> run: RunParams;
@group(0) @binding(1) var<uniform> substep: Substep;
@group(0) @binding(2) var<storage, read> neurons: array<Neuron>;
@group(0) @binding(3) var<storage, read> instances: array<Instance>;
@group(0) @binding(4) var<storage, read> stimPopulationPa: array<f32>;
@group(0) @binding(5) var<storage, read> stimNeuronPa: array<f32>;
@group(0) @binding(6) var<storage, read_write> states: array<State>;
// Spike lists [list][instance][N slots]: excitatory spikes (their index i) from slot 0,
// inhibitory ones (their index i − N_E) from slot N_E. One u32 per spike: on CPU drivers each
// loaded component costs a loop over the SIMD lanes, so the key and cluster are recomputed.
@group(0) @binding(7) var<storage, read_write> spikeLists: array<u32>;
@group(0) @binding(8) var<storage, read_write> counters: array<atomic<u32>>;
@group(0) @binding(9) var<storage, read_write> recordIds: array<u32>;

// mix32 on four values at once (rng.wgsl's, lane by lane).
fn mix32x4(value: vec4u) -> vec4u {
  var x = value;
  x ^= x >> vec4u(16u);
  x *= 0x7feb352du;
  x ^= x >> vec4u(15u);
  x *= 0x846ca68bu;
  x ^= x >> vec4u(16u);
  return x;
}

// What the four neurons of an invocation need to test and weigh a presynaptic spike.
struct Targets {
  postKey: vec4u,
  // Own index within the list's neuron type (j, or j − N_E for the I list): equal means autapse.
  selfIndex: vec4u,
  cluster: vec4u,
}

// Σ weight over the spikes in list[start, start + count) with a synapse onto each of the four
// neurons: synapse iff mix32(preKey ^ postKey) >> 1 < threshold, and not an autapse. Entries are
// indices within the presynaptic type (`offset` = 0 for E, N_E for I; `perCluster` its cluster size).
fn gather(start: u32, count: u32, offset: u32, perCluster: u32, preStream: u32, threshold: vec4u,
          weightOther: vec4i, weightSame: vec4i, targets: Targets) -> vec4i {
  var sum = vec4i(0);
  for (var k = 0u; k < count; k++) {
    let pre = spikeLists[start + k];
    // counterU32(preStream, i) of rng.ts.
    let preKey = vec4u(mix32(preStream + (pre + offset) * 0x9e3779b9u));
    let hashed = mix32x4(preKey ^ targets.postKey) >> vec4u(1u);
    let connected = (hashed < threshold) & (vec4u(pre) != targets.selfIndex);
    let weight = select(weightOther, weightSame, vec4u(pre / perCluster) == targets.cluster);
    sum += select(vec4i(0), weight, connected);
  }
  return sum;
}

// Fixed-point input (2^-16 pA) to pA: integer and fractional parts are exact in f32, one rounding.
fn fixedToPa(fixed: i32) -> f32 {
  let whole = f32(fixed >> 16u);
  let fraction = f32(fixed & 0xffffi) * (1.0 / 65536.0);
  return whole + fraction;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn step(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_index) local: u32) {
  let b = group.y;
  let first = (group.x * WORKGROUP_SIZE + local) * LANES;
  let list = (run.listPhase + substep.index) % 3u;
  let previousList = ((list + 2u) % 3u) * BATCH + b;
  // List t+1 is neither read nor written in step t: clear its lengths for the next step.
  if (group.x == 0u && local < 2u) {
    atomicStore(&counters[LIST_COUNTS + (((list + 1u) % 3u) * BATCH + b) * 2u + local], 0u);
  }
  if (first >= N) {
    return;
  }
  let countExc = atomicLoad(&counters[LIST_COUNTS + previousList * 2u]);
  let countInh = atomicLoad(&counters[LIST_COUNTS + previousList * 2u + 1u]);
  if (first == 0u && countExc + countInh > run.maxSpikesPerStep) {
    // The gather loops below would be cut short by the driver: flag it, never return a wrong sum.
    atomicStore(&counters[LOOP_OVERFLOW], 1u);
  }

  // 1. Input from the previous step's spikes (delay = one step), for the four neurons at once.
  // Lanes past N repeat neuron N−1 and are never written back.
  var targets: Targets;
  var isInh = vec4<bool>(false);
  for (var i = 0u; i < LANES; i++) {
    let j = min(first + i, N - 1u);
    let neuron = neurons[b * N + j];
    targets.postKey[i] = neuron.postKey;
    isInh[i] = j >= N_E;
    targets.cluster[i] = select(neuron.population, neuron.population - CLUSTERS, j >= N_E);
  }
  let own = vec4u(first) + vec4u(0u, 1u, 2u, 3u);
  // Weights at (postIsInh·4 + preIsInh·2 + sameCluster), thresholds at (postIsInh·2 + preIsInh).
  let w = &instances[b].weights;
  let t = &instances[b].thresholds;
  let preStream = instances[b].preStream;
  targets.selfIndex = own;
  let accExc = gather(previousList * N, countExc, 0u, N_E_PER_CLUSTER, preStream,
                      select(vec4u((*t)[0]), vec4u((*t)[2]), isInh),
                      select(vec4i((*w)[0]), vec4i((*w)[4]), isInh),
                      select(vec4i((*w)[1]), vec4i((*w)[5]), isInh), targets);
  targets.selfIndex = own - vec4u(N_E);
  let accInh = gather(previousList * N + N_E, countInh, N_E, N_I_PER_CLUSTER, preStream,
                      select(vec4u((*t)[1]), vec4u((*t)[3]), isInh),
                      select(vec4i((*w)[2]), vec4i((*w)[6]), isInh),
                      select(vec4i((*w)[3]), vec4i((*w)[7]), isInh), targets);

  for (var i = 0u; i < LANES; i++) {
    if (first + i < N) {
      update(b, first + i, accExc[i], accInh[i], list, substep.index);
    }
  }
}

// 2. and 3. for neuron j of instance b, given its fixed-point input.
fn update(b: u32, j: u32, accExc: i32, accInh: i32, list: u32, substepIndex: u32) {
  let g = b * N + j;
  let neuron = neurons[g];
  let postIsInh = j >= N_E;
  let inExcPa = fixedToPa(accExc);
  let inInhPa = fixedToPa(accInh);

  // V ← ((P22·V + P21ex·I_ex) + P21in·I_in) + P20·I_e outside refractoriness (mV);
  // I_x ← P11x·I_x + input (pA).
  let state = states[g];
  var v = state.vMv;
  var refractory = state.refractorySteps;
  if (refractory == 0u) {
    let stimulus = neuron.backgroundPa + stimPopulationPa[b * POPULATIONS + neuron.population];
    let externalPa = stimulus + stimNeuronPa[g];
    let decay = neuron.p22 * v;
    let fromExc = neuron.p21Exc * state.iExcPa;
    let fromInh = neuron.p21Inh * state.iInhPa;
    let fromExternal = neuron.p20 * externalPa;
    let partial = decay + fromExc;
    let synaptic = partial + fromInh;
    v = synaptic + fromExternal;
  } else {
    refractory -= 1u;
  }
  let decayedExc = neuron.p11Exc * state.iExcPa;
  let iExc = decayedExc + inExcPa;
  let decayedInh = neuron.p11Inh * state.iInhPa;
  let iInh = decayedInh + inInhPa;

  // Threshold crossing: reset, refractoriness, emit.
  if (v >= instances[b].vThMv) {
    v = instances[b].vResetMv;
    refractory = instances[b].refractorySteps;
    let current = list * BATCH + b;
    let kind = select(0u, 1u, postIsInh);
    let slot = atomicAdd(&counters[LIST_COUNTS + current * 2u + kind], 1u);
    let typeStart = select(0u, N_E, postIsInh);
    spikeLists[current * N + typeStart + slot] = j - typeStart;
    atomicAdd(&counters[b * POPULATIONS + neuron.population], 1u);
    if (run.recording != 0u) {
      let at = atomicAdd(&counters[RECORD_TOTAL], 1u);
      if (at < run.recordCapacity) {
        recordIds[at] = g;
      }
      atomicAdd(&counters[RECORD_STEPS + substepIndex], 1u);
    }
  }
  states[g] = State(v, iExc, iInh, refractory);
}
