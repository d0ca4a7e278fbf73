// Fused multi-head attention (FlashAttention-style): O = drop(softmax(Q·Kᵀ·scale + mask))·V per head,
// without ever writing the [B, nh, T, T] scores or probabilities to memory.
//   Q, K, V, O, dO, dQ, dK, dV: [B, T, H] with H = nh·dh; head h is columns h·dh … h·dh + dh − 1 (the
//   projections as the Linear layers write them: no head split or merge copies).
//   mask: f32 [B, T] (1 keep, 0 pad): s = (q·k)·scale + (1 − m_k)·(−10000) − cm_b, with cm_b the max of the
//   additive term over batch b's keys, as softmax.ts (a fully padded row is then softmax(x·scale) exactly).
//   L: [B, nh, T], the log-sum-exp of each score row: the only thing the forward saves besides O.
//   Dropout: probability (b, h, q, k) is element i = ((b·nh + h)·T + q)·T + k of kernels/random.ts's dropout
//   over [B, nh, T, T] (word i mod 4 of philox(⌊i/4⌋, stream); keep = (word >> 8) ≥ thr; × 1/(1 − p)), so the
//   fused op draws exactly the composed path's mask. The softmax denominator never sees dropout.
// Backward (FlashAttention-2, deterministic, no atomics), three launches:
//   stats: LD [B, nh, T, 2] = (L, D = rowsum(dO∘O));
//   dQ pass, an invocation per query row: P = exp(s − L) recomputed, dP = drop(dO·Vᵀ), dS = P∘(dP − D),
//   dQ = scale·Σ_k dS·K;  dK/dV pass, an invocation per key row: dV = Σ_q drop(P)·dO, dK = scale·Σ_q dS·Q.
// Every pass: `rows` rows per workgroup (64; 32 for launches too small to fill a GPU), a row per lane (or per
// 2–4 lanes of a subgroup with `split`), its dh-vector in registers as vec4s; the other side streamed in
// tiles of `tile` rows (32 for dh ≤ 64, 16 for dh ≤ 128): staged in workgroup memory with coalesced vec4
// loads on GPUs (≤ 19 KiB per workgroup), subgroup-broadcast from storage on software adapters (see
// AttentionConfig). No pass writes a score: only O, L, LD (temporary) and the gradients reach memory.
// Launchers at the bottom.

import { type ArraySpec, type Device, type DeviceArray, FLAT_WG, type Field, type GpuCaps, type Kernel, type WgslProgram, freeTemp, grid1d, header, launch, uniformOnly } from '../device/device.js';
import { ShapeError, fmt } from '../device/shape.js';
import { WGSL_PHILOX, philox } from './random.js';
import { NEG_BIG, vecWgsl, vecWidth } from './rows.js';
import { MASK_NEG } from './softmax.js';

/** The largest head size the WGSL kernels take: a dK/dV lane keeps 4·dh/split floats in registers, unrolled. */
export const MAX_HEAD_DIM = 256;

/**
 * How the GPU kernels split the work. Each invocation owns one row (a query row in the forward and dQ
 * passes, a key row in the dK/dV pass) and loops over the other side in tiles of `tile` rows; `load` is
 * how the rows of a tile reach the invocations:
 * - 'staged' (GPUs): the workgroup first copies the tile to workgroup memory (coalesced vec4 loads; each
 *   K/V/Q/dO element leaves global memory once per workgroup), and in the dK/dV pass draws the tile's
 *   dropout bits together (one Philox call per 4 elements, not one per element and invocation).
 * - 'broadcast' (software adapters with subgroups of ≥ 8): no workgroup memory and no barriers (on lavapipe
 *   each barrier switches every 8-lane fiber, and every load instruction is a per-lane sequence): lane l of
 *   each 8 loads vectors l, l + 8, … of the row and subgroupBroadcast hands them to the others, 8× fewer
 *   loads (as matmul's lavapipe path). Forward [8, 4, 128, 64] on lavapipe: 13 ms against 60 ms 'direct'.
 * - 'direct': every invocation reads every vector itself (software adapters without subgroups).
 * `split` 2 or 4 ('staged' with subgroups): that many lanes of a subgroup own a row, each a slice of its
 * dh-vector, and add their partial dot products with subgroupShuffleXor (the same bits in every lane). At
 * dh = 64 a dK/dV lane then holds k, v, dK, dV halves (128 floats) instead of 256: NVIDIA's limit is 255
 * registers per invocation, so whole rows would spill; the forward and dQ pass halve their registers too.
 * (On lavapipe splitting measured 3–6× slower: there the extra per-lane loads dominate.)
 */
export interface AttentionConfig { rows: number; tile: number; load: 'staged' | 'broadcast' | 'direct'; split: 1 | 2 | 4 }

export interface AttentionParams {
  B: number; T: number; nh: number; dh: number;
  scale: number;
  masked: boolean;
  dropout: boolean;
  /** Philox key words and stream, keep threshold round(p·2²⁴), 1/(1 − p): uniforms only (a fresh stream each step). */
  k0: number; k1: number; stream: number; thr: number; dscale: number;
  /** Forced (tests); default: selectAttention's pick for the adapter. */
  config?: AttentionConfig;
}

