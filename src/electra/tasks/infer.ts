// Inference with pre-trained ELECTRA networks (browser-safe: no Node imports). One text at a time, no padding:
//   detectReplaced: discriminator → per token (specials included) logit and sigmoid probability of "replaced";
//   fillMask:       generator logits at each [MASK] → top-k over the tokenizer's vocabulary, softmax over all V.
// Logits are read back once per call (the explicit sync point of inference); top-k and softmax run on the host
// in float64. `toJSON` helpers give the CLI's machine-readable shapes (snake_case keys, as HF users expect).

import { noGrad } from '../../autograd/tape.js';
import { evalCtx } from '../../nn/layers.js';
import type { Device } from '../../device/device.js';
import { Tensor, tensor, tidy } from '../../tensor/tensor.js';
import type { Encoding, WordPieceTokenizer } from '../../text/wordpiece.js';
import type { ElectraForMaskedLM, ElectraForPreTraining } from '../model/model.js';

export interface TokenScore {
  token: string;
  id: number;
  /** Raw discriminator logit (> 0 means "replaced"). */
  logit: number;
  /** sigmoid(logit): the probability that the token was replaced. */
  probability: number;
  /** [CLS] / [SEP]: scored by the model, but not part of the text. */
  special: boolean;
  /** [start, end) UTF-16 offsets into the input text ([0, 0] for specials). */
  offset: [number, number];
}

export interface DetectResult {
  /** Ids as fed to the model, [CLS] … [SEP]. */
  inputIds: number[];
  tokens: string[];
  scores: TokenScore[];
}

export interface Candidate { id: number; token: string; logit: number; probability: number }

export interface MaskPrediction {
  /** Index of the [MASK] in inputIds. */
  position: number;
  /** Best first (ties: lower id first). */
  top: Candidate[];
}

export interface FillMaskResult { inputIds: number[]; tokens: string[]; masks: MaskPrediction[] }

/** Encodes one text with [CLS]/[SEP]; refuses texts longer than the model's position table. */
function encodeFor(tokenizer: WordPieceTokenizer, text: string, config: { maxPositionEmbeddings: number; vocabSize: number }, what: string): Encoding {
  if (tokenizer.vocabSize > config.vocabSize) {
    throw new Error(`${what}: the tokenizer has ${tokenizer.vocabSize} tokens but the model's vocabulary is ${config.vocabSize} (wrong vocab.txt?)`);
  }
  const enc = tokenizer.encode(text);
  if (enc.ids.length > config.maxPositionEmbeddings) {
    throw new Error(`${what}: the text is ${enc.ids.length} tokens with [CLS]/[SEP], the model takes at most ${config.maxPositionEmbeddings}`);
  }
  return enc;
}

function checkDevice(weight: Tensor, device: Device, what: string): void {
  if (weight.device !== device) throw new Error(`${what}: the model lives on ${weight.device.name}, not on ${device.name}`);
}

/** Runs `forward` on one encoded sequence (batch 1, no padding mask) and reads its output back. */
async function run(enc: Encoding, device: Device, forward: (ids: Tensor, types: Tensor, positions: Tensor) => Tensor): Promise<Float64Array> {
  const T = enc.ids.length;
  const out = noGrad(() => tidy(() => {
    const ids = tensor(Int32Array.from(enc.ids), [1, T], { device, dtype: 'i32' });
    const types = tensor(Int32Array.from(enc.typeIds), [1, T], { device, dtype: 'i32' });
    const positions = tensor(Int32Array.from({ length: T }, (_, i) => i), [T], { device, dtype: 'i32' });
    return forward(ids, types, positions);
  }));
  try { return Float64Array.from(await out.data()); } finally { out.dispose(); }
}

const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

