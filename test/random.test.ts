// Philox RNG, random tensors, dropout and Gumbel-max: known-answer vectors, CPU == WebGPU (bit-exact
// words and uniforms; normals within float tolerance), statistics, resume from a saved state, the
// dropout gradient against finite differences, and Gumbel-max frequencies against softmax.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { assertClose, checkGrad, cpu, gpu, rand } from './helpers.js';
import { philox } from '../src/kernels/random.js';
import { Rng, sampleGumbelMax } from '../src/tensor/random.js';
import { dropout } from '../src/tensor/ops.js';
import { tensor, tidy } from '../src/tensor/tensor.js';
import type { Device } from '../src/device/device.js';

const s = suite('random');
const dev = await gpu();

const hex = (w: Uint32Array) => Array.from(w, (x) => x.toString(16).padStart(8, '0')).join(' ');

s('philox4x32-10 known-answer vectors (Random123 kat_vectors)', () => {
  assert.is(hex(philox(0, 0, 0, 0, 0, 0)), '6627e8d5 e169c58d bc57ac4c 9b00dbd8');
  assert.is(hex(philox(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff)), '408f276d 41c83b0e a20bc7c6 6d5451fd');
  assert.is(hex(philox(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0)), 'd16cfe09 94fdcceb 5001e420 24126ea1');
});

s('seeds: key words, bad seeds rejected', () => {
  assert.equal(new Rng(2 ** 32 + 5).key, [5, 1]);
  assert.throws(() => new Rng(-1), /seed/);
  assert.throws(() => new Rng(1.5), /seed/);
});

s('bits: CPU and WebGPU produce identical u32 words (many workgroups)', async () => {
  if (!dev) return;
  const n = 4099;
  const a = await new Rng(12345, 7).bits(n, cpu).data();
  const b = await new Rng(12345, 7).bits(n, dev).data();
  assert.equal(Array.from(b), Array.from(a));
  // and they are the Philox words of counter (i, stream = 7) under key (12345, 0)
  const w = philox(4098, 7, 0, 0, 12345, 0);
  assert.equal(Array.from(a.slice(4 * 4098)), Array.from(new Int32Array(w.buffer)));
});

s('uniform: bit-identical on both devices, prefix-stable, in [0,1), mean and variance', async () => {
  const n = 100_003;
  const a = await new Rng(3).uniform([n], 0, 1, cpu).data();
  let lo = Infinity, hi = -Infinity, mean = 0;
  for (const x of a) { lo = Math.min(lo, x); hi = Math.max(hi, x); mean += x / n; }
  let v = 0;
  for (const x of a) v += (x - mean) ** 2 / n;
  assert.ok(lo >= 0 && hi < 1, `range [${lo}, ${hi}]`);
  assert.ok(Math.abs(mean - 0.5) < 4 * Math.sqrt(1 / 12 / n), `mean ${mean}`);
  assert.ok(Math.abs(v - 1 / 12) < 0.002, `variance ${v}`);
  // element i depends only on (seed, stream, i): a shorter draw is a prefix of a longer one
  const short = await new Rng(3).uniform([5, 7], 0, 1, cpu).data();
  assert.equal(Array.from(short), Array.from(a.slice(0, 35)));
  if (!dev) return;
  const g = await new Rng(3).uniform([n], 0, 1, dev).data();
  assert.equal(Array.from(g), Array.from(a));
  const g2 = await new Rng(3).uniform([13], -2, 3, dev).data();
  assertClose(g2, await new Rng(3).uniform([13], -2, 3, cpu).data(), { atol: 1e-6, rtol: 0, label: 'uniform [-2, 3)' });
});

async function moments(t: Promise<ArrayLike<number>>) {
  const a = await t;
  let m = 0, v = 0, maxAbs = 0;
  for (let i = 0; i < a.length; i++) m += a[i] / a.length;
  for (let i = 0; i < a.length; i++) { v += (a[i] - m) ** 2 / a.length; maxAbs = Math.max(maxAbs, Math.abs(a[i])); }
  return { m, sd: Math.sqrt(v), maxAbs };
}