/**
 * The uniforms of every attention program: the scale, the per-call dropout draw, and the loop bounds T and
 * tile/4, 32/4 (Philox calls per keep word): uniform so compilers do not unroll those loops (see WGSL).
 */
const fields = (p: AttentionParams): Field[] => [
  ['scale', 'f32', p.scale], ['k0', 'u32', p.k0], ['k1', 'u32', p.k1], ['stream', 'u32', p.stream], ['thr', 'u32', p.thr], ['dscale', 'f32', p.dscale],
  ['T', 'u32', p.T], ['nibt', 'u32', (p.config?.tile ?? attentionTile(p.dh)) / 4], ['nib32', 'u32', 8],
];
const perCall = uniformOnly<AttentionParams>(['k0', 'k1', 'stream', 'thr', 'dscale'], fields);

/** The tile for head size dh (see selectAttention). */
export function attentionTile(dh: number): number {
  let tile = 32;
  while (tile > 4 && 2 * tile * dh * 4 > 16384) tile /= 2;
  return tile;
}

/**
 * The tile: a power of two ≤ 32 keeping two staged tiles of dh floats within 16 KiB (32 for dh ≤ 64, 16 for
 * dh ≤ 128): small workgroup footprints keep more workgroups resident. Software adapters take 64-row
 * workgroups as rows.ts; GPUs too, or 32 rows when the launch would otherwise not fill a large GPU, and
 * split rows over 2 lanes (dh 64) or 4 (dh 128) where subgroups allow.
 */
export function selectAttention(p: Pick<AttentionParams, 'B' | 'T' | 'nh' | 'dh'>, caps?: GpuCaps): AttentionConfig {
  const tile = attentionTile(p.dh);
  if (caps?.software) return { rows: 64, tile, load: caps.subgroups && (caps.subgroupMinSize ?? 0) >= 8 ? 'broadcast' : 'direct', split: 1 };
  const rows = p.B * p.nh * Math.ceil(p.T / 64) >= 264 ? 64 : 32;
  // Lanes per row: the fewest (1, 2, 4) leaving ≤ 8 vectors (32 floats) of each row per lane, so a dK/dV
  // lane holds ≤ 128 floats of k, v, dK, dV (WebGPU subgroups have at least 4 lanes).
  const nv = p.dh / vecWidth(p.dh);
  let split: 1 | 2 | 4 = 1;
  while (split < 4 && nv / split > 8 && nv % (2 * split) === 0 && caps?.subgroups) split = split === 1 ? 2 : 4;
  return { rows, tile, load: 'staged', split };
}

// ---- CPU references ------------------------------------------------------------------------------

/** The keep flags (dropout) of elements as random.ts's dropout kernel draws them, one Philox call per 4. */
class KeepRef {
  private ctr = -1;
  private w = new Uint32Array(4);
  constructor(private readonly p: AttentionParams) {}
  keep(i: number): boolean {
    const c = Math.floor(i / 4);
    if (c !== this.ctr) { philox(c, this.p.stream, 0, 0, this.p.k0, this.p.k1, this.w); this.ctr = c; }
    return this.w[i % 4] >>> 8 >= this.p.thr;
  }
}

/** The additive mask of batch b's keys, shifted by its max (0 everywhere without a mask). */
function keyBiasRef(p: AttentionParams, mask: ArrayLike<number> | undefined, b: number): Float64Array {
  const bias = new Float64Array(p.T);
  if (!p.masked || !mask) return bias;
  let cm = -Infinity;
  for (let k = 0; k < p.T; k++) cm = Math.max(cm, (1 - mask[b * p.T + k]) * MASK_NEG);
  for (let k = 0; k < p.T; k++) bias[k] = (1 - mask[b * p.T + k]) * MASK_NEG - cm;
  return bias;
}

/** Walks every (b, h) with the offsets of head h in [B, T, H] and its row of L/LD. */
function eachHead(p: AttentionParams, f: (b: number, h: number, off: (t: number) => number, bh: number) => void): void {
  const H = p.nh * p.dh;
  for (let b = 0; b < p.B; b++) for (let h = 0; h < p.nh; h++) f(b, h, (t) => (b * p.T + t) * H + h * p.dh, b * p.nh + h);
}

const dot = (a: ArrayLike<number>, ia: number, b: ArrayLike<number>, ib: number, n: number): number => {
  let s = 0;
  for (let d = 0; d < n; d++) s += a[ia + d] * b[ib + d];
  return s;
};

/** Score s_qk = (q·k)·scale + bias_k for every key of query row t. */
function scoresRef(p: AttentionParams, q: ArrayLike<number>, k: ArrayLike<number>, off: (t: number) => number, t: number, bias: Float64Array, s: Float64Array): void {
  for (let j = 0; j < p.T; j++) s[j] = dot(q, off(t), k, off(j), p.dh) * p.scale + bias[j];
}

