// Embedding gather and its deterministic backward. ids i32 (N), table (V, E) → y (N, E), y[i] = table[ids[i]].
// Out-of-range ids: the CPU reference throws a RangeError naming position and id. On the GPU the ids
// are not on the host, so an id outside [0, V) gives a zero row (and no gradient) and `idCheck`
// finds the first such position in one small pass for `checkIds` (one 2-int readback) to report.
// Backward, no float atomics: sort keys id·N + pos (bitonic), then the first position of each id
// sums the dY rows of that id in position order into dTable (zero elsewhere): same bits every run.
// A padding id (PyTorch's padding_idx, HF's pad_token_id) gets no gradient: its keys join the
// invalid-id bucket, which sorts last and is never summed.

import { type DeviceArray, FLAT_WG, type Kernel, freeTemp, grid1d, header, launch, launchInto } from '../device/device.js';
import { fill } from './copy.js';
import { vecWidth } from './rows.js';

export interface EmbeddingParams { n: number; v: number; e: number }

function vecType(w: number): string { return w === 1 ? 'f32' : `vec${w}<f32>`; }

export const embeddingForwardKernel: Kernel<EmbeddingParams> = {
  name: 'embedding',
  // ids [n], table [v·e] → y [n·e]
  cpu(p, [ids, table], [y]) {
    for (let i = 0; i < p.n; i++) {
      const id = ids[i];
      if (!(id >= 0 && id < p.v)) throw new RangeError(`embedding: id ${id} at position ${i} is outside [0, ${p.v})`);
      y.set(table.subarray(id * p.e, (id + 1) * p.e), i * p.e);
    }
  },
  wgsl(p) {
    const w = vecWidth(p.e), ev = p.e / w, WG = 256;
    const h = header([['n', 'u32', p.n], ['v', 'i32', p.v], ['ev', 'u32', ev]], [['ids', 'array<i32>'], ['table', `array<${vecType(w)}>`]], [['y', `array<${vecType(w)}>`]]);
    const code = `${h.code}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (${FLAT_WG}) * ${WG}u + lid;
  if (i >= P.n * P.ev) { return; }
  let id = ids[i / P.ev];
  var row = ${vecType(w)}(0.0);
  if (id >= 0 && id < P.v) { row = table[u32(id) * P.ev + i % P.ev]; }
  y[i] = row;
}
`;
    return { code, grid: grid1d(Math.ceil((p.n * ev) / WG)), uniforms: h.uniforms };
  },
};

const CHECK_WG = 256;

/** ids [n] → status i32 [2]: the first position whose id is outside [0, v) and that id, or [-1, 0]. */
export const idCheckKernel: Kernel<{ n: number; v: number }> = {
  name: 'embedding_check_ids',
  cpu(p, [ids], [st]) {
    st[0] = -1; st[1] = 0;
    for (let i = 0; i < p.n; i++) if (!(ids[i] >= 0 && ids[i] < p.v)) { st[0] = i; st[1] = ids[i]; return; }
  },
  wgsl(p) {
    const h = header([['n', 'u32', p.n], ['v', 'i32', p.v]], [['ids', 'array<i32>']], [['st', 'array<i32>']]);
    // One workgroup: a min over positions (ids are a few thousand per batch; this runs once per batch at most).
    const code = `${h.code}
var<workgroup> first: array<u32, ${CHECK_WG}>;
@compute @workgroup_size(${CHECK_WG})
fn main(@builtin(local_invocation_index) lid: u32) {
  var f: u32 = P.n;
  for (var i: u32 = lid; i < P.n; i += ${CHECK_WG}u) {
    let id = ids[i];
    if (!(id >= 0 && id < P.v)) { f = i; break; }
  }
  first[lid] = f;
  workgroupBarrier();
  for (var s: u32 = ${CHECK_WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { first[lid] = min(first[lid], first[lid + s]); }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let b = first[0];
    if (b < P.n) { st[0] = i32(b); st[1] = ids[b]; } else { st[0] = -1; st[1] = 0; }
  }
}
`;
    return { code, grid: [1], uniforms: h.uniforms };
  },
};

// ---- backward: sort (id, position) keys, then one head per id sums its rows --------------------

/** Sort padding (sorts last; never a valid key since keys < (v+1)·n ≤ 2³¹ − 1). */
const PAD_KEY = 0x7fffffff;
/** Keys a workgroup sorts in shared memory; larger strides of the bitonic network run as global steps. */
export const SORT_CHUNK = 512;

/** pad: the id whose row gets no gradient (-1: none). */
export interface SortKeysParams { n: number; npad: number; v: number; pad: number }

