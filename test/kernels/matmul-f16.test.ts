// Mixed-precision matmul (f16 operands, f32 accumulation): the f16 rounding itself, the CPU reference
// against float64 sums of rounded operands, the WebGPU 'tile' kernels with f16 workgroup buffers against
// that reference on every layout with awkward shapes and split-K (lavapipe has shader-f16, so CI runs
// them), overflow past 65504 giving infinities (what dynamic loss scaling catches), and linear under
// withPrecision('f16') staying within f16 error of f32, forward and gradients.

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { assertClose, cpu, gpu, rand } from '../helpers.js';
import { roundF16 } from '../../src/kernels/elementwise.js';
import { type MatmulConfig, K, configName, configSupported, matmulKernel, matmulRef, selectMatmul } from '../../src/kernels/matmul.js';
import type { Device } from '../../src/device/device.js';
import { linear } from '../../src/tensor/nnops.js';
import { matmul } from '../../src/tensor/ops.js';
import { noGrad, tensor, tidy, withPrecision } from '../../src/tensor/tensor.js';
import { presetConfig } from '../../src/electra/model/config.js';
import { createElectraPair, pairModules } from '../../src/electra/model/pretrain.js';
import { disposeModule } from '../../src/nn/module.js';
import { evalCtx } from '../../src/nn/layers.js';

const s = suite('matmul f16 operands');

s('roundF16: nearest even, the f16 range and its subnormals', () => {
  const cases: [number, number][] = [[65504, 65504], [65519, 65504], [65520, Infinity], [-70000, -Infinity], [1 + 2 ** -11, 1],
    [1 + 3 * 2 ** -11, 1 + 2 ** -9], [2 ** -24, 2 ** -24], [2 ** -25, 0], [3 * 2 ** -26, 2 ** -24], [0.1, 0.0999755859375], [1 / 3, 0.333251953125]];
  for (const [x, want] of cases) assert.ok(Object.is(roundF16(x), want), `roundF16(${x}) = ${roundF16(x)}, want ${want}`);
});

interface Case { batch: number; m: number; n: number; k: number; transA: boolean; transB: boolean }

async function check(dev: Device, c: Case, config: MatmulConfig | undefined): Promise<void> {
  const ad = rand(c.batch * c.m * c.k, c.m + c.k, -2, 2), bd = rand(c.batch * c.k * c.n, c.n + 3, -2, 2);
  const p = { batch: c.batch, m: c.m, n: c.n, k: c.k, transA: c.transA, transB: c.transB, strideA: c.m * c.k, strideB: c.k * c.n, f16: true };
  const want = new Float64Array(c.batch * c.m * c.n);
  matmulRef(p, ad, bd, want);
  const got = await withPrecision('f16', () => tidy(() => {
    const a = tensor(ad, [c.batch, ...(c.transA ? [c.k, c.m] : [c.m, c.k])], { device: dev });
    const b = tensor(bd, [c.batch, ...(c.transB ? [c.n, c.k] : [c.k, c.n])], { device: dev });
    return matmul(a, b, { transA: c.transA, transB: c.transB, config });
  })).data();
  // Rounded operands are exact in f32, so only the f32 accumulation differs from the float64 sum.
  assertClose(got, want, { atol: 1e-5 * Math.sqrt(c.k) * 4, rtol: 0, label: `${dev.kind} ${config ? configName(config) : 'auto'} ${c.transA ? 'T' : 'N'}${c.transB ? 'T' : 'N'} ${c.batch}×${c.m}×${c.n}×${c.k}` });
}

const layouts = [[false, false], [false, true], [true, false], [true, true]] as const;

s('CPU reference rounds the operands: differs from f32 by f16 error, equals the rounded float64 product', async () => {
  const ad = rand(6 * 9, 1), bd = rand(9 * 5, 2);
  const f32 = await matmul(tensor(ad, [6, 9], { device: cpu }), tensor(bd, [9, 5], { device: cpu })).data();
  const f16 = await withPrecision('f16', () => matmul(tensor(ad, [6, 9], { device: cpu }), tensor(bd, [9, 5], { device: cpu }))).data();
  const diff = Math.max(...Array.from(f16, (v, i) => Math.abs(v - f32[i])));
  assert.ok(diff > 1e-6 && diff < 1e-2, `f16 vs f32 differ by f16 rounding (${diff})`);
  await check(cpu, { batch: 2, m: 6, n: 5, k: 9, transA: false, transB: true }, undefined);
});

s('WebGPU tile kernels with f16 operands: every layout, awkward and fit shapes, batch, split-K', async () => {
  const dev = await gpu();
  if (!dev || !dev.caps?.f16) { console.log('  (no shader-f16 on this adapter)'); return; }
  for (const cfg of [K.tile64, K.tile128, { ...K.tile64, splits: 3 }]) {
    if (!configSupported(cfg, dev.caps)) continue;
    for (const [transA, transB] of layouts) {
      await check(dev, { batch: 1, m: 37, n: 45, k: 29, transA, transB }, cfg);
      await check(dev, { batch: 2, m: 64, n: 128, k: 64, transA, transB }, cfg);
    }
  }
  await check(dev, { batch: 1, m: 300, n: 260, k: 96, transA: true, transB: false }, undefined); // the selector's pick
});

