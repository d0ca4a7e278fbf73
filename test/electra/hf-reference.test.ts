// Checkpoints written by PyTorch (tiny-disc.bin, tiny-gen-legacy.bin: a Hugging Face directory holding
// only pytorch_model.bin, the generator with legacy gamma/beta names and a tied head) load into our
// ElectraForPreTraining / ElectraForMaskedLM and give the logits and losses PyTorch computes with Hugging
// Face's forward pass (tiny-reference.json from scripts/make-hf-reference.py, float64), on the float64
// CPU device and on WebGPU. Padding (attention mask 0) and token type 1 are exercised.

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDiscriminator, loadGenerator } from '../../src/node/electra-io.js';
import { defaultHFElectraConfig, electraConfigToJSON } from '../../src/electra/formats/hf.js';
import { evalCtx } from '../../src/nn/layers.js';
import { noGrad } from '../../src/autograd/tape.js';
import type { Device } from '../../src/device/device.js';
import * as o from '../../src/tensor/ops.js';
import { crossEntropy } from '../../src/tensor/nnops.js';
import { type Tensor, tensor, tidy } from '../../src/tensor/tensor.js';
import { assertClose, cpu64, gpu } from '../helpers.js';

const FIX = new URL('../../../test/fixtures/checkpoint/', import.meta.url);
interface Ref {
  config: Record<string, number>;
  input_ids: number[][]; token_type_ids: number[][]; attention_mask: number[][];
  disc_labels: number[][]; mlm_labels: number[][];
  disc_logits: number[][]; disc_loss: number; gen_logits: number[][][]; mlm_loss: number;
}
const ref = JSON.parse(readFileSync(new URL('tiny-reference.json', FIX), 'utf8')) as Ref;
const B = ref.input_ids.length, T = ref.input_ids[0].length;

const s = suite('hf-reference');
const root = mkdtempSync(join(tmpdir(), 'electra-hfref-'));

/** A Hugging Face-style directory: config.json + pytorch_model.bin (the only weights file). */
function hfDir(name: string, bin: string, arch: string): string {
  const dir = join(root, name);
  mkdirSync(dir);
  const c = ref.config;
  const cfg = defaultHFElectraConfig({
    vocabSize: c.vocab_size, embeddingSize: c.embedding_size, hiddenSize: c.hidden_size, numHiddenLayers: c.num_hidden_layers,
    numAttentionHeads: c.num_attention_heads, intermediateSize: c.intermediate_size, maxPositionEmbeddings: c.max_position_embeddings,
    layerNormEps: c.layer_norm_eps, architectures: [arch],
  });
  writeFileSync(join(dir, 'config.json'), electraConfigToJSON(cfg));
  copyFileSync(new URL(bin, FIX), join(dir, 'pytorch_model.bin'));
  return dir;
}
const discDir = hfDir('disc', 'tiny-disc.bin', 'ElectraForPreTraining');
const genDir = hfDir('gen', 'tiny-gen-legacy.bin', 'ElectraForMaskedLM');

function inputs(device: Device) {
  const i32 = (rows: number[][]) => tensor(Int32Array.from(rows.flat()), [B, T], { device, dtype: 'i32' });
  return {
    ids: i32(ref.input_ids), types: i32(ref.token_type_ids),
    positions: tensor(Int32Array.from({ length: T }, (_, i) => i), [T], { device, dtype: 'i32' }),
    mask: tensor(Float32Array.from(ref.attention_mask.flat()), [B, T], { device }),
  };
}

// Tolerances: float64 CPU vs float64 torch is exact up to summation order; WebGPU computes in f32.
for (const [name, getDev, tol] of [['cpu f64', async () => cpu64, 1e-9], ['webgpu', gpu, 2e-4]] as const) {
  s(`${name}: discriminator logits and ElectraForPreTraining loss equal PyTorch's`, async () => {
    const dev = await getDev(); if (!dev) return;
    const { model } = await loadDiscriminator(discDir, dev);
    const [logits, loss] = noGrad(() => tidy(() => {
      const x = inputs(dev);
      const y = model.forward(x.ids, x.types, x.positions, x.mask, evalCtx); // [B, T]
      const labels = tensor(Float32Array.from(ref.disc_labels.flat()), [B, T], { device: dev });
      const l = o.div(o.sum(o.mul(o.bceLogits(y, labels), x.mask)), o.sum(x.mask)); // HF: mean over attention_mask == 1
      return [y, l] as [Tensor, Tensor];
    }));
    assertClose(await logits.data(), ref.disc_logits.flat(), { atol: tol, rtol: tol, label: 'disc logits' });
    assertClose(await loss.data(), [ref.disc_loss], { atol: tol, rtol: tol, label: 'disc loss' });
    logits.dispose(); loss.dispose();
  });

  s(`${name}: generator logits (legacy names, tied head) and MLM loss equal PyTorch's`, async () => {
    const dev = await getDev(); if (!dev) return;
    const { model } = await loadGenerator(genDir, dev);
    const [logits, loss] = noGrad(() => tidy(() => {
      const x = inputs(dev);
      const y = model.forward(x.ids, x.types, x.positions, x.mask, null, evalCtx); // [B·T, V]
      const labels = tensor(Int32Array.from(ref.mlm_labels.flat()), [B * T], { device: dev, dtype: 'i32' });
      return [y, crossEntropy(y, labels, { ignoreIndex: -100 })] as [Tensor, Tensor];
    }));
    assert.equal(logits.shape, [B * T, ref.config.vocab_size]);
    assertClose(await logits.data(), ref.gen_logits.flat(2), { atol: tol, rtol: tol, label: 'gen logits' });
    assertClose(await loss.data(), [ref.mlm_loss], { atol: tol, rtol: tol, label: 'MLM loss' });
    logits.dispose(); loss.dispose();
  });
}

s.after(() => rmSync(root, { recursive: true, force: true }));
s.run();
