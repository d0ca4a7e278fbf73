// Embedding gather and its deterministic scatter-add backward: WebGPU vs CPU reference and vs a plain
// position-order float32 sum (bitwise), duplicate ids, sort sizes across the global bitonic steps,
// finite differences (float64 CPU), one-hot matmul composition, the out-of-range-id contract, bad inputs.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { assertClose, checkGrad, cpu, gpu, rand } from '../helpers.js';
import { assertNoLeak, fwdBwd, type In, randInts } from './fused.js';
import type { Device } from '../../src/device/device.js';
import { type Tensor, tensor } from '../../src/tensor/tensor.js';
import * as o from '../../src/tensor/ops.js';
import { checkIds, embedding as embeddingOp, embeddingBackward } from '../../src/tensor/nnops.js';

/** The op with its default options, in the (...inputs) form the fused-test helpers take. */
const embedding = (ids: Tensor, table: Tensor) => embeddingOp(ids, table);
import { ShapeError } from '../../src/device/shape.js';

const s = suite('kernels/embedding');

/** dTable by the definition, in float32 and position order: what the GPU must reproduce bit for bit. */
function gradRef(ids: Int32Array, dy: Float32Array, v: number, e: number): Float32Array {
  const dt = new Float32Array(v * e);
  ids.forEach((id, i) => {
    if (id < 0 || id >= v) return;
    for (let c = 0; c < e; c++) dt[id * e + c] = Math.fround(dt[id * e + c] + dy[i * e + c]);
  });
  return dt;
}

async function gradOn(dev: Device, ids: Int32Array, dy: Float32Array, v: number, e: number): Promise<Float32Array> {
  const it = tensor(ids, [ids.length], { device: dev }), gt = tensor(dy, [ids.length, e], { device: dev });
  const dt = embeddingBackward(it, gt, v);
  const out = await dt.data() as Float32Array;
  for (const t of [it, gt, dt]) t.dispose();
  return out;
}

s('WebGPU embedding forward and backward match the CPU reference (duplicate ids)', async () => {
  const dev = await gpu();
  if (!dev) return;
  // [ids shape, V, E]: size 1, odd E (scalar), E = 6 (vec2), E = 128 (vec4), heavy duplication.
  const cases: [number[], number, number][] = [[[1], 1, 1], [[3, 7], 11, 5], [[2, 9], 4, 6], [[4, 33], 97, 128], [[1000], 50, 12]];
  for (const [shape, v, e] of cases) {
    const n = shape.reduce((a, b) => a * b, 1);
    const ins: In[] = [{ data: randInts(n, v, n + v), shape, dtype: 'i32' }, { data: rand(v * e, v + e), shape: [v, e] }];
    const c = await fwdBwd(cpu, embedding, ins, [1]);
    const g = await fwdBwd(dev, embedding, ins, [1]);
    assertClose(g.y, c.y, { atol: 0, rtol: 0, label: `embedding [${shape}] from [${v}, ${e}] y` });
    assertClose(g.grads[0], c.grads[0], { atol: 1e-6, rtol: 1e-5, label: `embedding [${shape}] dTable` });
  }
});

s('embedding backward equals the position-order f32 sum bit for bit on WebGPU, every run (sort sizes 1 … 4097)', async () => {
  const dev = await gpu();
  const devs = dev ? [cpu, dev] : [cpu];
  // 512 is one shared-memory chunk; 513 and 4097 pad to 1024 / 8192 and run global bitonic steps.
  for (const [n, v, e] of [[1, 3, 4], [2, 2, 3], [511, 7, 8], [512, 300, 4], [513, 5, 6], [4097, 1000, 16]]) {
    const ids = randInts(n, v, n);
    const dy = Float32Array.from(rand(n * e, n + 1));
    const want = gradRef(ids, dy, v, e);
    for (const d of devs) {
      // The CPU reference accumulates in float64 and rounds once; the GPU must match f32 order exactly.
      const exact = d.kind === 'webgpu';
      const a = await gradOn(d, ids, dy, v, e);
      assertClose(a, want, { atol: exact ? 0 : 1e-5, rtol: exact ? 0 : 1e-6, label: `${d.kind} dTable n=${n} V=${v} E=${e}` });
    }
    if (dev) assertClose(await gradOn(dev, ids, dy, v, e), want, { atol: 0, rtol: 0, label: `second run n=${n}` });
  }
});

