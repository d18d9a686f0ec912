import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ADAPTER_VARIABLE, adapterChoice } from '../../src/engine/webgpu/adapter.js';
import { parseSpikeFile } from '../../src/telemetry/spike-file.js';
import { runCli } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'spikeloop-simulate-'));

function simulate(name: string, ...extra: string[]) {
  const file = join(dir, `${name}.spk`);
  const result = runCli([
    'simulate',
    '--n',
    '2000',
    '--duration',
    '0.5',
    '--backend',
    'cpu',
    '--json',
    '--record',
    file,
    ...extra,
  ]);
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return { summary: JSON.parse(result.stdout) as Record<string, unknown>, bytes: readFileSync(file) };
}

describe('spikeloop simulate', () => {
  it('prints the JSON summary fields and records byte-identical files for one seed', () => {
    const first = simulate('a', '--seed', '4');
    const second = simulate('b', '--seed', '4', '--threads', '2');
    const other = simulate('c', '--seed', '5');
    for (const field of [
      'backend',
      'adapter',
      'n',
      'synapses',
      'durationS',
      'buildS',
      'wallS',
      'rtf',
      'rateE',
      'rateI',
    ]) {
      expect(first.summary).toHaveProperty(field);
    }
    expect(first.summary).toMatchObject({ backend: 'cpu', n: 2000, durationS: 0.5 });
    expect(first.summary.eventsPerS).toBeGreaterThan(0);
    expect(Buffer.compare(first.bytes, second.bytes)).toBe(0);
    expect(Buffer.compare(first.bytes, other.bytes)).not.toBe(0);
    const parsed = parseSpikeFile(first.bytes);
    expect(parsed).toMatchObject({ n: 2000, batch: 1, dtMs: 0.1 });
    const spikes = parsed.ids.reduce((sum, ids) => sum + ids.length, 0);
    expect(spikes).toBe(first.summary.spikes);
    expect(Math.max(...parsed.steps)).toBeLessThan(5000);
  });

  it('records the same bytes on the WebGPU backend as on the CPU backend', () => {
    const record = (backend: string) => {
      const file = join(dir, `backend-${backend}.spk`);
      const args = [
        'simulate',
        '--n',
        '2000',
        '--duration',
        '0.5',
        '--seed',
        '9',
        '--record',
        file,
        '--json',
      ];
      // Without XDG_RUNTIME_DIR, as under a service manager or in a container.
      const { XDG_RUNTIME_DIR: _unset, ...env } = process.env;
      const result = runCli([...args, '--backend', backend], 120_000, undefined, env);
      // Dawn prints adapter warnings on stderr; the summary on stdout says what ran.
      expect(result.status).toBe(0);
      const summary = JSON.parse(result.stdout);
      expect(summary.backend).toBe(backend);
      if (backend === 'webgpu') {
        console.log(`[simulate] ${ADAPTER_VARIABLE}=${adapterChoice()}: ${summary.adapter}`);
        if (adapterChoice() === 'vulkan') expect(summary.adapter).toMatch(/\(WebGPU core, Vulkan\)$/);
        if (adapterChoice() === 'gl') expect(summary.adapter).toMatch(/\(WebGPU compatibility, OpenGL ES\)$/);
        // Mesa's Wayland probe complains when XDG_RUNTIME_DIR is unusable; the CLI provides one.
        expect(result.stderr).not.toMatch(/XDG_RUNTIME_DIR/);
      }
      return readFileSync(file);
    };
    const cpu = record('cpu');
    const webgpu = record('webgpu');
    expect(parseSpikeFile(cpu).ids.length).toBeGreaterThan(100);
    expect(Buffer.compare(webgpu, cpu)).toBe(0);
  });

  it("prints one result as key/value lines and holds back Dawn's probing unless --verbose", () => {
    const args = ['simulate', '--n', '200', '--duration', '0.05', '--warmup', '0', '--backend', 'webgpu'];
    const quiet = runCli(args);
    expect(quiet.status, quiet.stderr).toBe(0);
    expect(quiet.stdout).toMatch(/^backend +webgpu$/m);
    expect(quiet.stdout).toMatch(/^n +200$/m);
    expect(quiet.stderr).not.toMatch(/artificially reduced|Couldn't load Vulkan|^Warning: /m);
    // --verbose is accepted by every command (Dawn's lines, if it prints any here, pass through).
    const verbose = runCli([...args, '--verbose']);
    expect(verbose.status, verbose.stderr).toBe(0);
    expect(verbose.stdout).toMatch(/^backend +webgpu$/m);
  });

  it('names the bad option or parameter', () => {
    const badN = runCli(['simulate', '--n', '2001', '--backend', 'cpu']);
    expect(badN.status).not.toBe(0);
    expect(badN.stderr).toMatch(/invalid parameter n: N = 2001 .*multiple of 5·Q = 100/);
    const badDuration = runCli(['simulate', '--duration', 'soon']);
    expect(badDuration.status).not.toBe(0);
    expect(badDuration.stderr).toMatch(/--duration must be a number > 0 and ≤ 100000 s, got "soon"/);
    const badModel = runCli(['simulate', '--model', 'hopfield']);
    expect(badModel.stderr).toMatch(/expected one of ei-clustered, balanced/);
  });
});

describe(`spikeloop simulate and ${ADAPTER_VARIABLE}`, () => {
  const tiny = ['simulate', '--backend', 'webgpu', '--n', '200', '--duration', '0.01'];

  it('refuses an unknown adapter path in one line naming the variable', () => {
    const result = runCli(tiny, 60_000, undefined, { ...process.env, [ADAPTER_VARIABLE]: 'metal' });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      `spikeloop: ${ADAPTER_VARIABLE}="metal": expected one of auto, core, vulkan, gl\n`,
    );
  });

  it("keeps Mesa's Wayland probe quiet without XDG_RUNTIME_DIR, and names what is missing", () => {
    // EGL on the Wayland platform (no display here) is where libwayland-client complains about
    // XDG_RUNTIME_DIR; the engine gives it a private directory first.
    const { XDG_RUNTIME_DIR: _unset, ...env } = process.env;
    const result = runCli(tiny, 60_000, undefined, {
      ...env,
      EGL_PLATFORM: 'wayland',
      [ADAPTER_VARIABLE]: 'gl',
    });
    expect(result.status).toBe(1);
    expect(result.stderr).not.toMatch(/XDG_RUNTIME_DIR/);
    expect(result.stderr).toMatch(
      new RegExp(`^spikeloop: no WebGPU adapter for ${ADAPTER_VARIABLE}=gl found .*libegl1 libgles2`, 'm'),
    );
  });
});
