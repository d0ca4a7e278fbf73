// The matmul family: batched C[b] = op(A[b]) · op(B[b]), op = identity or transpose, so backward needs no
// copied transposes (dA = dC·Bᵀ and dB = Aᵀ·dC are the same kernel with flags). A batch of 1 broadcasts.
//   A: [Ba, M, K] (transA: [Ba, K, M]);  B: [Bb, K, N] (transB: [Bb, N, K]);  C: [max(Ba,Bb), M, N]
// Here: the CPU reference; four kernel shapes generated from tile parameters: 'reg' (software adapters: no
// workgroup memory, subgroup-broadcast A, B optionally packed into a texture by a first pass), 'tile' (GPUs:
// double-buffered workgroup memory, vec4 loads, 8×8 or 4×4 outputs per invocation; with f16 operands too),
// 'sgm' (tensor cores through subgroup matrices, f16 operands), 'tiled' (a small fallback for tight
// limits); the store epilogue (bias, exact GELU); split-K with a fixed-order sum (deterministic) that
// applies the epilogue; the selector; the launcher. The lab that picked the tiles, with its notes and
// losing variants, is bench/matmul.bench.ts.

import { type DeviceArray, FLAT_WG, type GpuCaps, type Kernel, type WgslProgram, freeTemp, grid1d, header, launch } from '../device/device.js';
import { type Shape, ShapeError, fmt, numel } from '../device/shape.js';
import { WGSL_ERF, geluRef, roundF16 } from './elementwise.js';
import { reduce } from './reduce.js';

export interface MatmulParams {
  batch: number; m: number; n: number; k: number;
  transA: boolean; transB: boolean;
  /** Batch strides in elements (0 broadcasts a single matrix). */
  strideA: number; strideB: number;
  /** The kernel config; the op fills it from `selectMatmul` (tests force one). */
  config?: MatmulConfig;
  /** Round both operands to f16 and accumulate in f32 (mixed precision; 'tile' and 'sgm' kernels). */
  f16?: boolean;
  /**
   * Store epilogue (no split-K): 'bias' adds a third input bias [N] to every row; 'biasGelu' also applies
   * exact (erf) GELU; 'biasGeluPre' also writes the pre-activation acc + bias to a second output Pre
   * (what GELU's backward needs). Saves the separate bias-add and GELU passes over C (nnops.linear).
   */
  epilogue?: MatmulEpilogue;
}

export type MatmulEpilogue = 'bias' | 'biasGelu' | 'biasGeluPre';

/**
 * kind 'reg': each invocation accumulates a tm×tn block straight from global memory (bench variants 2 and 5);
 * kind 'tiled': bm×bn tiles staged through workgroup memory in bk slices (variants 1 and 3);
 * kind 'tile': the GPU kernel (variant 8): bm×bn tiles in double-buffered workgroup memory, vec4 loads
 * along each operand's contiguous dimension, tm×tn outputs per invocation in vec4 column groups;
 * kind 'sgm': tensor cores (variant 9, f16 operands only): a tm×tn tile (wgx = wgy = 1) staged as f16 in
 * workgroup memory, subgroup matrices of the adapter's f16 → f32 shape.
 * Workgroup tile = (wgy·tm) × (wgx·tn). splits > 1: split-K (variant 4), output is the partials scratch.
 */
export interface MatmulConfig {
  kind: 'reg' | 'tiled' | 'tile' | 'sgm';
  wgx: number; wgy: number;
  tm: number; tn: number;
  /** K slice staged per step ('tiled' only). */
  bk: number;
  splits: number;
  /** 'reg' only: K steps of 4 per loop iteration (loop overhead vs code size). */
  ku?: number;
  /**
   * 'reg' with wgy = 1 only: each lane loads one row of A per 8 rows and `subgroupBroadcast` hands it to
   * the others (needs subgroups of ≥ 8 lanes). On lavapipe every load instruction inside a loop is costly
   * (per-lane path) while broadcasts are register shuffles, so this cuts A loads by 8× (bench variant 6).
   */
  sg?: boolean;
  /**
   * 'reg' only: each invocation's tn columns are contiguous (col0 + lane·tn + j) instead of strided by 4·wgx.
   * On lavapipe a load in a loop runs a per-lane, per-component sequence; Mesa's load/store vectorizer
   * merges a lane's neighbouring vec4 loads of B into one wider load, so this roughly halves the B load
   * cost (1024² NN: 3.1–3.7 vs 1.8–2.0 GFLOP/s in one probe run on a busy machine). On GPUs it would break
   * coalescing, so only software adapters select it.
   */
  cl?: boolean;
  /**
   * 'reg' only: a first pass packs B (any layout, batch as layers) into the device's scratch texture,
   * rgba32float [K rows, ⌈N/4⌉ texels of 4 columns]; the K loop reads B with textureLoad. On lavapipe a
   * storage load is a per-lane loop with a bounds check per component, while a texel fetch is vectorised:
   * 1024² NN took about a third less CPU time (bench/matmul.bench.ts lab notes, session 3).
   */
  tex?: boolean;
}

export const configName = (c: MatmulConfig): string =>
  `${c.kind}${c.sg ? '-sg' : ''}${c.tex ? '-tex' : ''}${c.wgy * c.tm}x${c.wgx * c.tn}-t${c.tm}x${c.tn}-wg${c.wgx}x${c.wgy}${c.kind !== 'reg' ? `-bk${c.bk}` : ''}${c.splits > 1 ? `-s${c.splits}` : ''}${(c.ku ?? 1) > 1 ? `-u${c.ku}` : ''}${c.cl ? '-cl' : ''}`;

// ---- CPU reference -----------------------------------------------------------------------------

/** The epilogue on the CPU: c[i, j] += bias[j]; with GELU, pre = c ('biasGeluPre') and c = gelu(c). */
export function epilogueRef(p: MatmulParams, bias: ArrayLike<number>, c: { [i: number]: number }, pre?: { [i: number]: number }): void {
  const rows = p.batch * p.m;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < p.n; j++) {
      const v = c[i * p.n + j] + bias[j];
      if (p.epilogue === 'biasGeluPre') pre![i * p.n + j] = v;
      c[i * p.n + j] = p.epilogue === 'bias' ? v : geluRef(v);
    }
  }
}

export function matmulRef(p: MatmulParams, a: ArrayLike<number>, b: ArrayLike<number>, c: { [i: number]: number }): void {
  const { m, n, k } = p;
  if (p.f16) { a = Float64Array.from(a, roundF16); b = Float64Array.from(b, roundF16); }
  const splits = p.config?.splits ?? 1, kc = splitChunk(k, splits);
  // With splits, the output is the partials scratch [splits, batch, M, N] (summed by splitSumKernel).
  for (let s = 0; s < splits; s++) {
    const k0 = s * kc, k1 = Math.min(k, k0 + kc);
    for (let z = 0; z < p.batch; z++) {
      const ao = z * p.strideA, bo = z * p.strideB, co = (s * p.batch + z) * m * n;
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let acc = 0;
          for (let t = k0; t < k1; t++) {
            const av = p.transA ? a[ao + t * m + i] : a[ao + i * k + t];
            const bv = p.transB ? b[bo + j * k + t] : b[bo + t * n + j];
            acc += av * bv;
          }
          c[co + i * n + j] = acc;
        }
      }
    }
  }
}

/** K per split: a multiple of 4 so vec4 loads along K stay aligned in every split. */
export function splitChunk(k: number, splits: number): number {
  return splits <= 1 ? k : Math.ceil(k / splits / 4) * 4;
}

// ---- WGSL --------------------------------------------------------------------------------------