export const attentionForwardKernel: Kernel<AttentionParams> = {
  name: 'attention',
  uniformOnly: perCall,
  // q, k, v [B·T·H], mask? [B·T] → o [B·T·H], lse [B·nh·T]
  cpu(p, [q, k, v, mask], [o, lse]) {
    const s = new Float64Array(p.T), keep = new KeepRef(p);
    eachHead(p, (b, _h, off, bh) => {
      const bias = keyBiasRef(p, mask, b);
      for (let t = 0; t < p.T; t++) {
        scoresRef(p, q, k, off, t, bias, s);
        let m = -Infinity, l = 0;
        for (let j = 0; j < p.T; j++) m = Math.max(m, s[j]);
        for (let j = 0; j < p.T; j++) l += Math.exp(s[j] - m);
        const ot = off(t), rowBase = (bh * p.T + t) * p.T;
        for (let d = 0; d < p.dh; d++) o[ot + d] = 0;
        for (let j = 0; j < p.T; j++) {
          const pj = (Math.exp(s[j] - m) / l) * (!p.dropout ? 1 : keep.keep(rowBase + j) ? p.dscale : 0);
          if (pj !== 0) for (let d = 0; d < p.dh; d++) o[ot + d] += pj * v[off(j) + d];
        }
        lse[bh * p.T + t] = m + Math.log(l);
      }
    });
  },
  wgsl: (p, caps) => forwardWgsl(p, p.config ?? selectAttention(p, caps)),
};

/** Backward stats: (L, D = Σ_d dO·O) per query row, interleaved as LD [B·nh·T, 2]. */
export const attentionStatsKernel: Kernel<AttentionParams> = {
  name: 'attention_stats',
  uniformOnly: perCall,
  // o [B·T·H], dO [B·T·H], lse [B·nh·T] → ld [B·nh·T·2]
  cpu(p, [o, dO, lse], [ld]) {
    eachHead(p, (_b, _h, off, bh) => {
      for (let t = 0; t < p.T; t++) {
        const r = bh * p.T + t;
        ld[2 * r] = lse[r];
        ld[2 * r + 1] = dot(o, off(t), dO, off(t), p.dh);
      }
    });
  },
  wgsl: (p) => statsWgsl(p),
};

export const attentionDqKernel: Kernel<AttentionParams> = {
  name: 'attention_dq',
  uniformOnly: perCall,
  // q, k, v, dO [B·T·H], ld [B·nh·T·2], mask? [B·T] → dq [B·T·H]
  cpu(p, [q, k, v, dO, ld, mask], [dq]) {
    const s = new Float64Array(p.T), keep = new KeepRef(p);
    eachHead(p, (b, _h, off, bh) => {
      const bias = keyBiasRef(p, mask, b);
      for (let t = 0; t < p.T; t++) {
        scoresRef(p, q, k, off, t, bias, s);
        const r = bh * p.T + t, L = ld[2 * r], D = ld[2 * r + 1], ot = off(t), rowBase = r * p.T;
        for (let d = 0; d < p.dh; d++) dq[ot + d] = 0;
        for (let j = 0; j < p.T; j++) {
          const pj = Math.exp(s[j] - L);
          const dp = dot(dO, ot, v, off(j), p.dh) * (!p.dropout ? 1 : keep.keep(rowBase + j) ? p.dscale : 0);
          const ds = pj * (dp - D) * p.scale;
          for (let d = 0; d < p.dh; d++) dq[ot + d] += ds * k[off(j) + d];
        }
      }
    });
  },
  wgsl: (p, caps) => dqWgsl(p, p.config ?? selectAttention(p, caps)),
};

export const attentionDkvKernel: Kernel<AttentionParams> = {
  name: 'attention_dkv',
  uniformOnly: perCall,
  // q, k, v, dO [B·T·H], ld [B·nh·T·2], mask? [B·T] → dk, dv [B·T·H]
  cpu(p, [q, k, v, dO, ld, mask], [dk, dv]) {
    const s = new Float64Array(p.T), keep = new KeepRef(p);
    eachHead(p, (b, _h, off, bh) => {
      const bias = keyBiasRef(p, mask, b);
      for (let t = 0; t < p.T; t++) for (let d = 0; d < p.dh; d++) dk[off(t) + d] = dv[off(t) + d] = 0;
      for (let t = 0; t < p.T; t++) {
        scoresRef(p, q, k, off, t, bias, s);
        const r = bh * p.T + t, L = ld[2 * r], D = ld[2 * r + 1], ot = off(t), rowBase = r * p.T;
        for (let j = 0; j < p.T; j++) {
          const pj = Math.exp(s[j] - L), f = !p.dropout ? 1 : keep.keep(rowBase + j) ? p.dscale : 0;
          const ds = pj * (dot(dO, ot, v, off(j), p.dh) * f - D) * p.scale, oj = off(j);
          for (let d = 0; d < p.dh; d++) {
            dv[oj + d] += pj * f * dO[ot + d];
            dk[oj + d] += ds * q[ot + d];
          }
        }
      }
    });
  },
  wgsl: (p, caps) => dkvWgsl(p, p.config ?? selectAttention(p, caps)),
};

// ---- WGSL ------------------------------------------------------------------------------------------
// Written for compilers that unroll whatever they can: the dh-vector is unrolled here into named
// registers (q0, q1, …; no private arrays, which lavapipe lowers to if-ladders), and every loop over
// rows is bounded by a uniform (P.T), not a constant: with constant bounds Mesa's NIR unrolled the row
// loops completely and one forward pipeline took 6–30 s to compile on lavapipe.
// Names in every pass: row (this lane's row), rc (row clamped to T − 1), half (which slice of the dh-vector
// the lane owns with split > 1; its vectors start at vo), t0 (first row of the current tile), j (row t0 + j).

