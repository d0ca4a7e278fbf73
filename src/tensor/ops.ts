// The primitive ops: shape checks, output allocation, the kernel launch and the autograd record.
// Adding a primitive touches: (1) `OpCtx` below (its name and saved context), (2) its kernel family
// in src/kernels (CPU reference + WGSL side by side), (3) its backward rule in src/autograd/rules.ts
// (tsc fails until the rule exists), (4) one line in test/ops.test.ts. A composite op (mean, softmax
// as a composition, …) is one function here built from primitives, with no rule of its own.
// Views are materialised (contiguous outputs) except reshape, which shares storage.

import type { Device, Kernel, Storage } from '../device/device.js';
import type { DType } from '../device/dtype.js';
import { type Shape, ShapeError, broadcastAxes, broadcastShapes, checkShape, fmt, normAxis, numel, sameShape, stridesOf } from '../device/shape.js';
import { Tensor, getDevice, retain } from './tensor.js';
import { record, isGradEnabled } from '../autograd/tape.js';
import { type BinaryOp, type UnaryOp, castKernel, mapKernel } from '../kernels/elementwise.js';
import { type ReduceOp, reduceKernel } from '../kernels/reduce.js';
import { copyKernel, fillKernel } from '../kernels/copy.js';
import { type MatmulConfig, matmulKernel, selectMatmul, splitSumKernel } from '../kernels/matmul.js';
import { dropoutKernel } from '../kernels/random.js';
import type { Rng } from './random.js';

/** Every differentiable primitive and the context its backward rule receives. */
export interface OpCtx {
  // unary (ctx: the scalar c)
  neg: { c: number }; exp: { c: number }; log: { c: number }; sqrt: { c: number }; rsqrt: { c: number };
  tanh: { c: number }; erf: { c: number }; gelu: { c: number }; relu: { c: number }; sigmoid: { c: number };
  abs: { c: number }; square: { c: number }; adds: { c: number }; muls: { c: number }; pows: { c: number };
  rsubs: { c: number }; maxs: { c: number };
  // binary
  add: object; sub: object; mul: object; div: object; pow: object; maximum: object; minimum: object;
  bceLogits: object;
  where: object;
  sum: { axes: number[] };
  max: { axes: number[] };
  reshape: object;
  permute: { perm: number[] };
  slice: { starts: number[]; ends: number[] };
  pad: { starts: number[]; shape: number[] };
  expand: object;
  concat: { axis: number };
  matmul: { transA: boolean; transB: boolean };
  dropout: DropoutCtx;
  // fused (src/tensor/nnops.ts; kernels softmax, layernorm, embedding, cross_entropy)
  softmax: { scale: number };
  logSoftmax: object;
  layerNorm: { eps: number };
  embedding: { paddingIdx: number };
  softmaxCrossEntropy: { ignoreIndex: number };
  linear: { gelu: boolean };
}
export type OpName = keyof OpCtx;

type DiffUnary = Extract<UnaryOp, OpName>;
type DiffBinary = Extract<BinaryOp, OpName>;

// ---- plumbing ----------------------------------------------------------------------------------

export function label(op: string, ...ts: Tensor[]): string {
  return `${op}(${ts.map((t) => fmt(t.shape)).join(', ')})`;
}

export function sameDevice(op: string, ts: Tensor[]): Device {
  const d = ts[0].device;
  for (const t of ts) {
    t.check(op);
    if (t.device !== d) throw new Error(`${op}: inputs live on different devices (${d.name} and ${t.device.name})`);
  }
  return d;
}

export function needF32(op: string, ...ts: Tensor[]): void {
  for (const t of ts) if (t.dtype !== 'f32') throw new TypeError(`${op}: expected f32 input, got ${t.dtype} tensor ${fmt(t.shape)}`);
}

/** Allocates outputs, launches the kernel, wraps the outputs. */
export function launch<P>(kernel: Kernel<P>, p: P, ins: Tensor[], outs: { shape: Shape; dtype: DType }[], lbl: string, device = ins[0]?.device ?? getDevice()): Tensor[] {
  const storages = outs.map((o) => device.alloc(numel(o.shape), o.dtype, lbl));
  device.run(kernel, p, ins.map((t) => t.storage), storages, lbl);
  return outs.map((o, i) => new Tensor(storages[i], o.shape, o.dtype, device));
}

