// Fused softmax cross-entropy: WebGPU kernels vs CPU reference (per-row loss and dlogits, ignored
// rows, BERT vocab 30522), gradients vs finite differences (float64 CPU), equality with the
// logSoftmax/one-hot composition, invalid targets (CPU RangeError, GPU NaN row), bad inputs.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { assertClose, checkGrad, cpu, gpu, rand } from '../helpers.js';
import { assertNoLeak, fwdBwd, rowPaths, type In, randInts } from './fused.js';
import type { Device } from '../../src/device/device.js';
import { type Tensor, tensor } from '../../src/tensor/tensor.js';
import * as o from '../../src/tensor/ops.js';
import { crossEntropy, logSoftmax, softmaxCrossEntropy } from '../../src/tensor/nnops.js';
import { ShapeError } from '../../src/device/shape.js';

const s = suite('kernels/cross_entropy');

/** Targets in [0, v) with every third row (from row 1) set to ignoreIndex. */
function targets(n: number, v: number, seed: number, ignore = -100): Int32Array {
  const t = randInts(n, v, seed);
  for (let i = 1; i < n; i += 3) t[i] = ignore;
  return t;
}

// V: 1, prime (scalar loads), 30522 (BERT vocab: vec2), 1000 (vec4); rows: 1, a few, many workgroups.
const cases = [[1, 1], [4, 7], [5, 30522], [64, 1000], [300, 13]];

s('WebGPU softmaxCrossEntropy matches the CPU reference (loss and dlogits)', async () => {
  const dev = await gpu();
  if (!dev) return;
  for (const [n, v] of cases) {
    const ins: In[] = [{ data: rand(n * v, n + v, -5, 5), shape: [n, v] }, { data: targets(n, v, v), shape: [n], dtype: 'i32' }];
    const ce = (x: Tensor, t: Tensor) => softmaxCrossEntropy(x, t);
    const e = await fwdBwd(cpu, ce, ins, [0]);
    // Every row path only on the mid-size shapes, to keep the suite short.
    await (v === 7 || v === 1000 ? rowPaths : (d: Device, fn: (p: string) => Promise<void>) => fn('default'))(dev, async (path) => {
      const a = await fwdBwd(dev, ce, ins, [0]);
      // loss = lse − x_t with lse ≈ 10 for V = 30522: f32 resolution of lse is ~1e-6.
      assertClose(a.y, e.y, { atol: 2e-5, rtol: 1e-5, label: `CE [${n}, ${v}] loss (${path})` });
      assertClose(a.grads[0], e.grads[0], { atol: 1e-6, rtol: 1e-3, label: `CE [${n}, ${v}] dlogits (${path})` });
      for (let i = 1; i < n; i += 3) assert.is(a.y[i], 0, `ignored row ${i} has loss 0`);
    });
  }
});

s('WebGPU crossEntropy (mean over non-ignored rows) matches the CPU reference', async () => {
  const dev = await gpu();
  if (!dev) return;
  const ins: In[] = [{ data: rand(40 * 37, 3, -3, 3), shape: [40, 37] }, { data: targets(40, 37, 4, 0), shape: [40], dtype: 'i32' }];
  const f = (x: Tensor, t: Tensor) => crossEntropy(x, t, { ignoreIndex: 0 });
  const e = await fwdBwd(cpu, f, ins, [0]);
  const a = await fwdBwd(dev, f, ins, [0]);
  assertClose(a.y, e.y, { atol: 1e-6, rtol: 1e-5, label: 'mean CE' });
  assertClose(a.grads[0], e.grads[0], { atol: 1e-7, rtol: 1e-3, label: 'mean CE dlogits' });
});

s('cross-entropy gradients match finite differences (float64)', async () => {
  const x = { data: rand(4 * 6, 5, -2, 2), shape: [4, 6] };
  const t = { data: [2, -1, 0, 5], shape: [4] };
  // Targets travel as float64 through checkGrad and are cast to i32 inside (no gradient for them).
  await checkGrad((a, tf) => softmaxCrossEntropy(a, o.cast(tf, 'i32'), { ignoreIndex: -1 }), [x, t], { wrt: [0], label: 'softmaxCrossEntropy' });
  await checkGrad((a, tf) => crossEntropy(a, o.cast(tf, 'i32'), { ignoreIndex: -1 }), [x, t], { wrt: [0], label: 'crossEntropy' });
});

// −logSoftmax(x)[r, t_r] from a one-hot product, zero on ignored rows.
function composed(x: Tensor, t: Tensor, onehot: Tensor): Tensor {
  void t;
  return o.neg(o.sum(o.mul(logSoftmax(x), onehot), -1));
}