/**
 * Lazy rescaling (FlashAttention-4's): the running max m is raised only when a score exceeds it by more
 * than RESCALE, so exp(s − m) ≤ e⁸ ≈ 3000 (l and O stay far from f32 overflow) and O, l are rescaled at a
 * handful of keys per row; no tile of scores has to be held to find its max first.
 */
const RESCALE = 8;

/** The statements f(0) … f(n − 1) joined: code over the vectors of a (half) head row. */
const each = (n: number, f: (c: number) => string, sep = '\n'): string => [...Array(n).keys()].map(f).join(sep);

/** `var <name> = Σ_c a(c)·b(c)` as one vector fma chain (hsum it for the dot product). */
const dotV = (n: number, name: string, a: (c: number) => string, b: (c: number) => string): string =>
  `var ${name} = ${a(0)} * ${b(0)};${each(n - 1, (c) => ` ${name} = fma(${a(c + 1)}, ${b(c + 1)}, ${name});`, '')}`;

/** The full dot product from a lane's partial vector sum: with split 2, plus the partner lane's (the same bits on both). */
const reduce = (c: AttentionConfig, v: string): string => (c.split > 1 ? `pair(hsum(${v}))` : `hsum(${v})`);

const nvOf = (p: AttentionParams): number => p.dh / vecWidth(p.dh);
/** Vectors per lane. */
const nvl = (p: AttentionParams, c: AttentionConfig): number => nvOf(p) / c.split;

/**
 * Module-scope pieces every pass shares: the vector type over dh (vec4 when dh % 4 = 0), the shape as
 * constants for index arithmetic (the shape is part of the program key, so divisions by them compile to
 * multiplies), the mask helpers and, with dropout, Philox and the keep-bit helpers.
 *   TT: T; TL: T − 1 (0 for T = 0); NH: heads; NV: vectors per head row; HV: vectors per token row [H];
 *   NVS: vectors per staged row (see stageRows); RB: rows per workgroup; WG: invocations per workgroup
 *   (RB · split); KT: tile rows.
 */
function prelude(p: AttentionParams, c: AttentionConfig): string {
  // keepN(i0, g0, gs): bits j < n are the keep flags of elements i0 + j, from the Philox calls g0, g0 + gs, …
  // (split lanes draw alternate calls and OR their words). With T % 4 = 0 every i0 is a multiple of 4 (rows
  // start at multiples of T, tiles at multiples of 4): n/4 calls; otherwise n/4 + 1, shifted into place.
  const nib = (n: number) => `P.nib${n === 32 ? '32' : 't'}`;
  const keepFn = (n: number) => (p.T % 4 === 0 ? `fn keep${n}(i0: u32, g0: u32, gs: u32) -> u32 {
  var bits = 0u;
  for (var g = g0; g < ${nib(n)}; g += gs) { bits = bits | (nib(i0 / 4u + g) << (4u * g)); }
  return bits;
}
` : `fn keep${n}(i0: u32, g0: u32, gs: u32) -> u32 {
  let off = i0 & 3u;
  var bits = 0u;
  for (var g = g0; g <= ${nib(n)}; g += gs) {
    if (g == 0u) { bits = bits | (nib(i0 / 4u) >> off); }
    else if (4u * g - off < 32u) { bits = bits | (nib(i0 / 4u + g) << (4u * g - off)); }
  }
  return bits;
}
`);
  const dropout = !p.dropout ? '' : `${WGSL_PHILOX}
// The keep flags of the 4 elements of Philox counter c (words 0..3 → bits 0..3).
fn nib(c: u32) -> u32 {
  let kw = (philox_(vec4u(c, P.stream, 0u, 0u), vec2u(P.k0, P.k1)) >> vec4u(8u)) >= vec4u(P.thr);
  return select(0u, 1u, kw.x) | select(0u, 2u, kw.y) | select(0u, 4u, kw.z) | select(0u, 8u, kw.w);
}
fn keep1(i: u32) -> bool { return (philox_(vec4u(i / 4u, P.stream, 0u, 0u), vec2u(P.k0, P.k1))[i & 3u] >> 8u) >= P.thr; }
${keepFn(c.tile)}${c.tile !== 32 ? keepFn(32) : ''}`;
  const mask = p.masked ? `// The max of batch b's additive mask, which every score of the batch is shifted by (softmax.ts).
fn maskShift(b: u32) -> f32 {
  var cm = ${NEG_BIG};
  for (var j = 0u; j < P.T; j++) { cm = max(cm, (1.0 - mask[b * TT + j]) * ${MASK_NEG}.0); }
  return cm;
}
// The additive term of key kk < T.
fn keyBias(b: u32, kk: u32, cm: f32) -> f32 { return (1.0 - mask[b * TT + kk]) * ${MASK_NEG}.0 - cm; }
` : `fn maskShift(b: u32) -> f32 { return 0.0; }
fn keyBias(b: u32, kk: u32, cm: f32) -> f32 { return 0.0; }
`;
  return `${vecWgsl(vecWidth(p.dh))}const TT = ${p.T}u;
const TL = ${Math.max(0, p.T - 1)}u;
const NH = ${p.nh}u;
const NV = ${nvOf(p)}u;
const HV = ${p.nh * nvOf(p)}u;
const NVS = ${nvOf(p) + (c.split > 1 ? c.split : 0)}u;
const RB = ${c.rows}u;
const WG = ${c.rows * c.split}u;
const KT = ${c.tile}u;
${c.split > 1 ? `fn pair(x: f32) -> f32 {
  let y = x + subgroupShuffleXor(x, 1u);
  return ${c.split === 4 ? 'y + subgroupShuffleXor(y, 2u)' : 'y'};
}
` : ''}${mask}${dropout}`;
}

