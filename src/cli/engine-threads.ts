/**
 * The CPU thread count of a closed loop when --threads is not given: the policy of
 * engine/cpu/cost-model.ts chooseThreads ('loop': the fewest threads whose compute stays under
 * half the tick), from this machine's calibrated cost per thread count when a hardware profile of
 * the same CPU model and core count has one (cost/profile.ts machineThreadCost), otherwise from
 * the built-in cost model. Offline commands pass the measured cost to the engine instead
 * (EngineOptions.measuredThreadCost) and keep its 'offline' choice: the fastest.
 */

import { machineThreadCost } from '../cost/profile.js';
import { defaultThreads } from '../engine/cpu/cpu-engine.js';
import type { ConnectivityMode, CpuWaitMode, ThreadFit } from '../engine/engine.js';
import { type DerivedNetwork, synapseCount } from '../model/network.js';

export function loopThreads(
  network: DerivedNetwork,
  options: {
    connectivity?: ConnectivityMode;
    waitMode?: CpuWaitMode;
    /** Measured cost per thread count (default: this machine's profile, if any; [] for the cost model). */
    measured?: readonly ThreadFit[];
  },
): number {
  return defaultThreads(network.layout.n, synapseCount(network.params), {
    dtMs: network.params.dtMs,
    procedural: options.connectivity === 'procedural',
    neuronsPerInstance: network.layout.n,
    waitMode: options.waitMode,
    purpose: 'loop',
    measured: options.measured ?? machineThreadCost()?.fits,
  });
}
