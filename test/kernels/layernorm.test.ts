// Fused LayerNorm: WebGPU kernels vs CPU reference (forward, dx, dweight, dbias), gradients vs finite
// differences (float64 CPU), equality with the mean/var composition, determinism, and bad inputs.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { assertClose, checkGrad, cpu, gpu, rand } from '../helpers.js';
import { assertNoLeak, fwdBwd, type In, rowPaths } from './fused.js';
import type { Device } from '../../src/device/device.js';
import { type Tensor, tensor } from '../../src/tensor/tensor.js';
import * as o from '../../src/tensor/ops.js';
import { layerNorm } from '../../src/tensor/nnops.js';
import { ShapeError } from '../../src/device/shape.js';

const s = suite('kernels/layernorm');

function inputs(shape: number[], seed: number): In[] {
  const c = shape[shape.length - 1], n = shape.reduce((a, b) => a * b, 1);
  // An offset mean (3) so a one-pass E[x²] − mean² variance would show its cancellation.
  return [{ data: rand(n, seed, 2, 4), shape }, { data: rand(c, seed + 1, 0.5, 1.5), shape: [c] }, { data: rand(c, seed + 2), shape: [c] }];
}

// Rows: 1, primes, a tail block (1030 rows = 206 blocks of 5), the shapes 1024 × 128/256/1024;
// C: 1, odd (scalar loads), even (vec2), 2500 and 4099 (several vectors per lane: register partial arrays).
const shapes = [[1, 1], [5, 7], [3, 130], [2, 3, 2500], [2, 4099], [1030, 36], [1024, 128], [1024, 256], [1024, 1024]];

async function checkLayerNorm(dev: Device, shape: number[], path: string): Promise<void> {
  const ins = inputs(shape, shape[0] + shape[shape.length - 1]);
  const f = (x: Tensor, w: Tensor, b: Tensor) => layerNorm(x, w, b, 1e-5);
  const e = await fwdBwd(cpu, f, ins, [0, 1, 2]);
  const a = await fwdBwd(dev, f, ins, [0, 1, 2]);
  const lbl = `layerNorm [${shape}] (${path})`;
  assertClose(a.y, e.y, { atol: 1e-5, rtol: 1e-4, label: `${lbl} y` });
  assertClose(a.grads[0], e.grads[0], { atol: 1e-4, rtol: 1e-3, label: `${lbl} dx` });
  // Column sums over up to 1030 rows of O(1) terms: f32 summation error ~1e-5 relative.
  assertClose(a.grads[1], e.grads[1], { atol: 1e-3, rtol: 1e-4, label: `${lbl} dweight` });
  assertClose(a.grads[2], e.grads[2], { atol: 1e-3, rtol: 1e-4, label: `${lbl} dbias` });
}

s('WebGPU layerNorm matches the CPU reference (y, dx, dweight, dbias)', async () => {
  const dev = await gpu();
  if (!dev) return;
  for (const shape of shapes) await checkLayerNorm(dev, shape, 'default');
  await rowPaths(dev, async (path) => { for (const shape of [[5, 7], [3, 130], [1030, 36], [2, 64, 256]]) await checkLayerNorm(dev, shape, path); });
});

s('layerNorm gradients match finite differences (float64)', async () => {
  const f = (x: Tensor, w: Tensor, b: Tensor) => layerNorm(x, w, b, 1e-5);
  await checkGrad(f, inputs([3, 5], 1), { label: 'layerNorm [3, 5]', tol: 1e-5 });
  await checkGrad(f, inputs([2, 2, 4], 2), { label: 'layerNorm [2, 2, 4]', tol: 1e-5 });
  // 300 rows: blocks of 2 rows in the backward, so dweight/dbias partials sum across blocks.
  await checkGrad(f, inputs([300, 3], 3), { label: 'layerNorm [300, 3] params', tol: 1e-5, wrt: [1, 2] });
});

