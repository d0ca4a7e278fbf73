// Counter-based randomness: Philox4x32-10 (Salmon et al., SC'11; Random123) in WGSL and in JS with
// exact 32-bit arithmetic, so both devices produce the same u32 words. A draw is a pure function of
// (key = seed as two u32 words, counter = [element index, stream id, attempt, 0]): no state lives on the
// GPU and results do not depend on how elements are split among threads or workgroups.
// Kernels: random fill (raw bits, uniform, normal, truncated normal), dropout (mask regenerated, never
// stored, four elements per draw) and Gumbel-max row sampling.
// Words → floats: u = (w >> 8) · 2⁻²⁴, exact in f32 on both devices. Launchers at the bottom; the host
// side (seeds, stream counters) is src/tensor/random.ts.

import { type Device, type DeviceArray, FLAT_WG, type Field, type Kernel, flatGrid, flatMain, grid1d, header, launch, uniformOnly } from '../device/device.js';
import { type Shape, numel } from '../device/shape.js';

const WG = 256;
const M0 = 0xd2511f53, M1 = 0xcd9e8d57, W0 = 0x9e3779b9, W1 = 0xbb67ae85;
const TWO_M24 = 2 ** -24;

// ---- Philox on the CPU ---------------------------------------------------------------------------

/** High 32 bits of the 64-bit product a·b (a, b u32), from 16-bit halves (each partial < 2³²). */
function mulhi(a: number, b: number): number {
  const al = a & 0xffff, ah = a >>> 16, bl = b & 0xffff, bh = b >>> 16;
  const ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (hh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) >>> 0;
}

/** Philox4x32-10 of counter (c0..c3) under key (k0, k1); writes 4 u32 words into out. */
export function philox(c0: number, c1: number, c2: number, c3: number, k0: number, k1: number, out: Uint32Array = new Uint32Array(4)): Uint32Array {
  let x0 = c0 >>> 0, x1 = c1 >>> 0, x2 = c2 >>> 0, x3 = c3 >>> 0, a = k0 >>> 0, b = k1 >>> 0;
  for (let r = 0; r < 10; r++) {
    if (r > 0) { a = (a + W0) >>> 0; b = (b + W1) >>> 0; }
    const hi0 = mulhi(M0, x0), lo0 = Math.imul(M0, x0) >>> 0;
    const hi1 = mulhi(M1, x2), lo1 = Math.imul(M1, x2) >>> 0;
    x0 = (hi1 ^ x1 ^ a) >>> 0; x1 = lo1; x2 = (hi0 ^ x3 ^ b) >>> 0; x3 = lo0;
  }
  out[0] = x0; out[1] = x1; out[2] = x2; out[3] = x3;
  return out;
}

/** A seed (integer in [0, 2⁵³)) as the two key words. */
export function seedKey(seed: number): [number, number] {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`rng: seed must be an integer in [0, 2^53), got ${seed}`);
  return [seed >>> 0, Math.floor(seed / 2 ** 32) >>> 0];
}

const unitOpen0 = (w: number) => (w >>> 8) * TWO_M24;             // [0, 1)
const unitOpen1 = (w: number) => ((w >>> 8) + 1) * TWO_M24;       // (0, 1]: safe under log

// ---- WGSL pieces ---------------------------------------------------------------------------------

export const WGSL_PHILOX = `
fn mulhi_(a: u32, b: u32) -> u32 {
  let al = a & 0xffffu; let ah = a >> 16u; let bl = b & 0xffffu; let bh = b >> 16u;
  let ll = al * bl; let lh = al * bh; let hl = ah * bl; let hh = ah * bh;
  let mid = (ll >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
  return hh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
}
fn philox_(ctr: vec4u, key: vec2u) -> vec4u {
  var c = ctr;
  var k = key;
  for (var r = 0u; r < 10u; r++) {
    if (r > 0u) { k = k + vec2u(${W0}u, ${W1}u); }
    let hi0 = mulhi_(${M0}u, c.x); let lo0 = ${M0}u * c.x;
    let hi1 = mulhi_(${M1}u, c.z); let lo1 = ${M1}u * c.z;
    c = vec4u(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
  }
  return c;
}
fn unit0_(w: u32) -> f32 { return f32(w >> 8u) * ${TWO_M24}; }
fn unit1_(w: u32) -> f32 { return f32((w >> 8u) + 1u) * ${TWO_M24}; }
`;

