// Fine-tuning heads on ElectraModel with Hugging Face's module names and structure (modeling_electra.py, spec §5.2),
// so parameter paths are the tensor names of HF checkpoints of these classes:
//   ElectraForSequenceClassification  classifier.{dense, out_proj}: [CLS] → dropout → dense H→H → GELU → dropout → C
//   ElectraForTokenClassification     classifier: dropout → H→C on every token
//   ElectraForQuestionAnswering       qa_outputs: H→2 (start, end logits per token)
// Losses as HF: cross-entropy (mean over labelled rows, -100 ignored), MSE when num_labels = 1 (regression).
// Shapes: B batch, T tokens, H hidden, C labels. Browser-safe.

import { type Ctx, Dropout, type InitCtx, Linear } from '../../nn/layers.js';
import * as F from '../../nn/functional.js';
import * as o from '../../tensor/ops.js';
import { Tensor, tidy } from '../../tensor/tensor.js';
import { ShapeError, fmt } from '../../device/shape.js';
import type { ElectraConfig } from '../model/config.js';
import { ElectraEmbeddings, ElectraModel } from '../model/model.js';

export type HeadKind = 'sequence' | 'token' | 'qa';

/** The HF class name of each head (config.json `architectures`). */
export const HEAD_ARCHITECTURE: Record<HeadKind, string> = {
  sequence: 'ElectraForSequenceClassification',
  token: 'ElectraForTokenClassification',
  qa: 'ElectraForQuestionAnswering',
};

export const IGNORE_INDEX = -100;

/** HF: `classifier_dropout` when set, else `hidden_dropout_prob`. */
function headDropout(c: ElectraConfig, classifierDropout: number | null | undefined): number {
  return classifierDropout ?? c.hiddenDropoutProb;
}

/** One model input batch on the device. ids/types i32 [B, T], positions i32 [T], mask f32 [B, T] (1 = token). */
export interface ModelInputs { ids: Tensor; types: Tensor; positions: Tensor; mask: Tensor | null }

/** HF ElectraClassificationHead: x = h[:, 0]; dropout; dense; GELU; dropout; out_proj. */
export class ElectraClassificationHead {
  dense: Linear;
  out_proj: Linear;
  private readonly _drop: Dropout;
  constructor(hidden: number, numLabels: number, dropout: number, ic: InitCtx) {
    this.dense = new Linear(hidden, hidden, ic);
    this.out_proj = new Linear(hidden, numLabels, ic);
    this._drop = new Dropout(dropout);
  }
  /** h [B, T, H] → logits [B, C] */
  forward(h: Tensor, ctx: Ctx): Tensor {
    return tidy(() => {
      const [B, , H] = h.shape;
      const cls = o.reshape(o.slice(h, [0, 0, 0], [B, 1, H]), [B, H]);
      const x = o.gelu(this.dense.forward(this._drop.forward(cls, ctx)));
      return this.out_proj.forward(this._drop.forward(x, ctx));
    });
  }
}

export class ElectraForSequenceClassification {
  readonly kind = 'sequence' as const;
  electra: ElectraModel;
  classifier: ElectraClassificationHead;
  /** num_labels; 1 means regression (MSE loss). */
  readonly numLabels: number;
  constructor(readonly config: ElectraConfig, numLabels: number, ic: InitCtx, opts: { classifierDropout?: number | null } = {}) {
    if (!Number.isInteger(numLabels) || numLabels < 1) throw new RangeError(`ElectraForSequenceClassification: num_labels must be a positive integer, got ${numLabels}`);
    this.numLabels = numLabels;
    this.electra = new ElectraModel(config, new ElectraEmbeddings(config, ic), ic);
    this.classifier = new ElectraClassificationHead(config.hiddenSize, numLabels, headDropout(config, opts.classifierDropout), ic);
  }
  /** → logits [B, C] ([B, 1] for regression) */
  forward(x: ModelInputs, ctx: Ctx): Tensor {
    return tidy(() => this.classifier.forward(this.electra.forward(x.ids, x.types, x.positions, x.mask, ctx), ctx));
  }
  /**
   * Classification: `labels` i32 [B] class ids (-100 = ignored), mean cross-entropy.
   * Regression (num_labels 1): `labels` f32 [B] targets, mean squared error.
   */
  loss(logits: Tensor, labels: Tensor): Tensor {
    return tidy(() => {
      const B = logits.shape[0];
      if (labels.rank !== 1 || labels.shape[0] !== B) throw new ShapeError(`ElectraForSequenceClassification.loss: labels ${fmt(labels.shape)} for logits ${fmt(logits.shape)}`);
      if (this.numLabels === 1) {
        if (labels.dtype !== 'f32') throw new TypeError('ElectraForSequenceClassification.loss: regression labels must be f32');
        return o.mean(o.square(o.sub(o.reshape(logits, [B]), labels)));
      }
      return F.crossEntropy(logits, labels, { ignoreIndex: IGNORE_INDEX });
    });
  }
}

