// Fused attention (src/kernels/attention.ts through nnops.attention): the forward and dQ, dK, dV against
// the composed path the encoder used before (heads split, matmul, masked softmax, dropout on the
// probabilities, matmul, heads merged) on the CPU device and on WebGPU (every kernel variant), against
// finite differences in float64, with padding masks (a fully padded batch row, padding inside a tile),
// dropout on and off (same seed and stream ⇒ same result), head sizes 32 and 64 (and odd ones), T = 1,
// 127, 128, 512; determinism, streams drawn, no leaks, program reuse, variant choice, and bad inputs.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { assertClose, checkGrad, cpu, gpu, rand } from '../helpers.js';
import { assertNoLeak, composedAttention, fwdBwd, type In, withCaps } from './fused.js';
import type { Device, GpuCaps } from '../../src/device/device.js';
import type { WebGPUDevice } from '../../src/device/webgpu.js';
import { ShapeError } from '../../src/device/shape.js';
import { type Tensor, tensor } from '../../src/tensor/tensor.js';
import { attention } from '../../src/tensor/nnops.js';
import { Rng } from '../../src/tensor/random.js';
import { type AttentionParams, attentionDkvKernel, attentionDqKernel, attentionForwardKernel, selectAttention } from '../../src/kernels/attention.js';

const s = suite('kernels/attention');

interface Case { B: number; T: number; nh: number; dh: number; masked: boolean; p: number }

const fused = (heads: number, p: number, seed: number) => (q: Tensor, k: Tensor, v: Tensor, m?: Tensor) =>
  attention(q, k, v, { heads, mask: m, dropout: { p, rng: new Rng(seed) }, training: true });
const composed = (heads: number, p: number, seed: number) => (q: Tensor, k: Tensor, v: Tensor, m?: Tensor) =>
  composedAttention(q, k, v, heads, m, p, new Rng(seed));

/**
 * A padding mask [B, T]: batch 0 keeps every key, batch 1 (when B > 1) none, later ones keep the first
 * ⌈T/3⌉ + 5 (for T = 127: 48 keys, so the padding starts inside the second 32-key tile).
 */
function padMask(B: number, T: number): Float64Array {
  const m = new Float64Array(B * T);
  for (let b = 0; b < B; b++) m.fill(1, b * T, b * T + (b === 0 ? T : b === 1 ? 0 : Math.min(T, Math.ceil(T / 3) + 5)));
  return m;
}

function inputs(c: Case, seed: number): In[] {
  const n = c.B * c.T * c.nh * c.dh, shape = [c.B, c.T, c.nh * c.dh];
  const ins: In[] = [{ data: rand(n, seed, -2, 2), shape }, { data: rand(n, seed + 1, -2, 2), shape }, { data: rand(n, seed + 2), shape }];
  if (c.masked) ins.push({ data: padMask(c.B, c.T), shape: [c.B, c.T] });
  return ins;
}

const name = (c: Case) => `[B ${c.B}, T ${c.T}, ${c.nh}×${c.dh}]${c.masked ? ' masked' : ''}${c.p ? ` dropout ${c.p}` : ''}`;

/** Fused vs composed on one device (same seed, so the same dropout mask): output and the three gradients. */
async function checkVsComposed(dev: Device, c: Case, what: string): Promise<void> {
  const ins = inputs(c, 11 + c.T);
  const f = await fwdBwd(dev, fused(c.nh, c.p, 3), ins, [0, 1, 2]);
  const e = await fwdBwd(dev, composed(c.nh, c.p, 3), ins, [0, 1, 2]);
  const lbl = `${name(c)} ${what}`;
  assertClose(f.y, e.y, { atol: 1e-5, rtol: 1e-4, label: `${lbl} out` });
  ['dQ', 'dK', 'dV'].forEach((g, i) => assertClose(f.grads[i], e.grads[i], { atol: 2e-5, rtol: 1e-3, label: `${lbl} ${g}` }));
}

/**
 * Runs fn under each kernel variant, whatever the device defaults to (its caps choose): GPU staging with
 * rows split over lanes (subgroups; 2 lanes at dh 64, 4 at dh 128) and whole, subgroup broadcast, direct loads.
 */
async function loadPaths(dev: Device, fn: (path: string) => Promise<void>): Promise<void> {
  const sg = !!dev.caps?.subgroups && (dev.caps.subgroupMinSize ?? 0) >= 8;
  if (sg) await withCaps(dev, { software: false }, () => fn('staged, split rows'));
  await withCaps(dev, { software: false, subgroups: false }, () => fn('staged'));
  if (sg) await withCaps(dev, { software: true }, () => fn('broadcast'));
  await withCaps(dev, { software: true, subgroups: false }, () => fn('direct'));
}

