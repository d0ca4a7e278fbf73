// Layers as plain classes whose property names are Hugging Face's (BertLayer / ElectraLayer), so a
// module tree's parameter paths are the checkpoint's tensor names. Each forward runs inside `tidy`:
// handles of intermediates are dropped on return, and the autograd graph keeps (and frees after
// backward) only what backward needs. Shapes: B batch, T tokens, H hidden, nh heads, dh = H/nh.

import type { Device } from '../device/device.js';
import * as o from '../tensor/ops.js';
import { Tensor, tidy } from '../tensor/tensor.js';
import * as F from './functional.js';
import { HostRng, init } from './init.js';

/** What a forward needs beyond its inputs: train/eval mode and the dropout RNG. */
export interface Ctx { training: boolean; rng: F.Rng | null }

export const evalCtx: Ctx = { training: false, rng: null };

export interface InitCtx { rng: HostRng; device?: Device; std: number }

export class Linear {
  weight: Tensor; // [out, in] (PyTorch layout: y = x Wᵀ + b)
  bias: Tensor | null; // [out]
  constructor(readonly inFeatures: number, readonly outFeatures: number, ic: InitCtx, opts: { bias?: boolean; glorot?: boolean } = {}) {
    this.weight = opts.glorot ? init.glorotUniform([outFeatures, inFeatures], ic) : init.truncatedNormal([outFeatures, inFeatures], ic.std, ic);
    this.bias = opts.bias === false ? null : init.zeros([outFeatures], ic);
  }
  /** x [..., in] → [..., out]; `gelu`: exact GELU applied to the output (fused into the matmul store). */
  forward(x: Tensor, opts: { gelu?: boolean } = {}): Tensor {
    return tidy(() => {
      const lead = x.shape.slice(0, -1);
      const x2 = o.reshape(x, [-1, this.inFeatures]);                       // [N, in]
      let y: Tensor;
      if (this.bias) y = F.linear(x2, this.weight, this.bias, opts);          // [N, out], bias (+ GELU) in the store
      else {
        y = o.matmul(x2, this.weight, { transB: true });
        if (opts.gelu) y = o.gelu(y);
      }
      return o.reshape(y, [...lead, this.outFeatures]);
    });
  }
}

export class LayerNorm {
  weight: Tensor; // [C]
  bias: Tensor;   // [C]
  constructor(readonly size: number, ic: InitCtx, readonly eps = 1e-12) {
    this.weight = init.ones([size], ic);
    this.bias = init.zeros([size], ic);
  }
  forward(x: Tensor): Tensor { return F.layerNorm(x, this.weight, this.bias, this.eps); }
}

export class Embedding {
  weight: Tensor; // [V, E]
  /** The id whose row gets no gradient (PyTorch's padding_idx); -1: none. */
  readonly paddingIdx: number;
  constructor(readonly num: number, readonly dim: number, ic: InitCtx, opts: { paddingIdx?: number } = {}) {
    this.weight = init.truncatedNormal([num, dim], ic.std, ic);
    this.paddingIdx = opts.paddingIdx ?? -1;
  }
  /** ids i32 [...] → [..., E] */
  forward(ids: Tensor): Tensor { return F.embedding(ids, this.weight, { paddingIdx: this.paddingIdx }); }
}

/** Dropout as a module (no parameters): identity in eval mode or at p = 0. */
export class Dropout {
  constructor(readonly p: number) {
    if (!(p >= 0 && p < 1)) throw new RangeError(`Dropout: rate must be in [0, 1), got ${p}`);
  }
  forward(x: Tensor, ctx: Ctx): Tensor { return dropout(x, this.p, ctx); }
}

export function dropout(x: Tensor, p: number, ctx: Ctx): Tensor {
  if (!ctx.training || p === 0) return x;
  if (!ctx.rng) throw new Error('dropout: training forward needs ctx.rng');
  return F.dropout(x, p, ctx.rng);
}

export interface EncoderConfig {
  hiddenSize: number;
  numAttentionHeads: number;
  intermediateSize: number;
  hiddenDropoutProb: number;
  attentionProbsDropoutProb: number;
  layerNormEps: number;
}