/** The header of a pass: uniforms (fields) and q, k, v, … as head-row vectors, ld as (L, D) pairs, the mask. */
function attnHeader(p: AttentionParams, c: AttentionConfig, inputs: string[], outputs: [string, string][]) {
  const binds = [...inputs.map((n): [string, string] => [n, n === 'ld' ? 'array<vec2f>' : 'array<V>']), ...(p.masked ? [['mask', 'array<f32>'] as [string, string]] : [])];
  const h = header(fields(p), binds, outputs);
  return { ...h, code: (c.load === 'broadcast' || c.split > 1 ? 'enable subgroups;\n' : '') + h.code };
}

/**
 * The entry point and the flat workgroup index split into (bh = b·nh + h, block of `rows` rows); the
 * workgroup's head offset hb, this lane's row and half.
 */
function blockPreamble(p: AttentionParams, c: AttentionConfig): { code: string; grid: number[] } {
  const blocks = Math.ceil(p.T / c.rows), total = p.B * p.nh * blocks;
  const sgArgs = c.load === 'broadcast' ? ', @builtin(subgroup_invocation_id) sid: u32'
    : c.split > 1 ? ', @builtin(subgroup_invocation_id) sid: u32, @builtin(subgroup_id) sgid: u32, @builtin(subgroup_size) sgs: u32' : '';
  // With split 2 the pair of lanes is taken from the subgroup ids, so subgroupShuffleXor(·, 1) always reaches
  // the partner whatever order an adapter numbers invocations in.
  const slot = c.split > 1 ? `sgid * (sgs / ${c.split}u) + sid / ${c.split}u` : 'lid';
  return {
    grid: grid1d(total),
    code: `@compute @workgroup_size(${c.rows * c.split})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32${sgArgs}) {
  let g = ${FLAT_WG};
  if (g >= ${total}u) { return; }
  let bh = g / ${blocks}u;
  let b = bh / NH;
  let hb = b * TT * HV + (bh % NH) * NV;       // head h of token 0 of batch b, in vectors
  let slot = ${slot};                         // this lane's row within the block
  let row = (g % ${blocks}u) * RB + slot;     // this lane's row (query, or key in the dK/dV pass)
  let rc = min(row, TL);                      // clamped: lanes past T compute, never store
  let half = ${c.split > 1 ? `sid & ${c.split - 1}u` : '0u'};
  let vo = half * ${nvl(p, c)}u;                // the first vector of the row this lane owns
  let so = half * ${nvl(p, c) + (c.split > 1 ? 1 : 0)}u;                // the same in a staged row
  let cm = maskShift(b);${c.load === 'broadcast' ? '\n  let sl = sid & 7u;                          // which vector of each 8 this lane loads' : ''}`,
  };
}

/**
 * How a pass reads this lane's vectors of row `t0 + j` of the streamed side (src in storage, `staged` its
 * workgroup copy): statements `pre` at the top of the iteration and `at(i)`, the expression of vector i.
 */
function rowReader(p: AttentionParams, c: AttentionConfig, src: string, staged: string): { pre: string; at: (i: number) => string } {
  if (c.load === 'staged') return { pre: '', at: (i) => `${staged}[j * NVS + so + ${i}u]` };
  if (c.load === 'direct') return { pre: '', at: (i) => `${src}[hb + (t0 + j) * HV + vo + ${i}u]` };
  const nv = nvOf(p);
  return {
    pre: each(Math.ceil(nv / 8), (q) => `      let ${src}_${q} = ${src}[hb + (t0 + j) * HV + min(${8 * q}u + sl, ${nv - 1}u)];`),
    at: (i) => `subgroupBroadcast(${src}_${i >> 3}, ${i & 7}u)`,
  };
}

/**
 * Stages rows t0 … t0 + KT − 1 (clamped to T) of each (src, dst) pair in workgroup memory: row j at
 * dst[j·NVS …]. With split lanes each slice of a row is followed by one padding vector: the lanes of a row
 * read their slices at once, and unpadded slices 8 vectors (32 floats) apart would hit the same banks.
 */
function stageRows(p: AttentionParams, c: AttentionConfig, pairs: [src: string, dst: string][]): string {
  const at = c.split > 1 ? `(e / NV) * NVS + e % NV + (e % NV) / ${nvl(p, c)}u` : 'e';
  return `    for (var e = lid; e < KT * NV; e += WG) {
      let src = hb + min(t0 + e / NV, TL) * HV + e % NV;
      let dst = ${at};
${pairs.map(([s, d]) => `      ${d}[dst] = ${s}[src];`).join('\n')}
    }`;
}

