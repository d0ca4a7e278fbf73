// The optimizer's kernels: a fused Adam/AdamW update per parameter tensor (p, m, v updated in place),
// and global-norm clipping without readback: per-parameter partial sums of squares into fixed slots,
// then one tiny kernel turning all slots into [scale, norm] that the Adam kernel reads.
// Numbers that change per step (lr, bias-correction factors, slot index) are uniforms, never part of
// the WGSL source, and declared uniform-only, so a training run generates each program once.

import { type DeviceArray, type Field, type Kernel, flatGrid, flatMain, header, launchInto, uniformOnly } from '../device/device.js';

const WG = 256;
/** Partial-sum slots per parameter (= the most workgroups one sum-of-squares launch uses). */
export const SLOTS = 64;

/**
 * g [n] (and clip [2] = [scale, norm] when `clip`) → p, m, v [n], in place. With ĝ = g·scale:
 *   m = β1 m + (1-β1) ĝ;  v = β2 v + (1-β2) ĝ²
 *   update = (m·c1) / (sqrt(v·c2) + eps) + wd·p;  p -= lr·update
 * c1 = 1/(1-β1ᵗ), c2 = 1/(1-β2ᵗ) with bias correction, else 1 (ELECTRA's AdamWeightDecayOptimizer).
 * wd = 0 for parameters excluded from decay.
 */
export interface AdamParams { n: number; lr: number; beta1: number; beta2: number; eps: number; wd: number; c1: number; c2: number; clip: boolean }

const adamFields = (q: AdamParams): Field[] =>
  [['n', 'u32', q.n], ['lr', 'f32', q.lr], ['beta1', 'f32', q.beta1], ['beta2', 'f32', q.beta2], ['eps', 'f32', q.eps],
    ['wd', 'f32', q.wd], ['c1', 'f32', q.c1], ['c2', 'f32', q.c2]];

export const adamKernel: Kernel<AdamParams> = {
  name: 'adam',
  uniformOnly: uniformOnly(['lr', 'beta1', 'beta2', 'eps', 'wd', 'c1', 'c2'], adamFields),
  cpu(q, [g, clip], [p, m, v]) {
    const scale = q.clip ? clip[0] : 1;
    for (let i = 0; i < q.n; i++) {
      const gi = g[i] * scale;
      m[i] = q.beta1 * m[i] + (1 - q.beta1) * gi;
      v[i] = q.beta2 * v[i] + (1 - q.beta2) * gi * gi;
      const update = (m[i] * q.c1) / (Math.sqrt(v[i] * q.c2) + q.eps) + q.wd * p[i];
      p[i] -= q.lr * update;
    }
  },
  wgsl(q) {
    // vec4 items when n allows (every weight matrix; odd-sized biases run one element per item)
    const w = q.n % 4 === 0 ? 4 : 1;
    const ty = w === 4 ? 'array<vec4<f32>>' : 'array<f32>';
    const h = header(
      adamFields(q),
      q.clip ? [['g', ty], ['clip', 'array<f32>']] : [['g', ty]],
      [['p', ty], ['m', ty], ['v', ty]],
    );
    const body = `    let gi = g[i]${q.clip ? ' * clip[0]' : ''};
    let mi = P.beta1 * m[i] + (1.0 - P.beta1) * gi;
    let vi = P.beta2 * v[i] + (1.0 - P.beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    let pi = p[i];
    p[i] = pi - P.lr * ((mi * P.c1) / (sqrt(vi * P.c2) + P.eps) + P.wd * pi);`;
    return { code: `${h.code}${flatMain(`P.n / ${w}u`, body)}`, grid: flatGrid(q.n / w), uniforms: h.uniforms };
  },
};

/** Workgroups one sum-of-squares launch uses for n elements (≥ 1, ≤ SLOTS; ~16 elements per thread). */
export function sumSquaresGroups(n: number): number {
  return Math.max(1, Math.min(SLOTS, Math.ceil(n / (WG * 16))));
}

/**
 * g [n] → partials[slot·SLOTS + w] = Σ g² over the elements of workgroup w (grid-strided), for
 * w < groups; slots w ≥ groups of this parameter are zeroed, so every slot read later is defined.
 */
export interface SumSquaresParams { n: number; slot: number; groups: number }

const sumSquaresFields = (q: SumSquaresParams): Field[] => [['n', 'u32', q.n], ['slot', 'u32', q.slot], ['groups', 'u32', q.groups]];

