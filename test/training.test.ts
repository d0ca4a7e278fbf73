// Training end to end on the engine: a small Transformer trained on WebGPU and on the CPU device
// follows the same loss trajectory (dropout included: the Philox masks are identical), its loss
// falls, and after warm-up further steps leave the GPU pool's bytes in use unchanged.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as F from '../src/nn/functional.js';
import { HostRng } from '../src/nn/init.js';
import { Embedding, Encoder, Linear } from '../src/nn/layers.js';
import { disposeModule, namedParameters } from '../src/nn/module.js';
import { AdamW } from '../src/nn/optim.js';
import type { Device } from '../src/device/device.js';
import type { WebGPUDevice } from '../src/device/webgpu.js';
import * as o from '../src/tensor/ops.js';
import { Rng } from '../src/tensor/random.js';
import { tensor, tidy } from '../src/tensor/tensor.js';
import { cpu, gpu } from './helpers.js';

const V = 12, T = 8, B = 8;

/** A 1-layer encoder learning to reverse sequences; returns a step function and its optimizer. */
function setup(device: Device) {
  const cfg = { hiddenSize: 32, numAttentionHeads: 2, intermediateSize: 64, numHiddenLayers: 1, hiddenDropoutProb: 0.1, attentionProbsDropoutProb: 0.1, layerNormEps: 1e-12 };
  const ic = { rng: new HostRng(7), device, std: 0.05 };
  const model = { tokens: new Embedding(V, 32, ic), positions: new Embedding(T, 32, ic), encoder: new Encoder(cfg, ic), head: new Linear(32, V, ic) };
  const opt = new AdamW(namedParameters(model), { lr: 3e-3, weightDecay: 0.01, maxGradNorm: 1 });
  const rng = new Rng(11);
  const data = new HostRng(5);
  const pos = tensor(Int32Array.from({ length: T }, (_, i) => i), [T], { device, dtype: 'i32' });
  const step = () => {
    const x = new Int32Array(B * T), y = new Int32Array(B * T);
    for (let i = 0; i < B * T; i++) x[i] = Math.floor(data.uniform() * V);
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) y[b * T + t] = x[b * T + T - 1 - t];
    return tidy(() => {
      const ids = tensor(x, [B, T], { device, dtype: 'i32' });
      const h = o.add(model.tokens.forward(ids), model.positions.forward(pos));
      const logits = model.head.forward(model.encoder.forward(h, null, { training: true, rng }));
      const l = F.crossEntropy(o.reshape(logits, [B * T, V]), tensor(y, [B * T], { device, dtype: 'i32' }));
      l.backward();
      opt.step();
      opt.zeroGrad();
      return l;
    });
  };
  const dispose = () => { opt.dispose(); disposeModule(model); pos.dispose(); };
  return { step, dispose };
}

const s = suite('training');

s('WebGPU and CPU follow the same loss trajectory, and the loss falls', async () => {
  const dev = await gpu(); if (!dev) return;
  const runs = await Promise.all([cpu, dev].map(async (d) => {
    const { step, dispose } = setup(d);
    const losses: number[] = [];
    for (let i = 0; i < 40; i++) { const l = step(); losses.push(await l.item()); l.dispose(); }
    dispose();
    return losses;
  }));
  const [c, g] = runs;
  for (let i = 0; i < c.length; i++) {
    // float32 sums in different orders drift slowly; the trajectories must stay together.
    assert.ok(Math.abs(c[i] - g[i]) <= 2e-3 * (1 + i / 10), `step ${i}: cpu ${c[i]} vs webgpu ${g[i]}`);
  }
  const head = (v: number[]) => v.slice(0, 5).reduce((a, b) => a + b) / 5;
  const tail = (v: number[]) => v.slice(-5).reduce((a, b) => a + b) / 5;
  assert.ok(tail(g) < head(g) - 0.1, `loss fell from ${head(g)} to ${tail(g)}`);
});

s('GPU memory: after warm-up, further steps leave bytes in use unchanged', async () => {
  const dev = await gpu(); if (!dev) return;
  const { step, dispose } = setup(dev);
  for (let i = 0; i < 3; i++) { const l = step(); await l.item(); l.dispose(); }
  await dev.sync();
  const before = dev.memory();
  const created = (dev as WebGPUDevice).stats.buffersCreated;
  for (let i = 0; i < 8; i++) { const l = step(); await l.item(); l.dispose(); }
  await dev.sync();
  const after = dev.memory();
  // Equal unless the garbage collector finalised an undisposed tensor of another suite meanwhile
  // (that moves bytes from in-use to pooled); either way the pool must not grow.
  assert.ok(after.bytesInUse <= before.bytesInUse, `bytes in use ${before.bytesInUse} → ${after.bytesInUse}`);
  assert.is(after.bytesInUse + after.bytesPooled, before.bytesInUse + before.bytesPooled, 'the pool did not grow');
  assert.is((dev as WebGPUDevice).stats.buffersCreated, created, 'no buffer was created after warm-up');
  dispose();
});

s.run();