// ---- random fill ---------------------------------------------------------------------------------

export type RandomKind = 'bits' | 'uniform' | 'normal' | 'truncnormal';

/**
 * y[i] for i < n from counter (i, stream, attempt, 0). bits: y is i32 [n, 4], the raw words.
 * uniform: a + (b - a)·u. normal: a + b·z, Box–Muller on words 0, 1 (angle in [-π, π), where WGSL's
 * cos is accurate). truncnormal: a + b·z with |z| ≤ 2 (TF's truncated_normal: out-of-range values are
 * re-drawn), candidates z from words (0,1) cos, (0,1) sin, (2,3) cos, (2,3) sin, then the next attempt.
 */
export interface RandomParams { kind: RandomKind; n: number; k0: number; k1: number; stream: number; a: number; b: number }

const MAX_ATTEMPTS = 16; // P(no candidate within 2σ in 16 attempts) ≈ 0.0455⁶⁴

function boxMuller(w0: number, w1: number): [number, number] {
  const r = Math.sqrt(-2 * Math.log(unitOpen1(w0)));
  const t = 2 * Math.PI * unitOpen0(w1) - Math.PI;
  return [r * Math.cos(t), r * Math.sin(t)];
}

const randomFields = (p: RandomParams): Field[] =>
  [['n', 'u32', p.n], ['k0', 'u32', p.k0], ['k1', 'u32', p.k1], ['stream', 'u32', p.stream], ['a', 'f32', p.a], ['b', 'f32', p.b]];

export const randomKernel: Kernel<RandomParams> = {
  name: 'random',
  uniformOnly: uniformOnly(['k0', 'k1', 'stream', 'a', 'b'], randomFields),
  cpu(p, _ins, [y]) {
    const w = new Uint32Array(4);
    for (let i = 0; i < p.n; i++) {
      if (p.kind === 'bits') {
        philox(i, p.stream, 0, 0, p.k0, p.k1, w);
        for (let k = 0; k < 4; k++) y[4 * i + k] = w[k] | 0;
      } else if (p.kind === 'uniform') {
        philox(i, p.stream, 0, 0, p.k0, p.k1, w);
        y[i] = p.a + (p.b - p.a) * unitOpen0(w[0]);
      } else if (p.kind === 'normal') {
        philox(i, p.stream, 0, 0, p.k0, p.k1, w);
        y[i] = p.a + p.b * boxMuller(w[0], w[1])[0];
      } else {
        let z = 0;
        search: for (let t = 0; t < MAX_ATTEMPTS; t++) {
          philox(i, p.stream, t, 0, p.k0, p.k1, w);
          for (const c of [...boxMuller(w[0], w[1]), ...boxMuller(w[2], w[3])]) if (Math.abs(c) <= 2) { z = c; break search; }
        }
        y[i] = p.a + p.b * z;
      }
    }
  },
  wgsl(p) {
    const bits = p.kind === 'bits';
    const h = header(randomFields(p), [], [['y', bits ? 'array<i32>' : 'array<f32>']]);
    const body: Record<RandomKind, string> = {
      bits: `let w = philox_(vec4u(i, P.stream, 0u, 0u), key);
  y[4u * i] = bitcast<i32>(w.x); y[4u * i + 1u] = bitcast<i32>(w.y);
  y[4u * i + 2u] = bitcast<i32>(w.z); y[4u * i + 3u] = bitcast<i32>(w.w);`,
      uniform: `let w = philox_(vec4u(i, P.stream, 0u, 0u), key);
  y[i] = P.a + (P.b - P.a) * unit0_(w.x);`,
      normal: `let w = philox_(vec4u(i, P.stream, 0u, 0u), key);
  y[i] = P.a + P.b * (sqrt(-2.0 * log(unit1_(w.x))) * cos(6.2831853 * unit0_(w.y) - 3.14159265));`,
      truncnormal: `var z = 0.0;
  for (var t = 0u; t < ${MAX_ATTEMPTS}u; t++) {
    let w = philox_(vec4u(i, P.stream, t, 0u), key);
    let r0 = sqrt(-2.0 * log(unit1_(w.x))); let a0 = 6.2831853 * unit0_(w.y) - 3.14159265;
    let r1 = sqrt(-2.0 * log(unit1_(w.z))); let a1 = 6.2831853 * unit0_(w.w) - 3.14159265;
    let c = array<f32, 4>(r0 * cos(a0), r0 * sin(a0), r1 * cos(a1), r1 * sin(a1));
    var found = false;
    for (var j = 0u; j < 4u; j++) { if (abs(c[j]) <= 2.0) { z = c[j]; found = true; break; } }
    if (found) { break; }
  }
  y[i] = P.a + P.b * z;`,
    };
    const code = `${h.code}${WGSL_PHILOX}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (${FLAT_WG}) * ${WG}u + lid;
  if (i >= P.n) { return; }
  let key = vec2u(P.k0, P.k1);
  ${body[p.kind]}
}
`;
    return { code, grid: grid1d(Math.ceil(p.n / WG)), uniforms: h.uniforms };
  },
};

