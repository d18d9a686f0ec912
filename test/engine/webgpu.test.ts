/**
 * The WebGPU backend against the CPU reference, on the adapter SPIKELOOP_WEBGPU_ADAPTER selects
 * (default auto). CI runs this file on both of Dawn's paths without a GPU: `vulkan` (Mesa's
 * lavapipe, mesa-vulkan-drivers libvulkan1 from Mesa 25) and `gl` (Mesa's llvmpipe through OpenGL ES,
 * libegl1 libgles2 libegl-mesa0 libgl1-mesa-dri). Without an adapter these tests fail, naming the
 * packages, rather than skip.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/create.js';
import { type Engine, EngineError } from '../../src/engine/engine.js';
import { simulateOffline } from '../../src/engine/offline.js';
import {
  ADAPTER_VARIABLE,
  acquireAdapter,
  adapterChoice,
  isSoftwareAdapter,
} from '../../src/engine/webgpu/adapter.js';
import { type DerivedNetwork, deriveNetwork } from '../../src/model/network.js';
import { modelParams } from '../../src/model/params.js';
import { SpikeFileWriter } from '../../src/telemetry/spike-file.js';
import { collectSpikes, isolatedNeurons } from './helpers.js';

const N = 2000;
const ONE_SECOND_STEPS = 10_000;
const network = (seed: number, overrides = {}) =>
  deriveNetwork(modelParams('ei-clustered', N, { seed, ...overrides }));

const engines: Engine[] = [];
async function build(backend: 'cpu' | 'webgpu', networks: DerivedNetwork[]): Promise<Engine> {
  const engine = await createEngine(backend, { networks });
  engines.push(engine);
  return engine;
}
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.dispose()));
});

/** Spike trains as one comparable string per step, so a mismatch prints the first differing step. */
async function trains(engine: Engine, steps: number): Promise<string[]> {
  return (await collectSpikes(engine, steps, 1000)).map((ids, step) => `${step}: ${ids.join(' ')}`);
}

describe('WebGPU adapter', () => {
  it('exists on this machine (core, or the software OpenGL ES one)', async () => {
    // Throws an EngineError naming the packages to install; that message is the failure reason.
    const acquired = await acquireAdapter();
    console.log(`[webgpu] adapter: ${acquired.description}`);
    expect(acquired.description.length).toBeGreaterThan(0);
  });

  it(`is on the path ${ADAPTER_VARIABLE} selects`, async () => {
    const choice = adapterChoice();
    const engine = await build('webgpu', [network(1)]);
    const expected = {
      auto: /\(WebGPU (core|compatibility, OpenGL ES)\)$/,
      core: /\(WebGPU core\)$/,
      vulkan: /\(WebGPU core, Vulkan\)$/,
      gl: /\(WebGPU compatibility, OpenGL ES\)$/,
    }[choice];
    console.log(`[webgpu] ${ADAPTER_VARIABLE}=${choice}: ${engine.adapter}`);
    expect(engine.adapter).toMatch(expected);
  });

  it(`refuses an unknown ${ADAPTER_VARIABLE}, naming the variable and the choices`, () => {
    expect(() => adapterChoice('metal')).toThrow(
      new EngineError(`${ADAPTER_VARIABLE}="metal": expected one of auto, core, vulkan, gl`),
    );
    expect(adapterChoice('')).toBe('auto');
    expect(adapterChoice('gl')).toBe('gl');
  });

  it('is what --backend auto picks on a hardware adapter; on a software one auto takes the CPU', async () => {
    const engine = await build('webgpu', [network(1)]);
    const acquired = await acquireAdapter();
    const auto = await createEngine('auto', { networks: [network(1)] });
    engines.push(auto);
    expect(auto.backend).toBe(isSoftwareAdapter(acquired) ? 'cpu' : 'webgpu');
    if (auto.backend === 'webgpu') expect(auto.adapter).toBe(engine.adapter);
    console.log(`[webgpu] ${acquired.description}: auto picks ${auto.backend}`);
    expect(engine.connectivity).toBe('procedural');
  });
});