s('embedding backward at ELECTRA scale (N = 16384, V = 30522, E = 128) on WebGPU', async () => {
  const dev = await gpu();
  if (!dev) return;
  const [n, v, e] = [16384, 30522, 128];
  // Zipf-like ids: many repeats of small ids (like real text) plus a long tail.
  const ids = Int32Array.from(rand(n, 5, 0, 1), (u) => Math.min(v - 1, Math.floor(v * u ** 4)));
  const dy = Float32Array.from(rand(n * e, 6));
  const want = gradRef(ids, dy, v, e);
  await dev.sync();
  const t0 = performance.now();
  const got = await gradOn(dev, ids, dy, v, e);
  const ms = performance.now() - t0;
  assertClose(got, want, { atol: 0, rtol: 0, label: 'dTable at scale' });
  console.log(`    (embedding backward N=${n} V=${v} E=${e}: ${ms.toFixed(0)} ms on ${dev.name}, incl. upload and 15.6 MB readback)`);
});

s('embedding table gradient matches finite differences (float64)', async () => {
  const ids = { data: [2, 0, 2, 3, 2, 1], shape: [2, 3] };
  const table = { data: rand(4 * 3, 4), shape: [4, 3] };
  // ids travel as float64 through checkGrad and are cast to i32 inside.
  await checkGrad((i, t) => embedding(o.cast(i, 'i32'), t), [ids, table], { wrt: [1], label: 'embedding' });
});

s('embedding equals the one-hot matmul composition (WebGPU, forward and gradient)', async () => {
  const dev = await gpu();
  if (!dev) return;
  const [n, v, e] = [37, 13, 20];
  const ids = randInts(n, v, 3);
  const oh = new Float64Array(n * v);
  ids.forEach((k, i) => { oh[i * v + k] = 1; });
  const ins: In[] = [{ data: ids, shape: [n], dtype: 'i32' }, { data: rand(v * e, 9), shape: [v, e] }, { data: oh, shape: [n, v] }];
  const fused = await fwdBwd(dev, (i, t) => embedding(i, t), ins, [1]);
  const comp = await fwdBwd(dev, (_i, t, h) => o.matmul(h, t), ins, [1]);
  assertClose(fused.y, comp.y, { atol: 1e-6, rtol: 1e-6, label: 'embedding vs one-hot matmul y' });
  assertClose(fused.grads[0], comp.grads[0], { atol: 1e-5, rtol: 1e-5, label: 'embedding vs one-hot matmul dTable' });
});

s('out-of-range ids: RangeError on the CPU; on WebGPU zero rows, no gradient, and checkIds rejects', async () => {
  const table = rand(5 * 3, 1);
  const bad = Int32Array.from([1, 4, 5, 0, -1]);
  const ct = tensor(table, [5, 3], { device: cpu });
  assert.throws(() => embedding(tensor(bad, [5], { device: cpu }), ct), (e: Error) => e instanceof RangeError && /id 5 at position 2 is outside \[0, 5\)/.test(e.message));
  const dev = await gpu();
  for (const d of dev ? [cpu, dev] : [cpu]) {
    const it = tensor(bad, [5], { device: d });
    let msg = '';
    await checkIds(it, 5).catch((e: Error) => { msg = `${e.name}: ${e.message}`; });
    assert.match(msg, /RangeError: embedding: id 5 at flat position 2 of ids \[5\] is outside \[0, 5\)/, `${d.kind} checkIds`);
    await checkIds(tensor(Int32Array.from([0, 4, 3]), [3], { device: d }), 5); // resolves
    await checkIds(tensor(new Int32Array(0), [0], { device: d }), 5);
    msg = '';
    await checkIds(tensor(Int32Array.from([0, 1, -7]), [1, 3], { device: d }), 5).catch((e: Error) => { msg = e.message; });
    assert.match(msg, /id -7 at flat position 2 of ids \[1, 3\]/);
  }
  if (dev) {
    const t = tensor(table, [5, 3], { device: dev }).param();
    const y = embedding(tensor(bad, [5], { device: dev }), t);
    const yd = await y.data();
    assertClose(yd, [...table.slice(3, 6), ...table.slice(12, 15), 0, 0, 0, ...table.slice(0, 3), 0, 0, 0].map(Math.fround), { atol: 0, rtol: 0, label: 'GPU rows for ids [1, 4, 5, 0, -1]' });
    o.sum(y).backward();
    assertClose(await t.grad!.data(), [1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1], { atol: 0, rtol: 0, label: 'GPU dTable ignores bad ids' });
  }
});

