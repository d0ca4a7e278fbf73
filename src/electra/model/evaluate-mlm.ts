// Held-out evaluation of a pre-trained generator + discriminator, pooled over every sequence given (browser-safe):
// each batch goes through the training step's own forward (electraStep with train = false: the authors' masking,
// Gumbel-max samples from the generator, replaced-token detection), so what is measured is what pre-training does.
// Generator: accuracy and mean cross-entropy over all masked slots, perplexity = exp(mean CE). Discriminator, over
// all real tokens: accuracy, the all-original baseline, AUC, precision/recall of "replaced", mean BCE.
// Deterministic: batch i is masked by HostRng(mix(seed, i)) and the samples draw from Rng(seed + 1) in batch order,
// so the same sequences, batch size and seed give the same numbers on every run (and, up to float ties, device).

import { noGrad } from '../../autograd/tape.js';
import { HostRng } from '../../nn/init.js';
import type { Device } from '../../device/device.js';
import { Rng } from '../../tensor/random.js';
import { MetricsTally } from './metrics.js';
import type { ElectraForMaskedLM, ElectraForPreTraining } from './model.js';
import { type ElectraPair, type HostBatch, type SpecialIds, disposeStep, electraStep } from './pretrain.js';

export interface MlmEvalOptions {
  special: SpecialIds;
  /** Fraction of tokens masked (the run's; 0.15, or 0.25 for large). */
  maskProb?: number;
  /** Sampling temperature of the replacements (the run's; 1). */
  temperature?: number;
  seed?: number;
  /** Called after every batch with the running totals (for progress lines). */
  onBatch?: (partial: MlmEvalResult, batch: number) => void;
}

export interface MlmEvalResult {
  sequences: number;
  /** Real (non-padding) tokens, [CLS]/[SEP] included. */
  tokens: number;
  /** Masked slots the generator predicted. */
  masked: number;
  generator: { accuracy: number; loss: number; perplexity: number };
  /** Null for an MLM-only run (no discriminator). */
  discriminator: {
    accuracy: number;
    /** Accuracy of answering "original" everywhere: what `accuracy` must beat. */
    baseline: number;
    auc: number;
    /** Of the tokens flagged (logit > 0), the fraction really replaced; NaN when none is flagged. */
    precision: number;
    /** Of the replaced tokens, the fraction flagged. */
    recall: number;
    /** Fraction of real tokens whose sample differs from the original. */
    replaced: number;
    /** Mean binary cross-entropy over real tokens. */
    loss: number;
  } | null;
}

/** Per-batch mask seed: a pure function of (seed, batch index), as pre-training seeds per step. */
export function maskSeed(seed: number, batch: number): number {
  return (Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(batch + 1, 0x85ebca6b) ^ 0x5bd1e995) >>> 0;
}

/**
 * Evaluates the pair on `batches` (each [B, T] with its attention mask; T fixes the masked slots per sequence,
 * N = ⌊(maskProb + 0.005)·T⌋, so pass the run's sequence length). Both models must live on `device`.
 */