s('normal: moments; CPU vs WebGPU within 2e-5 (f32 log/cos)', async () => {
  const n = 50_000;
  const c = await moments(new Rng(11).normal([n], 1, 2, cpu).data());
  assert.ok(Math.abs(c.m - 1) < 4 * 2 / Math.sqrt(n), `mean ${c.m}`);
  assert.ok(Math.abs(c.sd - 2) < 0.03, `std ${c.sd}`);
  if (!dev) return;
  for (const shape of [[1], [257], [3, 1031]]) {
    const a = await new Rng(11, 4).normal(shape, 1, 2, cpu).data();
    const b = await new Rng(11, 4).normal(shape, 1, 2, dev).data();
    assertClose(b, a, { atol: 2e-5, rtol: 2e-5, label: `normal ${shape}` });
  }
});

s('truncatedNormal: within 2σ, std = 0.8796σ, CPU vs WebGPU', async () => {
  const n = 50_000;
  const c = await moments(new Rng(5).truncatedNormal([n], 0.02, cpu).data());
  assert.ok(c.maxAbs <= 0.04 + 1e-9, `max |x| ${c.maxAbs}`);
  assert.ok(Math.abs(c.m) < 4 * 0.0176 / Math.sqrt(n), `mean ${c.m}`);
  assert.ok(Math.abs(c.sd - 0.02 * 0.879626) < 0.0003, `std ${c.sd}`);
  if (!dev) return;
  const a = await new Rng(5, 2).truncatedNormal([2, 4099], 0.02, cpu).data();
  const b = await new Rng(5, 2).truncatedNormal([2, 4099], 0.02, dev).data();
  assertClose(b, a, { atol: 1e-6, rtol: 1e-5, label: 'truncatedNormal' });
});

s('state/fromState: a resumed Rng draws exactly what an uninterrupted one does', async () => {
  const devs: Device[] = dev ? [cpu, dev] : [cpu];
  for (const d of devs) {
    const straight = new Rng(99);
    const ref: number[][] = [];
    for (let k = 0; k < 4; k++) ref.push(Array.from(await straight.uniform([33], 0, 1, d).data()));
    ref.push(Array.from(await straight.normal([17], 0, 1, d).data()));

    const first = new Rng(99);
    const got: number[][] = [];
    for (let k = 0; k < 2; k++) got.push(Array.from(await first.uniform([33], 0, 1, d).data()));
    const saved = JSON.parse(JSON.stringify(first.state()));
    assert.equal(saved, { seed: 99, counter: 2 });
    const resumed = Rng.fromState(saved);
    for (let k = 0; k < 2; k++) got.push(Array.from(await resumed.uniform([33], 0, 1, d).data()));
    got.push(Array.from(await resumed.normal([17], 0, 1, d).data()));
    assert.equal(got, ref);
    assert.is(resumed.counter, straight.counter);
    assert.not.equal(ref[0], ref[1]); // each draw its own stream
  }
});

// ---- dropout --------------------------------------------------------------------------------------

for (const n of [60_001, 60_000]) s(`dropout (${n % 4 ? 'one element' : 'vec4'} per item): same mask on CPU and WebGPU, kept fraction ≈ 1-p, kept values scaled by 1/(1-p)`, async () => {
  const p = 0.1;
  const x = rand(n, 4, 0.5, 1.5);
  const yc = await tidy(() => dropout(tensor(x, [n], { device: cpu }), p, new Rng(21, 3))).data();
  let kept = 0;
  for (let i = 0; i < n; i++) {
    if (yc[i] !== 0) { kept++; assert.ok(Math.abs(yc[i] - x[i] / (1 - p)) < 1e-6 * (1 + Math.abs(yc[i])), `value ${i}`); }
  }
  const sd = Math.sqrt(p * (1 - p) / n);
  assert.ok(Math.abs(kept / n - (1 - p)) < 4 * sd, `kept fraction ${kept / n}`);
  if (!dev) return;
  const xg = tensor(x, [n], { device: dev });
  const yg = await dropout(xg, p, new Rng(21, 3)).data();
  xg.dispose();
  for (let i = 0; i < n; i++) if ((yg[i] !== 0) !== (yc[i] !== 0)) assert.unreachable(`mask differs at ${i}`);
  assertClose(yg, yc, { atol: 1e-6, rtol: 1e-6, label: 'dropout values' });
});

