// WGSL building blocks shared by the row-wise fused kernels (softmax, layernorm, cross_entropy):
// the vector width a row allows (vec4/vec2 loads when the row length is a multiple), horizontal
// ops on that vector type, and a workgroup tree reduction over shared memory. One workgroup owns a
// row; every barrier sits in workgroup-uniform control flow (row index comes from workgroup_id).
// Rows are streamed (re-read per pass; a row is ≤ 16 KB and stays in cache): holding them in per-lane
// register arrays measured 2× slower on lavapipe (bench/kernels/fused.bench.ts). No subgroup path:
// WGSL has no subgroup_id, so a fixed subgroup→slot map (needed for a deterministic sum) is not portable.

/** Widest of 4, 2, 1 dividing n: the row is then read as array<vec{w}<f32>>. */
export function vecWidth(n: number): 1 | 2 | 4 {
  return n % 4 === 0 ? 4 : n % 2 === 0 ? 2 : 1;
}

/** Workgroup size for a row of n elements read w at a time: enough lanes, a power of two in [32, 256]. */
export function rowWorkgroup(n: number, w: number): number {
  let wg = 32;
  while (wg < 256 && wg * 2 <= Math.ceil(n / w)) wg *= 2;
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

/**
 * Shared-memory tree reduction `fn <name>(v: T, lid: u32) -> T` over a workgroup of `wg` lanes
 * (a power of two). Must be called by all lanes; the trailing barrier lets the caller reuse it.
 */
export function wgReduceWgsl(name: string, type: string, wg: number, combine: (a: string, b: string) => string): string {
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

export const wgSum = (wg: number) => wgReduceWgsl('wgSum', 'f32', wg, (a, b) => `${a} + ${b}`);
export const wgMax = (wg: number) => wgReduceWgsl('wgMax', 'f32', wg, (a, b) => `max(${a}, ${b})`);
export const wgSum2 = (wg: number) => wgReduceWgsl('wgSum2', 'vec2<f32>', wg, (a, b) => `${a} + ${b}`);

/** WGSL literal for the most negative finite f32 (WGSL rejects -inf and out-of-range literals). */
export const NEG_BIG = '-3.402823e38';