s('CPU: fused attention equals the composed path (forward, dQ, dK, dV)', async () => {
  const cases: Case[] = [
    { B: 2, T: 5, nh: 2, dh: 4, masked: false, p: 0 },
    { B: 3, T: 7, nh: 2, dh: 3, masked: true, p: 0 },
    { B: 3, T: 9, nh: 1, dh: 8, masked: true, p: 0.3 },
    { B: 1, T: 1, nh: 2, dh: 32, masked: false, p: 0.1 },
    { B: 3, T: 37, nh: 2, dh: 32, masked: true, p: 0.1 },
    { B: 3, T: 127, nh: 1, dh: 64, masked: true, p: 0.1 },
  ];
  for (const c of cases) await checkVsComposed(cpu, c, 'cpu');
});

s('attention gradients match finite differences (float64)', async () => {
  const ins = inputs({ B: 3, T: 4, nh: 2, dh: 3, masked: true, p: 0 }, 5);
  await checkGrad(fused(2, 0, 1), ins, { wrt: [0, 1, 2], label: 'attention masked' });
  // Dropout: a fresh Rng each call, so every evaluation draws the same mask.
  await checkGrad(fused(2, 0.4, 9), ins.slice(0, 3), { label: 'attention dropout' });
  await checkGrad((q, k, v, m) => attention(q, k, v, { heads: 1, mask: m, scale: 0.7, dropout: { p: 0.25, rng: new Rng(4) }, training: true }),
    inputs({ B: 2, T: 5, nh: 1, dh: 4, masked: true, p: 0 }, 8), { wrt: [0, 1, 2], label: 'attention 1 head, scale 0.7, mask and dropout' });
});

s('WebGPU: fused attention equals the composed path, every kernel variant', async () => {
  const dev = await gpu();
  if (!dev) return;
  // Head sizes 64 and 32; T = 1, 127 (odd: unaligned dropout words, padding inside a tile), 128; dh 8
  // (two vectors), 6 (vec2), 5 (scalars), 128.
  const every: Case[] = [
    { B: 3, T: 1, nh: 2, dh: 32, masked: true, p: 0.1 },
    { B: 3, T: 127, nh: 2, dh: 64, masked: true, p: 0.1 },
    { B: 3, T: 128, nh: 2, dh: 32, masked: true, p: 0.1 },
    { B: 2, T: 128, nh: 2, dh: 64, masked: false, p: 0 },
    { B: 1, T: 40, nh: 1, dh: 128, masked: true, p: 0.1 },  // 16-row tiles; split 4 on the staged path
  ];
  await loadPaths(dev, async (path) => { for (const c of every) await checkVsComposed(dev, c, path); });
  const more: Case[] = [
    { B: 1, T: 1, nh: 2, dh: 64, masked: false, p: 0 },
    { B: 3, T: 77, nh: 3, dh: 8, masked: true, p: 0.2 },
    { B: 2, T: 33, nh: 2, dh: 6, masked: true, p: 0.1 },
    { B: 2, T: 30, nh: 3, dh: 5, masked: false, p: 0.1 },
  ];
  for (const c of more) await checkVsComposed(dev, c, 'default variant');
});

s('WebGPU: T = 512 (16 key tiles, dropout, padding) matches the composed path and the CPU reference', async () => {
  const dev = await gpu();
  if (!dev) return;
  const c: Case = { B: 3, T: 512, nh: 1, dh: 64, masked: true, p: 0.1 };
  await checkVsComposed(dev, c, 'default variant');
  const ins = inputs(c, 2);
  const g = await fwdBwd(dev, fused(1, 0.1, 6), ins, [0, 1, 2]);
  const e = await fwdBwd(cpu, fused(1, 0.1, 6), ins, [0, 1, 2]);
  assertClose(g.y, e.y, { atol: 1e-5, rtol: 1e-4, label: 'T 512 WebGPU vs CPU out' });
  ['dQ', 'dK', 'dV'].forEach((n, i) => assertClose(g.grads[i], e.grads[i], { atol: 2e-5, rtol: 1e-3, label: `T 512 WebGPU vs CPU ${n}` }));
});

s('a fully padded batch row attends exactly as with no mask (the mask is shifted by its max)', async () => {
  const dev = await gpu();
  const c: Case = { B: 2, T: 40, nh: 2, dh: 8, masked: true, p: 0 };
  const ins = inputs(c, 21);
  for (const d of dev ? [cpu, dev] : [cpu]) {
    const masked = await fwdBwd(d, fused(2, 0, 1), ins, [0, 1, 2]);
    const plain = await fwdBwd(d, fused(2, 0, 1), ins.slice(0, 3), [0, 1, 2]);
    const half = c.T * c.nh * c.dh; // batch 1 is fully padded
    assertClose(masked.y.subarray(half), plain.y.subarray(half), { atol: 0, rtol: 0, label: `${d.kind} fully padded row` });
  }
});

