// Fused softmax cross-entropy: logits (N, V), targets i32 (N) → loss (N) = logsumexp(row) − logits[t],
// 0 where t == ignoreIndex; the forward also saves lse (N), so the softmax is never materialised.
// Backward: dlogits = (exp(logits − lse) − onehot(t)) · g_row, 0 for ignored rows.
// A target outside [0, V) that is not ignoreIndex is an error: the CPU reference throws a RangeError;
// on the GPU (targets are not on the host) that row's loss is NaN, so it poisons the mean visibly.
// GPU: one workgroup per row striding over V (vec2/vec4 loads when V allows; 30522 = 2·15261 → vec2);
// software adapters give rows up to 1024 to one invocation each (rows.ts).

import { type DeviceArray, type Kernel, header, launch } from '../device/device.js';
import { rowGrid, rowModule, rowWorkgroup, useSubgroups, vecWidth, wgMax, wgSum } from './rows.js';

export interface CrossEntropyParams { rows: number; v: number; ignore: number }

function checkTarget(t: number, p: CrossEntropyParams, row: number): void {
  if (t !== p.ignore && !(t >= 0 && t < p.v)) {
    throw new RangeError(`softmaxCrossEntropy: target ${t} at row ${row} is outside [0, ${p.v}) and is not ignoreIndex ${p.ignore}`);
  }
}

/** WGSL: scalar element i of a row stored as array<V>, and the one-hot vector of target t at vector k. */
function scalarAccess(w: number): string {
  if (w === 1) return 'fn at(i: u32) -> f32 { return x[i]; }\nfn onehot(k: u32, t: i32) -> V { return select(0.0, 1.0, i32(k) == t); }\n';
  const lanes = w === 4 ? 'vec4<i32>(0, 1, 2, 3)' : 'vec2<i32>(0, 1)';
  return `fn at(i: u32) -> f32 { return x[i / ${w}u][i % ${w}u]; }
fn onehot(k: u32, t: i32) -> V { return select(V(0.0), V(1.0), vec${w}<i32>(i32(k * ${w}u)) + ${lanes} == vec${w}<i32>(t)); }
`;
}

export const crossEntropyForwardKernel: Kernel<CrossEntropyParams> = {
  name: 'cross_entropy',
  // logits [rows·v], targets [rows] → loss [rows], lse [rows]
  cpu(p, [x, t], [loss, lse]) {
    for (let r = 0; r < p.rows; r++) {
      checkTarget(t[r], p, r);
      const base = r * p.v;
      let m = -Infinity;
      for (let k = 0; k < p.v; k++) m = Math.max(m, x[base + k]);
      let s = 0;
      for (let k = 0; k < p.v; k++) s += Math.exp(x[base + k] - m);
      lse[r] = m + Math.log(s);
      loss[r] = t[r] === p.ignore ? 0 : lse[r] - x[base + t[r]];
    }
  },
  wgsl(p, caps) {
    const sg = useSubgroups(caps);
    const w = vecWidth(p.v), wg = rowWorkgroup(p.v, w, caps);
    const h = header(
      [['rows', 'u32', p.rows], ['nv', 'u32', p.v / w], ['v', 'i32', p.v], ['ignore', 'i32', p.ignore], ['nan', 'u32', 0x7fc00000]],
      [['x', 'array<V>'], ['t', 'array<i32>']],
      [['loss', 'array<f32>'], ['lse', 'array<f32>']],
    );
    const code = rowModule({ sg, w, wg, header: h.code, helpers: `${wgMax(wg, sg)}
${wgSum(wg, sg)}
${scalarAccess(w)}
`, body: `  var m: f32 = -3.402823e38;
  var s: f32 = 0.0;
  for (var k: u32 = lid; k < P.nv; k += ${wg}u) {
    let v = x[base + k];
    let vm = hmax(v);
    if (vm > m) { s = s * exp(m - vm); m = vm; }
    s = s + hsum(exp(v - splat(m)));
  }
  let mx = wgMax(m, lid);
  let total = wgSum(s * exp(m - mx), lid);
  if (lid == 0u) {
    let l = mx + log(total);
    let tg = t[row];
    var out: f32 = 0.0;
    if (tg != P.ignore) {
      // An invalid target yields NaN rather than reading outside the row. The bits come from a
      // uniform because WGSL rejects a NaN constant expression.
      if (tg >= 0 && tg < P.v) { out = l - at(base * ${w}u + u32(tg)); } else { out = bitcast<f32>(P.nan); }
    }
    loss[row] = out;
    lse[row] = l;
  }` });
    return { code, grid: rowGrid(p.rows, wg), uniforms: h.uniforms };
  },
};

export const crossEntropyBackwardKernel: Kernel<CrossEntropyParams> = {
  name: 'cross_entropy_backward',
  // logits [rows·v], targets [rows], lse [rows], g [rows] → dlogits [rows·v]
  cpu(p, [x, t, lse, g], [dx]) {
    for (let r = 0; r < p.rows; r++) {
      const base = r * p.v, gr = t[r] === p.ignore ? 0 : g[r];
      for (let k = 0; k < p.v; k++) dx[base + k] = (Math.exp(x[base + k] - lse[r]) - (k === t[r] ? 1 : 0)) * gr;
    }
  },
  wgsl(p, caps) {
    const w = vecWidth(p.v), wg = rowWorkgroup(p.v, w, caps);
    const h = header(
      [['rows', 'u32', p.rows], ['nv', 'u32', p.v / w], ['ignore', 'i32', p.ignore]],
      [['x', 'array<V>'], ['t', 'array<i32>'], ['lse', 'array<f32>'], ['g', 'array<f32>']],
      [['dx', 'array<V>']],
    );
    const code = rowModule({ sg: false, w, wg, header: h.code, helpers: `${scalarAccess(w)}
`, body: `  let tg = t[row];
  let gr = select(g[row], 0.0, tg == P.ignore);
  let l = lse[row];
  for (var k: u32 = lid; k < P.nv; k += ${wg}u) {
    dx[base + k] = (exp(x[base + k] - splat(l)) - onehot(k, tg)) * gr;
  }` });
    return { code, grid: rowGrid(p.rows, wg), uniforms: h.uniforms };
  },
};

// ---- launchers ---------------------------------------------------------------------------------

/** logits [N, V], targets i32 [N] → [loss [N], lse [N]] (lse for backward). */
export function crossEntropy(logits: DeviceArray, targets: DeviceArray, ignore: number, label: string): DeviceArray[] {
  const [rows, v] = logits.shape;
  return launch(crossEntropyForwardKernel, { rows, v, ignore }, [logits, targets], [{ shape: [rows], dtype: 'f32' }, { shape: [rows], dtype: 'f32' }], label);
}

/** dlogits [N, V] = (softmax − onehot(t)) · g_row, 0 on ignored rows; lse from the forward, g [N]. */
export function crossEntropyBackward(logits: DeviceArray, targets: DeviceArray, lse: DeviceArray, g: DeviceArray, ignore: number, label: string): DeviceArray {
  const [rows, v] = logits.shape;
  return launch(crossEntropyBackwardKernel, { rows, v, ignore }, [logits, targets, lse, g], [{ shape: logits.shape, dtype: 'f32' }], label)[0];
}
