// Bag-of-words logistic regression, the non-neural baseline of the fine-tuning experiments, written with the engine
// (browser-safe). Features: terms of the training split — lowercased words (letters/digits runs, default) or
// WordPiece tokens — kept when in ≥ minDf training texts (the maxFeatures most frequent), weighted by sublinear
// tf-idf, (1 + ln tf)·(ln((1 + N)/(1 + df)) + 1) as scikit-learn's smooth idf, each text's vector L2-normalised;
// a pair (text, textB) is one bag. Model: multinomial logistic regression, logits = x·W + b, stored sparsely as
// (term id, weight) lists so a batch is an embedding-bag: Σ_l vals[b, l]·W[ids[b, l]] (gather, weight, sum).
// Loss = mean cross-entropy + (l2 / 2)·‖W‖² (bias unregularised), minimised with Adam on the device; the weights of
// the epoch with the best dev accuracy are kept. Metrics: accuracy, macro-F1 (over classes in gold or predictions).

import { noGrad } from '../../autograd/tape.js';
import * as F from '../../nn/functional.js';
import { HostRng } from '../../nn/init.js';
import { AdamW } from '../../nn/optim.js';
import type { Device } from '../../device/device.js';
import * as o from '../../tensor/ops.js';
import { Tensor, keep, tensor, tidy } from '../../tensor/tensor.js';
import type { TextDataset, TextExample } from '../../text/datasets.js';
import type { WordPieceTokenizer } from '../../text/wordpiece.js';
import { accuracy, macroF1 } from './eval-metrics.js';

export interface BowOptions {
  /** 'words' (default) or 'wordpiece' (needs `tokenizer`). */
  features?: 'words' | 'wordpiece';
  tokenizer?: WordPieceTokenizer;
  /** Keep terms seen in at least this many training texts (default 2). */
  minDf?: number;
  /** Keep at most this many terms, the most frequent by document frequency (default 20000). */
  maxFeatures?: number;
  epochs?: number;       // 20
  batchSize?: number;    // 32
  lr?: number;           // 0.02
  /** L2 penalty λ in (λ/2)·‖W‖² (default 1e-4). */
  l2?: number;
  seed?: number;         // 0
  /** Keep the weights of the epoch with the best dev accuracy (default true); else the last epoch's. */
  keepBest?: boolean;
  /** Largest (terms + 1)·rows·L of one gather (default 2³¹ − 1, the limit of the embedding backward's sort keys). */
  maxBagElements?: number;
  onEpoch?: (e: BowEpoch) => void;
}

export interface BowMetrics { n: number; accuracy: number; macroF1: number; loss: number }
export interface BowEpoch { epoch: number; trainLoss: number; dev: BowMetrics }

/** Sparse tf-idf vectors: term ids ascending and their values, per text. */
export interface SparseRows { ids: Int32Array[]; vals: Float32Array[] }

export class BowVectorizer {
  private readonly index: Map<string, number>;
  constructor(readonly terms: readonly string[], readonly idf: Float64Array, readonly features: 'words' | 'wordpiece', private readonly tokenizer: WordPieceTokenizer | null) {
    this.index = new Map(terms.map((t, i) => [t, i]));
    if (features === 'wordpiece' && !tokenizer) throw new Error('BowVectorizer: wordpiece features need a tokenizer');
  }

