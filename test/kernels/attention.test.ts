// Fused attention (src/kernels/attention.ts through nnops.attention): the forward and dQ, dK, dV against
// the composed path the encoder used before (heads split, matmul, masked softmax, dropout on the
// probabilities, matmul, heads merged) on the CPU device and on WebGPU (every kernel variant), against
// finite differences in float64, with padding masks (a fully padded batch row, padding across a tile
// boundary), dropout on and off (same seed and stream ⇒ same result), head sizes 32 and 64 (and odd
// ones), T = 1, 127, 128, 512; determinism, no leaks, and clear errors for bad shapes.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { assertClose, checkGrad, cpu, gpu, rand } from '../helpers.js';
import { assertNoLeak, fwdBwd, type In, withCaps } from './fused.js';
import type { Device } from '../../src/device/device.js';
import { ShapeError } from '../../src/device/shape.js';
import { type Tensor, tensor } from '../../src/tensor/tensor.js';
import * as o from '../../src/tensor/ops.js';
import { attention, softmax } from '../../src/tensor/nnops.js';
import { Rng } from '../../src/tensor/random.js';

const s = suite('kernels/attention');

interface Case { B: number; T: number; nh: number; dh: number; masked: boolean; p: number }

/** The attention the encoder composed before the fused op: the reference. */
function composed(q: Tensor, k: Tensor, v: Tensor, heads: number, mask: Tensor | undefined, p: number, seed: number): Tensor {
  const [B, T, H] = q.shape, dh = H / heads;
  const split = (t: Tensor) => o.permute(o.reshape(t, [B, T, heads, dh]), [0, 2, 1, 3]);     // [B, nh, T, dh]
  let probs = softmax(o.matmul(split(q), split(k), { transB: true }), { mask, scale: 1 / Math.sqrt(dh) });
  if (p > 0) probs = o.dropout(probs, p, new Rng(seed));
  return o.reshape(o.permute(o.matmul(probs, split(v)), [0, 2, 1, 3]), [B, T, H]);
}

const fused = (heads: number, p: number, seed: number) => (q: Tensor, k: Tensor, v: Tensor, m?: Tensor) =>
  attention(q, k, v, { heads, mask: m, dropout: { p, rng: new Rng(seed) }, training: true });

/**
 * Runs fn under each kernel variant, whatever the device defaults to (its caps choose): GPU staging with
 * rows split over two lanes (subgroups) and whole, subgroup broadcast, direct loads.
 */
async function loadPaths(dev: Device, fn: (path: string) => Promise<void>): Promise<void> {
  const sg = !!dev.caps?.subgroups && (dev.caps.subgroupMinSize ?? 0) >= 8;
  if (sg) await withCaps(dev, { software: false }, () => fn('staged, split rows'));
  await withCaps(dev, { software: false, subgroups: false }, () => fn('staged'));
  if (sg) await withCaps(dev, { software: true }, () => fn('broadcast'));
  await withCaps(dev, { software: true, subgroups: false }, () => fn('direct'));
}

/**
 * A padding mask [B, T]: batch 0 keeps every key, batch 1 (when B > 1) none, later ones keep the first
 * ⌈T/3⌉ + 5 (padding starts inside a 32-key tile, not on its edge).
 */
function padMask(B: number, T: number): Float64Array {
  const m = new Float64Array(B * T);
  for (let b = 0; b < B; b++) {
    const valid = b === 0 ? T : b === 1 ? 0 : Math.min(T, Math.ceil(T / 3) + 5);
    m.fill(1, b * T, b * T + valid);
  }
  return m;
}

function inputs(c: Case, seed: number): In[] {
  const n = c.B * c.T * c.nh * c.dh, shape = [c.B, c.T, c.nh * c.dh];
  const ins: In[] = [{ data: rand(n, seed, -2, 2), shape }, { data: rand(n, seed + 1, -2, 2), shape }, { data: rand(n, seed + 2), shape }];
  if (c.masked) ins.push({ data: padMask(c.B, c.T), shape: [c.B, c.T] });
  return ins;
}

