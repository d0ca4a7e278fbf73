// Strided copies: the one kernel behind the materialised views (permute, slice, expand, concat and
// the pad that is slice's backward), plus fill. A copy reads `shape` elements from a strided source
// view and writes them to a strided destination view; untouched destination elements keep their
// values, which is how concat and pad assemble their outputs piece by piece. The launchers (bottom)
// turn each view into copies; the op layer checks arguments and records gradients.

import { type DeviceArray, type Field, type Kernel, flatGrid, flatMain, header, launch, launchInto, uniformOnly } from '../device/device.js';
import type { Device } from '../device/device.js';
import type { DType } from '../device/dtype.js';
import { type Shape, numel, stridesOf } from '../device/shape.js';

export interface View { offset: number; strides: readonly number[] }

export interface CopyParams { shape: Shape; src: View; dst: View; dtype: DType }

function cpuOffset(i: number, shape: Shape, v: View): number {
  let r = i, idx = v.offset;
  for (let d = shape.length - 1; d >= 0; d--) { idx += (r % shape[d]) * v.strides[d]; r = Math.floor(r / shape[d]); }
  return idx;
}

/**
 * The copy as the GPU runs it: size-1 dims dropped, neighbours that are contiguous in both views merged
 * (a head split [8, 128, 4, 64] ↔ [8, 4, 128, 64] becomes rank 3 with a 64-long inner run), and, when
 * the inner run is contiguous in both views and every offset and stride is a multiple of 4, counted in
 * vec4s (w = 4).
 */
function gpuView(p: CopyParams): { shape: number[]; src: View; dst: View; w: number } {
  const dims = p.shape.map((n, d) => ({ n, s: p.src.strides[d], t: p.dst.strides[d] })).filter((x) => x.n !== 1);
  const merged: typeof dims = [];
  for (const x of dims) {
    const last = merged[merged.length - 1];
    if (last && last.s === x.s * x.n && last.t === x.t * x.n) merged[merged.length - 1] = { n: last.n * x.n, s: x.s, t: x.t };
    else merged.push({ ...x });
  }
  if (merged.length === 0) merged.push({ n: 1, s: 1, t: 1 });
  const inner = merged[merged.length - 1];
  const w = inner.s === 1 && inner.t === 1 && inner.n % 4 === 0 && p.src.offset % 4 === 0 && p.dst.offset % 4 === 0 &&
    merged.slice(0, -1).every((x) => x.s % 4 === 0 && x.t % 4 === 0) ? 4 : 1;
  if (w === 4) inner.n /= 4;
  return {
    shape: merged.map((x) => x.n),
    // the inner run keeps stride 1 (in vec4s when w = 4); outer strides count items
    src: { offset: p.src.offset / w, strides: merged.map((x, d) => (d === merged.length - 1 ? x.s : x.s / w)) },
    dst: { offset: p.dst.offset / w, strides: merged.map((x, d) => (d === merged.length - 1 ? x.t : x.t / w)) },
    w,
  };
}

export const copyKernel: Kernel<CopyParams> = {
  name: 'copy',
  cpu(p, [x], [y]) {
    const n = numel(p.shape);
    for (let i = 0; i < n; i++) y[cpuOffset(i, p.shape, p.dst)] = x[cpuOffset(i, p.shape, p.src)];
  },
  wgsl(p) {
    const v = gpuView(p);
    const n = numel(v.shape);
    const rank = v.shape.length;
    let inner = 1;
    const os: number[] = [];
    for (let d = rank - 1; d >= 0; d--) { os[d] = inner; inner *= v.shape[d]; }
    const el = p.dtype === 'i32' ? 'i32' : 'f32';
    const ty = v.w === 4 ? `array<vec4<${el}>>` : `array<${el}>`;
    const h = header([['n', 'u32', n]], [['x', ty]], [['y', ty]]);
    // Shape, strides and offsets are WGSL constants (they are part of the program key anyway): lavapipe
    // has no vector integer division, and divisions by constants become multiply-shifts (by powers of
    // two, shifts). The outermost dim needs no modulo (i < n), the innermost no division.
    const idx = (offset: number, strides: readonly number[]) => `${offset}u` + Array.from({ length: rank }, (_, d) => {
      const q = d === rank - 1 ? 'i' : `(i / ${os[d]}u)`;
      return ` + ${d === 0 ? q : `(${q} % ${v.shape[d]}u)`} * ${strides[d]}u`;
    }).join('');
    return { code: `${h.code}${flatMain('P.n', `    y[${idx(v.dst.offset, v.dst.strides)}] = x[${idx(v.src.offset, v.src.strides)}];`)}`, grid: flatGrid(n), uniforms: h.uniforms };
  },
};

