// Trains a WordPiece vocabulary (vocab.txt token list) from text, deterministically. Words come from the same
// normalizer and pre-tokenizer the tokenizer uses, so every trained piece is reachable. The merge rule is
// Hugging Face's WordPieceTrainer: BPE over characters with '##' continuation pieces, most frequent adjacent
// pair first (ties: earliest-created symbols), until the size is reached or the best pair is rarer than
// minFrequency. Specials sit where BERT puts them ([PAD]=0, [UNK] [CLS] [SEP] [MASK]=100..103, [unusedN]
// between) for vocabularies of 2000+ tokens, otherwise first (0..4), unless `layout` says otherwise.

import { WordPieceTokenizer, type TokenizerOptions } from './wordpiece.js';

export interface VocabTrainOptions {
  /** Total size including specials. */
  vocabSize: number;
  /** Stop when the most frequent pair occurs fewer times than this (default 2). */
  minFrequency?: number;
  /** Keep at most this many distinct characters (most frequent first; default 1000). */
  limitAlphabet?: number;
  /** 'bert': [PAD]=0, [unusedN] 1..99, [UNK] [CLS] [SEP] [MASK]=100..103; 'compact': the five first. */
  layout?: 'bert' | 'compact';
  /** Normalizer options (default: uncased BERT). */
  tokenizer?: Partial<TokenizerOptions>;
  /** Called every 1000 merges. */
  onProgress?: (merges: number, vocab: number) => void;
}

export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

/** Counts pre-tokenized words, incrementally (feed it lines or documents). */
export class WordCounter {
  readonly counts = new Map<string, number>();
  private readonly pre: WordPieceTokenizer;
  constructor(tokenizer: Partial<TokenizerOptions> = {}) {
    // Only the normalizer and pre-tokenizer are used; the vocabulary is a placeholder.
    this.pre = new WordPieceTokenizer(['[UNK]'], { ...tokenizer, specialTokens: [] });
  }
  add(text: string): void {
    for (const [w] of this.pre.preTokenize(text)) this.counts.set(w, (this.counts.get(w) ?? 0) + 1);
  }
}

/** Trains from raw texts (see WordCounter for streaming) and returns the token list in id order. */
export function trainWordPieceVocab(texts: Iterable<string>, opts: VocabTrainOptions): string[] {
  const counter = new WordCounter(opts.tokenizer);
  for (const t of texts) counter.add(t);
  return trainFromWordCounts(counter.counts, opts);
}