s('tensor cores (subgroup matrices, where the adapter has them): f16 operands on every layout, edges, batch, split-K, epilogue', async () => {
  // The generator must produce a module for NVIDIA's 16×16×16 shape even where it cannot run.
  const caps = { maxWorkgroupSize: 1024, maxWorkgroupStorage: 49152, subgroups: true, f16: true, subgroupMinSize: 32, subgroupMatrix: [{ M: 16, N: 16, K: 16 }] };
  const p = { batch: 1, m: 100, n: 70, k: 50, transA: true, transB: false, strideA: 0, strideB: 0, f16: true, config: K.sgm64 };
  assert.ok(configSupported(K.sgm64, caps) && !configSupported(K.sgm64, { ...caps, subgroupMatrix: undefined }));
  const code = matmulKernel.wgsl(p, caps).code;
  for (const w of ['enable chromium_experimental_subgroup_matrix;', 'subgroupMatrixMultiplyAccumulate', 'subgroup_matrix_left<f16, 16, 16>']) assert.ok(code.includes(w), w);
  assert.is(selectMatmul({ ...p, config: undefined, m: 4096, n: 4096, k: 4096, transA: false }, caps).kind, 'sgm');
  const dev = await gpu();
  if (!dev || !configSupported(K.sgm64, dev.caps)) { console.log('  (no f16 subgroup matrices on this adapter: the tensor-core kernel runs on the GPU machine)'); return; }
  for (const [transA, transB] of layouts) {
    await check(dev, { batch: 1, m: 64, n: 64, k: 32, transA, transB }, K.sgm64);
    await check(dev, { batch: 2, m: 77, n: 130, k: 45, transA, transB }, K.sgm64);
  }
  await check(dev, { batch: 1, m: 96, n: 64, k: 1024, transA: true, transB: false }, { ...K.sgm64, splits: 4 });
});

s('f16 overflow: an operand past 65504 makes the product infinite (as tensor cores would)', async () => {
  const dev = await gpu();
  for (const d of dev?.caps?.f16 ? [cpu, dev] : [cpu]) {
    const y = await withPrecision('f16', () => matmul(tensor([70000, 1, 2, 3], [2, 2], { device: d }), tensor([1, 0, 0, 1], [2, 2], { device: d }))).data();
    assert.ok(y[0] === Infinity && y[3] === 3, `${d.kind}: ${Array.from(y)}`);
  }
});

s('linear + GELU under withPrecision(f16): output and gradients within f16 error of f32 (CPU and WebGPU)', async () => {
  const dev = await gpu();
  for (const d of dev?.caps?.f16 ? [cpu, dev] : [cpu]) {
    const run = async (p: 'f32' | 'f16') => withPrecision(p, async () => {
      const x = tensor(rand(40 * 24, 5), [40, 24], { device: d }).param();
      const w = tensor(rand(33 * 24, 6), [33, 24], { device: d }).param(), b = tensor(rand(33, 7), [33], { device: d }).param();
      const y = linear(x, w, b, { gelu: true });
      y.sum().backward();
      const out = [await y.data(), await x.grad!.data(), await w.grad!.data(), await b.grad!.data()];
      for (const t of [x, w, b, y, x.grad!, w.grad!, b.grad!]) t.dispose();
      return out;
    });
    const [a, h] = [await run('f32'), await run('f16')];
    ['y', 'dx', 'dw', 'db'].forEach((name, i) => assertClose(h[i], a[i], { atol: 2e-2, rtol: 1e-2, label: `${d.kind} ${name} f16 vs f32` }));
  }
});

s('ELECTRA inference in f16: the discriminator logits of tiny stay within 1e-2 of f32 (WebGPU, and CPU)', async () => {
  const dev = await gpu();
  for (const d of dev?.caps?.f16 ? [cpu, dev] : [cpu]) {
    const cfg = { ...presetConfig('tiny'), vocabSize: 500, maxPositionEmbeddings: 64 };
    const pair = createElectraPair(cfg, 'electra', 3, d);
    const B = 2, T = 48, ids = Int32Array.from({ length: B * T }, (_, i) => (i % T === 0 ? 2 : 5 + ((i * 37) % 490)));
    const logits = (p: 'f32' | 'f16') => withPrecision(p, () => noGrad(() => tidy(() => pair.discriminator!.forward(
      tensor(ids, [B, T], { device: d, dtype: 'i32' }), tensor(new Int32Array(B * T), [B, T], { device: d, dtype: 'i32' }),
      tensor(Int32Array.from({ length: T }, (_, i) => i), [T], { device: d, dtype: 'i32' }), null, evalCtx))));
    const a = await logits('f32').data(), h = await logits('f16').data();
    assertClose(h, a, { atol: 1e-2, rtol: 0, label: `${d.kind}: discriminator logits f16 vs f32` });
    disposeModule(pairModules(pair));
  }
});

s.run();
