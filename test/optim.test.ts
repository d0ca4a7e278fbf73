// AdamW (src/kernels/adam.ts: adam, sumSquares, clipScale): the fused kernels (via the optimizer on the float64 CPU device) against an independent
// plain-JS Adam loop, for bias correction on/off, clipping off/active/measure-only, and decay
// exclusion; WebGPU against the CPU device on awkward sizes; clipping and exclusion semantics; launch
// and pipeline counts; checkpoint resume; tidy/keep ownership of the optimizer state.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { assertClose, cpu, cpu64, gpu, rand } from './helpers.js';
import { AdamW, type AdamWOptions, excludeLayerNormAndBias } from '../src/nn/optim.js';
import { adamLayout } from '../src/kernels/adam.js';
import { withCaps } from './kernels/fused.js';
import { Tensor, tensor, tidy } from '../src/tensor/tensor.js';
import type { Device } from '../src/device/device.js';
import type { WebGPUDevice } from '../src/device/webgpu.js';

const s = suite('optim');
const dev = await gpu();

interface Spec { name: string; shape: number[] }
const SPECS: Spec[] = [
  { name: 'encoder.layer.0.dense.weight', shape: [3, 5] },
  { name: 'encoder.layer.0.dense.bias', shape: [5] },
  { name: 'encoder.layer.0.LayerNorm.weight', shape: [5] },
];
const size = (sh: number[]) => sh.reduce((a, b) => a * b, 1);

/** Independent reference: plain float64 loops straight from the update equations. */
function referenceAdam(p0: Float64Array[], grads: Float64Array[][], lrs: number[], o: Required<Omit<AdamWOptions, 'excludeFromDecay' | 'lrMultiplier' | 'lossScaling'>>, decay: boolean[]) {
  const p = p0.map((x) => Float64Array.from(x)), m = p0.map((x) => new Float64Array(x.length)), v = p0.map((x) => new Float64Array(x.length));
  const norms: number[] = [];
  grads.forEach((gs, step) => {
    const t = step + 1;
    let sq = 0;
    for (const g of gs) for (const x of g) sq += x * x;
    const norm = Math.sqrt(sq);
    norms.push(norm);
    const scale = o.maxGradNorm > 0 ? Math.min(1, o.maxGradNorm / (norm + 1e-6)) : 1;
    gs.forEach((g, k) => {
      for (let i = 0; i < g.length; i++) {
        const gi = g[i] * scale;
        m[k][i] = o.betas[0] * m[k][i] + (1 - o.betas[0]) * gi;
        v[k][i] = o.betas[1] * v[k][i] + (1 - o.betas[1]) * gi * gi;
        const mh = o.biasCorrection ? m[k][i] / (1 - o.betas[0] ** t) : m[k][i];
        const vh = o.biasCorrection ? v[k][i] / (1 - o.betas[1] ** t) : v[k][i];
        let upd = mh / (Math.sqrt(vh) + o.eps);
        if (decay[k]) upd += o.weightDecay * p[k][i];
        p[k][i] -= lrs[step] * upd;
      }
    });
  });
  return { p, m, v, norms };
}

function makeParams(specs: Spec[], d: Device, seed = 1): Tensor[] {
  return specs.map((sp, k) => tensor(rand(size(sp.shape), seed + k), sp.shape, { device: d }).param());
}

function setGrads(ps: Tensor[], gs: Float64Array[]): void {
  ps.forEach((p, k) => { p.grad?.dispose(); p.grad = tensor(gs[k], [...p.shape], { device: p.device }); });
}

const gradsFor = (specs: Spec[], steps: number, amp: number) =>
  Array.from({ length: steps }, (_, t) => specs.map((sp, k) => rand(size(sp.shape), 100 + 10 * t + k, -amp, amp)));

