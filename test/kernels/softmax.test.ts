// Fused softmax / logSoftmax: WebGPU kernel vs CPU reference (forward and fused backward), gradients
// vs finite differences (float64 CPU), equality with the primitive composition, and bad inputs.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { assertClose, checkGrad, cpu, gpu, rand } from '../helpers.js';
import { assertNoLeak, fwdBwd, type In, rowPaths } from './fused.js';
import type { Device } from '../../src/device/device.js';
import { type Tensor, tensor } from '../../src/tensor/tensor.js';
import * as o from '../../src/tensor/ops.js';
import { logSoftmax, softmax } from '../../src/tensor/nnops.js';
import { ShapeError } from '../../src/device/shape.js';
import { softmaxForwardKernel as softmaxForward } from '../../src/kernels/softmax.js';

const s = suite('kernels/softmax');

/** A key-padding mask [B, Tk] with the batch's last keys padded; batch 1 (when B > 1) fully padded if `empty`. */
function padMask(b: number, tk: number, empty = true): Float64Array {
  const m = new Float64Array(b * tk);
  for (let i = 0; i < b; i++) {
    const valid = i === 1 && empty ? 0 : Math.max(1, tk - 3 * i);
    for (let k = 0; k < valid; k++) m[i * tk + k] = 1;
  }
  return m;
}

// Shapes: size-1 rows, primes (scalar loads), vec2 and vec4 rows, many workgroups, long rows.
const cases: { shape: number[]; masked: boolean; scale: number }[] = [
  { shape: [1, 1], masked: false, scale: 1 },
  { shape: [3, 7], masked: true, scale: 1 },
  { shape: [2, 3, 5, 130], masked: true, scale: 0.3 },
  { shape: [2, 4, 8, 64], masked: true, scale: 0.125 },
  { shape: [701, 37], masked: false, scale: 2 },
  { shape: [2, 12, 64, 128], masked: true, scale: 0.125 },
  { shape: [3, 2053], masked: false, scale: 1 },   // 9 values per lane
  { shape: [2, 1, 3, 4100], masked: true, scale: 0.5 },
  { shape: [65537, 1], masked: false, scale: 1 },  // over 65535 rows: a 2-D grid
];

async function checkSoftmax(dev: Device, c: { shape: number[]; masked: boolean; scale: number }, path: string): Promise<void> {
  const n = c.shape.reduce((a, b) => a * b, 1), b = c.shape[0], tk = c.shape[c.shape.length - 1];
  const ins: In[] = [{ data: rand(n, n, -4, 4), shape: c.shape }];
  if (c.masked) ins.push({ data: padMask(b, tk), shape: [b, tk] });
  const f = (x: Tensor, m?: Tensor) => softmax(x, { mask: m, scale: c.scale });
  const e = await fwdBwd(cpu, f, ins, [0]);
  const a = await fwdBwd(dev, f, ins, [0]);
  const lbl = `softmax [${c.shape}]${c.masked ? ' masked' : ''} (${path})`;
  assertClose(a.y, e.y, { atol: 1e-6, rtol: 1e-4, label: `${lbl} y` });
  assertClose(a.grads[0], e.grads[0], { atol: 1e-6, rtol: 1e-3, label: `${lbl} dx` });
}

s('WebGPU softmax matches the CPU reference (forward and backward)', async () => {
  const dev = await gpu();
  if (!dev) return;
  for (const c of cases) await checkSoftmax(dev, c, 'default');
  // Every row path, whatever this device defaults to, on a few shapes.
  await rowPaths(dev, async (path) => { for (const c of [cases[1], cases[3], cases[5], cases[6]]) await checkSoftmax(dev, c, path); });
});

