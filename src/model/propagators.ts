/**
 * Exact integration of the current-based LIF neuron with exponential synaptic currents
 * (NEST iaf_psc_exp), following Rotter & Diesmann (1999):
 *
 *   dV/dt = −(V − E_L)/tau_m + (I_ex + I_in + I_e)/C_m,   dI_x/dt = −I_x/tau_x
 *
 * Over one step h the state maps linearly: V ← P22·V + P21ex·I_ex + P21in·I_in + P20·I_e,
 * I_x ← P11x·I_x (V relative to E_L, mV; I in pA; C_m in pF; times in ms).
 */

/** P11 = exp(−h/tau_syn): decay of a synaptic current over one step. */
export function currentDecay(hMs: number, tauSynMs: number): number {
  return Math.exp(-hMs / tauSynMs);
}

/** P22 = exp(−h/tau_m): decay of the membrane potential over one step. */
export function membraneDecay(hMs: number, tauMembraneMs: number): number {
  return Math.exp(-hMs / tauMembraneMs);
}

/** P20 = tau_m/C_m·(1 − exp(−h/tau_m)): mV per pA of constant current over one step. */
export function constantCurrentGain(hMs: number, tauMembraneMs: number, capacitancePf: number): number {
  return (-tauMembraneMs / capacitancePf) * Math.expm1(-hMs / tauMembraneMs);
}

/**
 * P21 = tau_m·tau_s/(C_m·(tau_m − tau_s))·(exp(−h/tau_m) − exp(−h/tau_s)): mV per pA of synaptic
 * current over one step. Uses the limit h/C_m·exp(−h/tau) when the time constants coincide.
 */
export function synapticCurrentGain(
  hMs: number,
  tauMembraneMs: number,
  tauSynMs: number,
  capacitancePf: number,
) {
  const difference = tauMembraneMs - tauSynMs;
  if (Math.abs(difference) < 1e-9 * tauMembraneMs)
    return (hMs / capacitancePf) * Math.exp(-hMs / tauMembraneMs);
  // exp(−h/tm) − exp(−h/ts) = −exp(−h/tm)·expm1(h/tm − h/ts), without cancellation.
  const expDifference = -Math.exp(-hMs / tauMembraneMs) * Math.expm1(hMs / tauMembraneMs - hMs / tauSynMs);
  return ((tauMembraneMs * tauSynMs) / (capacitancePf * difference)) * expDifference;
}

/**
 * Peak of the postsynaptic potential (mV) caused by a synaptic current jump of 1 pA, and its time (ms):
 * V(t) = tau_m·tau_s/(C_m·(tau_m − tau_s))·(exp(−t/tau_m) − exp(−t/tau_s)).
 */
export function peakPsp(tauMembraneMs: number, tauSynMs: number, capacitancePf: number) {
  if (Math.abs(tauMembraneMs - tauSynMs) < 1e-9 * tauMembraneMs) {
    return { peakMv: tauMembraneMs / (capacitancePf * Math.E), peakTimeMs: tauMembraneMs };
  }
  const peakTimeMs = Math.log(tauSynMs / tauMembraneMs) / (1 / tauMembraneMs - 1 / tauSynMs);
  return { peakMv: pspAt(peakTimeMs, tauMembraneMs, tauSynMs, capacitancePf), peakTimeMs };
}

/** The closed-form PSP of a 1 pA current jump at time t (ms) after the jump. */
export function pspAt(tMs: number, tauMembraneMs: number, tauSynMs: number, capacitancePf: number): number {
  return synapticCurrentGain(tMs, tauMembraneMs, tauSynMs, capacitancePf);
}
