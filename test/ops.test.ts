// Every primitive: WebGPU kernel vs the CPU reference (random data, awkward shapes), and every
// backward rule vs central finite differences in float64 on the CPU. The table has one row per
// primitive, typed over OpName (a primitive without a row does not compile); the fused primitives,
// whose kernels have suites of their own, name the test file that covers them.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Device } from '../src/device/device.js';
import * as o from '../src/tensor/ops.js';
import { Tensor, tensor, tidy } from '../src/tensor/tensor.js';
import { accumulateKernel } from '../src/kernels/elementwise.js';
import { launchInto } from '../src/tensor/ops.js';
import type { OpName } from '../src/tensor/primitives.js';
import { existsSync, readFileSync } from 'node:fs';
import { assertClose, checkGrad, cpu, gpu, rand } from './helpers.js';

interface Case {
  name: string;
  shapes: number[][];
  f: (...xs: Tensor[]) => Tensor;
  /** Input value range (default [-1, 1]). */
  range?: [number, number];
  tol?: { atol?: number; rtol?: number };
  /** Skip the finite-difference check (non-differentiable or kinked ops). */
  noGrad?: boolean;
}

const unary = (name: string, f: (x: Tensor) => Tensor, range?: [number, number], noGrad = false): Case[] => [
  { name: `${name} [1]`, shapes: [[1]], f, range, noGrad },
  { name: `${name} [7, 13]`, shapes: [[7, 13]], f, range, noGrad },
  { name: `${name} [3, 1, 5]`, shapes: [[3, 1, 5]], f, range, noGrad },
];

const binary = (name: string, f: (a: Tensor, b: Tensor) => Tensor, range?: [number, number], noGrad = false): Case[] => [
  { name: `${name} same [5, 7]`, shapes: [[5, 7], [5, 7]], f, range, noGrad },
  { name: `${name} bias [3, 5] + [5]`, shapes: [[3, 5], [5]], f, range, noGrad },
  { name: `${name} col [4, 1] + [4, 3]`, shapes: [[4, 1], [4, 3]], f, range, noGrad },
  { name: `${name} scalar [2, 3] + []`, shapes: [[2, 3], []], f, range, noGrad },
  { name: `${name} outer [3, 1, 2] + [4, 1]`, shapes: [[3, 1, 2], [4, 1]], f, range, noGrad },
];

/** A primitive's rows here, or the suite that tests its kernel and gradient (its file must call the op). */
type Row = Case[] | { testedIn: string; call: string };

