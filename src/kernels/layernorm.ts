// Fused LayerNorm over the last dim. x is (rows, n); weight, bias are (n); mean, rstd are (rows),
// saved by the forward for the backward: y = (x − mean)·rstd·w + b, rstd = 1/√(var + eps), var biased.
// Backward, with x̂ = (x − mean)·rstd and g = dy·w:  dx = rstd·(g − mean(g) − x̂·mean(g·x̂)),
// dw = Σ_rows dy·x̂, db = Σ_rows dy (parameter gradients are returned, the caller accumulates them).
// Backward is two passes: one fused row pass (dx plus per-block dw/db partials), one column sum; on
// software adapters, where an invocation owns a row, the row pass splits into dx and partials passes.
// Launchers (bottom) run the forward and the two-pass backward on device arrays.

import { type DeviceArray, FLAT_WG, type Kernel, type WgslProgram, freeTemp, grid1d, header, launch } from '../device/device.js';
import { rowArgs, rowEnable, rowGrid, rowModule, rowPrologue, rowWorkgroup, sgVars, useSubgroups, vecWgsl, vecWidth, wgSum, wgSum2 } from './rows.js';

export interface LayerNormParams { rows: number; n: number; eps: number }
/** `rb` rows per workgroup in the backward row pass; `nb` = ceil(rows / rb) blocks of partials. */
export interface LayerNormBackwardParams { rows: number; n: number; rb: number; nb: number }

/**
 * dw/db are column sums over rows. Instead of a separate pass re-reading x and dy (one invocation
 * per column looping over 1024 rows only fills C=128..1024 lanes, too few for a GPU), the dx pass
 * gives each workgroup a block of rb rows: every lane owns the same columns in every row, so it
 * keeps its dw/db partials in registers and writes one partial row per block. A tiny second pass
 * sums the nb ≈ 256 partials per column in a fixed order (deterministic, no atomics).
 */
export function layerNormBlocks(rows: number): { rb: number; nb: number } {
  const rb = Math.max(1, Math.ceil(rows / 256));
  return { rb, nb: Math.max(1, Math.ceil(rows / rb)) };
}

export const layerNormForwardKernel: Kernel<LayerNormParams> = {
  name: 'layernorm',
  // x [rows·n], w [n], b [n] → y [rows·n], mean [rows], rstd [rows]
  cpu(p, [x, w, b], [y, mean, rstd]) {
    for (let r = 0; r < p.rows; r++) {
      const base = r * p.n;
      let s = 0;
      for (let k = 0; k < p.n; k++) s += x[base + k];
      const mu = s / p.n;
      let v = 0;
      for (let k = 0; k < p.n; k++) v += (x[base + k] - mu) ** 2;
      const rs = 1 / Math.sqrt(v / p.n + p.eps);
      for (let k = 0; k < p.n; k++) y[base + k] = (x[base + k] - mu) * rs * w[k] + b[k];
      mean[r] = mu; rstd[r] = rs;
    }
  },
  wgsl(p, caps) {
    const sg = useSubgroups(caps);
    const w = vecWidth(p.n), wg = rowWorkgroup(p.n, w, caps);
    const h = header(
      [['rows', 'u32', p.rows], ['nv', 'u32', p.n / w], ['n', 'f32', p.n], ['eps', 'f32', p.eps]],
      [['x', 'array<V>'], ['w', 'array<V>'], ['b', 'array<V>']],
      [['y', 'array<V>'], ['mean', 'array<f32>'], ['rstd', 'array<f32>']],
    );
    // Two-pass variance (centred), not E[x²] − mean²: no cancellation when |mean| ≫ std.
    const code = rowModule({ sg, w, wg, header: h.code, helpers: `${wgSum(wg, sg)}
`, body: `  var acc: f32 = 0.0;
  for (var k: u32 = lid; k < P.nv; k += ${wg}u) { acc = acc + hsum(x[base + k]); }
  let mu = wgSum(acc, lid) / P.n;
  acc = 0.0;
  for (var k: u32 = lid; k < P.nv; k += ${wg}u) { let d = x[base + k] - splat(mu); acc = acc + hsum(d * d); }
  let rs = inverseSqrt(wgSum(acc, lid) / P.n + P.eps);
  for (var k: u32 = lid; k < P.nv; k += ${wg}u) { y[base + k] = (x[base + k] - splat(mu)) * rs * w[k] + b[k]; }
  if (lid == 0u) { mean[row] = mu; rstd[row] = rs; }` });
    return { code, grid: rowGrid(p.rows, wg), uniforms: h.uniforms };
  },
};