s('WebGPU: two runs give the same bits (forward and gradients, with dropout)', async () => {
  const dev = await gpu();
  if (!dev) return;
  const c: Case = { B: 3, T: 127, nh: 2, dh: 64, masked: true, p: 0.1 };
  const ins = inputs(c, 4);
  await loadPaths(dev, async (path) => {
    const a = await fwdBwd(dev, fused(2, 0.1, 8), ins, [0, 1, 2]);
    const b = await fwdBwd(dev, fused(2, 0.1, 8), ins, [0, 1, 2]);
    assertClose(b.y, a.y, { atol: 0, rtol: 0, label: `${path} out` });
    a.grads.forEach((g, i) => assertClose(b.grads[i], g, { atol: 0, rtol: 0, label: `${path} grad ${i}` }));
  });
});

s('dropout: one stream per training call; none in eval or at p = 0; a different stream gives a different mask', async () => {
  const c: Case = { B: 2, T: 9, nh: 2, dh: 4, masked: false, p: 0 };
  const [q, k, v] = inputs(c, 3).map((i) => tensor(i.data, i.shape, { device: cpu }));
  const rng = new Rng(1);
  const plain = await attention(q, k, v, { heads: 2, training: false }).data();
  const evalOut = await attention(q, k, v, { heads: 2, dropout: { p: 0.5, rng }, training: false }).data();
  const p0 = await attention(q, k, v, { heads: 2, dropout: { p: 0, rng }, training: true }).data();
  assert.is(rng.counter, 0, 'eval and p = 0 draw no stream');
  assertClose(evalOut, plain, { atol: 0, rtol: 0, label: 'eval ignores dropout' });
  assertClose(p0, plain, { atol: 0, rtol: 0, label: 'p = 0 is no dropout' });
  const d1 = await attention(q, k, v, { heads: 2, dropout: { p: 0.5, rng }, training: true }).data();
  const d2 = await attention(q, k, v, { heads: 2, dropout: { p: 0.5, rng }, training: true }).data();
  assert.is(rng.counter, 2, 'one stream per training call');
  assert.ok(d1.some((x, i) => x !== d2[i]), 'streams 0 and 1 drop different probabilities');
  assert.ok(d1.some((x, i) => x !== plain[i]), 'dropout changes the output');
});

s('WebGPU: new dropout streams reuse the compiled programs (the draw is uniform-only)', async () => {
  const dev = await gpu();
  if (!dev) return;
  const gd = dev as WebGPUDevice;
  const ins = inputs({ B: 2, T: 20, nh: 2, dh: 8, masked: true, p: 0 }, 9);
  const rng = new Rng(3);
  const run = () => fwdBwd(dev, (q, k, v, m) => attention(q, k, v, { heads: 2, mask: m, dropout: { p: 0.1, rng }, training: true }), ins, [0, 1, 2]);
  await run();
  const p0 = gd.stats.programsCreated;
  const a = await run(), b = await run();
  assert.is(gd.stats.programsCreated, p0, 'no new programs for streams 1 and 2');
  assert.ok(a.y.some((x, i) => x !== b.y[i]), 'the streams differ');
});

