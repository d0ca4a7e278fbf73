// The op layer: argument checks, the kernel family's launcher, the result wrapped as a Tensor, and the
// autograd record. One generic path (`launched` → `track`); the kernels, their variants and any multi-pass
// plumbing live in their family file (src/kernels/*), the backward rules in src/autograd/rules.ts.
// Views are materialised (contiguous outputs) except reshape, which shares storage.
//
// Adding a unary primitive (e.g. `exp`) touches four places:
//   1. src/kernels/elementwise.ts: its name in `UnaryOp`, then
//   2. its `unaryOps` entry: forward and derivative, CPU and WGSL (tsc fails until it exists; the
//      derivative is its whole backward rule);
//   3. here: `export const exp = unaryOp('exp');` (and a Tensor method below if it deserves one);
//   4. test/ops.test.ts: its row (tsc fails until it exists: the table is typed over every primitive).
// Another primitive: its context in src/tensor/primitives.ts, its kernel family, a function here, its
// rule in src/autograd/rules.ts (tsc fails until it exists) and its test row. A composite op (mean,
// crossEntropy, …) is one function built from primitives, with no rule of its own.

import type { ArraySpec, Device, DeviceArray, Kernel } from '../device/device.js';
import { launch as launchArrays, launchInto as launchIntoArrays } from '../device/device.js';
import type { DType } from '../device/dtype.js';
import { type Shape, ShapeError, broadcastAxes, broadcastShapes, checkShape, fmt, normAxis, numel, sameShape } from '../device/shape.js';
import * as EW from '../kernels/elementwise.js';
import { type BinaryOp, type UnaryOp, UNARY_OPS, unaryOps } from '../kernels/elementwise.js';
import * as CP from '../kernels/copy.js';
import * as RD from '../kernels/reduce.js';
import * as MM from '../kernels/matmul.js';
import * as RNG from '../kernels/random.js';
import { scatterUpdateIds as scatterUpdateLaunch } from '../kernels/scatter_update.js';
import * as AD from '../kernels/adam.js';
import type { DropoutCtx, OpCtx, OpName } from './primitives.js';
import type { Rng } from './random.js';
import { Tensor, getDevice, getPrecision, isGradEnabled, keep, record, retain, wrap } from './tensor.js';

export { UNARY_OPS };
export type { DropoutCtx };

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

/** A launcher's outputs as Tensors. */
export function launched(a: DeviceArray): Tensor;
export function launched(a: DeviceArray[]): Tensor[];
export function launched(a: DeviceArray | DeviceArray[]): Tensor | Tensor[] {
  return Array.isArray(a) ? a.map(wrap) : wrap(a);
}

/** Allocates outputs, runs a kernel, wraps the outputs (for kernels without a family launcher: tests, experiments). */
export function launch<P>(kernel: Kernel<P>, p: P, ins: Tensor[], outs: ArraySpec[], lbl: string, device = ins[0]?.device ?? getDevice()): Tensor[] {
  return launched(launchArrays(kernel, p, ins, outs, lbl, device));
}

/** Runs a kernel writing into existing tensors (in place). */
export function launchInto<P>(kernel: Kernel<P>, p: P, ins: Tensor[], outs: Tensor[], lbl: string): void {
  launchIntoArrays(kernel, p, ins.map((t) => t.check(lbl)), outs.map((t) => t.check(lbl)), lbl);
}

/** Attaches a graph node when grad is on and an input requires grad. */
export function track<K extends OpName>(op: K, out: Tensor, inputs: Tensor[], ctx: OpCtx[K], saved: Tensor[] = []): Tensor {
  if (isGradEnabled() && inputs.some((t) => t.requiresGrad)) record(op, out, inputs, ctx, saved);
  return out;
}

// ---- elementwise -------------------------------------------------------------------------------

/** The op function of a unary primitive: y = f(x, c), saving x or y for the derivative as its table entry says. */
export function unaryOp(op: UnaryOp) {
  const saveOut = unaryOps[op].save === 'y';
  return (x: Tensor, c = 0): Tensor => {
    sameDevice(op, [x]);
    needF32(op, x);
    const y = launched(EW.unary(op, x, c, label(op, x)));
    return track(op, y, [x], { c }, saveOut ? [y] : [x]);
  };
}