s('fused cross-entropy equals the logSoftmax/one-hot composition (WebGPU, loss and gradient)', async () => {
  const dev = await gpu();
  if (!dev) return;
  const [n, v] = [12, 50];
  const t = targets(n, v, 8);
  const oh = new Float64Array(n * v);
  t.forEach((k, i) => { if (k >= 0) oh[i * v + k] = 1; });
  const ins: In[] = [{ data: rand(n * v, 6, -4, 4), shape: [n, v] }, { data: t, shape: [n], dtype: 'i32' }, { data: oh, shape: [n, v] }];
  const fused = await fwdBwd(dev, (x, tt) => softmaxCrossEntropy(x, tt), ins, [0]);
  const comp = await fwdBwd(dev, composed, ins, [0]);
  assertClose(fused.y, comp.y, { atol: 1e-5, rtol: 1e-5, label: 'CE vs composition loss' });
  assertClose(fused.grads[0], comp.grads[0], { atol: 1e-6, rtol: 1e-3, label: 'CE vs composition dlogits' });
});

s('invalid targets: RangeError on the CPU, a NaN row loss on WebGPU; all-ignored mean is 0', async () => {
  const x = rand(3 * 5, 2);
  const bad = Int32Array.from([1, 5, 2]);
  assert.throws(() => softmaxCrossEntropy(tensor(x, [3, 5], { device: cpu }), tensor(bad, [3], { device: cpu })),
    (e: Error) => e instanceof RangeError && /target 5 at row 1 is outside \[0, 5\)/.test(e.message));
  const dev = await gpu();
  if (dev) {
    const l = await softmaxCrossEntropy(tensor(x, [3, 5], { device: dev }), tensor(Int32Array.from([1, 7, -3]), [3], { device: dev })).data();
    assert.ok(Number.isFinite(l[0]) && Number.isNaN(l[1]) && Number.isNaN(l[2]), `expected [finite, NaN, NaN], got ${Array.from(l)}`);
  }
  for (const d of dev ? [cpu, dev] : [cpu]) {
    const m = await crossEntropy(tensor(x, [3, 5], { device: d }), tensor(Int32Array.from([-100, -100, -100]), [3], { device: d })).item();
    assert.is(m, 0, `${d.kind}: mean over no rows`);
  }
});

s('cross-entropy forward + backward free every temporary (WebGPU pool)', async () => {
  const dev = await gpu();
  if (!dev) return;
  const ins: In[] = [{ data: rand(10 * 40, 2), shape: [10, 40] }, { data: targets(10, 40, 3), shape: [10], dtype: 'i32' }];
  await assertNoLeak(dev, 'softmaxCrossEntropy', () => fwdBwd(dev, (x, t) => softmaxCrossEntropy(x, t), ins, [0]));
  await assertNoLeak(dev, 'crossEntropy', () => fwdBwd(dev, (x, t) => crossEntropy(x, t), ins, [0]));
});

s('empty input: no rows give an empty loss and a mean of 0 (CPU and WebGPU)', async () => {
  const dev = await gpu();
  for (const d of dev ? [cpu, dev] : [cpu]) {
    const ins: In[] = [{ data: [], shape: [0, 5] }, { data: new Int32Array(0), shape: [0], dtype: 'i32' }];
    const r = await fwdBwd(d, (x, t) => softmaxCrossEntropy(x, t), ins, [0]);
    assert.is(r.y.length + r.grads[0].length, 0);
    const m = await fwdBwd(d, (x, t) => crossEntropy(x, t), ins, [0]);
    assert.equal(Array.from(m.y), [0]);
  }
});

s('cross-entropy rejects bad shapes and dtypes before any dispatch', () => {
  const x = tensor(rand(12), [3, 4], { device: cpu });
  const t2 = tensor(Int32Array.from([0, 1]), [2], { device: cpu });
  const tf = tensor([0, 1, 2], [3], { device: cpu });
  assert.throws(() => softmaxCrossEntropy(x, t2), (e: Error) => e instanceof ShapeError && /logits \[3, 4\] and targets \[2\]/.test(e.message));
  assert.throws(() => crossEntropy(x, tf), (e: Error) => e instanceof TypeError && /targets must be i32, got f32 \[3\]/.test(e.message));
  const xi = tensor(new Int32Array(12), [3, 4], { device: cpu });
  assert.throws(() => softmaxCrossEntropy(xi, t2), (e: Error) => e instanceof TypeError && /expected f32/.test(e.message));
  for (const t of [x, t2, tf, xi]) t.dispose();
});

s.run();