const byPrimitive: { [K in OpName]: Row } = {
  neg: unary('neg', o.neg),
  exp: unary('exp', o.exp),
  log: unary('log', o.log, [0.2, 3]),
  sqrt: unary('sqrt', o.sqrt, [0.2, 3]),
  rsqrt: unary('rsqrt', o.rsqrt, [0.2, 3]),
  tanh: unary('tanh', o.tanh, [-3, 3]),
  erf: unary('erf', o.erf, [-3, 3]),
  gelu: [...unary('gelu', o.gelu, [-4, 4]), { name: 'vec4: gelu [4, 12]', shapes: [[4, 12]], f: (x) => o.gelu(x), range: [-4, 4] }],
  relu: unary('relu', o.relu, [-1, 1]),
  sigmoid: unary('sigmoid', o.sigmoid, [-6, 6]),
  abs: unary('abs', o.abs),
  square: unary('square', o.square),
  adds: unary('adds', (x) => o.adds(x, 0.75)),
  muls: unary('muls', (x) => o.muls(x, -1.5)),
  pows: [...unary('pows 3', (x) => o.pows(x, 3)), ...unary('pows 0.5', (x) => o.pows(x, 0.5), [0.2, 2])],
  rsubs: unary('rsubs', (x) => o.rsubs(x, 2)),
  maxs: unary('maxs', (x) => o.maxs(x, 0.1)),
  add: [
    ...binary('add', o.add),
    { name: 'vec4: add bias [3, 8] + [8]', shapes: [[3, 8], [8]], f: o.add },
    { name: 'vec4: add [2, 2, 4] + [1, 4] suffix broadcast', shapes: [[2, 2, 4], [1, 4]], f: o.add },
  ],
  sub: binary('sub', o.sub),
  mul: [...binary('mul', o.mul), { name: 'vec4: mul same [6, 8]', shapes: [[6, 8], [6, 8]], f: o.mul }],
  div: [...binary('div', o.div, [0.5, 2]), { name: 'vec4: div scalar [2, 8] / []', shapes: [[2, 8], []], f: o.div, range: [0.5, 2] }],
  pow: binary('pow', o.pow, [0.5, 2]),
  maximum: binary('maximum', o.maximum),
  minimum: binary('minimum', o.minimum),
  bceLogits: binary('bceLogits', (x, y) => o.bceLogits(x, o.sigmoid(y)), [-3, 3]),
  where: [
    { name: 'where', shapes: [[4, 5], [4, 5], [5]], f: (c, a, b) => o.where(o.gt(c, a), a, b) },
    { name: 'vec4: where [4, 8]', shapes: [[4, 8], [4, 8], [8]], f: (c, a, b) => o.where(o.gt(c, a), a, b) },
  ],
  sum: [
    { name: 'sum all', shapes: [[6, 7]], f: (x) => o.sum(x) },
    { name: 'sum axis 0', shapes: [[6, 7]], f: (x) => o.sum(x, 0) },
    { name: 'sum axes [0, 2] keep', shapes: [[3, 4, 5]], f: (x) => o.sum(x, [0, 2], true) },
    { name: 'sum long row', shapes: [[3, 1000]], f: (x) => o.sum(x, -1) },
    { name: 'mean axis 1', shapes: [[4, 9, 2]], f: (x) => o.mean(x, 1) },
  ],
  max: [
    { name: 'max axis 1', shapes: [[5, 11]], f: (x) => o.max(x, 1) },
    { name: 'max long row keep', shapes: [[2, 300]], f: (x) => o.max(x, 1, true) },
  ],
  reshape: [{ name: 'reshape', shapes: [[4, 6]], f: (x) => o.reshape(x, [2, -1, 3]).mul(o.reshape(x, [2, 4, 3])) }],
  permute: [
    { name: 'permute', shapes: [[2, 3, 4]], f: (x) => o.permute(x, [2, 0, 1]) },
    { name: 'permute moving size-1 axes (a view)', shapes: [[2, 3, 1, 4]], f: (x) => o.permute(x, [0, 2, 1, 3]) },
    { name: 'permute size-1 lead axis + real swap', shapes: [[1, 3, 4]], f: (x) => o.permute(x, [2, 0, 1]) },
    { name: 'transpose', shapes: [[5, 3]], f: (x) => o.transpose(x) },
    { name: 'vec4: head split permute [2, 5, 3, 8] → [0, 2, 1, 3]', shapes: [[2, 5, 3, 8]], f: (x) => o.permute(x, [0, 2, 1, 3]) },
  ],
  slice: [
    { name: 'slice', shapes: [[5, 6]], f: (x) => o.slice(x, [1, 2], [4, -1]) },
    { name: 'vec4: slice [6, 8] rows 1:5, cols 4:8', shapes: [[6, 8]], f: (x) => o.slice(x, [1, 4], [5, 8]) },
    { name: 'scalar: slice [6, 8] cols 2:6 (offset not a multiple of 4)', shapes: [[6, 8]], f: (x) => o.slice(x, [1, 2], [5, 6]) },
  ],
  pad: [{ name: 'pad [2, 3] into [4, 5] at [1, 2]', shapes: [[2, 3]], f: (x) => o.pad(x, [1, 2], [4, 5]) }],
  expand: [{ name: 'expand', shapes: [[3, 1]], f: (x) => o.expand(x, [2, 3, 4]) }],
  concat: [
    { name: 'concat axis 1', shapes: [[2, 3], [2, 5]], f: (a, b) => o.concat([a, b], 1) },
    { name: 'concat axis 0 x3', shapes: [[1, 4], [2, 4], [3, 4]], f: (a, b, c) => o.concat([a, b, c], 0) },
    { name: 'vec4: concat axis 1 [2, 4] ++ [2, 8]', shapes: [[2, 4], [2, 8]], f: (a, b) => o.concat([a, b], 1) },
  ],
  matmul: [
    { name: 'matmul NN', shapes: [[5, 7], [7, 3]], f: (a, b) => o.matmul(a, b) },
    { name: 'matmul NT', shapes: [[5, 7], [3, 7]], f: (a, b) => o.matmul(a, b, { transB: true }) },
    { name: 'matmul TN', shapes: [[7, 5], [7, 3]], f: (a, b) => o.matmul(a, b, { transA: true }) },
    { name: 'matmul TT', shapes: [[7, 5], [3, 7]], f: (a, b) => o.matmul(a, b, { transA: true, transB: true }) },
    { name: 'matmul batched', shapes: [[3, 4, 6], [3, 6, 5]], f: (a, b) => o.matmul(a, b) },
    { name: 'matmul shared B', shapes: [[2, 3, 4], [4, 5]], f: (a, b) => o.matmul(a, b) },
    { name: 'matmul shared A, TN', shapes: [[6, 4], [2, 6, 3]], f: (a, b) => o.matmul(a, b, { transA: true }) },
    { name: 'matmul 1x1', shapes: [[1, 1], [1, 1]], f: (a, b) => o.matmul(a, b) },
  ],
  dropout: { testedIn: 'test/random.test.ts', call: 'dropout(' },
  softmax: { testedIn: 'test/kernels/softmax.test.ts', call: 'softmax(' },
  logSoftmax: { testedIn: 'test/kernels/softmax.test.ts', call: 'logSoftmax(' },
  layerNorm: { testedIn: 'test/kernels/layernorm.test.ts', call: 'layerNorm(' },
  embedding: { testedIn: 'test/kernels/embedding.test.ts', call: 'embeddingOp(' },
  softmaxCrossEntropy: { testedIn: 'test/kernels/cross_entropy.test.ts', call: 'softmaxCrossEntropy(' },
  linear: { testedIn: 'test/kernels/matmul-epilogue.test.ts', call: 'linear(' },
  attention: { testedIn: 'test/kernels/attention.test.ts', call: 'attention(' },
};