export const layerNormBackwardKernel: Kernel<LayerNormBackwardParams> = {
  name: 'layernorm_backward',
  // x [rows·n], w [n], mean [rows], rstd [rows], dy [rows·n] → dx [rows·n], part [2·nb·n] (dw partials, then db)
  cpu(p, [x, w, mean, rstd, dy], [dx, part]) {
    part.fill(0);
    for (let r = 0; r < p.rows; r++) {
      const base = r * p.n, blk = Math.floor(r / p.rb);
      let s1 = 0, s2 = 0;
      for (let k = 0; k < p.n; k++) {
        const g = dy[base + k] * w[k], xh = (x[base + k] - mean[r]) * rstd[r];
        s1 += g; s2 += g * xh;
      }
      for (let k = 0; k < p.n; k++) {
        const i = base + k, xh = (x[i] - mean[r]) * rstd[r];
        dx[i] = rstd[r] * (dy[i] * w[k] - s1 / p.n - xh * s2 / p.n);
        part[blk * p.n + k] += dy[i] * xh;
        part[(p.nb + blk) * p.n + k] += dy[i];
      }
    }
  },
  wgsl(p, caps) {
    const sg = useSubgroups(caps);
    const w = vecWidth(p.n), wg = rowWorkgroup(p.n, w, caps), nv = p.n / w;
    const h = header(
      [['rows', 'u32', p.rows], ['nv', 'u32', nv], ['n', 'f32', p.n], ['rb', 'u32', p.rb], ['nb', 'u32', p.nb]],
      [['x', 'array<V>'], ['w', 'array<V>'], ['mean', 'array<f32>'], ['rstd', 'array<f32>'], ['dy', 'array<V>']],
      [['dx', 'array<V>'], ['part', 'array<V>']],
    );
    if (wg === 1) return layerNormBackwardSolo(p, w, h);
    const per = Math.ceil(nv / wg);
    // Lane lid owns vectors k = lid + j·wg (j < per) of every row: its dw/db partials stay in registers.
    const code = `${rowEnable(sg)}${h.code}
${sgVars(sg)}${vecWgsl(w)}
${wgSum2(wg, sg)}
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32${rowArgs(sg)}) {
  ${rowPrologue(sg)}
  let blk = ${FLAT_WG};
  if (blk >= P.nb) { return; }
  var pw: array<V, ${per}>;
  var pb: array<V, ${per}>;
  let r1 = min(P.rows, (blk + 1u) * P.rb);
  for (var r: u32 = blk * P.rb; r < r1; r++) {
    let base = r * P.nv;
    let mu = mean[r];
    let rs = rstd[r];
    var acc = vec2<f32>(0.0);
    for (var k: u32 = lid; k < P.nv; k += ${wg}u) {
      let g = dy[base + k] * w[k];
      acc = acc + vec2<f32>(hsum(g), hsum(g * (x[base + k] - splat(mu)) * rs));
    }
    let s = wgSum2(acc, lid) / P.n;
    for (var j: u32 = 0u; j < ${per}u; j++) {
      let k = lid + j * ${wg}u;
      if (k < P.nv) {
        let d = dy[base + k];
        let xh = (x[base + k] - splat(mu)) * rs;
        dx[base + k] = rs * (d * w[k] - splat(s.x) - xh * s.y);
        pw[j] = pw[j] + d * xh;
        pb[j] = pb[j] + d;
      }
    }
  }
  for (var j: u32 = 0u; j < ${per}u; j++) {
    let k = lid + j * ${wg}u;
    if (k < P.nv) {
      part[blk * P.nv + k] = pw[j];
      part[(P.nb + blk) * P.nv + k] = pb[j];
    }
  }
}
`;
    return { code, grid: grid1d(p.nb), uniforms: h.uniforms };
  },
};

const COL_WG = 64;

/**
 * The backward where an invocation owns a row (software adapters): a lane cannot keep partials for
 * every column in registers, so a `before` pass writes dx row by row, then the program proper has one
 * invocation per (vector column, block) sum dy·x̂ and dy over the block's rows into the partials.
 */