s('variant choice: broadcast on software adapters with subgroups, split staged rows on GPUs, ≤ 19 KiB of workgroup memory', () => {
  const caps: GpuCaps = { maxWorkgroupSize: 1024, maxWorkgroupStorage: 32768, subgroups: true, f16: false, subgroupMinSize: 8 };
  const shape = { B: 8, T: 128, nh: 4, dh: 64 };
  assert.equal(selectAttention(shape, { ...caps, software: true }), { rows: 64, tile: 32, load: 'broadcast', split: 1 });
  assert.equal(selectAttention(shape, { ...caps, software: true, subgroups: false }), { rows: 64, tile: 32, load: 'direct', split: 1 });
  assert.equal(selectAttention({ ...shape, B: 128 }, caps), { rows: 64, tile: 32, load: 'staged', split: 2 });
  assert.equal(selectAttention({ ...shape, dh: 128 }, caps), { rows: 32, tile: 16, load: 'staged', split: 4 });
  assert.equal(selectAttention({ ...shape, dh: 32 }, caps), { rows: 32, tile: 32, load: 'staged', split: 1 });
  assert.equal(selectAttention(shape, { ...caps, subgroups: false }), { rows: 32, tile: 32, load: 'staged', split: 1 });
  for (const dh of [4, 8, 32, 64, 96, 128, 256]) {
    const p: AttentionParams = { B: 2, T: 128, nh: 1, dh, scale: 1, masked: true, dropout: true, k0: 0, k1: 0, stream: 0, thr: 0, dscale: 1 };
    const c = selectAttention(p, caps);
    for (const k of [attentionForwardKernel, attentionDqKernel, attentionDkvKernel]) {
      const code = k.wgsl({ ...p, config: c }, caps).code;
      const nvs = Number(/const NVS = (\d+)u/.exec(code)?.[1]), w = dh % 4 ? (dh % 2 ? 1 : 2) : 4;
      let bytes = 0;
      for (const m of code.matchAll(/var<workgroup> \w+: array<(\w+), (\d+)( \* NVS)?>/g)) {
        bytes += Number(m[2]) * (m[3] ? nvs * w : m[1] === 'vec2f' ? 2 : 1) * 4;
      }
      assert.ok(bytes > 0 && bytes <= 19 * 1024, `dh ${dh} ${k.name}: ${bytes} bytes of workgroup memory`);
    }
  }
});

s('attention forward + backward free every temporary (WebGPU pool)', async () => {
  const dev = await gpu();
  if (!dev) return;
  const ins = inputs({ B: 3, T: 20, nh: 2, dh: 8, masked: true, p: 0 }, 1);
  await assertNoLeak(dev, 'attention', () => fwdBwd(dev, fused(2, 0.1, 2), ins, [0, 1, 2]));
  await assertNoLeak(dev, 'attention, no mask, no dropout', () => fwdBwd(dev, fused(2, 0, 2), ins.slice(0, 3), [0, 1, 2]));
});

s('empty batches and sequences (CPU and WebGPU)', async () => {
  const dev = await gpu();
  for (const d of dev ? [cpu, dev] : [cpu]) {
    for (const shape of [[0, 5, 8], [2, 0, 8]]) {
      const r = await fwdBwd(d, fused(2, 0.1, 1), [{ data: [], shape }, { data: [], shape }, { data: [], shape }], [0, 1, 2]);
      assert.is(r.y.length + r.grads[0].length, 0, `${d.kind} attention [${shape}]`);
    }
  }
});

s('attention rejects bad shapes, dtypes and rates before any dispatch', async () => {
  const dev = await gpu();
  const t = (shape: number[], d: Device = cpu) => tensor(rand(shape.reduce((a, b) => a * b, 1)), shape, { device: d });
  const q = t([2, 3, 8]), k = t([2, 3, 8]), v = t([2, 3, 8]);
  assert.throws(() => attention(q, t([2, 4, 8]), v, { heads: 2, training: false }), (e: Error) => e instanceof ShapeError && /q \[2, 3, 8\], k \[2, 4, 8\], v \[2, 3, 8\] must all be \[B, T, H\]/.test(e.message));
  assert.throws(() => attention(t([6, 8]), t([6, 8]), t([6, 8]), { heads: 2, training: false }), /must all be \[B, T, H\]/);
  assert.throws(() => attention(q, k, v, { heads: 3, training: false }), (e: Error) => e instanceof ShapeError && /3 heads do not divide H = 8/.test(e.message));
  assert.throws(() => attention(q, k, v, { heads: 2, mask: t([3, 2]), training: false }), /mask \[3, 2\] does not match .* \(want \[2, 3\] = \[batch, keys\]\)/);
  assert.throws(() => attention(q, k, v, { heads: 2, dropout: { p: 1, rng: new Rng(1) }, training: true }), (e: Error) => e instanceof RangeError && /rate must be in \[0, 1\), got 1/.test(e.message));
  assert.throws(() => attention(q, k, v, { heads: 2, dropout: { p: 0.1, rng: null }, training: true }), /training with dropout needs dropout.rng/);
  assert.throws(() => attention(tensor(new Int32Array(48), [2, 3, 8], { device: cpu }), k, v, { heads: 2, training: false }), (e: Error) => e instanceof TypeError && /attention: expected f32/.test(e.message));
  if (dev) {
    assert.throws(() => attention(q, k, t([2, 3, 8], dev), { heads: 2, training: false }), /inputs live on different devices/);
    const big = t([1, 2, 516], dev), rng = new Rng(1);
    assert.throws(() => attention(big, big, big, { heads: 1, dropout: { p: 0.1, rng }, training: true }), /head size 516 .* over the WebGPU kernels' 256/);
    assert.is(rng.counter, 0, 'no stream drawn by a rejected call');
    big.dispose();
  }
});

s.run();
