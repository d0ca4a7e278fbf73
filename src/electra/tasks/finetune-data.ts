// Examples → model inputs for fine-tuning (browser-safe, host only), and QA answers back to text:
//   encodeForClassification  [CLS] a [SEP] (b [SEP]), longest-first truncation; label → class id or float
//   encodeForTokens          each word tokenized on its own; its first sub-token carries the tag, the rest -100
//   encodeForQa              [CLS] question [SEP] context-window [SEP] over doc-stride windows, with the character
//                            offsets of every context token (BERT's run_squad windows: starts advance by docStride)
//   decodeQa                 n-best start/end pairs within max answer length → character span of the context
// Example types are src/text/datasets.ts' (the dataset readers produce them).

import type { QaExample, TaggedExample, TextExample } from '../../text/datasets.js';
import type { Encoding, WordPieceTokenizer } from '../../text/wordpiece.js';
import { IGNORE_INDEX } from './heads.js';
import { topK } from './infer.js';

export type { QaExample, TaggedExample, TextDataset, TextExample } from '../../text/datasets.js';

/** One encoded sequence (no padding). `label` is a class id, a float, a per-token array, or a (start, end) pair. */
export interface Encoded {
  ids: number[];
  typeIds: number[];
  label: number | number[];
}

/** Host batch ready to upload: flat row-major [B, T] arrays. */
export interface PackedInputs { B: number; T: number; inputIds: Int32Array; tokenTypeIds: Int32Array; attentionMask: Int32Array }

function checkTokenizer(tok: WordPieceTokenizer): void {
  if (tok.clsId < 0 || tok.sepId < 0) throw new Error('fine-tuning needs a tokenizer with [CLS] and [SEP] tokens');
}

/** Class id of a label (names map through `labels`; numbers are names too, e.g. GLUE's "0"/"1"). */
export function labelIndex(labels: readonly string[], label: string | number, where: string): number {
  const i = labels.indexOf(String(label));
  if (i < 0) throw new Error(`${where}: label ${JSON.stringify(label)} is not one of the task's labels (${labels.slice(0, 20).join(', ')}${labels.length > 20 ? ', …' : ''})`);
  return i;
}

/**
 * Sequence classification (labels = class names) or regression (labels = null, numeric labels). Texts longer
 * than maxLen tokens (with specials) are truncated, pairs longest-first.
 */
export function encodeForClassification(tok: WordPieceTokenizer, examples: readonly TextExample[], labels: readonly string[] | null, maxLen: number, source = 'data'): Encoded[] {
  checkTokenizer(tok);
  if (!(maxLen >= 3)) throw new RangeError(`encodeForClassification: maxLen must be ≥ 3, got ${maxLen}`);
  return examples.map((ex, i) => {
    const where = `${source} example ${ex.id ?? i}`;
    if (typeof ex.text !== 'string') throw new Error(`${where}: text is not a string`);
    const e = tok.encode(ex.text, ex.textB ?? null, { maxLength: maxLen });
    let label: number;
    if (labels) label = labelIndex(labels, ex.label, where);
    else {
      label = typeof ex.label === 'number' ? ex.label : Number(ex.label);
      if (typeof ex.label === 'string' && ex.label.trim() === '') label = NaN;
      if (!Number.isFinite(label)) throw new Error(`${where}: regression label ${JSON.stringify(ex.label)} is not a number`);
    }
    return { ids: e.ids, typeIds: e.typeIds, label };
  });
}

/** A token-classification sequence: label is per token (tag id at a word's first sub-token, -100 elsewhere). */
export interface EncodedTokens extends Encoded {
  label: number[];
  /** Token index of each word's first sub-token, or -1 when the word has none (empty after normalisation, or truncated). */
  wordStarts: number[];
}

/**
 * Token classification (HF is_split_into_words): each word is tokenized on its own, the first sub-token of each
 * word is labelled with its tag, other sub-tokens and specials get -100. Sequences are cut at maxLen tokens; the
 * words past the cut are recorded as unscored (wordStarts -1). A tag '' marks a word with no gold tag (prediction).
 */