export function trainFromWordCounts(counts: ReadonlyMap<string, number>, opts: VocabTrainOptions): string[] {
  const layout = opts.layout ?? (opts.vocabSize >= 2000 ? 'bert' : 'compact');
  const head: string[] = layout === 'bert'
    ? ['[PAD]', ...Array.from({ length: 99 }, (_, i) => `[unused${i}]`), '[UNK]', '[CLS]', '[SEP]', '[MASK]']
    : [...SPECIAL_TOKENS];
  if (opts.vocabSize < head.length + 1) throw new Error(`vocabSize ${opts.vocabSize} is too small: the ${layout} layout needs ${head.length} special entries plus at least one token`);
  const minFreq = opts.minFrequency ?? 2;
  const maxChars = opts.tokenizer?.maxInputCharsPerWord ?? 100;

  // Words in a deterministic order (by string), longer ones are [UNK] at tokenization time anyway.
  const words = [...counts.entries()].filter(([w]) => [...w].length <= maxChars).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));

  // Alphabet: most frequent characters first (ties by code point), capped by limitAlphabet and the size budget.
  const charFreq = new Map<string, number>();
  for (const [w, c] of words) for (const ch of w) charFreq.set(ch, (charFreq.get(ch) ?? 0) + c);
  const budget = opts.vocabSize - head.length;
  const alphabet = [...charFreq.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0].codePointAt(0)! - b[0].codePointAt(0)!))
    .slice(0, Math.min(opts.limitAlphabet ?? 1000, budget))
    .map(([ch]) => ch)
    .sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
  const inAlphabet = new Set(alphabet);

  // Symbols: id → string; initial pieces are plain, continuation pieces carry '##'.
  const symbols: string[] = [];
  const symbolId = new Map<string, number>();
  const vocab: string[] = [];
  const vocabSet = new Set<string>();
  const intern = (s: string, addToVocab: boolean): number => {
    let id = symbolId.get(s);
    if (id === undefined) { id = symbols.length; symbols.push(s); symbolId.set(s, id); }
    if (addToVocab && !vocabSet.has(s)) { vocabSet.add(s); vocab.push(s); }
    return id;
  };
  for (const ch of alphabet) intern(ch, true);
  for (const ch of alphabet) if (vocab.length < budget) intern('##' + ch, true);

  // Each word as a symbol sequence (words with characters outside the alphabet cannot be built: skipped).
  const seqs: number[][] = [];
  const freqs: number[] = [];
  for (const [w, c] of words) {
    const chars = [...w];
    if (!chars.every((ch) => inAlphabet.has(ch))) continue;
    seqs.push(chars.map((ch, i) => intern(i === 0 ? ch : '##' + ch, false)));
    freqs.push(c);
  }

  // Pair statistics: key = a * 2^26 + b (symbol ids stay far below 2^26); where = words containing the pair.
  const K = 67108864;
  const pairCount = new Map<number, number>();
  const where = new Map<number, Set<number>>();
  const addWord = (wi: number, sign: number, touched: Set<number> | null) => {
    const s = seqs[wi], c = freqs[wi] * sign;
    for (let i = 0; i + 1 < s.length; i++) {
      const key = s[i] * K + s[i + 1];
      pairCount.set(key, (pairCount.get(key) ?? 0) + c);
      if (sign > 0) { let ws = where.get(key); if (!ws) where.set(key, (ws = new Set())); ws.add(wi); }
      touched?.add(key);
    }
  };
  for (let wi = 0; wi < seqs.length; wi++) addWord(wi, 1, null);

  // Max-heap of [count, key] with lazy invalidation; ties go to the smaller key (earlier symbols).
  const heap: Array<[number, number]> = [];
  const better = (x: [number, number], y: [number, number]) => x[0] > y[0] || (x[0] === y[0] && x[1] < y[1]);
  const push = (e: [number, number]) => {
    heap.push(e);
    for (let i = heap.length - 1; i > 0;) { const p = (i - 1) >> 1; if (!better(heap[i], heap[p])) break; [heap[i], heap[p]] = [heap[p], heap[i]]; i = p; }
  };
  const pop = (): [number, number] | undefined => {
    const top = heap[0], last = heap.pop();
    if (heap.length > 0 && last) {
      heap[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < heap.length && better(heap[l], heap[m])) m = l;
        if (r < heap.length && better(heap[r], heap[m])) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m], heap[i]]; i = m;
      }
    }
    return top;
  };
  for (const [key, c] of pairCount) if (c > 0) push([c, key]);

  let merges = 0;
  while (vocab.length < budget && heap.length > 0) {
    const [c, key] = pop()!;
    if (pairCount.get(key) !== c) continue; // stale entry
    if (c < minFreq) break;
    const a = Math.floor(key / K), b = key % K;
    const merged = symbols[a] + symbols[b].slice(2);
    const m = intern(merged, true);
    const touched = new Set<number>();
    for (const wi of where.get(key) ?? []) {
      const s = seqs[wi];
      let has = false;
      for (let i = 0; i + 1 < s.length; i++) if (s[i] === a && s[i + 1] === b) { has = true; break; }
      if (!has) continue;
      addWord(wi, -1, touched);
      const out: number[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) { out.push(m); i++; } else out.push(s[i]);
      }
      seqs[wi] = out;
      addWord(wi, 1, touched);
    }
    pairCount.delete(key); where.delete(key);
    for (const t of touched) { const n = pairCount.get(t) ?? 0; if (n > 0 && t !== key) push([n, t]); }
    if (++merges % 1000 === 0) opts.onProgress?.(merges, head.length + vocab.length);
  }
  return [...head, ...vocab];
}
