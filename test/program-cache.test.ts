// The WebGPU program cache: after warm-up, repeated ELECTRA pre-training steps (with a changing
// learning rate, fresh dropout/Gumbel streams and Adam step factors) generate no new WGSL programs and
// create no pipelines or scratch textures; uniform-only params change the results exactly as a fresh
// program would (CPU reference); and the checked mode catches a kernel whose WGSL depends on a param
// it declared uniform-only.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { presetConfig } from '../src/electra/model/config.js';
import { K, configSupported } from '../src/kernels/matmul.js';
import { createElectraPair, disposeStep, electraStep, pairModules } from '../src/electra/model/pretrain.js';
import { HostRng } from '../src/nn/init.js';
import { disposeModule, namedParameters } from '../src/nn/module.js';
import { AdamW } from '../src/nn/optim.js';
import { linearWarmupLinearDecay } from '../src/nn/schedule.js';
import { type Kernel, header, uniformOnly } from '../src/device/device.js';
import { dropout, launch, matmul, muls } from '../src/tensor/ops.js';
import { Rng } from '../src/tensor/random.js';
import { tensor } from '../src/tensor/tensor.js';
import { WebGPUDevice } from '../src/device/webgpu.js';
import { assertClose, cpu, gpu, rand } from './helpers.js';

const s = suite('program cache');

const special = { pad: 0, cls: 1, sep: 2, mask: 3 };
const cfg = { ...presetConfig('tiny'), vocabSize: 40, hiddenSize: 16, embeddingSize: 8, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 24, maxPositionEmbeddings: 8 };

s('ELECTRA pre-training steps after warm-up create no programs and no pipelines', async () => {
  const dev = await gpu(); if (!dev) return;
  const gd = dev as WebGPUDevice;
  const B = 2, T = 8;
  const pair = createElectraPair(cfg, 'electra', 1, dev);
  const opt = new AdamW(namedParameters(pairModules(pair)), { lr: 1e-3, eps: 1e-6, weightDecay: 0.01, maxGradNorm: 1 });
  const ids = Int32Array.from({ length: B * T }, (_, i) => (i % T === 0 ? 1 : i % T === T - 1 ? 2 : 5 + (i * 7) % 35));
  const batch = { B, T, inputIds: ids, tokenTypeIds: new Int32Array(B * T), attentionMask: new Int32Array(B * T).fill(1) };
  const so = { maskProb: 0.3, discWeight: 50, genWeight: 1, temperature: 1, objective: 'electra' as const, special };
  const rng = new Rng(5);
  // Plus one product big enough for the lavapipe selector's texture path (M ≥ 256), changing each step.
  const wide = tensor(rand(32 * 128, 3), [32, 128], { device: dev });
  const step = async (i: number) => {
    const big = tensor(rand(256 * 32, 10 + i), [256, 32], { device: dev });
    const prod = matmul(big, wide);
    await prod.data();
    big.dispose(); prod.dispose();
    const r = electraStep(pair, batch, so, new HostRng(i), rng, dev, true);
    opt.step(linearWarmupLinearDecay(i + 1, { peak: 1e-3, warmupSteps: 3, totalSteps: 10 }));
    opt.zeroGrad();
    const v = await r.loss.item();
    disposeStep(r);
    return v;
  };
  for (let i = 0; i < 2; i++) await step(i);
  const before = { ...gd.stats };
  const perStep: { dispatches: number; textures: number; bindGroups: number }[] = [];
  for (let i = 2; i < 5; i++) {
    const s0 = { ...gd.stats };
    assert.ok(Number.isFinite(await step(i)), `step ${i} loss`);
    perStep.push({ dispatches: gd.stats.dispatches - s0.dispatches, textures: gd.stats.texturesCreated - s0.texturesCreated, bindGroups: gd.stats.bindGroupsCreated - s0.bindGroupsCreated });
  }
  assert.ok(perStep[0].dispatches > 100, 'the steps launched kernels');
  assert.is(gd.stats.programsCreated - before.programsCreated, 0, 'programs generated after warm-up');
  assert.is(gd.stats.pipelinesCreated - before.pipelinesCreated, 0, 'pipelines created after warm-up');
  // Scratch textures are retired at every sync point, so each step makes the same few afresh; buffers
  // come back from the pool in the same order every step, so only the textures' bind groups are new.
  for (const p of perStep) {
    assert.equal(p, perStep[0], 'every step creates the same textures and bind groups');
    assert.ok(p.bindGroups <= 2 * p.textures + 4 * perStep.length, `bind groups per step ${p.bindGroups} (dispatches ${p.dispatches}, textures ${p.textures})`);
  }
  if (gd.caps.software && configSupported(K.regSgTex, gd.caps)) assert.ok(perStep[0].textures > 0, 'lavapipe matmuls read B through scratch textures');
  opt.dispose();
  wide.dispose();
  disposeModule(pairModules(pair));
});

