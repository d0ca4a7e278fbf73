// The fused neural-net ops: softmax (with attention scale and key-padding mask), logSoftmax, layerNorm,
// embedding (+ checkIds), softmaxCrossEntropy (+ crossEntropy, its mean), linear (matmul + bias + GELU). Each forward is one fused
// kernel launch recorded as one autograd node (OpCtx in ops.ts, rule in autograd/rules.ts); the
// `*Backward` functions are the fused backward launches those rules call (no graph of their own).
// The compositions from primitives they replace are tested against them in test/kernels/*.

import type { Device } from '../device/device.js';
import { type Shape, ShapeError, fmt } from '../device/shape.js';
import { Tensor } from './tensor.js';
import { isGradEnabled } from '../autograd/tape.js';
import { add, cast, fill, gelu, label, launch, launchInto, matmul, maxs, ne, needF32, sameDevice, sum, div, track } from './ops.js';
import { matmulKernel, selectMatmul } from '../kernels/matmul.js';
import { softmaxBackward as smBwdKernel, softmaxForward } from '../kernels/softmax.js';
import { layerNormBackward as lnBwdKernel, layerNormBlocks, layerNormForward, layerNormParamReduce } from '../kernels/layernorm.js';
import { SORT_CHUNK, embeddingAccumulate, embeddingForward, embeddingKeys, idCheck, sortGlobalStep, sortLocal } from '../kernels/embedding.js';
import { crossEntropyBackward as ceBwdKernel, crossEntropyForward } from '../kernels/cross_entropy.js';

const f32 = (shape: Shape) => ({ shape, dtype: 'f32' as const });

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
  const d = sameDevice('softmax', ins);
  needF32('softmax', ...ins);
  const { rows, n } = lastDim('softmax', x);
  let rowsPerBatch = Math.max(1, rows);
  if (mask) {
    if (x.rank < 2 || mask.rank !== 2 || mask.shape[0] !== x.shape[0] || mask.shape[1] !== n) {
      throw new ShapeError(`softmax: mask ${fmt(mask.shape)} does not match scores ${fmt(x.shape)} (want [${x.rank >= 2 ? x.shape[0] : 'B'}, ${n}] = [batch, keys])`);
    }
    rowsPerBatch = Math.max(1, rows / x.shape[0]);
  }
  const [y] = launch(softmaxForward, { rows, n, scale, log: false, masked: !!mask, rowsPerBatch }, ins, [f32(x.shape)], label('softmax', ...ins), d);
  return track('softmax', y, ins, { scale }, [y]);
}

/** log(softmax(x)) over the last axis, computed as x − max − log Σ exp(x − max). */
export function logSoftmax(x: Tensor): Tensor {
  const d = sameDevice('logSoftmax', [x]);
  needF32('logSoftmax', x);
  const { rows, n } = lastDim('logSoftmax', x);
  const [y] = launch(softmaxForward, { rows, n, scale: 1, log: true, masked: false, rowsPerBatch: Math.max(1, rows) }, [x], [f32(x.shape)], label('logSoftmax', x), d);
  return track('logSoftmax', y, [x], {}, [y]);
}

/** Fused backward of softmax (log = false) or logSoftmax (log = true) from the saved output y. */
export function softmaxBackward(y: Tensor, dy: Tensor, scale: number, log: boolean): Tensor {
  const { rows, n } = lastDim('softmaxBackward', y);
  return launch(smBwdKernel, { rows, n, scale, log }, [y, dy], [f32(y.shape)], label('softmaxBackward', y, dy))[0];
}

// ---- layerNorm ---------------------------------------------------------------------------------

/** LayerNorm over the last dim: x [..., C], weight [C], bias [C]; biased variance; eps 1e-12 as ELECTRA. */
export function layerNorm(x: Tensor, weight: Tensor, bias: Tensor, eps = 1e-12): Tensor {
  const d = sameDevice('layerNorm', [x, weight, bias]);
  needF32('layerNorm', x, weight, bias);
  const { rows, n } = lastDim('layerNorm', x);
  if (weight.rank !== 1 || bias.rank !== 1 || weight.shape[0] !== n || bias.shape[0] !== n) {
    throw new ShapeError(`layerNorm: weight ${fmt(weight.shape)} and bias ${fmt(bias.shape)} must both be [${n}] for x ${fmt(x.shape)}`);
  }
  const stats = x.shape.slice(0, -1);
  const [y, mean, rstd] = launch(layerNormForward, { rows, n, eps }, [x, weight, bias], [f32(x.shape), f32(stats), f32(stats)], label('layerNorm', x, weight, bias), d);
  track('layerNorm', y, [x, weight, bias], { eps }, [x, weight, mean, rstd]);
  mean.dispose(); rstd.dispose();
  return y;
}

