// Shared by the fused-kernel tests: run an op forward and backward on one device and read back
// the output and the gradients of loss = Σ y·w (w fixed pseudo-random weights, same on every device).

import type { Device, GpuCaps } from '../../src/device/device.js';
import type { HostArray } from '../../src/device/dtype.js';
import { Tensor, tensor } from '../../src/tensor/tensor.js';
import { dropout, matmul, mul, permute, reshape, sum } from '../../src/tensor/ops.js';
import { softmax } from '../../src/tensor/nnops.js';
import type { Rng } from '../../src/tensor/random.js';
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
 * Runs fn with some of the device's capabilities overridden (the device keys programs by caps, so the
 * kernels generate and compile the other variant); restores them afterwards.
 */
export async function withCaps<T>(dev: Device, over: Partial<GpuCaps>, fn: () => Promise<T>): Promise<T> {
  const caps = (dev as { caps?: GpuCaps }).caps;
  if (!caps) return fn();
  const prev = { ...caps };
  Object.assign(caps, over);
  try { return await fn(); } finally { Object.assign(caps, prev); }
}

/**
 * Every row-kernel path, whatever the device defaults to: one row per invocation (what software
 * adapters get), a workgroup per row with subgroup reductions (when the device has them), and with a
 * shared-memory tree.
 */
export async function rowPaths(dev: Device, fn: (path: string) => Promise<void>): Promise<void> {
  const caps = (dev as { caps?: GpuCaps }).caps;
  if (!caps) return fn('default');
  await withCaps(dev, { software: true }, () => fn('one row per invocation'));
  if (caps.subgroups) await withCaps(dev, { software: false }, () => fn('workgroup, subgroups'));
  await withCaps(dev, { software: false, subgroups: false }, () => fn('workgroup, shared memory'));
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

/**
 * Multi-head attention as the encoder composed it before the fused op (the reference for nnops.attention
 * and its bench): q, k, v [B, T, H] split into heads [B, nh, T, dh], scores q·kᵀ, masked softmax with
 * scale 1/√dh, dropout on the probabilities [B, nh, T, T] (p > 0: one stream of rng), ·v, heads merged.
 */
export function composedAttention(q: Tensor, k: Tensor, v: Tensor, heads: number, mask: Tensor | undefined, p: number, rng: Rng | null): Tensor {
  const [B, T, H] = q.shape, dh = H / heads;
  const split = (t: Tensor) => permute(reshape(t, [B, T, heads, dh]), [0, 2, 1, 3]);     // [B, nh, T, dh]
  let probs = softmax(matmul(split(q), split(k), { transB: true }), { mask, scale: 1 / Math.sqrt(dh) });
  if (p > 0 && rng) probs = dropout(probs, p, rng);
  return reshape(permute(matmul(probs, split(v)), [0, 2, 1, 3]), [B, T, H]);
}