s('dropout: p=0 and eval are identity without consuming a stream; bad rate rejected', async () => {
  const rng = new Rng(1);
  const x = tensor([1, 2, 3]);
  assert.equal(Array.from(await dropout(x, 0, rng).data()), [1, 2, 3]);
  assert.equal(Array.from(await dropout(x, 0.5, rng, false).data()), [1, 2, 3]);
  assert.is(rng.counter, 0);
  dropout(x, 0.5, rng);
  assert.is(rng.counter, 1);
  assert.throws(() => dropout(x, 1, rng), /dropout: rate must be in \[0, 1\), got 1 for \[3\]/);
  assert.throws(() => dropout(tensor(new Int32Array([1]), [1]), 0.5, rng), /dropout: expected f32/);
});

s('dropout backward: regenerated mask (finite differences, float64)', async () => {
  const x = { data: rand(40, 8), shape: [5, 8] };
  // A fresh Rng per evaluation: every call of f sees the same mask.
  await checkGrad((t) => dropout(t, 0.3, new Rng(77, 5)).mul(t), [x], { label: 'dropout' });
});

s('dropout backward on WebGPU: gradient is the forward mask / (1-p)', async () => {
  if (!dev) return;
  const n = 5000, p = 0.25;
  const x = tensor(rand(n, 6, 0.5, 1), [n], { device: dev }).param();
  const y = dropout(x, p, new Rng(8));
  y.sum().backward();
  const [yv, gv, xv] = [await y.data(), await x.grad!.data(), await x.data()];
  for (let i = 0; i < n; i++) {
    const expect = yv[i] === 0 ? 0 : 1 / (1 - p);
    if (Math.abs(gv[i] - expect) > 1e-6) assert.unreachable(`grad ${i}: ${gv[i]} vs ${expect} (x ${xv[i]})`);
  }
});

// ---- Gumbel-max ---------------------------------------------------------------------------------

s('sampleGumbelMax: CPU == WebGPU for the same seed (awkward V, many rows)', async () => {
  if (!dev) return;
  // 70,001 rows: more workgroups than one grid dimension holds
  for (const [rows, v] of [[1, 1], [3, 7], [37, 300], [9, 1031], [70_001, 3]]) {
    const logits = rand(rows * v, rows + v, -3, 3);
    const a = await sampleGumbelMax(tensor(logits, [rows, v], { device: cpu }), new Rng(2024, 1), 0.7).data();
    const lg = tensor(logits, [rows, v], { device: dev });
    const b = await sampleGumbelMax(lg, new Rng(2024, 1), 0.7).data();
    lg.dispose();
    assert.equal(Array.from(b), Array.from(a), `[${rows}, ${v}]`);
    assert.ok(Array.from(a).every((i) => i >= 0 && i < v));
  }
});

s('sampleGumbelMax: frequencies match softmax(logits / T) (chi-square)', async () => {
  const d = dev ?? cpu;
  const v = 5, rows = 20_000;
  for (const T of [1, 2]) {
    const row = [0.5, -1, 2, 0, 1];
    const logits = new Float64Array(rows * v);
    for (let r = 0; r < rows; r++) logits.set(row, r * v);
    const lt = tensor(logits, [rows, v], { device: d });
    const idx = await sampleGumbelMax(lt, new Rng(31), T).data();
    lt.dispose();
    const counts = new Array(v).fill(0);
    for (const i of idx) counts[i]++;
    const z = row.reduce((acc, l) => acc + Math.exp(l / T), 0);
    let chi2 = 0;
    row.forEach((l, j) => { const e = rows * Math.exp(l / T) / z; chi2 += (counts[j] - e) ** 2 / e; });
    // 4 degrees of freedom: P(chi2 > 23.5) ≈ 1e-4
    assert.ok(chi2 < 23.5, `T=${T}: chi2 ${chi2.toFixed(2)} counts ${counts}`);
  }
});

s('sampleGumbelMax: bad input', () => {
  assert.throws(() => sampleGumbelMax(tensor([1, 2, 3]), new Rng(1)), /sampleGumbelMax: logits must be \[N, V\], got \[3\]/);
  assert.throws(() => sampleGumbelMax(tensor([1, 2], [1, 2]), new Rng(1), 0), /temperature/);
});

s.run();