s('WebGPU logSoftmax matches the CPU reference', async () => {
  const dev = await gpu();
  if (!dev) return;
  for (const shape of [[1, 1], [5, 7], [9, 130], [33, 512], [2, 5003]]) {
    const n = shape[0] * shape[1];
    const ins: In[] = [{ data: rand(n, 3 + n, -6, 6), shape }];
    const e = await fwdBwd(cpu, logSoftmax, ins, [0]);
    const a = await fwdBwd(dev, logSoftmax, ins, [0]);
    assertClose(a.y, e.y, { atol: 1e-5, rtol: 1e-5, label: `logSoftmax [${shape}] y` });
    assertClose(a.grads[0], e.grads[0], { atol: 1e-5, rtol: 1e-4, label: `logSoftmax [${shape}] dx` });
    if (shape[1] !== 130) continue;
    await rowPaths(dev, async (path) => {
      const b = await fwdBwd(dev, logSoftmax, ins, [0]);
      assertClose(b.y, e.y, { atol: 1e-5, rtol: 1e-5, label: `logSoftmax [${shape}] y (${path})` });
      assertClose(b.grads[0], e.grads[0], { atol: 1e-5, rtol: 1e-4, label: `logSoftmax [${shape}] dx (${path})` });
    });
  }
});

s('softmax and logSoftmax gradients match finite differences (float64)', async () => {
  const x = { data: rand(60, 11, -2, 2), shape: [2, 2, 3, 5] };
  const mask = { data: [1, 1, 1, 0, 0, 1, 1, 1, 1, 1], shape: [2, 5] };
  await checkGrad((a, m) => softmax(a, { mask: m, scale: 0.7 }), [x, mask], { wrt: [0], label: 'softmax masked' });
  await checkGrad((a) => softmax(a), [{ data: rand(7, 12), shape: [7] }], { label: 'softmax 1-D' });
  await checkGrad(logSoftmax, [{ data: rand(12, 13, -3, 3), shape: [3, 4] }], { label: 'logSoftmax' });
});

// softmax(x·scale + (1 − mask)·(−10000)) from primitives: exp(v − max v) / Σ exp(v − max v).
function composed(x: Tensor, mask: Tensor, scale: number): Tensor {
  const [b, h, q, k] = x.shape;
  const add = o.reshape(o.muls(o.adds(mask, -1), 10000), [b, 1, 1, k]);
  const v = o.add(o.muls(x, scale), add);
  const e = o.exp(o.sub(v, o.max(v, -1, true)));
  void h; void q;
  return o.div(e, o.sum(e, -1, true));
}

s('fused softmax equals the primitive composition (WebGPU, forward and gradient)', async () => {
  const dev = await gpu();
  if (!dev) return;
  const shape = [2, 3, 4, 24];
  // Every batch keeps a key here: the composition rounds x·scale − 10000 in f32 (see the next test).
  const ins: In[] = [{ data: rand(2 * 3 * 4 * 24, 5, -3, 3), shape }, { data: padMask(2, 24, false), shape: [2, 24] }];
  const fused = await fwdBwd(dev, (x, m) => softmax(x, { mask: m, scale: 0.25 }), ins, [0]);
  const comp = await fwdBwd(dev, (x, m) => composed(x, m, 0.25), ins, [0]);
  assertClose(fused.y, comp.y, { atol: 1e-6, rtol: 1e-4, label: 'softmax vs composition y' });
  assertClose(fused.grads[0], comp.grads[0], { atol: 1e-6, rtol: 1e-3, label: 'softmax vs composition dx' });
  const ls = await fwdBwd(dev, logSoftmax, [ins[0]], [0]);
  const lc = await fwdBwd(dev, (x) => { const v = o.sub(x, o.max(x, -1, true)); return o.sub(v, o.log(o.sum(o.exp(v), -1, true))); }, [ins[0]], [0]);
  assertClose(ls.y, lc.y, { atol: 1e-5, rtol: 1e-5, label: 'logSoftmax vs composition y' });
  assertClose(ls.grads[0], lc.grads[0], { atol: 1e-5, rtol: 1e-4, label: 'logSoftmax vs composition dx' });
});