/** Rows of ops that are not primitives (compare masks: no gradient). */
const others: Case[] = [
  ...binary('lt', o.lt, undefined, true),
  ...binary('eq', (a, b) => o.eq(o.maxs(a, 0), o.maxs(b, 0)), undefined, true),
];

const cases: Case[] = [...Object.values(byPrimitive).flatMap((r) => (Array.isArray(r) ? r : [])), ...others];

const table = suite('ops: the table covers every primitive');
table('each primitive has rows here or a suite of its own that calls it', () => {
  for (const [op, row] of Object.entries(byPrimitive)) {
    if (Array.isArray(row)) { assert.ok(row.length > 0, `${op}: no rows`); continue; }
    assert.ok(existsSync(row.testedIn), `${op}: ${row.testedIn} does not exist`);
    assert.ok(readFileSync(row.testedIn, 'utf8').includes(row.call), `${op}: ${row.testedIn} never calls ${row.call}`);
  }
  for (const op of o.UNARY_OPS) assert.ok(Array.isArray(byPrimitive[op]), `unary ${op} is tested here`);
});
table.run();

const fwd = suite('ops: WebGPU vs CPU reference');
let dev: Device | null = null;
fwd.before(async () => { dev = await gpu(); });

for (const c of cases) {
  fwd(c.name, async () => {
    if (!dev) return;
    const [lo, hi] = c.range ?? [-1, 1];
    const data = c.shapes.map((s, i) => rand(s.reduce((a, b) => a * b, 1), 7 + i * 13, lo, hi));
    const run = (d: Device) => tidy(() => c.f(...data.map((v, i) => tensor(v, c.shapes[i], { device: d }))));
    const want = run(cpu), got = run(dev);
    assert.equal(got.shape, want.shape);
    assertClose(await got.data(), await want.data(), { atol: 2e-6, rtol: 2e-5, ...c.tol, label: c.name });
    got.dispose(); want.dispose();
  });
}
fwd.run();

const grads = suite('ops: gradients vs finite differences (float64, CPU)');
for (const c of cases) {
  if (c.noGrad) continue;
  grads(c.name, async () => {
    const [lo, hi] = c.range ?? [-1, 1];
    // Keep kinked ops (relu, abs, max, maximum, maxs) away from their kinks: FD straddling one is meaningless.
    const inputs = c.shapes.map((s, i) => ({ data: rand(s.reduce((a, b) => a * b, 1), 100 + i, lo, hi), shape: s }));
    await checkGrad(c.f, inputs, { label: c.name, tol: 1e-6 });
  });
}
grads.run();