/** Fused LayerNorm backward: [dx, dweight, dbias] from x, weight and the saved mean, rstd. */
export function layerNormBackward(x: Tensor, weight: Tensor, mean: Tensor, rstd: Tensor, dy: Tensor): Tensor[] {
  const { rows, n } = lastDim('layerNormBackward', x);
  const { rb, nb } = layerNormBlocks(rows);
  const lbl = label('layerNormBackward', x, dy);
  const [dx, part] = launch(lnBwdKernel, { rows, n, rb, nb }, [x, weight, mean, rstd, dy], [f32(x.shape), f32([2, nb, n])], lbl);
  const [dw, db] = launch(layerNormParamReduce, { n, nb }, [part], [f32([n]), f32([n])], lbl);
  part.dispose();
  return [dx, dw, db];
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
  const d = checkEmbeddingArgs('embedding', ids, table);
  const [v, e] = table.shape;
  const paddingIdx = opts.paddingIdx ?? -1;
  if (!Number.isInteger(paddingIdx) || paddingIdx < -1 || paddingIdx >= v) throw new RangeError(`embedding: paddingIdx ${opts.paddingIdx} is outside [0, ${v}) for table ${fmt(table.shape)}`);
  const [y] = launch(embeddingForward, { n: ids.size, v, e }, [ids, table], [f32([...ids.shape, e])], label('embedding', ids, table), d);
  return track('embedding', y, [ids, table], { paddingIdx }, [ids]);
}

/** Rejects (RangeError naming position, id and V) if any id is outside [0, vocab). One 2-int readback. */
export async function checkIds(ids: Tensor, vocab: number): Promise<void> {
  sameDevice('checkIds', [ids]);
  if (ids.dtype !== 'i32') throw new TypeError(`checkIds: ids must be i32, got ${ids.dtype} ${fmt(ids.shape)}`);
  const [st] = launch(idCheck, { n: ids.size, v: vocab }, [ids], [{ shape: [2], dtype: 'i32' }], label('checkIds', ids));
  const [pos, id] = await st.data();
  st.dispose();
  if (pos >= 0) throw new RangeError(`embedding: id ${id} at flat position ${pos} of ids ${fmt(ids.shape)} is outside [0, ${vocab})`);
}

/** Deterministic dTable [V, E] = Σ over positions with id v ≠ paddingIdx of dy rows (position order), without float atomics. */
export function embeddingBackward(ids: Tensor, dy: Tensor, vocab: number, paddingIdx = -1): Tensor {
  const n = ids.size, e = dy.shape[dy.rank - 1];
  // Sort keys id·n + pos must fit in i32 (with the invalid-id bucket v·n + pos).
  if ((vocab + 1) * n > 0x7fffffff) throw new ShapeError(`embeddingBackward: (V + 1)·N = ${(vocab + 1) * n} over 2³¹ − 1 for ids ${fmt(ids.shape)}, V = ${vocab}`);
  const lbl = label('embeddingBackward', ids, dy);
  const dt = fill([vocab, e], 0, 'f32', dy.device);
  if (n === 0) return dt;
  const npad = 2 ** Math.ceil(Math.log2(Math.max(2, n)));
  const chunk = Math.min(SORT_CHUNK, npad);
  const [keys] = launch(embeddingKeys, { n, npad, v: vocab, pad: paddingIdx }, [ids], [{ shape: [npad], dtype: 'i32' }], lbl);
  launchInto(sortLocal, { npad, chunk, full: true, k: 0 }, [], [keys], lbl);
  for (let k = 2 * chunk; k <= npad; k *= 2) {
    for (let j = k / 2; j >= chunk; j /= 2) launchInto(sortGlobalStep, { npad, k, j }, [], [keys], lbl);
    launchInto(sortLocal, { npad, chunk, full: false, k }, [], [keys], lbl);
  }
  launchInto(embeddingAccumulate, { n, v: vocab, e }, [keys, dy], [dt], lbl);
  keys.dispose();
  return dt;
}

