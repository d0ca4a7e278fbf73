// The authors' scatter_update on the GPU for the discriminator input (spec §2.4–2.5): write sampled
// ids at the masked positions of the original ids; duplicate positions are summed and floor-divided
// by their count; position 0 ([CLS]) is never updated. Also emits the replaced-token labels:
// 1 where a position was updated AND its new id differs from the original (a correct sample is
// "original"). One invocation per token, looping over the sequence's N slots (N ≈ 0.155·T).
//   ids i32 [B, T], updates i32 [B, N], positions i32 [B, N] → newIds i32 [B, T], labels f32 [B, T]

import { type DeviceArray, FLAT_WG, type Kernel, grid1d, header, launch } from '../device/device.js';

// ---- CPU reference ------------------------------------------------------------------------------

/**
 * The authors' scatter_update for int sequences: seq [B, T], updates and positions [B, N].
 * Returns the updated sequence and the 0/1 mask of updated positions (position 0 never updated).
 */
export function scatterUpdate(seq: ArrayLike<number>, updates: ArrayLike<number>, positions: ArrayLike<number>, B: number, T: number, N: number): { seq: Int32Array; updated: Int32Array } {
  const out = Int32Array.from(seq as ArrayLike<number>);
  const sum = new Float64Array(B * T), count = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < N; j++) {
      const p = positions[b * N + j];
      sum[b * T + p] += updates[b * N + j];
      count[b * T + p]++;
    }
  }
  const updated = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    for (let t = 1; t < T; t++) {
      const i = b * T + t;
      if (!count[i]) continue;
      out[i] = Math.floor(sum[i] / count[i]);
      updated[i] = 1;
    }
  }
  return { seq: out, updated };
}

// ---- kernel -------------------------------------------------------------------------------------

export interface ScatterUpdateParams { B: number; T: number; N: number }

const WG = 256;

export const scatterUpdateKernel: Kernel<ScatterUpdateParams> = {
  name: 'scatter_update',
  cpu(p, [ids, updates, positions], [newIds, labels]) {
    const { seq, updated } = scatterUpdate(ids, updates, positions, p.B, p.T, p.N);
    for (let i = 0; i < p.B * p.T; i++) {
      newIds[i] = seq[i];
      labels[i] = updated[i] && seq[i] !== ids[i] ? 1 : 0;
    }
  },
  wgsl(p) {
    const h = header([['b', 'u32', p.B], ['t', 'u32', p.T], ['n', 'u32', p.N]],
      [['ids', 'array<i32>'], ['updates', 'array<i32>'], ['positions', 'array<i32>']],
      [['new_ids', 'array<i32>'], ['labels', 'array<f32>']]);
    const code = `${h.code}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (${FLAT_WG}) * ${WG}u + lid;
  if (i >= P.b * P.t) { return; }
  let b = i / P.t;
  let t = i32(i % P.t);
  var sum = 0;
  var count = 0;
  if (t != 0) {
    for (var j = 0u; j < P.n; j++) {
      if (positions[b * P.n + j] == t) { sum += updates[b * P.n + j]; count++; }
    }
  }
  let orig = ids[i];
  // Ids are non-negative, so integer division is the floor division of the authors' code.
  let v = select(orig, sum / max(count, 1), count > 0);
  new_ids[i] = v;
  labels[i] = select(0.0, 1.0, count > 0 && v != orig);
}
`;
    return { code, grid: grid1d(Math.ceil((p.B * p.T) / WG)), uniforms: h.uniforms };
  },
};

// ---- launcher ----------------------------------------------------------------------------------

/** ids i32 [B, T], updates and positions i32 [B, N] → [newIds i32 [B, T], replaced-token labels f32 [B, T]]. */
export function scatterUpdateIds(ids: DeviceArray, updates: DeviceArray, positions: DeviceArray, label: string): DeviceArray[] {
  const [B, T] = ids.shape, N = updates.shape[updates.shape.length - 1];
  return launch(scatterUpdateKernel, { B, T, N }, [ids, updates, positions], [{ shape: [B, T], dtype: 'i32' }, { shape: [B, T], dtype: 'f32' }], label);
}
