// Batched matmul C[b] = op(A[b]) · op(B[b]), op = identity or transpose, so backward needs no copied
// transposes: dA = dC·Bᵀ and dB = Aᵀ·dC are the same kernel with flags. A batch of 1 broadcasts.
//   A: [Ba, M, K] (transA: [Ba, K, M]);  B: [Bb, K, N] (transB: [Bb, N, K]);  C: [max(Ba,Bb), M, N]
// GPU: workgroup tiles BM×BN staged through workgroup memory in BK slices, each invocation keeping
// a TM×TN register tile. Tile sizes are parameters (see bench/matmul.bench.ts for the lab).

import { type Kernel, header } from '../tensor/device.js';

export interface MatmulParams {
  batch: number; m: number; n: number; k: number;
  transA: boolean; transB: boolean;
  /** Batch strides in elements (0 broadcasts a single matrix). */
  strideA: number; strideB: number;
}

export interface MatmulTile { bm: number; bn: number; bk: number; tm: number; tn: number }

export const defaultTile: MatmulTile = { bm: 64, bn: 64, bk: 16, tm: 4, tn: 4 };

export function matmulRef(p: MatmulParams, a: ArrayLike<number>, b: ArrayLike<number>, c: { [i: number]: number }): void {
  const { m, n, k } = p;
  for (let z = 0; z < p.batch; z++) {
    const ao = z * p.strideA, bo = z * p.strideB, co = z * m * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let t = 0; t < k; t++) {
          const av = p.transA ? a[ao + t * m + i] : a[ao + i * k + t];
          const bv = p.transB ? b[bo + j * k + t] : b[bo + t * n + j];
          acc += av * bv;
        }
        c[co + i * n + j] = acc;
      }
    }
  }
}

export function matmulWgsl(p: MatmulParams, t: MatmulTile) {
  const { bm, bn, bk, tm, tn } = t;
  const tx = bn / tn, ty = bm / tm, threads = tx * ty;
  const h = header(
    [['m', 'u32', p.m], ['n', 'u32', p.n], ['k', 'u32', p.k], ['sa', 'u32', p.strideA], ['sb', 'u32', p.strideB]],
    [['A', 'array<f32>'], ['B', 'array<f32>']],
    [['C', 'array<f32>']],
  );
  const aIdx = p.transA ? 'ao + kk * P.m + mm' : 'ao + mm * P.k + kk';
  const bIdx = p.transB ? 'bo + nn * P.k + kk' : 'bo + kk * P.n + nn';
  // Loads walk the contiguous dimension of each operand fastest so neighbouring invocations coalesce.
  const aLoad = p.transA
    ? `let mi = e % ${bm}u; let ki = e / ${bm}u;`
    : `let ki = e % ${bk}u; let mi = e / ${bk}u;`;
  const bLoad = p.transB
    ? `let ki = e % ${bk}u; let ni = e / ${bk}u;`
    : `let ni = e % ${bn}u; let ki = e / ${bn}u;`;
  const code = `${h.code}
var<workgroup> As: array<f32, ${bk * bm}>;
var<workgroup> Bs: array<f32, ${bk * bn}>;

@compute @workgroup_size(${threads})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let z = wid.z;
  let ao = z * P.sa;
  let bo = z * P.sb;
  let row0 = wid.y * ${bm}u;
  let col0 = wid.x * ${bn}u;
  let tr = (lid / ${tx}u) * ${tm}u;
  let tc = (lid % ${tx}u) * ${tn}u;
  var acc: array<array<f32, ${tn}>, ${tm}>;
  var a: array<f32, ${tm}>;
  var b: array<f32, ${tn}>;
  for (var k0: u32 = 0u; k0 < P.k; k0 += ${bk}u) {
    for (var e: u32 = lid; e < ${bm * bk}u; e += ${threads}u) {
      ${aLoad}
      let mm = row0 + mi; let kk = k0 + ki;
      As[ki * ${bm}u + mi] = select(0.0, A[${aIdx}], mm < P.m && kk < P.k);
    }
    for (var e: u32 = lid; e < ${bn * bk}u; e += ${threads}u) {
      ${bLoad}
      let nn = col0 + ni; let kk = k0 + ki;
      Bs[ki * ${bn}u + ni] = select(0.0, B[${bIdx}], nn < P.n && kk < P.k);
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
      if (c < P.n) { C[co + r * P.n + c] = acc[i][j]; }
    }
  }
}
`;
  return { code, grid: [Math.ceil(p.n / bn), Math.ceil(p.m / bm), p.batch], uniforms: h.uniforms };
}

export const matmulKernel: Kernel<MatmulParams> = {
  name: 'matmul',
  cpu(p, [a, b], [c]) { matmulRef(p, a, b, c); },
  wgsl(p) {
    // Select a tile variant. Note: the batch grid is dimension z, at most 65535.
    return matmulWgsl(p, defaultTile);
  },
};