export const neg = unaryOp('neg'), exp = unaryOp('exp'), log = unaryOp('log'), sqrt = unaryOp('sqrt');
export const rsqrt = unaryOp('rsqrt'), tanh = unaryOp('tanh'), erf = unaryOp('erf'), gelu = unaryOp('gelu');
export const relu = unaryOp('relu'), sigmoid = unaryOp('sigmoid'), abs = unaryOp('abs'), square = unaryOp('square');
export const adds = unaryOp('adds'), muls = unaryOp('muls'), pows = unaryOp('pows'), rsubs = unaryOp('rsubs');
export const maxs = unaryOp('maxs');

/** g · f'(…) of a unary primitive from its saved value (its backward; no graph). */
export function unaryGrad(op: UnaryOp, saved: Tensor, g: Tensor, c: number): Tensor {
  return launched(EW.unaryGrad(op, saved, g, c, label(`${op}'`, saved, g)));
}

/** sign(x) ∈ {-1, 0, 1}; no gradient. */
export const sign = (x: Tensor): Tensor => binary('gt', x, scalarLike(x, 0)).mul(2).sub(1).mul(binary('ne', x, scalarLike(x, 0)));

function scalarLike(x: Tensor, v: number): Tensor {
  return fill([], v, 'f32', x.device);
}

/** Broadcasting binary map; compare ops return f32 0/1 masks. No graph (the differentiable ones are below). */
export function binary(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  sameDevice(op, [a, b]);
  return launched(EW.binary(op, a, b, label(op, a, b)));
}

type DiffBinary = Extract<BinaryOp, OpName>;

function binaryOp(op: DiffBinary, save: boolean) {
  return (a: Tensor, b: Tensor): Tensor => {
    needF32(op, a, b);
    const y = binary(op, a, b);
    return track(op, y, [a, b], {}, save ? [a, b] : []);
  };
}

export const add = binaryOp('add', false), sub = binaryOp('sub', false), mul = binaryOp('mul', true), div = binaryOp('div', true);
export const pow = binaryOp('pow', true), maximum = binaryOp('maximum', true), minimum = binaryOp('minimum', true);
/** Elementwise binary cross-entropy with logits (unreduced): max(x,0) - x·y + log(1+e^{-|x|}). */
export const bceLogits = binaryOp('bceLogits', true);

export const eq = (a: Tensor, b: Tensor) => binary('eq', a, b);
export const ne = (a: Tensor, b: Tensor) => binary('ne', a, b);
export const lt = (a: Tensor, b: Tensor) => binary('lt', a, b);
export const le = (a: Tensor, b: Tensor) => binary('le', a, b);
export const gt = (a: Tensor, b: Tensor) => binary('gt', a, b);
export const ge = (a: Tensor, b: Tensor) => binary('ge', a, b);

/** where(cond ≠ 0, a, b), broadcasting all three. cond may be f32 or i32. */
export function where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  sameDevice('where', [cond, a, b]);
  needF32('where', a, b);
  const y = launched(EW.where(cond, a, b, label('where', cond, a, b)));
  return track('where', y, [cond, a, b], {}, [cond]);
}

export function cast(x: Tensor, dtype: DType): Tensor {
  sameDevice('cast', [x]);
  if (x.dtype === dtype) return reshape(x, [...x.shape]);
  return launched(EW.cast(x, dtype, label('cast', x)));
}

// ---- creation ----------------------------------------------------------------------------------

export function fill(shape: Shape, value: number, dtype: DType = 'f32', device: Device = getDevice()): Tensor {
  checkShape(shape, 'fill');
  return launched(CP.fill(device, shape, value, dtype, `fill(${fmt(shape)})`));
}

export interface Placement { dtype?: DType; device?: Device }
export const full = (shape: Shape, value: number, opts: Placement = {}): Tensor => fill(shape, value, opts.dtype ?? 'f32', opts.device ?? getDevice());
export const zeros = (shape: Shape, opts: Placement = {}) => full(shape, 0, opts);
export const ones = (shape: Shape, opts: Placement = {}) => full(shape, 1, opts);

