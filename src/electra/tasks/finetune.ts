// Fine-tuning as the ELECTRA authors' recipe (spec §3.2), one readable loop (browser-safe; files are the caller's,
// through hooks): Adam without bias correction (ε 1e-6, decoupled weight decay 0.01 except LayerNorm/bias, global
// clip 1.0), layer-wise LR decay by depth, lr = peak · linear decay · linear warmup over 10% of the steps, the peak
// and the decay by the model's size (FINETUNE_SIZE_DEFAULTS: paper Table 7, and a measured rate for tiny),
// batch 32, dev evaluation after every epoch, the best epoch's weights restored at the end.
// Steps per epoch are ceil(n / batch) (the authors use n // batch over all epochs; ours keeps epoch boundaries).
// evaluate() and the predict*() helpers run the heads in eval mode in batches and read logits back once per batch.

import { HostRng } from '../../nn/init.js';
import { type Ctx, evalCtx } from '../../nn/layers.js';
import { namedParameters } from '../../nn/module.js';
import { AdamW, excludeLayerNormAndBias } from '../../nn/optim.js';
import { linearWarmupLinearDecay } from '../../nn/schedule.js';
import { noGrad } from '../../autograd/tape.js';
import type { Device } from '../../device/device.js';
import { Rng } from '../../tensor/random.js';
import { type Precision, type Tensor, keep, tensor, tidy, withPrecision } from '../../tensor/tensor.js';
import type { WordPieceTokenizer } from '../../text/wordpiece.js';
import { accuracy, confusionMatrix, f1Of, macroF1, mcc, pearson, spearman, squadScores, tokenMetrics } from './eval-metrics.js';
import {
  type Encoded, type EncodedTokens, type PackedInputs, type QaAnswer, type QaExample, type QaFeature, type TaggedExample, type TextExample,
  decodeQa, encodeForClassification, encodeForQa, encodeForTokens, packBatch, packTokenLabels,
} from './finetune-data.js';
import {
  type ElectraHeadModel, type HeadKind, type ModelInputs, HEAD_ARCHITECTURE, layerwiseLrMultiplier,
} from './heads.js';
import { assignStateDict, readStateDict } from '../formats/state.js';

export type TaskKind = 'classification' | 'regression' | 'tagging' | 'qa';

/** A task's data. Classification/tagging `labels` fix the class ids (index = id). */
export type TaskData =
  | { kind: 'classification'; labels: string[]; train: TextExample[]; dev: TextExample[] }
  | { kind: 'regression'; train: TextExample[]; dev: TextExample[] }
  | { kind: 'tagging'; labels: string[]; train: TaggedExample[]; dev: TaggedExample[] }
  | { kind: 'qa'; train: QaExample[]; dev: QaExample[] };

export const HEAD_FOR_TASK: Record<TaskKind, HeadKind> = { classification: 'sequence', regression: 'sequence', tagging: 'token', qa: 'qa' };

/** The metric that picks the best epoch, per task kind (GLUE: CoLA uses mcc, pass it as `metric`). */
export const DEFAULT_METRIC: Record<TaskKind, string> = { classification: 'accuracy', regression: 'spearman', tagging: 'accuracy', qa: 'f1' };

/** Metrics that can pick the best epoch (higher is better); f1 (of class 1) needs two classes. */
export const SELECTABLE_METRICS: Record<TaskKind, readonly string[]> = {
  classification: ['accuracy', 'macroF1', 'mcc', 'f1'], regression: ['spearman', 'pearson'], tagging: ['accuracy', 'macroF1'], qa: ['f1', 'exactMatch'],
};

export interface FinetuneOptions {
  epochs: number;
  /** Peak learning rate (default by the model's size: FINETUNE_SIZE_DEFAULTS). */
  lr: number;
  batchSize: number;
  seed: number;
  /** Tokens per sequence including specials (QA windows included). */
  maxLen: number;
  /** Layer-wise LR decay per layer from the top (default by size: 0.8, 0.9 for Large; 1 = off). */
  layerDecay: number;
  warmupProportion: number;
  weightDecay: number;
  maxGradNorm: number;
  adamEps: number;
  evalBatchSize: number;
  /** Metric that selects the best epoch (default by task kind). Higher is better. */
  metric: string;
  /** Read the training loss back every this many steps (for hooks.onStep). */
  logEvery: number;
  /** Matmul precision of the training steps: 'f16' (operands, f32 accumulation, dynamic loss scaling) or 'f32'. */
  precision: Precision;
  /** QA: window stride, question length, n-best and longest answer. */
  docStride: number;
  maxQueryLen: number;
  nBest: number;
  maxAnswerLength: number;
  /** SQuAD v2: answer '' when the [CLS] score beats the best span by more than this; null (v1.1) always answers. */
  nullThreshold: number | null;
}