/** HF `attention.self`: Q, K, V projections and fused multi-head attention (masked softmax, dropout, ·V). */
export class SelfAttention {
  query: Linear; key: Linear; value: Linear;
  constructor(private readonly _c: EncoderConfig, ic: InitCtx) {
    const h = _c.hiddenSize;
    this.query = new Linear(h, h, ic); this.key = new Linear(h, h, ic); this.value = new Linear(h, h, ic);
  }
  /**
   * x [B, T, H], mask f32 [B, T] (1 = token, 0 = padding) → [B, T, H]. The heads are column blocks of the
   * projections [B, T, H]; F.attention reads them in place and writes the merged heads (no permutes) and
   * draws the same dropout mask as softmax → dropout → matmul on [B, nh, T, T] would.
   */
  forward(x: Tensor, mask: Tensor | null, ctx: Ctx): Tensor {
    return tidy(() => {
      const q = this.query.forward(x), k = this.key.forward(x), v = this.value.forward(x);  // [B, T, H]
      return F.attention(q, k, v, {
        heads: this._c.numAttentionHeads, mask: mask ?? undefined,
        dropout: { p: this._c.attentionProbsDropoutProb, rng: ctx.rng }, training: ctx.training,
      });
    });
  }
}

/** HF `attention.output` and `output`: dense → dropout → residual → LayerNorm (post-LN). */
export class DenseResidualNorm {
  dense: Linear;
  LayerNorm: LayerNorm;
  constructor(private readonly _c: EncoderConfig, inSize: number, ic: InitCtx) {
    this.dense = new Linear(inSize, _c.hiddenSize, ic);
    this.LayerNorm = new LayerNorm(_c.hiddenSize, ic, _c.layerNormEps);
  }
  forward(h: Tensor, residual: Tensor, ctx: Ctx): Tensor {
    return tidy(() => this.LayerNorm.forward(o.add(dropout(this.dense.forward(h), this._c.hiddenDropoutProb, ctx), residual)));
  }
}

export class Attention {
  self: SelfAttention;
  output: DenseResidualNorm;
  constructor(c: EncoderConfig, ic: InitCtx) {
    this.self = new SelfAttention(c, ic);
    this.output = new DenseResidualNorm(c, c.hiddenSize, ic);
  }
  forward(x: Tensor, mask: Tensor | null, ctx: Ctx): Tensor {
    return tidy(() => this.output.forward(this.self.forward(x, mask, ctx), x, ctx));
  }
}

/** HF `intermediate`: dense H → FFN with exact (erf) GELU. */
export class Intermediate {
  dense: Linear;
  constructor(c: EncoderConfig, ic: InitCtx) { this.dense = new Linear(c.hiddenSize, c.intermediateSize, ic); }
  forward(x: Tensor): Tensor { return this.dense.forward(x, { gelu: true }); }
}

/** One post-LN Transformer encoder layer (BERT/ELECTRA): x [B, T, H] → [B, T, H]. */
export class TransformerLayer {
  attention: Attention;
  intermediate: Intermediate;
  output: DenseResidualNorm;
  constructor(c: EncoderConfig, ic: InitCtx) {
    this.attention = new Attention(c, ic);
    this.intermediate = new Intermediate(c, ic);
    this.output = new DenseResidualNorm(c, c.intermediateSize, ic);
  }
  forward(x: Tensor, mask: Tensor | null, ctx: Ctx): Tensor {
    return tidy(() => {
      const a = this.attention.forward(x, mask, ctx);
      return this.output.forward(this.intermediate.forward(a), a, ctx);
    });
  }
}

export class Encoder {
  layer: TransformerLayer[];
  constructor(c: EncoderConfig & { numHiddenLayers: number }, ic: InitCtx) {
    this.layer = Array.from({ length: c.numHiddenLayers }, () => new TransformerLayer(c, ic));
  }
  forward(x: Tensor, mask: Tensor | null, ctx: Ctx): Tensor {
    return tidy(() => {
      let h = x;
      for (const l of this.layer) h = l.forward(h, mask, ctx);
      return h;
    });
  }
}