// ---- reductions --------------------------------------------------------------------------------

function normAxes(x: Tensor, axes: number | number[] | undefined, op: string): number[] {
  const list = axes === undefined ? x.shape.map((_, i) => i) : Array.isArray(axes) ? axes : [axes];
  return [...new Set(list.map((a) => normAxis(a, x.rank, op)))].sort((a, b) => a - b);
}

function reduced(op: RD.ReduceOp, x: Tensor, axes: number[], keepDims: boolean): Tensor {
  if (axes.length === 0) return reshapeRaw(x, [...x.shape]);
  const y = launched(RD.reduce(op, x, axes, label(op, x)));
  if (!keepDims) return y;
  const r = reshapeRaw(y, x.shape.map((d, i) => (axes.includes(i) ? 1 : d)));
  y.dispose();
  return r;
}

export function sum(x: Tensor, axes?: number | number[], keepDims = false): Tensor {
  sameDevice('sum', [x]); needF32('sum', x);
  const ax = normAxes(x, axes, 'sum');
  return track('sum', reduced('sum', x, ax, keepDims), [x], { axes: ax });
}

export function max(x: Tensor, axes?: number | number[], keepDims = false): Tensor {
  sameDevice('max', [x]); needF32('max', x);
  const ax = normAxes(x, axes, 'max');
  const y = reduced('max', x, ax, keepDims);
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
  return launched(RD.reduce('argmax', x, [normAxis(axis, x.rank, 'argmax')], label('argmax', x)));
}

/** Sums g over the axes that broadcasting stretched, giving a tensor of `shape`. */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const s = sum(g, broadcastAxes(shape, g.shape));
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

export function permute(x: Tensor, perm: number[]): Tensor {
  x.check('permute');
  const p = perm.map((a) => normAxis(a, x.rank, 'permute'));
  if (p.length !== x.rank || new Set(p).size !== x.rank) throw new ShapeError(`permute: ${JSON.stringify(perm)} is not a permutation of the ${x.rank} axes of ${fmt(x.shape)}`);
  // Moving only size-1 axes (attention heads with one head: [B, T, 1, dh] → [B, 1, T, dh]) keeps the
  // element order: share the storage instead of copying.
  const moved = p.filter((a) => x.shape[a] !== 1);
  const y = moved.every((a, i) => i === 0 || moved[i - 1] < a) ? reshapeRaw(x, p.map((a) => x.shape[a])) : launched(CP.permute(x, p, label('permute', x)));
  return track('permute', y, [x], { perm: p });
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
  return track('slice', launched(CP.slice(x, s, e, label('slice', x))), [x], { starts: s, ends: e });
}

/** Zero tensor of `shape` with x written at `starts` (slice's backward). */
export function pad(x: Tensor, starts: number[], shape: number[]): Tensor {
  x.check('pad');
  return track('pad', launched(CP.pad(x, starts, shape, label('pad', x))), [x], { starts, shape });
}

/** Materialised broadcast to `shape`. */
export function expand(x: Tensor, shape: number[]): Tensor {
  x.check('expand');
  const out = broadcastShapes('expand', x.shape, shape);
  if (!sameShape(out, shape)) throw new ShapeError(`expand: cannot expand ${fmt(x.shape)} to ${fmt(shape)}`);
  return track('expand', launched(CP.expand(x, shape, label('expand', x))), [x], {});
}

export function concat(xs: Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new ShapeError('concat: no tensors');
  sameDevice('concat', xs);
  const ax = normAxis(axis, xs[0].rank, 'concat');
  for (const t of xs) {
    if (t.rank !== xs[0].rank || t.dtype !== xs[0].dtype || t.shape.some((v, i) => i !== ax && v !== xs[0].shape[i])) {
      throw new ShapeError(`concat: ${xs.map((u) => `${fmt(u.shape)} ${u.dtype}`).join(', ')} do not match outside axis ${ax}`);
    }
  }
  return track('concat', launched(CP.concat(xs, ax, label('concat', ...xs))), xs, { axis: ax });
}

// ---- matmul ------------------------------------------------------------------------------------