/** The discriminator's replaced-token logit and probability for every token of `text` (specials included). */
export async function detectReplaced(model: ElectraForPreTraining, tokenizer: WordPieceTokenizer, text: string, device: Device): Promise<DetectResult> {
  checkDevice(model.electra.embeddings.word_embeddings.weight, device, 'detectReplaced');
  const enc = encodeFor(tokenizer, text, model.config, 'detectReplaced');
  const logits = await run(enc, device, (ids, types, pos) => model.forward(ids, types, pos, null, evalCtx)); // [1, T]
  const tokens = enc.ids.map((id) => tokenizer.idToToken(id) ?? `[${id}]`);
  const scores = enc.ids.map((id, i): TokenScore => ({
    token: tokens[i], id, logit: logits[i], probability: sigmoid(logits[i]),
    special: enc.specialTokensMask[i] === 1, offset: enc.offsets[i],
  }));
  return { inputIds: enc.ids, tokens, scores };
}

/** The generator's top-k fills at each [MASK] of `text`. Throws when the text has no [MASK]. */
export async function fillMask(model: ElectraForMaskedLM, tokenizer: WordPieceTokenizer, text: string, k: number, device: Device): Promise<FillMaskResult> {
  if (!Number.isInteger(k) || k < 1) throw new Error(`fillMask: k must be a positive integer, got ${k}`);
  checkDevice(model.lmHeadWeight, device, 'fillMask');
  if (tokenizer.maskId < 0) throw new Error(`fillMask: the tokenizer has no ${tokenizer.options.maskToken} token`);
  const enc = encodeFor(tokenizer, text, model.config, 'fillMask');
  const positions = enc.ids.flatMap((id, i) => (id === tokenizer.maskId ? [i] : []));
  if (positions.length === 0) throw new Error(`fillMask: the text has no ${tokenizer.options.maskToken} token: ${JSON.stringify(text)}`);
  const V = model.config.vocabSize;
  const logits = await run(enc, device, (ids, types, pos) => {
    // Batch 1: the flattened row b·T + t is the position itself.
    const rows = tensor(Int32Array.from(positions), [positions.length], { device, dtype: 'i32' });
    return model.forward(ids, types, pos, null, rows, evalCtx); // [R, V]
  });
  // Candidates come from the tokenizer's vocabulary (ids past it, if the model's V is padded, have no text).
  const kk = Math.min(k, tokenizer.vocabSize);
  const masks = positions.map((position, r): MaskPrediction => {
    const row = logits.subarray(r * V, (r + 1) * V);
    let max = -Infinity;
    for (const x of row) if (x > max) max = x;
    let sum = 0;
    for (const x of row) sum += Math.exp(x - max);
    const logZ = max + Math.log(sum);
    const top = topK(row, kk, tokenizer.vocabSize).map((id): Candidate => ({
      id, token: tokenizer.idToToken(id)!, logit: row[id], probability: Math.exp(row[id] - logZ),
    }));
    return { position, top };
  });
  return { inputIds: enc.ids, tokens: enc.ids.map((id) => tokenizer.idToToken(id) ?? `[${id}]`), masks };
}

/** Indices of the k largest values among the first n (descending; ties → lower index first). O(n·k), k small. */
export function topK(values: ArrayLike<number>, k: number, n = values.length): number[] {
  const best: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (Number.isNaN(v)) continue;
    if (best.length === k && !(v > values[best[k - 1]])) continue;
    let j = best.length === k ? k - 1 : best.length;
    while (j > 0 && v > values[best[j - 1]]) { if (j < k) best[j] = best[j - 1]; j--; }
    best[j] = i;
  }
  return best;
}

/** `electra detect --json`: ids with specials, their tokens, and the raw logit of each. */
export function detectToJSON(r: DetectResult): { input_ids: number[]; tokens: string[]; logits: number[] } {
  return { input_ids: r.inputIds, tokens: r.tokens, logits: r.scores.map((s) => s.logit) };
}

/** `electra fill-mask --json`: ids with specials, their tokens, and the top-k ids/tokens/logits at each [MASK]. */
export function fillMaskToJSON(r: FillMaskResult): {
  input_ids: number[]; tokens: string[]; masks: Array<{ position: number; top: Array<{ id: number; token: string; logit: number }> }>;
} {
  return {
    input_ids: r.inputIds, tokens: r.tokens,
    masks: r.masks.map((m) => ({ position: m.position, top: m.top.map(({ id, token, logit }) => ({ id, token, logit })) })),
  };
}
