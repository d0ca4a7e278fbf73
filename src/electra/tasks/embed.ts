// Sentence embeddings from an ELECTRA encoder (browser-safe): texts are encoded with [CLS]/[SEP], truncated to the
// model's positions, batched by similar length (less padding; results do not depend on the batch), run through
// ElectraModel, pooled on the device ('cls': the [CLS] state; 'mean': the mean over non-padding tokens, [CLS]/[SEP]
// included, as sentence-transformers' mean pooling) and L2-normalised in float64 on the host. Output [n, H] float32.
// The index file format (encodeIndex/decodeIndex) and cosine top-k search (searchIndex) live here too.

import { noGrad } from '../../autograd/tape.js';
import { evalCtx } from '../../nn/layers.js';
import type { Device } from '../../device/device.js';
import * as o from '../../tensor/ops.js';
import { tensor, tidy } from '../../tensor/tensor.js';
import type { WordPieceTokenizer } from '../../text/wordpiece.js';
import { topK } from './infer.js';
import type { ElectraModel } from '../model/model.js';

export type Pooling = 'cls' | 'mean';
export const POOLINGS: readonly Pooling[] = ['cls', 'mean'];

export interface EmbedOptions {
  pooling?: Pooling;          // default 'cls'
  batchSize?: number;         // default 32
  /** Tokens per text including [CLS]/[SEP] (default and maximum: the model's position table). */
  maxLength?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface Embeddings {
  /** Row-major [rows, dim], each row of unit L2 norm (a zero vector stays zero). */
  vectors: Float32Array;
  rows: number;
  dim: number;
  pooling: Pooling;
  /** Texts cut to maxLength tokens. */
  truncated: number;
}

export async function embedTexts(model: ElectraModel, tokenizer: WordPieceTokenizer, texts: readonly string[], device: Device, opts: EmbedOptions = {}): Promise<Embeddings> {
  const pooling = opts.pooling ?? 'cls', batchSize = opts.batchSize ?? 32;
  if (!POOLINGS.includes(pooling)) throw new Error(`embedTexts: pooling must be ${POOLINGS.join(' or ')}, got ${JSON.stringify(pooling)}`);
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new Error(`embedTexts: batch size must be a positive integer, got ${batchSize}`);
  const c = model.config, maxLength = opts.maxLength ?? c.maxPositionEmbeddings;
  if (!(Number.isInteger(maxLength) && maxLength >= 2 && maxLength <= c.maxPositionEmbeddings)) {
    throw new Error(`embedTexts: maxLength must be an integer in [2, ${c.maxPositionEmbeddings}] (the model's positions), got ${maxLength}`);
  }
  if (tokenizer.vocabSize > c.vocabSize) throw new Error(`embedTexts: the tokenizer has ${tokenizer.vocabSize} tokens but the model's vocabulary is ${c.vocabSize} (wrong vocab.txt?)`);
  const weight = model.embeddings.word_embeddings.weight;
  if (weight.device !== device) throw new Error(`embedTexts: the model lives on ${weight.device.name}, not on ${device.name}`);
  const H = c.hiddenSize, n = texts.length;
  const encs = texts.map((t, i) => {
    if (typeof t !== 'string') throw new TypeError(`embedTexts: text ${i} is ${typeof t}, not a string`);
    return tokenizer.encode(t).ids.length;
  });
  // Similar lengths together: padding is wasted work (and masked, so it changes nothing but the time).
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => encs[a] - encs[b] || a - b);
  const vectors = new Float32Array(n * H);
  let truncated = 0, done = 0;
  for (let at = 0; at < n; at += batchSize) {
    const idx = order.slice(at, at + batchSize);
    const p = tokenizer.encodeBatchPacked(idx.map((i) => texts[i]), { maxLength, truncation: true, padding: 'longest' });
    truncated += idx.filter((i) => encs[i] > maxLength).length;
    const B = p.batchSize, T = p.seqLen;
    const pooled = noGrad(() => tidy(() => {
      const ids = tensor(p.inputIds, [B, T], { device, dtype: 'i32' });
      const types = tensor(p.tokenTypeIds, [B, T], { device, dtype: 'i32' });
      const positions = tensor(Int32Array.from({ length: T }, (_, i) => i), [T], { device, dtype: 'i32' });
      const mask = tensor(Float32Array.from(p.attentionMask), [B, T], { device });
      const h = model.forward(ids, types, positions, mask, evalCtx);                          // [B, T, H]
      if (pooling === 'cls') return o.reshape(o.slice(h, [0, 0, 0], [B, 1, H]), [B, H]);
      const summed = o.sum(o.mul(h, o.reshape(mask, [B, T, 1])), 1);                        // [B, H]
      return o.div(summed, o.sum(mask, 1, true));                                          // ÷ real tokens [B, 1]
    }));
    let host: ArrayLike<number>;
    try { host = await pooled.data(); } finally { pooled.dispose(); }
    idx.forEach((i, r) => {
      let ss = 0;
      for (let j = 0; j < H; j++) ss += host[r * H + j] ** 2;
      const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
      for (let j = 0; j < H; j++) vectors[i * H + j] = host[r * H + j] * inv;
    });
    done += idx.length;
    opts.onProgress?.(done, n);
  }
  return { vectors, rows: n, dim: H, pooling, truncated };
}