export async function evaluateMlm(
  models: { generator: ElectraForMaskedLM; discriminator: ElectraForPreTraining | null },
  batches: Iterable<HostBatch> | AsyncIterable<HostBatch>, opts: MlmEvalOptions, device: Device,
): Promise<MlmEvalResult> {
  const { generator, discriminator } = models;
  for (const [m, what] of [[generator.lmHeadWeight, 'generator'], [discriminator?.electra.embeddings.word_embeddings.weight, 'discriminator']] as const) {
    if (m && m.device !== device) throw new Error(`evaluateMlm: the ${what} lives on ${m.device.name}, not on ${device.name}`);
  }
  if (discriminator && discriminator.config.vocabSize !== generator.config.vocabSize) {
    throw new Error(`evaluateMlm: the generator's vocabulary (${generator.config.vocabSize}) differs from the discriminator's (${discriminator.config.vocabSize})`);
  }
  const seed = opts.seed ?? 0;
  // electraStep only calls generator.forward and discriminator.forward; the two loaded models may hold
  // separate (equal-valued) copies of the shared embeddings.
  const pair: ElectraPair = {
    config: (discriminator ?? generator).config, embeddings: generator.electra.embeddings, generator, discriminator,
  };
  const stepOpts = {
    maskProb: opts.maskProb ?? 0.15, discWeight: 50, genWeight: 1, temperature: opts.temperature ?? 1,
    objective: 'electra' as const, special: opts.special,
  };
  const rng = new Rng(seed + 1);
  // Counting is pre-training's own (MetricsTally): slots, tokens, flags and AUC pooled over every batch.
  const tally = new MetricsTally();
  let sequences = 0, tokens = 0;
  const result = (): MlmEvalResult => {
    const m = tally.metrics(), t = tally.totals();
    return {
      sequences, tokens, masked: t.slots,
      generator: { accuracy: m.mlmAcc, loss: t.mlmLoss, perplexity: Math.exp(t.mlmLoss) },
      discriminator: discriminator ? {
        accuracy: m.discAcc!, baseline: m.discBaseline!, auc: m.discAuc!, precision: m.discPrecision!, recall: m.discRecall!,
        replaced: m.replaced!, loss: t.discLoss!,
      } : null,
    };
  };
  let index = 0;
  for await (const b of batches) {
    if (b.inputIds.length !== b.B * b.T || b.attentionMask.length !== b.B * b.T || b.tokenTypeIds.length !== b.B * b.T) {
      throw new Error(`evaluateMlm: batch ${index} is not [${b.B}, ${b.T}] (ids ${b.inputIds.length}, mask ${b.attentionMask.length}, types ${b.tokenTypeIds.length})`);
    }
    const r = noGrad(() => electraStep(pair, b, stepOpts, new HostRng(maskSeed(seed, index)), rng, device, false));
    try { await tally.add(r); } finally { disposeStep(r); }
    for (let i = 0; i < b.attentionMask.length; i++) tokens += b.attentionMask[i] ? 1 : 0;
    sequences += b.B;
    index++;
    opts.onBatch?.(result(), index);
  }
  if (sequences === 0) throw new Error('evaluateMlm: no sequences to evaluate');
  return result();
}

/** Pre-training examples ([CLS] A [SEP] (B [SEP]), at most T ids) as [B, T] batches padded with 0; the last may be smaller. */
export function* exampleBatches(examples: Iterable<{ ids: ArrayLike<number>; firstSegEnd: number }>, batchSize: number, T: number): Generator<HostBatch> {
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new Error(`exampleBatches: batch size must be a positive integer, got ${batchSize}`);
  let rows: { ids: ArrayLike<number>; firstSegEnd: number }[] = [];
  const pack = (): HostBatch => {
    const B = rows.length;
    const hb: HostBatch = { B, T, inputIds: new Int32Array(B * T), tokenTypeIds: new Int32Array(B * T), attentionMask: new Int32Array(B * T) };
    rows.forEach((e, r) => {
      for (let i = 0; i < e.ids.length; i++) {
        hb.inputIds[r * T + i] = e.ids[i];
        hb.attentionMask[r * T + i] = 1;
        if (i >= e.firstSegEnd) hb.tokenTypeIds[r * T + i] = 1;
      }
    });
    rows = [];
    return hb;
  };
  for (const e of examples) {
    if (e.ids.length > T) throw new Error(`exampleBatches: an example has ${e.ids.length} tokens, more than the sequence length ${T}`);
    rows.push(e);
    if (rows.length === batchSize) yield pack();
  }
  if (rows.length) yield pack();
}

/** `electra evaluate --mlm --json`: snake_case keys, as the pre-training metrics. */
export function mlmEvalToJSON(r: MlmEvalResult): Record<string, number | null> {
  const d = r.discriminator;
  return {
    sequences: r.sequences, tokens: r.tokens, masked: r.masked,
    mlm_accuracy: r.generator.accuracy, mlm_loss: r.generator.loss, perplexity: r.generator.perplexity,
    disc_accuracy: d?.accuracy ?? null, disc_baseline: d?.baseline ?? null, disc_auc: d?.auc ?? null,
    disc_precision: d?.precision ?? null, disc_recall: d?.recall ?? null, replaced: d?.replaced ?? null, disc_loss: d?.loss ?? null,
  };
}