/** Launches a kernel that writes into existing tensors (in-place: optimizer states, accumulators). */
export function launchInto<P>(kernel: Kernel<P>, p: P, ins: Tensor[], outs: Tensor[], lbl: string): void {
  const device = outs[0].device;
  device.run(kernel, p, ins.map((t) => t.check(lbl).storage), outs.map((t) => t.check(lbl).storage), lbl);
}

/** Attaches a graph node when grad is on and an input requires grad. */
export function track<K extends OpName>(op: K, out: Tensor, inputs: Tensor[], ctx: OpCtx[K], saved: Tensor[] = []): Tensor {
  if (isGradEnabled() && inputs.some((t) => t.requiresGrad)) record(op, out, inputs, ctx, saved);
  return out;
}

// ---- elementwise -------------------------------------------------------------------------------

function unary(op: UnaryOp, x: Tensor, c = 0): Tensor {
  const d = sameDevice(op, [x]);
  needF32(op, x);
  const [y] = launch(mapKernel, { kind: 'unary', op, out: x.shape, ins: [x.shape], c, dtypes: ['f32'] }, [x], [{ shape: x.shape, dtype: 'f32' }], label(op, x), d);
  return y;
}

function tu(op: DiffUnary, saveOut: boolean) {
  return (x: Tensor, c = 0): Tensor => {
    const y = unary(op, x, c);
    return track(op, y, [x], { c }, saveOut ? [y] : [x]);
  };
}

export const neg = tu('neg', false), exp = tu('exp', true), log = tu('log', false), sqrt = tu('sqrt', true);
export const rsqrt = tu('rsqrt', true), tanh = tu('tanh', true), erf = tu('erf', false), gelu = tu('gelu', false);
export const relu = tu('relu', false), sigmoid = tu('sigmoid', true), abs = tu('abs', false), square = tu('square', false);
export const adds = tu('adds', false), muls = tu('muls', false), pows = tu('pows', false), rsubs = tu('rsubs', false);
export const maxs = tu('maxs', false);
/** sign(x) ∈ {-1, 0, 1}; no gradient. */
export const sign = (x: Tensor): Tensor => binary('gt', x, scalarLike(x, 0)).mul(2).sub(1).mul(binary('ne', x, scalarLike(x, 0)));

function scalarLike(x: Tensor, v: number): Tensor {
  return fill([], v, 'f32', x.device);
}

/** Broadcasting binary map; compare ops return f32 0/1 masks. */
export function binary(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  const d = sameDevice(op, [a, b]);
  const out = broadcastShapes(op, a.shape, b.shape);
  const [y] = launch(mapKernel, { kind: 'binary', op, out, ins: [a.shape, b.shape], c: 0, dtypes: [a.dtype, b.dtype] }, [a, b], [{ shape: out, dtype: 'f32' }], label(op, a, b), d);
  return y;
}

function tb(op: DiffBinary, save: boolean) {
  return (a: Tensor, b: Tensor): Tensor => {
    needF32(op, a, b);
    const y = binary(op, a, b);
    return track(op, y, [a, b], {}, save ? [a, b] : []);
  };
}

export const add = tb('add', false), sub = tb('sub', false), mul = tb('mul', true), div = tb('div', true);
export const pow = tb('pow', true), maximum = tb('maximum', true), minimum = tb('minimum', true);
/** Elementwise binary cross-entropy with logits (unreduced): max(x,0) - x·y + log(1+e^{-|x|}). */
export const bceLogits = tb('bceLogits', true);

export const eq = (a: Tensor, b: Tensor) => binary('eq', a, b);
export const ne = (a: Tensor, b: Tensor) => binary('ne', a, b);
export const lt = (a: Tensor, b: Tensor) => binary('lt', a, b);
export const le = (a: Tensor, b: Tensor) => binary('le', a, b);
export const gt = (a: Tensor, b: Tensor) => binary('gt', a, b);
export const ge = (a: Tensor, b: Tensor) => binary('ge', a, b);