/** ids [n] → keys i32 [npad]: id·n + pos (invalid and padding ids as v·n + pos, after all valid ones), then PAD_KEY. */
export const embeddingKeysKernel: Kernel<SortKeysParams> = {
  name: 'embedding_keys',
  cpu(p, [ids], [keys]) {
    for (let i = 0; i < p.npad; i++) {
      const id = ids[i];
      keys[i] = i >= p.n ? PAD_KEY : (id >= 0 && id < p.v && id !== p.pad ? id : p.v) * p.n + i;
    }
  },
  wgsl(p) {
    const h = header([['n', 'u32', p.n], ['npad', 'u32', p.npad], ['v', 'i32', p.v], ['pad', 'i32', p.pad]], [['ids', 'array<i32>']], [['keys', 'array<i32>']]);
    const code = `${h.code}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (${FLAT_WG}) * 256u + lid;
  if (i >= P.npad) { return; }
  if (i >= P.n) { keys[i] = ${PAD_KEY}; return; }
  let id = ids[i];
  keys[i] = select(P.v, id, id >= 0 && id < P.v && id != P.pad) * i32(P.n) + i32(i);
}
`;
    return { code, grid: grid1d(Math.ceil(p.npad / 256)), uniforms: h.uniforms };
  },
};

/** One compare-exchange step (k, j) of the bitonic network on pairs whose lower index is in [lo, hi). */
function bitonicStepRef(a: ArrayLike<number> & { [i: number]: number }, k: number, j: number, lo: number, hi: number): void {
  for (let i = lo; i < hi; i++) {
    const l = i ^ j;
    if (l <= i) continue;
    const asc = (i & k) === 0;
    if ((a[i] > a[l]) === asc) { const t = a[i]; a[i] = a[l]; a[l] = t; }
  }
}

/**
 * In-place bitonic sort stages inside each chunk of `chunk` keys (shared memory).
 * full: every stage k = 2..chunk; otherwise the tail of stage k with strides j = chunk/2 .. 1.
 */
export interface SortLocalParams { npad: number; chunk: number; full: boolean; k: number }

export const sortLocalKernel: Kernel<SortLocalParams> = {
  name: 'bitonic_local',
  cpu(p, _ins, [keys]) {
    for (let base = 0; base < p.npad; base += p.chunk) {
      if (p.full) for (let k = 2; k <= p.chunk; k *= 2) for (let j = k / 2; j > 0; j /= 2) bitonicStepRef(keys, k, j, base, base + p.chunk);
      else for (let j = p.chunk / 2; j > 0; j /= 2) bitonicStepRef(keys, p.k, j, base, base + p.chunk);
    }
  },
  wgsl(p) {
    const lanes = p.chunk / 2;
    const h = header([['k', 'u32', p.k]], [], [['keys', 'array<i32>']]);
    const step = (k: string) => `
    {
      let i = 2u * j * (lid / j) + lid % j;
      let a = sh[i];
      let b = sh[i + j];
      if ((a > b) == (((base + i) & ${k}) == 0u)) { sh[i] = b; sh[i + j] = a; }
      workgroupBarrier();
    }`;
    const loops = p.full
      ? `for (var k: u32 = 2u; k <= ${p.chunk}u; k = k << 1u) {
    for (var j: u32 = k >> 1u; j > 0u; j = j >> 1u) {${step('k')}
    }
  }`
      : `for (var j: u32 = ${p.chunk / 2}u; j > 0u; j = j >> 1u) {${step('P.k')}
  }`;
    const code = `${h.code}
var<workgroup> sh: array<i32, ${p.chunk}>;
@compute @workgroup_size(${lanes})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let base = wid.x * ${p.chunk}u;
  sh[lid] = keys[base + lid];
  sh[lid + ${lanes}u] = keys[base + lid + ${lanes}u];
  workgroupBarrier();
  ${loops}
  keys[base + lid] = sh[lid];
  keys[base + lid + ${lanes}u] = sh[lid + ${lanes}u];
}
`;
    return { code, grid: [p.npad / p.chunk], uniforms: h.uniforms };
  },
};

/** One global compare-exchange step (k, j) of the bitonic network: one invocation per pair. */
export const sortGlobalStepKernel: Kernel<{ npad: number; k: number; j: number }> = {
  name: 'bitonic_global',
  cpu(p, _ins, [keys]) { bitonicStepRef(keys, p.k, p.j, 0, p.npad); },
  wgsl(p) {
    const h = header([['npad', 'u32', p.npad], ['k', 'u32', p.k], ['j', 'u32', p.j]], [], [['keys', 'array<i32>']]);
    const code = `${h.code}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (${FLAT_WG}) * 256u + lid;
  if (t >= P.npad / 2u) { return; }
  let i = 2u * P.j * (t / P.j) + t % P.j;
  let a = keys[i];
  let b = keys[i + P.j];
  if ((a > b) == ((i & P.k) == 0u)) { keys[i] = b; keys[i + P.j] = a; }
}
`;
    return { code, grid: grid1d(Math.ceil(p.npad / 2 / 256)), uniforms: h.uniforms };
  },
};

