// Node-only: loads Dawn through the `webgpu` npm package and builds a WebGPUDevice on it.
// `bestDevice()` falls back to the CPU device with one warning line saying how to get WebGPU.

import { CpuDevice } from '../device/cpu.js';
import type { Device } from '../device/device.js';
import { WebGPUDevice, type WebGPUOptions } from '../device/webgpu.js';

let cached: Promise<WebGPUDevice> | null = null;

/**
 * Dawn instance flags from DAWN_FLAGS, separated by ';' or whitespace (not ',': a flag's value is itself a
 * comma list, e.g. DAWN_FLAGS='enable-dawn-features=allow_unsafe_apis,disable_robustness').
 */
export const dawnFlags = (): string[] => (process.env.DAWN_FLAGS ?? '').split(/[;\s]+/).filter(Boolean);
// Dawn tears its instance down when the GPU object is collected, taking live devices with it: hold it.
let instance: GPU | null = null;

const HOW_TO = 'install a Vulkan driver (Debian/Ubuntu: `bash scripts/setup-webgpu.sh` installs Mesa lavapipe) and set XDG_RUNTIME_DIR';

/**
 * Dawn's instance toggles for f16 mixed precision: NVIDIA's Vulkan driver exposes shader-f16 and subgroup
 * matrices (tensor cores) only with these (measured on an H200, Dawn 0.6.2); elsewhere they are harmless.
 */
const F16_FLAGS = 'enable-dawn-features=allow_unsafe_apis,vulkan_enable_f16_on_nvidia';

/**
 * The process-wide Dawn device (created once). Throws with advice if no adapter is found. `precision:
 * 'f16'` (asked before the first device is made) adds the Dawn toggles that expose f16 and subgroup
 * matrices, so users never set DAWN_FLAGS for it.
 */
export function nodeDevice(opts: WebGPUOptions & { precision?: 'f32' | 'f16' } = {}): Promise<WebGPUDevice> {
  cached ??= (async () => {
    if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = '/tmp';
    const { create, globals } = (await import('webgpu')) as unknown as { create(flags: string[]): GPU; globals: Record<string, unknown> };
    Object.assign(globalThis, globals);
    const flags = dawnFlags();
    if (opts.precision === 'f16') {
      const i = flags.findIndex((f) => f.startsWith('enable-dawn-features='));
      if (i < 0) flags.push(F16_FLAGS);
      else flags[i] += `,${F16_FLAGS.slice('enable-dawn-features='.length)}`;
    }
    const gpu = (instance ??= create(flags));
    try {
      return await WebGPUDevice.create(gpu, opts);
    } catch (e) {
      throw new Error(`${(e as Error).message}. To get WebGPU: ${HOW_TO}.`);
    }
  })();
  cached.catch(() => { cached = null; });
  return cached;
}

/** WebGPU when an adapter exists, else the CPU device (with one warning line). */
export async function bestDevice(opts: { device?: 'webgpu' | 'cpu' | 'auto'; precision?: 'f32' | 'f16' } = {}): Promise<Device> {
  const want = opts.device ?? 'auto';
  if (want === 'cpu') return new CpuDevice();
  try {
    return await nodeDevice({ precision: opts.precision });
  } catch (e) {
    if (want === 'webgpu') throw e;
    console.warn(`warning: no WebGPU adapter, running on the CPU (slow). ${HOW_TO}.`);
    return new CpuDevice();
  }
}

/** Destroys the Dawn device so the process can exit. */
export async function closeNodeDevice(): Promise<void> {
  if (!cached) return;
  const d = await cached.catch(() => null);
  d?.destroy();
  cached = null;
  instance = null;
}
