// Fused row softmax over the last axis: x [rows, n] (rows = B·H·Tq for attention scores), optional
// key-padding mask [B, n] (1 keep, 0 pad; rows of batch b are the contiguous block of `rowsPerBatch`
// rows): v = x·scale + (1 − mask)·(−10000) as BERT/ELECTRA, y = exp(v − max v) / Σ exp(v − max v).
// `log` gives log-softmax (v − max − log Σ). Backward needs only y:
//   softmax: dx = scale · y ∘ (dy − Σ dy∘y);   log-softmax: dx = dy − exp(y) · Σ dy.
// Launchers at the bottom. GPU: one workgroup per row (one invocation per row on software adapters, see rows.ts); an online
// (max, sum) per lane, so x is read twice (stats, write), not three times. The additive mask is shifted
// by its row max (exact in f32; see the kernel).

import { type DeviceArray, type Kernel, header, launch } from '../device/device.js';
import { rowGrid, rowModule, rowWorkgroup, useSubgroups, vecWidth, wgMax, wgSum } from './rows.js';

export interface SoftmaxParams { rows: number; n: number; scale: number; log: boolean; masked: boolean; rowsPerBatch: number }
export interface SoftmaxBackwardParams { rows: number; n: number; scale: number; log: boolean }

/** The additive mask value of BERT/ELECTRA: padded keys get −10000 before the max-subtract. */
export const MASK_NEG = -10000;

export const softmaxForwardKernel: Kernel<SoftmaxParams> = {
  name: 'softmax',
  // x [rows·n], mask? [B·n] → y [rows·n]
  cpu(p, [x, mask], [y]) {
    const v = new Float64Array(p.n);
    for (let r = 0; r < p.rows; r++) {
      const base = r * p.n, mb = Math.floor(r / p.rowsPerBatch) * p.n;
      let m = -Infinity, cm = -Infinity;
      if (p.masked) for (let k = 0; k < p.n; k++) cm = Math.max(cm, (1 - mask[mb + k]) * MASK_NEG);
      for (let k = 0; k < p.n; k++) {
        v[k] = x[base + k] * p.scale + (p.masked ? (1 - mask[mb + k]) * MASK_NEG - cm : 0);
        if (v[k] > m) m = v[k];
      }
      let s = 0;
      for (let k = 0; k < p.n; k++) s += Math.exp(v[k] - m);
      const ls = Math.log(s);
      for (let k = 0; k < p.n; k++) y[base + k] = p.log ? v[k] - m - ls : Math.exp(v[k] - m) / s;
    }
  },
  wgsl(p, caps) {
    const sg = useSubgroups(caps);
    const w = vecWidth(p.n), wg = rowWorkgroup(p.n, w, caps);
    const h = header(
      [['rows', 'u32', p.rows], ['nv', 'u32', p.n / w], ['rpb', 'u32', p.rowsPerBatch], ['scale', 'f32', p.scale]],
      p.masked ? [['x', 'array<V>'], ['mask', 'array<V>']] : [['x', 'array<V>']],
      [['y', 'array<V>']],
    );
    const code = rowModule({ sg, w, wg, header: h.code, helpers: `${wgMax(wg, sg)}
${wgSum(wg, sg)}
var<private> cmax: f32 = 0.0;
fn load(base: u32, mbase: u32, k: u32) -> V {
  return x[base + k] * P.scale${p.masked ? ` + ((splat(1.0) - mask[mbase + k]) * ${MASK_NEG}.0 - splat(cmax))` : ''};
}
`, body: `  let mbase = (row / P.rpb) * P.nv;${p.masked ? `
  // Shift the additive mask by its row max first (softmax is shift-invariant): a fully padded row is
  // then softmax(x·scale) exactly, instead of x·scale − 10000 rounded to f32 (ulp 1e-3, ~0.1% error).
  var cm: f32 = ${MASK_NEG}.0;
  for (var k: u32 = lid; k < P.nv; k += ${wg}u) { cm = max(cm, hmax((splat(1.0) - mask[mbase + k]) * ${MASK_NEG}.0)); }
  cmax = wgMax(cm, lid);` : ''}
  // Online softmax statistics per lane: m = running max, s = Σ exp(v − m), rescaled when m grows.
  var m: f32 = -3.402823e38;
  var s: f32 = 0.0;
  for (var k: u32 = lid; k < P.nv; k += ${wg}u) {
    let v = load(base, mbase, k);
    let vm = hmax(v);
    if (vm > m) { s = s * exp(m - vm); m = vm; }
    s = s + hsum(exp(v - splat(m)));
  }
  let mx = wgMax(m, lid);
  let total = wgSum(s * exp(m - mx), lid);
  ${p.log ? 'let shift = mx + log(total);' : 'let inv = 1.0 / total;'}
  for (var k: u32 = lid; k < P.nv; k += ${wg}u) {
    let v = load(base, mbase, k);
    y[base + k] = ${p.log ? 'v - splat(shift)' : 'exp(v - splat(mx)) * inv'};
  }` });
    return { code, grid: rowGrid(p.rows, wg), uniforms: h.uniforms };
  },
};