s('AdamW on the float64 CPU device == plain-JS Adam (bias correction × clipping × decay exclusion)', async () => {
  const lrs = [1e-3, 5e-4, 2e-3, 1e-4];
  for (const biasCorrection of [false, true]) {
    for (const maxGradNorm of [0, 1, Infinity]) {
      const o = { lr: 1e-3, betas: [0.9, 0.999] as const, eps: 1e-6, weightDecay: 0.01, biasCorrection, maxGradNorm };
      const grads = gradsFor(SPECS, lrs.length, 2); // global norm ≈ 5: clipping at 1 is active
      const ps = makeParams(SPECS, cpu64);
      const p0 = await Promise.all(ps.map(async (p) => Float64Array.from(await p.data())));
      const opt = new AdamW(SPECS.map((sp, k) => [sp.name, ps[k]] as const), o);
      assert.equal(opt.decayed(), ['encoder.layer.0.dense.weight']);
      const ref = referenceAdam(p0, grads, lrs, o, SPECS.map((sp) => !excludeLayerNormAndBias(sp.name)));
      for (let t = 0; t < lrs.length; t++) {
        setGrads(ps, grads[t]);
        opt.step(lrs[t]);
        if (maxGradNorm > 0) assertClose([await opt.lastGradNorm()], [ref.norms[t]], { atol: 0, rtol: 1e-12, label: 'grad norm' });
      }
      const st = opt.state();
      const tag = `bc=${biasCorrection} clip=${maxGradNorm}`;
      for (let k = 0; k < SPECS.length; k++) {
        assertClose(await ps[k].data(), ref.p[k], { atol: 1e-12, rtol: 1e-12, label: `${tag} p ${SPECS[k].name}` });
        assertClose(await st.m[SPECS[k].name].data(), ref.m[k], { atol: 1e-12, rtol: 1e-12, label: `${tag} m` });
        assertClose(await st.v[SPECS[k].name].data(), ref.v[k], { atol: 1e-12, rtol: 1e-12, label: `${tag} v` });
      }
      assert.is(st.step, 4);
      // the reference differs visibly between settings, so each comparison pins its own setting
      if (maxGradNorm === 1) assert.ok(ref.norms[0] > 2, 'clipping active');
      opt.dispose();
    }
  }
});

s('clipping: m sees g·min(1, max/(norm+1e-6)); below the bound grads pass unchanged', async () => {
  const devs: Device[] = dev ? [cpu, dev] : [cpu];
  for (const d of devs) {
    for (const [amp, expectClip] of [[10, true], [0.01, false]] as const) {
      const g = [new Float64Array([3 * amp, 4 * amp]), new Float64Array([0])]; // norm 5·amp
      const ps = [tensor([1, 2], [2], { device: d }).param(), tensor([3], [1], { device: d }).param()];
      const opt = new AdamW([['w', ps[0]], ['b', ps[1]]], { lr: 0.1, maxGradNorm: 1 });
      setGrads(ps, g);
      opt.step();
      const norm = await opt.lastGradNorm();
      assertClose([norm], [5 * amp], { rtol: 1e-6, label: `norm on ${d.kind}` });
      const scale = expectClip ? 1 / (5 * amp + 1e-6) : 1;
      assertClose(await opt.state().m.w.data(), [0.1 * 3 * amp * scale, 0.1 * 4 * amp * scale], { rtol: 1e-6, atol: 1e-9, label: `m on ${d.kind}` });
      opt.dispose();
    }
  }
});

s('weight decay: decoupled (lr·wd·p), skipped for excluded names; zero-grad params only decay', async () => {
  const devs: Device[] = dev ? [cpu, dev] : [cpu];
  for (const d of devs) {
    const names = ['embeddings.word_embeddings', 'layer.output.dense.bias', 'layer.output.LayerNorm.gamma', 'head.layer_norm.weight'];
    const ps = names.map((_, k) => tensor([1 + k, -2], [2], { device: d }).param());
    const opt = new AdamW(names.map((n, k) => [n, ps[k]] as const), { lr: 0.5, weightDecay: 0.1 });
    setGrads(ps, names.map(() => new Float64Array(2)));
    opt.step();
    assertClose(await ps[0].data(), [1 * (1 - 0.05), -2 * (1 - 0.05)], { rtol: 1e-6, label: 'decayed' });
    for (let k = 1; k < names.length; k++) assertClose(await ps[k].data(), [1 + k, -2], { atol: 0, rtol: 0, label: `excluded ${names[k]}` });
    // a custom predicate: decay everything
    const q = tensor([2], [1], { device: d }).param();
    const opt2 = new AdamW([['x.bias', q]], { lr: 0.5, weightDecay: 0.1, excludeFromDecay: () => false });
    setGrads([q], [new Float64Array(1)]);
    opt2.step();
    assertClose(await q.data(), [2 * 0.95], { rtol: 1e-6, label: 'custom predicate' });
    // parameters without a gradient are not touched at all (no m/v decay, no weight decay)
    ps[0].grad!.dispose(); ps[0].grad = null;
    const before = Array.from(await ps[0].data());
    opt.step();
    assert.equal(Array.from(await ps[0].data()), before);
    opt.dispose(); opt2.dispose();
  }
});

