// The optimizer family: AdamW over all parameters at once. The optimizer keeps every parameter, its Adam
// moments and a copy of its gradient in four buffers with one layout (each tensor padded to SLICE_ALIGN
// elements; pads stay zero), cut into chunks of CHUNK elements that never cross a tensor. Per step, three
// launches cover everything (per binding group of tensors, when the buffers exceed one binding):
//   1. sumSquares: partials[c] = Σ g² over chunk c (0 for tensors without a gradient this step);
//   2. norm: one workgroup sums the partials in a fixed order (deterministic) into the global norm and the
//      clip scale, and records the first step whose loss or gradient norm is not finite, with the tensor
//      whose gradient went first (sticky: later steps keep the first record). With dynamic loss scaling
//      (mixed precision: the gradients arrive multiplied by the loss scale S), a non-finite gradient norm
//      is an overflow instead: the step is skipped and S halves; S doubles after `growth` good steps in a
//      row; the norm and ĝ are unscaled here. A non-finite loss stays fatal;
//   3. adam: m, v and p of every chunk with ĝ = g·scale; nothing moves in a skipped step, nor once a
//      non-finite step is recorded, so the weights stay those of the last finite step.
// Numbers that change per step (lr, the bias-correction factors, the step) are uniforms declared
// uniform-only, so a run builds each program once.

import { type Device, type DeviceArray, type Field, FLAT_WG, type Kernel, SLICE_ALIGN, type Storage, grid1d, header, launchInto, uniformOnly } from '../device/device.js';

const WG = 256;
/** Elements per chunk: one workgroup of WG lanes × 4 vec4 items. */
export const CHUNK = WG * 16;
/** Entries of the optimizer's state buffer (f32): see STATE. */
export const STATE_LEN = 8;
/**
 * state[…]: the factor on g (clip scale ÷ loss scale), the global norm (unscaled), the first non-finite step
 * (-1 none), its tensor (-1: the loss), loss non-finite (0/1); with loss scaling: this step skipped (0/1),
 * steps skipped so far, good steps since the scale last changed.
 */
export const STATE = { scale: 0, norm: 1, badStep: 2, badTensor: 3, badLoss: 4, skip: 5, skips: 6, good: 7 } as const;

// ---- layout -------------------------------------------------------------------------------------

/** Where each tensor lives in the optimizer's buffers, and the chunks one launch walks. */
export interface AdamLayout {
  /** Elements of each tensor, and its offset (a multiple of SLICE_ALIGN). */
  sizes: number[]; offsets: number[];
  /** Elements of each buffer (the last tensor's padded end). */
  total: number;
  /** Tensors [first, end) bound together (their padded span fits one binding), with their chunk range. */
  groups: { first: number; end: number; start: number; n: number; chunk0: number; chunks: number }[];
  /** Per chunk (all groups): [first vec4 within its group, end vec4, tensor index, 0]. */
  chunkTable: Uint32Array;
}

/** The layout of tensors of `sizes` elements, groups limited to `maxBindingElems` elements each. */
export function adamLayout(sizes: readonly number[], maxBindingElems: number): AdamLayout {
  const pad = (n: number) => Math.max(SLICE_ALIGN, Math.ceil(n / SLICE_ALIGN) * SLICE_ALIGN);
  const offsets: number[] = [];
  let total = 0;
  for (const n of sizes) { offsets.push(total); total += pad(n); }
  const groups: AdamLayout['groups'] = [];
  const table: number[] = [];
  let i = 0;
  while (i < sizes.length) {
    const start = offsets[i];
    if (pad(sizes[i]) > maxBindingElems) throw new RangeError(`AdamW: a tensor of ${sizes[i]} elements is over this adapter's largest binding (${maxBindingElems})`);
    let end = i;
    while (end < sizes.length && offsets[end] + pad(sizes[end]) - start <= maxBindingElems) end++;
    const chunk0 = table.length / 4;
    for (let t = i; t < end; t++) {
      for (let c = 0; c < pad(sizes[t]); c += CHUNK) {
        const a = offsets[t] - start + c, b = offsets[t] - start + Math.min(pad(sizes[t]), c + CHUNK);
        table.push(a / 4, b / 4, t, 0);
      }
    }
    groups.push({ first: i, end, start, n: offsets[end - 1] + pad(sizes[end - 1]) - start, chunk0, chunks: table.length / 4 - chunk0 });
    i = end;
  }
  return { sizes: [...sizes], offsets, total, groups, chunkTable: Uint32Array.from(table) };
}