/** where(cond ≠ 0, a, b), broadcasting all three. cond may be f32 or i32. */
export function where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  const d = sameDevice('where', [cond, a, b]);
  needF32('where', a, b);
  const out = broadcastShapes('where', cond.shape, a.shape, b.shape);
  const [y] = launch(mapKernel, { kind: 'where', op: 'where', out, ins: [cond.shape, a.shape, b.shape], c: 0, dtypes: [cond.dtype, 'f32', 'f32'] }, [cond, a, b], [{ shape: out, dtype: 'f32' }], label('where', cond, a, b), d);
  return track('where', y, [cond, a, b], {}, [cond]);
}

/** Unreduced helper used by backward rules: the fused `*Grad` maps (no graph). */
export function gradMap(op: BinaryOp, a: Tensor, g: Tensor): Tensor { return binary(op, a, g); }

export function cast(x: Tensor, dtype: DType): Tensor {
  const d = sameDevice('cast', [x]);
  if (x.dtype === dtype) return reshape(x, [...x.shape]);
  const [y] = launch(castKernel, { n: x.size, from: x.dtype, to: dtype }, [x], [{ shape: x.shape, dtype }], label('cast', x), d);
  return y;
}

export function fill(shape: Shape, value: number, dtype: DType = 'f32', device: Device = getDevice()): Tensor {
  checkShape(shape, 'fill');
  const [y] = launch(fillKernel, { n: numel(shape), value, dtype }, [], [{ shape, dtype }], `fill(${fmt(shape)})`, device);
  return y;
}

// ---- reductions --------------------------------------------------------------------------------

function normAxes(x: Tensor, axes: number | number[] | undefined, op: string): number[] {
  const list = axes === undefined ? x.shape.map((_, i) => i) : Array.isArray(axes) ? axes : [axes];
  const norm = [...new Set(list.map((a) => normAxis(a, x.rank, op)))].sort((a, b) => a - b);
  return norm;
}

/** Reduces `axes` of x (sorted, unique) by chaining [outer, R, inner] passes over runs of adjacent axes. */
function reduceRaw(op: ReduceOp, x: Tensor, axes: number[]): Tensor {
  let cur = x, curShape = [...x.shape];
  // Runs of adjacent axes, reduced from the last run so earlier axis numbers stay valid.
  const runs: [number, number][] = [];
  for (const a of axes) {
    const last = runs[runs.length - 1];
    if (last && last[1] === a) last[1] = a + 1; else runs.push([a, a + 1]);
  }
  if (runs.length === 0) return reshape(x, [...x.shape]);
  if (op === 'argmax' && runs.length > 1) throw new ShapeError('argmax: one axis at a time');
  for (let r = runs.length - 1; r >= 0; r--) {
    const [s, e] = runs[r];
    const outer = numel(curShape.slice(0, s)), R = numel(curShape.slice(s, e)), inner = numel(curShape.slice(e));
    const outShape = [...curShape.slice(0, s), ...curShape.slice(e)];
    const [y] = launch(reduceKernel, { op, outer, r: R, inner }, [cur], [{ shape: outShape, dtype: op === 'argmax' ? 'i32' : 'f32' }], label(op, cur));
    if (cur !== x) cur.dispose();
    cur = y; curShape = outShape;
  }
  return cur;
}