s('embedding forward + backward and checkIds free every temporary (WebGPU pool)', async () => {
  const dev = await gpu();
  if (!dev) return;
  const ins: In[] = [{ data: randInts(700, 50, 1), shape: [7, 100], dtype: 'i32' }, { data: rand(50 * 8, 2), shape: [50, 8] }];
  await assertNoLeak(dev, 'embedding', () => fwdBwd(dev, embedding, ins, [1]));
  const ids = tensor(randInts(700, 50, 1), [700], { device: dev });
  await assertNoLeak(dev, 'checkIds', () => checkIds(ids, 50));
  ids.dispose();
});

s('paddingIdx: that row is gathered but gets no gradient, every other row as without it (CPU and WebGPU)', async () => {
  const dev = await gpu();
  const v = 7, e = 4, ids = Int32Array.from([0, 3, 0, 5, 3, 0, 6]);
  for (const d of dev ? [cpu, dev] : [cpu]) {
    const ins: In[] = [{ data: ids, shape: [ids.length], dtype: 'i32' }, { data: rand(v * e, 9), shape: [v, e] }];
    const plain = await fwdBwd(d, embedding, ins, [1]);
    const padded = await fwdBwd(d, (i, t) => embeddingOp(i, t, { paddingIdx: 0 }), ins, [1]);
    assertClose(padded.y, plain.y, { atol: 0, rtol: 0, label: `${d.kind} forward with paddingIdx` });
    const want = Array.from(plain.grads[0]).map((g, k) => (Math.floor(k / e) === 0 ? 0 : g));
    assertClose(padded.grads[0], want, { atol: 0, rtol: 0, label: `${d.kind} dTable with paddingIdx 0` });
    assert.ok(Array.from(plain.grads[0]).slice(0, e).some((g) => g !== 0), 'row 0 has a gradient without paddingIdx');
  }
  const t = tensor(rand(v * e, 1), [v, e], { device: cpu });
  assert.throws(() => embeddingOp(tensor(ids, [7], { device: cpu }), t, { paddingIdx: 7 }), /paddingIdx 7 is outside \[0, 7\)/);
});

s('empty ids: empty output, zero table gradient (CPU and WebGPU)', async () => {
  const dev = await gpu();
  for (const d of dev ? [cpu, dev] : [cpu]) {
    const r = await fwdBwd(d, embedding, [{ data: new Int32Array(0), shape: [2, 0], dtype: 'i32' }, { data: rand(6, 1), shape: [3, 2] }], [1]);
    assert.is(r.y.length, 0);
    assertClose(r.grads[0], [0, 0, 0, 0, 0, 0], { atol: 0, rtol: 0, label: `${d.kind} dTable` });
  }
});

s('embedding rejects bad dtypes and shapes before any dispatch', () => {
  const tbl = tensor(rand(12), [4, 3], { device: cpu });
  const idsF = tensor([0, 1], [2], { device: cpu });
  const ids = tensor(Int32Array.from([0, 1]), [2], { device: cpu });
  assert.throws(() => embedding(idsF, tbl), (e: Error) => e instanceof TypeError && /embedding: ids must be i32, got f32 \[2\]/.test(e.message));
  assert.throws(() => embedding(ids, tensor(rand(4), [4], { device: cpu })), (e: Error) => e instanceof ShapeError && /table must be \[V, E\], got \[4\] \(ids \[2\]\)/.test(e.message));
  assert.throws(() => embedding(ids, o.cast(tbl, 'i32')), (e: Error) => e instanceof TypeError && /table must be f32, got i32 \[4, 3\]/.test(e.message));
  const big: Tensor = tensor(new Int32Array(80000), [80000], { device: cpu });
  assert.throws(() => embeddingBackward(big, tensor(new Float32Array(80000), [80000, 1], { device: cpu }), 30522), /\(V \+ 1\)·N = .* over 2³¹ − 1/);
  for (const t of [tbl, idsF, ids, big]) t.dispose();
  assert.throws(() => embedding(ids, tbl), /embedding: tensor \[2\] i32 was disposed/);
});

s.run();