describe('WebGPU and CPU backends give identical spike trains', () => {
  beforeAll(async () => {
    await acquireAdapter();
  });

  it(`N = ${N}, one instance, 1 s (${ONE_SECOND_STEPS} steps)`, async () => {
    const gpu = await trains(await build('webgpu', [network(7)]), ONE_SECOND_STEPS);
    const cpu = await trains(await build('cpu', [network(7)]), ONE_SECOND_STEPS);
    const spikes = gpu.reduce(
      (sum, line) => sum + line.split(' ').filter((id) => /^\d+$/.test(id)).length,
      0,
    );
    expect(spikes).toBeGreaterThan(5_000);
    expect(gpu).toEqual(cpu);
  });

  it(`N = ${N}, a batch of 3 instances with different seeds and parameters, 1 s`, async () => {
    const batch = [
      network(31),
      network(32, { jEPlus: 6, backgroundThresholdE: 2.3 }),
      // Unclustered (J+ = 1) with other inhibition and synaptic time constant.
      network(33, { jEPlus: 1, gE: 1.1, tauSynExcMs: 2.5 }),
    ];
    const gpuEngine = await build('webgpu', batch);
    const gpu = await trains(gpuEngine, ONE_SECOND_STEPS);
    const cpu = await trains(await build('cpu', batch), ONE_SECOND_STEPS);
    expect(gpu).toEqual(cpu);
    const perInstance = [0, 0, 0];
    for (const line of gpu) {
      for (const id of line.split(' ').slice(1)) {
        if (id !== '') perInstance[Math.floor(Number(id) / N)]!++;
      }
    }
    for (const count of perInstance) expect(count).toBeGreaterThan(2_000);
    // The final state agrees bit for bit too, not only the spikes.
    const cpuEngine = engines[engines.length - 1]!;
    for (const instance of [0, 2]) {
      const [a, b] = await Promise.all([gpuEngine.readState(instance), cpuEngine.readState(instance)]);
      expect(a.vMv).toEqual(b.vMv);
      expect(a.iExcPa).toEqual(b.iExcPa);
      expect(a.iInhPa).toEqual(b.iInhPa);
    }
  });

  it('with stimulus currents per population and per neuron, changed between runs', async () => {
    const runBoth = async (backend: 'cpu' | 'webgpu') => {
      const engine = await build(backend, [network(41), network(42)]);
      const counts: number[][] = [];
      const populations = engine.layout.populationCount;
      for (let tick = 0; tick < 60; tick++) {
        const currents = new Float32Array(populations);
        currents[tick % populations] = 3 + (tick % 7);
        engine.setPopulationCurrents(tick % 2, currents);
        if (tick === 20) {
          const perNeuron = new Float32Array(N).map((_, i) => (i % 13) * 0.25);
          engine.setNeuronCurrents(1, perNeuron);
        }
        if (tick === 40) engine.setNeuronCurrents(1, null);
        counts.push(Array.from(await engine.run(10)));
      }
      return counts;
    };
    const gpu = await runBoth('webgpu');
    expect(gpu).toEqual(await runBoth('cpu'));
  });

  it('the same state bits as the CPU even where currents and voltages decay into subnormal floats', async () => {
    // Two isolated E neurons, connected both ways; one spike, then nothing but decay for 2.3 s:
    // I_exc falls below 2^-126 after ~0.27 s and V after ~2 s. A driver flushing subnormals to
    // zero would differ here (llvmpipe keeps them, like JavaScript).
    const net = isolatedNeurons(2, { pEE: 1 });
    const states: number[][] = [];
    for (const backend of ['cpu', 'webgpu'] as const) {
      const engine = await build(backend, [net]);
      engine.setNeuronCurrents(0, new Float32Array([400, 0]));
      await engine.run(1);
      engine.setNeuronCurrents(0, null);
      const trace: number[] = [];
      for (const steps of [2700, 300, 20_000]) {
        await engine.run(steps);
        const state = await engine.readState(0);
        trace.push(state.iExcPa[1]!, state.vMv[1]!);
      }
      states.push(trace);
    }
    expect(states[1]).toEqual(states[0]);
    expect(states[0]![4]).toBeGreaterThan(0);
    expect(states[0]![4]).toBeLessThan(2 ** -126);
    expect(states[0]![5]).toBeLessThan(2 ** -126);
  });

  it('byte-identical --record spike files (simulateOffline + SpikeFileWriter, with warm-up)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spikeloop-webgpu-'));
    const record = async (backend: 'cpu' | 'webgpu') => {
      const path = join(dir, `${backend}.spk`);
      const writer = new SpikeFileWriter(path, { n: N, batch: 2, dtMs: 0.1 });
      const result = await simulateOffline({
        model: 'ei-clustered',
        n: N,
        durationS: 0.5,
        warmupS: 0.1,
        backend,
        seed: 4,
        batch: 2,
        onSpikes: (step, ids) => writer.write(step, ids),
      });
      await writer.close();
      return { result, bytes: readFileSync(path) };
    };
    const gpu = await record('webgpu');
    const cpu = await record('cpu');
    expect(gpu.result.backend).toBe('webgpu');
    expect(gpu.result.spikes).toBe(cpu.result.spikes);
    expect(gpu.result.spikes).toBeGreaterThan(1000);
    expect(Buffer.compare(gpu.bytes, cpu.bytes)).toBe(0);
  });
});

