// One ELECTRA pre-training step as the authors' run_pretraining.py (spec §2): dynamic masking on the
// host → generator MLM on the masked slots → Gumbel-max samples (no gradient) written into the
// original ids → discriminator replaced-token detection on every real token →
// loss = 1·MLM + 50·disc, backpropagated into both networks (one optimiser, shared embeddings).
// `objective: 'mlm'` is the BERT-style baseline (generator only); 'adversarial' is the paper's
// REINFORCE variant — opt-in, and worse in the paper (spec §4).
// Shapes: B batch, T tokens, N = maxPredictions slots per sequence, V vocabulary.

import { noGrad } from '../../autograd/tape.js';
import * as F from '../../nn/functional.js';
import { HostRng } from '../../nn/init.js';
import type { Ctx } from '../../nn/layers.js';
import type { Device } from '../../device/device.js';
import * as o from '../../tensor/ops.js';
import type { Rng } from '../../tensor/random.js';
import { Tensor, keep, tensor, tidy } from '../../tensor/tensor.js';
import { type ElectraConfig, checkElectraConfig, generatorConfig } from './config.js';
import { maskBatch, maxPredictions } from './masking.js';
import { ElectraEmbeddings, ElectraForMaskedLM, ElectraForPreTraining } from './model.js';

export type Objective = 'electra' | 'mlm' | 'adversarial';

export interface SpecialIds { pad: number; cls: number; sep: number; mask: number }

export interface ElectraPair {
  config: ElectraConfig;
  embeddings: ElectraEmbeddings;
  generator: ElectraForMaskedLM;
  /** Absent for the MLM-only baseline. */
  discriminator: ElectraForPreTraining | null;
}

/** Builds generator + discriminator sharing one embeddings object; host-seeded init (same on every device). */
export function createElectraPair(config: ElectraConfig, objective: Objective, seed: number, device: Device): ElectraPair {
  checkElectraConfig(config, 'createElectraPair config', { pretraining: objective !== 'mlm' });
  const ic = { rng: new HostRng(seed), device, std: config.initializerRange };
  const embeddings = new ElectraEmbeddings(config, ic);
  // The MLM baseline trains a generator the discriminator's size (the model that is kept).
  const gcfg = objective === 'mlm' ? config : generatorConfig(config);
  const generator = new ElectraForMaskedLM(gcfg, embeddings, ic);
  const discriminator = objective === 'mlm' ? null : new ElectraForPreTraining(config, embeddings, ic);
  return { config, embeddings, generator, discriminator };
}

/** The trainable modules for one optimiser; shared embeddings appear once (under the discriminator's names). */
export function pairModules(p: ElectraPair): object {
  return p.discriminator ? { discriminator: p.discriminator, generator: p.generator } : { generator: p.generator };
}

export interface StepOptions {
  maskProb: number;
  discWeight: number;   // 50
  genWeight: number;    // 1
  temperature: number;  // 1
  objective: Objective;
  special: SpecialIds;
  /** Multiplies the loss before backward (1 / micro-batches when accumulating gradients). */
  gradScale?: number;
  /** Seeds backward with this device scalar [] (an optimizer's dynamic loss scale, for f16 mixed precision). */
  lossScale?: Tensor | null;
}

export interface HostBatch { B: number; T: number; inputIds: Int32Array; tokenTypeIds: Int32Array; attentionMask: Int32Array }

/** Tensors a step leaves for logging (only read at log steps). Dispose with disposeStep. */
export interface StepResult {
  loss: Tensor; mlmLoss: Tensor; discLoss: Tensor | null;
  /** [B·N] generator argmax and targets (targets -100 at unused slots) for MLM accuracy. */
  mlmPred: Tensor; mlmTargets: Tensor;
  /** [B, T] discriminator logits, labels (1 = replaced) and the real-token mask. */
  discLogits: Tensor | null; discLabels: Tensor | null; realMask: Tensor;
}

export function disposeStep(r: StepResult): void {
  for (const t of Object.values(r)) if (t instanceof Tensor) t.dispose();
}

const IGNORE = -100;

/**
 * Runs the forward passes and, when `train`, backward (gradients accumulate into .grad; the caller
 * steps the optimiser, so micro-batches can accumulate). `maskRng` drives the host masking,
 * `rng` the GPU randomness (dropout, Gumbel noise).
 */
