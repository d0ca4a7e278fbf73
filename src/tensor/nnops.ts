// The fused neural-net ops: softmax (with attention scale and key-padding mask), logSoftmax, layerNorm,
// embedding (+ checkIds), softmaxCrossEntropy (+ crossEntropy, its mean), linear (matmul + bias + GELU),
// attention (multi-head, flash: masked softmax, dropout and ·V in one pass over [B, T, H] projections).
// Each forward is one kernel family's launcher recorded as one autograd node (primitives.ts, rule in
// autograd/rules.ts); the `*Backward` functions are the family's backward launchers those rules call (no
// graph of their own). The compositions from primitives they replace are tested against them in test/kernels/*.

import type { Device } from '../device/device.js';
import { ShapeError, fmt, sameShape } from '../device/shape.js';
import * as SM from '../kernels/softmax.js';
import * as LN from '../kernels/layernorm.js';
import * as EMB from '../kernels/embedding.js';
import * as CE from '../kernels/cross_entropy.js';
import * as MM from '../kernels/matmul.js';
import * as AT from '../kernels/attention.js';
import type { DropoutCtx, OpCtx } from './primitives.js';
import type { Rng } from './random.js';
import { type Tensor, getPrecision, isGradEnabled } from './tensor.js';
import { cast, div, fill, label, launched, maxs, ne, needF32, sameDevice, sum, track } from './ops.js';

function lastDim(op: string, x: Tensor): { rows: number; n: number } {
  if (x.rank < 1) throw new ShapeError(`${op}: needs rank ≥ 1, got a scalar ${fmt(x.shape)}`);
  const n = x.shape[x.rank - 1];
  return { rows: n === 0 ? 0 : x.size / n, n };
}

// ---- softmax -----------------------------------------------------------------------------------

/**
 * Softmax over the last axis of x [..., Tq, Tk]: y = softmax(x·scale + (1 − mask)·(−10000)).
 * mask: f32 [B, Tk] with B = x.shape[0] (1 keep, 0 padding), broadcast over the rows of batch b.
 */
export function softmax(x: Tensor, opts: { mask?: Tensor; scale?: number } = {}): Tensor {
  const { mask } = opts, scale = opts.scale ?? 1;
  const ins = mask ? [x, mask] : [x];
  sameDevice('softmax', ins);
  needF32('softmax', ...ins);
  const { n } = lastDim('softmax', x);
  if (mask && (x.rank < 2 || mask.rank !== 2 || mask.shape[0] !== x.shape[0] || mask.shape[1] !== n)) {
    throw new ShapeError(`softmax: mask ${fmt(mask.shape)} does not match scores ${fmt(x.shape)} (want [${x.rank >= 2 ? x.shape[0] : 'B'}, ${n}] = [batch, keys])`);
  }
  const y = launched(SM.softmax(x, mask ?? null, scale, false, label('softmax', ...ins)));
  return track('softmax', y, ins, { scale }, [y]);
}

/** log(softmax(x)) over the last axis, computed as x − max − log Σ exp(x − max). */
export function logSoftmax(x: Tensor): Tensor {
  sameDevice('logSoftmax', [x]);
  needF32('logSoftmax', x);
  lastDim('logSoftmax', x);
  const y = launched(SM.softmax(x, null, 1, true, label('logSoftmax', x)));
  return track('logSoftmax', y, [x], {}, [y]);
}

/** Fused backward of softmax (log = false) or logSoftmax (log = true) from the saved output y. */
export function softmaxBackward(y: Tensor, dy: Tensor, scale: number, log: boolean): Tensor {
  return launched(SM.softmaxBackward(y, dy, scale, log, label('softmaxBackward', y, dy)));
}

// ---- layerNorm ---------------------------------------------------------------------------------

