/**
 * The host's side of kernels/step.wgsl, checked against the kernel source itself (no adapter
 * needed): every binding the kernel declares has a buffer, every constant the host supplies is
 * declared, and the counter words do not overlap.
 */
import { describe, expect, it } from 'vitest';
import { BUFFER_OF_VARIABLE } from '../../src/engine/webgpu/device.js';
import { BUFFER_NAMES } from '../../src/engine/webgpu/plan.js';
import {
  counterLayout,
  kernelBindings,
  kernelConstants,
  kernelSource,
  MAX_SUBSTEPS_PER_SUBMIT,
  runParamsWords,
} from '../../src/engine/webgpu/step-kernel.js';
import { deriveNetwork } from '../../src/model/network.js';
import { modelParams } from '../../src/model/params.js';

const source = kernelSource();
const layout = deriveNetwork(modelParams('ei-clustered', 2000)).layout;

describe('step.wgsl and its host', () => {
  it('binds ten buffers, numbered 0..9, each one the host has', () => {
    const bindings = kernelBindings(source);
    expect(bindings.map((b) => b.binding)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(bindings.map((b) => [b.variable, b.access])).toEqual([
      ['run', 'uniform'],
      ['substep', 'uniform'],
      ['neurons', 'read-only-storage'],
      ['instances', 'read-only-storage'],
      ['stimPopulationPa', 'read-only-storage'],
      ['stimNeuronPa', 'read-only-storage'],
      ['states', 'storage'],
      ['spikeLists', 'storage'],
      ['counters', 'storage'],
      ['recordIds', 'storage'],
    ]);
    for (const { variable } of bindings) expect(BUFFER_NAMES).toContain(BUFFER_OF_VARIABLE[variable]);
    expect(Object.keys(BUFFER_OF_VARIABLE).sort()).toEqual(bindings.map((b) => b.variable).sort());
  });

  it('declares every constant the host supplies as an override without a default it would shadow', () => {
    const overrides = new Map(
      [...source.matchAll(/^override (\w+): u32( = [^;]+)?;/gm)].map(([, name, initial]) => [name, initial]),
    );
    for (const name of Object.keys(kernelConstants(layout, 3))) {
      expect(overrides.has(name), `override ${name} in step.wgsl`).toBe(true);
    }
    // Offsets computed on the host only: the kernel must not carry its own formula for them.
    for (const name of ['POPULATIONS', 'LOOP_OVERFLOW', 'RECORD_TOTAL', 'RECORD_STEPS', 'LIST_COUNTS']) {
      expect(overrides.get(name), name).toBeUndefined();
    }
  });

  it('lays the counters out back to back without overlap', () => {
    const batch = 3;
    const counters = counterLayout(layout, batch);
    expect(counters.populationCounts).toBe(0);
    expect(counters.loopOverflow).toBe(batch * layout.populationCount);
    expect(counters.recordTotal).toBe(counters.loopOverflow + 1);
    expect(counters.recordSteps).toBe(counters.recordTotal + 1);
    expect(counters.listCounts).toBe(counters.recordSteps + MAX_SUBSTEPS_PER_SUBMIT);
    // Lengths of 3 lists × batch × (E, I).
    expect(counters.words).toBe(counters.listCounts + 3 * batch * 2);
    expect(kernelConstants(layout, batch)).toMatchObject({
      LOOP_OVERFLOW: counters.loopOverflow,
      RECORD_TOTAL: counters.recordTotal,
      RECORD_STEPS: counters.recordSteps,
      LIST_COUNTS: counters.listCounts,
      POPULATIONS: layout.populationCount,
    });
  });

  it('writes RunParams in the order struct RunParams declares its fields', () => {
    const struct = /struct RunParams \{([^}]*)\}/.exec(source)![1]!;
    const fields = [...struct.matchAll(/^\s*(\w+): u32,/gm)].map(([, name]) => name);
    expect(fields).toEqual(['listPhase', 'recording', 'recordCapacity', 'maxSpikesPerStep']);
    const words = runParamsWords({ listPhase: 2, recording: true, recordCapacity: 7, maxSpikesPerStep: 9 });
    expect(Array.from(words)).toEqual([2, 1, 7, 9]);
  });
});