function keptShape(shape: Shape, axes: number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

export function sum(x: Tensor, axes?: number | number[], keepDims = false): Tensor {
  sameDevice('sum', [x]); needF32('sum', x);
  const ax = normAxes(x, axes, 'sum');
  let y = reduceRaw('sum', x, ax);
  if (keepDims) { const r = y; y = reshapeRaw(r, keptShape(x.shape, ax)); r.dispose(); }
  return track('sum', y, [x], { axes: ax });
}

export function max(x: Tensor, axes?: number | number[], keepDims = false): Tensor {
  sameDevice('max', [x]); needF32('max', x);
  const ax = normAxes(x, axes, 'max');
  let y = reduceRaw('max', x, ax);
  if (keepDims) { const r = y; y = reshapeRaw(r, keptShape(x.shape, ax)); r.dispose(); }
  return track('max', y, [x], { axes: ax }, [x, y]);
}

export function mean(x: Tensor, axes?: number | number[], keepDims = false): Tensor {
  const ax = normAxes(x, axes, 'mean');
  const n = ax.reduce((acc, a) => acc * x.shape[a], 1);
  const s = sum(x, ax, keepDims);
  const y = muls(s, 1 / n);
  s.dispose();
  return y;
}

/** Index of the first maximum along one axis (i32, no gradient). */
export function argmax(x: Tensor, axis = -1): Tensor {
  sameDevice('argmax', [x]); needF32('argmax', x);
  return reduceRaw('argmax', x, [normAxis(axis, x.rank, 'argmax')]);
}

/** Sums g over the axes that broadcasting stretched, giving a tensor of `shape`. */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const axes = broadcastAxes(shape, g.shape);
  const s = sum(g, axes);
  const r = reshape(s, [...shape]);
  s.dispose();
  return r;
}

// ---- views -------------------------------------------------------------------------------------

function reshapeRaw(x: Tensor, shape: number[]): Tensor {
  retain(x.storage);
  return new Tensor(x.storage, shape, x.dtype, x.device);
}

/** Same storage, new shape; one dim may be -1. */
export function reshape(x: Tensor, shape: number[]): Tensor {
  x.check('reshape');
  const s = [...shape];
  const hole = s.indexOf(-1);
  if (hole >= 0) {
    const rest = numel(s.filter((_, i) => i !== hole));
    if (rest === 0 || x.size % rest !== 0) throw new ShapeError(`reshape: cannot reshape ${fmt(x.shape)} into ${fmt(shape)}`);
    s[hole] = x.size / rest;
  }
  checkShape(s, 'reshape');
  if (numel(s) !== x.size) throw new ShapeError(`reshape: cannot reshape ${fmt(x.shape)} (${x.size} elements) into ${fmt(shape)}`);
  return track('reshape', reshapeRaw(x, s), [x], {});
}

function copyInto(x: Tensor, out: Storage, shape: Shape, src: { offset: number; strides: number[] }, dst: { offset: number; strides: number[] }, lbl: string): void {
  x.device.run(copyKernel, { shape, src, dst, dtype: x.dtype }, [x.storage], [out], lbl);
}

export function permute(x: Tensor, perm: number[]): Tensor {
  x.check('permute');
  const p = perm.map((a) => normAxis(a, x.rank, 'permute'));
  if (p.length !== x.rank || new Set(p).size !== x.rank) throw new ShapeError(`permute: ${JSON.stringify(perm)} is not a permutation of the ${x.rank} axes of ${fmt(x.shape)}`);
  const st = stridesOf(x.shape);
  const shape = p.map((a) => x.shape[a]);
  // Moving only size-1 axes (attention heads with one head: [B, T, 1, dh] → [B, 1, T, dh]) keeps the
  // element order: share the storage instead of copying.
  const moved = p.filter((a) => x.shape[a] !== 1);
  if (moved.every((a, i) => i === 0 || moved[i - 1] < a)) return track('permute', reshapeRaw(x, shape), [x], { perm: p });
  const out = x.device.alloc(x.size, x.dtype, label('permute', x));
  copyInto(x, out, shape, { offset: 0, strides: p.map((a) => st[a]) }, { offset: 0, strides: stridesOf(shape) }, label('permute', x));
  return track('permute', new Tensor(out, shape, x.dtype, x.device), [x], { perm: p });
}

export function transpose(x: Tensor, a = -2, b = -1): Tensor {
  const perm = x.shape.map((_, i) => i);
  const i = normAxis(a, x.rank, 'transpose'), j = normAxis(b, x.rank, 'transpose');
  [perm[i], perm[j]] = [perm[j], perm[i]];
  return permute(x, perm);
}