// ---- kernels ------------------------------------------------------------------------------------

/** Per group: partials[chunk0 + c] = Σ g² over chunk c of the group, or 0 when its tensor is not live. */
export interface SumSquaresParams { chunks: number; chunk0: number }

const ssFields = (q: SumSquaresParams): Field[] => [['chunks', 'u32', q.chunks], ['chunk0', 'u32', q.chunk0]];

export const sumSquaresKernel: Kernel<SumSquaresParams> = {
  name: 'adam_sumsquares',
  uniformOnly: uniformOnly(['chunk0'], ssFields),
  // g [group span], table u32 [4·all chunks], live u32 [tensors] → partials [all chunks]
  cpu(q, [g, table, live], [partials]) {
    for (let c = 0; c < q.chunks; c++) {
      const e = 4 * (q.chunk0 + c);
      let acc = 0;
      if (live[table[e + 2]]) for (let i = 4 * table[e]; i < 4 * table[e + 1]; i++) acc += g[i] * g[i];
      partials[q.chunk0 + c] = acc;
    }
  },
  wgsl(q) {
    const h = header(ssFields(q), [['g', 'array<vec4<f32>>'], ['tbl', 'array<vec4<u32>>'], ['live', 'array<u32>']], [['partials', 'array<f32>']]);
    const code = `${h.code}
var<workgroup> sh: array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let c = ${FLAT_WG};
  if (c >= P.chunks) { return; }
  let t = tbl[P.chunk0 + c];
  var acc = 0.0;
  if (live[t.z] != 0u) {
    for (var i = t.x + lid; i < t.y; i += ${WG}u) { let x = g[i]; acc = acc + dot(x, x); }
  }
  sh[lid] = acc;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { sh[lid] = sh[lid] + sh[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { partials[P.chunk0 + c] = sh[0]; }
}
`;
    return { code, grid: grid1d(q.chunks), uniforms: h.uniforms };
  },
};

/**
 * partials [count], table, loss? [1] → state [STATE_LEN]: norm = √Σ partials (fixed order), scale =
 * min(1, maxNorm/(norm + 1e-6)) when clipping (maxNorm > 0; PyTorch's clip_grad_norm_ form), else 1.
 * At `step`, if nothing was recorded yet and the loss or the norm is not finite, records the step and
 * the tensor of the first chunk whose partial is not finite (-1 when it is the loss).
 */
export interface NormParams { count: number; maxNorm: number; step: number; withLoss: boolean; growth: number }

/** growth 0: no loss scaling; else the good steps after which the scale doubles (and a 5th binding, the scale [1]). */
const normFields = (q: NormParams): Field[] => [['count', 'u32', q.count], ['maxNorm', 'f32', q.maxNorm], ['step', 'f32', q.step], ['growth', 'f32', q.growth]];

const finite = (x: number) => Number.isFinite(x);

