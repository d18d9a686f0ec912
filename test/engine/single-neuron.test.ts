import { afterEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import { WEIGHT_SCALE } from '../../src/model/network.js';
import { pspAt } from '../../src/model/propagators.js';
import { BACKENDS, buildEngine, isolatedNeurons } from './helpers.js';

describe.each(BACKENDS)('single neuron on the %s backend', (backend) => {
  let engine: Engine | undefined;
  afterEach(async () => {
    await engine?.dispose();
    engine = undefined;
  });

  it('follows V(t) = I·tau_m/C·(1 − exp(−t/tau_m)) under a constant current', async () => {
    engine = await buildEngine(backend, { networks: [isolatedNeurons(1)] });
    const currentPa = 0.7; // subthreshold: I·tau_m/C = 14 mV < 20 mV
    engine.setNeuronCurrents(0, new Float32Array([currentPa]));
    let maxError = 0;
    for (let step = 1; step <= 2000; step++) {
      await engine.run(1);
      const { vMv } = await engine.readState(0);
      const exact = currentPa * 20 * -Math.expm1(-(step * 0.1) / 20);
      maxError = Math.max(maxError, Math.abs(vMv[0]! - exact));
      // float32 has 24 bits: one ulp at 14 mV is 9.5e-7 mV; rounding accumulates over the decay time.
      expect(Math.abs(vMv[0]! - exact)).toBeLessThan(2e-5 * Math.max(exact, 1e-3) + 1e-6);
    }
    console.log(`[${backend}] constant current: max |V − closed form| = ${maxError.toExponential(2)} mV`);
  });

  it('follows the closed-form PSP after one input spike, delivered after one step of delay', async () => {
    // Two E neurons connected both ways (p = 1, no autapses); no background input.
    const network = isolatedNeurons(2, { pEE: 1 });
    engine = await buildEngine(backend, { networks: [network] });
    // A one-step pulse makes neuron 0 fire at step 0: V = P20·I ≥ 20 mV.
    engine.setNeuronCurrents(0, new Float32Array([400, 0]));
    const spikesAt: number[] = [];
    engine.onSpikes((step, ids) => {
      if (ids.includes(0)) spikesAt.push(step);
    });
    await engine.run(1);
    engine.setNeuronCurrents(0, null);
    expect(spikesAt).toEqual([0]);
    const weightPa = network.weightsFixed[0]! / WEIGHT_SCALE; // E→E, same (only) cluster
    // Step 1 delivers the spike: the current jumps, the membrane responds from step 2 on.
    await engine.run(1);
    let state = await engine.readState(0);
    expect(state.iExcPa[1]).toBe(Math.fround(weightPa));
    expect(state.vMv[1]).toBe(0);
    let maxError = 0;
    for (let k = 1; k <= 600; k++) {
      await engine.run(1);
      state = await engine.readState(0);
      const exact = weightPa * pspAt(k * 0.1, 20, 3, 1);
      maxError = Math.max(maxError, Math.abs(state.vMv[1]! - exact));
      expect(Math.abs(state.vMv[1]! - exact)).toBeLessThan(2e-5 * Math.abs(exact) + 1e-6);
      expect(state.iExcPa[1]).toBeCloseTo(weightPa * Math.exp(-(k * 0.1) / 3), 5);
    }
    expect(spikesAt).toEqual([0]);
    console.log(
      `[${backend}] PSP: max |V − closed form| = ${maxError.toExponential(2)} mV, w = ${weightPa} pA`,
    );
  });

  it('fires at 1/(t_ref + T) under a constant suprathreshold current', async () => {
    engine = await buildEngine(backend, { networks: [isolatedNeurons(1)] });
    const currentPa = 2; // I·tau_m/C = 40 mV
    engine.setNeuronCurrents(0, new Float32Array([currentPa]));
    const spikeSteps: number[] = [];
    engine.onSpikes((step, ids) => {
      if (ids.length > 0) spikeSteps.push(step);
    });
    const counts = await engine.run(20_000);
    const firstPassageMs = 20 * Math.log((currentPa * 20) / (currentPa * 20 - 20));
    const intervals = spikeSteps.slice(1).map((s, k) => (s - spikeSteps[k]!) * 0.1);
    // The spike is detected at the end of the step that crosses threshold: the period is quantised to dt.
    for (const intervalMs of intervals) {
      expect(intervalMs).toBeGreaterThanOrEqual(5 + firstPassageMs - 1e-9);
      expect(intervalMs).toBeLessThanOrEqual(5 + firstPassageMs + 0.1 + 1e-9);
    }
    const rateHz = (counts[0]! / 2) * 1;
    const expectedHz = 1000 / (5 + firstPassageMs);
    expect(rateHz).toBeGreaterThan(expectedHz * 0.99);
    expect(rateHz).toBeLessThan(expectedHz * 1.01);
    console.log(
      `[${backend}] rate under ${currentPa} pA: ${rateHz} Hz, 1/(t_ref + T) = ${expectedHz.toFixed(3)} Hz`,
    );
  });

  it('holds the membrane at V_reset for t_ref after a spike', async () => {
    engine = await buildEngine(backend, { networks: [isolatedNeurons(1)] });
    engine.setNeuronCurrents(0, new Float32Array([400]));
    const fired: number[] = [];
    engine.onSpikes((step, ids) => ids.length > 0 && fired.push(step));
    await engine.run(1);
    expect(fired).toEqual([0]);
    engine.setNeuronCurrents(0, new Float32Array([1]));
    for (let step = 1; step <= 50; step++) {
      await engine.run(1);
      expect((await engine.readState(0)).vMv[0]).toBe(0);
    }
    await engine.run(1);
    expect((await engine.readState(0)).vMv[0]).toBe(
      Math.fround(Math.fround(1 * Math.fround(-20 * Math.expm1(-0.1 / 20)))),
    );
    expect(fired).toEqual([0]);
  });
});