export class ElectraForTokenClassification {
  readonly kind = 'token' as const;
  electra: ElectraModel;
  classifier: Linear;
  readonly numLabels: number;
  private readonly _drop: Dropout;
  constructor(readonly config: ElectraConfig, numLabels: number, ic: InitCtx, opts: { classifierDropout?: number | null } = {}) {
    if (!Number.isInteger(numLabels) || numLabels < 2) throw new RangeError(`ElectraForTokenClassification: num_labels must be an integer ≥ 2, got ${numLabels}`);
    this.numLabels = numLabels;
    this.electra = new ElectraModel(config, new ElectraEmbeddings(config, ic), ic);
    this.classifier = new Linear(config.hiddenSize, numLabels, ic);
    this._drop = new Dropout(headDropout(config, opts.classifierDropout));
  }
  /** → logits [B, T, C] */
  forward(x: ModelInputs, ctx: Ctx): Tensor {
    return tidy(() => this.classifier.forward(this._drop.forward(this.electra.forward(x.ids, x.types, x.positions, x.mask, ctx), ctx)));
  }
  /** labels i32 [B, T]: a class id at each scored token (first sub-token of a word), -100 elsewhere. Mean CE over scored tokens. */
  loss(logits: Tensor, labels: Tensor): Tensor {
    return tidy(() => {
      const [B, T, C] = logits.shape;
      if (labels.rank !== 2 || labels.shape[0] !== B || labels.shape[1] !== T) throw new ShapeError(`ElectraForTokenClassification.loss: labels ${fmt(labels.shape)} for logits ${fmt(logits.shape)}`);
      return F.crossEntropy(o.reshape(logits, [B * T, C]), o.reshape(labels, [B * T]), { ignoreIndex: IGNORE_INDEX });
    });
  }
}

export class ElectraForQuestionAnswering {
  readonly kind = 'qa' as const;
  electra: ElectraModel;
  qa_outputs: Linear;
  readonly numLabels = 2;
  constructor(readonly config: ElectraConfig, ic: InitCtx) {
    this.electra = new ElectraModel(config, new ElectraEmbeddings(config, ic), ic);
    this.qa_outputs = new Linear(config.hiddenSize, 2, ic);
  }
  /** → logits [B, T, 2]: [..., 0] start, [..., 1] end (split with `splitQaLogits`). */
  forward(x: ModelInputs, ctx: Ctx): Tensor {
    return tidy(() => this.qa_outputs.forward(this.electra.forward(x.ids, x.types, x.positions, x.mask, ctx)));
  }
  /** labels i32 [B, 2]: gold (start, end) token indices, -100 to ignore a row. (CE_start + CE_end) / 2 as HF. */
  loss(logits: Tensor, labels: Tensor): Tensor {
    return tidy(() => {
      const B = logits.shape[0];
      if (labels.rank !== 2 || labels.shape[0] !== B || labels.shape[1] !== 2) throw new ShapeError(`ElectraForQuestionAnswering.loss: labels ${fmt(labels.shape)} must be [${B}, 2]`);
      const { start, end } = splitQaLogits(logits);
      const col = (j: number) => o.reshape(o.slice(labels, [0, j], [B, j + 1]), [B]);
      return o.muls(o.add(F.crossEntropy(start, col(0), { ignoreIndex: IGNORE_INDEX }), F.crossEntropy(end, col(1), { ignoreIndex: IGNORE_INDEX })), 0.5);
    });
  }
}

/** [B, T, 2] → start [B, T], end [B, T] */
export function splitQaLogits(logits: Tensor): { start: Tensor; end: Tensor } {
  const [B, T] = logits.shape;
  const part = (j: number) => o.reshape(o.slice(logits, [0, 0, j], [B, T, j + 1]), [B, T]);
  return { start: part(0), end: part(1) };
}

export type ElectraHeadModel = ElectraForSequenceClassification | ElectraForTokenClassification | ElectraForQuestionAnswering;

/** Builds a head model with fresh (host-seeded) weights. numLabels is ignored for QA. */
export function createHeadModel(kind: HeadKind, config: ElectraConfig, numLabels: number, ic: InitCtx, opts: { classifierDropout?: number | null } = {}): ElectraHeadModel {
  switch (kind) {
    case 'sequence': return new ElectraForSequenceClassification(config, numLabels, ic, opts);
    case 'token': return new ElectraForTokenClassification(config, numLabels, ic, opts);
    case 'qa': return new ElectraForQuestionAnswering(config, ic);
    default: throw new Error(`createHeadModel: unknown head ${kind satisfies never}`);
  }
}

/** The head's own HF tensor names → PyTorch shapes (the `electra.*` part is expectedElectraShapes'). */
export function headShapes(kind: HeadKind, hidden: number, numLabels: number): Map<string, number[]> {
  const m = new Map<string, number[]>();
  const lin = (name: string, out: number, inp: number) => { m.set(`${name}.weight`, [out, inp]); m.set(`${name}.bias`, [out]); };
  if (kind === 'sequence') { lin('classifier.dense', hidden, hidden); lin('classifier.out_proj', numLabels, hidden); }
  else if (kind === 'token') lin('classifier', numLabels, hidden);
  else lin('qa_outputs', 2, hidden);
  return m;
}

/**
 * Layer-wise learning-rate factor (the authors' `_get_layer_lrs`, spec §3.2): depth 0 for the embeddings and their
 * projection, i+1 for encoder layer i, n+2 for the head; factor = decay^(n + 2 − depth). The head gets ×1, the
 * top layer ×decay² (the authors' off-by-one, kept to reproduce their numbers). decay 1 turns it off.
 */
export function layerwiseLrMultiplier(numLayers: number, decay: number): (name: string) => number {
  if (!(decay > 0 && decay <= 1)) throw new RangeError(`layer-wise LR decay must be in (0, 1], got ${decay}`);
  return (name: string) => {
    let depth = numLayers + 2;
    if (name.startsWith('electra.embeddings.') || name.startsWith('electra.embeddings_project.')) depth = 0;
    else {
      const m = /^electra\.encoder\.layer\.(\d+)\./.exec(name);
      if (m) depth = Number(m[1]) + 1;
    }
    return decay ** (numLayers + 2 - depth);
  };
}