export const normKernel: Kernel<NormParams> = {
  name: 'adam_norm',
  uniformOnly: uniformOnly(['step'], normFields),
  cpu(q, ins, [state, lossScale]) {
    const [partials, table] = ins, loss = q.withLoss ? ins[2] : null;
    let acc = 0, bad = -1;
    for (let i = 0; i < q.count; i++) { acc += partials[i]; if (bad < 0 && !finite(partials[i])) bad = i; }
    const S = q.growth > 0 ? lossScale[0] : 1;
    const norm = Math.sqrt(acc) / S;
    state[STATE.norm] = norm;
    state[STATE.scale] = (q.maxNorm > 0 ? Math.min(1, q.maxNorm / (norm + 1e-6)) : 1) / S;
    const lossBad = loss !== null && !finite(loss[0]);
    state[STATE.skip] = 0;
    if (q.growth > 0 && !lossBad) {
      if (!finite(norm)) { state[STATE.skip] = 1; state[STATE.skips] += 1; state[STATE.good] = 0; lossScale[0] = S / 2; return; }
      state[STATE.good] += 1;
      if (state[STATE.good] >= q.growth) { state[STATE.good] = 0; lossScale[0] = S * 2; }
      return;
    }
    if (state[STATE.badStep] < 0 && (lossBad || !finite(norm))) {
      state[STATE.badStep] = q.step;
      state[STATE.badTensor] = lossBad || bad < 0 ? -1 : table[4 * bad + 2];
      state[STATE.badLoss] = lossBad ? 1 : 0;
    }
  },
  wgsl(q) {
    const h = header(normFields(q), [['partials', 'array<f32>'], ['tbl', 'array<vec4<u32>>'], ...(q.withLoss ? [['loss', 'array<f32>'] as const] : [])],
      [['state', 'array<f32>'], ...(q.growth > 0 ? [['lscale', 'array<f32>'] as const] : [])]);
    const scaled = q.growth > 0;
    // Bit tests, not comparisons: WGSL does not promise NaN and infinity semantics.
    const code = `${h.code}
fn bad_(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u; }
var<workgroup> sh: array<f32, ${WG}>;
var<workgroup> fb: array<u32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) lid: u32) {
  var acc = 0.0;
  var first = 0xffffffffu;
  for (var i = lid; i < P.count; i += ${WG}u) {
    let x = partials[i];
    acc = acc + x;
    if (bad_(x) && first == 0xffffffffu) { first = i; }
  }
  sh[lid] = acc;
  fb[lid] = first;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { sh[lid] = sh[lid] + sh[lid + s]; fb[lid] = min(fb[lid], fb[lid + s]); }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let S = ${scaled ? 'lscale[0]' : '1.0'};
    let norm = sqrt(sh[0]) / S;
    state[${STATE.norm}] = norm;
    state[${STATE.scale}] = select(1.0, min(1.0, P.maxNorm / (norm + 1e-6)), P.maxNorm > 0.0) / S;
    let lossBad = ${q.withLoss ? 'bad_(loss[0])' : 'false'};
    state[${STATE.skip}] = 0.0;${scaled ? `
    if (!lossBad) {
      // An overflow of the scaled gradients: skip this step and halve the scale; else count a good step.
      if (bad_(norm)) {
        state[${STATE.skip}] = 1.0;
        state[${STATE.skips}] = state[${STATE.skips}] + 1.0;
        state[${STATE.good}] = 0.0;
        lscale[0] = S * 0.5;
      } else {
        state[${STATE.good}] = state[${STATE.good}] + 1.0;
        if (state[${STATE.good}] >= P.growth) { state[${STATE.good}] = 0.0; lscale[0] = S * 2.0; }
      }
      return;
    }` : ''}
    if (state[${STATE.badStep}] < 0.0 && (lossBad || bad_(norm))) {
      state[${STATE.badStep}] = P.step;
      state[${STATE.badTensor}] = select(f32(tbl[min(fb[0], P.count - 1u)].z), -1.0, lossBad || fb[0] == 0xffffffffu);
      state[${STATE.badLoss}] = select(0.0, 1.0, lossBad);
    }
  }
}
`;
    return { code, grid: [1], uniforms: h.uniforms };
  },
};

/**
 * Per group, p, m, v [group span] in place from g, for chunks of live tensors, unless state records a
 * non-finite step. With ĝ = g·scale:
 *   m = β1 m + (1-β1) ĝ;  v = β2 v + (1-β2) ĝ²;  p -= lr·s_t · ((m·c1) / (√(v·c2) + eps) + wd·d_t·p)
 * where s_t is tensor t's lr factor and d_t its decay flag (hyper [2·t, 2·t+1]); c1 = 1/(1-β1ᵗ),
 * c2 = 1/(1-β2ᵗ) with bias correction, else 1 (ELECTRA's AdamWeightDecayOptimizer).
 */
export interface AdamParams { chunks: number; chunk0: number; lr: number; beta1: number; beta2: number; eps: number; wd: number; c1: number; c2: number }

const adamFields = (q: AdamParams): Field[] =>
  [['chunks', 'u32', q.chunks], ['chunk0', 'u32', q.chunk0], ['lr', 'f32', q.lr], ['beta1', 'f32', q.beta1], ['beta2', 'f32', q.beta2],
    ['eps', 'f32', q.eps], ['wd', 'f32', q.wd], ['c1', 'f32', q.c1], ['c2', 'f32', q.c2]];