export function electraStep(pair: ElectraPair, batch: HostBatch, o_: StepOptions, maskRng: HostRng, rng: Rng, device: Device, train: boolean): StepResult {
  const { B, T } = batch;
  const N = maxPredictions(o_.maskProb, T);
  const m = maskBatch(batch.inputIds, batch.attentionMask, B, T, {
    maskProb: o_.maskProb, maxPredictions: N, maskId: o_.special.mask, clsId: o_.special.cls, sepId: o_.special.sep,
  }, maskRng);
  const rows = new Int32Array(B * N), targets = new Int32Array(B * N);
  for (let i = 0; i < B * N; i++) {
    rows[i] = Math.floor(i / N) * T + m.positions[i];
    targets[i] = m.weights[i] ? m.targets[i] : IGNORE;
  }
  const ctx: Ctx = { training: train, rng };
  const run = () => tidy(() => {
    const up = (a: Int32Array, shape: number[]) => tensor(a, shape, { device, dtype: 'i32' });
    const types = up(batch.tokenTypeIds, [B, T]);
    const positions = up(Int32Array.from({ length: T }, (_, i) => i), [T]);
    const maskF = tensor(Float32Array.from(batch.attentionMask), [B, T], { device });
    const tgt = up(targets, [B * N]);
    // Generator: MLM on the masked slots.
    const genLogits = pair.generator.forward(up(m.maskedIds, [B, T]), types, positions, maskF, up(rows, [B * N]), ctx); // [B·N, V]
    const mlmLoss = F.crossEntropy(genLogits, tgt, { ignoreIndex: IGNORE });
    const mlmPred = noGrad(() => o.argmax(genLogits, -1));
    let loss = o.muls(mlmLoss, o_.genWeight);
    let discLoss: Tensor | null = null, discLogits: Tensor | null = null, discLabels: Tensor | null = null;
    if (pair.discriminator) {
      // Replacements: Gumbel-max samples from the generator at temperature T, no gradient.
      const sampled = noGrad(() => F.sampleGumbelMax(genLogits, rng, o_.temperature));          // i32 [B·N]
      const [discIds, labels] = o.scatterUpdateIds(up(batch.inputIds, [B, T]), o.reshape(sampled, [B, N]), up(m.positions, [B, N]));
      discLogits = pair.discriminator.forward(discIds, types, positions, maskF, ctx);             // [B, T]
      // BCE averaged over real tokens ([CLS]/[SEP] included), as the authors.
      const perTok = o.mul(o.bceLogits(discLogits, labels), maskF);
      discLoss = o.div(o.sum(perTok), o.adds(o.sum(maskF), 1e-6));
      discLabels = labels;
      loss = o.add(loss, o.muls(discLoss, o_.discWeight));
      if (o_.objective === 'adversarial') {
        // REINFORCE (spec §4): the generator is trained to maximise the discriminator's loss at its
        // samples instead of by MLM. Reward = per-token discriminator loss at each slot (detached),
        // baseline = its mean over used slots; ∇(−E[R]) = E[∇(−log p(x̂))·(R − b)].
        const w = tensor(m.weights, [B * N], { device });
        const advantage = noGrad(() => {
          const perTokLoss = o.reshape(o.bceLogits(discLogits!, labels), [B * T, 1]);
          const r = o.reshape(F.embedding(up(rows, [B * N]), perTokLoss), [B * N]);      // reward per slot
          const baseline = o.div(o.sum(o.mul(r, w)), o.adds(o.sum(w), 1e-6));
          return o.mul(o.sub(r, baseline), w);
        });
        const negLogp = F.softmaxCrossEntropy(genLogits, sampled);                          // −log p_G(x̂) [B·N]
        const reinforce = o.div(o.sum(o.mul(negLogp, advantage)), o.adds(o.sum(w), 1e-6));
        loss = o.add(o.muls(discLoss, o_.discWeight), reinforce);                           // no MLM term
      }
    }
    if (train) (o_.gradScale && o_.gradScale !== 1 ? o.muls(loss, o_.gradScale) : loss).backward(o_.lossScale ?? undefined);
    return { loss, mlmLoss, discLoss, mlmPred, mlmTargets: tgt, discLogits, discLabels, realMask: maskF };
  });
  const r = run();
  for (const t of Object.values(r)) if (t instanceof Tensor) keep(t);
  return r;
}
