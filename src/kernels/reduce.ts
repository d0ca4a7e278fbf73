// Reductions over the middle axis of a [outer, R, inner] view: sum, max, argmax (first index wins).
// The launcher maps any contiguous run of axes onto this view (and non-adjacent axes onto a chain).
// GPU variants: one invocation per output looping over R (coalesced when inner is large); one workgroup
// per output with a shared-memory tree when inner == 1 and R is long (row reductions); and, when there
// are too few outputs to fill the device (column sums: bias gradients [B·T, C] → [C]), two passes:
// workgroups own (column tile, slab of rows) pairs with lanes on columns (coalesced), writing partials
// [outer, S, inner], then the per-output kernel sums the S partials. Accumulation is f32 in a fixed
// order, so results are deterministic run to run.

import { type DeviceArray, FLAT_WG, type GpuCaps, type Kernel, freeTemp, grid1d, header, launch } from '../device/device.js';
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

// ---- column partials (first pass of a split reduction) -------------------------------------------

/** [outer, R, inner] → part [outer, s, inner]: slab j of `rows` rows (the last one shorter) reduced per column. */
export interface ReducePartialParams { op: 'sum' | 'max'; outer: number; r: number; inner: number; rows: number; s: number }

const COL_LANES = 64;

export const reducePartialKernel: Kernel<ReducePartialParams> = {
  name: 'reduce_partial',
  cpu(p, [x], [part]) {
    for (let o = 0; o < p.outer; o++) {
      for (let j = 0; j < p.s; j++) {
        const r1 = Math.min(p.r, (j + 1) * p.rows);
        for (let c = 0; c < p.inner; c++) {
          let acc = p.op === 'sum' ? 0 : -Infinity;
          for (let k = j * p.rows; k < r1; k++) {
            const v = x[(o * p.r + k) * p.inner + c];
            acc = p.op === 'sum' ? acc + v : v > acc ? v : acc;
          }
          part[(o * p.s + j) * p.inner + c] = acc;
        }
      }
    }
  },
  wgsl(p) {
    // Lanes own vec4 columns when inner allows (a 64-lane row of loads covers 256 contiguous floats).
    const w = p.inner % 4 === 0 ? 4 : 1, iv = p.inner / w;
    const ty = w === 4 ? 'vec4<f32>' : 'f32';
    const h = header([['r', 'u32', p.r], ['iv', 'u32', iv], ['rows', 'u32', p.rows], ['s', 'u32', p.s]], [['x', `array<${ty}>`]], [['part', `array<${ty}>`]]);
    const step = p.op === 'sum' ? 'acc = acc + x[(o * P.r + k) * P.iv + c];' : 'acc = max(acc, x[(o * P.r + k) * P.iv + c]);';
    const code = `${h.code}
@compute @workgroup_size(${COL_LANES})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let c = wid.x * ${COL_LANES}u + lid;
  let j = wid.y;
  let o = wid.z;
  if (c >= P.iv) { return; }
  let r1 = min(P.r, (j + 1u) * P.rows);
  var acc = ${ty}(${init[p.op]});
  for (var k = j * P.rows; k < r1; k++) { ${step} }
  part[(o * P.s + j) * P.iv + c] = acc;
}
`;
    return { code, grid: [Math.ceil(iv / COL_LANES), p.s, p.outer], uniforms: h.uniforms };
  },
};

/** Workgroups that keep a device busy: 2–4 per CPU thread on software adapters, 2 per SM on a big GPU. */
export const busyWorkgroups = (caps: GpuCaps): number => (caps.software ? 8 : 264);
/** The fewest rows a lane of the first pass sums: below that, the partials cost more than they save. */
const MIN_SLAB = 32;

/** Slabs for a split reduction of [outer, r, inner] (1: one pass is enough or better). */
export function reduceSlabs(op: ReduceOp, outer: number, r: number, inner: number, caps: GpuCaps | undefined): number {
  if (!caps || op === 'argmax' || inner === 1 || outer > 65535) return 1;
  const onePass = Math.ceil((outer * inner) / WG);        // workgroups of the per-output kernel
  const want = busyWorkgroups(caps);
  if (onePass >= want) return 1;
  const tiles = outer * Math.ceil(inner / (inner % 4 === 0 ? 4 * COL_LANES : COL_LANES));
  return Math.max(1, Math.min(Math.ceil(want / tiles), Math.floor(r / MIN_SLAB), 65535));
}

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
    const outer = numel(sh.slice(0, s)), R = numel(sh.slice(s, e)), inner = numel(sh.slice(e));
    const out = [{ shape: outShape, dtype: op === 'argmax' ? 'i32' as const : 'f32' as const }];
    const slabs = reduceSlabs(op, outer, R, inner, x.device.caps);
    let y: DeviceArray;
    if (slabs > 1 && op !== 'argmax') {
      const rows = Math.ceil(R / slabs), sl = Math.ceil(R / rows);
      const [part] = launch(reducePartialKernel, { op, outer, r: R, inner, rows, s: sl }, [cur], [{ shape: [outer, sl, inner], dtype: 'f32' }], label);
      [y] = launch(reduceKernel, { op, outer, r: sl, inner }, [part], out, label);
      freeTemp(part);
    } else {
      [y] = launch(reduceKernel, { op, outer, r: R, inner }, [cur], out, label);
    }
    if (cur !== x) freeTemp(cur);
    cur = y;
  }
  return cur;
}