/**
 * a: [..., M, K] (transA: [..., K, M]), b: [..., K, N] (transB: [..., N, K]) → [..., M, N].
 * Leading (batch) dims are flattened; either side may have a single matrix, which is shared.
 */
export function matmul(a: Tensor, b: Tensor, opts: { transA?: boolean; transB?: boolean; config?: MM.MatmulConfig } = {}): Tensor {
  sameDevice('matmul', [a, b]);
  needF32('matmul', a, b);
  const transA = opts.transA ?? false, transB = opts.transB ?? false;
  const { what } = MM.planMatmul(a.shape, b.shape, transA, transB);
  const f16 = getPrecision() === 'f16';
  const y = launched(MM.matmul(a, b, { transA, transB, config: opts.config, f16 }, `matmul ${what}${f16 ? ' f16' : ''}`).y);
  return track('matmul', y, [a, b], { transA, transB }, [a, b]);
}

// ---- dropout -----------------------------------------------------------------------------------

/** x · mask / (1-p) for the mask of `ctx` (forward, and backward on the upstream gradient). */
export function dropoutApply(x: Tensor, ctx: DropoutCtx): Tensor {
  return launched(RNG.dropout(x, ctx, ctx.p, label('dropout', x)));
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

// ---- in-place updates (no graph) -----------------------------------------------------------------

/**
 * dst + src, written into dst's storage when dst holds it alone (no other handle would see the
 * change); otherwise a new tensor. Returns the sum; src is left to the caller (gradient accumulation).
 */
export function accumulate(dst: Tensor, src: Tensor): Tensor {
  if (!sameShape(dst.shape, src.shape)) throw new ShapeError(`accumulate: ${fmt(src.shape)} into ${fmt(dst.shape)}`);
  if (dst.storage.refs === 1 && dst.storage !== src.storage) {
    EW.accumulate(dst.check('accumulate'), src.check('accumulate'), `accumulate(${fmt(dst.shape)})`);
    return dst;
  }
  const sum = keep(binary('add', dst, src));
  dst.dispose();
  return sum;
}

/** A tensor over `shape` elements of `root` from element `offset` (a multiple of SLICE_ALIGN): shares root's buffer. */
export function sliceOf(root: Tensor, offset: number, shape: Shape, lbl: string): Tensor {
  root.check(lbl);
  const s = root.device.slice(root.storage, offset, numel(shape), root.dtype, lbl);
  return new Tensor(s, shape, root.dtype, root.device);
}

/** dst[dstOffset…] ← src (all of it), a copy command in command order. */
export function copyElements(src: Tensor, dst: Tensor, dstOffset: number, lbl: string): void {
  if (dstOffset + src.size > dst.size) throw new ShapeError(`${lbl}: ${fmt(src.shape)} at ${dstOffset} overruns ${fmt(dst.shape)}`);
  src.device.copy(src.check(lbl).storage, 0, dst.check(lbl).storage, dstOffset, src.size);
}

/** dst (all of it) ← src[srcOffset…], a copy command in command order. */
export function copyOut(src: Tensor, srcOffset: number, dst: Tensor, lbl: string): void {
  if (srcOffset + dst.size > src.size) throw new ShapeError(`${lbl}: ${fmt(dst.shape)} from ${srcOffset} overruns ${fmt(src.shape)}`);
  src.device.copy(src.check(lbl).storage, srcOffset, dst.check(lbl).storage, 0, dst.size);
}

/** One AdamW step over the optimizer's buffers (src/kernels/adam.ts: sum of squares, norm and finite check, update). */
export function adamStep(b: AD.AdamBuffers, views: DeviceArray[][], layout: AD.AdamLayout, q: AD.AdamStep,
  clip: { maxNorm: number; step: number; loss: Tensor | null; lossScale: { scale: Tensor; growth: number } | null }, lbl: string): void {
  AD.adamStepAll(b, views, layout, q, { ...clip, loss: clip.loss?.check(lbl) ?? null }, lbl);
}

/**
 * The authors' scatter_update of ids (no graph): ids i32 [B, T], updates and positions i32 [B, N] →
 * [newIds i32 [B, T], labels f32 [B, T]] (1 where a position was updated to a different id).
 */
export function scatterUpdateIds(ids: Tensor, updates: Tensor, positions: Tensor): Tensor[] {
  sameDevice('scatterUpdateIds', [ids, updates, positions]);
  for (const t of [ids, updates, positions]) if (t.dtype !== 'i32') throw new TypeError(`scatterUpdateIds: expected i32, got ${t.dtype} ${fmt(t.shape)}`);
  if (ids.rank !== 2 || updates.rank !== 2 || !sameShape(updates.shape, positions.shape) || updates.shape[0] !== ids.shape[0]) {
    throw new ShapeError(`scatterUpdateIds: ids ${fmt(ids.shape)}, updates ${fmt(updates.shape)}, positions ${fmt(positions.shape)} must be [B, T], [B, N], [B, N]`);
  }
  return launched(scatterUpdateLaunch(ids, updates, positions, `scatter_update ${fmt(ids.shape)}`));
}

// ---- method sugar: t.add(u) ≡ add(t, u) --------------------------------------------------------

declare module './tensor.js' {
  interface Tensor {
    add(b: Tensor | number): Tensor; sub(b: Tensor | number): Tensor; mul(b: Tensor | number): Tensor;
    div(b: Tensor | number): Tensor; pow(b: Tensor | number): Tensor;
    neg(): Tensor; exp(): Tensor; log(): Tensor; sqrt(): Tensor; rsqrt(): Tensor; tanh(): Tensor; erf(): Tensor;
    gelu(): Tensor; relu(): Tensor; sigmoid(): Tensor; abs(): Tensor; square(): Tensor;
    sum(axes?: number | number[], keepDims?: boolean): Tensor;
    mean(axes?: number | number[], keepDims?: boolean): Tensor;
    max(axes?: number | number[], keepDims?: boolean): Tensor;
    argmax(axis?: number): Tensor;
    reshape(shape: number[]): Tensor; permute(perm: number[]): Tensor; transpose(a?: number, b?: number): Tensor;
    slice(starts: number[], ends: number[]): Tensor; expand(shape: number[]): Tensor;
    matmul(b: Tensor, opts?: Parameters<typeof matmul>[2]): Tensor;
    cast(dtype: DType): Tensor;
  }
}

const methods: ThisType<Tensor> & Partial<Record<keyof Tensor, unknown>> = {
  add(b: Tensor | number) { return typeof b === 'number' ? adds(this, b) : add(this, b); },
  sub(b: Tensor | number) { return typeof b === 'number' ? adds(this, -b) : sub(this, b); },
  mul(b: Tensor | number) { return typeof b === 'number' ? muls(this, b) : mul(this, b); },
  div(b: Tensor | number) { return typeof b === 'number' ? muls(this, 1 / b) : div(this, b); },
  pow(b: Tensor | number) { return typeof b === 'number' ? pows(this, b) : pow(this, b); },
  neg() { return neg(this); }, exp() { return exp(this); }, log() { return log(this); }, sqrt() { return sqrt(this); },
  rsqrt() { return rsqrt(this); }, tanh() { return tanh(this); }, erf() { return erf(this); }, gelu() { return gelu(this); },
  relu() { return relu(this); }, sigmoid() { return sigmoid(this); }, abs() { return abs(this); }, square() { return square(this); },
  sum(axes?: number | number[], keepDims = false) { return sum(this, axes, keepDims); },
  mean(axes?: number | number[], keepDims = false) { return mean(this, axes, keepDims); },
  max(axes?: number | number[], keepDims = false) { return max(this, axes, keepDims); },
  argmax(axis = -1) { return argmax(this, axis); },
  reshape(shape: number[]) { return reshape(this, shape); },
  permute(perm: number[]) { return permute(this, perm); },
  transpose(a = -2, b = -1) { return transpose(this, a, b); },
  slice(starts: number[], ends: number[]) { return slice(this, starts, ends); },
  expand(shape: number[]) { return expand(this, shape); },
  matmul(b: Tensor, opts?: Parameters<typeof matmul>[2]) { return matmul(this, b, opts); },
  cast(dtype: DType) { return cast(this, dtype); },
};
Object.assign(Tensor.prototype, methods);