// (x − mean)/sqrt(var + eps)·w + b from the primitive ops (biased variance). (Not rsqrt: its rule
// uses pows, whose WGSL in elementwise.ts does not compile yet — a NaN constant expression.)
function composed(x: Tensor, w: Tensor, b: Tensor, eps: number): Tensor {
  const xc = o.sub(x, o.mean(x, -1, true));
  const v = o.mean(o.square(xc), -1, true);
  return o.add(o.mul(o.div(xc, o.sqrt(o.adds(v, eps))), w), b);
}

s('fused layerNorm equals the mean/var composition (WebGPU and CPU, all gradients)', async () => {
  const dev = await gpu();
  for (const d of dev ? [cpu, dev] : [cpu]) {
    const ins = inputs([6, 4, 48], 9);
    const fused = await fwdBwd(d, (x, w, b) => layerNorm(x, w, b), ins, [0, 1, 2]);
    const comp = await fwdBwd(d, (x, w, b) => composed(x, w, b, 1e-12), ins, [0, 1, 2]);
    assertClose(fused.y, comp.y, { atol: 1e-5, rtol: 1e-4, label: `${d.kind} y` });
    ['dx', 'dweight', 'dbias'].forEach((g, i) => assertClose(fused.grads[i], comp.grads[i], { atol: 1e-4, rtol: 1e-3, label: `${d.kind} ${g}` }));
  }
});

s('layerNorm backward is deterministic on WebGPU (bitwise equal runs)', async () => {
  const dev = await gpu();
  if (!dev) return;
  const ins = inputs([777, 64], 4);
  const a = await fwdBwd(dev, (x, w, b) => layerNorm(x, w, b), ins, [0, 1, 2]);
  const b = await fwdBwd(dev, (x, w, b) => layerNorm(x, w, b), ins, [0, 1, 2]);
  for (let i = 0; i < 3; i++) assertClose(a.grads[i], b.grads[i], { atol: 0, rtol: 0, label: `grad ${i} run-to-run` });
});

s('layerNorm forward + backward free every temporary (WebGPU pool)', async () => {
  const dev = await gpu();
  if (!dev) return;
  await assertNoLeak(dev, 'layerNorm', () => fwdBwd(dev, (x, w, b) => layerNorm(x, w, b), inputs([300, 20], 5), [0, 1, 2]));
});

s('empty input: zero rows give empty y and zero parameter gradients (CPU and WebGPU)', async () => {
  const dev = await gpu();
  for (const d of dev ? [cpu, dev] : [cpu]) {
    const r = await fwdBwd(d, (x, w, b) => layerNorm(x, w, b), [{ data: [], shape: [0, 4] }, { data: [1, 2, 3, 4], shape: [4] }, { data: [0, 0, 0, 0], shape: [4] }], [0, 1, 2]);
    assert.is(r.y.length, 0);
    assertClose(r.grads[1], [0, 0, 0, 0], { atol: 0, rtol: 0, label: `${d.kind} dweight` });
    assertClose(r.grads[2], [0, 0, 0, 0], { atol: 0, rtol: 0, label: `${d.kind} dbias` });
  }
});

s('layerNorm rejects mismatched parameters and dtypes before any dispatch', () => {
  const x = tensor(rand(12), [3, 4], { device: cpu });
  const w = tensor(rand(4), [4], { device: cpu }), b = tensor(rand(4), [4], { device: cpu });
  const w5 = tensor(rand(5), [5], { device: cpu });
  assert.throws(() => layerNorm(x, w5, b), (e: Error) => e instanceof ShapeError && /weight \[5\] and bias \[4\] must both be \[4\] for x \[3, 4\]/.test(e.message));
  const xi = tensor(new Int32Array(12), [3, 4], { device: cpu });
  assert.throws(() => layerNorm(xi, w, b), (e: Error) => e instanceof TypeError && /layerNorm: expected f32/.test(e.message));
  assert.throws(() => layerNorm(tensor([1], [], { device: cpu }), w, b), /layerNorm: needs rank ≥ 1/);
  for (const t of [x, w, b, w5, xi]) t.dispose();
});

s.run();
