/**
 * Finding a WebGPU adapter through Dawn (the `webgpu` package). Two paths exist and both are tested
 * without a GPU: Dawn's core path (a real GPU through Vulkan/Metal/D3D12; on a CPU-only machine
 * Mesa's lavapipe, a Vulkan driver on the CPU) and the compatibility path of Dawn's OpenGL ES
 * backend (Mesa's llvmpipe through surfaceless EGL). SPIKELOOP_WEBGPU_ADAPTER picks one; `auto`
 * asks for a core adapter first and falls back to OpenGL ES.
 */
import { lstatSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { create, globals } from 'webgpu';
import { EngineError } from '../engine.js';

/** Debian/Ubuntu packages that provide the software OpenGL ES driver Dawn falls back to. */
export const SOFTWARE_ADAPTER_PACKAGES = 'libegl1 libgles2 libegl-mesa0 libgl1-mesa-dri';
/** Debian/Ubuntu packages of the software Vulkan driver (lavapipe; Dawn needs Mesa ≥ 25). */
const SOFTWARE_VULKAN_PACKAGES = 'mesa-vulkan-drivers libvulkan1';

/** The environment variable that selects the adapter path. */
export const ADAPTER_VARIABLE = 'SPIKELOOP_WEBGPU_ADAPTER';
/**
 * `auto`: core, else OpenGL ES; `core`: any core backend (Vulkan, Metal, D3D12); `vulkan`: Dawn's
 * Vulkan backend only; `gl`: the OpenGL ES compatibility adapter only.
 */
export const ADAPTER_CHOICES = ['auto', 'core', 'vulkan', 'gl'] as const;
export type AdapterChoice = (typeof ADAPTER_CHOICES)[number];
/** One Dawn instance configuration that is asked for an adapter. */
type AdapterPath = 'core' | 'vulkan' | 'opengles';

const PATHS: Record<AdapterChoice, readonly AdapterPath[]> = {
  auto: ['core', 'opengles'],
  core: ['core'],
  vulkan: ['vulkan'],
  gl: ['opengles'],
};

/** The adapter choice SPIKELOOP_WEBGPU_ADAPTER names (unset or empty: auto). */
export function adapterChoice(value: string | undefined = process.env[ADAPTER_VARIABLE]): AdapterChoice {
  if (value === undefined || value === '') return 'auto';
  if (!(ADAPTER_CHOICES as readonly string[]).includes(value)) {
    throw new EngineError(`${ADAPTER_VARIABLE}="${value}": expected one of ${ADAPTER_CHOICES.join(', ')}`);
  }
  return value as AdapterChoice;
}

export interface AcquiredAdapter {
  adapter: GPUAdapter;
  /** Dawn backend that produced it. */
  backend: AdapterPath;
  /** vendor / architecture / description and path, for reports. */
  description: string;
}

let globalsInstalled = false;
/** Dawn instances are kept: creating one per engine costs time and leaks native state. */
const instances = new Map<AdapterPath, GPU>();

/**
 * libwayland-client prints "error: XDG_RUNTIME_DIR is invalid or not set in the environment." when
 * a Mesa driver probes for a Wayland display without one; an empty private runtime directory makes
 * that probe fail quietly (there is no display to find either way). One directory per user is
 * reused, so processes that are killed (test workers) leave nothing behind.
 */
function ensureRuntimeDir(): void {
  const current = process.env.XDG_RUNTIME_DIR;
  if (
    current !== undefined &&
    isAbsolute(current) &&
    statSync(current, { throwIfNoEntry: false })?.isDirectory()
  ) {
    return;
  }
  const uid = process.getuid?.() ?? 0;
  const shared = join(tmpdir(), `spikeloop-runtime-${uid}`);
  try {
    mkdirSync(shared, { mode: 0o700 });
  } catch {
    // Exists already: used below only if it is ours.
  }
  const info = lstatSync(shared, { throwIfNoEntry: false });
  // A directory someone else made (or a link) could hold a socket that is not ours: not used.
  if (info?.isDirectory() && info.uid === uid && (info.mode & 0o077) === 0) {
    process.env.XDG_RUNTIME_DIR = shared;
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'spikeloop-runtime-'));
  process.env.XDG_RUNTIME_DIR = dir;
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
}

function instance(path: AdapterPath): GPU {
  if (!globalsInstalled) {
    // The WebGPU constants (GPUBufferUsage, GPUMapMode, …) the engine uses are globals in browsers.
    Object.assign(globalThis, globals);
    ensureRuntimeDir();
    globalsInstalled = true;
  }
  let gpu = instances.get(path);
  if (!gpu) {
    // Mesa's EGL needs a platform; without a display server only "surfaceless" works.
    if (path === 'opengles') process.env.EGL_PLATFORM ??= 'surfaceless';
    gpu = create(path === 'opengles' ? ['backend=opengles'] : path === 'vulkan' ? ['backend=vulkan'] : []);
    instances.set(path, gpu);
  }
  return gpu;
}