s('a fully padded batch gets softmax(x·scale) exactly (mask shifted by its row max)', async () => {
  const dev = await gpu();
  for (const d of dev ? [cpu, dev] : [cpu]) {
    const x = rand(2 * 2 * 3 * 20, 17, -4, 4);
    const m = new Float64Array(40).fill(1, 0, 20);
    const fused = await (softmax(tensor(x, [2, 2, 3, 20], { device: d }), { mask: tensor(m, [2, 20], { device: d }), scale: 0.5 })).data();
    const plain = await (softmax(tensor(x, [2, 2, 3, 20], { device: d }), { scale: 0.5 })).data();
    assertClose(fused.subarray(120), plain.subarray(120), { atol: 0, rtol: 0, label: `${d.kind} fully padded batch` });
  }
});

s('row kernels use subgroup reductions exactly when the device has them', () => {
  const p = { rows: 4, n: 64, scale: 1, log: false, masked: false, rowsPerBatch: 4 };
  const caps = { maxWorkgroupSize: 256, maxWorkgroupStorage: 16384, f16: false };
  const withSg = softmaxForward.wgsl(p, { ...caps, subgroups: true }).code;
  const without = softmaxForward.wgsl(p, { ...caps, subgroups: false }).code;
  assert.ok(withSg.startsWith('enable subgroups;') && withSg.includes('subgroupMax(v)') && withSg.includes('subgroupAdd(v)'));
  assert.ok(!without.includes('subgroup') && without.includes('workgroupBarrier'));
});

s('softmax and logSoftmax forward + backward free every temporary (WebGPU pool)', async () => {
  const dev = await gpu();
  if (!dev) return;
  const ins: In[] = [{ data: rand(2 * 3 * 5 * 8, 1), shape: [2, 3, 5, 8] }, { data: padMask(2, 8), shape: [2, 8] }];
  await assertNoLeak(dev, 'softmax', () => fwdBwd(dev, (x, m) => softmax(x, { mask: m, scale: 0.5 }), ins, [0]));
  await assertNoLeak(dev, 'logSoftmax', () => fwdBwd(dev, logSoftmax, [ins[0]], [0]));
});

s('empty inputs: zero rows and zero-length rows (CPU and WebGPU)', async () => {
  const dev = await gpu();
  for (const d of dev ? [cpu, dev] : [cpu]) {
    for (const shape of [[0, 5], [3, 0]]) {
      const r = await fwdBwd(d, (x) => softmax(x, { scale: 2 }), [{ data: [], shape }], [0]);
      assert.is(r.y.length + r.grads[0].length, 0, `${d.kind} softmax [${shape}]`);
    }
  }
});

s('softmax rejects bad masks and dtypes before any dispatch', () => {
  const x = tensor(rand(2 * 3 * 4), [2, 3, 4], { device: cpu });
  const bad = tensor(rand(3 * 4), [3, 4], { device: cpu });
  const short = tensor(rand(2 * 5), [2, 5], { device: cpu });
  assert.throws(() => softmax(x, { mask: bad }), (e: Error) => e instanceof ShapeError && /\[3, 4\]/.test(e.message) && /\[2, 3, 4\]/.test(e.message));
  assert.throws(() => softmax(x, { mask: short }), /mask \[2, 5\] does not match scores \[2, 3, 4\]/);
  const xi = tensor(new Int32Array(4), [2, 2], { device: cpu });
  assert.throws(() => softmax(xi), (e: Error) => e instanceof TypeError && /softmax: expected f32/.test(e.message));
  assert.throws(() => logSoftmax(tensor([1], [], { device: cpu })), /logSoftmax: needs rank ≥ 1/);
  for (const t of [x, bad, short, xi]) t.dispose();
  assert.throws(() => softmax(x), /softmax: tensor \[2, 3, 4\] f32 was disposed/);
});

s.run();