s('an optimizer step ends a step: later products get fresh scratch textures without any readback between', async () => {
  const dev = await gpu(); if (!dev) return;
  const gd = dev as WebGPUDevice;
  if (!gd.caps.software || !configSupported(K.regSgTex, gd.caps)) return; // only lavapipe-like adapters use them
  const w = tensor(rand(8, 1), [8], { device: dev }).param();
  const opt = new AdamW([['w', w]], { lr: 1e-3 });
  const a = tensor(rand(256 * 32, 2), [256, 32], { device: dev }), b = tensor(rand(32 * 128, 3), [32, 128], { device: dev });
  const t0 = gd.stats.texturesCreated;
  const y1 = matmul(a, b);
  const y2 = matmul(a, b);
  assert.is(gd.stats.texturesCreated - t0, 1, 'one texture within a step');
  w.grad = tensor(rand(8, 4), [8], { device: dev });
  opt.step();
  const y3 = matmul(a, b);
  assert.is(gd.stats.texturesCreated - t0, 2, 'a fresh texture after the optimizer step');
  const [v1, v2, v3] = [await y1.data(), await y2.data(), await y3.data()];
  assertClose(v2, v1, { atol: 0, rtol: 0, label: 'same texture' });
  assertClose(v3, v1, { atol: 0, rtol: 0, label: 'fresh texture' });
  for (const t of [y1, y2, y3, a, b, w.grad, w]) t.dispose();
  opt.dispose();
});

s('uniform-only params reach the kernel: one cached program, results as the CPU for each value', async () => {
  const dev = await gpu(); if (!dev) return;
  const gd = dev as WebGPUDevice;
  const n = 1031, x = rand(n, 3);
  const xg = tensor(x, [n], { device: dev }), xc = tensor(x, [n], { device: cpu });
  // First launches of each shape may generate programs; the second value of every uniform-only param must not.
  for (const [k, rate, c] of [[1, 0.1, 0.5], [2, 0.3, -3]] as const) {
    const p0 = gd.stats.programsCreated;
    const yg = dropout(xg, rate, new Rng(40 + k, k)), yc = dropout(xc, rate, new Rng(40 + k, k));
    assertClose(await yg.data(), await yc.data(), { atol: 1e-6, rtol: 1e-6, label: `dropout key ${40 + k} stream ${k} rate ${rate}` });
    const mg = muls(xg, c), mc = muls(xc, c);
    assertClose(await mg.data(), await mc.data(), { atol: 1e-6, rtol: 1e-6, label: `muls by ${c}` });
    if (k === 2) assert.is(gd.stats.programsCreated, p0, 'new key, stream, rate and scalar reuse the cached programs');
    for (const t of [yg, yc, mg, mc]) t.dispose();
  }
  xg.dispose(); xc.dispose();
});

s('checked mode rejects a kernel whose WGSL depends on a param declared uniform-only', async () => {
  const dev = await gpu(); if (!dev) return;
  const checked = new WebGPUDevice((dev as WebGPUDevice).gpu, {}, { checked: true });
  interface P { n: number; c: number }
  const fields = (p: P) => [['n', 'u32', p.n], ['c', 'f32', p.c]] as const;
  // Wrong on purpose: c is baked into the source as a literal as well as declared uniform-only.
  const bad: Kernel<P> = {
    name: 'bad-uniform-only',
    uniformOnly: uniformOnly(['c'], fields),
    cpu(p, _i, [y]) { y.fill(p.c, 0, p.n); },
    wgsl(p) {
      const h = header(fields(p), [], [['y', 'array<f32>']]);
      return { code: `${h.code}@compute @workgroup_size(64)\nfn main(@builtin(global_invocation_id) g: vec3u) { if (g.x < P.n) { y[g.x] = ${p.c.toFixed(1)}; } }\n`, grid: [1], uniforms: h.uniforms };
    },
  };
  const [y] = launch(bad, { n: 8, c: 1 }, [], [{ shape: [8], dtype: 'f32' }], 'bad 1', checked);
  assert.throws(() => launch(bad, { n: 8, c: 2 }, [], [{ shape: [8], dtype: 'f32' }], 'bad 2', checked), /depends on params declared uniform-only \(c\)/);
  y.dispose();
  await checked.sync();
});

s.run();