function layerNormBackwardSolo(p: LayerNormBackwardParams, w: 1 | 2 | 4, h: { code: string; uniforms: ArrayBuffer }): WgslProgram {
  const dxPass = rowModule({ sg: false, w, wg: 1, header: h.code, helpers: '', body: `  let mu = mean[row];
  let rs = rstd[row];
  var acc = vec2<f32>(0.0);
  for (var k: u32 = 0u; k < P.nv; k++) {
    let g = dy[base + k] * w[k];
    acc = acc + vec2<f32>(hsum(g), hsum(g * (x[base + k] - splat(mu)) * rs));
  }
  let s = acc / P.n;
  for (var k: u32 = 0u; k < P.nv; k++) {
    dx[base + k] = rs * (dy[base + k] * w[k] - splat(s.x) - (x[base + k] - splat(mu)) * rs * splat(s.y));
  }` });
  const code = `${h.code}
${vecWgsl(w)}
@compute @workgroup_size(${COL_WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let k = wid.x * ${COL_WG}u + lid;
  let blk = wid.y;
  if (k >= P.nv) { return; }
  var pw = splat(0.0);
  var pb = splat(0.0);
  let r1 = min(P.rows, (blk + 1u) * P.rb);
  for (var r: u32 = blk * P.rb; r < r1; r++) {
    let d = dy[r * P.nv + k];
    pw = pw + d * (x[r * P.nv + k] - splat(mean[r])) * rstd[r];
    pb = pb + d;
  }
  part[blk * P.nv + k] = pw;
  part[(P.nb + blk) * P.nv + k] = pb;
}
`;
  return { code, grid: [Math.ceil(p.n / w / COL_WG), p.nb], uniforms: h.uniforms, before: { code: dxPass, grid: rowGrid(p.rows, 1), uniforms: h.uniforms } };
}

/** Second pass of the parameter gradients: part [2·nb·n] → dw [n], db [n], summed over blocks in order. */
export const layerNormParamReduceKernel: Kernel<{ n: number; nb: number }> = {
  name: 'layernorm_param_reduce',
  cpu(p, [part], [dw, db]) {
    for (let k = 0; k < p.n; k++) {
      let a = 0, b = 0;
      for (let j = 0; j < p.nb; j++) { a += part[j * p.n + k]; b += part[(p.nb + j) * p.n + k]; }
      dw[k] = a; db[k] = b;
    }
  },
  wgsl(p) {
    const h = header([['n', 'u32', p.n], ['nb', 'u32', p.nb]], [['part', 'array<f32>']], [['dw', 'array<f32>'], ['db', 'array<f32>']]);
    const code = `${h.code}
@compute @workgroup_size(${COL_WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let k = (${FLAT_WG}) * ${COL_WG}u + lid;
  if (k >= P.n) { return; }
  var a: f32 = 0.0;
  var b: f32 = 0.0;
  for (var j: u32 = 0u; j < P.nb; j++) { a = a + part[j * P.n + k]; b = b + part[(P.nb + j) * P.n + k]; }
  dw[k] = a;
  db[k] = b;
}
`;
    return { code, grid: grid1d(Math.ceil(p.n / COL_WG)), uniforms: h.uniforms };
  },
};

// ---- launchers ---------------------------------------------------------------------------------

const f32 = (shape: readonly number[]) => ({ shape, dtype: 'f32' as const });

/** x [..., n], weight [n], bias [n] → [y [..., n], mean [...], rstd [...]] (mean and rstd for backward). */
export function layerNorm(x: DeviceArray, w: DeviceArray, b: DeviceArray, eps: number, label: string): DeviceArray[] {
  const n = x.shape[x.shape.length - 1], rows = n === 0 ? 0 : x.shape.reduce((a, c) => a * c, 1) / n;
  const stats = x.shape.slice(0, -1);
  return launch(layerNormForwardKernel, { rows, n, eps }, [x, w, b], [f32(x.shape), f32(stats), f32(stats)], label);
}

/** [dx [..., n], dweight [n], dbias [n]] from x, weight, the saved mean and rstd, and dy: the row pass, then the column sum. */
export function layerNormBackward(x: DeviceArray, w: DeviceArray, mean: DeviceArray, rstd: DeviceArray, dy: DeviceArray, label: string): DeviceArray[] {
  const n = x.shape[x.shape.length - 1], rows = n === 0 ? 0 : x.shape.reduce((a, c) => a * c, 1) / n;
  const { rb, nb } = layerNormBlocks(rows);
  const [dx, part] = launch(layerNormBackwardKernel, { rows, n, rb, nb }, [x, w, mean, rstd, dy], [f32(x.shape), f32([2, nb, n])], label);
  const [dw, db] = launch(layerNormParamReduceKernel, { n, nb }, [part], [f32([n]), f32([n])], label);
  freeTemp(part);
  return [dx, dw, db];
}