/** Workgroup arrays for a staged pass: two tiles of KT rows and a per-row extra. */
const stageDecls = (c: AttentionConfig, a: string, b: string, extra: string): string =>
  c.load !== 'staged' ? '' : `var<workgroup> ${a}: array<V, ${c.tile} * NVS>;\nvar<workgroup> ${b}: array<V, ${c.tile} * NVS>;\n${extra}\n`;

/** The dropout word of this row for the key tile at t0 (bit j: keep key t0 + j); split lanes draw half each. */
const tileKeepWord = (c: AttentionConfig): string => (c.split > 1
  ? `    let kh = keep${c.tile}(rowBase + t0, half, ${c.split}u);
    let kw2 = kh | subgroupShuffleXor(kh, 1u);
    let kw = ${c.split === 4 ? 'kw2 | subgroupShuffleXor(kw2, 2u)' : 'kw2'};
`
  : `    let kw = keep${c.tile}(rowBase + t0, 0u, 1u);
`);

/**
 * The key-tile loop of the forward and dQ passes: staging of K, V and the key biases (staged), the tile's
 * dropout word, then `body` for each key j of the tile with `kb` (its additive mask term) in scope.
 */
function keyTiles(p: AttentionParams, c: AttentionConfig, pre: string, body: string): string {
  const staged = c.load === 'staged';
  return `  for (var t0 = 0u; t0 < P.T; t0 += KT) {
${staged ? `${stageRows(p, c, [['k', 'sk'], ['v', 'sv']])}
    if (lid < KT) { sb[lid] = keyBias(b, min(t0 + lid, TL), cm); }
    workgroupBarrier();
` : ''}${p.dropout ? tileKeepWord(c) : ''}    let jn = min(KT, P.T - t0);
    for (var j = 0u; j < jn; j++) {
${pre}
      let kb = ${staged ? 'sb[j]' : 'keyBias(b, t0 + j, cm)'};
${body}
    }
${staged ? '    workgroupBarrier();\n' : ''}  }`;
}

/**
 * Forward: each lane a query row (q·scale in registers), one pass over the keys in tiles: s = q·k +
 * bias, m raised lazily, P̃ = exp(s − m), l += P̃, O += drop(P̃)·v. End: O / l and L = m + log l.
 */
function forwardWgsl(p: AttentionParams, c: AttentionConfig): WgslProgram {
  const n = nvl(p, c);
  const h = attnHeader(p, c, ['q', 'k', 'v'], [['o', 'array<V>'], ['lse', 'array<f32>']]);
  const pre = blockPreamble(p, c);
  const K = rowReader(p, c, 'k', 'sk'), Vr = rowReader(p, c, 'v', 'sv');
  const code = `${h.code}${prelude(p, c)}${stageDecls(c, 'sk', 'sv', `var<workgroup> sb: array<f32, ${c.tile}>;`)}
${pre.code}
  let qo = hb + rc * HV + vo;
${each(n, (i) => `  let q${i} = q[qo + ${i}u] * P.scale;`)}
${each(n, (i) => `  var a${i} = V(0.0);`)}
  let rowBase = (bh * TT + rc) * TT;           // dropout element index of (row, key 0)
  var m = ${NEG_BIG};
  var l = 0.0;
${keyTiles(p, c, `${K.pre}\n${Vr.pre}`, `      ${dotV(n, 'd', (i) => `q${i}`, K.at)}
      let s = ${reduce(c, 'd')} + kb;
      if (s > m + ${RESCALE}.0) {
        let corr = exp(m - s);
        l = l * corr;
        ${each(n, (i) => `a${i} = a${i} * corr;`, ' ')}
        m = s;
      }
      let pj = exp(s - m);
      l = l + pj;
      let pd = ${p.dropout ? 'select(0.0, pj * P.dscale, ((kw >> j) & 1u) != 0u)' : 'pj'};
${each(n, (i) => `      a${i} = fma(V(pd), ${Vr.at(i)}, a${i});`)}`)}
  if (row < TT) {
    let inv = 1.0 / l;
${each(n, (i) => `    o[qo + ${i}u] = a${i} * inv;`)}
    if (half == 0u) { lse[bh * TT + row] = m + log(l); }
  }
}
`;
  return { code, grid: pre.grid, uniforms: h.uniforms };
}

/** Stats: one invocation per (b, h, t) row: LD = (L, Σ dO∘O). */
function statsWgsl(p: AttentionParams): WgslProgram {
  const nv = nvOf(p);
  const h = header(fields(p), [['o', 'array<V>'], ['dO', 'array<V>'], ['lse', 'array<f32>']], [['ld', 'array<vec2f>']]);
  const rows = p.B * p.nh * p.T;
  const code = `${h.code}${vecWgsl(vecWidth(p.dh))}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let r = (${FLAT_WG}) * 64u + lid;              // (b·nh + h)·T + t
  if (r >= ${rows}u) { return; }
  let bh = r / ${p.T}u;
  let base = ((bh / ${p.nh}u) * ${p.T}u + r % ${p.T}u) * ${p.nh * nv}u + (bh % ${p.nh}u) * ${nv}u;
  ${dotV(nv, 'd', (i) => `o[base + ${i}u]`, (i) => `dO[base + ${i}u]`)}
  ld[r] = vec2f(lse[r], hsum(d));
}
`;
  return { code, grid: grid1d(Math.ceil(rows / 64)), uniforms: h.uniforms };
}