export function encodeForTokens(tok: WordPieceTokenizer, examples: readonly TaggedExample[], labels: readonly string[], maxLen: number, source = 'data'): EncodedTokens[] {
  checkTokenizer(tok);
  if (!(maxLen >= 3)) throw new RangeError(`encodeForTokens: maxLen must be ≥ 3, got ${maxLen}`);
  return examples.map((ex, n) => {
    const where = `${source} sentence ${ex.id ?? n}`;
    if (ex.tags.length !== ex.words.length) throw new Error(`${where}: ${ex.words.length} words but ${ex.tags.length} tags`);
    const ids = [tok.clsId], label = [IGNORE_INDEX], wordStarts: number[] = [];
    for (let w = 0; w < ex.words.length; w++) {
      const pieces = tok.tokenizeToIds(ex.words[w]);
      const tag = ex.tags[w] === '' ? IGNORE_INDEX : labelIndex(labels, ex.tags[w], `${where}, word ${w} (${JSON.stringify(ex.words[w])})`);
      if (pieces.length === 0 || ids.length >= maxLen - 1) { wordStarts.push(-1); continue; }
      wordStarts.push(ids.length);
      pieces.forEach((id, k) => {
        if (ids.length >= maxLen - 1) return;
        ids.push(id); label.push(k === 0 ? tag : IGNORE_INDEX);
      });
    }
    ids.push(tok.sepId); label.push(IGNORE_INDEX);
    return { ids, typeIds: new Array<number>(ids.length).fill(0), label, wordStarts };
  });
}

/** One QA window: [CLS] question [SEP] context[tokStart:…] [SEP]. */
export interface QaFeature extends Encoded {
  /** (start, end) token indices of the gold answer in this window; (0, 0) = [CLS] when the answer is not inside. */
  label: [number, number];
  exampleIndex: number;
  /** Character [start, end) in the context for context tokens; null for question and special tokens. */
  offsets: Array<[number, number] | null>;
}

export interface QaEncodeOptions {
  /** Tokens per window including specials (authors/HF default 384; spec: 512 for QA). */
  maxLen: number;
  /** Window starts advance by this many context tokens (BERT run_squad doc_stride; default 128). */
  docStride?: number;
  /** Question tokens kept (default 64). */
  maxQueryLen?: number;
}

/**
 * SQuAD-style windows. The context is tokenized once (offsets index the context string); each window holds as many
 * context tokens as fit after the question; windows start docStride tokens apart until the last reaches the end.
 */
export function encodeForQa(tok: WordPieceTokenizer, examples: readonly QaExample[], opts: QaEncodeOptions): QaFeature[] {
  checkTokenizer(tok);
  const docStride = opts.docStride ?? 128, maxQueryLen = opts.maxQueryLen ?? 64;
  if (!(docStride >= 1)) throw new RangeError(`encodeForQa: docStride must be ≥ 1, got ${docStride}`);
  const out: QaFeature[] = [];
  examples.forEach((ex, exampleIndex) => {
    const q = tok.encode(ex.question, null, { addSpecialTokens: false }).ids.slice(0, maxQueryLen);
    const c: Encoding = tok.encode(ex.context, null, { addSpecialTokens: false });
    const maxDoc = opts.maxLen - q.length - 3;
    if (maxDoc < 1) throw new RangeError(`encodeForQa: example ${ex.id}: maxLen ${opts.maxLen} leaves no room for the context after a ${q.length}-token question`);
    // Gold answer in context-token indices (the first answer is the training target).
    let ansStart = -1, ansEnd = -1;
    const a = ex.answers[0];
    if (a) {
      if (!(a.start >= 0 && a.start + a.text.length <= ex.context.length)) throw new Error(`encodeForQa: example ${ex.id}: answer start ${a.start} (+${a.text.length} chars) is outside its ${ex.context.length}-char context`);
      const charEnd = a.start + a.text.length;
      for (let t = 0; t < c.ids.length; t++) {
        const [s, e] = c.offsets[t];
        if (ansStart < 0 && e > a.start) ansStart = t;
        if (s < charEnd) ansEnd = t;
      }
      if (ansStart < 0 || ansEnd < ansStart) { ansStart = -1; ansEnd = -1; } // the answer is only whitespace/dropped chars
    }
    for (let start = 0; ; start += docStride) {
      const len = Math.min(maxDoc, c.ids.length - start);
      const ids = [tok.clsId, ...q, tok.sepId];
      const typeIds = new Array<number>(ids.length).fill(0);
      const offsets: Array<[number, number] | null> = new Array(ids.length).fill(null);
      const first = ids.length;
      for (let t = start; t < start + len; t++) { ids.push(c.ids[t]); typeIds.push(1); offsets.push(c.offsets[t]); }
      ids.push(tok.sepId); typeIds.push(1); offsets.push(null);
      const inside = ansStart >= start && ansEnd < start + len;
      const label: [number, number] = inside ? [first + ansStart - start, first + ansEnd - start] : [0, 0];
      out.push({ ids, typeIds, label, exampleIndex, offsets });
      if (start + len >= c.ids.length) break;
    }
  });
  return out;
}