/** The defaults that do not depend on the model's size (see FINETUNE_SIZE_DEFAULTS for lr and layer decay). */
export const FINETUNE_DEFAULTS: Omit<FinetuneOptions, 'metric' | 'lr' | 'layerDecay'> = {
  epochs: 3, batchSize: 32, seed: 0, maxLen: 128, warmupProportion: 0.1, weightDecay: 0.01,
  maxGradNorm: 1, adamEps: 1e-6, evalBatchSize: 64, logEvery: 10, docStride: 128, maxQueryLen: 64, nBest: 20, maxAnswerLength: 30, nullThreshold: null,
  precision: 'f32',
};

/** Size classes by hidden size: tiny ≤ 128 < small ≤ 256 < base ≤ 768 < large (ELECTRA-Small 256, Base 768, Large 1024). */
export type ModelSize = 'tiny' | 'small' | 'base' | 'large';

export function modelSize(config: { hiddenSize: number }): ModelSize {
  const h = config.hiddenSize;
  return h <= 128 ? 'tiny' : h <= 256 ? 'small' : h <= 768 ? 'base' : 'large';
}

/**
 * Peak learning rate and layer-wise decay by model size. Small, Base, Large: the authors' (paper Table 7; spec §3.2).
 * tiny (our 2-layer, hidden-128 preset; no paper value): 1e-3, the best of 1e-4 … 3e-3 on SpamAssassin from random
 * weights and from a pre-trained checkpoint (docs/finetuning.md). The authors' code default, 1e-4 for every size
 * below Large, left tiny at the majority class there (and at chance on a 3,200-example polarity task, issue 16).
 */
export const FINETUNE_SIZE_DEFAULTS: Record<ModelSize, { lr: number; layerDecay: number }> = {
  tiny: { lr: 1e-3, layerDecay: 0.8 },
  small: { lr: 3e-4, layerDecay: 0.8 },
  base: { lr: 1e-4, layerDecay: 0.8 },
  large: { lr: 5e-5, layerDecay: 0.9 },
};

/** The size-keyed defaults for a model config, with the size class they were chosen for. */
export function finetuneSizeDefaults(config: { hiddenSize: number }): { size: ModelSize; lr: number; layerDecay: number } {
  const size = modelSize(config);
  return { size, ...FINETUNE_SIZE_DEFAULTS[size] };
}

export type Metrics = Record<string, number | number[][]>;

/** One dev prediction, JSON-ready. */
export type Prediction =
  | { id: string; label: string; gold: string; probabilities: number[] }
  | { id: string; value: number; gold: number }
  | { id: string; words: string[]; tags: (string | null)[]; gold: string[] }
  | { id: string; answer: string; start: number; end: number; score: number; gold: string[] };

export interface EvalResult { metrics: Metrics; predictions: Prediction[] }

export interface StepLog { step: number; totalSteps: number; epoch: number; loss: number; lr: number; gradNorm: number }
export interface EpochLog { epoch: number; step: number; metrics: Metrics; predictions: Prediction[]; best: boolean; trainLoss: number }

export interface FinetuneHooks {
  /** Before the first step: the schedule's size (QA counts windows, not questions). */
  onStart?(s: { totalSteps: number; stepsPerEpoch: number; trainItems: number; warmupSteps: number }): void | Promise<void>;
  onStep?(s: StepLog): void | Promise<void>;
  /** After each epoch's dev evaluation; `best` marks a new best (save the checkpoint here). */
  onEpoch?(e: EpochLog): void | Promise<void>;
}

export interface FinetuneResult { best: EpochLog; epochs: Omit<EpochLog, 'predictions'>[]; steps: number }

function checkModelFits(model: ElectraHeadModel, data: TaskData): void {
  const want = HEAD_FOR_TASK[data.kind];
  if (model.kind !== want) throw new Error(`fine-tuning a ${data.kind} task needs an ${want} head, the model has a ${model.kind} head`);
  if (data.kind === 'regression' && model.numLabels !== 1) throw new Error(`regression needs num_labels 1, the model has ${model.numLabels}`);
  if ((data.kind === 'classification' || data.kind === 'tagging') && model.numLabels !== data.labels.length) {
    throw new Error(`the task has ${data.labels.length} labels (${data.labels.join(', ')}), the model's head has ${model.numLabels}`);
  }
}

