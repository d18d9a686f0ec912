/**
 * Finding a WebGPU adapter through Dawn (the `webgpu` package): a core adapter first (a real GPU
 * through Vulkan/Metal/D3D12), else the compatibility adapter of Dawn's OpenGL ES backend, which
 * on a machine without a GPU is Mesa's llvmpipe (software rasteriser, surfaceless EGL).
 */
import { create, globals } from 'webgpu';
import { EngineError } from '../engine.js';

/** Debian/Ubuntu packages that provide the software OpenGL ES driver Dawn falls back to. */
export const SOFTWARE_ADAPTER_PACKAGES = 'libegl1 libgles2 libegl-mesa0 libgl1-mesa-dri';

export interface AcquiredAdapter {
  adapter: GPUAdapter;
  /** Dawn backend that produced it. */
  backend: 'core' | 'opengles';
  /** vendor / architecture / description and backend, for reports. */
  description: string;
}

let globalsInstalled = false;
/** Dawn instances are kept: creating one per engine costs time and leaks native state. */
const instances = new Map<string, GPU>();

function instance(kind: 'core' | 'opengles'): GPU {
  if (!globalsInstalled) {
    // The WebGPU constants (GPUBufferUsage, GPUMapMode, …) the engine uses are globals in browsers.
    Object.assign(globalThis, globals);
    globalsInstalled = true;
  }
  let gpu = instances.get(kind);
  if (!gpu) {
    // Mesa's EGL needs a platform; without a display server only "surfaceless" works.
    if (kind === 'opengles') process.env.EGL_PLATFORM ??= 'surfaceless';
    gpu = create(kind === 'opengles' ? ['backend=opengles'] : []);
    instances.set(kind, gpu);
  }
  return gpu;
}

function describe(adapter: GPUAdapter, backend: 'core' | 'opengles'): string {
  const info = adapter.info;
  const parts = [info.vendor, info.architecture, info.device, info.description].filter(
    (part) => part && part.length > 0,
  );
  const name = parts.length > 0 ? parts.join(', ') : 'unknown adapter';
  return `${name} (WebGPU ${backend === 'core' ? 'core' : 'compatibility, OpenGL ES'})`;
}

/** Whether the last probe found no adapter, so `auto` does not retry on every engine. */
let probed: boolean | null = null;

/**
 * A fresh adapter (an adapter is consumed by requestDevice, so each engine asks for its own).
 * Throws an EngineError naming the packages to install when none exists.
 */
export async function acquireAdapter(): Promise<AcquiredAdapter> {
  const failures: string[] = [];
  for (const kind of ['core', 'opengles'] as const) {
    try {
      const adapter =
        kind === 'core'
          ? await instance(kind).requestAdapter({ powerPreference: 'high-performance' })
          : await instance(kind).requestAdapter({ featureLevel: 'compatibility' });
      if (adapter) {
        probed = true;
        return { adapter, backend: kind, description: describe(adapter, kind) };
      }
      failures.push(`${kind}: no adapter`);
    } catch (error) {
      failures.push(`${kind}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  probed = false;
  throw new EngineError(
    `no WebGPU adapter found (${failures.join('; ')}). Without a GPU, WebGPU runs on Mesa's software ` +
      `OpenGL ES: install ${SOFTWARE_ADAPTER_PACKAGES} (e.g. sudo apt-get install ${SOFTWARE_ADAPTER_PACKAGES}) ` +
      'and set EGL_PLATFORM=surfaceless; or use --backend cpu.',
  );
}

/** Software rasterisers: WebGPU works on them, but slower than the CPU backend on the same cores. */
const SOFTWARE_ADAPTER = /llvmpipe|softpipe|lavapipe|swiftshader|software/i;

export function isSoftwareAdapter(acquired: AcquiredAdapter): boolean {
  const info = acquired.adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  return info.isFallbackAdapter === true || SOFTWARE_ADAPTER.test(acquired.description);
}

/** Whether any WebGPU adapter (core or compatibility, hardware or software) can be created here. */
export async function webGpuAvailable(): Promise<boolean> {
  if (probed !== null) return probed;
  try {
    await acquireAdapter();
    return true;
  } catch {
    return false;
  }
}

let hardwareProbe: Promise<boolean> | null = null;

/**
 * Whether a WebGPU adapter on real GPU hardware exists: what `--backend auto` wants. On a machine
 * whose only adapter is a software rasteriser (Mesa llvmpipe), the CPU backend is several times
 * faster, so auto takes the CPU there (`--backend webgpu` still forces the software adapter).
 */
export function hardwareWebGpuAvailable(): Promise<boolean> {
  hardwareProbe ??= acquireAdapter().then(
    (acquired) => !isSoftwareAdapter(acquired),
    () => false,
  );
  return hardwareProbe;
}