export const adamKernel: Kernel<AdamParams> = {
  name: 'adam',
  uniformOnly: uniformOnly(['chunk0', 'lr', 'beta1', 'beta2', 'eps', 'wd', 'c1', 'c2'], adamFields),
  // g [span], table, live [tensors], hyper [2·tensors], state [STATE_LEN] → p, m, v [span]
  cpu(q, [g, table, live, hyper, state], [p, m, v]) {
    if (state[STATE.badStep] >= 0 || state[STATE.skip] !== 0) return;
    const scale = state[STATE.scale];
    for (let c = 0; c < q.chunks; c++) {
      const e = 4 * (q.chunk0 + c), t = table[e + 2];
      if (!live[t]) continue;
      const lr = q.lr * hyper[2 * t], wd = q.wd * hyper[2 * t + 1];
      for (let i = 4 * table[e]; i < 4 * table[e + 1]; i++) {
        const gi = g[i] * scale;
        m[i] = q.beta1 * m[i] + (1 - q.beta1) * gi;
        v[i] = q.beta2 * v[i] + (1 - q.beta2) * gi * gi;
        p[i] -= lr * ((m[i] * q.c1) / (Math.sqrt(v[i] * q.c2) + q.eps) + wd * p[i]);
      }
    }
  },
  wgsl(q) {
    const h = header(adamFields(q),
      [['g', 'array<vec4<f32>>'], ['tbl', 'array<vec4<u32>>'], ['live', 'array<u32>'], ['hyper', 'array<f32>'], ['state', 'array<f32>']],
      [['p', 'array<vec4<f32>>'], ['m', 'array<vec4<f32>>'], ['v', 'array<vec4<f32>>']]);
    const code = `${h.code}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let c = ${FLAT_WG};
  if (c >= P.chunks || state[${STATE.badStep}] >= 0.0 || state[${STATE.skip}] != 0.0) { return; }
  let t = tbl[P.chunk0 + c];
  if (live[t.z] == 0u) { return; }
  let scale = state[${STATE.scale}];
  let lr = P.lr * hyper[2u * t.z];
  let wd = P.wd * hyper[2u * t.z + 1u];
  for (var i = t.x + lid; i < t.y; i += ${WG}u) {
    let gi = g[i] * scale;
    let mi = P.beta1 * m[i] + (1.0 - P.beta1) * gi;
    let vi = P.beta2 * v[i] + (1.0 - P.beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    let pi = p[i];
    p[i] = pi - lr * ((mi * P.c1) / (sqrt(vi * P.c2) + P.eps) + wd * pi);
  }
}
`;
    return { code, grid: grid1d(q.chunks), uniforms: h.uniforms };
  },
};

// ---- launchers ----------------------------------------------------------------------------------

/** The optimizer's device arrays: p, m, v, g buffers (whole), the chunk table, live flags, hyper-parameters, partials, state. */
export interface AdamBuffers {
  p: DeviceArray; m: DeviceArray; v: DeviceArray; g: DeviceArray;
  table: DeviceArray; live: DeviceArray; hyper: DeviceArray; partials: DeviceArray; state: DeviceArray;
}

/** The per-step numbers of the update (see AdamParams). */
export type AdamStep = Omit<AdamParams, 'chunks' | 'chunk0'>;

/** The slices of a group (or the whole buffers when there is one group), made once and reused. */
export function groupViews(device: Device, b: AdamBuffers, layout: AdamLayout, label: string): DeviceArray[][] {
  if (layout.groups.length === 1 && layout.groups[0].start === 0) return [[b.p, b.m, b.v, b.g]];
  return layout.groups.map((gr) => [b.p, b.m, b.v, b.g].map((a) => {
    const s: Storage = device.slice(a.storage, gr.start, gr.n, 'f32', `${label} group`);
    return { storage: s, shape: [gr.n], dtype: 'f32' as const, device };
  }));
}

/** Steps 1–3 over every group: norm, clip scale and finite check into state, then the update. */
export function adamStepAll(b: AdamBuffers, views: DeviceArray[][], layout: AdamLayout, q: AdamStep,
  clip: { maxNorm: number; step: number; loss: DeviceArray | null; lossScale: { scale: DeviceArray; growth: number } | null }, label: string): void {
  layout.groups.forEach((gr, k) => {
    launchInto(sumSquaresKernel, { chunks: gr.chunks, chunk0: gr.chunk0 }, [views[k][3], b.table, b.live], [b.partials], `${label} sumSquares`);
  });
  const count = layout.chunkTable.length / 4;
  const ls = clip.lossScale;
  launchInto(normKernel, { count, maxNorm: clip.maxNorm, step: clip.step, withLoss: clip.loss !== null, growth: ls?.growth ?? 0 },
    clip.loss ? [b.partials, b.table, clip.loss] : [b.partials, b.table], ls ? [b.state, ls.scale] : [b.state], `${label} norm`);
  layout.groups.forEach((gr, k) => {
    const [p, m, v, g] = views[k];
    launchInto(adamKernel, { ...q, chunks: gr.chunks, chunk0: gr.chunk0 }, [g, b.table, b.live, b.hyper, b.state], [p, m, v], `${label} update`);
  });
}
