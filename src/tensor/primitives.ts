// The differentiable primitives: every op that records a graph node, named with the context its backward
// rule receives. `OpName` keys the rule table (src/autograd/rules.ts) and the op test table
// (test/ops.test.ts), so the compiler rejects a primitive missing from either.
// Unary primitives come from the elementwise table (src/kernels/elementwise.ts), which holds each one's
// forward and derivative; their context is the scalar c. The recipe for adding one is in ops.ts.

import type { UnaryOp } from '../kernels/elementwise.js';

/** What regenerates a dropout mask: the Philox key words, the stream id and the rate. */
export interface DropoutCtx { p: number; k0: number; k1: number; stream: number }

type UnaryCtx = { [K in UnaryOp]: { c: number } };

interface OtherCtx {
  // binary, broadcasting
  add: object; sub: object; mul: object; div: object; pow: object; maximum: object; minimum: object;
  bceLogits: object;
  where: object;
  // reductions
  sum: { axes: number[] };
  max: { axes: number[] };
  // views
  reshape: object;
  permute: { perm: number[] };
  slice: { starts: number[]; ends: number[] };
  pad: { starts: number[]; shape: number[] };
  expand: object;
  concat: { axis: number };
  matmul: { transA: boolean; transB: boolean };
  dropout: DropoutCtx;
  // fused (src/tensor/nnops.ts; kernel families softmax, layernorm, embedding, cross_entropy, matmul, attention)
  softmax: { scale: number };
  logSoftmax: object;
  layerNorm: { eps: number };
  embedding: { paddingIdx: number };
  softmaxCrossEntropy: { ignoreIndex: number };
  linear: { gelu: boolean };
  // saved: q, k, v, the output, its log-sum-exp [B, nh, T] and the mask (when masked); drop: the
  // dropout draw the backward regenerates (null: none)
  attention: { heads: number; scale: number; drop: DropoutCtx | null; masked: boolean };
}

/** Every differentiable primitive and the context its backward rule receives. */
export type OpCtx = UnaryCtx & OtherCtx;
export type OpName = keyof OpCtx;
