// WGSL building blocks shared by the row-wise fused kernels (softmax, layernorm, cross_entropy):
// the vector width a row allows (vec4/vec2 loads when the row length is a multiple), horizontal ops on
// that vector type, the lanes per row, and workgroup reductions. One workgroup owns a row; every
// barrier sits in workgroup-uniform control flow (the row index comes from workgroup_id).
// Reductions: with caps.subgroups, subgroup ops plus one slot per subgroup_id combined in slot order
// (2 barriers instead of 2·log2(wg)); otherwise a shared-memory tree. Both give the same bits every run.
// Rows are streamed (re-read per pass, from cache): holding them in per-lane register arrays measured
// 2× slower on lavapipe (bench/kernels/fused.bench.ts).
// Software adapters (lavapipe) instead give each invocation a whole row (lanes = 1): there a barrier
// switches every 8-lane fiber, and masked softmax over [4096, 128] took 18 ms with 32 lanes per row
// against 7 ms with one (the same body text runs: lane 0 of 1, reductions are the identity).

import { FLAT_WG, type GpuCaps, grid1d } from '../device/device.js';

/** Widest of 4, 2, 1 dividing n: the row is then read as array<vec{w}<f32>>. */
export function vecWidth(n: number): 1 | 2 | 4 {
  return n % 4 === 0 ? 4 : n % 2 === 0 ? 2 : 1;
}

/** Rows per workgroup when each invocation owns a row (lanes = 1). */
const ROWS_PER_WG = 64;
/** The longest row an invocation owns alone; longer rows (vocabulary logits) keep a workgroup. */
const MAX_SOLO_ROW = 1024;

/**
 * Lanes per row: 1 on software adapters for rows up to MAX_SOLO_ROW; else a power of two in [32, 64],
 * fewer for short rows. Capped at 64 (two warps; vec4 loads keep rows of 1024 at 4 loads per lane): on
 * lavapipe, 256 lanes made LayerNorm [1024, 1024] 3–4× slower (barriers switch every 8-lane fiber), and
 * rows are plentiful (B·T, B·H·T) so 64 fills a GPU.
 */
export function rowWorkgroup(n: number, w: number, caps: GpuCaps | undefined): number {
  if (caps?.software && n <= MAX_SOLO_ROW) return 1;
  let wg = 32;
  while (wg < 64 && wg * 2 <= Math.ceil(n / w)) wg *= 2;
  return wg;
}

/** The WGSL type of one load of width w and helpers hsum/hmax/splat (`V` is the type alias). */
export function vecWgsl(w: 1 | 2 | 4): string {
  if (w === 1) return 'alias V = f32;\nfn hsum(v: V) -> f32 { return v; }\nfn hmax(v: V) -> f32 { return v; }\nfn splat(s: f32) -> V { return s; }\n';
  const comps = w === 4 ? ['x', 'y', 'z', 'w'] : ['x', 'y'];
  const max = w === 4 ? 'max(max(v.x, v.y), max(v.z, v.w))' : 'max(v.x, v.y)';
  return `alias V = vec${w}<f32>;
fn hsum(v: V) -> f32 { return ${comps.map((c) => `v.${c}`).join(' + ')}; }
fn hmax(v: V) -> f32 { return ${max}; }
fn splat(s: f32) -> V { return V(s); }
`;
}

/** Whether row kernels use subgroup reductions on this device. */
export const useSubgroups = (caps: GpuCaps | undefined): boolean => !!caps?.subgroups;

/** Module-scope lines a row kernel needs: `enable subgroups;` (must come first) and the ids' home. */
export function rowEnable(sg: boolean): string {
  return sg ? 'enable subgroups;\n' : '';
}
/** Extra parameters of `main` and its first statement: the subgroup ids go to private variables. */
export function rowArgs(sg: boolean): string {
  return sg ? ', @builtin(subgroup_id) sgid: u32, @builtin(subgroup_invocation_id) sglane: u32, @builtin(num_subgroups) nsg: u32' : '';
}
export function rowPrologue(sg: boolean): string {
  return sg ? 'sg_id = sgid; sg_lane = sglane; sg_n = nsg;' : '';
}
const SG_VARS = 'var<private> sg_id: u32;\nvar<private> sg_lane: u32;\nvar<private> sg_n: u32;\n';

