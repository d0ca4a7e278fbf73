// `electra demo`: the engine end to end on synthetic data — a 2-layer post-LN Transformer encoder
// learns to reverse token sequences (every output needs attention to a mirrored position), with
// AdamW, warmup + linear decay, dropout, and a progress line. Loss falls from ln(V) toward 0.

import { parseArgs } from 'node:util';
import { noGrad } from '../autograd/tape.js';
import * as F from '../nn/functional.js';
import { Embedding, type EncoderConfig, Encoder, Linear } from '../nn/layers.js';
import { HostRng } from '../nn/init.js';
import { namedParameters } from '../nn/module.js';
import { AdamW, excludeLayerNormAndBias } from '../nn/optim.js';
import { linearWarmupLinearDecay } from '../nn/schedule.js';
import { bestDevice } from '../node/device.js';
import { Progress } from '../node/progress.js';
import * as o from '../tensor/ops.js';
import { Rng } from '../tensor/random.js';
import { tensor, tidy } from '../tensor/tensor.js';

export const help = `electra demo [options]
  Trains a small Transformer encoder to reverse random token sequences (synthetic data, no downloads).
  --steps N       training steps (default 300)
  --batch N       sequences per step (default 16)
  --seq N         tokens per sequence (default 16)
  --vocab N       vocabulary size (default 24)
  --device D      webgpu | cpu | auto (default auto: WebGPU if an adapter exists)
  --seed N        (default 0)`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv, strict: true,
    options: {
      steps: { type: 'string', default: '300' }, batch: { type: 'string', default: '16' }, seq: { type: 'string', default: '16' },
      vocab: { type: 'string', default: '24' }, device: { type: 'string', default: 'auto' }, seed: { type: 'string', default: '0' },
    },
  });
  const int = (k: keyof typeof values) => {
    const v = Number(values[k]);
    if (!Number.isInteger(v) || v <= 0 && k !== 'seed') throw new Error(`--${k} must be a positive integer, got '${values[k]}'`);
    return v;
  };
  const steps = int('steps'), B = int('batch'), T = int('seq'), V = int('vocab'), seed = int('seed');
  const dev = values.device;
  if (dev !== 'auto' && dev !== 'webgpu' && dev !== 'cpu') throw new Error(`--device must be webgpu, cpu or auto, got '${dev}'`);
  const device = await bestDevice({ device: dev });
  console.log(`device: ${device.name}`);

  const cfg: EncoderConfig & { numHiddenLayers: number } = {
    hiddenSize: 64, numAttentionHeads: 2, intermediateSize: 256, numHiddenLayers: 2,
    hiddenDropoutProb: 0.1, attentionProbsDropoutProb: 0.1, layerNormEps: 1e-12,
  };
  const ic = { rng: new HostRng(seed), device, std: 0.02 };
  const model = {
    tokens: new Embedding(V, cfg.hiddenSize, ic),
    positions: new Embedding(T, cfg.hiddenSize, ic),
    encoder: new Encoder(cfg, ic),
    head: new Linear(cfg.hiddenSize, V, ic),
  };
  const params = namedParameters(model);
  console.log(`model: ${params.length} tensors, ${params.reduce((n, [, t]) => n + t.size, 0).toLocaleString('en-US')} parameters`);
  const opt = new AdamW(params, { lr: 1e-3, weightDecay: 0.01, excludeFromDecay: excludeLayerNormAndBias, maxGradNorm: 1 });
  const rng = new Rng(seed + 1);
  const data = new HostRng(seed + 2);
  const pos = tensor(Int32Array.from({ length: T }, (_, i) => i), [T], { device, dtype: 'i32' });
  const progress = new Progress(steps, 'step ', 25);
  const t0 = Date.now();
  let loss = NaN, acc = NaN;
  for (let step = 1; step <= steps; step++) {
    const x = new Int32Array(B * T), y = new Int32Array(B * T);
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) x[b * T + t] = Math.floor(data.uniform() * V);
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) y[b * T + t] = x[b * T + T - 1 - t];
    const lr = linearWarmupLinearDecay(step, { peak: 1e-3, warmupSteps: Math.ceil(steps / 10), totalSteps: steps });
    const { l, logits } = tidy(() => {
      const ids = tensor(x, [B, T], { device, dtype: 'i32' });
      const h = o.add(model.tokens.forward(ids), model.positions.forward(pos));
      const logits = model.head.forward(model.encoder.forward(h, null, { training: true, rng }));  // [B, T, V]
      const l = F.crossEntropy(o.reshape(logits, [B * T, V]), tensor(y, [B * T], { device, dtype: 'i32' }));
      l.backward();
      opt.step(lr);
      opt.zeroGrad();
      return { l, logits: noGrad(() => o.argmax(logits, -1)) };
    });
    if (step % 25 === 0 || step === steps) {
      loss = await l.item();
      const pred = await logits.data();
      let right = 0;
      for (let i = 0; i < pred.length; i++) right += pred[i] === y[i] ? 1 : 0;
      acc = right / pred.length;
    }
    l.dispose(); logits.dispose();
    const tps = (step * B * T) / ((Date.now() - t0) / 1000);
    progress.update(step, { loss, acc, lr, 'tok/s': tps });
  }
  console.log(`final loss ${loss.toFixed(4)} (chance: ${Math.log(V).toFixed(4)}), accuracy ${(acc * 100).toFixed(1)}%`);
  return 0;
}