// ---- index files -----------------------------------------------------------------------------------------------
//
// Binary index (little-endian), made to be read as a plain matrix (numpy: np.fromfile(f, '<f4', n*d, offset=64)):
//   0  magic "EWGEMBED"   8  version u32 = 1   12 header bytes u32 = 64   16 rows n u32   20 dim d u32
//   24 metadata bytes m u32   28..63 zero
//   64 float32 rows [n, d], unit L2 norm
//   64 + 4·n·d  m bytes of UTF-8 JSON: {"format": "electra-webgpu embeddings", "pooling", "model", "texts": [...]}
// JSONL index: one object per text, {"id": i, "text": ..., "pooling": ..., "embedding": [d numbers]}.

export const INDEX_MAGIC = 'EWGEMBED';
const HEADER = 64;

export interface EmbeddingIndex extends Embeddings {
  texts: string[];
  /** The model directory the vectors came from (informational). */
  model: string;
}

export function encodeIndex(ix: EmbeddingIndex): Uint8Array {
  checkIndex(ix, 'encodeIndex');
  const meta = new TextEncoder().encode(JSON.stringify({ format: 'electra-webgpu embeddings', pooling: ix.pooling, model: ix.model, texts: ix.texts }));
  const out = new Uint8Array(HEADER + 4 * ix.vectors.length + meta.length);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) out[i] = INDEX_MAGIC.charCodeAt(i);
  [1, HEADER, ix.rows, ix.dim, meta.length].forEach((v, k) => dv.setUint32(8 + 4 * k, v, true));
  for (let i = 0; i < ix.vectors.length; i++) dv.setFloat32(HEADER + 4 * i, ix.vectors[i], true);
  out.set(meta, HEADER + 4 * ix.vectors.length);
  return out;
}