const PATH_LABEL: Record<AdapterPath, string> = {
  core: 'core',
  vulkan: 'core, Vulkan',
  opengles: 'compatibility, OpenGL ES',
};

function describe(adapter: GPUAdapter, path: AdapterPath): string {
  const info = adapter.info;
  const parts = [info.vendor, info.architecture, info.device, info.description].filter(
    (part) => part && part.length > 0,
  );
  const name = parts.length > 0 ? parts.join(', ') : 'unknown adapter';
  return `${name} (WebGPU ${PATH_LABEL[path]})`;
}

function requestAdapter(path: AdapterPath): Promise<GPUAdapter | null> {
  return path === 'opengles'
    ? instance(path).requestAdapter({ featureLevel: 'compatibility' })
    : instance(path).requestAdapter({ powerPreference: 'high-performance' });
}

function missingAdapterHint(choice: AdapterChoice): string {
  const gl =
    `Without a GPU, WebGPU runs on Mesa's software OpenGL ES: install ${SOFTWARE_ADAPTER_PACKAGES} ` +
    `(e.g. sudo apt-get install ${SOFTWARE_ADAPTER_PACKAGES}) and set EGL_PLATFORM=surfaceless`;
  const vulkan =
    `Without a GPU, Vulkan runs on Mesa's lavapipe: install ${SOFTWARE_VULKAN_PACKAGES} from Mesa 25 or later ` +
    `(Debian 12: sudo apt-get install -t bookworm-backports ${SOFTWARE_VULKAN_PACKAGES})`;
  if (choice === 'gl' || choice === 'auto') return `${gl}; or use --backend cpu.`;
  return `${vulkan}; or ${ADAPTER_VARIABLE}=gl, or --backend cpu.`;
}

/** Whether the last probe found no adapter, per choice, so `auto` does not retry on every engine. */
const probed = new Map<AdapterChoice, boolean>();

/**
 * A fresh adapter on the path `choice` selects (an adapter is consumed by requestDevice, so each
 * engine asks for its own). Throws an EngineError naming the packages to install when none exists.
 */
export async function acquireAdapter(choice: AdapterChoice = adapterChoice()): Promise<AcquiredAdapter> {
  const failures: string[] = [];
  for (const path of PATHS[choice]) {
    try {
      const adapter = await requestAdapter(path);
      if (adapter) {
        probed.set(choice, true);
        return { adapter, backend: path, description: describe(adapter, path) };
      }
      failures.push(`${path}: no adapter`);
    } catch (error) {
      failures.push(`${path}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  probed.set(choice, false);
  const which = choice === 'auto' ? 'WebGPU adapter' : `WebGPU adapter for ${ADAPTER_VARIABLE}=${choice}`;
  throw new EngineError(`no ${which} found (${failures.join('; ')}). ${missingAdapterHint(choice)}`);
}

/** Software rasterisers: WebGPU works on them, but slower than the CPU backend on the same cores. */
const SOFTWARE_ADAPTER = /llvmpipe|softpipe|lavapipe|swiftshader|software/i;

export function isSoftwareAdapter(acquired: AcquiredAdapter): boolean {
  const info = acquired.adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  return info.isFallbackAdapter === true || SOFTWARE_ADAPTER.test(acquired.description);
}

/** Whether any WebGPU adapter (core or compatibility, hardware or software) can be created here. */
export async function webGpuAvailable(): Promise<boolean> {
  const choice = adapterChoice();
  const known = probed.get(choice);
  if (known !== undefined) return known;
  try {
    await acquireAdapter(choice);
    return true;
  } catch {
    return false;
  }
}

const hardwareProbes = new Map<AdapterChoice, Promise<boolean>>();

/**
 * Whether a WebGPU adapter on real GPU hardware exists: what `--backend auto` wants. On a machine
 * whose only adapter is a software rasteriser (Mesa llvmpipe or lavapipe), the CPU backend is
 * several times faster, so auto takes the CPU there (`--backend webgpu` still forces the software
 * adapter).
 */
export function hardwareWebGpuAvailable(): Promise<boolean> {
  const choice = adapterChoice();
  let probe = hardwareProbes.get(choice);
  if (!probe) {
    probe = acquireAdapter(choice).then(
      (acquired) => !isSoftwareAdapter(acquired),
      () => false,
    );
    hardwareProbes.set(choice, probe);
  }
  return probe;
}