/** Uniforms shared by both kernel shapes; `tex`: B is read from the scratch texture BT. */
function matmulHeader(p: MatmulParams, splits: number, vecA: boolean, vecB: boolean, vecC: boolean, tex = false) {
  if (p.epilogue && splits > 1) throw new Error(`matmul: the ${p.epilogue} epilogue needs splits = 1 (got ${splits}); the split-K sum applies it`);
  const cTy = vecC ? 'array<vec4f>' : 'array<f32>';
  const h = header(
    [['m', 'u32', p.m], ['n', 'u32', p.n], ['k', 'u32', p.k], ['sa', 'u32', p.strideA], ['sb', 'u32', p.strideB],
      ['batch', 'u32', p.batch], ['kc', 'u32', splitChunk(p.k, splits)]],
    [['A', vecA ? 'array<vec4f>' : 'array<f32>'], ['B', vecB ? 'array<vec4f>' : 'array<f32>'], ...(p.epilogue ? [['Bias', cTy] as const] : [])],
    [['C', cTy], ...(p.epilogue === 'biasGeluPre' ? [['Pre', cTy] as const] : [])],
    tex ? { name: 'BT', access: 'read' } : undefined,
  );
  return p.epilogue === 'biasGelu' || p.epilogue === 'biasGeluPre' ? { ...h, code: h.code + WGSL_ERF + 'fn gelu4_(x: vec4f) -> vec4f { return vec4f(gelu_(x.x), gelu_(x.y), gelu_(x.z), gelu_(x.w)); }\n' } : h;
}

/**
 * WGSL statements storing `v` (a vec4f when vector, else f32) at C[idx] (idx already in C's element
 * type: divided by 4 for vec4 C) with the epilogue; `bias` is the bias value for that column (group),
 * loaded once per column before the stores (on lavapipe each load is costly, and stores to C keep the
 * compiler from merging repeated Bias loads).
 */
function storeWithEpilogue(p: MatmulParams, idx: string, v: string, bias: string, vec: boolean): string {
  if (!p.epilogue) return `C[${idx}] = ${v};`;
  const add = `${v} + ${bias}`;
  if (p.epilogue === 'bias') return `C[${idx}] = ${add};`;
  return `{ let e = ${add};${p.epilogue === 'biasGeluPre' ? ` Pre[${idx}] = e;` : ''} C[${idx}] = ${vec ? 'gelu4_' : 'gelu_'}(e); }`;
}

/** Both kernel shapes start alike: z walks split-K slices stacked over the batch; this slice's K range; operand offsets. */
const BATCH_PREAMBLE = `  let z = wid.z;
  let bz = z % P.batch;
  let kBeg = (z / P.batch) * P.kc;
  let kEnd = min(P.k, kBeg + P.kc);
  let ao = bz * P.sa;
  let bo = bz * P.sb;`;

/**
 * Bench variant 2 (register-blocked, no workgroup memory) and variant 5 (its small-tile form).
 * Rows of an invocation are strided by wgy, column groups of 4 by 4·wgx, so neighbouring invocations
 * touch neighbouring addresses (coalesced on GPUs); with wgy = 1 every row index is uniform across the
 * workgroup, so on SIMD-across-invocations CPUs (lavapipe) A loads are scalar broadcasts.
 * Loads use clamped indices (no branches in the K loop); only stores are guarded, and "fit" shapes
 * (M, N multiples of the tile) drop even that.
 */