s('lrMultiplier: per-parameter learning-rate factors (layerwise decay)', async () => {
  const a = tensor([1, -1], [2], { device: cpu64 }).param(), b = tensor([1, -1], [2], { device: cpu64 }).param();
  const opt = new AdamW([['encoder/layer_0/w', a], ['encoder/layer_1/w', b]], {
    lr: 0.1, weightDecay: 0.5, lrMultiplier: (n) => (n.includes('layer_0') ? 0.8 : 1),
  });
  setGrads([a, b], [new Float64Array([0.3, 0.2]), new Float64Array([0.3, 0.2])]);
  opt.step();
  const [da, db] = [await a.data(), await b.data()].map((x) => [1 - x[0], -1 - x[1]]);
  assertClose(da, db.map((d) => 0.8 * d), { atol: 1e-15, rtol: 1e-12, label: 'scaled step (Adam direction and decay alike)' });
  assert.ok(Math.abs(db[0]) > 0.05, 'the step is not trivially 0');
  assert.throws(() => new AdamW([['w', a]], { lr: 1, lrMultiplier: () => NaN }), /lrMultiplier\(w\)/);
  opt.dispose();
});

s('WebGPU == CPU over steps with clipping, bias correction and decay (awkward sizes, many workgroups)', async () => {
  if (!dev) return;
  const specs: Spec[] = [
    { name: 'a.weight', shape: [1] }, { name: 'b.bias', shape: [257] }, { name: 'c.weight', shape: [3, 1031] },
    { name: 'd.LayerNorm.weight', shape: [70_001] }, // sum of squares spread over 18 workgroups
    { name: 'e.weight', shape: [33, 1028] }, { name: 'f.bias', shape: [8] }, // vec4 items
  ];
  const lrs = [2e-3, 1e-3, 3e-3];
  const grads = gradsFor(specs, lrs.length, 0.05);
  const out: Float32Array[][] = [];
  for (const d of [cpu, dev]) {
    const ps = makeParams(specs, d, 7);
    const opt = new AdamW(specs.map((sp, k) => [sp.name, ps[k]] as const), { lr: 1, weightDecay: 0.01, biasCorrection: true, maxGradNorm: 1 });
    const norms: number[] = [];
    for (let t = 0; t < lrs.length; t++) { setGrads(ps, grads[t]); opt.step(lrs[t]); norms.push(await opt.lastGradNorm()); }
    const st = opt.state();
    const res: Float32Array[] = [Float32Array.from(norms)];
    for (const sp of specs) {
      const k = specs.indexOf(sp);
      res.push(await ps[k].data() as Float32Array, await st.m[sp.name].data() as Float32Array, await st.v[sp.name].data() as Float32Array);
    }
    out.push(res);
    opt.dispose();
    ps.forEach((p) => { p.grad?.dispose(); p.dispose(); });
  }
  assert.ok(out[0][0][0] > 1, `clipping active (norm ${out[0][0][0]})`);
  assertClose(out[1][0], out[0][0], { rtol: 1e-5, label: 'grad norms' });
  for (let i = 1; i < out[0].length; i++) {
    const what = ['p', 'm', 'v'][(i - 1) % 3];
    assertClose(out[1][i], out[0][i], { atol: 1e-7, rtol: 2e-5, label: `${what} of ${specs[Math.floor((i - 1) / 3)].name}` });
  }
});

s('launches: three dispatches per step whatever the parameter count (sum of squares, norm, update); lr changes compile nothing', async () => {
  if (!dev) return;
  const gd = dev as WebGPUDevice;
  for (const count of [3, 40]) {
    const specs: Spec[] = Array.from({ length: count }, (_, k) => ({ name: k === 0 ? 'frozen' : `w${k}`, shape: [k % 2 ? 300 : 7] }));
    for (const maxGradNorm of [0, 1]) {
      const ps = makeParams(specs, dev, 3);
      const opt = new AdamW(specs.map((sp, k) => [sp.name, ps[k]] as const), { lr: 1e-3, maxGradNorm });
      setGrads(ps.slice(1), gradsFor(specs.slice(1), 1, 1)[0]); // 'frozen' has no gradient
      opt.step(1e-3);
      await dev.sync();
      const d0 = gd.stats.dispatches, p0 = gd.stats.pipelinesCreated, g0 = gd.stats.programsCreated;
      for (const lr of [2e-3, 7e-4, 0]) opt.step(lr);
      await dev.sync();
      assert.is(gd.stats.dispatches - d0, 3 * 3, `dispatches, ${count} parameters, clip ${maxGradNorm}`);
      assert.is(gd.stats.pipelinesCreated, p0, 'no new pipelines');
      assert.is(gd.stats.programsCreated, g0, 'no new programs (lr, step factors and the step are uniform-only)');
      opt.dispose();
    }
  }
});

