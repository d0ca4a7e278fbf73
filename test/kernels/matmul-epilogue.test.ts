// The matmul store epilogues ('bias', 'biasGelu', 'biasGeluPre') for every candidate config on awkward
// and fit shapes against the float64 CPU reference, and the `linear` op built on them: gradients
// against finite differences (float64 CPU), WebGPU forward and gradients equal the CPU's (including
// the split-K fallback and a shape with no gradient, which skips the pre-activation output), bad shapes.
// Tolerance: 1e-5·√K·(1 + |value|) (f32 accumulation; GELU's derivative is at most ~1.13).

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type MatmulConfig, type MatmulEpilogue, type MatmulParams, configName, configSupported, epilogueRef, matmulCandidates, matmulKernel, matmulRef, selectMatmul } from '../../src/kernels/matmul.js';
import { noGrad } from '../../src/autograd/tape.js';
import { linear } from '../../src/tensor/nnops.js';
import * as o from '../../src/tensor/ops.js';
import { type Tensor, tensor, tidy } from '../../src/tensor/tensor.js';
import type { Device } from '../../src/device/device.js';
import { ShapeError } from '../../src/device/shape.js';
import { assertClose, checkGrad, cpu, gpu, rand } from '../helpers.js';

const s = suite('matmul epilogues and linear');

interface Case { batch: number; m: number; n: number; k: number; transA: boolean; transB: boolean }

async function check(dev: Device, c: Case, config: MatmulConfig, epilogue: MatmulEpilogue, seed = 1): Promise<void> {
  const ad = rand(c.batch * c.m * c.k, seed), bd = rand(c.batch * c.k * c.n, seed + 7), bias = rand(c.n, seed + 3, -2, 2);
  const p: MatmulParams = { batch: c.batch, m: c.m, n: c.n, k: c.k, transA: c.transA, transB: c.transB, strideA: c.m * c.k, strideB: c.k * c.n, config, epilogue };
  const want = new Float64Array(c.batch * c.m * c.n), wantPre = new Float64Array(want.length);
  matmulRef(p, ad, bd, want);
  epilogueRef(p, bias, want, wantPre);
  const a = tensor(ad, [c.batch, ...(c.transA ? [c.k, c.m] : [c.m, c.k])], { device: dev });
  const b = tensor(bd, [c.batch, ...(c.transB ? [c.n, c.k] : [c.k, c.n])], { device: dev });
  const bt = tensor(bias, [c.n], { device: dev });
  const shape = [c.batch, c.m, c.n];
  const outs = o.launch(matmulKernel, p, [a, b, bt], epilogue === 'biasGeluPre' ? [{ shape, dtype: 'f32' }, { shape, dtype: 'f32' }] : [{ shape, dtype: 'f32' }], 'epilogue test', dev);
  const what = `${configName(config)} ${epilogue} ${c.transA ? 'T' : 'N'}${c.transB ? 'T' : 'N'} b${c.batch} ${c.m}x${c.n}x${c.k}`;
  const tol = { atol: 2e-5 * Math.sqrt(c.k), rtol: 1e-5 };
  assertClose(await outs[0].data(), want, { ...tol, label: what });
  if (epilogue === 'biasGeluPre') assertClose(await outs[1].data(), wantPre, { ...tol, label: `${what} pre-activation` });
  for (const t of [a, b, bt, ...outs]) t.dispose();
}

s('every candidate config × epilogue on awkward and fit shapes (vector and scalar stores)', async () => {
  const dev = await gpu(); if (!dev) return;
  for (const cfg of matmulCandidates) {
    if (!configSupported(cfg, dev.caps)) { console.log(`  (skipping ${configName(cfg)}: no subgroups ≥ 8 here)`); continue; }
    const bm = cfg.wgy * cfg.tm, bn = cfg.wgx * cfg.tn;
    // N odd: scalar stores with per-element guards; N multiple of 4 but not of the tile: guarded vec4
    // stores; fit: unguarded vec4 stores. The epilogues differ only in the stored expression, so the
    // fullest one ('biasGeluPre') runs on all three and the others on one store kind each (compiles are slow here).
    const odd = { batch: 1, m: 31, n: 37, k: 13, transA: false, transB: true }, vec = { batch: 2, m: 7, n: 20, k: 12, transA: false, transB: false };
    for (const c of [odd, vec, { batch: 1, m: 2 * bm, n: 2 * bn, k: 16, transA: false, transB: true }]) await check(dev, c, cfg, 'biasGeluPre');
    await check(dev, odd, cfg, 'biasGelu');
    await check(dev, vec, cfg, 'bias');
  }
  // The epilogue runs in the store, so it refuses split-K (whose store writes partials).
  assert.throws(() => matmulKernel.wgsl({ batch: 1, m: 4, n: 4, k: 512, transA: false, transB: true, strideA: 0, strideB: 0, config: { ...matmulCandidates[0], splits: 2 }, epilogue: 'bias' }, dev.caps!), /splits = 1/);
});

