// Dynamic masking for ELECTRA pre-training, exactly as the authors' pretrain_helpers.mask (spec §2.2):
// candidates are real tokens other than [CLS]/[SEP]/[MASK]; num_to_predict = max(1, min(N,
// round_half_even(float32(len) · p))); N positions drawn uniformly WITH replacement among candidates;
// each used slot becomes [MASK] with probability 0.85, else keeps its token (no random tokens);
// unused slots point at position 0 with weight 0. Runs on the host from a seeded generator: the batch
// ids come from the host anyway, it is cheap (B·N draws), and it makes runs resumable bit for bit.
// `scatterUpdate` is the authors' scatter_update (duplicates: sum, then floor-divide by their count;
// updates to position 0 ignored): the CPU reference of kernels/scatter_update.ts, used here for the
// generator input.

import type { HostRng } from '../../nn/init.js';
import { scatterUpdate } from '../../kernels/scatter_update.js';

export { scatterUpdate };

export interface MaskingOptions {
  maskProb: number;          // 0.15 (0.25 for large)
  maxPredictions: number;    // int((maskProb + 0.005) · T)
  maskId: number; clsId: number; sepId: number;
  /** Probability a selected slot is replaced by [MASK] (else kept). */
  maskTokenProb?: number;    // 0.85
}

export interface MaskedBatch {
  B: number; T: number; N: number;
  /** Generator input ids [B, T]: originals with [MASK] written at the masked slots. */
  maskedIds: Int32Array;
  /** Selected positions [B, N] (0 for unused slots). */
  positions: Int32Array;
  /** Original ids at the positions [B, N] (0 for unused slots). */
  targets: Int32Array;
  /** 1 for used slots [B, N]. */
  weights: Float32Array;
}

export const maxPredictions = (maskProb: number, seqLen: number): number => Math.floor((maskProb + 0.005) * seqLen);

/** tf.round: half to even, on a float32 value. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x), d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

export function maskBatch(ids: Int32Array, inputMask: ArrayLike<number>, B: number, T: number, o: MaskingOptions, rng: HostRng): MaskedBatch {
  const N = o.maxPredictions, keepP = o.maskTokenProb ?? 0.85;
  const positions = new Int32Array(B * N), targets = new Int32Array(B * N), weights = new Float32Array(B * N);
  const replaced = new Int32Array(B * N);
  const cand: number[] = [];
  for (let b = 0; b < B; b++) {
    cand.length = 0;
    let len = 0;
    for (let t = 0; t < T; t++) {
      const i = b * T + t;
      if (!inputMask[i]) continue;
      len++;
      const id = ids[i];
      if (id !== o.clsId && id !== o.sepId && id !== o.maskId) cand.push(t);
    }
    const k = Math.max(1, Math.min(N, roundHalfEven(Math.fround(Math.fround(len) * Math.fround(o.maskProb)))));
    for (let j = 0; j < N; j++) {
      // tf.random.categorical over log(candidates): one draw per slot, all N drawn, then weighted.
      const pos = cand.length ? cand[Math.floor(rng.uniform() * cand.length)] : 0;
      const used = j < k && cand.length > 0;
      const s = b * N + j;
      positions[s] = used ? pos : 0;
      targets[s] = used ? ids[b * T + pos] : 0;
      weights[s] = used ? 1 : 0;
      const toMask = rng.uniform() < keepP;
      replaced[s] = toMask ? o.maskId : targets[s];
    }
  }
  const maskedIds = scatterUpdate(ids, replaced, positions, B, T, N).seq;
  return { B, T, N, maskedIds, positions, targets, weights };
}