s('memory: after a warm-up step, further steps leave bytes in use unchanged', async () => {
  if (!dev) return;
  const specs: Spec[] = [{ name: 'w', shape: [40, 33] }, { name: 'b', shape: [33] }];
  const ps = makeParams(specs, dev, 9);
  const opt = new AdamW(specs.map((sp, k) => [sp.name, ps[k]] as const), { lr: 1e-3, maxGradNorm: 1, weightDecay: 0.01 });
  const grads = gradsFor(specs, 6, 1);
  setGrads(ps, grads[0]); opt.step(); await opt.lastGradNorm();
  const before = dev.memory().bytesInUse;
  for (let t = 1; t < 6; t++) { setGrads(ps, grads[t]); opt.step(1e-3 * t); await opt.lastGradNorm(); }
  assert.is(dev.memory().bytesInUse, before);
  opt.zeroGrad();
  opt.dispose();
  ps.forEach((p) => p.dispose());
});

s('resume: state() read to arrays → loadState into a fresh optimizer continues bit-identically', async () => {
  const devs: Device[] = dev ? [cpu, dev] : [cpu];
  for (const d of devs) {
    const lrs = [1e-2, 2e-2, 5e-3, 1e-2];
    const grads = gradsFor(SPECS, 4, 1);
    const o = { lr: 1, weightDecay: 0.01, maxGradNorm: 1, biasCorrection: true };
    const named = (ps: Tensor[]) => SPECS.map((sp, k) => [sp.name, ps[k]] as const);
    const a = makeParams(SPECS, d, 5);
    const optA = new AdamW(named(a), o);
    for (let t = 0; t < 4; t++) { setGrads(a, grads[t]); optA.step(lrs[t]); }

    const b = makeParams(SPECS, d, 5);
    const optB = new AdamW(named(b), o);
    for (let t = 0; t < 2; t++) { setGrads(b, grads[t]); optB.step(lrs[t]); }
    const st = optB.state();
    const saved = { step: st.step, m: {} as Record<string, Float32Array>, v: {} as Record<string, Float32Array> };
    for (const sp of SPECS) { saved.m[sp.name] = await st.m[sp.name].data() as Float32Array; saved.v[sp.name] = await st.v[sp.name].data() as Float32Array; }
    const pSaved = await Promise.all(b.map((p) => p.data()));

    const c = SPECS.map((sp, k) => tensor(pSaved[k], sp.shape, { device: d }).param());
    const optC = new AdamW(named(c), o);
    optC.loadState(saved);
    assert.is(optC.stepCount, 2);
    for (let t = 2; t < 4; t++) { setGrads(c, grads[t]); optC.step(lrs[t]); }
    for (let k = 0; k < SPECS.length; k++) assert.equal(Array.from(await c[k].data()), Array.from(await a[k].data()), `${d.kind} ${SPECS[k].name}`);

    // loading from another optimizer's live tensors (device copy) works too
    const optD = new AdamW(named(makeParams(SPECS, d, 5)), o);
    optD.loadState(optA.state());
    assert.equal(Array.from(await optD.state().v[SPECS[0].name].data()), Array.from(await optA.state().v[SPECS[0].name].data()));
    assert.throws(() => optD.loadState({ step: 1, m: {}, v: {} }), /no m for parameter encoder.layer.0.dense.weight/);
    assert.throws(() => optD.loadState({ ...saved, m: { ...saved.m, [SPECS[1].name]: [1, 2] } }), /m of encoder.layer.0.dense.bias has 2 elements, parameter \[5\] has 5/);
    for (const opt of [optA, optB, optC, optD]) opt.dispose();
  }
});

