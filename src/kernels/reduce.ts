// Reductions over the middle axis of a [outer, R, inner] view: sum, max, argmax (first index wins).
// The launcher maps any contiguous run of axes onto this view (and non-adjacent axes onto a chain).
// Two GPU variants: one invocation per output looping over R (coalesced when inner is large), or one
// workgroup per output with a shared-memory tree when inner == 1 and R is long (row reductions).
// Accumulation is f32 in a fixed order, so results are deterministic run to run.

import { type DeviceArray, FLAT_WG, type Kernel, freeTemp, grid1d, header, launch } from '../device/device.js';
import { type Shape, numel } from '../device/shape.js';

export type ReduceOp = 'sum' | 'max' | 'argmax';

export interface ReduceParams { op: ReduceOp; outer: number; r: number; inner: number }

const WG = 256;

const init: { [K in ReduceOp]: string } = { sum: '0.0', max: '-3.402823e38', argmax: '-3.402823e38' };

export const reduceKernel: Kernel<ReduceParams> = {
  name: 'reduce',
  cpu(p, [x], [y]) {
    for (let o = 0; o < p.outer; o++) {
      for (let j = 0; j < p.inner; j++) {
        const base = o * p.r * p.inner + j;
        let acc = p.op === 'sum' ? 0 : -Infinity, arg = 0;
        for (let k = 0; k < p.r; k++) {
          const v = x[base + k * p.inner];
          if (p.op === 'sum') acc += v;
          else if (v > acc || (Number.isNaN(v) && !Number.isNaN(acc))) { acc = v; arg = k; }
        }
        y[o * p.inner + j] = p.op === 'argmax' ? arg : acc;
      }
    }
  },
  wgsl(p) {
    const nOut = p.outer * p.inner;
    const outTy = p.op === 'argmax' ? 'array<i32>' : 'array<f32>';
    const h = header([['outer', 'u32', p.outer], ['r', 'u32', p.r], ['inner', 'u32', p.inner]], [['x', 'array<f32>']], [['y', outTy]]);
    const better = p.op === 'sum' ? '' : 'v > acc';
    const step = p.op === 'sum' ? 'acc = acc + v;' : `if (${better}) { acc = v; arg = k; }`;
    const result = p.op === 'argmax' ? 'i32(arg)' : 'acc';
    const perWorkgroup = p.inner === 1 && p.r >= 128;
    if (!perWorkgroup) {
      const code = `${h.code}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (${FLAT_WG}) * ${WG}u + lid;
  if (i >= P.outer * P.inner) { return; }
  let o = i / P.inner;
  let j = i % P.inner;
  let base = o * P.r * P.inner + j;
  var acc: f32 = ${init[p.op]};
  var arg: u32 = 0u;
  for (var k: u32 = 0u; k < P.r; k++) {
    let v = x[base + k * P.inner];
    ${step}
  }
  y[i] = ${result};
}
`;
      return { code, grid: grid1d(Math.ceil(nOut / WG)), uniforms: h.uniforms };
    }
    // One workgroup per row: strided partials, then a tree in workgroup memory. Ties resolve to the
    // lower index at every merge, so argmax returns the first maximum like the CPU loop.
    const merge = p.op === 'sum'
      ? 'sv[lid] = sv[lid] + sv[lid + s];'
      : 'let vb = sv[lid + s]; let ib = si[lid + s]; if (vb > sv[lid] || (vb == sv[lid] && ib < si[lid])) { sv[lid] = vb; si[lid] = ib; }';
    const code = `${h.code}
var<workgroup> sv: array<f32, ${WG}>;
var<workgroup> si: array<u32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = ${FLAT_WG};
  if (row >= P.outer) { return; }
  let base = row * P.r;
  var acc: f32 = ${init[p.op]};
  var arg: u32 = 0u;
  for (var k: u32 = lid; k < P.r; k += ${WG}u) {
    let v = x[base + k];
    ${step}
  }
  sv[lid] = acc;
  si[lid] = arg;
  workgroupBarrier();
  for (var s: u32 = ${WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { ${merge} }
    workgroupBarrier();
  }
  if (lid == 0u) { ${p.op === 'argmax' ? 'y[row] = i32(si[0]);' : 'y[row] = sv[0];'} }
}
`;
    return { code, grid: grid1d(p.outer), uniforms: h.uniforms };
  },
};

// ---- launcher ----------------------------------------------------------------------------------

/**
 * Reduces `axes` of x (sorted, unique, at least one) by chaining [outer, R, inner] passes over runs of
 * adjacent axes, from the last run so earlier axis numbers stay valid. → x's shape without those axes
 * (i32 for argmax, which takes one axis).
 */
export function reduce(op: ReduceOp, x: DeviceArray, axes: readonly number[], label: string): DeviceArray {
  const runs: [number, number][] = [];
  for (const a of axes) {
    const last = runs[runs.length - 1];
    if (last && last[1] === a) last[1] = a + 1; else runs.push([a, a + 1]);
  }
  if (runs.length === 0) throw new Error(`${label}: no axes to reduce`);
  if (op === 'argmax' && runs.length > 1) throw new Error(`${label}: argmax takes one axis at a time`);
  let cur = x;
  for (let r = runs.length - 1; r >= 0; r--) {
    const [s, e] = runs[r];
    const sh: Shape = cur.shape;
    const outShape = [...sh.slice(0, s), ...sh.slice(e)];
    const [y] = launch(reduceKernel, { op, outer: numel(sh.slice(0, s)), r: numel(sh.slice(s, e)), inner: numel(sh.slice(e)) }, [cur], [{ shape: outShape, dtype: op === 'argmax' ? 'i32' : 'f32' }], label);
    if (cur !== x) freeTemp(cur);
    cur = y;
  }
  return cur;
}