  /** Vocabulary and idf from training texts. */
  static fit(examples: readonly TextExample[], opts: Pick<BowOptions, 'features' | 'tokenizer' | 'minDf' | 'maxFeatures'> = {}): BowVectorizer {
    const features = opts.features ?? 'words', minDf = opts.minDf ?? 2, maxFeatures = opts.maxFeatures ?? 20000;
    const tokenizer = opts.tokenizer ?? null;
    if (features === 'wordpiece' && !tokenizer) throw new Error('trainBow: features "wordpiece" need opts.tokenizer');
    const df = new Map<string, number>();
    for (const e of examples) for (const t of new Set(analyze(e, features, tokenizer))) df.set(t, (df.get(t) ?? 0) + 1);
    const kept = [...df].filter(([, n]) => n >= minDf).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, maxFeatures);
    if (kept.length === 0) throw new Error(`trainBow: no term occurs in ${minDf} or more training texts (lower minDf?)`);
    const N = examples.length;
    return new BowVectorizer(kept.map(([t]) => t), Float64Array.from(kept, ([, n]) => Math.log((1 + N) / (1 + n)) + 1), features, tokenizer);
  }

  get size(): number { return this.terms.length; }

  transform(examples: readonly TextExample[]): SparseRows {
    const rows: SparseRows = { ids: [], vals: [] };
    for (const e of examples) {
      const tf = new Map<number, number>();
      for (const t of analyze(e, this.features, this.tokenizer)) {
        const i = this.index.get(t);
        if (i !== undefined) tf.set(i, (tf.get(i) ?? 0) + 1);
      }
      const ids = Int32Array.from([...tf.keys()].sort((a, b) => a - b));
      const v = Array.from(ids, (i) => (1 + Math.log(tf.get(i)!)) * this.idf[i]);
      const norm = Math.hypot(...v) || 1;
      rows.ids.push(ids);
      rows.vals.push(Float32Array.from(v, (x) => x / norm));
    }
    return rows;
  }
}