/**
 * Workgroup reduction `fn <name>(v: T, lid: u32) -> T` over `wg` lanes (a power of two). Must be
 * called by all lanes; the trailing barrier lets the caller reuse it. Shared-memory tree, or with
 * `sgOp` (subgroupAdd/subgroupMax) a subgroup reduction and a fixed-order pass over subgroup slots.
 */
export function wgReduceWgsl(name: string, type: string, wg: number, combine: (a: string, b: string) => string, sgOp: string | null): string {
  if (wg === 1) return `fn ${name}(v: ${type}, lid: u32) -> ${type} { return v; }\n`;
  if (sgOp) {
    return `var<workgroup> ${name}_buf: array<${type}, ${wg}>;
fn ${name}(v: ${type}, lid: u32) -> ${type} {
  let s = ${sgOp}(v);
  if (sg_lane == 0u) { ${name}_buf[sg_id] = s; }
  workgroupBarrier();
  var r = ${name}_buf[0];
  for (var i: u32 = 1u; i < sg_n; i++) { r = ${combine('r', `${name}_buf[i]`)}; }
  workgroupBarrier();
  return r;
}
`;
  }
  return `var<workgroup> ${name}_buf: array<${type}, ${wg}>;
fn ${name}(v: ${type}, lid: u32) -> ${type} {
  ${name}_buf[lid] = v;
  workgroupBarrier();
  for (var s: u32 = ${wg / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { ${name}_buf[lid] = ${combine(`${name}_buf[lid]`, `${name}_buf[lid + s]`)}; }
    workgroupBarrier();
  }
  let r = ${name}_buf[0];
  workgroupBarrier();
  return r;
}
`;
}

export const wgSum = (wg: number, sg: boolean) => wgReduceWgsl('wgSum', 'f32', wg, (a, b) => `${a} + ${b}`, sg ? 'subgroupAdd' : null);
export const wgMax = (wg: number, sg: boolean) => wgReduceWgsl('wgMax', 'f32', wg, (a, b) => `max(${a}, ${b})`, sg ? 'subgroupMax' : null);
export const wgSum2 = (wg: number, sg: boolean) => wgReduceWgsl('wgSum2', 'vec2<f32>', wg, (a, b) => `${a} + ${b}`, sg ? 'subgroupAdd' : null);
/** The private subgroup-id variables, once per module that uses subgroup reductions. */
export const sgVars = (sg: boolean): string => (sg ? SG_VARS : '');

/** WGSL literal for the most negative finite f32 (WGSL rejects -inf and out-of-range literals). */
export const NEG_BIG = '-3.402823e38';

/**
 * A complete row module: `header` (params and bindings), the vector helpers, `helpers` (reductions,
 * loaders), then `main` with `row` (excess rows return), `lid` (the lane within the row; 0 when
 * lanes = 1) and `base` (the row's first vector element, row · P.nv) in scope before `body`.
 */
export function rowModule(o: { sg: boolean; w: 1 | 2 | 4; wg: number; header: string; helpers: string; body: string }): string {
  const sg = o.sg && o.wg > 1;
  const solo = o.wg === 1;
  return `${rowEnable(sg)}${o.header}
${sgVars(sg)}${vecWgsl(o.w)}
${o.helpers}@compute @workgroup_size(${solo ? ROWS_PER_WG : o.wg})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) ${solo ? 'li' : 'lid'}: u32${rowArgs(sg)}) {
  ${rowPrologue(sg)}
  let row = ${solo ? `(${FLAT_WG}) * ${ROWS_PER_WG}u + li` : FLAT_WG};
  if (row >= P.rows) { return; }${solo ? '\n  let lid = 0u;' : ''}
  let base = row * P.nv;
${o.body}
}
`;
}

/** The grid of a rowModule launch over `rows` rows with `wg` lanes per row. */
export function rowGrid(rows: number, wg: number): [number, number] {
  return grid1d(wg === 1 ? Math.ceil(rows / ROWS_PER_WG) : rows);
}
