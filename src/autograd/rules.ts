// Backward rules, one per differentiable primitive, typed over OpName so a missing rule is a compile
// error. A rule gets the upstream gradient g (shape of the op's output) and the node (inputs, saved
// tensors, context) and returns one gradient per input (null: none). Rules run under noGrad inside
// a scope: temporaries they create are freed when they return. Broadcast inputs get sumTo(g).
// Unary primitives share one rule: their derivative is part of their entry in the elementwise table.

import type { UnaryOp } from '../kernels/elementwise.js';
import * as o from '../tensor/ops.js';
import * as nn from '../tensor/nnops.js';
import type { OpCtx, OpName } from '../tensor/primitives.js';
import type { GradNode, Tensor } from '../tensor/tensor.js';

type Rule<K extends OpName> = (g: Tensor, n: GradNode<K> & { ctx: OpCtx[K] }) => (Tensor | null)[];

const inv = (perm: number[]) => perm.map((_, i) => perm.indexOf(i));

/** dx = g·f'(saved, c), one fused map per unary primitive. */
const unaryRule = (op: UnaryOp): Rule<UnaryOp> => (g, n) => [o.unaryGrad(op, n.saved[0], g, n.ctx.c)];
const unaryRules = Object.fromEntries(o.UNARY_OPS.map((op) => [op, unaryRule(op)])) as { [K in UnaryOp]: Rule<K> };

