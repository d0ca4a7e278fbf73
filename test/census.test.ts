// The dispatch census: an ELECTRA pre-training step (tiny, batch 128 × 128 tokens, vocab 8192) plus its
// AdamW update, recorded on the census device with an H200's capabilities (the variants a real GPU gets,
// on any machine). Fails when a launch that binds ≥ 4 MB runs on fewer than 66 workgroups (half an
// H200's 132 SMs idle), naming each launch. The guard for GPU launch shapes that works without a GPU.

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CensusDevice, type Dispatch, H200_CAPS } from '../src/device/census.js';
import { presetConfig } from '../src/electra/model/config.js';
import { createElectraPair, disposeStep, electraStep, pairModules } from '../src/electra/model/pretrain.js';
import { HostRng } from '../src/nn/init.js';
import { disposeModule, namedParameters } from '../src/nn/module.js';
import { AdamW } from '../src/nn/optim.js';
import { Rng } from '../src/tensor/random.js';
import './helpers.js';

const s = suite('dispatch census');

const BIG = 4 * 2 ** 20, MIN_WORKGROUPS = 66;

/** One training step of tiny at batch B × T on `dev`: forward, backward, clip and AdamW. */
export function recordStep(dev: CensusDevice, B = 128, T = 128, vocab = 8192): Dispatch[] {
  const cfg = { ...presetConfig('tiny'), vocabSize: vocab, maxPositionEmbeddings: T };
  const pair = createElectraPair(cfg, 'electra', 1, dev);
  const opt = new AdamW(namedParameters(pairModules(pair)), { lr: 1e-4, eps: 1e-6, weightDecay: 0.01, maxGradNorm: 1 });
  const ids = new Int32Array(B * T);
  for (let i = 0; i < B * T; i++) ids[i] = i % T === 0 ? 2 : i % T === T - 1 ? 3 : 5 + ((i * 7919) % (vocab - 5));
  const mask = new Int32Array(B * T).fill(1);
  for (let t = T - 9; t < T; t++) mask[t] = 0; // one padded sequence
  const batch = { B, T, inputIds: ids, tokenTypeIds: new Int32Array(B * T), attentionMask: mask };
  const special = { pad: 0, cls: 2, sep: 3, mask: 4 };
  const start = dev.dispatches.length;
  const r = electraStep(pair, batch, { maskProb: 0.15, discWeight: 50, genWeight: 1, temperature: 1, objective: 'electra', special }, new HostRng(3), new Rng(4), dev, true);
  opt.step(1e-4);
  const out = dev.dispatches.slice(start);
  disposeStep(r);
  opt.dispose();
  disposeModule(pairModules(pair));
  return out;
}

const fmtMB = (b: number) => `${(b / 2 ** 20).toFixed(1)} MB`;

s('no launch over ≥ 4 MB runs on fewer than 66 workgroups (tiny, batch 128, H200 variants)', () => {
  const dev = new CensusDevice(H200_CAPS);
  const d = recordStep(dev);
  assert.ok(d.length > 100, `the step launched kernels (${d.length})`);
  const starved = d.filter((x) => x.bytes >= BIG && x.workgroups < MIN_WORKGROUPS);
  const lines = starved.map((x) => `${x.kernel} ${x.label}: ${x.workgroups} workgroups over ${fmtMB(x.bytes)}`);
  assert.equal(lines, [], `\n${starved.length} launches idle most of the GPU:\n${lines.join('\n')}`);
});

s('the census sees what a step launches: every kernel family of the step, and the same dispatches each step', async () => {
  const dev = new CensusDevice(H200_CAPS);
  const a = recordStep(dev, 8, 32, 300), b = recordStep(dev, 8, 32, 300);
  const kernels = new Set(a.map((x) => x.kernel));
  for (const k of ['matmul', 'layernorm', 'layernorm_backward', 'attention', 'attention_dkv', 'cross_entropy', 'embedding', 'gumbelMax', 'scatter_update', 'adam']) {
    assert.ok(kernels.has(k), `${k} in the census (have ${[...kernels].sort().join(', ')})`);
  }
  assert.equal(b.map((x) => `${x.kernel} ${x.workgroups}`), a.map((x) => `${x.kernel} ${x.workgroups}`));
  const err = await dev.read({ id: 0, bytes: 4, refs: 1 }, 'f32', 1).then(() => null, (e: Error) => e.message);
  assert.match(String(err), /holds no data/);
});

s.run();