/** x[starts[d]:ends[d]] along every dim (negative indices count from the end). */
export function slice(x: Tensor, starts: number[], ends: number[]): Tensor {
  x.check('slice');
  if (starts.length !== x.rank || ends.length !== x.rank) throw new ShapeError(`slice: starts/ends need ${x.rank} entries for ${fmt(x.shape)}`);
  const s = starts.map((v, d) => (v < 0 ? v + x.shape[d] : v));
  const e = ends.map((v, d) => (v < 0 ? v + x.shape[d] : Math.min(v, x.shape[d])));
  s.forEach((v, d) => {
    if (v < 0 || v > e[d] || e[d] > x.shape[d]) throw new ShapeError(`slice: range ${starts[d]}:${ends[d]} out of bounds for dim ${d} of ${fmt(x.shape)}`);
  });
  const shape = s.map((v, d) => e[d] - v);
  const st = stridesOf(x.shape);
  const offset = s.reduce((acc, v, d) => acc + v * st[d], 0);
  const out = x.device.alloc(numel(shape), x.dtype, label('slice', x));
  copyInto(x, out, shape, { offset, strides: st }, { offset: 0, strides: stridesOf(shape) }, label('slice', x));
  return track('slice', new Tensor(out, shape, x.dtype, x.device), [x], { starts: s, ends: e });
}

/** Zero tensor of `shape` with x written at `starts` (slice's backward). */
export function pad(x: Tensor, starts: number[], shape: number[]): Tensor {
  x.check('pad');
  const y = fill(shape, 0, x.dtype, x.device);
  const st = stridesOf(shape);
  const offset = starts.reduce((acc, v, d) => acc + v * st[d], 0);
  copyInto(x, y.storage, x.shape, { offset: 0, strides: stridesOf(x.shape) }, { offset, strides: st }, label('pad', x));
  return track('pad', y, [x], { starts, shape });
}

/** Materialised broadcast to `shape`. */
export function expand(x: Tensor, shape: number[]): Tensor {
  x.check('expand');
  const out = broadcastShapes('expand', x.shape, shape);
  if (!sameShape(out, shape)) throw new ShapeError(`expand: cannot expand ${fmt(x.shape)} to ${fmt(shape)}`);
  const y = x.device.alloc(numel(shape), x.dtype, label('expand', x));
  const st = stridesOf(x.shape);
  const strides = shape.map((d, i) => {
    const j = i - (shape.length - x.rank);
    return j < 0 || (x.shape[j] === 1 && d !== 1) ? 0 : st[j];
  });
  copyInto(x, y, shape, { offset: 0, strides }, { offset: 0, strides: stridesOf(shape) }, label('expand', x));
  return track('expand', new Tensor(y, shape, x.dtype, x.device), [x], {});
}

export function concat(xs: Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new ShapeError('concat: no tensors');
  const d = sameDevice('concat', xs);
  const ax = normAxis(axis, xs[0].rank, 'concat');
  for (const t of xs) {
    if (t.rank !== xs[0].rank || t.dtype !== xs[0].dtype || t.shape.some((v, i) => i !== ax && v !== xs[0].shape[i])) {
      throw new ShapeError(`concat: ${xs.map((u) => `${fmt(u.shape)} ${u.dtype}`).join(', ')} do not match outside axis ${ax}`);
    }
  }
  const shape = [...xs[0].shape];
  shape[ax] = xs.reduce((acc, t) => acc + t.shape[ax], 0);
  const out = d.alloc(numel(shape), xs[0].dtype, label('concat', ...xs));
  const ost = stridesOf(shape);
  let off = 0;
  for (const t of xs) {
    copyInto(t, out, t.shape, { offset: 0, strides: stridesOf(t.shape) }, { offset: off * ost[ax], strides: ost }, label('concat', ...xs));
    off += t.shape[ax];
  }
  return track('concat', new Tensor(out, shape, xs[0].dtype, d), xs, { axis: ax });
}

// ---- matmul ------------------------------------------------------------------------------------

/**
 * a: [..., M, K] (transA: [..., K, M]), b: [..., K, N] (transB: [..., N, K]) → [..., M, N].
 * Leading (batch) dims are flattened; either side may have a single matrix, which is shared.
 */