// ---- cross-entropy -----------------------------------------------------------------------------

/** Per-row softmax cross-entropy: logits [N, V], targets i32 [N] → loss [N] (0 where target == ignoreIndex). */
export function softmaxCrossEntropy(logits: Tensor, targets: Tensor, opts: { ignoreIndex?: number } = {}): Tensor {
  const ignoreIndex = opts.ignoreIndex ?? -100;
  const d = sameDevice('softmaxCrossEntropy', [logits, targets]);
  needF32('softmaxCrossEntropy', logits);
  if (targets.dtype !== 'i32') throw new TypeError(`softmaxCrossEntropy: targets must be i32, got ${targets.dtype} ${fmt(targets.shape)}`);
  if (logits.rank !== 2 || targets.rank !== 1 || targets.shape[0] !== logits.shape[0]) {
    throw new ShapeError(`softmaxCrossEntropy: logits ${fmt(logits.shape)} and targets ${fmt(targets.shape)} must be [N, V] and [N]`);
  }
  const [rows, v] = logits.shape;
  const [loss, lse] = launch(crossEntropyForward, { rows, v, ignore: ignoreIndex }, [logits, targets], [f32([rows]), f32([rows])], label('softmaxCrossEntropy', logits, targets), d);
  track('softmaxCrossEntropy', loss, [logits, targets], { ignoreIndex }, [logits, targets, lse]);
  lse.dispose();
  return loss;
}

/** Fused backward: dlogits = (softmax − onehot(t)) · g_row, 0 on ignored rows. */
export function crossEntropyBackward(logits: Tensor, targets: Tensor, lse: Tensor, g: Tensor, ignoreIndex: number): Tensor {
  const [rows, v] = logits.shape;
  return launch(ceBwdKernel, { rows, v, ignore: ignoreIndex }, [logits, targets, lse, g], [f32(logits.shape)], label('crossEntropyBackward', logits, targets))[0];
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
 * b [out] → [N, out]. One matmul launch whose store adds the bias (and applies GELU), instead of
 * separate bias-add and GELU passes over [N, out]. Saved for backward: x, w and, with GELU, the
 * pre-activation x·wᵀ + b (written by the same launch; GELU's derivative needs it, and recomputing it
 * would cost a second matmul). When the selector picks split-K for the shape, the epilogue cannot run
 * in the store and this falls back to matmul → add (→ gelu), which records the same gradients.
 */
export function linear(x: Tensor, w: Tensor, b: Tensor, opts: { gelu?: boolean } = {}): Tensor {
  const d = sameDevice('linear', [x, w, b]);
  needF32('linear', x, w, b);
  const act = opts.gelu ?? false;
  if (x.rank !== 2 || w.rank !== 2 || b.rank !== 1 || x.shape[1] !== w.shape[1] || b.shape[0] !== w.shape[0]) {
    throw new ShapeError(`linear: x ${fmt(x.shape)}, weight ${fmt(w.shape)}, bias ${fmt(b.shape)} must be [N, in], [out, in], [out]`);
  }
  const [m, k] = x.shape, n = w.shape[0];
  const p = { batch: 1, m, n, k, transA: false, transB: true, strideA: 0, strideB: 0 };
  const config = d.caps ? selectMatmul(p, d.caps) : undefined;
  if ((config?.splits ?? 1) > 1) {
    const y = add(matmul(x, w, { transB: true }), b);
    return act ? gelu(y) : y;
  }
  const lbl = `linear${act ? '+gelu' : ''} ${fmt(x.shape)} · ${fmt(w.shape)}ᵀ + ${fmt(b.shape)}`;
  // The pre-activation is written only when a backward will read it.
  const pre = act && isGradEnabled() && [x, w, b].some((t) => t.requiresGrad);
  const epilogue = !act ? 'bias' as const : pre ? 'biasGeluPre' as const : 'biasGelu' as const;
  const outs = launch(matmulKernel, { ...p, config, epilogue }, [x, w, b], pre ? [f32([m, n]), f32([m, n])] : [f32([m, n])], lbl, d);
  track('linear', outs[0], [x, w, b], { gelu: act }, pre ? [x, w, outs[1]] : [x, w]);
  if (pre) outs[1].dispose();
  return outs[0];
}