export function matmulRegWgsl(p: MatmulParams, c: MatmulConfig) {
  const { wgx, wgy, tm, tn, splits } = c;
  if (tn % 4) throw new Error(`matmul reg: tn ${tn} must be a multiple of 4`);
  const sg = c.sg ?? false, ku = c.ku ?? 1, cl = c.cl ?? false;
  if (sg && (wgy !== 1 || tm % 8)) throw new Error(`matmul reg-sg: needs wgy 1 and tm a multiple of 8 (${configName(c)})`);
  const g = tn / 4, bm = wgy * tm, bn = wgx * tn;
  const fit = p.m % bm === 0 && p.n % bn === 0;
  const k4 = p.k % 4 === 0;
  // Vector modes: A along K (row-major A) or, transposed with subgroups, along M (m4); B along N
  // (row-major B) or along K (transposed B).
  const m4 = sg && p.transA && k4 && p.m % 4 === 0 && p.strideA % 4 === 0;
  const aMode = !p.transA && k4 ? 'k4' : m4 ? 'm4' : 's';
  const tex = c.tex ?? false;
  const bMode = tex ? 'tex' : !p.transB && p.n % 4 === 0 ? 'n4' : p.transB && k4 ? 'k4' : 's';
  const vecC = p.n % 4 === 0;
  const h = matmulHeader(p, splits, aMode !== 's', bMode === 'n4' || bMode === 'k4', vecC, tex);
  const I = [...Array(tm).keys()], J = [...Array(tn).keys()], G = [...Array(g).keys()], KK = [0, 1, 2, 3];
  const L: string[] = [];
  const rowOf = (i: number) => (wgy > 1 ? `row0 + ${i * wgy}u` : `row0 + ${i}u`);
  // Column j of the thread: strided by 4·wgx per vec4 group (coalesced on GPUs) or contiguous (cl).
  const colOf = (j: number) => (cl ? `col0 + ${j}u` : `col0 + ${Math.floor(j / 4) * 4 * wgx + (j % 4)}u`);
  // cl with N a multiple of the tile: one unclamped base per thread and B vec4 indices base + q, so a
  // thread's neighbouring loads are provably adjacent (M need not fit: rows are clamped separately).
  const clFit = cl && p.n % bn === 0;
  // Per-row and per-column base offsets with clamped indices.
  // sg: lane l of each group of 8 holds row 8q + l % 8 of the tile; others hold every row themselves.
  // m4 (Aᵀ stored [K, M]): lane l of 8 loads the vec4 of rows 8q + 4·(l / 4) … + 3 at k + l % 4, so the
  // tile's 8 rows × 4 k of group q take one vec4 load per lane instead of four scalar ones; row blocks
  // past M clamp to the last vec4 (M % 4 = 0, so such a block is wholly out of range and never stored).
  const aRows = m4 ? [...Array(tm / 8).keys()].map((q) => `row0 + ${q * 8}u + 4u * ((sid % 8u) / 4u)`)
    : sg ? [...Array(tm / 8).keys()].map((q) => `row0 + ${q * 8}u + (sid % 8u)`) : I.map(rowOf);
  aRows.forEach((row, i) => {
    const r = fit ? row : `min(${row}, P.m - ${m4 ? 4 : 1}u)`;
    L.push(`  let ar${i} = ao + (${r})${p.transA ? '' : ' * P.k'};`);
  });
  if (m4) L.push('  let at = sid % 4u;');
  const AI = [...aRows.keys()];
  const bcast = (i: number, kk: string) => (sg ? `subgroupBroadcast(aq${Math.floor(i / 8)}, ${i % 8}u)${kk}` : `a${i}${kk}`);
  const texW = Math.ceil(p.n / 4);
  if (bMode === 'tex') {
    // Texel column of each of the lane's vec4 groups (clamped: lanes past N read a stored texel, never stored).
    for (const q of G) L.push(`  let tx${q} = min((${colOf(q * 4)}) >> 2u, ${texW - 1}u);`);
    L.push(`  let lz = ${p.strideB === 0 ? '0u' : 'bz'};`);
  } else if (bMode === 'n4') {
    if (clFit) L.push(`  let bc0 = bo + col0;`);
    else for (const q of G) L.push(`  let bc${q} = bo + ${fit ? colOf(q * 4) : `min(${colOf(q * 4)}, P.n - 4u)`};`);
  } else {
    for (const j of J) {
      const cc = fit ? colOf(j) : `min(${colOf(j)}, P.n - 1u)`;
      L.push(`  let bc${j} = bo + (${cc})${p.transB ? ' * P.k' : ''};`);
    }
  }
  for (const i of I) for (const q of G) L.push(`  var acc${i}_${q} = vec4f(0.0);`);
  // One K step of 4 (main loop) or 1 (tail): loads, then tm·g vec4 FMAs per k.
  const aAt = (i: number, kk: string) => (p.transA ? `A[ar${i} + (${kk}) * P.m]` : `A[ar${i} + ${kk}]`);
  const bAt = (j: number, kk: string) => (p.transB ? `B[bc${j} + ${kk}]` : `B[bc${j} + (${kk}) * P.n]`);
  const body4: string[] = [];
  const aName = sg ? 'aq' : 'a';
  if (aMode === 'k4') for (const i of AI) body4.push(`let ${aName}${i} = A[(ar${i} + kq) >> 2u];`);
  else if (aMode === 'm4') for (const i of AI) body4.push(`let ${aName}${i} = A[(ar${i} + (kq + at) * P.m) >> 2u];`);
  else for (const i of AI) body4.push(`let ${aName}${i} = vec4f(${KK.map((t) => aAt(i, `kq + ${t}u`)).join(', ')});`);
  if (aMode === 'm4') {
    // v{q}_{h}_{t}: rows 8q + 4h … + 3 at k + t (from lane t + 4h); row i's four k values are one component of each.
    for (const q of AI) for (const hh of [0, 1]) for (const t of KK) body4.push(`let v${q}_${hh}_${t} = subgroupBroadcast(aq${q}, ${t + 4 * hh}u);`);
    for (const i of I) {
      const q = Math.floor(i / 8), hh = Math.floor((i % 8) / 4), c = i % 4;
      body4.push(`let a${i} = vec4f(${KK.map((t) => `v${q}_${hh}_${t}[${c}]`).join(', ')});`);
    }
  } else if (sg) for (const i of I) body4.push(`let a${i} = ${bcast(i, '')};`);
  if (bMode === 'k4') for (const j of J) body4.push(`let bk${j} = B[(bc${j} + kq) >> 2u];`);
  // All loads of the step first, then the FMAs: on lavapipe each load is a branchy per-lane sequence,
  // and grouping them measured faster than interleaving with the FMAs (bench variant 6).
  for (const t of KK) {
    for (const q of G) {
      if (bMode === 'tex') body4.push(`let b${t}_${q} = textureLoad(BT, vec2u(tx${q}, kq + ${t}u), lz, 0);`);
      else if (bMode === 'n4') body4.push(clFit ? `let b${t}_${q} = B[((bc0 + (kq + ${t}u) * P.n) >> 2u) + ${q}u];` : `let b${t}_${q} = B[(bc${q} + (kq + ${t}u) * P.n) >> 2u];`);
      else if (bMode === 'k4') body4.push(`let b${t}_${q} = vec4f(${KK.map((u) => `bk${q * 4 + u}[${t}]`).join(', ')});`);
      else body4.push(`let b${t}_${q} = vec4f(${KK.map((u) => bAt(q * 4 + u, `kq + ${t}u`)).join(', ')});`);
    }
  }
  for (const t of KK) {
    for (const i of I) for (const q of G) body4.push(`acc${i}_${q} = fma(vec4f(a${i}[${t}]), b${t}_${q}, acc${i}_${q});`);
  }
  const tail: string[] = [];
  if (!k4) {
    // Scalar loads only: with K % 4 ≠ 0 no vector mode along K is chosen.
    for (const i of AI) tail.push(`let ${aName}${i} = ${aAt(i, 'k')};`);
    if (sg) for (const i of I) tail.push(`let a${i} = ${bcast(i, '')};`);
    for (const q of G) {
      tail.push(bMode === 'tex' ? `let b${q} = textureLoad(BT, vec2u(tx${q}, k), lz, 0);` : bMode === 'n4' ? (clFit ? `let b${q} = B[((bc0 + k * P.n) >> 2u) + ${q}u];` : `let b${q} = B[(bc${q} + k * P.n) >> 2u];`) : `let b${q} = vec4f(${KK.map((u) => bAt(q * 4 + u, 'k')).join(', ')});`);
    }
    for (const i of I) for (const q of G) tail.push(`acc${i}_${q} = fma(vec4f(a${i}), b${q}, acc${i}_${q});`);
  }
  const st: string[] = [];
  if (p.epilogue) {
    // Bias per column (group) of this invocation, clamped like the B loads; used by every row's store.
    if (vecC) for (const q of G) st.push(`let bias${q} = Bias[(${fit ? colOf(q * 4) : `min(${colOf(q * 4)}, P.n - 4u)`}) >> 2u];`);
    else for (const j of J) st.push(`let bias${j} = Bias[${fit ? colOf(j) : `min(${colOf(j)}, P.n - 1u)`}];`);
  }
  for (const i of I) {
    st.push(`{ let r = ${rowOf(i)};`);
    if (!fit) st.push(`  if (r < P.m) {`);
    for (const q of G) {
      const col = colOf(q * 4);
      if (vecC) st.push(`    ${fit ? '' : `if (${col} < P.n) { `}${storeWithEpilogue(p, `(co + r * P.n + ${col}) >> 2u`, `acc${i}_${q}`, `bias${q}`, true)}${fit ? '' : ' }'}`);
      else for (const u of KK) st.push(`    if (${colOf(q * 4 + u)} < P.n) { ${storeWithEpilogue(p, `co + r * P.n + ${colOf(q * 4 + u)}`, `acc${i}_${q}[${u}]`, `bias${q * 4 + u}`, false)} }`);
    }
    if (!fit) st.push('  }');
    st.push('}');
  }
  const code = `${sg ? 'enable subgroups;\n' : ''}${h.code}
// matmul reg ${configName(c)} ${p.transA ? 'T' : 'N'}${p.transB ? 'T' : 'N'} a:${aMode} b:${bMode} c:${vecC ? 'n4' : 's'}${fit ? ' fit' : ''}
@compute @workgroup_size(${wgx}, ${wgy})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u${sg ? ', @builtin(subgroup_invocation_id) sid: u32' : ''}) {
${BATCH_PREAMBLE}
  let co = z * P.m * P.n;
  let row0 = wid.y * ${bm}u${wgy > 1 ? ' + lid.y' : ''};
  let col0 = wid.x * ${bn}u + lid.x * ${cl ? tn : 4}u;
${L.join('\n')}
  var k = kBeg;
${ku > 1 ? `  for (; k + ${4 * ku}u <= kEnd; k += ${4 * ku}u) {
${[...Array(ku).keys()].map((j) => `    { let kq = k + ${4 * j}u;\n      ${body4.join('\n      ')}\n    }`).join('\n')}
  }
` : ''}  for (; k + 4u <= kEnd; k += 4u) {
    let kq = k;
    ${body4.join('\n    ')}
  }
${k4 ? '' : `  for (; k < kEnd; k++) {\n    ${tail.join('\n    ')}\n  }\n`}  ${st.join('\n  ')}
}
`;
  const grid = [Math.ceil(p.n / bn), Math.ceil(p.m / bm), p.batch * splits];
  if (!tex) return { code, grid, uniforms: h.uniforms };
  const layers = p.strideB === 0 ? 1 : p.batch;
  return { code, grid, uniforms: h.uniforms, texture: { access: 'read', width: texW, height: p.k, layers }, before: packBWgsl(p, texW, layers) };
}

/**
 * The `tex` configs' first pass: texel (x, k, layer) of the scratch texture = B[layer][k, 4x .. 4x+3] in
 * either B layout, zero past N. Bindings as the matmul's (A, B[, Bias] → C[, Pre]), then the texture.
 */
function packBWgsl(p: MatmulParams, width: number, layers: number): WgslProgram {
  // Vector loads where aligned (on lavapipe a load's cost is mostly per instruction): row-major B with N % 4
  // = 0 reads one vec4 per texel; transposed B with K % 4 = 0 reads 4 rows' vec4 along K and writes 4 texels.
  const mode = !p.transB && p.n % 4 === 0 && p.strideB % 4 === 0 ? 'n4' : p.transB && p.k % 4 === 0 && p.strideB % 4 === 0 ? 'k4' : 's';
  const ks = mode === 'k4' ? p.k / 4 : p.k; // work items along K
  const total = width * ks * layers;
  const h = header(
    [['n', 'u32', p.n], ['k', 'u32', p.k], ['sb', 'u32', p.strideB], ['w', 'u32', width], ['ks', 'u32', ks], ['total', 'u32', total]],
    [['A', 'array<f32>'], ['B', mode === 's' ? 'array<f32>' : 'array<vec4f>'], ...(p.epilogue ? [['Bias', 'array<f32>'] as const] : [])],
    [['C', 'array<f32>'], ...(p.epilogue === 'biasGeluPre' ? [['Pre', 'array<f32>'] as const] : [])],
    { name: 'BT', access: 'write' },
  );
  const body = {
    n4: `textureStore(BT, vec2u(x, kk), layer, B[(bo + kk * P.n) / 4u + x]);`,
    k4: `var r: array<vec4f, 4>;
  for (var j = 0u; j < 4u; j++) { r[j] = select(vec4f(0.0), B[(bo + min(x * 4u + j, P.n - 1u) * P.k) / 4u + kk], x * 4u + j < P.n); }
  for (var t = 0u; t < 4u; t++) { textureStore(BT, vec2u(x, kk * 4u + t), layer, vec4f(r[0][t], r[1][t], r[2][t], r[3][t])); }`,
    s: `var v = vec4f(0.0);
  for (var j = 0u; j < 4u; j++) {
    let n = x * 4u + j;
    if (n < P.n) { v[j] = B[bo + ${p.transB ? 'n * P.k + kk' : 'kk * P.n + n'}]; }
  }
  textureStore(BT, vec2u(x, kk), layer, v);`,
  }[mode];
  // One invocation per work item over a flat index (x fastest), so narrow B (N/4 < 64) keeps every lane busy.
  // Its split uses constant divisors (the shape is in the program key): lavapipe has no vector integer division.
  const code = `${h.code}
// matmul pack B ${p.transB ? '[N, K]' : '[K, N]'} → texture [K, ⌈N/4⌉] (${mode})
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (${FLAT_WG}) * 64u + lid;
  if (i >= P.total) { return; }
  let x = i % ${width}u;
  let kk = (i / ${width}u) % ${ks}u;
  let layer = i / ${width * ks}u;
  let bo = layer * P.sb;
  ${body}
}
`;
  return { code, grid: grid1d(Math.ceil(total / 64)), uniforms: h.uniforms, texture: { access: 'write', width, height: p.k, layers } };
}

/**
 * Bench variant 1 (the original 64×64 workgroup-memory tile) and variant 3 (larger tm×tn per thread).
 * Loads walk the contiguous dimension of each operand fastest so neighbouring invocations coalesce.
 */
export function matmulTiledWgsl(p: MatmulParams, c: MatmulConfig) {
  const { wgx, wgy, tm, tn, bk, splits } = c;
  const bm = wgy * tm, bn = wgx * tn, threads = wgx * wgy, tx = wgx;
  const fitMN = p.m % bm === 0 && p.n % bn === 0;
  const fitK = splitChunk(p.k, splits) % bk === 0 && p.k % bk === 0;
  const h = matmulHeader(p, splits, false, false, false);
  const aIdx = p.transA ? 'ao + kk * P.m + mm' : 'ao + mm * P.k + kk';
  const bIdx = p.transB ? 'bo + nn * P.k + kk' : 'bo + kk * P.n + nn';
  const aLoad = p.transA ? `let mi = e % ${bm}u; let ki = e / ${bm}u;` : `let ki = e % ${bk}u; let mi = e / ${bk}u;`;
  const bLoad = p.transB ? `let ki = e % ${bk}u; let ni = e / ${bk}u;` : `let ni = e % ${bn}u; let ki = e / ${bn}u;`;
  // Out-of-range rows/columns/K load clamped addresses and are zeroed; fit shapes load directly.
  const aVal = fitMN && fitK ? `A[${aIdx}]` : `select(0.0, A[${aIdx.replace('mm', 'min(mm, P.m - 1u)').replace('kk', 'min(kk, P.k - 1u)')}], mm < P.m && kk < kEnd)`;
  const bVal = fitMN && fitK ? `B[${bIdx}]` : `select(0.0, B[${bIdx.replace('nn', 'min(nn, P.n - 1u)').replace('kk', 'min(kk, P.k - 1u)')}], nn < P.n && kk < kEnd)`;
  const code = `${h.code}
// matmul tiled ${configName(c)} ${p.transA ? 'T' : 'N'}${p.transB ? 'T' : 'N'}${fitMN && fitK ? ' fit' : ''}
var<workgroup> As: array<f32, ${bk * bm}>;
var<workgroup> Bs: array<f32, ${bk * bn}>;

@compute @workgroup_size(${threads})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
${BATCH_PREAMBLE}
  let row0 = wid.y * ${bm}u;
  let col0 = wid.x * ${bn}u;
  let tr = (lid / ${tx}u) * ${tm}u;
  let tc = (lid % ${tx}u) * ${tn}u;
  var acc: array<array<f32, ${tn}>, ${tm}>;
  var a: array<f32, ${tm}>;
  var b: array<f32, ${tn}>;
  for (var k0 = kBeg; k0 < kEnd; k0 += ${bk}u) {
    for (var e: u32 = lid; e < ${bm * bk}u; e += ${threads}u) {
      ${aLoad}
      let mm = row0 + mi; let kk = k0 + ki;
      As[ki * ${bm}u + mi] = ${aVal};
    }
    for (var e: u32 = lid; e < ${bn * bk}u; e += ${threads}u) {
      ${bLoad}
      let nn = col0 + ni; let kk = k0 + ki;
      Bs[ki * ${bn}u + ni] = ${bVal};
    }
    workgroupBarrier();
    for (var kk: u32 = 0u; kk < ${bk}u; kk++) {
      for (var i: u32 = 0u; i < ${tm}u; i++) { a[i] = As[kk * ${bm}u + tr + i]; }
      for (var j: u32 = 0u; j < ${tn}u; j++) { b[j] = Bs[kk * ${bn}u + tc + j]; }
      for (var i: u32 = 0u; i < ${tm}u; i++) {
        for (var j: u32 = 0u; j < ${tn}u; j++) { acc[i][j] = fma(a[i], b[j], acc[i][j]); }
      }
    }
    workgroupBarrier();
  }
  let co = z * P.m * P.n;
  for (var i: u32 = 0u; i < ${tm}u; i++) {
    let r = row0 + tr + i;
    if (r >= P.m) { continue; }
    for (var j: u32 = 0u; j < ${tn}u; j++) {
      let c = col0 + tc + j;
      if (c < P.n) { ${storeWithEpilogue(p, 'co + r * P.n + c', 'acc[i][j]', 'Bias[c]', false)} }
    }
  }
}
`;
  return { code, grid: [Math.ceil(p.n / bn), Math.ceil(p.m / bm), p.batch * splits], uniforms: h.uniforms };
}

/**
 * Bench variant 8, the real-GPU kernel. The workgroup (wgx·wgy invocations) owns a bm×bn tile of C
 * (bm = wgy·tm, bn = wgx·tn) and walks K in bk slices through two workgroup-memory buffers, k-major
 * (As[k][m], Bs[k][n]) so the inner loop reads vec4s: while one slice feeds the FMAs, the next is
 * already loaded into registers (one barrier per slice). Global loads are vec4 along each operand's
 * contiguous dimension (K for row-major A and transposed B, M for transposed A, N for row-major B)
 * when shapes allow, scalar otherwise; out-of-range rows, columns and K read zeros. An invocation owns
 * tm rows and tn columns as groups of 4, strided by 4·wgy rows and 4·wgx columns, so the workgroup-memory
 * reads of neighbouring lanes are neighbouring vec4s and the C stores of a warp are contiguous.
 */
export function matmulTileWgsl(p: MatmulParams, c: MatmulConfig) {
  const { wgx, wgy, tm, tn, bk, splits } = c;
  if (tm % 4 || tn % 4 || bk % 4) throw new Error(`matmul tile: tm, tn and bk must be multiples of 4 (${configName(c)})`);
  const bm = wgy * tm, bn = wgx * tn, threads = wgx * wgy;
  const kc = splitChunk(p.k, splits);
  const fit = p.m % bm === 0 && p.n % bn === 0 && kc % bk === 0 && p.k % bk === 0;
  // Vector loads: along K needs K % 4 (slices start at multiples of 4); along M or N needs that dim and the batch stride % 4.
  const aVec = p.transA ? p.m % 4 === 0 && p.strideA % 4 === 0 : p.k % 4 === 0 && p.strideA % 4 === 0;
  const bVec = p.transB ? p.k % 4 === 0 && p.strideB % 4 === 0 : p.n % 4 === 0 && p.strideB % 4 === 0;
  const vecC = p.n % 4 === 0;
  const h = matmulHeader(p, splits, aVec, bVec, vecC);
  // f16: the workgroup buffers hold operands rounded to f16; the FMAs run in f32.
  const f16 = !!p.f16, wty = f16 ? 'vec4<f16>' : 'vec4f', cast = (x: string) => (f16 ? `vec4<f16>(${x})` : x), cast1 = (x: string) => (f16 ? `f16(${x})` : x);
  const I = [...Array(tm / 4).keys()], J = [...Array(tn / 4).keys()], KK = [0, 1, 2, 3];
  /**
   * One operand's bk-slice: `load(k)` fills registers from global memory for the slice at k, `store(off)`
   * writes them into the workgroup buffer at vec4 offset `off` (k-major). `outer` is the operand's non-K
   * extent in the tile (bm or bn); `along` whether its contiguous dimension is K or the outer one.
   */
  const slice = (name: 'A' | 'B', buf: 'As' | 'Bs', outer: number, along: 'k' | 'o', vec: boolean, base: string, ext: string, ld: string) => {
    const per = vec ? 4 : 1, items = (outer * bk) / per, rounds = Math.ceil(items / threads);
    const off = name === 'A' ? 'ao' : 'bo', reg = name.toLowerCase() + 'r';
    type Part = { guard: string; make: (x: string) => string };
    const decl: string[] = [], load: Part[] = [], store: Part[] = [];
    for (let r = 0; r < rounds; r++) {
      const e = `(lid + ${r * threads}u)`;
      const guard = items % threads !== 0 && r === rounds - 1 ? `${e} < ${items}u` : '';
      // o: index along the outer dim within the tile; kk: k within the slice (for a vec4 item, the first of 4).
      const [o, kk] = along === 'k' ? [`(${e} / ${bk / per}u)`, `((${e} % ${bk / per}u) * ${per}u)`] : [`((${e} % ${outer / per}u) * ${per}u)`, `(${e} / ${outer / per}u)`];
      decl.push(`var ${reg}${r} = vec4f(0.0);`);
      const ld4 = (k: string) => {
        const og = `${base} + ${o}`, kg = `${k} + ${kk}`;
        const inRange = fit ? '' : `${og} < ${ext} && ${kg} < kEnd`;
        const oc = fit ? og : `min(${og}, ${ext} - ${along === 'o' && vec ? 4 : 1}u)`, kq = fit ? kg : `min(${kg}, P.k - ${along === 'k' && vec ? 4 : 1}u)`;
        const idx = along === 'k' ? `(${oc}) * P.k + ${kq}` : `(${kq}) * ${ld} + ${oc}`;
        if (vec) { const g = `${name}[(${off} + ${idx}) >> 2u]`; return inRange ? `select(vec4f(0.0), ${g}, ${inRange})` : g; }
        const g = `${name}[${off} + ${idx}]`;
        return `vec4f(${inRange ? `select(0.0, ${g}, ${inRange})` : g}, 0.0, 0.0, 0.0)`;
      };
      load.push({ guard, make: ld4 });
      const st = (at: string, kq: string, comp: string) => `${buf}[${at} + (((${kq}) * ${outer}u + ${o}) >> 2u)]${comp}`;
      const s = (at: string) => (vec && along === 'o' ? `${st(at, kk, '')} = ${cast(`${reg}${r}`)};`
        : vec ? KK.map((t) => `${st(at, `${kk} + ${t}u`, `[${o} & 3u]`)} = ${cast1(`${reg}${r}[${t}]`)};`).join(' ')
          : `${st(at, kk, `[${o} & 3u]`)} = ${cast1(`${reg}${r}.x`)};`);
      store.push({ guard, make: s });
    }
    const emit = (list: Part[], x: string, assign: boolean) => list.map((q, r) => {
      const stmt = assign ? `${reg}${r} = ${q.make(x)};` : q.make(x);
      return q.guard ? `if (${q.guard}) { ${stmt} }` : stmt;
    });
    return {
      decl,
      load: (k: string) => emit(load, k, true),
      store: (at: string) => emit(store, at, false),
    };
  };
  const la = slice('A', 'As', bm, p.transA ? 'o' : 'k', aVec, 'row0', 'P.m', 'P.m');
  const lb = slice('B', 'Bs', bn, p.transB ? 'k' : 'o', bVec, 'col0', 'P.n', 'P.n');
  const aSlab = (bk * bm) / 4, bSlab = (bk * bn) / 4;
  const body: string[] = [];
  for (const i of I) body.push(`let a${i} = vec4f(As[ca + ((kk * ${bm}u + ty * 4u + ${i * 4 * wgy}u) >> 2u)]);`);
  for (const j of J) body.push(`let b${j} = vec4f(Bs[cb + ((kk * ${bn}u + tx * 4u + ${j * 4 * wgx}u) >> 2u)]);`);
  for (const i of I) for (const r of KK) for (const j of J) body.push(`acc${i}_${r}_${j} = fma(vec4f(a${i}[${r}]), b${j}, acc${i}_${r}_${j});`);
  const st: string[] = [];
  const colOf = (j: number) => `col0 + tx * 4u + ${j * 4 * wgx}u`;
  if (p.epilogue) {
    if (vecC) for (const j of J) st.push(`let bias${j} = Bias[(${fit ? colOf(j) : `min(${colOf(j)}, P.n - 4u)`}) >> 2u];`);
    else for (const j of J) for (const u of KK) st.push(`let bias${j}_${u} = Bias[min(${colOf(j)} + ${u}u, P.n - 1u)];`);
  }
  for (const i of I) for (const r of KK) {
    st.push(`{ let row = row0 + ty * 4u + ${i * 4 * wgy + r}u;`);
    if (!fit) st.push('  if (row < P.m) {');
    for (const j of J) {
      if (vecC) st.push(`    ${fit ? '' : `if (${colOf(j)} < P.n) { `}${storeWithEpilogue(p, `(co + row * P.n + ${colOf(j)}) >> 2u`, `acc${i}_${r}_${j}`, `bias${j}`, true)}${fit ? '' : ' }'}`);
      else for (const u of KK) st.push(`    if (${colOf(j)} + ${u}u < P.n) { ${storeWithEpilogue(p, `co + row * P.n + ${colOf(j)} + ${u}u`, `acc${i}_${r}_${j}[${u}]`, `bias${j}_${u}`, false)} }`);
    }
    if (!fit) st.push('  }');
    st.push('}');
  }
  const code = `${f16 ? 'enable f16;\n' : ''}${h.code}
// matmul tile ${configName(c)} ${p.transA ? 'T' : 'N'}${p.transB ? 'T' : 'N'} a:${aVec ? 'v4' : 's'} b:${bVec ? 'v4' : 's'}${fit ? ' fit' : ''}${f16 ? ' f16 operands' : ''}
var<workgroup> As: array<${wty}, ${2 * aSlab}>;
var<workgroup> Bs: array<${wty}, ${2 * bSlab}>;

@compute @workgroup_size(${threads})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
${BATCH_PREAMBLE}
  let co = z * P.m * P.n;
  let row0 = wid.y * ${bm}u;
  let col0 = wid.x * ${bn}u;
  let tx = lid % ${wgx}u;
  let ty = lid / ${wgx}u;
${I.flatMap((i) => KK.flatMap((r) => J.map((j) => `  var acc${i}_${r}_${j} = vec4f(0.0);`))).join('\n')}
  ${[...la.decl, ...lb.decl].join('\n  ')}
  ${[...la.load('kBeg'), ...lb.load('kBeg')].join('\n  ')}
  ${[...la.store('0u'), ...lb.store('0u')].join('\n  ')}
  workgroupBarrier();
  var cur = 0u;
  for (var k0 = kBeg; k0 < kEnd; k0 += ${bk}u) {
    let more = k0 + ${bk}u < kEnd;
    // The next slice into registers while this one feeds the FMAs.
    if (more) {
      ${[...la.load(`k0 + ${bk}u`), ...lb.load(`k0 + ${bk}u`)].join('\n      ')}
    }
    let ca = cur * ${aSlab}u;
    let cb = cur * ${bSlab}u;
    for (var kk = 0u; kk < ${bk}u; kk++) {
      ${body.join('\n      ')}
    }
    if (more) {
      ${[...la.store(`(cur ^ 1u) * ${aSlab}u`), ...lb.store(`(cur ^ 1u) * ${bSlab}u`)].join('\n      ')}
    }
    workgroupBarrier();
    cur = cur ^ 1u;
  }
  ${st.join('\n  ')}
}
`;
  return { code, grid: [Math.ceil(p.n / bn), Math.ceil(p.m / bm), p.batch * splits], uniforms: h.uniforms };
}

/** Invocations of an 'sgm' workgroup: four subgroups of 32 (NVIDIA's size), more or fewer elsewhere. */
const SGM_THREADS = 128;

/**
 * Bench variant 9: tensor cores through Dawn's subgroup matrices (f16 operands, f32 accumulation). The
 * workgroup owns a tm×tn tile of C; per bk slice its invocations stage A and B as f16 in workgroup memory
 * (row-major, zero past the edges, any layout and shape), then each subgroup multiplies-accumulates its
 * run of the tile's M×N result matrices, all in one row of them so one left matrix serves the run
 * (straight-line code, so every matrix op runs with the whole subgroup). Results go through workgroup
 * memory so the store to C is bounds-checked and carries the epilogue. The adapter's shape (M, N, K)
 * must divide tm, tn and bk; the subgroup size comes from the adapter (32 when it does not say).
 */
export function matmulSgmWgsl(p: MatmulParams, c: MatmulConfig, caps: GpuCaps) {
  const shape = caps.subgroupMatrix?.[0];
  if (!shape) throw new Error('matmul sgm: this adapter lists no f16 → f32 subgroup-matrix shape');
  if (!p.f16) throw new Error('matmul sgm: f16 operands only');
  const { M: SM, N: SN, K: SK } = shape, bm = c.tm, bn = c.tn, bk = c.bk;
  if (bm % SM || bn % SN || bk % SK) throw new Error(`matmul sgm: tile ${bm}×${bn}×${bk} is not a multiple of the matrix shape ${SM}×${SN}×${SK}`);
  const subgroups = SGM_THREADS / (caps.subgroupMinSize || 32);
  const rowTiles = bn / SN, tiles = (bm / SM) * rowTiles, per = tiles / subgroups;
  if (!Number.isInteger(per) || rowTiles % per !== 0) throw new Error(`matmul sgm: ${tiles} result matrices do not split into rows over ${subgroups} subgroups`);
  const h = matmulHeader(p, c.splits, false, false, false);
  const aIdx = p.transA ? 'ao + kk * P.m + mm' : 'ao + mm * P.k + kk';
  const bIdx = p.transB ? 'bo + nn * P.k + kk' : 'bo + kk * P.n + nn';
  const Q = [...Array(per).keys()];
  const code = `enable f16;
enable subgroups;
enable chromium_experimental_subgroup_matrix;
${h.code}
// matmul sgm ${configName(c)} ${p.transA ? 'T' : 'N'}${p.transB ? 'T' : 'N'} matrices ${SM}×${SN}×${SK}, ${subgroups} subgroups × ${per}
var<workgroup> As: array<f16, ${bm * bk}>;
var<workgroup> Bs: array<f16, ${bk * bn}>;
var<workgroup> Cs: array<f32, ${bm * bn}>;

@compute @workgroup_size(${SGM_THREADS})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32, @builtin(subgroup_id) sid: u32) {
${BATCH_PREAMBLE}
  let co = z * P.m * P.n;
  let row0 = wid.y * ${bm}u;
  let col0 = wid.x * ${bn}u;
  // This subgroup's result matrices: ${per} neighbours in row ti of the tile's ${bm / SM}×${rowTiles} grid.
  let t0 = sid * ${per}u;
  let ti = t0 / ${rowTiles}u;
  let tj = t0 % ${rowTiles}u;
${Q.map((q) => `  var acc${q}: subgroup_matrix_result<f32, ${SN}, ${SM}>;`).join('\n')}
  for (var k0 = kBeg; k0 < kEnd; k0 += ${bk}u) {
    for (var e = lid; e < ${bm * bk}u; e += ${SGM_THREADS}u) {
      let i = e / ${bk}u; let kq = e % ${bk}u;
      let mm = min(row0 + i, P.m - 1u); let kk = min(k0 + kq, P.k - 1u);
      As[e] = f16(select(0.0, A[${aIdx}], row0 + i < P.m && k0 + kq < kEnd));
    }
    for (var e = lid; e < ${bk * bn}u; e += ${SGM_THREADS}u) {
      let kq = e / ${bn}u; let j = e % ${bn}u;
      let nn = min(col0 + j, P.n - 1u); let kk = min(k0 + kq, P.k - 1u);
      Bs[e] = f16(select(0.0, B[${bIdx}], col0 + j < P.n && k0 + kq < kEnd));
    }
    workgroupBarrier();
    for (var ks = 0u; ks < ${bk}u; ks += ${SK}u) {
      let l = subgroupMatrixLoad<subgroup_matrix_left<f16, ${SK}, ${SM}>>(&As, ti * ${SM * bk}u + ks, false, ${bk}u);
${Q.map((q) => `      let r${q} = subgroupMatrixLoad<subgroup_matrix_right<f16, ${SN}, ${SK}>>(&Bs, ks * ${bn}u + (tj + ${q}u) * ${SN}u, false, ${bn}u);
      acc${q} = subgroupMatrixMultiplyAccumulate(l, r${q}, acc${q});`).join('\n')}
    }
    workgroupBarrier();
  }
${Q.map((q) => `  subgroupMatrixStore(&Cs, ti * ${SM * bn}u + (tj + ${q}u) * ${SN}u, acc${q}, false, ${bn}u);`).join('\n')}
  workgroupBarrier();
  for (var e = lid; e < ${bm * bn}u; e += ${SGM_THREADS}u) {
    let r = row0 + e / ${bn}u; let cc = col0 + e % ${bn}u;
    if (r < P.m && cc < P.n) { ${storeWithEpilogue(p, 'co + r * P.n + cc', 'Cs[e]', 'Bias[cc]', false)} }
  }
}
`;
  return { code, grid: [Math.ceil(p.n / bn), Math.ceil(p.m / bm), p.batch * c.splits], uniforms: h.uniforms };
}

// ---- variant selection ---------------------------------------------------------------------------

/** Shape class used by the heuristics and the autotune cache. */
export function shapeClass(p: MatmulParams): string {
  const lg = (x: number) => Math.min(12, Math.round(Math.log2(Math.max(1, x))));
  return `${p.transA ? 'T' : 'N'}${p.transB ? 'T' : 'N'} m${lg(p.m)} n${lg(p.n)} k${lg(p.k)} b${lg(p.batch)}`;
}

const tuned = new WeakMap<GpuCaps, Map<string, MatmulConfig>>();

/** Records an autotuned config for a shape class on the adapter with these caps (see tuneMatmul in bench). */
export function setTunedMatmul(caps: GpuCaps, cls: string, c: MatmulConfig): void {
  let m = tuned.get(caps);
  if (!m) tuned.set(caps, (m = new Map()));
  m.set(cls, c);
}

const cfg = (kind: MatmulConfig['kind'], wgx: number, wgy: number, tm: number, tn: number, bk = 16): MatmulConfig =>
  ({ kind, wgx, wgy, tm, tn, bk, splits: 1 });

/**
 * The configs the selector picks from (each is tested on every layout; bench/matmul.bench.ts is the lab
 * that measured them and keeps the lab notes and the losing variants).
 */
export const K = {
  /** Software adapters with subgroups ≥ 8 (bench variant 6): 24×128 tile, 24×8 contiguous columns per lane. */
  regSg: { ...cfg('reg', 16, 1, 24, 8), sg: true, cl: true } as MatmulConfig,
  /** regSg reading B from the scratch texture (variant 7): software adapters, M ≥ 256 where B fits. */
  regSgTex: { ...cfg('reg', 16, 1, 24, 8), sg: true, cl: true, tex: true } as MatmulConfig,
  /** Variant 6, 16×64 tile (8 lanes × 8 contiguous columns): software adapters below M = 256 and for N = 64. */
  regSgMid: { ...cfg('reg', 8, 1, 16, 8), sg: true, cl: true } as MatmulConfig,
  /** Variant 6, small tile (8×32) for low-occupancy shapes on software adapters. */
  regSgSmall: { ...cfg('reg', 8, 1, 8, 4), sg: true } as MatmulConfig,
  /** Variant 2 (no subgroups): 8×128 workgroup tile, 8×8 per invocation. */
  regBig: cfg('reg', 16, 1, 8, 8),
  /** Variant 5: small tile for low-occupancy shapes. */
  regSmall: cfg('reg', 8, 1, 4, 4),
  /** Variant 5 on GPUs: 32×32 tile, for adapters whose limits refuse the 'tile' kernels. */
  tiledSmall: cfg('tiled', 8, 8, 4, 4, 16),
  /** Variant 8, GPUs' default: 128×128 tile, 8×8 outputs per invocation (256), bk 8, double-buffered. */
  tile128: cfg('tile', 16, 16, 8, 8, 8),
  /** Variant 8, 64×64 tile, 4×4 per invocation (256), bk 16: shapes with fewer tiles, and split-K. */
  tile64: cfg('tile', 16, 16, 4, 4, 16),
  /** Variant 9, tensor cores: 64×64 tile, bk 32, f16 operands, on adapters with f16 → f32 subgroup matrices. */
  sgm64: cfg('sgm', 1, 1, 64, 64, 32),
};
/** The f32 configs (the tensor-core one rounds its operands to f16: tested with f16 operands). */
export const matmulCandidates: readonly MatmulConfig[] = Object.values(K).filter((c) => c.kind !== 'sgm');

/** Workgroup memory of a config in bytes (double-buffered slices for 'tile'). */
export const workgroupBytes = (c: MatmulConfig): number =>
  c.kind === 'reg' ? 0 : c.kind === 'sgm' ? 2 * c.bk * (c.tm + c.tn) + 4 * c.tm * c.tn : (c.kind === 'tile' ? 2 : 1) * 4 * c.bk * (c.wgy * c.tm + c.wgx * c.tn);

/**
 * Whether an adapter can run a config: its invocations and workgroup memory within the limits, and
 * subgroup broadcast needs subgroups of at least 8 lanes.
 */
export const configSupported = (c: MatmulConfig, caps?: GpuCaps): boolean =>
  (!c.sg || (!!caps?.subgroups && (caps.subgroupMinSize ?? 0) >= 8)) && (!c.tex || !!caps?.maxTexture2D) &&
  (c.kind !== 'sgm' || (!!caps?.subgroupMatrix?.length && sgmFits(c, caps.subgroupMatrix[0]))) &&
  (!caps || ((c.kind === 'sgm' ? SGM_THREADS : c.wgx * c.wgy) <= caps.maxWorkgroupSize && workgroupBytes(c) <= caps.maxWorkgroupStorage));

const sgmFits = (c: MatmulConfig, s: { M: number; N: number; K: number }) => c.tm % s.M === 0 && c.tn % s.N === 0 && c.bk % s.K === 0;

/** Whether B fits the scratch texture of a `tex` config: ⌈N/4⌉ × K texels, a layer per batch matrix of B. */
export const texFits = (p: MatmulParams, caps?: GpuCaps): boolean =>
  !!caps?.maxTexture2D && Math.ceil(p.n / 4) <= caps.maxTexture2D && p.k <= caps.maxTexture2D &&
  (p.strideB === 0 ? 1 : p.batch) <= (caps.maxTextureLayers ?? 0);

const workgroups = (p: MatmulParams, c: MatmulConfig) =>
  Math.ceil(p.m / (c.wgy * c.tm)) * Math.ceil(p.n / (c.wgx * c.tn)) * p.batch;

/**
 * Picks a kernel config for a shape on an adapter (bench/matmul.bench.ts measured the candidates).
 * 1. An autotuned choice for the shape class (bench/matmul-tune.ts) wins.
 * 2. GPUs, and f16 operands anywhere: selectGpuMatmul (tensor cores, the 'tile' kernels, split-K).
 * 3. Software adapters (lavapipe: one CPU thread runs a whole workgroup, SIMD across invocations, and
 *    every load instruction in a loop is expensive) get 'reg' tiles with wgy = 1, with subgroup-broadcast
 *    A where subgroups ≥ 8 lanes exist; the small tile where the big one leaves fewer than 8 workgroups
 *    (2–4 per CPU thread) or is twice as wide as N; split-K where still too few and K is large (≥ 128 of K
 *    a split, ≤ 16 splits).
 * 4. Software adapters read B from the scratch texture (tex) with the big tile when M ≥ 256 and B fits;
 *    with subgroups, the 16×64 tile takes what the big tile would not (M < 256, or N ≤ 64) where it
 *    still makes MID_WORKGROUPS workgroups and N > 32.
 */
export function selectMatmul(p: MatmulParams, caps?: GpuCaps): MatmulConfig {
  const t = caps && tuned.get(caps)?.get(shapeClass(p));
  if (t && (!p.f16 || t.kind === 'tile' || t.kind === 'sgm')) return t;
  const software = caps?.software ?? false;
  if (!software || p.f16) return selectGpuMatmul(p, caps);
  const want = 8;
  const sg = configSupported(K.regSg, caps);
  let c = sg ? K.regSg : K.regBig;
  // A tile at least twice as wide as N idles half its lanes (attention's ·V and its gradients have
  // N = head dim 64): take the small tile (lavapipe, [32,128,128]·[32,128,64]: 22 vs 30 ms).
  const small = workgroups(p, c) < want || p.n * 2 <= c.wgx * c.tn;
  if (small) c = sg ? K.regSgSmall : K.regSmall;
  const wgs = workgroups(p, c);
  if (wgs < want && p.k >= 256) {
    const splits = Math.min(Math.ceil(want / wgs), Math.floor(p.k / 128), 16);
    if (splits > 1) c = { ...c, splits };
  }
  // lavapipe: B through the scratch texture when each B value is read by many row blocks (M ≥ 256), so the
  // pack pass pays off: the big tile only. Attention's 128-row products, the vocabulary logits (152 masked
  // rows) and small tiles measured no better or worse with it (lab variant 7, session-3 notes).
  if (sg && !small && p.m >= 256 && texFits(p, caps)) return { ...c, tex: true };
  // The 16×64 tile where it leaves enough workgroups (with fewer, e.g. [1024×256]ᵀ·[1024×64] with 16,
  // the small tile measured faster: 11.3 vs 14.6 ms).
  if (sg && (small || p.m < 256) && c.splits === 1 && p.n > 32 && workgroups(p, K.regSgMid) >= MID_WORKGROUPS) return K.regSgMid;
  return c;
}

/** The fewest workgroups for which the software selector takes the 16×64 tile over the small one. */
const MID_WORKGROUPS = 32;

/** Workgroups for one wave on a big GPU (an H200 has 132 SMs), and what keeps it busy (two per SM). */
const GPU_WAVE = 132, GPU_BUSY = 264;
/** Split-K: the most splits, the least K per split, and a cap on the partials scratch (bytes). */
const MAX_SPLITS = 128, MIN_SPLIT_K = 128, MAX_PARTIALS = 64 * 2 ** 20;

/**
 * GPUs: the 128×128 tile when it makes a wave of workgroups, else the 64×64 tile, else the 32×32 one
 * (each only where the adapter's limits allow); then, if still under a wave and K is long (weight
 * gradients: [B·T, C]ᵀ·[B·T, C']), split K into enough parts for two workgroups per SM, each keeping
 * ≥ MIN_SPLIT_K of K.
 */
function selectGpuMatmul(p: MatmulParams, caps?: GpuCaps): MatmulConfig {
  const ok = (c: MatmulConfig) => configSupported(c, caps);
  // f16 operands: tensor cores where the adapter has them, else the 'tile' kernels (the big one for hardware adapters).
  const order = (p.f16 ? (caps?.software ? [K.tile64] : [K.sgm64, K.tile128, K.tile64]) : [K.tile128, K.tile64, K.tiledSmall]).filter(ok);
  if (order.length === 0) return p.f16 ? K.tile64 : K.tiledSmall;
  let c = order.find((x) => workgroups(p, x) >= GPU_WAVE) ?? order[Math.min(1, order.length - 1)];
  const wgs = workgroups(p, c);
  if (wgs < GPU_WAVE && p.k >= 2 * MIN_SPLIT_K) {
    const byMemory = Math.floor(MAX_PARTIALS / (4 * p.batch * p.m * p.n));
    const splits = Math.min(Math.ceil(GPU_BUSY / wgs), Math.floor(p.k / MIN_SPLIT_K), MAX_SPLITS, byMemory);
    if (splits > 1) c = { ...c, splits };
  }
  return c;
}

// ---- kernels -------------------------------------------------------------------------------------

export const matmulKernel: Kernel<MatmulParams> = {
  name: 'matmul',
  cpu(p, [a, b, bias], [c, pre]) {
    matmulRef(p, a, b, c);
    if (p.epilogue) epilogueRef(p, bias, c, pre);
  },
  wgsl(p, caps) {
    const c = p.config ?? selectMatmul(p, caps);
    if (c.tex && c.kind !== 'reg') throw new Error(`matmul: tex is a 'reg' option (${configName(c)})`);
    if (p.f16 && c.kind !== 'tile' && c.kind !== 'sgm') throw new Error(`matmul: f16 operands need a 'tile' or 'sgm' config (${configName(c)})`);
    if (c.kind === 'sgm') return matmulSgmWgsl(p, c, caps);
    return c.kind === 'reg' ? matmulRegWgsl(p, c) : c.kind === 'tile' ? matmulTileWgsl(p, c) : matmulTiledWgsl(p, c);
  },
};

/**
 * Split-K reduction with the store epilogue the split matmul could not apply (bias [cols], GELU, the
 * pre-activation): C[i] = Σ_s part[s·n + i] in fixed s order. Without an epilogue, the reduce family sums.
 */
export interface SplitSumParams { splits: number; n: number; cols: number; epilogue?: MatmulEpilogue }

export const splitSumKernel: Kernel<SplitSumParams> = {
  name: 'matmul-splitsum',
  cpu(p, [part, bias], [out, pre]) {
    for (let i = 0; i < p.n; i++) {
      let acc = 0;
      for (let s = 0; s < p.splits; s++) acc += part[s * p.n + i];
      out[i] = acc;
    }
    if (p.epilogue) epilogueRef({ batch: 1, m: p.n / p.cols, n: p.cols, k: 0, transA: false, transB: false, strideA: 0, strideB: 0, epilogue: p.epilogue }, bias, out, pre);
  },
  wgsl(p) {
    const ep = p.epilogue;
    const h = header([['n', 'u32', p.n], ['cols', 'u32', p.cols]], [['part', 'array<f32>'], ...(ep ? [['Bias', 'array<f32>'] as const] : [])],
      [['C', 'array<f32>'], ...(ep === 'biasGeluPre' ? [['Pre', 'array<f32>'] as const] : [])]);
    const store = !ep ? 'C[i] = acc;' : ep === 'bias' ? 'C[i] = acc + Bias[i % P.cols];'
      : `let e = acc + Bias[i % P.cols];${ep === 'biasGeluPre' ? ' Pre[i] = e;' : ''} C[i] = gelu_(e);`;
    const code = `${h.code}${ep === 'biasGelu' || ep === 'biasGeluPre' ? WGSL_ERF : ''}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (${FLAT_WG}) * 256u + lid;
  if (i >= P.n) { return; }
  var acc = part[i];
  for (var s = 1u; s < ${p.splits}u; s++) { acc += part[s * P.n + i]; }
  ${store}
}
`;
    return { code, grid: grid1d(Math.ceil(p.n / 256)), uniforms: h.uniforms };
  },
};

// ---- launcher ------------------------------------------------------------------------------------

/**
 * The params of op(a)·op(b) for a [..., M, K] (transA: [..., K, M]) and b [..., K, N] (transB: [..., N, K]);
 * leading dims are flattened and either side may be one matrix shared by the batch. Throws a ShapeError
 * naming both shapes when they do not fit. `shape` is C's: [...batch, M, N].
 */
export function planMatmul(a: Shape, b: Shape, transA: boolean, transB: boolean): { p: MatmulParams; shape: number[]; what: string } {
  const what = `${fmt(a)}${transA ? 'ᵀ' : ''} · ${fmt(b)}${transB ? 'ᵀ' : ''}`;
  if (a.length < 2 || b.length < 2) throw new ShapeError(`matmul: needs rank ≥ 2, got ${fmt(a)} and ${fmt(b)}`);
  const [ar, ac] = a.slice(-2), [br, bc] = b.slice(-2);
  const m = transA ? ac : ar, k = transA ? ar : ac;
  const kb = transB ? bc : br, n = transB ? br : bc;
  if (k !== kb) throw new ShapeError(`matmul: inner dims differ in ${what} (${k} vs ${kb})`);
  const ba = numel(a.slice(0, -2)), bb = numel(b.slice(0, -2));
  if (ba !== bb && ba !== 1 && bb !== 1) throw new ShapeError(`matmul: batch dims differ in ${what}`);
  const batch = Math.max(ba, bb);
  const p: MatmulParams = { batch, m, n, k, transA, transB, strideA: ba === 1 ? 0 : m * k, strideB: bb === 1 ? 0 : k * n };
  return { p, shape: [...(ba >= bb ? a.slice(0, -2) : b.slice(0, -2)), m, n], what };
}

export interface MatmulOptions {
  transA?: boolean; transB?: boolean;
  /** Force a kernel config (tests, benchmarks); default: the selector's pick for the device. */
  config?: MatmulConfig;
  /** Store epilogue: + bias [N] on every row, then exact GELU with `gelu`; `keepPre` also returns the pre-activation. */
  bias?: DeviceArray; gelu?: boolean; keepPre?: boolean;
  /** f16 operands, f32 accumulation, on devices with shader-f16 (and the CPU reference); ignored elsewhere. */
  f16?: boolean;
}

/**
 * C = op(A)·op(B) (+ bias, GELU) on A's device: the selector's kernel (the CPU device, which has no caps,
 * runs the plain reference unless a config is forced), split-K as two passes (partials
 * [splits, batch, M, N], then a fixed-order sum that also applies the epilogue: deterministic, no atomics).
 * → { y: [...batch, M, N], pre: the pre-activation with `keepPre` (GELU's backward reads it) }.
 */
export function matmul(a: DeviceArray, b: DeviceArray, o: MatmulOptions, label: string): { y: DeviceArray; pre: DeviceArray | null } {
  const plan = planMatmul(a.shape, b.shape, o.transA ?? false, o.transB ?? false);
  const { shape, what } = plan, d = a.device;
  const p: MatmulParams = o.f16 && (!d.caps || d.caps.f16) ? { ...plan.p, f16: true } : plan.p;
  const config = o.config ?? (d.caps ? selectMatmul(p, d.caps) : undefined);
  const splits = config?.splits ?? 1;
  if (p.batch * splits > 65535) throw new ShapeError(`matmul: batch ${p.batch} × ${splits} splits over 65535 in ${what}`);
  const epilogue: MatmulEpilogue | undefined = !o.bias ? undefined : !o.gelu ? 'bias' : o.keepPre ? 'biasGeluPre' : 'biasGelu';
  if (o.bias && (o.bias.shape.length !== 1 || o.bias.shape[0] !== p.n)) throw new ShapeError(`matmul: bias ${fmt(o.bias.shape)} does not match ${p.n} columns of ${what}`);
  const ins = o.bias ? [a, b, o.bias] : [a, b];
  const outs = (s: Shape) => (epilogue === 'biasGeluPre' ? [{ shape: s, dtype: 'f32' as const }, { shape: s, dtype: 'f32' as const }] : [{ shape: s, dtype: 'f32' as const }]);
  if (splits === 1) {
    const [y, pre] = launch(matmulKernel, { ...p, config, epilogue }, ins, outs(shape), label);
    return { y, pre: pre ?? null };
  }
  const [part] = launch(matmulKernel, { ...p, config }, [a, b], [{ shape: [splits, ...shape], dtype: 'f32' }], `${label} split-K`);
  if (!epilogue) {
    // A column sum over the splits: the reduce family spreads it over the device (weight gradients have
    // few outputs and many splits, so one invocation per output would idle most of a GPU).
    const y = reduce('sum', { ...part, shape: [splits, p.batch * p.m * p.n] }, [0], `${label} split-K sum`);
    freeTemp(part);
    return { y: { ...y, shape }, pre: null };
  }
  const [y, pre] = launch(splitSumKernel, { splits, n: p.batch * p.m * p.n, cols: p.n, epilogue }, o.bias ? [part, o.bias] : [part], outs(shape), `${label} split-K sum`);
  freeTemp(part);
  return { y, pre: pre ?? null };
}