describe('WebGPU at scale and under failure', () => {
  it('builds N = 100,000 (≈ 3·10⁹ synapses) with O(N) device memory and steps it', async () => {
    const big = deriveNetwork(modelParams('ei-clustered', 100_000, { seed: 2 }));
    const engine = await build('webgpu', [big]);
    let spikes = 0;
    for (let tick = 0; tick < 3; tick++) {
      const counts = await engine.run(10);
      spikes += counts.reduce((sum, count) => sum + count, 0);
    }
    expect(engine.stepCount).toBe(30);
    // Random initial voltages up to threshold plus background input: neurons fire at once.
    expect(spikes).toBeGreaterThan(0);
    const buffers = engine.memory();
    const bytes = buffers.reduce((sum, buffer) => sum + buffer.bytes, 0);
    console.log(
      `[webgpu] N = 100,000: ${(bytes / 2 ** 20).toFixed(1)} MiB device memory in ${buffers.length} buffers ` +
        `(${(bytes / 100_000).toFixed(0)} B/neuron); ${spikes} spikes in 3 ticks`,
    );
    for (const name of ['neurons', 'states', 'spikeLists', 'counters', 'recordIds']) {
      expect(buffers.map((buffer) => buffer.name)).toContain(name);
    }
    expect(bytes).toBeLessThan(64 * 2 ** 20);
    const state = await engine.readState(0);
    expect(state.vMv.length).toBe(100_000);
    expect(state.vMv.every(Number.isFinite)).toBe(true);
  });

  it('refuses a batch that exceeds maxStorageBufferBindingSize, naming the limit', async () => {
    const { adapter } = await acquireAdapter();
    const limit = adapter.limits.maxStorageBufferBindingSize;
    const n = 100_000;
    // The state alone takes 16 bytes per neuron: enough instances that it passes the binding limit.
    const instances = Math.ceil(limit / (16 * n)) + 1;
    const one = deriveNetwork(modelParams('ei-clustered', n, { seed: 1 }));
    const error = await createEngine('webgpu', { networks: Array(instances).fill(one) }).catch((e) => e);
    if (!(error instanceof EngineError)) engines.push(error);
    expect(error).toBeInstanceOf(EngineError);
    expect(String(error.message)).toMatch(/maxStorageBufferBindingSize/);
    expect(String(error.message)).toMatch(/reduce N or the batch size/);
  });

  it('surfaces device loss as an EngineError on the next call', async () => {
    const engine = await build('webgpu', [network(1)]);
    await engine.run(10);
    (engine as unknown as { device: GPUDevice }).device.destroy();
    await expect(engine.run(10)).rejects.toThrow(/device was lost|WebGPU/);
    await expect(engine.run(10)).rejects.toBeInstanceOf(EngineError);
  });

  it('surfaces a validation error instead of returning stale counts', async () => {
    const engine = await build('webgpu', [network(1)]);
    await engine.run(10);
    // A destroyed buffer makes the next submit invalid: its copy into the readback never happens.
    (engine as unknown as { buffers: { spikeLists: GPUBuffer } }).buffers.spikeLists.destroy();
    await expect(engine.run(10)).rejects.toBeInstanceOf(EngineError);
    await expect(engine.readState(0)).rejects.toThrow(/WebGPU/);
  });

  it('refuses to return counts when a step had more spikes than the driver can loop over', async () => {
    const engine = await build('webgpu', [network(1)]);
    // llvmpipe cuts every shader off after 65535 loop iterations; a step with that many spikes of
    // one instance needs N > 65535 and a burst, so the test lowers the threshold instead.
    (engine as unknown as { maxSpikesPerStep: number }).maxSpikesPerStep = 3;
    await expect(engine.run(200)).rejects.toThrow(/loop iteration limit/);
    await expect(engine.run(1)).rejects.toBeInstanceOf(EngineError);
  });

  it('rejects overlapping calls and calls after dispose', async () => {
    const engine = await build('webgpu', [network(1)]);
    const first = engine.run(100);
    await expect(engine.run(1)).rejects.toThrow(/in flight/);
    await first;
    await engine.dispose();
    await expect(engine.run(1)).rejects.toThrow(/disposed/);
  });
});
