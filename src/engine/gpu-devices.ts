/**
 * Whether this machine may have a GPU at all, decided from device nodes without loading Dawn:
 * loading Dawn just to find no hardware adapter prints its probing messages (`Couldn't load
 * Vulkan`, `... artificially reduced ...`) on stderr from native code, which a CPU-only run should
 * not show. On Linux a hardware adapter needs a DRM render node (/dev/dri/renderD*: Mesa, AMD,
 * Intel), an NVIDIA node (/dev/nvidia0 …) or WSL's /dev/dxg; elsewhere the answer is "maybe".
 */
import { existsSync, readdirSync } from 'node:fs';

export function gpuDeviceNodesPresent(): boolean {
  if (process.platform !== 'linux') return true;
  if (existsSync('/dev/dxg') || existsSync('/dev/kfd')) return true;
  const inDir = (dir: string, pattern: RegExp) => {
    try {
      return readdirSync(dir).some((name) => pattern.test(name));
    } catch {
      return false;
    }
  };
  return inDir('/dev/dri', /^renderD\d+$/) || inDir('/dev', /^nvidia\d+$/);
}