export function decodeIndex(bytes: Uint8Array, source: string): EmbeddingIndex {
  const bad = (why: string) => new Error(`${source}: not a valid embedding index (${why})`);
  if (bytes.length < HEADER) throw bad(`${bytes.length} bytes, shorter than the ${HEADER}-byte header`);
  const magic = String.fromCharCode(...bytes.subarray(0, 8));
  if (magic !== INDEX_MAGIC) throw bad(`magic ${JSON.stringify(magic)}, expected ${INDEX_MAGIC}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [version, header, rows, dim, metaBytes] = [0, 1, 2, 3, 4].map((k) => dv.getUint32(8 + 4 * k, true));
  if (version !== 1 || header !== HEADER) throw bad(`version ${version}, header ${header} bytes; this reader knows version 1 with 64`);
  const end = HEADER + 4 * rows * dim + metaBytes;
  if (bytes.length !== end) throw bad(`${bytes.length} bytes, the header implies ${end} (truncated?)`);
  const vectors = new Float32Array(rows * dim);
  for (let i = 0; i < vectors.length; i++) vectors[i] = dv.getFloat32(HEADER + 4 * i, true);
  let meta: { pooling?: unknown; model?: unknown; texts?: unknown };
  try { meta = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(HEADER + 4 * rows * dim))) as typeof meta; } catch (e) {
    throw bad(`metadata is not UTF-8 JSON: ${(e as Error).message}`);
  }
  const ix = { vectors, rows, dim, pooling: meta.pooling as Pooling, texts: meta.texts as string[], model: String(meta.model ?? ''), truncated: 0 };
  checkIndex(ix, source);
  return ix;
}

/** One JSON line per text (embedding values with 9 significant digits: float32 round-trips exactly); ids from firstId. */
export function indexToJSONL(ix: EmbeddingIndex, firstId = 0): string {
  checkIndex(ix, 'indexToJSONL');
  let out = '';
  for (let r = 0; r < ix.rows; r++) {
    const e = Array.from(ix.vectors.subarray(r * ix.dim, (r + 1) * ix.dim), (x) => Number(x.toPrecision(9)));
    out += JSON.stringify({ id: firstId + r, text: ix.texts[r], pooling: ix.pooling, embedding: e }) + '\n';
  }
  return out;
}

export function indexFromJSONL(text: string, source: string): EmbeddingIndex {
  const texts: string[] = [], rows: number[][] = [];
  let pooling: Pooling | null = null;
  text.split('\n').forEach((line, k) => {
    if (!line.trim()) return;
    let rec: { text?: unknown; pooling?: unknown; embedding?: unknown };
    try { rec = JSON.parse(line) as typeof rec; } catch (e) { throw new Error(`${source}:${k + 1}: not JSON (${(e as Error).message})`); }
    if (typeof rec.text !== 'string' || !Array.isArray(rec.embedding) || !rec.embedding.every((x) => typeof x === 'number')) {
      throw new Error(`${source}:${k + 1}: expected {"text": string, "embedding": [numbers], ...}`);
    }
    if (rows.length && rec.embedding.length !== rows[0].length) throw new Error(`${source}:${k + 1}: embedding of ${rec.embedding.length} numbers, the first line has ${rows[0].length}`);
    if (pooling !== null && rec.pooling !== pooling) throw new Error(`${source}:${k + 1}: pooling ${JSON.stringify(rec.pooling)} differs from the first line's ${pooling}`);
    pooling = rec.pooling as Pooling;
    texts.push(rec.text);
    rows.push(rec.embedding as number[]);
  });
  if (!rows.length) throw new Error(`${source}: no embeddings`);
  const ix = { vectors: Float32Array.from(rows.flat()), rows: rows.length, dim: rows[0].length, pooling: pooling!, texts, model: '', truncated: 0 };
  checkIndex(ix, source);
  return ix;
}

function checkIndex(ix: EmbeddingIndex, source: string): void {
  if (!POOLINGS.includes(ix.pooling)) throw new Error(`${source}: pooling ${JSON.stringify(ix.pooling)} is not ${POOLINGS.join(' or ')}`);
  if (!Array.isArray(ix.texts) || ix.texts.length !== ix.rows) throw new Error(`${source}: ${Array.isArray(ix.texts) ? ix.texts.length : 'no'} texts for ${ix.rows} embeddings`);
  if (ix.vectors.length !== ix.rows * ix.dim) throw new Error(`${source}: ${ix.vectors.length} values for ${ix.rows} × ${ix.dim}`);
}

export interface Hit { rank: number; id: number; score: number; text: string }

/**
 * The k rows most cosine-similar to `query` (best first; ties → lower id). Rows and query are unit vectors.
 * `center`: subtract the index's mean vector from rows and query first (then cosine of the centred vectors).
 * Encoders that were not trained for similarity put all texts in a narrow cone (cosines near 1, dominated by a
 * shared direction); removing that common component lets the differences between texts decide the ranking.
 */
export function searchIndex(ix: EmbeddingIndex, query: ArrayLike<number>, k: number, opts: { center?: boolean } = {}): Hit[] {
  if (query.length !== ix.dim) throw new Error(`search: the query embedding has ${query.length} dimensions, the index ${ix.dim} (another model?)`);
  if (!(Number.isInteger(k) && k >= 1)) throw new Error(`search: k must be a positive integer, got ${k}`);
  const d = ix.dim, mean = new Float64Array(d);
  if (opts.center) for (let r = 0; r < ix.rows; r++) for (let j = 0; j < d; j++) mean[j] += ix.vectors[r * d + j] / ix.rows;
  const q = Float64Array.from({ length: d }, (_, j) => query[j] - mean[j]);
  const qn = Math.hypot(...q) || 1;
  const scores = new Float64Array(ix.rows);
  for (let r = 0; r < ix.rows; r++) {
    let dot = 0, nn = 0;
    for (let j = 0; j < d; j++) { const x = ix.vectors[r * d + j] - mean[j]; dot += x * q[j]; nn += x * x; }
    scores[r] = dot / ((Math.sqrt(nn) || 1) * qn);
  }
  return topK(scores, Math.min(k, ix.rows)).map((id, i) => ({ rank: i + 1, id, score: scores[id], text: ix.texts[id] }));
}