export function matmul(a: Tensor, b: Tensor, opts: { transA?: boolean; transB?: boolean; config?: MatmulConfig } = {}): Tensor {
  const d = sameDevice('matmul', [a, b]);
  needF32('matmul', a, b);
  const transA = opts.transA ?? false, transB = opts.transB ?? false;
  if (a.rank < 2 || b.rank < 2) throw new ShapeError(`matmul: needs rank ≥ 2, got ${fmt(a.shape)} and ${fmt(b.shape)}`);
  const [ar, ac] = a.shape.slice(-2), [br, bc] = b.shape.slice(-2);
  const m = transA ? ac : ar, k = transA ? ar : ac;
  const kb = transB ? bc : br, n = transB ? br : bc;
  const what = `${fmt(a.shape)}${transA ? 'ᵀ' : ''} · ${fmt(b.shape)}${transB ? 'ᵀ' : ''}`;
  if (k !== kb) throw new ShapeError(`matmul: inner dims differ in ${what} (${k} vs ${kb})`);
  const ba = numel(a.shape.slice(0, -2)), bb = numel(b.shape.slice(0, -2));
  if (ba !== bb && ba !== 1 && bb !== 1) throw new ShapeError(`matmul: batch dims differ in ${what}`);
  const batchShape = ba >= bb ? a.shape.slice(0, -2) : b.shape.slice(0, -2);
  const batch = Math.max(ba, bb);
  const p = { batch, m, n, k, transA, transB, strideA: ba === 1 ? 0 : m * k, strideB: bb === 1 ? 0 : k * n };
  // The CPU device has no caps and runs the plain reference unless a config is forced (tests).
  const config = opts.config ?? (d.caps ? selectMatmul(p, d.caps) : undefined);
  const splits = config?.splits ?? 1;
  if (batch * splits > 65535) throw new ShapeError(`matmul: batch ${batch} × ${splits} splits over 65535 in ${what}`);
  const shape = [...batchShape, m, n];
  let y: Tensor;
  if (splits === 1) {
    [y] = launch(matmulKernel, { ...p, config }, [a, b], [{ shape, dtype: 'f32' }], `matmul ${what}`, d);
  } else {
    // Split-K: partials [splits, batch, M, N], then a fixed-order sum (deterministic, no atomics).
    const [part] = launch(matmulKernel, { ...p, config }, [a, b], [{ shape: [splits, ...shape], dtype: 'f32' }], `matmul ${what} split-K`, d);
    [y] = launch(splitSumKernel, { splits, n: batch * m * n }, [part], [{ shape, dtype: 'f32' }], `matmul ${what} split-K sum`, d);
    part.dispose();
  }
  return track('matmul', y, [a, b], { transA, transB }, [a, b]);
}

// ---- dropout -----------------------------------------------------------------------------------

/** What regenerates a dropout mask: the Philox key words, the stream id and the rate. */
export interface DropoutCtx { p: number; k0: number; k1: number; stream: number }

/** x · mask / (1-p) for the mask of `ctx` (forward, and backward on the upstream gradient). */
export function dropoutApply(x: Tensor, ctx: DropoutCtx): Tensor {
  const thr = Math.round(ctx.p * 2 ** 24);
  const p = { n: x.size, k0: ctx.k0, k1: ctx.k1, stream: ctx.stream, thr, scale: 1 / (1 - ctx.p) };
  const [y] = launch(dropoutKernel, p, [x], [{ shape: x.shape, dtype: 'f32' }], label('dropout', x));
  return y;
}

/**
 * Inverted dropout: each element kept with probability 1-p and scaled by 1/(1-p), the mask drawn
 * from the next stream of `rng` (p = 0 or training = false: identity, no stream consumed). The mask
 * is not stored: backward regenerates it from the same stream.
 */
export function dropout(x: Tensor, p: number, rng: Rng, training = true): Tensor {
  sameDevice('dropout', [x]); needF32('dropout', x);
  if (!(p >= 0 && p < 1)) throw new RangeError(`dropout: rate must be in [0, 1), got ${p} for ${fmt(x.shape)}`);
  if (x.size >= 2 ** 32) throw new ShapeError(`dropout: ${fmt(x.shape)} has over 2^32 elements`);
  if (p === 0 || !training) return reshape(x, [...x.shape]);
  const ctx: DropoutCtx = { p, k0: rng.key[0], k1: rng.key[1], stream: rng.nextStream() };
  return track('dropout', dropoutApply(x, ctx), [x], ctx);
}