/** dQ pass: each lane a query row; key tiles as the forward; dQ = scale·Σ_k P∘(dP − D)·K. */
function dqWgsl(p: AttentionParams, c: AttentionConfig): WgslProgram {
  const n = nvl(p, c);
  const h = attnHeader(p, c, ['q', 'k', 'v', 'dO', 'ld'], [['dq', 'array<V>']]);
  const pre = blockPreamble(p, c);
  const K = rowReader(p, c, 'k', 'sk'), Vr = rowReader(p, c, 'v', 'sv');
  const code = `${h.code}${prelude(p, c)}${stageDecls(c, 'sk', 'sv', `var<workgroup> sb: array<f32, ${c.tile}>;`)}
${pre.code}
  let qo = hb + rc * HV + vo;
${each(n, (i) => `  let q${i} = q[qo + ${i}u] * P.scale;\n  let g${i} = dO[qo + ${i}u];\n  var a${i} = V(0.0);`)}
  let st = ld[bh * TT + rc];                   // (L, D) of this row
  let rowBase = (bh * TT + rc) * TT;
${keyTiles(p, c, `${K.pre}\n${Vr.pre}`, `      ${dotV(n, 'd', (i) => `q${i}`, K.at)}
      ${dotV(n, 'e', (i) => `g${i}`, Vr.at)}
      let pj = exp(${reduce(c, 'd')} + kb - st.x);
      let dpv = ${reduce(c, 'e')};
      let dp = ${p.dropout ? 'select(0.0, dpv * P.dscale, ((kw >> j) & 1u) != 0u)' : 'dpv'};
      let ds = pj * (dp - st.y);
${each(n, (i) => `      a${i} = fma(V(ds), ${K.at(i)}, a${i});`)}`)}
  if (row < TT) {
${each(n, (i) => `    dq[qo + ${i}u] = a${i} * P.scale;`)}
  }
}
`;
  return { code, grid: pre.grid, uniforms: h.uniforms };
}

/**
 * dK/dV pass: each lane a key row (k·scale and v in registers), looping over query tiles:
 * dV += drop(P)·dO, dK += P∘(dP − D)·Q; dK·scale at the end. Staged: Q, dO, LD and the tile's dropout
 * bits (rows/32 words per query row, drawn by the workgroup together) in workgroup memory.
 */
function dkvWgsl(p: AttentionParams, c: AttentionConfig): WgslProgram {
  const n = nvl(p, c);
  const h = attnHeader(p, c, ['q', 'k', 'v', 'dO', 'ld'], [['dk', 'array<V>'], ['dv', 'array<V>']]);
  const pre = blockPreamble(p, c);
  const staged = c.load === 'staged';
  const kw = c.rows / 32; // dropout words per query row
  if (p.dropout && staged && c.rows % 32) throw new Error(`attention: staged dropout needs rows a multiple of 32, got ${c.rows}`);
  const Q = rowReader(p, c, 'q', 'sq'), G = rowReader(p, c, 'dO', 'sg');
  const keepR = staged ? `((sm[j * ${kw}u + slot / 32u] >> (slot % 32u)) & 1u) != 0u` : 'keep1(rowBase + (t0 + j) * TT + row)';
  const code = `${h.code}${prelude(p, c)}${stageDecls(c, 'sq', 'sg', `var<workgroup> sl: array<vec2f, ${c.tile}>;${p.dropout ? `\nvar<workgroup> sm: array<u32, ${c.tile * kw}>;` : ''}`)}
${pre.code}
  let ko = hb + rc * HV + vo;
${each(n, (i) => `  let k${i} = k[ko + ${i}u] * P.scale;\n  let v${i} = v[ko + ${i}u];\n  var dk${i} = V(0.0);\n  var dv${i} = V(0.0);`)}
  let kb = keyBias(b, rc, cm);
  let rowBase = bh * TT * TT;                  // dropout element index of (query 0, key 0)
  for (var t0 = 0u; t0 < P.T; t0 += KT) {
${staged ? `${stageRows(p, c, [['q', 'sq'], ['dO', 'sg']])}
    if (lid < KT) { sl[lid] = ld[bh * TT + min(t0 + lid, TL)]; }
${p.dropout ? `    let kfirst = row - slot;                   // the workgroup's first key
    for (var e = lid; e < KT * ${kw}u; e += WG) {
      sm[e] = keep32(rowBase + min(t0 + e / ${kw}u, TL) * TT + kfirst + 32u * (e % ${kw}u), 0u, 1u);
    }
` : ''}    workgroupBarrier();
` : ''}    let jn = min(KT, P.T - t0);
    for (var j = 0u; j < jn; j++) {             // query t0 + j
${Q.pre}
${G.pre}
      ${dotV(n, 'd', Q.at, (i) => `k${i}`)}
      ${dotV(n, 'e', G.at, (i) => `v${i}`)}
      let st = ${staged ? 'sl[j]' : 'ld[bh * TT + t0 + j]'};
      let pj = exp(${reduce(c, 'd')} + kb - st.x);
      let dpv = ${reduce(c, 'e')};
${p.dropout ? `      let kp = ${keepR};
      let pd = select(0.0, pj * P.dscale, kp);
      let ds = pj * (select(0.0, dpv * P.dscale, kp) - st.y);
` : `      let pd = pj;
      let ds = pj * (dpv - st.y);
`}${each(n, (i) => `      dv${i} = fma(V(pd), ${G.at(i)}, dv${i});\n      dk${i} = fma(V(ds), ${Q.at(i)}, dk${i});`)}
    }
${staged ? '    workgroupBarrier();\n' : ''}  }
  if (row < TT) {
${each(n, (i) => `    dk[ko + ${i}u] = dk${i} * P.scale;\n    dv[ko + ${i}u] = dv${i};`)}
  }
}
`;
  return { code, grid: pre.grid, uniforms: h.uniforms };
}