const lin = (gelu: boolean) => (x: Tensor, w: Tensor, b: Tensor) => linear(x, w, b, { gelu });
const inputs = (n: number, i: number, out: number, seed: number) => [
  { data: rand(n * i, seed, -2, 2), shape: [n, i] }, { data: rand(out * i, seed + 1), shape: [out, i] }, { data: rand(out, seed + 2), shape: [out] },
];

s('linear: gradients of x, weight and bias against finite differences (float64 CPU), with and without GELU', async () => {
  await checkGrad(lin(false), inputs(3, 5, 4, 1), { label: 'linear [3,5]·[4,5]ᵀ', tol: 1e-6 });
  await checkGrad(lin(true), inputs(3, 5, 4, 2), { label: 'linear+gelu [3,5]·[4,5]ᵀ', tol: 1e-6 });
  await checkGrad(lin(true), inputs(1, 7, 1, 3), { label: 'linear+gelu [1,7]·[1,7]ᵀ', tol: 1e-6 });
  // The fused op equals its composition on the CPU.
  const [x, w, b] = inputs(4, 6, 5, 4).map((t) => tensor(t.data, t.shape, { device: cpu }));
  const y = await linear(x, w, b, { gelu: true }).data();
  const ref = await o.gelu(o.add(o.matmul(x, w, { transB: true }), b)).data();
  assertClose(y, ref, { atol: 1e-6, rtol: 1e-6, label: 'linear+gelu = gelu(matmul + add)' });
});

async function forwardAndGrads(dev: Device, n: number, i: number, out: number, gelu: boolean) {
  const ts = inputs(n, i, out, 9).map((t) => tensor(t.data, t.shape, { device: dev }).param());
  const g = tensor(rand(n * out, 5), [n, out], { device: dev });
  const l = tidy(() => { const l = o.sum(o.mul(linear(ts[0], ts[1], ts[2], { gelu }), g)); l.backward(); return l; });
  const y = await noGrad(() => linear(ts[0], ts[1], ts[2], { gelu })).data();
  const res = { y, grads: await Promise.all(ts.map((t) => t.grad!.data())) };
  for (const t of [...ts, g, l]) { t.grad?.dispose(); t.dispose(); }
  return res;
}

s('linear on WebGPU = CPU: forward and gradients, fused store and split-K fallback', async () => {
  const dev = await gpu(); if (!dev) return;
  // [67, 45]·[29, 45]ᵀ: fused epilogue; [3, 700]·[5, 700]ᵀ: few workgroups and large K → split-K fallback.
  const shapes = [[67, 45, 29], [3, 700, 5]] as const;
  const p = (n: number, i: number, out: number) => ({ batch: 1, m: n, n: out, k: i, transA: false, transB: true, strideA: 0, strideB: 0 });
  assert.is(selectMatmul(p(67, 45, 29), dev.caps).splits, 1);
  assert.ok(selectMatmul(p(3, 700, 5), dev.caps).splits > 1, 'the second shape takes split-K');
  for (const [n, i, out] of shapes) {
    for (const gelu of [false, true]) {
      const c = await forwardAndGrads(cpu, n, i, out, gelu), w = await forwardAndGrads(dev, n, i, out, gelu);
      const tol = { atol: 3e-5 * Math.sqrt(i), rtol: 1e-4 };
      const what = `linear${gelu ? '+gelu' : ''} [${n},${i}]·[${out},${i}]ᵀ`;
      assertClose(w.y, c.y, { ...tol, label: `${what} y` });
      ['dx', 'dw', 'db'].forEach((nm, k) => assertClose(w.grads[k], c.grads[k], { ...tol, atol: tol.atol * Math.sqrt(n), label: `${what} ${nm}` }));
    }
  }
});

s('linear: bad shapes name all three', () => {
  const x = tensor(rand(6, 1), [2, 3], { device: cpu }), w = tensor(rand(8, 2), [2, 4], { device: cpu }), b = tensor(rand(2, 3), [2], { device: cpu });
  assert.throws(() => linear(x, w, b), (e: Error) => e instanceof ShapeError && /x \[2, 3\], weight \[2, 4\], bias \[2\]/.test(e.message));
});

s.run();