const name = (c: Case) => `[B ${c.B}, T ${c.T}, ${c.nh}×${c.dh}]${c.masked ? ' masked' : ''}${c.p ? ` dropout ${c.p}` : ''}`;

/** Fused vs composed on one device: output and the three gradients. */
async function checkVsComposed(dev: Device, c: Case, what: string, tol = { atol: 2e-5, rtol: 1e-3 }): Promise<void> {
  const ins = inputs(c, 11 + c.T);
  const f = await fwdBwd(dev, fused(c.nh, c.p, 3), ins, [0, 1, 2]);
  const e = await fwdBwd(dev, (q, k, v, m) => composed(q, k, v, c.nh, m, c.p, 3), ins, [0, 1, 2]);
  const lbl = `${name(c)} ${what}`;
  assertClose(f.y, e.y, { atol: 1e-5, rtol: 1e-4, label: `${lbl} out` });
  ['dQ', 'dK', 'dV'].forEach((g, i) => assertClose(f.grads[i], e.grads[i], { ...tol, label: `${lbl} ${g}` }));
}

s('CPU: fused attention equals the composed path (forward, dQ, dK, dV)', async () => {
  const cases: Case[] = [
    { B: 2, T: 5, nh: 2, dh: 4, masked: false, p: 0 },
    { B: 3, T: 7, nh: 2, dh: 3, masked: true, p: 0 },
    { B: 3, T: 9, nh: 1, dh: 8, masked: true, p: 0.3 },
    { B: 1, T: 1, nh: 2, dh: 32, masked: false, p: 0.1 },
    { B: 3, T: 37, nh: 2, dh: 32, masked: true, p: 0.1 },
    { B: 2, T: 64, nh: 1, dh: 64, masked: true, p: 0 },
  ];
  for (const c of cases) await checkVsComposed(cpu, c, 'cpu');
});

s('attention gradients match finite differences (float64)', async () => {
  const c: Case = { B: 3, T: 4, nh: 2, dh: 3, masked: true, p: 0 };
  const ins = inputs(c, 5);
  await checkGrad(fused(2, 0, 1), ins, { wrt: [0, 1, 2], label: 'attention masked' });
  // Dropout: a fresh Rng each call, so every evaluation draws the same mask.
  await checkGrad(fused(2, 0.4, 9), ins.slice(0, 3), { label: 'attention dropout' });
  await checkGrad((q, k, v, m) => attention(q, k, v, { heads: 1, mask: m, scale: 0.7, dropout: { p: 0.25, rng: new Rng(4) }, training: true }),
    inputs({ B: 2, T: 5, nh: 1, dh: 4, masked: true, p: 0 }, 8), { wrt: [0, 1, 2], label: 'attention 1 head, scale 0.7, mask and dropout' });
});

// WebGPU cases: head sizes 32 and 64 (and 8, 12, 20: vec4 over few vectors; 6: vec2; 5: scalar), T
// around the tile sizes, padding, dropout.
const gpuCases: Case[] = [
  { B: 1, T: 1, nh: 2, dh: 64, masked: false, p: 0 },
  { B: 3, T: 1, nh: 2, dh: 32, masked: true, p: 0.1 },
  { B: 3, T: 127, nh: 2, dh: 64, masked: true, p: 0.1 },
  { B: 3, T: 128, nh: 2, dh: 32, masked: true, p: 0.1 },
  { B: 2, T: 128, nh: 2, dh: 64, masked: false, p: 0 },
  { B: 3, T: 77, nh: 3, dh: 8, masked: true, p: 0.2 },
  { B: 2, T: 33, nh: 2, dh: 6, masked: true, p: 0.1 },
  { B: 2, T: 30, nh: 3, dh: 5, masked: false, p: 0.1 },
  { B: 1, T: 40, nh: 1, dh: 128, masked: false, p: 0.1 },
];

s('WebGPU: fused attention equals the composed path, every kernel variant', async () => {
  const dev = await gpu();
  if (!dev) return;
  await loadPaths(dev, async (path) => { for (const c of gpuCases) await checkVsComposed(dev, c, path); });
});

s.run();