// ---- dropout -------------------------------------------------------------------------------------

/**
 * y = x · keep · scale, x and y [n]; element i draws word i mod 4 of the counter (⌊i/4⌋, stream), so one
 * Philox call serves four elements (a vec4 item on the GPU when n is a multiple of 4).
 * keep = (word >> 8) ≥ thr with thr = round(p · 2²⁴), compared as integers so both devices agree exactly;
 * scale = 1/(1-p). Forward and backward run this same kernel with the same (key, stream): the backward
 * regenerates the mask instead of reading a stored one.
 */
export interface DropoutParams { n: number; k0: number; k1: number; stream: number; thr: number; scale: number }

const dropoutFields = (p: DropoutParams): Field[] =>
  [['n', 'u32', p.n], ['k0', 'u32', p.k0], ['k1', 'u32', p.k1], ['stream', 'u32', p.stream], ['thr', 'u32', p.thr], ['scale', 'f32', p.scale]];

export const dropoutKernel: Kernel<DropoutParams> = {
  name: 'dropout',
  uniformOnly: uniformOnly(['k0', 'k1', 'stream', 'thr', 'scale'], dropoutFields),
  cpu(p, [x], [y]) {
    const w = new Uint32Array(4);
    for (let i = 0; i < p.n; i++) {
      if (i % 4 === 0) philox(i / 4, p.stream, 0, 0, p.k0, p.k1, w);
      y[i] = w[i % 4] >>> 8 >= p.thr ? x[i] * p.scale : 0;
    }
  },
  wgsl(p) {
    const v4 = p.n % 4 === 0;
    const ty = v4 ? 'array<vec4<f32>>' : 'array<f32>';
    const h = header(dropoutFields(p), [['x', ty]], [['y', ty]]);
    const body = v4
      ? `    let w = philox_(vec4u(i, P.stream, 0u, 0u), vec2u(P.k0, P.k1));
    y[i] = select(vec4<f32>(0.0), x[i] * P.scale, (w >> vec4u(8u)) >= vec4u(P.thr));`
      : `    let w = philox_(vec4u(i >> 2u, P.stream, 0u, 0u), vec2u(P.k0, P.k1));
    y[i] = select(0.0, x[i] * P.scale, (w[i & 3u] >> 8u) >= P.thr);`;
    return { code: `${h.code}${WGSL_PHILOX}${flatMain(v4 ? 'P.n / 4u' : 'P.n', body)}`, grid: flatGrid(v4 ? p.n / 4 : p.n), uniforms: h.uniforms };
  },
};

// ---- Gumbel-max sampling -------------------------------------------------------------------------

/**
 * logits [rows, v] → idx i32 [rows]: argmax_j(logits[r, j] / t + g[r, j]) with
 * g = -log(-log(u + 1e-9) + 1e-9) (the ELECTRA authors' formula), u from counter (r·v + j, stream).
 * One workgroup per row; the noise exists only in registers. Ties go to the lower index.
 */
export interface GumbelParams { rows: number; v: number; k0: number; k1: number; stream: number; t: number }

const gumbelWg = (v: number) => Math.min(256, Math.max(32, 2 ** Math.ceil(Math.log2(Math.max(1, v)))));

