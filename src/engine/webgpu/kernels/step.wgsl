// One 0.1 ms substep of every neuron of the batch, in ONE dispatch (prepended: rng.wgsl).
// Each invocation is one postsynaptic neuron g = instance·N + j:
//   1. pull: for every spike of the previous step in its own instance, regenerate the synapse
//      pre → j from the hash (procedural connectivity) and add its fixed-point weight
//      (i32, units 2^-16 pA; integer addition, so the order of spikes cannot change a bit);
//   2. update: iaf_psc_exp with exact propagators in float32, in exactly the order of
//      src/engine/cpu/kernel.ts (each product is its own `let`, so nothing is fused);
//   3. emit: append a spike to this step's list (atomic slot), count it per population and,
//      while recording, append its id to the record.
// Spike lists are triple-buffered: read list t−1, append to list t, clear the counters of t+1.

override WORKGROUP_SIZE: u32 = 128u;
override N: u32;
override N_E: u32;
override BATCH: u32;
override CLUSTERS: u32;
// Maximum substeps per submit: the size of the per-substep record counters.
override MAX_SUBSTEPS: u32;
override POPULATIONS: u32 = 2u * CLUSTERS;
// counters[]: population counts (BATCH·POPULATIONS), loop-limit overflow flag, recorded total,
// recorded per substep (MAX_SUBSTEPS), then the spike list lengths [list 0..2][instance][E, I].
override LOOP_OVERFLOW: u32 = BATCH * POPULATIONS;
override RECORD_TOTAL: u32 = LOOP_OVERFLOW + 1u;
override RECORD_STEPS: u32 = RECORD_TOTAL + 1u;
override LIST_COUNTS: u32 = RECORD_STEPS + MAX_SUBSTEPS;

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
  preKey: u32,       // connectivity hash key as presynaptic partner
  postKey: u32,      // connectivity hash key as postsynaptic partner
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
  pad: u32,
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
// Spike list entries: (preKey, cluster) of a neuron that spiked; [list][instance][N slots],
// excitatory spikes from slot 0, inhibitory ones from slot N_E.
@group(0) @binding(7) var<storage, read_write> spikeLists: array<vec2u>;
@group(0) @binding(8) var<storage, read_write> counters: array<atomic<u32>>;
@group(0) @binding(9) var<storage, read_write> recordIds: array<u32>;

// Σ weight over the spikes in list[start, start + count) that have a synapse onto this neuron.
fn gather(start: u32, count: u32, threshold: u32, weightOther: i32, weightSame: i32,
          postKey: u32, selfPreKey: u32, cluster: u32) -> i32 {
  var sum = 0i;
  for (var k = 0u; k < count; k++) {
    let pre = spikeLists[start + k];
    // Synapse iff mix32(preKey ^ postKey) >> 1 < threshold, and not an autapse (pre keys are
    // distinct within an instance, so equal keys mean the same neuron).
    let connected = (mix32(pre.x ^ postKey) >> 1u) < threshold && pre.x != selfPreKey;
    let weight = select(weightOther, weightSame, pre.y == cluster);
    sum += select(0i, weight, connected);
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
fn step(@builtin(workgroup_id) group: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_index) local: u32) {
  let g = (group.y * groups.x + group.x) * WORKGROUP_SIZE + local;
  let list = (run.listPhase + substep.index) % 3u;
  clearNextLists(g, list);
  if (g < BATCH * N) {
    updateNeuron(g, list, substep.index);
  }
}

// List t+1 is neither read nor written in step t: clear its lengths for the next step.
fn clearNextLists(invocation: u32, list: u32) {
  if (invocation < 2u * BATCH) {
    atomicStore(&counters[LIST_COUNTS + ((list + 1u) % 3u) * 2u * BATCH + invocation], 0u);
  }
}

fn updateNeuron(g: u32, list: u32, substepIndex: u32) {
  let previous = (list + 2u) % 3u;
  let b = g / N;
  let j = g - b * N;
  let neuron = neurons[g];
  let instance = instances[b];
  let postIsInh = j >= N_E;
  let cluster = select(neuron.population, neuron.population - CLUSTERS, postIsInh);
  let weightBase = select(0u, 4u, postIsInh);
  let thresholdBase = select(0u, 2u, postIsInh);

  // 1. Input from the previous step's spikes (delay = one step).
  let previousList = previous * BATCH + b;
  let countExc = atomicLoad(&counters[LIST_COUNTS + previousList * 2u]);
  let countInh = atomicLoad(&counters[LIST_COUNTS + previousList * 2u + 1u]);
  if (j == 0u && countExc + countInh > run.maxSpikesPerStep) {
    // The gather loops below would be cut short by the driver: flag it, never return a wrong sum.
    atomicStore(&counters[LOOP_OVERFLOW], 1u);
  }
  let accExc = gather(previousList * N, countExc, instance.thresholds[thresholdBase],
                      instance.weights[weightBase], instance.weights[weightBase + 1u],
                      neuron.postKey, neuron.preKey, cluster);
  let accInh = gather(previousList * N + N_E, countInh, instance.thresholds[thresholdBase + 1u],
                      instance.weights[weightBase + 2u], instance.weights[weightBase + 3u],
                      neuron.postKey, neuron.preKey, cluster);
  let inExcPa = fixedToPa(accExc);
  let inInhPa = fixedToPa(accInh);

  // 2. V ← ((P22·V + P21ex·I_ex) + P21in·I_in) + P20·I_e outside refractoriness (mV);
  //    I_x ← P11x·I_x + input (pA).
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

  // 3. Threshold crossing: reset, refractoriness, emit.
  if (v >= instance.vThMv) {
    v = instance.vResetMv;
    refractory = instance.refractorySteps;
    let current = list * BATCH + b;
    let kind = select(0u, 1u, postIsInh);
    let slot = atomicAdd(&counters[LIST_COUNTS + current * 2u + kind], 1u);
    spikeLists[current * N + select(0u, N_E, postIsInh) + slot] = vec2u(neuron.preKey, cluster);
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