/** Encodes one split for training or evaluation. */
export function encodeSplit(data: TaskData, split: 'train' | 'dev', tok: WordPieceTokenizer, o: Pick<FinetuneOptions, 'maxLen' | 'docStride' | 'maxQueryLen'>): Encoded[] {
  switch (data.kind) {
    case 'classification': return encodeForClassification(tok, data[split], data.labels, o.maxLen, split);
    case 'regression': return encodeForClassification(tok, data[split], null, o.maxLen, split);
    case 'tagging': return encodeForTokens(tok, data[split], data.labels, o.maxLen, split);
    case 'qa': return encodeForQa(tok, data[split], { maxLen: o.maxLen, docStride: o.docStride, maxQueryLen: o.maxQueryLen });
  }
}

function upload(p: PackedInputs, device: Device): ModelInputs {
  return {
    ids: tensor(p.inputIds, [p.B, p.T], { device, dtype: 'i32' }),
    types: tensor(p.tokenTypeIds, [p.B, p.T], { device, dtype: 'i32' }),
    positions: tensor(Int32Array.from({ length: p.T }, (_, i) => i), [p.T], { device, dtype: 'i32' }),
    mask: tensor(Float32Array.from(p.attentionMask), [p.B, p.T], { device }),
  };
}

function labelTensor(model: ElectraHeadModel, items: readonly Encoded[], rows: readonly number[], T: number, device: Device): Tensor {
  if (model.kind === 'token') return tensor(packTokenLabels(items, rows, T), [rows.length, T], { device, dtype: 'i32' });
  if (model.kind === 'qa') return tensor(Int32Array.from(rows.flatMap((r) => items[r].label as number[])), [rows.length, 2], { device, dtype: 'i32' });
  if (model.numLabels === 1) return tensor(Float32Array.from(rows.map((r) => items[r].label as number)), [rows.length], { device });
  return tensor(Int32Array.from(rows.map((r) => items[r].label as number)), [rows.length], { device, dtype: 'i32' });
}

/** Forward + loss + backward on one batch; gradients accumulate into .grad. Returns the loss (kept; dispose it). */
/** One forward + backward; `lossScale` (a device scalar) seeds backward for dynamic loss scaling. */
export function trainStep(model: ElectraHeadModel, items: readonly Encoded[], rows: readonly number[], padId: number, rng: Rng, device: Device, lossScale: Tensor | null = null): Tensor {
  const p = packBatch(items, rows, padId);
  const ctx: Ctx = { training: true, rng };
  return keep(tidy(() => {
    const logits = model.forward(upload(p, device), ctx);
    const loss = model.loss(logits, labelTensor(model, items, rows, p.T, device));
    loss.backward(lossScale ?? undefined);
    return loss;
  }));
}

/** `options` without its undefined entries: `{ lr: undefined }` means "the default", not "no learning rate". */
function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function shuffled(n: number, rng: HostRng): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) { const j = Math.floor(rng.uniform() * (i + 1)); [a[i], a[j]] = [a[j], a[i]]; }
  return a;
}

/**
 * Fine-tunes `model` in place on data.train, evaluating on data.dev after every epoch. At the end the model holds
 * the best epoch's weights (by opts.metric). Deterministic for a seed on a device (shuffle, dropout, init elsewhere).
 */