/** LayerNorm over the last dim: x [..., C], weight [C], bias [C]; biased variance; eps 1e-12 as ELECTRA. */
export function layerNorm(x: Tensor, weight: Tensor, bias: Tensor, eps = 1e-12): Tensor {
  sameDevice('layerNorm', [x, weight, bias]);
  needF32('layerNorm', x, weight, bias);
  const { n } = lastDim('layerNorm', x);
  if (weight.rank !== 1 || bias.rank !== 1 || weight.shape[0] !== n || bias.shape[0] !== n) {
    throw new ShapeError(`layerNorm: weight ${fmt(weight.shape)} and bias ${fmt(bias.shape)} must both be [${n}] for x ${fmt(x.shape)}`);
  }
  const [y, mean, rstd] = launched(LN.layerNorm(x, weight, bias, eps, label('layerNorm', x, weight, bias)));
  track('layerNorm', y, [x, weight, bias], { eps }, [x, weight, mean, rstd]);
  mean.dispose(); rstd.dispose();
  return y;
}

/** Fused LayerNorm backward: [dx, dweight, dbias] from x, weight and the saved mean, rstd. */
export function layerNormBackward(x: Tensor, weight: Tensor, mean: Tensor, rstd: Tensor, dy: Tensor): Tensor[] {
  return launched(LN.layerNormBackward(x, weight, mean, rstd, dy, label('layerNormBackward', x, dy)));
}

// ---- embedding ---------------------------------------------------------------------------------

function checkEmbeddingArgs(op: string, ids: Tensor, table: Tensor): Device {
  const d = sameDevice(op, [ids, table]);
  if (ids.dtype !== 'i32') throw new TypeError(`${op}: ids must be i32, got ${ids.dtype} ${fmt(ids.shape)}`);
  if (table.dtype !== 'f32') throw new TypeError(`${op}: table must be f32, got ${table.dtype} ${fmt(table.shape)}`);
  if (table.rank !== 2) throw new ShapeError(`${op}: table must be [V, E], got ${fmt(table.shape)} (ids ${fmt(ids.shape)})`);
  return d;
}

/**
 * Gather rows: ids i32 [...] from table [V, E] → [..., E]. `paddingIdx` (PyTorch's padding_idx): that
 * row is gathered like any other but gets no gradient. Contract for ids outside [0, V): the CPU
 * device throws a RangeError; the GPU yields zero rows (and zero gradient) — call `checkIds` where
 * ids come from untrusted data (tests, loaders): it reports the first bad position.
 */
export function embedding(ids: Tensor, table: Tensor, opts: { paddingIdx?: number } = {}): Tensor {
  checkEmbeddingArgs('embedding', ids, table);
  const v = table.shape[0];
  const paddingIdx = opts.paddingIdx ?? -1;
  if (!Number.isInteger(paddingIdx) || paddingIdx < -1 || paddingIdx >= v) throw new RangeError(`embedding: paddingIdx ${opts.paddingIdx} is outside [0, ${v}) for table ${fmt(table.shape)}`);
  const y = launched(EMB.embedding(ids, table, label('embedding', ids, table)));
  return track('embedding', y, [ids, table], { paddingIdx }, [ids]);
}

/** Rejects (RangeError naming position, id and V) if any id is outside [0, vocab). One 2-int readback. */
export async function checkIds(ids: Tensor, vocab: number): Promise<void> {
  sameDevice('checkIds', [ids]);
  if (ids.dtype !== 'i32') throw new TypeError(`checkIds: ids must be i32, got ${ids.dtype} ${fmt(ids.shape)}`);
  const st = launched(EMB.firstBadId(ids, vocab, label('checkIds', ids)));
  const [pos, id] = await st.data();
  st.dispose();
  if (pos >= 0) throw new RangeError(`embedding: id ${id} at flat position ${pos} of ids ${fmt(ids.shape)} is outside [0, ${vocab})`);
}

/** Deterministic dTable [V, E] = Σ over positions with id v ≠ paddingIdx of dy rows (position order), without float atomics. */
export function embeddingBackward(ids: Tensor, dy: Tensor, vocab: number, paddingIdx = -1): Tensor {
  const n = ids.size;
  // Sort keys id·n + pos must fit in i32 (with the invalid-id bucket v·n + pos).
  if ((vocab + 1) * n > 0x7fffffff) throw new ShapeError(`embeddingBackward: (V + 1)·N = ${(vocab + 1) * n} over 2³¹ − 1 for ids ${fmt(ids.shape)}, V = ${vocab}`);
  return launched(EMB.embeddingBackward(ids, dy, vocab, paddingIdx, label('embeddingBackward', ids, dy)));
}