const gumbelFields = (p: GumbelParams): Field[] =>
  [['rows', 'u32', p.rows], ['v', 'u32', p.v], ['k0', 'u32', p.k0], ['k1', 'u32', p.k1], ['stream', 'u32', p.stream], ['t', 'f32', p.t]];

export const gumbelMaxKernel: Kernel<GumbelParams> = {
  name: 'gumbelMax',
  uniformOnly: uniformOnly(['k0', 'k1', 'stream', 't'], gumbelFields),
  cpu(p, [x], [y]) {
    const w = new Uint32Array(4);
    for (let r = 0; r < p.rows; r++) {
      let best = -Infinity, arg = 0;
      for (let j = 0; j < p.v; j++) {
        philox(r * p.v + j, p.stream, 0, 0, p.k0, p.k1, w);
        const g = -Math.log(-Math.log(unitOpen0(w[0]) + 1e-9) + 1e-9);
        const s = x[r * p.v + j] / p.t + g;
        if (s > best) { best = s; arg = j; }
      }
      y[r] = arg;
    }
  },
  wgsl(p) {
    const wg = gumbelWg(p.v);
    const h = header(gumbelFields(p), [['x', 'array<f32>']], [['y', 'array<i32>']]);
    const code = `${h.code}${WGSL_PHILOX}
var<workgroup> sv: array<f32, ${wg}>;
var<workgroup> si: array<u32, ${wg}>;
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = ${FLAT_WG};
  if (row >= P.rows) { return; }
  let key = vec2u(P.k0, P.k1);
  let base = row * P.v;
  var best = -3.402823e38;
  var arg = 0xffffffffu;
  for (var j = lid; j < P.v; j += ${wg}u) {
    let w = philox_(vec4u(base + j, P.stream, 0u, 0u), key);
    let g = -log(-log(unit0_(w.x) + 1e-9) + 1e-9);
    let s = x[base + j] / P.t + g;
    if (s > best || arg == 0xffffffffu) { best = s; arg = j; }
  }
  sv[lid] = best;
  si[lid] = arg;
  workgroupBarrier();
  for (var s = ${wg / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) {
      let vb = sv[lid + s]; let ib = si[lid + s];
      if (ib != 0xffffffffu && (si[lid] == 0xffffffffu || vb > sv[lid] || (vb == sv[lid] && ib < si[lid]))) { sv[lid] = vb; si[lid] = ib; }
    }
    workgroupBarrier();
  }
  if (lid == 0u) { y[row] = i32(si[0]); }
}
`;
    return { code, grid: grid1d(p.rows), uniforms: h.uniforms };
  },
};

// ---- launchers ---------------------------------------------------------------------------------

/** Philox key words and the stream of one draw. */
export interface Draw { k0: number; k1: number; stream: number }

/** A random array of `shape` (bits: i32 [n, 4]; else f32) from counter (i, stream): see RandomParams. */
export function randomFill(device: Device, kind: RandomKind, shape: Shape, d: Draw, a: number, b: number, label: string): DeviceArray {
  const n = kind === 'bits' ? shape[0] : numel(shape); // bits: [n, 4], four words per counter
  return launch(randomKernel, { kind, n, k0: d.k0, k1: d.k1, stream: d.stream, a, b }, [], [{ shape, dtype: kind === 'bits' ? 'i32' : 'f32' }], label, device)[0];
}

/** x · mask / (1-p) for the mask of draw d at rate p (forward, and backward on the upstream gradient). */
export function dropout(x: DeviceArray, d: Draw, p: number, label: string): DeviceArray {
  const q = { n: numel(x.shape), k0: d.k0, k1: d.k1, stream: d.stream, thr: Math.round(p * 2 ** 24), scale: 1 / (1 - p) };
  return launch(dropoutKernel, q, [x], [{ shape: x.shape, dtype: 'f32' }], label)[0];
}

/** logits [N, V] → i32 [N]: a sample of softmax(logits / t) per row by Gumbel-max. */
export function gumbelMax(logits: DeviceArray, d: Draw, t: number, label: string): DeviceArray {
  const [rows, v] = logits.shape;
  return launch(gumbelMaxKernel, { rows, v, k0: d.k0, k1: d.k1, stream: d.stream, t }, [logits], [{ shape: [rows], dtype: 'i32' }], label)[0];
}