export const softmaxBackwardKernel: Kernel<SoftmaxBackwardParams> = {
  name: 'softmax_backward',
  // y [rows·n], dy [rows·n] → dx [rows·n]
  cpu(p, [y, dy], [dx]) {
    for (let r = 0; r < p.rows; r++) {
      const base = r * p.n;
      let s = 0;
      for (let k = 0; k < p.n; k++) s += p.log ? dy[base + k] : dy[base + k] * y[base + k];
      for (let k = 0; k < p.n; k++) {
        const i = base + k;
        dx[i] = p.log ? dy[i] - Math.exp(y[i]) * s : p.scale * y[i] * (dy[i] - s);
      }
    }
  },
  wgsl(p, caps) {
    const sg = useSubgroups(caps);
    const w = vecWidth(p.n), wg = rowWorkgroup(p.n, w, caps);
    const h = header([['rows', 'u32', p.rows], ['nv', 'u32', p.n / w], ['scale', 'f32', p.scale]], [['y', 'array<V>'], ['dy', 'array<V>']], [['dx', 'array<V>']]);
    const code = rowModule({ sg, w, wg, header: h.code, helpers: `${wgSum(wg, sg)}
`, body: `  var acc: f32 = 0.0;
  for (var k: u32 = lid; k < P.nv; k += ${wg}u) {
    acc = acc + hsum(${p.log ? 'dy[base + k]' : 'dy[base + k] * y[base + k]'});
  }
  let s = wgSum(acc, lid);
  for (var k: u32 = lid; k < P.nv; k += ${wg}u) {
    let i = base + k;
    dx[i] = ${p.log ? 'dy[i] - exp(y[i]) * s' : 'P.scale * y[i] * (dy[i] - splat(s))'};
  }` });
    return { code, grid: rowGrid(p.rows, wg), uniforms: h.uniforms };
  },
};

// ---- launchers ---------------------------------------------------------------------------------

const rowsOf = (x: DeviceArray): { rows: number; n: number } => {
  const n = x.shape[x.shape.length - 1];
  return { rows: n === 0 ? 0 : x.shape.reduce((a, b) => a * b, 1) / n, n };
};

/**
 * Softmax (or, with `log`, log-softmax) over the last axis of x [..., n]: y = softmax(x·scale + additive
 * mask). mask: f32 [B, n] (1 keep, 0 padding) for the rows of batch b, the b-th block of rows/B rows.
 */
export function softmax(x: DeviceArray, mask: DeviceArray | null, scale: number, log: boolean, label: string): DeviceArray {
  const { rows, n } = rowsOf(x);
  const rowsPerBatch = mask ? Math.max(1, rows / mask.shape[0]) : Math.max(1, rows);
  return launch(softmaxForwardKernel, { rows, n, scale, log, masked: !!mask, rowsPerBatch }, mask ? [x, mask] : [x], [{ shape: x.shape, dtype: 'f32' }], label)[0];
}

/** dx from the saved output y and dy (all [..., n]): scale·y∘(dy − Σ dy∘y), or dy − eʸ Σ dy with `log`. */
export function softmaxBackward(y: DeviceArray, dy: DeviceArray, scale: number, log: boolean, label: string): DeviceArray {
  const { rows, n } = rowsOf(y);
  return launch(softmaxBackwardKernel, { rows, n, scale, log }, [y, dy], [{ shape: y.shape, dtype: 'f32' }], label)[0];
}