// ---- launchers -------------------------------------------------------------------------------------

/** What regenerates the dropout mask (as ops' DropoutCtx) and the rate; null: no dropout. */
export interface AttentionDrop { p: number; k0: number; k1: number; stream: number }

export interface AttentionOptions { heads: number; scale: number; drop: AttentionDrop | null; config?: AttentionConfig }

/** Throws a ShapeError if this device's kernels cannot take q [B, T, H] with `heads` heads (the op checks first). */
export function checkAttention(q: DeviceArray, heads: number): void {
  const dh = q.shape[2] / heads;
  if (q.device.kind === 'webgpu' && dh > MAX_HEAD_DIM) throw new ShapeError(`attention: head size ${dh} (${fmt(q.shape)}, ${heads} heads) is over the WebGPU kernels' ${MAX_HEAD_DIM}`);
}

/** The params for q [B, T, H] with `heads` heads. */
export function attentionParams(q: DeviceArray, o: AttentionOptions, masked: boolean): AttentionParams {
  checkAttention(q, o.heads);
  const [B, T, H] = q.shape, nh = o.heads, dh = H / nh;
  const d = o.drop;
  const p: AttentionParams = {
    B, T, nh, dh, scale: o.scale, masked, dropout: !!d,
    k0: d?.k0 ?? 0, k1: d?.k1 ?? 0, stream: d?.stream ?? 0, thr: d ? Math.round(d.p * 2 ** 24) : 0, dscale: d ? 1 / (1 - d.p) : 1,
  };
  const config = o.config ?? (q.device.caps ? selectAttention(p, q.device.caps) : undefined);
  return config ? { ...p, config } : p;
}

/** Outputs of an empty problem (B·T = 0): nothing to compute (and the WGSL has no zero-size form). */
function empty(d: Device, specs: ArraySpec[], label: string): DeviceArray[] {
  return specs.map((s) => ({ storage: d.alloc(0, s.dtype, label), shape: s.shape, dtype: s.dtype, device: d }));
}

/** Forward: q, k, v [B, T, H], mask f32 [B, T] or null → [o [B, T, H], lse [B, nh, T]]. */
export function attentionForward(q: DeviceArray, k: DeviceArray, v: DeviceArray, mask: DeviceArray | null, o: AttentionOptions, label: string): DeviceArray[] {
  const p = attentionParams(q, o, !!mask);
  if (p.B * p.T === 0) return empty(q.device, [{ shape: q.shape, dtype: 'f32' }, { shape: [p.B, p.nh, p.T], dtype: 'f32' }], label);
  return launch(attentionForwardKernel, p, mask ? [q, k, v, mask] : [q, k, v],
    [{ shape: q.shape, dtype: 'f32' }, { shape: [p.B, p.nh, p.T], dtype: 'f32' }], label);
}

/**
 * Backward from the saved o, lse and the upstream dO (all as the forward's) → [dq, dk, dv] [B, T, H]:
 * the stats pass (a temporary LD [B, nh, T, 2]), the dQ pass, the dK/dV pass.
 */
export function attentionBackward(q: DeviceArray, k: DeviceArray, v: DeviceArray, mask: DeviceArray | null, out: DeviceArray, lse: DeviceArray, dO: DeviceArray, o: AttentionOptions, label: string): DeviceArray[] {
  const p = attentionParams(q, o, !!mask);
  if (p.B * p.T === 0) return empty(q.device, [0, 1, 2].map(() => ({ shape: q.shape, dtype: 'f32' })), label);
  const m = mask ? [mask] : [];
  const [ld] = launch(attentionStatsKernel, p, [out, dO, lse], [{ shape: [p.B, p.nh, p.T, 2], dtype: 'f32' }], `${label} stats`);
  const [dq] = launch(attentionDqKernel, p, [q, k, v, dO, ld, ...m], [{ shape: q.shape, dtype: 'f32' }], `${label} dQ`);
  const [dk, dv] = launch(attentionDkvKernel, p, [q, k, v, dO, ld, ...m], [{ shape: q.shape, dtype: 'f32' }, { shape: q.shape, dtype: 'f32' }], `${label} dK dV`);
  freeTemp(ld);
  return [dq, dk, dv];
}