export interface QaCandidate { text: string; start: number; end: number; score: number; probability: number }
export interface QaAnswer { id: string; text: string; start: number; end: number; score: number; nBest: QaCandidate[] }

export interface QaDecodeOptions {
  /** Start and end candidates per window, and answers kept (default 20). */
  nBest?: number;
  /** Longest answer in tokens (default 30). */
  maxAnswerLength?: number;
  /** SQuAD v2: answer '' when the [CLS] score (start₀ + end₀, best window) beats the best span by more than this. */
  nullThreshold?: number | null;
}

/**
 * Best answer spans per example from per-window start/end logits (HF postprocess_qa_predictions): for each window
 * the nBest starts × nBest ends over context tokens with start ≤ end < start + maxAnswerLength; candidates across an
 * example's windows are ranked by start + end logit, and their probabilities are the softmax over the n-best.
 * Text is the context's characters from the start token's first char to the end token's last.
 */
export function decodeQa(examples: readonly QaExample[], features: readonly QaFeature[], startLogits: ArrayLike<number>[], endLogits: ArrayLike<number>[], opts: QaDecodeOptions = {}): QaAnswer[] {
  const nBest = opts.nBest ?? 20, maxLen = opts.maxAnswerLength ?? 30;
  if (startLogits.length !== features.length || endLogits.length !== features.length) throw new Error(`decodeQa: ${features.length} features but ${startLogits.length}/${endLogits.length} logit rows`);
  const byExample: QaCandidate[][] = examples.map(() => []);
  const nullScore = examples.map(() => Infinity);
  features.forEach((f, k) => {
    const s = startLogits[k], e = endLogits[k];
    const ctx = examples[f.exampleIndex].context;
    nullScore[f.exampleIndex] = Math.min(nullScore[f.exampleIndex], s[0] + e[0]);
    const n = f.ids.length;
    const masked = (l: ArrayLike<number>) => Float64Array.from({ length: n }, (_, i) => (f.offsets[i] ? l[i] : -Infinity));
    const starts = topK(masked(s), nBest), ends = topK(masked(e), nBest);
    for (const i of starts) {
      if (!f.offsets[i]) continue;
      for (const j of ends) {
        if (!f.offsets[j] || j < i || j - i + 1 > maxLen) continue;
        const cs = f.offsets[i]![0], ce = f.offsets[j]![1];
        byExample[f.exampleIndex].push({ text: ctx.slice(cs, ce), start: cs, end: ce, score: s[i] + e[j], probability: 0 });
      }
    }
  });
  return examples.map((ex, x) => {
    const seen = new Set<string>();
    const cands = byExample[x].sort((a, b) => b.score - a.score).filter((c) => {
      const key = `${c.start}:${c.end}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    }).slice(0, nBest);
    const max = cands.length ? cands[0].score : 0;
    const z = cands.reduce((acc, c) => acc + Math.exp(c.score - max), 0);
    for (const c of cands) c.probability = Math.exp(c.score - max) / z;
    const best = cands[0];
    const noAnswer = !best || (opts.nullThreshold != null && nullScore[x] > best.score + opts.nullThreshold);
    if (noAnswer) return { id: ex.id, text: '', start: -1, end: -1, score: best ? nullScore[x] : -Infinity, nBest: cands };
    return { id: ex.id, text: best.text, start: best.start, end: best.end, score: best.score, nBest: cands };
  });
}

/** Pads `rows` of `items` into one batch (right padding with padId, mask 0 there). */
export function packBatch(items: readonly Encoded[], rows: readonly number[], padId: number): PackedInputs {
  const B = rows.length;
  const T = Math.max(1, ...rows.map((r) => items[r].ids.length));
  const p: PackedInputs = { B, T, inputIds: new Int32Array(B * T).fill(padId), tokenTypeIds: new Int32Array(B * T), attentionMask: new Int32Array(B * T) };
  rows.forEach((r, b) => {
    const it = items[r];
    p.inputIds.set(it.ids, b * T);
    p.tokenTypeIds.set(it.typeIds, b * T);
    p.attentionMask.fill(1, b * T, b * T + it.ids.length);
  });
  return p;
}

/** Per-token labels of `rows` padded to T with -100 (token classification), flat [B, T]. */
export function packTokenLabels(items: readonly Encoded[], rows: readonly number[], T: number): Int32Array {
  const out = new Int32Array(rows.length * T).fill(IGNORE_INDEX);
  rows.forEach((r, b) => out.set(items[r].label as number[], b * T));
  return out;
}