export interface FillParams { n: number; value: number; dtype: DType }

const fillFields = (p: FillParams): Field[] => [['n', 'u32', p.n], ['v', p.dtype === 'i32' ? 'i32' : 'f32', p.value]];

export const fillKernel: Kernel<FillParams> = {
  name: 'fill',
  uniformOnly: uniformOnly(['value'], fillFields),
  cpu(p, _ins, [y]) { y.fill(p.value, 0, p.n); },
  wgsl(p) {
    const ty = p.dtype === 'i32' ? 'i32' : 'f32';
    const w = p.n % 4 === 0 ? 4 : 1;
    const h = header(fillFields(p), [], [['y', w === 4 ? `array<vec4<${ty}>>` : `array<${ty}>`]]);
    return { code: `${h.code}${flatMain(`P.n / ${w}u`, `    y[i] = ${w === 4 ? `vec4<${ty}>(P.v)` : 'P.v'};`)}`, grid: flatGrid(p.n / w), uniforms: h.uniforms };
  },
};

// ---- launchers ---------------------------------------------------------------------------------

export function fill(device: Device, shape: Shape, value: number, dtype: DType, label: string): DeviceArray {
  return launch(fillKernel, { n: numel(shape), value, dtype }, [], [{ shape, dtype }], label, device)[0];
}

function copyView(x: DeviceArray, out: DeviceArray, shape: Shape, src: View, dst: View, label: string): void {
  launchInto(copyKernel, { shape, src, dst, dtype: x.dtype }, [x], [out], label);
}

const alloc = (x: DeviceArray, shape: Shape, label: string): DeviceArray =>
  ({ storage: x.device.alloc(numel(shape), x.dtype, label), shape, dtype: x.dtype, device: x.device });

/** x [...] with axes permuted (perm: a permutation of x's axes, checked by the caller). */
export function permute(x: DeviceArray, perm: readonly number[], label: string): DeviceArray {
  const st = stridesOf(x.shape), shape = perm.map((a) => x.shape[a]);
  const y = alloc(x, shape, label);
  copyView(x, y, shape, { offset: 0, strides: perm.map((a) => st[a]) }, { offset: 0, strides: stridesOf(shape) }, label);
  return y;
}

/** x[starts[d]:ends[d]] along every dim (in range, checked by the caller). */
export function slice(x: DeviceArray, starts: readonly number[], ends: readonly number[], label: string): DeviceArray {
  const shape = starts.map((v, d) => ends[d] - v), st = stridesOf(x.shape);
  const y = alloc(x, shape, label);
  copyView(x, y, shape, { offset: starts.reduce((acc, v, d) => acc + v * st[d], 0), strides: st }, { offset: 0, strides: stridesOf(shape) }, label);
  return y;
}

/** A zero array of `shape` with x written at `starts` (slice's backward). */
export function pad(x: DeviceArray, starts: readonly number[], shape: Shape, label: string): DeviceArray {
  const y = fill(x.device, shape, 0, x.dtype, label), st = stridesOf(shape);
  copyView(x, y, x.shape, { offset: 0, strides: stridesOf(x.shape) }, { offset: starts.reduce((acc, v, d) => acc + v * st[d], 0), strides: st }, label);
  return y;
}

/** x broadcast to `shape` (compatible, checked by the caller), materialised. */
export function expand(x: DeviceArray, shape: Shape, label: string): DeviceArray {
  const y = alloc(x, shape, label), st = stridesOf(x.shape);
  const strides = shape.map((d, i) => {
    const j = i - (shape.length - x.shape.length);
    return j < 0 || (x.shape[j] === 1 && d !== 1) ? 0 : st[j];
  });
  copyView(x, y, shape, { offset: 0, strides }, { offset: 0, strides: stridesOf(shape) }, label);
  return y;
}

/** xs joined along `axis` (equal elsewhere, checked by the caller). */
export function concat(xs: readonly DeviceArray[], axis: number, label: string): DeviceArray {
  const shape = [...xs[0].shape];
  shape[axis] = xs.reduce((acc, t) => acc + t.shape[axis], 0);
  const y = alloc(xs[0], shape, label), ost = stridesOf(shape);
  let off = 0;
  for (const t of xs) {
    copyView(t, y, t.shape, { offset: 0, strides: stridesOf(t.shape) }, { offset: off * ost[axis], strides: ost }, label);
    off += t.shape[axis];
  }
  return y;
}
