// Shared by the fused-kernel tests: run an op forward and backward on one device and read back
// the output and the gradients of loss = Σ y·w (w fixed pseudo-random weights, same on every device).

import type { Device, GpuCaps } from '../../src/tensor/device.js';
import type { HostArray } from '../../src/tensor/dtype.js';
import { Tensor, tensor } from '../../src/tensor/tensor.js';
import { mul, sum } from '../../src/tensor/ops.js';
import { rand } from '../helpers.js';

export interface In { data: ArrayLike<number>; shape: number[]; dtype?: 'f32' | 'i32' }

export async function fwdBwd(dev: Device, f: (...xs: Tensor[]) => Tensor, inputs: In[], wrt: number[]): Promise<{ y: HostArray; grads: HostArray[] }> {
  const xs = inputs.map((i) => tensor(i.data, i.shape, { device: dev, dtype: i.dtype ?? 'f32' }));
  wrt.forEach((i) => { xs[i].requiresGrad = true; });
  const y = f(...xs);
  const w = tensor(rand(y.size, 7), [...y.shape], { device: dev });
  const yw = mul(y, w), l = sum(yw);
  const out = await y.data();
  let grads: HostArray[] = [];
  if (wrt.length) {
    l.backward();
    grads = await Promise.all(wrt.map((i) => xs[i].grad!.data()));
  }
  for (const t of [...xs, y, w, yw, l]) { t.grad?.dispose(); t.dispose(); }
  return { y: out, grads };
}

/** Integer ids in [0, v) (deterministic), as an Int32Array. */
export function randInts(n: number, v: number, seed: number): Int32Array {
  return Int32Array.from(rand(n, seed, 0, 1), (u) => Math.min(v - 1, Math.floor(u * v)));
}

/**
 * Runs fn with the device's subgroup capability hidden, so the row kernels take the shared-memory
 * reduction path (different WGSL, its own pipelines); restores it afterwards.
 */
export async function withoutSubgroups<T>(dev: Device, fn: () => Promise<T>): Promise<T> {
  const caps = (dev as { caps?: GpuCaps }).caps;
  if (!caps) return fn();
  const prev = caps.subgroups;
  caps.subgroups = false;
  try { return await fn(); } finally { caps.subgroups = prev; }
}

/** Both reduction paths a device offers: subgroups (when it has them) and shared memory. */
export async function bothPaths(dev: Device, fn: (path: string) => Promise<void>): Promise<void> {
  const caps = (dev as { caps?: GpuCaps }).caps;
  if (caps?.subgroups) await fn('subgroups');
  await withoutSubgroups(dev, () => fn('shared memory'));
}

/** Fails if a second run of fn leaves more bytes in use on dev than the first (a leaked temporary). */
export async function assertNoLeak(dev: Device, label: string, fn: () => Promise<unknown>): Promise<void> {
  await fn();
  await dev.sync();
  const before = dev.memory().bytesInUse;
  await fn();
  await dev.sync();
  const after = dev.memory().bytesInUse;
  // Only growth counts: finalizers may release storages leaked by earlier tests meanwhile.
  if (after > before) throw new Error(`${label}: bytes in use grew ${before} → ${after} over one forward + backward`);
}