// ---- cross-entropy -----------------------------------------------------------------------------

/** Per-row softmax cross-entropy: logits [N, V], targets i32 [N] → loss [N] (0 where target == ignoreIndex). */
export function softmaxCrossEntropy(logits: Tensor, targets: Tensor, opts: { ignoreIndex?: number } = {}): Tensor {
  const ignoreIndex = opts.ignoreIndex ?? -100;
  sameDevice('softmaxCrossEntropy', [logits, targets]);
  needF32('softmaxCrossEntropy', logits);
  if (targets.dtype !== 'i32') throw new TypeError(`softmaxCrossEntropy: targets must be i32, got ${targets.dtype} ${fmt(targets.shape)}`);
  if (logits.rank !== 2 || targets.rank !== 1 || targets.shape[0] !== logits.shape[0]) {
    throw new ShapeError(`softmaxCrossEntropy: logits ${fmt(logits.shape)} and targets ${fmt(targets.shape)} must be [N, V] and [N]`);
  }
  const [loss, lse] = launched(CE.crossEntropy(logits, targets, ignoreIndex, label('softmaxCrossEntropy', logits, targets)));
  track('softmaxCrossEntropy', loss, [logits, targets], { ignoreIndex }, [logits, targets, lse]);
  lse.dispose();
  return loss;
}

/** Fused backward: dlogits = (softmax − onehot(t)) · g_row, 0 on ignored rows. */
export function crossEntropyBackward(logits: Tensor, targets: Tensor, lse: Tensor, g: Tensor, ignoreIndex: number): Tensor {
  return launched(CE.crossEntropyBackward(logits, targets, lse, g, ignoreIndex, label('crossEntropyBackward', logits, targets)));
}

/** Mean cross-entropy over the rows whose target is not ignoreIndex (0 when every row is ignored). */
export function crossEntropy(logits: Tensor, targets: Tensor, opts: { ignoreIndex?: number } = {}): Tensor {
  const ignoreIndex = opts.ignoreIndex ?? -100;
  const rowLoss = softmaxCrossEntropy(logits, targets, { ignoreIndex });
  const total = sum(rowLoss);
  const tf = cast(targets, 'f32'), ig = fill([], ignoreIndex, 'f32', targets.device);
  const keepRow = ne(tf, ig), count = sum(keepRow), denom = maxs(count, 1);
  const y = div(total, denom);
  for (const t of [rowLoss, total, tf, ig, keepRow, count, denom]) t.dispose();
  return y;
}

// ---- linear (matmul with a fused epilogue) -------------------------------------------------------

/**
 * y = x·wᵀ + b, or gelu(x·wᵀ + b) (exact erf form) with `gelu`: x [N, in], w [out, in] (PyTorch layout),
 * b [out] → [N, out]. One matmul whose store adds the bias (and applies GELU; with split-K, the fixed-order
 * sum does), instead of separate bias-add and GELU passes over [N, out]. Saved for backward: x, w and, with
 * GELU, the pre-activation x·wᵀ + b (written by the same launch; GELU's derivative needs it, and
 * recomputing it would cost a second matmul).
 */
export function linear(x: Tensor, w: Tensor, b: Tensor, opts: { gelu?: boolean } = {}): Tensor {
  sameDevice('linear', [x, w, b]);
  needF32('linear', x, w, b);
  const act = opts.gelu ?? false;
  if (x.rank !== 2 || w.rank !== 2 || b.rank !== 1 || x.shape[1] !== w.shape[1] || b.shape[0] !== w.shape[0]) {
    throw new ShapeError(`linear: x ${fmt(x.shape)}, weight ${fmt(w.shape)}, bias ${fmt(b.shape)} must be [N, in], [out, in], [out]`);
  }
  const lbl = `linear${act ? '+gelu' : ''} ${fmt(x.shape)} · ${fmt(w.shape)}ᵀ + ${fmt(b.shape)}`;
  // The pre-activation is written only when a backward will read it.
  const keepPre = act && isGradEnabled() && [x, w, b].some((t) => t.requiresGrad);
  const r = MM.matmul(x, w, { transB: true, bias: b, gelu: act, keepPre, f16: getPrecision() === 'f16' }, lbl);
  const y = launched(r.y), pre = r.pre ? launched(r.pre) : null;
  track('linear', y, [x, w, b], { gelu: act }, pre ? [x, w, pre] : [x, w]);
  pre?.dispose();
  return y;
}