export async function finetune(model: ElectraHeadModel, tok: WordPieceTokenizer, data: TaskData, options: Partial<FinetuneOptions>, device: Device, hooks: FinetuneHooks = {}): Promise<FinetuneResult> {
  const { lr, layerDecay } = finetuneSizeDefaults(model.config);
  const o: FinetuneOptions = { ...FINETUNE_DEFAULTS, lr, layerDecay, metric: DEFAULT_METRIC[data.kind], ...definedOnly(options) };
  checkModelFits(model, data);
  for (const k of ['epochs', 'batchSize', 'maxLen', 'evalBatchSize', 'logEvery'] as const) {
    if (!Number.isInteger(o[k]) || o[k] < 1) throw new RangeError(`finetune: ${k} must be a positive integer, got ${o[k]}`);
  }
  const selectable = SELECTABLE_METRICS[data.kind].filter((m) => m !== 'f1' || data.kind !== 'classification' || data.labels.length === 2);
  if (!selectable.includes(o.metric)) throw new Error(`finetune: metric '${o.metric}' cannot pick the best epoch of a ${data.kind} task (use one of ${selectable.join(', ')})`);
  if (data.train.length === 0) throw new Error('finetune: the training set is empty');
  if (data.dev.length === 0) throw new Error('finetune: the dev set is empty');
  if (o.maxLen > model.config.maxPositionEmbeddings) throw new RangeError(`finetune: maxLen ${o.maxLen} exceeds the model's ${model.config.maxPositionEmbeddings} positions`);
  const items = encodeSplit(data, 'train', tok, o);
  const stepsPerEpoch = Math.ceil(items.length / o.batchSize), totalSteps = stepsPerEpoch * o.epochs;
  const warmupSteps = Math.round(o.warmupProportion * totalSteps);
  await hooks.onStart?.({ totalSteps, stepsPerEpoch, trainItems: items.length, warmupSteps });
  const params = namedParameters(model);
  const opt = new AdamW(params, {
    lr: o.lr, eps: o.adamEps, weightDecay: o.weightDecay, excludeFromDecay: excludeLayerNormAndBias, maxGradNorm: o.maxGradNorm,
    biasCorrection: false, lrMultiplier: layerwiseLrMultiplier(model.config.numHiddenLayers, o.layerDecay),
    lossScaling: o.precision === 'f16' ? {} : undefined,
  });
  const rng = new Rng(o.seed + 1), shuffleRng = new HostRng((o.seed * 0x9e3779b1 + 0x7f4a7c15) >>> 0);
  const padId = tok.padId >= 0 ? tok.padId : 0;
  const history: Omit<EpochLog, 'predictions'>[] = [];
  let best: EpochLog | null = null, bestWeights: Awaited<ReturnType<typeof readStateDict>> | null = null;
  let step = 0;
  try {
    for (let epoch = 1; epoch <= o.epochs; epoch++) {
      const order = shuffled(items.length, shuffleRng);
      let lossSum = 0, lossN = 0;
      for (let b = 0; b < stepsPerEpoch; b++) {
        const rows = order.slice(b * o.batchSize, (b + 1) * o.batchSize);
        const lr = linearWarmupLinearDecay(step, { peak: o.lr, warmupSteps, totalSteps });
        const loss = withPrecision(o.precision, () => trainStep(model, items, rows, padId, rng, device, opt.lossScale));
        opt.step(lr, { loss });   // checks the loss and the gradient norm on the device, every step
        opt.zeroGrad();
        step++;
        if (step % o.logEvery === 0 || b === stepsPerEpoch - 1) {
          const l = (await loss.data())[0];
          await checkHealth(opt, 'finetune');
          lossSum += l; lossN++;
          await hooks.onStep?.({ step, totalSteps, epoch, loss: l, lr, gradNorm: o.maxGradNorm > 0 ? await opt.lastGradNorm() : NaN });
        }
        loss.dispose();
      }
      await checkHealth(opt, 'finetune');
      const ev = await evaluate(model, tok, data, o, device);
      const score = ev.metrics[o.metric] as number;
      const isBest = best === null || score > (best.metrics[o.metric] as number) || (Number.isNaN(best.metrics[o.metric] as number) && !Number.isNaN(score));
      const log: EpochLog = { epoch, step, metrics: ev.metrics, predictions: ev.predictions, best: isBest, trainLoss: lossN ? lossSum / lossN : NaN };
      if (isBest) { best = log; if (epoch < o.epochs) bestWeights = await readStateDict(model); else bestWeights = null; }
      history.push({ epoch, step, metrics: ev.metrics, best: isBest, trainLoss: log.trainLoss });
      await hooks.onEpoch?.(log);
    }
  } finally {
    opt.dispose();
  }
  // The last epoch's weights are live; go back to the best one when it was earlier.
  if (bestWeights) assignStateDict(model, bestWeights, 'best epoch');
  return { best: best!, epochs: history, steps: step };
}

/** Throws with the optimizer's account when a step had a non-finite loss or gradient (nothing is kept from it). */
async function checkHealth(opt: AdamW, what: string): Promise<void> {
  const h = await opt.health();
  if (!h.ok) throw new Error(`${what}: ${h.message}`);
}