/**
 * keys [npad] sorted, dy [n·e] → dTable [v·e] (zero-filled by the caller): the sorted index that
 * starts a run of one id sums that run's dY rows in position order. One workgroup per sorted index.
 */
export const embeddingAccumulateKernel: Kernel<EmbeddingParams> = {
  name: 'embedding_backward',
  cpu(p, [keys, dy], [dt]) {
    const id = (s: number) => Math.floor(keys[s] / p.n);
    for (let s = 0; s < p.n; s++) {
      const v = id(s);
      if (v >= p.v || (s > 0 && id(s - 1) === v)) continue;
      for (let c = 0; c < p.e; c++) {
        let acc = 0;
        for (let t = s; t < p.n && id(t) === v; t++) acc += dy[(keys[t] % p.n) * p.e + c];
        dt[v * p.e + c] = acc;
      }
    }
  },
  wgsl(p) {
    const w = vecWidth(p.e), ev = p.e / w, ty = vecType(w);
    const wg = ev >= 64 ? 64 : 32;
    const h = header([['n', 'u32', p.n], ['v', 'u32', p.v], ['ev', 'u32', ev]], [['keys', 'array<i32>'], ['dy', `array<${ty}>`]], [['dt', `array<${ty}>`]]);
    const code = `${h.code}
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let s = ${FLAT_WG};
  if (s >= P.n) { return; }
  let id = u32(keys[s]) / P.n;
  if (id >= P.v) { return; }
  if (s > 0u && u32(keys[s - 1u]) / P.n == id) { return; }
  for (var c: u32 = lid; c < P.ev; c += ${wg}u) {
    var acc = ${ty}(0.0);
    for (var t: u32 = s; t < P.n; t++) {
      let key = u32(keys[t]);
      if (key / P.n != id) { break; }
      acc = acc + dy[(key % P.n) * P.ev + c];
    }
    dt[id * P.ev + c] = acc;
  }
}
`;
    return { code, grid: grid1d(p.n), uniforms: h.uniforms };
  },
};

// ---- launchers ---------------------------------------------------------------------------------

/** ids i32 [...] from table [V, E] → [..., E] (zero rows for ids outside [0, V) on the GPU). */
export function embedding(ids: DeviceArray, table: DeviceArray, label: string): DeviceArray {
  const [v, e] = table.shape, n = ids.shape.reduce((a, b) => a * b, 1);
  return launch(embeddingForwardKernel, { n, v, e }, [ids, table], [{ shape: [...ids.shape, e], dtype: 'f32' }], label)[0];
}

/** i32 [2]: the first flat position whose id is outside [0, vocab) and that id, or [-1, 0]. */
export function firstBadId(ids: DeviceArray, vocab: number, label: string): DeviceArray {
  return launch(idCheckKernel, { n: ids.shape.reduce((a, b) => a * b, 1), v: vocab }, [ids], [{ shape: [2], dtype: 'i32' }], label)[0];
}

/**
 * dTable [V, E] from ids [N…] and dy [N…, E]: sort the (id, position) keys (bitonic: chunks in shared memory,
 * longer strides as global steps), then sum each id's rows in position order. `pad`: the id that gets no
 * gradient (-1: none). The caller checks that (V + 1)·N fits in i32.
 */
export function embeddingBackward(ids: DeviceArray, dy: DeviceArray, vocab: number, pad: number, label: string): DeviceArray {
  const n = ids.shape.reduce((a, b) => a * b, 1), e = dy.shape[dy.shape.length - 1];
  const dt = fill(dy.device, [vocab, e], 0, 'f32', label);
  if (n === 0) return dt;
  const npad = 2 ** Math.ceil(Math.log2(Math.max(2, n)));
  const chunk = Math.min(SORT_CHUNK, npad);
  const [keys] = launch(embeddingKeysKernel, { n, npad, v: vocab, pad }, [ids], [{ shape: [npad], dtype: 'i32' }], label);
  launchInto(sortLocalKernel, { npad, chunk, full: true, k: 0 }, [], [keys], label);
  for (let k = 2 * chunk; k <= npad; k *= 2) {
    for (let j = k / 2; j >= chunk; j /= 2) launchInto(sortGlobalStepKernel, { npad, k, j }, [], [keys], label);
    launchInto(sortLocalKernel, { npad, chunk, full: false, k }, [], [keys], label);
  }
  launchInto(embeddingAccumulateKernel, { n, v: vocab, e }, [keys, dy], [dt], label);
  freeTemp(keys);
  return dt;
}