export const sumSquaresKernel: Kernel<SumSquaresParams> = {
  name: 'sumSquares',
  uniformOnly: uniformOnly(['slot'], sumSquaresFields),
  cpu(q, [g], [out]) {
    // Slot w sums the chunks of WG items that workgroup w visits (an item: 4 elements when n allows).
    const chunk = WG * (q.n % 4 === 0 ? 4 : 1);
    for (let w = 0; w < SLOTS; w++) {
      let acc = 0;
      if (w < q.groups) for (let i = w * chunk; i < q.n; i += q.groups * chunk) for (let j = i; j < Math.min(i + chunk, q.n); j++) acc += g[j] * g[j];
      out[q.slot * SLOTS + w] = acc;
    }
  },
  wgsl(q) {
    const v4 = q.n % 4 === 0;
    const h = header(sumSquaresFields(q), [['g', v4 ? 'array<vec4<f32>>' : 'array<f32>']], [['out', 'array<f32>']]);
    const code = `${h.code}
var<workgroup> sh: array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let w = wid.x;
  var acc = 0.0;
  for (var i = w * ${WG}u + lid; i < P.n${v4 ? ' / 4u' : ''}; i += P.groups * ${WG}u) { let x = g[i]; acc = acc + ${v4 ? 'dot(x, x)' : 'x * x'}; }
  sh[lid] = acc;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { sh[lid] = sh[lid] + sh[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { out[P.slot * ${SLOTS}u + w] = sh[0]; }
  if (w == 0u && lid >= P.groups && lid < ${SLOTS}u) { out[P.slot * ${SLOTS}u + lid] = 0.0; }
}
`;
    return { code, grid: [q.groups], uniforms: h.uniforms };
  },
};

/**
 * partials [count] → out [2] = [scale, norm]: norm = sqrt(Σ partials), scale = min(1, maxNorm/(norm + 1e-6)).
 * That is PyTorch's clip_grad_norm_ form; tf.clip_by_global_norm (ELECTRA) uses maxNorm/max(norm, maxNorm),
 * which differs only by the 1e-6 (a relative 1e-6 when clipping). One workgroup; a fixed summation
 * order, so the norm is deterministic.
 */
export interface ClipScaleParams { count: number; maxNorm: number }

export const clipScaleKernel: Kernel<ClipScaleParams> = {
  name: 'clipScale',
  cpu(q, [partials], [out]) {
    let acc = 0;
    for (let i = 0; i < q.count; i++) acc += partials[i];
    const norm = Math.sqrt(acc);
    out[0] = Math.min(1, q.maxNorm / (norm + 1e-6));
    out[1] = norm;
  },
  wgsl(q) {
    const h = header([['count', 'u32', q.count], ['maxNorm', 'f32', q.maxNorm]], [['partials', 'array<f32>']], [['out', 'array<f32>']]);
    const code = `${h.code}
var<workgroup> sh: array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) lid: u32) {
  var acc = 0.0;
  for (var i = lid; i < P.count; i += ${WG}u) { acc = acc + partials[i]; }
  sh[lid] = acc;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { sh[lid] = sh[lid] + sh[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let norm = sqrt(sh[0]);
    out[0] = min(1.0, P.maxNorm / (norm + 1e-6));
    out[1] = norm;
  }
}
`;
    return { code, grid: [1], uniforms: h.uniforms };
  },
};

// ---- launchers (all in place) --------------------------------------------------------------------

/** The per-step numbers of one parameter's update (see AdamParams); `clip` is set by the launcher. */
export type AdamStep = Omit<AdamParams, 'n' | 'clip'>;

/** p, m, v updated from g (scaled by clip[0] when a clip buffer [scale, norm] is given). */
export function adamUpdate(g: DeviceArray, clip: DeviceArray | null, p: DeviceArray, m: DeviceArray, v: DeviceArray, q: AdamStep, label: string): void {
  const n = p.shape.reduce((x, y) => x * y, 1);
  launchInto(adamKernel, { ...q, n, clip: clip !== null }, clip ? [g, clip] : [g], [p, m, v], label);
}

/** partials[slot·SLOTS …] = the per-workgroup Σ g² of one gradient. */
export function sumSquares(g: DeviceArray, partials: DeviceArray, slot: number, label: string): void {
  const n = g.shape.reduce((x, y) => x * y, 1);
  launchInto(sumSquaresKernel, { n, slot, groups: sumSquaresGroups(n) }, [g], [partials], label);
}

/** clip [2] = [scale, norm] from the first `count` partials. */
export function clipScale(partials: DeviceArray, clip: DeviceArray, count: number, maxNorm: number, label: string): void {
  launchInto(clipScaleKernel, { count, maxNorm }, [partials], [clip], label);
}