/** Runs the model in eval mode over `items` in batches (longest first, to cut padding); one host copy per item. */
async function forwardAll(model: ElectraHeadModel, items: readonly Encoded[], batchSize: number, padId: number, device: Device): Promise<Float32Array[]> {
  const order = Array.from({ length: items.length }, (_, i) => i).sort((a, b) => items[b].ids.length - items[a].ids.length);
  const out: Float32Array[] = new Array(items.length);
  for (let s = 0; s < order.length; s += batchSize) {
    const rows = order.slice(s, s + batchSize);
    const p = packBatch(items, rows, padId);
    const logits = noGrad(() => tidy(() => model.forward(upload(p, device), evalCtx)));
    const host = Float32Array.from(await logits.data());
    logits.dispose();
    const per = host.length / rows.length;
    rows.forEach((r, b) => {
      // Token heads: keep the item's own length (its logits are [T_item, C] at the front of its padded row).
      const len = model.kind === 'sequence' ? per : items[r].ids.length * (per / p.T);
      out[r] = host.slice(b * per, b * per + len);
    });
  }
  return out;
}

const softmax = (z: ArrayLike<number>): number[] => {
  let m = -Infinity;
  for (let i = 0; i < z.length; i++) m = Math.max(m, z[i]);
  const e = Array.from(z, (x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
};

function argmaxOf(z: ArrayLike<number>, from = 0, to = z.length): number {
  let best = from;
  for (let i = from + 1; i < to; i++) if (z[i] > z[best]) best = i;
  return best - from;
}

/** Dev metrics and per-example predictions for any task kind. */
export async function evaluate(model: ElectraHeadModel, tok: WordPieceTokenizer, data: TaskData, options: Partial<FinetuneOptions>, device: Device): Promise<EvalResult> {
  const o = { ...FINETUNE_DEFAULTS, ...options };
  checkModelFits(model, data);
  const items = encodeSplit(data, 'dev', tok, o);
  const logits = await forwardAll(model, items, o.evalBatchSize, tok.padId >= 0 ? tok.padId : 0, device);
  const idOf = (ex: { id?: string }, i: number) => ex.id ?? String(i);
  switch (data.kind) {
    case 'classification': {
      const k = data.labels.length;
      const gold = items.map((it) => it.label as number), pred = logits.map((z) => argmaxOf(z));
      const metrics: Metrics = { accuracy: accuracy(pred, gold), macroF1: macroF1(pred, gold, k), mcc: mcc(pred, gold, k) };
      if (k === 2) metrics.f1 = f1Of(pred, gold, 1);
      metrics.confusion = confusionMatrix(pred, gold, k);
      const predictions = data.dev.map((ex, i): Prediction => ({ id: idOf(ex, i), label: data.labels[pred[i]], gold: data.labels[gold[i]], probabilities: softmax(logits[i]) }));
      return { metrics, predictions };
    }
    case 'regression': {
      const gold = items.map((it) => it.label as number), pred = logits.map((z) => z[0]);
      const mse = gold.reduce((a, g, i) => a + (pred[i] - g) ** 2, 0) / gold.length;
      return {
        metrics: { pearson: pearson(pred, gold), spearman: spearman(pred, gold), mse },
        predictions: data.dev.map((ex, i) => ({ id: idOf(ex, i), value: pred[i], gold: gold[i] })),
      };
    }
    case 'tagging': {
      const k = data.labels.length;
      const goldIds = data.dev.map((ex) => ex.tags.map((t) => data.labels.indexOf(t)));
      // Words without a gold tag ('') are not scored, like words that got no sub-token.
      const predIds = items.map((it, s) => (it as EncodedTokens).wordStarts.map((t, w) => (t < 0 || goldIds[s][w] < 0 ? null : argmaxOf(logits[s], t * k, (t + 1) * k))));
      const tm = tokenMetrics(predIds, goldIds, k);
      return {
        metrics: { accuracy: tm.accuracy, macroF1: tm.macroF1, wordsScored: tm.scored, wordsUnscored: tm.unscored },
        predictions: data.dev.map((ex, s) => ({ id: idOf(ex, s), words: ex.words, tags: predIds[s].map((p) => (p === null ? null : data.labels[p])), gold: ex.tags })),
      };
    }
    case 'qa': {
      const feats = items as QaFeature[];
      const answers = decodeQa(data.dev, feats, logits.map((z) => z.filter((_, i) => i % 2 === 0)), logits.map((z) => z.filter((_, i) => i % 2 === 1)), { nBest: o.nBest, maxAnswerLength: o.maxAnswerLength, nullThreshold: o.nullThreshold });
      const sc = squadScores(answers.map((a) => a.text), data.dev.map((ex) => ex.answers.map((a) => a.text)));
      return {
        metrics: { exactMatch: sc.exactMatch, f1: sc.f1 },
        predictions: answers.map((a: QaAnswer, i) => ({ id: a.id, answer: a.text, start: a.start, end: a.end, score: a.score, gold: data.dev[i].answers.map((x) => x.text) })),
      };
    }
  }
}

// ---- prediction on raw text -------------------------------------------------------------------------

function needHead(model: ElectraHeadModel, kind: HeadKind, what: string): void {
  if (model.kind !== kind) throw new Error(`${what}: needs a model with a ${kind} head (${HEAD_ARCHITECTURE[kind]}), got a ${model.kind} head`);
}

export interface ClassPrediction { label: string; probabilities: Record<string, number>; logits: number[] }
export interface ValuePrediction { value: number }

/** Label and class probabilities (or the regression value) of each text / text pair. */
export async function predictSequence(model: ElectraHeadModel, tok: WordPieceTokenizer, labels: readonly string[], inputs: readonly { text: string; textB?: string }[], device: Device, maxLen = model.config.maxPositionEmbeddings): Promise<(ClassPrediction | ValuePrediction)[]> {
  needHead(model, 'sequence', 'predictSequence');
  const items = inputs.map((x) => { const e = tok.encode(x.text, x.textB ?? null, { maxLength: maxLen }); return { ids: e.ids, typeIds: e.typeIds, label: 0 }; });
  const logits = await forwardAll(model, items, 64, tok.padId >= 0 ? tok.padId : 0, device);
  if (model.numLabels === 1) return logits.map((z) => ({ value: z[0] }));
  if (labels.length !== model.numLabels) throw new Error(`predict: ${labels.length} label names for a ${model.numLabels}-label head`);
  return logits.map((z) => {
    const p = softmax(z);
    return { label: labels[argmaxOf(z)], probabilities: Object.fromEntries(labels.map((l, i) => [l, p[i]])), logits: Array.from(z) };
  });
}

export interface TagPrediction { words: string[]; tags: (string | null)[]; probabilities: (number | null)[] }

/** Tags of each word (the text split as the tokenizer's pre-tokenizer splits it, or given words). */
export async function predictTags(model: ElectraHeadModel, tok: WordPieceTokenizer, labels: readonly string[], inputs: readonly (string | string[])[], device: Device, maxLen = model.config.maxPositionEmbeddings): Promise<TagPrediction[]> {
  needHead(model, 'token', 'predictTags');
  const words = inputs.map((x) => (typeof x === 'string' ? tok.preTokenize(x).map(([w, s, e]) => x.slice(s, e) || w) : x));
  const items = encodeForTokens(tok, words.map((w) => ({ words: w, tags: w.map(() => '') })), labels, maxLen, 'input');
  const logits = await forwardAll(model, items, 64, tok.padId >= 0 ? tok.padId : 0, device);
  const k = model.numLabels;
  return items.map((it, s) => {
    const tags: (string | null)[] = [], probs: (number | null)[] = [];
    for (const t of it.wordStarts) {
      if (t < 0) { tags.push(null); probs.push(null); continue; }
      const row = logits[s].subarray(t * k, (t + 1) * k), j = argmaxOf(row);
      tags.push(labels[j]); probs.push(softmax(row)[j]);
    }
    return { words: words[s], tags, probabilities: probs };
  });
}

/** Best answer span (and n-best) for each question over its context. */
export async function predictAnswers(model: ElectraHeadModel, tok: WordPieceTokenizer, inputs: readonly { question: string; context: string; id?: string }[], device: Device, opts: Partial<FinetuneOptions> = {}): Promise<QaAnswer[]> {
  needHead(model, 'qa', 'predictAnswers');
  const o = { ...FINETUNE_DEFAULTS, maxLen: Math.min(384, model.config.maxPositionEmbeddings), ...opts };
  const examples: QaExample[] = inputs.map((x, i) => ({ id: x.id ?? String(i), question: x.question, context: x.context, answers: [] }));
  const feats = encodeForQa(tok, examples, { maxLen: o.maxLen, docStride: o.docStride, maxQueryLen: o.maxQueryLen });
  const logits = await forwardAll(model, feats, o.evalBatchSize, tok.padId >= 0 ? tok.padId : 0, device);
  return decodeQa(examples, feats, logits.map((z) => z.filter((_, i) => i % 2 === 0)), logits.map((z) => z.filter((_, i) => i % 2 === 1)), { nBest: o.nBest, maxAnswerLength: o.maxAnswerLength, nullThreshold: o.nullThreshold });
}