// ---- attention ---------------------------------------------------------------------------------

export interface AttentionOptions {
  /** Heads nh: H = nh·dh, head h is columns h·dh … h·dh + dh − 1 of q, k, v. */
  heads: number;
  /** f32 [B, T]: 1 keep, 0 padding (additive −10000 as BERT/ELECTRA). */
  mask?: Tensor;
  /** Default 1/√dh. */
  scale?: number;
  /** Dropout on the attention probabilities (only when training and p > 0; then one stream of rng). */
  dropout?: { p: number; rng: Rng | null };
  training: boolean;
}

/**
 * Multi-head self-attention of the projections q, k, v [B, T, H] → [B, T, H]:
 * per head, drop(softmax(q·kᵀ·scale + (1 − mask)·(−10000)))·v, the heads side by side as they came in.
 * The same numbers as the composition (heads split, matmul, softmax with mask and scale, dropout on the
 * probabilities [B, nh, T, T] with the same rng stream, matmul, heads merged) without its [B, nh, T, T]
 * tensors: the kernels (src/kernels/attention.ts) save only the output and the log-sum-exp per row.
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions): Tensor {
  const { heads, mask } = opts;
  const ins = mask ? [q, k, v, mask] : [q, k, v];
  sameDevice('attention', ins);
  needF32('attention', ...ins);
  const what = `q ${fmt(q.shape)}, k ${fmt(k.shape)}, v ${fmt(v.shape)}`;
  if (q.rank !== 3 || !sameShape(q.shape, k.shape) || !sameShape(q.shape, v.shape)) throw new ShapeError(`attention: ${what} must all be [B, T, H]`);
  const [B, T, H] = q.shape;
  if (!Number.isInteger(heads) || heads < 1 || H % heads !== 0 || H === 0) throw new ShapeError(`attention: ${heads} heads do not divide H = ${H} of ${what}`);
  if (mask && (mask.rank !== 2 || mask.shape[0] !== B || mask.shape[1] !== T)) throw new ShapeError(`attention: mask ${fmt(mask.shape)} does not match ${what} (want [${B}, ${T}] = [batch, keys])`);
  AT.checkAttention(q, heads); // before a dropout stream is drawn
  const dh = H / heads, scale = opts.scale ?? 1 / Math.sqrt(dh);
  const p = opts.dropout?.p ?? 0;
  if (!(p >= 0 && p < 1)) throw new RangeError(`attention: dropout rate must be in [0, 1), got ${p}`);
  let drop: DropoutCtx | null = null;
  if (opts.training && p > 0) {
    const rng = opts.dropout?.rng;
    if (!rng) throw new Error('attention: training with dropout needs dropout.rng');
    // The composed path's dropout counts elements of [B, nh, T, T] in u32 (as ops.dropout).
    if (B * heads * T * T >= 2 ** 32) throw new ShapeError(`attention: dropout over [${B}, ${heads}, ${T}, ${T}] probabilities has over 2^32 elements`);
    drop = { p, k0: rng.key[0], k1: rng.key[1], stream: rng.nextStream() };
  }
  const [o, lse] = launched(AT.attentionForward(q, k, v, mask ?? null, { heads, scale, drop }, label('attention', ...ins)));
  track('attention', o, ins, { heads, scale, drop, masked: !!mask }, mask ? [q, k, v, o, lse, mask] : [q, k, v, o, lse]);
  lse.dispose();
  return o;
}

/** Fused attention backward: [dq, dk, dv] from the saved inputs, output o, log-sum-exp lse and the upstream dO. */
export function attentionBackward(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | null, o: Tensor, lse: Tensor, dO: Tensor, ctx: OpCtx['attention']): Tensor[] {
  return launched(AT.attentionBackward(q, k, v, mask, o, lse, dO, { heads: ctx.heads, scale: ctx.scale, drop: ctx.drop }, label('attentionBackward', q, dO)));
}