export const backwardRules: { [K in OpName]: Rule<K> } = {
  ...unaryRules,

  add: (g, n) => [o.sumTo(g, n.inputs[0].shape), o.sumTo(g, n.inputs[1].shape)],
  sub: (g, n) => [o.sumTo(g, n.inputs[0].shape), o.sumTo(o.neg(g), n.inputs[1].shape)],
  mul: (g, n) => [o.sumTo(o.mul(g, n.saved[1]), n.inputs[0].shape), o.sumTo(o.mul(g, n.saved[0]), n.inputs[1].shape)],
  div: (g, n) => {
    const [a, b] = n.saved;
    const ga = o.div(g, b);                                                   // 1/b
    return [o.sumTo(ga, a.shape), o.sumTo(o.neg(o.div(o.mul(ga, a), b)), b.shape)]; // -a/b²
  },
  pow: (g, n) => {
    const [a, b] = n.saved;
    const y = o.pow(a, b);
    const ga = o.mul(g, o.mul(b, o.pow(a, o.adds(b, -1))));                   // b a^{b-1}
    const gb = o.mul(g, o.mul(y, o.log(a)));                                  // a^b log a
    return [o.sumTo(ga, a.shape), o.sumTo(gb, b.shape)];
  },
  // Ties send the gradient to a (≥ for maximum, ≤ for minimum), deterministically.
  maximum: (g, n) => {
    const m = o.ge(n.saved[0], n.saved[1]);
    return [o.sumTo(o.mul(g, m), n.inputs[0].shape), o.sumTo(o.mul(g, o.rsubs(m, 1)), n.inputs[1].shape)];
  },
  minimum: (g, n) => {
    const m = o.le(n.saved[0], n.saved[1]);
    return [o.sumTo(o.mul(g, m), n.inputs[0].shape), o.sumTo(o.mul(g, o.rsubs(m, 1)), n.inputs[1].shape)];
  },
  // d/dx = σ(x) - y; d/dy = -x (targets are usually constants, but the rule is complete)
  bceLogits: (g, n) => [
    o.sumTo(o.mul(g, o.binary('bceLogitsGrad', n.saved[0], n.saved[1])), n.inputs[0].shape),
    o.sumTo(o.neg(o.mul(g, n.saved[0])), n.inputs[1].shape),
  ],
  where: (g, n) => {
    const zero = o.fill([], 0, 'f32', g.device);
    const c = n.saved[0];
    return [null, o.sumTo(o.where(c, g, zero), n.inputs[1].shape), o.sumTo(o.where(c, zero, g), n.inputs[2].shape)];
  },

  sum: (g, n) => {
    const x = n.inputs[0];
    const kept = x.shape.map((d, i) => (n.ctx.axes.includes(i) ? 1 : d));
    return [o.expand(o.reshape(g, kept), [...x.shape])];
  },
  // Gradient shared equally among tied maxima (as torch.amax).
  max: (g, n) => {
    const [x, y] = n.saved;
    const kept = x.shape.map((d, i) => (n.ctx.axes.includes(i) ? 1 : d));
    const mask = o.eq(x, o.reshape(y, kept));
    const count = o.sum(mask, n.ctx.axes, true);
    return [o.mul(mask, o.div(o.reshape(g, kept), count))];
  },

  reshape: (g, n) => [o.reshape(g, [...n.inputs[0].shape])],
  permute: (g, n) => [o.permute(g, inv(n.ctx.perm))],
  slice: (g, n) => [o.pad(g, n.ctx.starts, [...n.inputs[0].shape])],
  pad: (g, n) => [o.slice(g, n.ctx.starts, n.ctx.starts.map((s, d) => s + n.inputs[0].shape[d]))],
  expand: (g, n) => [o.sumTo(g, n.inputs[0].shape)],
  concat: (g, n) => {
    let off = 0;
    return n.inputs.map((x) => {
      const starts = x.shape.map((_, d) => (d === n.ctx.axis ? off : 0));
      const ends = x.shape.map((s, d) => (d === n.ctx.axis ? off + s : s));
      off += x.shape[n.ctx.axis];
      return o.slice(g, starts, ends);
    });
  },
  // C = op(A)·op(B). Each gradient is one matmul with flags (see the derivation in kernels/matmul.ts);
  // a shared (batch-1) operand sums its per-batch gradients.
  matmul: (g, n) => {
    const [a, b] = n.saved;
    const { transA, transB } = n.ctx;
    let ga: Tensor, gb: Tensor;
    if (!transA && !transB) { ga = o.matmul(g, b, { transB: true }); gb = o.matmul(a, g, { transA: true }); }
    else if (transA && !transB) { ga = o.matmul(b, g, { transB: true }); gb = o.matmul(a, g); }
    else if (!transA && transB) { ga = o.matmul(g, b); gb = o.matmul(g, a, { transA: true }); }
    else { ga = o.matmul(b, g, { transA: true, transB: true }); gb = o.matmul(g, a, { transA: true, transB: true }); }
    return [reduceBatch(ga, a.shape), reduceBatch(gb, b.shape)];
  },
  // y = x · m/(1-p): dx = g · m/(1-p), the same mask regenerated from (key, stream)
  dropout: (g, n) => [o.dropoutApply(g, n.ctx)],

  // Fused ops (src/kernels/{softmax,layernorm,embedding,cross_entropy}.ts hold the math); masks,
  // ids and targets get no gradient.
  softmax: (g, n) => [nn.softmaxBackward(n.saved[0], g, n.ctx.scale, false), null], // scale·y∘(dy − Σ dy∘y)
  // y = act(x·wᵀ + b): with GELU the saved pre-activation gives dpre = g·gelu'(pre); then
  // dx = dpre·w, dw = dpreᵀ·x, db = column sums of dpre.
  linear: (g, n) => {
    const [x, w, pre] = n.saved;
    const gp = n.ctx.gelu ? o.unaryGrad('gelu', pre, g, 0) : g;
    return [o.matmul(gp, w), o.matmul(gp, x, { transA: true }), o.sum(gp, 0)];
  },
  logSoftmax: (g, n) => [nn.softmaxBackward(n.saved[0], g, 1, true)],              // dy − eʸ Σ dy
  layerNorm: (g, n) => {
    const [x, w, mean, rstd] = n.saved;
    return nn.layerNormBackward(x, w, mean, rstd, g);                                 // [dx, dw, db]
  },
  embedding: (g, n) => [null, nn.embeddingBackward(n.saved[0], g, n.inputs[1].shape[0], n.ctx.paddingIdx)], // scatter-add, deterministic
  softmaxCrossEntropy: (g, n) => {
    const [logits, targets, lse] = n.saved;
    return [nn.crossEntropyBackward(logits, targets, lse, g, n.ctx.ignoreIndex), null]; // (softmax − onehot)·g
  },
  // FlashAttention-2: P recomputed from the saved log-sum-exp, the dropout mask from its draw; no mask gradient.
  attention: (g, n) => {
    const [q, k, v, out, lse, mask] = n.saved;
    const [dq, dk, dv] = nn.attentionBackward(q, k, v, mask ?? null, out, lse, g, n.ctx);
    return n.ctx.masked ? [dq, dk, dv, null] : [dq, dk, dv];
  },
};

/** Sums a per-batch gradient [..., r, c] back to an operand that was shared across the batch. */
function reduceBatch(g: Tensor, shape: readonly number[]): Tensor {
  if (g.size === shape.reduce((x, y) => x * y, 1)) return o.reshape(g, [...shape]);
  const flat = o.reshape(g, [-1, g.shape[g.rank - 2], g.shape[g.rank - 1]]);
  return o.reshape(o.sum(flat, 0), [...shape]);
}