const big = suite('ops: many workgroups');
big.before(async () => { dev = await gpu(); });
big('map / reduce / copy / matmul over 70k+ elements', async () => {
  if (!dev) return;
  const x = rand(300 * 257, 5), y = rand(257, 6);
  const run = (d: Device) => tidy(() => {
    const a = tensor(x, [300, 257], { device: d }), b = tensor(y, [257], { device: d });
    const s = o.gelu(o.add(a, b));
    return [o.sum(s, 0), o.sum(s, 1), o.max(s, 0), o.transpose(s), o.matmul(s, s, { transA: true })];
  });
  const want = run(cpu), got = run(dev);
  for (let i = 0; i < want.length; i++) {
    assertClose(await got[i].data(), await want[i].data(), { atol: 1e-4, rtol: 1e-4, label: `output ${i}` });
  }
});
big('flat kernels: vec4 and scalar items agree with the CPU (cast, fill, accumulate; 4k and 4k+3 elements)', async () => {
  if (!dev) return;
  for (const n of [70_000, 70_003]) {
    const x = rand(n, 8, -3, 3), y = rand(n, 9);
    const run = (d: Device) => tidy(() => {
      const a = tensor(x, [n], { device: d }), b = tensor(y, [n], { device: d });
      const acc = o.fill([n], 0.5, 'f32', d);
      launchInto(accumulateKernel, { n }, [a], [acc], 'accumulate');
      launchInto(accumulateKernel, { n }, [b], [acc], 'accumulate');
      return [acc, o.cast(o.cast(a, 'i32'), 'f32'), o.fill([n], 7, 'i32', d)];
    });
    const want = run(cpu), got = run(dev);
    for (let i = 0; i < want.length; i++) assertClose(await got[i].data(), await want[i].data(), { atol: 1e-6, label: `n ${n} output ${i}` });
  }
});
big('argmax: first maximum wins, rows short and long', async () => {
  if (!dev) return;
  for (const cols of [5, 700]) {
    const v = new Float32Array(3 * cols);
    v[2] = 1; v[cols - 1] = 1;                       // row 0: tie at 2 and cols-1 → 2
    v[cols + 0] = -1; v.fill(-2, cols + 1, 2 * cols); // row 1: max at 0
    v[2 * cols + cols - 1] = 3;                       // row 2: max at the end
    const t = tensor(v, [3, cols], { device: dev });
    assert.equal(Array.from(await o.argmax(t, 1).data()), [2, 0, cols - 1]);
  }
});
big.run();

const bad = suite('ops: bad input gives clear errors');
bad('shape mismatch names both shapes', () => {
  const a = tensor(rand(6), [2, 3], { device: cpu }), b = tensor(rand(8), [2, 4], { device: cpu });
  assert.throws(() => o.add(a, b), /add: shapes \[2, 3\] and \[2, 4\] cannot be broadcast/);
  assert.throws(() => o.matmul(a, b), /matmul: inner dims differ in \[2, 3\] · \[2, 4\]/);
  assert.throws(() => o.reshape(a, [4, 2]), /reshape: cannot reshape \[2, 3\]/);
  assert.throws(() => o.concat([a, b], 0), /concat: \[2, 3\] f32, \[2, 4\] f32 do not match/);
  assert.throws(() => o.permute(a, [0, 0]), /permute/);
  assert.throws(() => o.slice(a, [0, 4], [2, 5]), /slice: range 4:5 out of bounds for dim 1 of \[2, 3\]/);
  assert.throws(() => o.sum(a, 2), /axis 2 out of range/);
});
bad('wrong dtype', () => {
  const ids = tensor(new Int32Array([1, 2, 3]), [3], { device: cpu });
  assert.throws(() => o.exp(ids), /exp: expected f32 input, got i32 tensor \[3\]/);
  assert.throws(() => o.matmul(o.reshape(ids, [1, 3]), o.reshape(ids, [3, 1])), /matmul: expected f32/);
});
bad('disposed tensor', async () => {
  const a = tensor(rand(4), [4], { device: cpu });
  a.dispose();
  assert.throws(() => o.exp(a), /exp: tensor \[4\] f32 was disposed/);
  const err = await a.data().then(() => null, (e: Error) => e);
  assert.match(String(err), /data: tensor \[4\] f32 was disposed/);
});
bad('tensor() with data not filling the shape', () => {
  assert.throws(() => tensor([1, 2, 3], [2, 2]), /3 values do not fill shape \[2, 2\]/);
});
bad('backward on a non-scalar without a gradient', () => {
  const w = tensor(rand(4), [4], { device: cpu }).param();
  const y = o.muls(w, 2);
  assert.throws(() => y.backward(), /not a scalar/);
});
bad.run();
