// nn layers: a post-LN Transformer encoder layer — forward and every parameter gradient on WebGPU
// equal the CPU device's; the whole layer's gradients match float64 finite differences; parameter
// names are Hugging Face's.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { HostRng } from '../src/nn/init.js';
import { type EncoderConfig, TransformerLayer } from '../src/nn/layers.js';
import { namedParameters } from '../src/nn/module.js';
import type { Device } from '../src/device/device.js';
import * as o from '../src/tensor/ops.js';
import { tensor, tidy } from '../src/tensor/tensor.js';
import { assertClose, cpu, cpu64, gpu, rand } from './helpers.js';

const cfg: EncoderConfig = {
  hiddenSize: 16, numAttentionHeads: 2, intermediateSize: 24,
  hiddenDropoutProb: 0, attentionProbsDropoutProb: 0, layerNormEps: 1e-12,
};
const B = 2, T = 5;
const maskData = [1, 1, 1, 1, 1, 1, 1, 1, 0, 0]; // second sequence has 2 padding tokens

function build(d: Device, seed = 1) {
  return new TransformerLayer(cfg, { rng: new HostRng(seed), device: d, std: 0.3 });
}

const s = suite('nn: Transformer encoder layer');

s('parameter names are Hugging Face’s', () => {
  const names = namedParameters(build(cpu)).map(([n]) => n);
  assert.equal(names, [
    'attention.self.query.weight', 'attention.self.query.bias', 'attention.self.key.weight', 'attention.self.key.bias',
    'attention.self.value.weight', 'attention.self.value.bias', 'attention.output.dense.weight', 'attention.output.dense.bias',
    'attention.output.LayerNorm.weight', 'attention.output.LayerNorm.bias', 'intermediate.dense.weight', 'intermediate.dense.bias',
    'output.dense.weight', 'output.dense.bias', 'output.LayerNorm.weight', 'output.LayerNorm.bias',
  ]);
});

s('forward and all parameter gradients: WebGPU equals CPU', async () => {
  const dev = await gpu(); if (!dev) return;
  const x = rand(B * T * cfg.hiddenSize, 5);
  const w = rand(B * T * cfg.hiddenSize, 6);
  const run = (d: Device) => {
    const layer = build(d);
    const y = tidy(() => {
      const xt = tensor(x, [B, T, cfg.hiddenSize], { device: d });
      const m = tensor(maskData, [B, T], { device: d });
      const y = layer.forward(xt, m, { training: false, rng: null });
      const l = o.sum(o.mul(y, tensor(w, [B, T, cfg.hiddenSize], { device: d })));
      l.backward();
      return y;
    });
    return { y, params: namedParameters(layer) };
  };
  const want = run(cpu), got = run(dev);
  assertClose(await got.y.data(), await want.y.data(), { atol: 1e-5, rtol: 1e-4, label: 'output' });
  for (let i = 0; i < want.params.length; i++) {
    const [name, p] = want.params[i];
    assertClose(await got.params[i][1].grad!.data(), await p.grad!.data(), { atol: 1e-4, rtol: 1e-3, label: `d ${name}` });
  }
});

s('gradients match float64 finite differences (input and every parameter)', async () => {
  const layer = build(cpu64, 3);
  const x = rand(B * T * cfg.hiddenSize, 8);
  const w = rand(B * T * cfg.hiddenSize, 9);
  const mask = tensor(maskData, [B, T], { device: cpu64 });
  const wt = tensor(w, [B, T, cfg.hiddenSize], { device: cpu64 });
  const xt = tensor(x, [B, T, cfg.hiddenSize], { device: cpu64 }).param();
  const loss = () => tidy(() => o.sum(o.mul(layer.forward(xt, mask, { training: false, rng: null }), wt)));
  const l = loss(); l.backward(); l.dispose();
  const targets: [string, typeof xt][] = [['x', xt], ...namedParameters(layer)];
  const eps = 1e-6;
  for (const [name, t] of targets) {
    const data = (t.storage as unknown as { data: Float64Array }).data;
    const g = await t.grad!.data();
    // A few coordinates per tensor keep this fast; they cover every tensor of the layer.
    for (const j of [0, Math.floor(t.size / 2), t.size - 1]) {
      const v = data[j];
      data[j] = v + eps; const lp = loss(); const up = (await lp.data())[0]; lp.dispose();
      data[j] = v - eps; const lm = loss(); const dn = (await lm.data())[0]; lm.dispose();
      data[j] = v;
      assertClose([g[j]], [(up - dn) / (2 * eps)], { atol: 1e-6, rtol: 1e-5, label: `d ${name}[${j}]` });
    }
  }
});

s('padding: masked keys do not influence real tokens', async () => {
  const layer = build(cpu, 4);
  const x = rand(B * T * cfg.hiddenSize, 10);
  const x2 = Float64Array.from(x);
  for (let t = 3; t < T; t++) for (let c = 0; c < cfg.hiddenSize; c++) x2[(T + t) * cfg.hiddenSize + c] = 42; // change padded tokens
  const fwd = (v: Float64Array) => tidy(() => layer.forward(tensor(v, [B, T, cfg.hiddenSize], { device: cpu }), tensor(maskData, [B, T], { device: cpu }), { training: false, rng: null }));
  const a = await fwd(x).data(), b = await fwd(x2).data();
  assertClose(b.slice(T * cfg.hiddenSize, (T + 3) * cfg.hiddenSize), a.slice(T * cfg.hiddenSize, (T + 3) * cfg.hiddenSize), { atol: 1e-6, label: 'real tokens of sequence 2' });
  assert.ok(Math.abs(a[(T + 4) * cfg.hiddenSize] - b[(T + 4) * cfg.hiddenSize]) > 1e-3);
});

s.run();