s('ownership: state survives tidy scopes; zeroGrad drops gradients; bad options are rejected', async () => {
  const p = tensor([1, 2, 3]).param();
  const opt = tidy(() => new AdamW([['w', p]], { lr: 0.1, maxGradNorm: 1 }));
  tidy(() => { setGrads([p], [new Float64Array([1, 1, 1])]); opt.step(); });
  const st = opt.state();
  assert.not.ok(st.m.w.isDisposed);
  assert.ok((await st.m.w.data())[0] > 0);
  opt.zeroGrad();
  assert.is(p.grad, null);
  opt.step(); // no gradients: nothing to do
  assert.is(opt.stepCount, 2);
  assert.throws(() => new AdamW([['w', p], ['w', p]], { lr: 1 }), /given twice/);
  assert.throws(() => new AdamW([['w', p], ['tied', p.reshape([3, 1])]], { lr: 1 }), /parameters w and tied share storage/);
  p.grad = tensor([1, 2]);
  assert.throws(() => opt.step(), /AdamW.step: gradient \[2\] f32 does not match parameter w \[3\] f32/);
  p.grad.dispose(); p.grad = null;
  assert.throws(() => new AdamW([['w', p]], { lr: -1 }), /lr must be a finite number/);
  assert.throws(() => new AdamW([['w', p]], { lr: 1, betas: [1, 0.9] }), /betas/);
  assert.throws(() => opt.step(NaN), /lr/);
  const noClip = new AdamW([['w', p]], { lr: 1 });
  try { await noClip.lastGradNorm(); assert.unreachable(); } catch (e) { assert.match((e as Error).message, /only when maxGradNorm is set/); }
  opt.dispose(); noClip.dispose();
});