const WORD = /[\p{L}\p{N}]+(?:['’][\p{L}]+)?/gu;

function analyze(e: TextExample, features: 'words' | 'wordpiece', tokenizer: WordPieceTokenizer | null): string[] {
  const one = (s: string) => (features === 'words' ? s.toLowerCase().match(WORD) ?? [] : tokenizer!.tokenize(s));
  return e.textB !== undefined ? [...one(e.text), ...one(e.textB)] : one(e.text);
}

/** A batch of sparse rows as [B, L] ids and values, L the longest row (padding: id 0 with value 0, no effect). */
export function packRows(rows: SparseRows, which: readonly number[]): { B: number; L: number; ids: Int32Array; vals: Float32Array } {
  const B = which.length, L = Math.max(1, ...which.map((r) => rows.ids[r].length));
  const ids = new Int32Array(B * L), vals = new Float32Array(B * L);
  which.forEach((r, k) => { ids.set(rows.ids[r], k * L); vals.set(rows.vals[r], k * L); });
  return { B, L, ids, vals };
}

/** logits [B, C] = Σ_l vals[b, l]·W[ids[b, l]] + b, with W [F, C], ids i32 [B, L], vals [B, L]. */
export function bowLogits(W: Tensor, b: Tensor, ids: Tensor, vals: Tensor): Tensor {
  return tidy(() => {
    const [B, L] = ids.shape;
    const picked = F.embedding(ids, W);                                      // [B, L, C]
    return o.add(o.sum(o.mul(picked, o.reshape(vals, [B, L, 1])), 1), b);   // [B, C]
  });
}

/** weight · mean cross-entropy + (l2/2)·‖W‖²: the training objective (targets i32 [B]; weight 1 for a whole batch). */
export function bowLoss(W: Tensor, b: Tensor, ids: Tensor, vals: Tensor, targets: Tensor, l2: number, weight = 1): Tensor {
  return tidy(() => {
    let ce = F.crossEntropy(bowLogits(W, b, ids, vals), targets);
    if (weight !== 1) ce = o.muls(ce, weight);
    return l2 > 0 ? o.add(ce, o.muls(o.sum(o.square(W)), l2 / 2)) : ce;
  });
}

export interface BowModel {
  vectorizer: BowVectorizer;
  labels: string[];
  /** [F, C] and [C], on the training device. */
  W: Tensor;
  b: Tensor;
}

export interface BowResult { model: BowModel; history: BowEpoch[]; best: BowEpoch }

function labelIds(d: TextDataset, labels: readonly string[], what: string): Int32Array {
  const at = new Map(labels.map((l, i) => [l, i]));
  return Int32Array.from(d.examples, (e, i) => {
    if (typeof e.label !== 'string') throw new Error(`${what} '${d.name}': example ${i}${e.id ? ` (${e.id})` : ''} has a numeric label ${e.label}; the BoW baseline is a classifier`);
    const k = at.get(e.label);
    if (k === undefined) throw new Error(`${what} '${d.name}': example ${i}${e.id ? ` (${e.id})` : ''} has label ${JSON.stringify(e.label)}, not one of the training labels ${JSON.stringify(labels)}`);
    return k;
  });
}

/** Trains on `train`, evaluating on `dev` after every epoch (see the file header for the recipe). */
export async function trainBow(train: TextDataset, dev: TextDataset, device: Device, opts: BowOptions = {}): Promise<BowResult> {
  if (!train.labels) throw new Error(`trainBow: '${train.name}' is a regression dataset (labels null); the BoW baseline is a classifier`);
  if (train.labels.length < 2) throw new Error(`trainBow: '${train.name}' has ${train.labels.length} label(s); need at least 2`);
  if (train.examples.length === 0 || dev.examples.length === 0) throw new Error(`trainBow: empty ${train.examples.length ? `dev set '${dev.name}'` : `training set '${train.name}'`}`);
  const epochs = opts.epochs ?? 20, batchSize = opts.batchSize ?? 32, lr = opts.lr ?? 0.02, l2 = opts.l2 ?? 1e-4;
  for (const [k, v, min] of [['epochs', epochs, 1], ['batchSize', batchSize, 1]] as const) if (!(Number.isInteger(v) && v >= min)) throw new Error(`trainBow: ${k} must be a positive integer, got ${v}`);
  if (!(lr > 0) || !(l2 >= 0)) throw new Error(`trainBow: lr must be > 0 and l2 ≥ 0, got lr ${lr}, l2 ${l2}`);
  const maxBag = opts.maxBagElements ?? 0x7fffffff;
  const labels = [...train.labels];
  const yTrain = labelIds(train, labels, 'trainBow: training set'), yDev = labelIds(dev, labels, 'trainBow: dev set');
  const vectorizer = BowVectorizer.fit(train.examples, opts);
  const xTrain = vectorizer.transform(train.examples), xDev = vectorizer.transform(dev.examples);
  const C = labels.length, Fn = vectorizer.size;
  const W = keep(tensor(new Float32Array(Fn * C), [Fn, C], { device })).param();
  const b = keep(tensor(new Float32Array(C), [C], { device })).param();
  const model: BowModel = { vectorizer, labels, W, b };
  const opt = new AdamW([['W', W], ['b', b]], { lr, weightDecay: 0, biasCorrection: true });
  const rng = new HostRng(opts.seed ?? 0);
  const order = Array.from({ length: xTrain.ids.length }, (_, i) => i);
  const history: BowEpoch[] = [];
  let best: BowEpoch | null = null, bestW: Float32Array | null = null, bestB: Float32Array | null = null;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) { const j = Math.floor(rng.uniform() * (i + 1)); [order[i], order[j]] = [order[j], order[i]]; }
    const losses: Tensor[] = [];
    for (let at = 0; at < order.length; at += batchSize) {
      const which = order.slice(at, at + batchSize);
      // The gather's backward sorts keys term·n + position in i32: (F + 1)·rows·L must stay under 2³¹. Larger
      // batches run as several bags whose gradients accumulate (CE weighted by their share, L2 added once).
      const L = Math.max(1, ...which.map((r) => xTrain.ids[r].length));
      const rowsPerBag = Math.max(1, Math.floor(maxBag / ((Fn + 1) * L)));
      for (let k = 0; k < which.length; k += rowsPerBag) {
        const part = which.slice(k, k + rowsPerBag);
        const p = packRows(xTrain, part);
        const loss = tidy(() => {
          const ids = tensor(p.ids, [p.B, p.L], { device, dtype: 'i32' }), vals = tensor(p.vals, [p.B, p.L], { device });
          const y = tensor(Int32Array.from(part, (r) => yTrain[r]), [p.B], { device, dtype: 'i32' });
          const l = bowLoss(W, b, ids, vals, y, k === 0 ? l2 : 0, p.B / which.length);
          l.backward();
          return l;
        });
        losses.push(keep(noGrad(() => o.muls(loss, which.length))));
        loss.dispose();
      }
      opt.step();
      opt.zeroGrad();
    }
    // One readback per epoch: the batch losses (weighted by batch size) summed on the device.
    const total = noGrad(() => tidy(() => losses.slice(1).reduce((acc, t) => o.add(acc, t), o.muls(losses[0], 1))));
    for (const t of losses) t.dispose();
    const sum = await total.item();
    total.dispose();
    const e: BowEpoch = { epoch, trainLoss: sum / order.length, dev: await scoreRows(model, xDev, yDev) };
    history.push(e);
    opts.onEpoch?.(e);
    if ((opts.keepBest ?? true) && (!best || e.dev.accuracy > best.dev.accuracy)) {
      best = e;
      bestW = Float32Array.from(await W.data());
      bestB = Float32Array.from(await b.data());
    }
  }
  if ((opts.keepBest ?? true) && bestW && bestB) {
    device.write(W.storage, bestW, 'f32');
    device.write(b.storage, bestB, 'f32');
  }
  return { model, history, best: (opts.keepBest ?? true) ? best! : history[history.length - 1] };
}

