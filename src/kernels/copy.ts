// Strided copies: the one kernel behind the materialised views (permute, slice, expand, concat and
// the pad that is slice's backward), plus fill. A copy reads `shape` elements from a strided source
// view and writes them to a strided destination view; untouched destination elements keep their
// values, which is how concat and pad assemble their outputs piece by piece.

import { FLAT_WG, type Field, type Kernel, grid1d, header, uniformOnly } from '../tensor/device.js';
import type { DType } from '../tensor/dtype.js';
import { type Shape, numel } from '../tensor/shape.js';

const WG = 256;

export interface View { offset: number; strides: readonly number[] }

export interface CopyParams { shape: Shape; src: View; dst: View; dtype: DType }

function cpuOffset(i: number, shape: Shape, v: View): number {
  let r = i, idx = v.offset;
  for (let d = shape.length - 1; d >= 0; d--) { idx += (r % shape[d]) * v.strides[d]; r = Math.floor(r / shape[d]); }
  return idx;
}

export const copyKernel: Kernel<CopyParams> = {
  name: 'copy',
  cpu(p, [x], [y]) {
    const n = numel(p.shape);
    for (let i = 0; i < n; i++) y[cpuOffset(i, p.shape, p.dst)] = x[cpuOffset(i, p.shape, p.src)];
  },
  wgsl(p) {
    const n = numel(p.shape);
    const rank = p.shape.length;
    const fields: Field[] = [['n', 'u32', n], ['so', 'u32', p.src.offset], ['do_', 'u32', p.dst.offset]];
    let inner = 1;
    const os: number[] = [];
    for (let d = rank - 1; d >= 0; d--) { os[d] = inner; inner *= p.shape[d]; }
    for (let d = 0; d < rank; d++) {
      fields.push([`d${d}`, 'u32', p.shape[d]], [`os${d}`, 'u32', os[d]], [`ss${d}`, 'u32', p.src.strides[d]], [`ds${d}`, 'u32', p.dst.strides[d]]);
    }
    const ty = p.dtype === 'i32' ? 'array<i32>' : 'array<f32>';
    const h = header(fields, [['x', ty]], [['y', ty]]);
    const idx = (s: string) => Array.from({ length: rank }, (_, d) => ` + ((i / P.os${d}) % P.d${d}) * P.${s}${d}`).join('');
    const code = `${h.code}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (${FLAT_WG}) * ${WG}u + lid;
  if (i >= P.n) { return; }
  y[P.do_${idx('ds')}] = x[P.so${idx('ss')}];
}
`;
    return { code, grid: grid1d(Math.ceil(n / WG)), uniforms: h.uniforms };
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
    const h = header(fillFields(p), [], [['y', `array<${ty}>`]]);
    const code = `${h.code}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (${FLAT_WG}) * ${WG}u + lid;
  if (i >= P.n) { return; }
  y[i] = P.v;
}
`;
    return { code, grid: grid1d(Math.ceil(p.n / WG)), uniforms: h.uniforms };
  },
};