s('finite check: the first non-finite gradient or loss is recorded with its step and tensor, and nothing moves after it (CPU and WebGPU)', async () => {
  const devs = dev ? [cpu, dev] : [cpu];
  for (const d of devs) {
    const specs: Spec[] = [{ name: 'a', shape: [5] }, { name: 'b', shape: [300] }, { name: 'c', shape: [3] }];
    const ps = makeParams(specs, d, 7);
    const opt = new AdamW(specs.map((sp, k) => [sp.name, ps[k]] as const), { lr: 1e-2, maxGradNorm: 1 });
    const grads = gradsFor(specs, 5, 1);
    for (let t = 0; t < 2; t++) { setGrads(ps, grads[t]); opt.step(); }
    assert.equal(await opt.health(), { ok: true }, `${d.kind}: finite steps`);
    const before = await Promise.all(ps.map((p) => p.data()));
    grads[2][1][17] = NaN; grads[2][2][0] = Infinity;                      // step 3: b goes first (c comes later in the layout)
    setGrads(ps, grads[2]); opt.step();
    for (let t = 3; t < 5; t++) { setGrads(ps, grads[t]); opt.step(); }     // finite again: still nothing moves
    const h = await opt.health();
    assert.ok(!h.ok && h.step === 3 && h.what === 'gradient' && h.param === 'b', `${d.kind}: ${JSON.stringify(h)}`);
    assert.match((h as { message: string }).message, /the gradient of b was not finite at step 3 \(after earlier finite steps: usually a learning rate too high/);
    const after = await Promise.all(ps.map((p) => p.data()));
    after.forEach((a, k) => assertClose(a, before[k], { atol: 0, rtol: 0, label: `${d.kind}: ${specs[k].name} frozen at the last finite step` }));
    opt.dispose();
    // A non-finite loss at the first step: the config or data, not the learning rate.
    const q = makeParams(specs, d, 9);
    const opt2 = new AdamW(specs.map((sp, k) => [sp.name, q[k]] as const), { lr: 1e-2 });
    setGrads(q, grads[0]);
    const loss = tensor([NaN], [1], { device: d });
    opt2.step(1e-2, { loss });
    const h2 = await opt2.health();
    assert.ok(!h2.ok && h2.step === 1 && h2.what === 'loss' && h2.param === null, `${d.kind}: ${JSON.stringify(h2)}`);
    assert.match((h2 as { message: string }).message, /the loss was not finite at step 1 \(already at the first step, before any update: the model config, the initial weights or the data are at fault, not the learning rate\)/);
    loss.dispose(); opt2.dispose();
  }
});

s('layout: tensors padded to 64, chunks never cross a tensor, groups fit the binding limit; AdamW over several groups == one group', async () => {
  const L = adamLayout([5, 4096 + 3, 64, 1], 4224);
  assert.equal(L.offsets, [0, 64, 64 + 4160, 64 + 4160 + 64]);
  assert.is(L.total, 64 + 4160 + 64 + 64);
  assert.equal(L.groups.map((g) => [g.first, g.end]), [[0, 2], [2, 4]]);
  for (let c = 0; c < L.chunkTable.length / 4; c++) {
    const [a, b, t] = L.chunkTable.slice(4 * c, 4 * c + 3);
    const g = L.groups.find((x) => t >= x.first && t < x.end)!;
    assert.ok(4 * a >= L.offsets[t] - g.start && 4 * b <= L.offsets[t] - g.start + Math.ceil(L.sizes[t] / 64) * 64, `chunk ${c} inside tensor ${t}`);
  }
  assert.throws(() => adamLayout([10000], 4096), /over this adapter's largest binding/);
  if (!dev) return;
  const specs: Spec[] = [{ name: 'a', shape: [70, 50] }, { name: 'b', shape: [5000] }, { name: 'c.bias', shape: [33] }];
  const grads = gradsFor(specs, 3, 1);
  const run = async (d: Device) => {
    const ps = makeParams(specs, d, 4);
    const opt = new AdamW(specs.map((sp, k) => [sp.name, ps[k]] as const), { lr: 1e-2, maxGradNorm: 1, weightDecay: 0.1 });
    for (const g of grads) { setGrads(ps, g); opt.step(); }
    const out = await Promise.all(ps.map((p) => p.data()));
    opt.dispose();
    return out;
  };
  const one = await run(dev);
  const several = await withCaps(dev, { maxStorageBinding: 4 * 8192 }, () => run(dev!));
  several.forEach((x, k) => assertClose(x, one[k], { atol: 0, rtol: 0, label: `${specs[k].name}: three groups vs one` }));
  const ref = await run(cpu);
  one.forEach((x, k) => assertClose(x, ref[k], { atol: 1e-6, rtol: 1e-5, label: `${specs[k].name}: WebGPU vs CPU` }));
});

s('loss scaling: unscaled in the norm pass, an overflowing step is skipped and halves the scale, good steps double it (CPU and WebGPU)', async () => {
  for (const d of dev ? [cpu, dev] : [cpu]) {
    const specs: Spec[] = [{ name: 'w', shape: [300] }, { name: 'b.bias', shape: [7] }];
    const grads = gradsFor(specs, 4, 1);
    const plain = makeParams(specs, d, 5), scaled = makeParams(specs, d, 5);
    const o1 = new AdamW(specs.map((sp, k) => [sp.name, plain[k]] as const), { lr: 1e-2, maxGradNorm: 1 });
    const o2 = new AdamW(specs.map((sp, k) => [sp.name, scaled[k]] as const), { lr: 1e-2, maxGradNorm: 1, lossScaling: { init: 1024, growthInterval: 2 } });
    const S = [1024, 1024, 2048, 2048];                       // doubles after 2 good steps
    for (let t = 0; t < 4; t++) {
      setGrads(plain, grads[t]); o1.step();
      assert.is((await o2.scaling()).scale, S[t], `${d.kind}: scale before step ${t + 1}`);
      setGrads(scaled, grads[t].map((g) => g.map((x) => x * S[t]))); o2.step();
      assertClose([await o2.lastGradNorm()], [await o1.lastGradNorm()], { rtol: 1e-5, atol: 0, label: `${d.kind}: unscaled norm, step ${t + 1}` });
    }
    for (let k = 0; k < 2; k++) assertClose(await scaled[k].data(), await plain[k].data(), { atol: 1e-6, rtol: 1e-5, label: `${d.kind}: ${specs[k].name} scaled vs plain` });
    // Overflow: skipped, the scale halves (from 4096, doubled after steps 3 and 4), parameters unchanged, health fine.
    const before = await Promise.all(scaled.map((p) => p.data()));
    setGrads(scaled, grads[0].map((g, k) => g.map((x, i) => (k === 0 && i === 3 ? Infinity : x * 4096)))); o2.step();
    assert.equal(await o2.scaling(), { scale: 2048, skipped: 1 }, `${d.kind}: after the overflow`);
    for (let k = 0; k < 2; k++) assertClose(await scaled[k].data(), before[k], { atol: 0, rtol: 0, label: `${d.kind}: ${specs[k].name} untouched by the skipped step` });
    assert.equal(await o2.health(), { ok: true });
    // A non-finite loss is not an overflow: it stops the run as without scaling.
    setGrads(scaled, grads[1]); o2.step(1e-2, { loss: tensor([NaN], [1], { device: d }) });
    assert.ok(!(await o2.health()).ok, `${d.kind}: NaN loss is fatal`);
    o1.dispose(); o2.dispose();
  }
});

s.run();