/** Class probabilities [n, C] (row-major) for examples. */
export async function predictBow(model: BowModel, examples: readonly TextExample[], batchSize = 256): Promise<Float64Array> {
  return probabilities(model, model.vectorizer.transform(examples), batchSize);
}

async function probabilities(model: BowModel, rows: SparseRows, batchSize = 256): Promise<Float64Array> {
  const C = model.labels.length, n = rows.ids.length, device = model.W.device;
  const out = new Float64Array(n * C);
  for (let at = 0; at < n; at += batchSize) {
    const which = Array.from({ length: Math.min(batchSize, n - at) }, (_, k) => at + k);
    const p = packRows(rows, which);
    const t = noGrad(() => tidy(() => bowLogits(model.W, model.b, tensor(p.ids, [p.B, p.L], { device, dtype: 'i32' }), tensor(p.vals, [p.B, p.L], { device }))));
    let logits: ArrayLike<number>;
    try { logits = await t.data(); } finally { t.dispose(); }
    for (let r = 0; r < p.B; r++) {
      let mx = -Infinity;
      for (let c = 0; c < C; c++) mx = Math.max(mx, logits[r * C + c]);
      let z = 0;
      for (let c = 0; c < C; c++) z += Math.exp(logits[r * C + c] - mx);
      for (let c = 0; c < C; c++) out[(at + r) * C + c] = Math.exp(logits[r * C + c] - mx) / z;
    }
  }
  return out;
}

async function scoreRows(model: BowModel, rows: SparseRows, gold: Int32Array): Promise<BowMetrics> {
  const C = model.labels.length, P = await probabilities(model, rows);
  const pred = Int32Array.from(gold, (_, i) => {
    let k = 0;
    for (let c = 1; c < C; c++) if (P[i * C + c] > P[i * C + k]) k = c;
    return k;
  });
  let loss = 0;
  gold.forEach((g, i) => { loss -= Math.log(Math.max(P[i * C + g], 1e-300)); });
  return { n: gold.length, accuracy: accuracy(pred, gold), macroF1: macroF1(pred, gold, C), loss: loss / gold.length };
}

/** Accuracy and macro-F1 of the model on a labelled dataset (labels must be among the model's). */
export async function evaluateBow(model: BowModel, data: TextDataset): Promise<BowMetrics> {
  return scoreRows(model, model.vectorizer.transform(data.examples), labelIds(data, model.labels, 'evaluateBow'));
}

export function disposeBow(model: BowModel): void { model.W.dispose(); model.b.dispose(); }
