// BERT/ELECTRA WordPiece tokenizer, id-for-id compatible with Hugging Face's Rust tokenizer (BertNormalizer →
// BertPreTokenizer → WordPiece → [CLS] A [SEP] B [SEP]), spec §6.3. Runs in browsers (no Node imports).
// Contract: encode() never throws on any string (lone surrogates read as U+FFFD, as HF receives them);
// offsets are UTF-16 indices into the original string (text.slice(start, end) is the token's source text),
// [0, 0] for special and padding tokens; pair offsets index into their own text.
// Reference is HF's Rust tokenizer, not BERT's Python: they differ on ~700 code points (HF's older Unicode
// tables, its 0x2B920 CJK bound, \x0b \x0c \x85 U+2028/9 handling); see unicode.ts and unicode-tables.ts.
// Speed: ASCII words take a fast path (one table lookup per char, one Map lookup per known word); anything
// else goes through a per-code-point path with a cache, so the common case never touches regex or normalize().

import { ASCII_CLASS, STRIP_OVERRIDE, charClass, C_CJK, C_DROP, C_MARK, C_NORM_SPACE, C_PRE_SPACE, C_PUNCT } from './unicode.js';
import { type TokenizerOptions, DEFAULT_OPTIONS, parseTokenizerConfig, parseTokenizerJson, parseVocabTxt, validateTokens } from './vocab.js';

// The options live beside the vocabulary files that set them (vocab.ts); re-exported here for users of the tokenizer.
export { type TokenizerOptions, DEFAULT_OPTIONS } from './vocab.js';

export interface Encoding {
  ids: number[];
  /** Segment ids: 0 for [CLS] A [SEP], 1 for B [SEP], 0 for padding. */
  typeIds: number[];
  attentionMask: number[];
  /** [start, end) UTF-16 offsets into the source text of each token. */
  offsets: Array<[number, number]>;
  /** 1 for [CLS], [SEP] and padding. */
  specialTokensMask: number[];
  /** 0 or 1 for tokens from text A or B; -1 for special tokens and padding. */
  sequenceIds: number[];
}

export interface EncodeOptions {
  /** Add [CLS]/[SEP] (default true). */
  addSpecialTokens?: boolean;
  /** Truncate to this many tokens including specials (longest-first for pairs). */
  maxLength?: number;
}

export interface BatchOptions extends EncodeOptions {
  /** 'longest' pads to the longest in the batch, 'max_length' to maxLength, false leaves lengths ragged. */
  padding?: 'longest' | 'max_length' | false;
  /** Truncate to maxLength (default: modelMaxLength) when true (default). */
  truncation?: boolean;
}

/** A padded batch as flat row-major [B, T] arrays, ready to upload. */
export interface PackedBatch {
  batchSize: number; seqLen: number;
  inputIds: Int32Array; tokenTypeIds: Int32Array; attentionMask: Int32Array;
}

/** Token sink: ids with [start, end) offsets into the string being scanned. */
interface Sink { ids: number[]; starts: number[]; ends: number[] }

const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff;

// Normalized form of a code point, cached per tokenizer: SPACE, DROPPED, or the output string with a CJK flag.
const SPACE = 0, DROPPED = 1;
interface NormChar { s: string; cjk: boolean }
type NormResult = typeof SPACE | typeof DROPPED | NormChar;

// ASCII classes for the fast path, after clean_text.
const A_WORD = 0, A_SPACE = 1, A_PUNCT = 2, A_SLOW = 3;

export class WordPieceTokenizer {
  readonly options: TokenizerOptions;
  readonly tokens: readonly string[];
  readonly unkId: number; readonly clsId: number; readonly sepId: number; readonly padId: number; readonly maskId: number;
  readonly specialIds: ReadonlySet<number>;
  private readonly initial = new Map<string, number>();
  private readonly cont = new Map<string, number>();
  private readonly maxInitialLen: number;
  private readonly maxContLen: number;
  private readonly stripAccents: boolean;
  private readonly ascii = new Uint8Array(128);
  private readonly normCache = new Map<number, NormResult>();
  private readonly specials: string[];
  /** When set (by preTokenize), words go here instead of through WordPiece. */
  private onWord: ((w: string, base: number, starts: number[] | null, ends: number[] | null) => void) | null = null;

  constructor(tokens: readonly string[], options: Partial<TokenizerOptions> = {}) {
    const o: TokenizerOptions = { ...DEFAULT_OPTIONS, ...options };
    this.options = o;
    validateTokens(tokens, 'vocabulary', o.unkToken);
    this.tokens = tokens;
    const prefix = o.continuingSubwordPrefix;
    let maxI = 0, maxC = 0;
    tokens.forEach((t, id) => {
      if (prefix && t.startsWith(prefix) && t.length > prefix.length) {
        const k = t.slice(prefix.length);
        this.cont.set(k, id); if (k.length > maxC) maxC = k.length;
      }
      // A "##x" token is also a valid initial piece spelled "##x" (HF looks words up verbatim).
      this.initial.set(t, id); if (t.length > maxI) maxI = t.length;
    });
    this.maxInitialLen = maxI; this.maxContLen = maxC;
    const id = (t: string) => this.initial.get(t) ?? -1;
    this.unkId = id(o.unkToken); this.clsId = id(o.clsToken); this.sepId = id(o.sepToken);
    this.padId = id(o.padToken); this.maskId = id(o.maskToken);
    const specialNames = o.specialTokens ?? [o.padToken, o.unkToken, o.clsToken, o.sepToken, o.maskToken];
    this.specials = specialNames.filter((t) => t.length > 0 && this.initial.has(t));
    this.specialIds = new Set([this.unkId, this.clsId, this.sepId, this.padId, this.maskId].filter((i) => i >= 0));
    this.stripAccents = o.stripAccents ?? o.lowercase;
    for (let c = 0; c < 128; c++) {
      const k = ASCII_CLASS[c];
      if (o.cleanText && (k & C_NORM_SPACE)) this.ascii[c] = A_SPACE;
      else if (o.cleanText && (k & C_DROP)) this.ascii[c] = A_SLOW;
      else if (k & C_PRE_SPACE) this.ascii[c] = A_SPACE;
      else if (k & C_PUNCT) this.ascii[c] = A_PUNCT;
      else if (c < 32 || c === 127) this.ascii[c] = A_SLOW; // kept control chars (clean_text off): slow path
      else this.ascii[c] = A_WORD;
    }
  }

  get vocabSize(): number { return this.tokens.length; }
  tokenToId(token: string): number | undefined { return this.initial.get(token); }
  idToToken(id: number): string | undefined { return this.tokens[id]; }

  // ---------------------------------------------------------------------------------------------------------
  // Scanning: special tokens → normalization + pre-tokenization → WordPiece.

  /** Appends the WordPiece ids (no [CLS]/[SEP]) of `text` and their offsets to the sink. */
  private scan(text: string, sink: Sink): void {
    let pos = 0;
    if (this.specials.length > 0) {
      // Next occurrence of each special token, refreshed only once passed (linear in the text overall).
      const next = this.specials.map((s) => text.indexOf(s));
      for (;;) {
        // Leftmost, then longest, verbatim occurrence of a special token.
        let at = -1, tok = '';
        for (let k = 0; k < next.length; k++) {
          if (next[k] >= 0 && next[k] < pos) next[k] = text.indexOf(this.specials[k], pos);
          const s = this.specials[k], p = next[k];
          if (p >= 0 && (at < 0 || p < at || (p === at && s.length > tok.length))) { at = p; tok = s; }
        }
        if (at < 0) break;
        this.scanSegment(text, pos, at, sink);
        sink.ids.push(this.initial.get(tok)!); sink.starts.push(at); sink.ends.push(at + tok.length);
        pos = at + tok.length;
      }
    }
    this.scanSegment(text, pos, text.length, sink);
  }

  private scanSegment(text: string, from: number, to: number, sink: Sink): void {
    const ascii = this.ascii, lower = this.options.lowercase;
    let i = from;
    while (i < to) {
      const c = text.charCodeAt(i);
      const k = c < 128 ? ascii[c] : A_SLOW;
      if (k === A_SPACE) { i++; continue; }
      if (k === A_PUNCT) { this.wordPiece(text[i], i, null, null, sink); i++; continue; }
      // A word: extend over ASCII word characters.
      let j = i, upper = false, slow = k === A_SLOW;
      if (!slow) {
        for (j = i + 1; j < to; j++) {
          const d = text.charCodeAt(j);
          if (d >= 128) { slow = true; break; }
          const kd = ascii[d];
          if (kd !== A_WORD) { slow = kd === A_SLOW; break; }
          if (d >= 65 && d <= 90) upper = true;
        }
        if (c >= 65 && c <= 90) upper = true;
      }
      if (!slow) {
        const w = text.slice(i, j);
        this.wordPiece(upper && lower ? w.toLowerCase() : w, i, null, null, sink);
        i = j;
        continue;
      }
      // The span up to the next ASCII space or punctuation needs the full Unicode treatment.
      let e = j > i ? j : i + 1;
      while (e < to) {
        const d = text.charCodeAt(e);
        if (d < 128 && (ascii[d] === A_SPACE || ascii[d] === A_PUNCT)) break;
        e++;
      }
      this.scanUnicode(text, i, e, sink);
      i = e;
    }
  }

  private normalizeCodePoint(cp: number): NormResult {
    let r = this.normCache.get(cp);
    if (r !== undefined) return r;
    const o = this.options;
    const cls = charClass(cp);
    const ch = String.fromCodePoint(cp);
    if (o.cleanText && (cls & C_DROP)) r = DROPPED;
    else if (o.cleanText && (cls & C_NORM_SPACE)) r = SPACE;
    else {
      let s = ch;
      if (this.stripAccents) {
        s = STRIP_OVERRIDE.get(cp) ?? ch.normalize('NFD');
        let kept = '';
        for (const x of s) if (!(charClass(x.codePointAt(0)!) & C_MARK)) kept += x;
        s = kept;
      }
      // Per code point, as Rust's char::to_lowercase (no final-sigma context).
      if (o.lowercase) { let l = ''; for (const x of s) l += x.toLowerCase(); s = l; }
      r = s === '' ? DROPPED : { s, cjk: o.handleChineseChars && (cls & C_CJK) !== 0 };
    }
    if (this.normCache.size < 65536) this.normCache.set(cp, r);
    return r;
  }

  /** Normalize and pre-tokenize text[from, to) one code point at a time, tracking source offsets per unit. */
  private scanUnicode(text: string, from: number, to: number, sink: Sink): void {
    let word = '';
    let starts: number[] = [], ends: number[] = [];
    const flush = () => {
      if (word.length > 0) this.wordPiece(word, 0, starts, ends, sink);
      word = ''; starts = []; ends = [];
    };
    let k = from;
    while (k < to) {
      let cp = text.charCodeAt(k), len = 1;
      if (isHigh(cp) && k + 1 < to && isLow(text.charCodeAt(k + 1))) {
        cp = ((cp - 0xd800) << 10) + (text.charCodeAt(k + 1) - 0xdc00) + 0x10000; len = 2;
      } else if (isHigh(cp) || isLow(cp)) cp = 0xfffd; // a lone surrogate reaches HF as U+FFFD
      const n = this.normalizeCodePoint(cp);
      if (n === SPACE) flush();
      else if (n !== DROPPED) {
        if (n.cjk) flush();
        const s = n.s;
        for (let u = 0; u < s.length; u++) {
          let x = s.charCodeAt(u), xl = 1;
          if (isHigh(x) && u + 1 < s.length) { x = ((x - 0xd800) << 10) + (s.charCodeAt(u + 1) - 0xdc00) + 0x10000; xl = 2; }
          const xc = x < 128 ? ASCII_CLASS[x] : charClass(x);
          if (xc & C_PRE_SPACE) flush();
          else if (xc & C_PUNCT) {
            flush();
            this.wordPiece(s.slice(u, u + xl), 0, [k, k], [k + len, k + len], sink);
          } else {
            word += s.slice(u, u + xl);
            for (let q = 0; q < xl; q++) { starts.push(k); ends.push(k + len); }
          }
          u += xl - 1;
        }
        if (n.cjk) flush();
      }
      k += len;
    }
    flush();
  }

  /**
   * Greedy longest-match-first WordPiece over one pre-tokenized word. Offsets: `base + i` in the fast path, or
   * starts[i] / ends[i] per UTF-16 unit of `w` in the Unicode path.
   */
  private wordPiece(w: string, base: number, starts: number[] | null, ends: number[] | null, sink: Sink): void {
    if (this.onWord) { this.onWord(w, base, starts, ends); return; }
    const n = w.length;
    const off0 = starts ? starts[0] : base;
    const offEnd = (u: number) => (ends ? ends[u - 1] : base + u);
    const offStart = (u: number) => (starts ? starts[u] : base + u);
    let chars = n;
    if (starts) for (let u = 0; u < n; u++) if (isHigh(w.charCodeAt(u))) chars--;
    if (chars > this.options.maxInputCharsPerWord) { this.pushUnk(off0, offEnd(n), sink); return; }
    const whole = this.initial.get(w);
    if (whole !== undefined) { sink.ids.push(whole); sink.starts.push(off0); sink.ends.push(offEnd(n)); return; }
    const mark = sink.ids.length;
    let start = 0;
    while (start < n) {
      const map = start === 0 ? this.initial : this.cont;
      let end = Math.min(n, start + (start === 0 ? this.maxInitialLen : this.maxContLen));
      if (end < n && isLow(w.charCodeAt(end))) end--;
      let id: number | undefined;
      while (end > start) {
        id = map.get(start === 0 && end === n ? w : w.slice(start, end));
        if (id !== undefined) break;
        end--;
        if (end > start && isLow(w.charCodeAt(end))) end--;
      }
      if (id === undefined) {
        // Any unmatched remainder turns the whole word into [UNK].
        sink.ids.length = mark; sink.starts.length = mark; sink.ends.length = mark;
        this.pushUnk(off0, offEnd(n), sink);
        return;
      }
      sink.ids.push(id); sink.starts.push(offStart(start)); sink.ends.push(offEnd(end));
      start = end;
    }
  }

  private pushUnk(s: number, e: number, sink: Sink): void {
    sink.ids.push(this.unkId); sink.starts.push(s); sink.ends.push(e);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Public API.

  /** WordPiece ids of `text` without [CLS]/[SEP] (the fast entry point for data pipelines). */
  tokenizeToIds(text: string): number[] {
    const sink: Sink = { ids: [], starts: [], ends: [] };
    this.scan(String(text), sink);
    return sink.ids;
  }

  /** WordPiece token strings of `text` (no specials). */
  tokenize(text: string): string[] {
    return this.tokenizeToIds(text).map((i) => this.tokens[i]);
  }

  /** Words after normalization and pre-tokenization, with source offsets (what WordPiece sees). */
  preTokenize(text: string): Array<[string, number, number]> {
    const out: Array<[string, number, number]> = [];
    this.onWord = (w, base, starts, ends) => out.push([w, starts ? starts[0] : base, ends ? ends[w.length - 1] : base + w.length]);
    try { this.scan(String(text), { ids: [], starts: [], ends: [] }); } finally { this.onWord = null; }
    return out;
  }

  /** Encode one text or a pair; never throws on string input. */
  encode(textA: string, textB?: string | null, opts: EncodeOptions = {}): Encoding {
    const a: Sink = { ids: [], starts: [], ends: [] };
    this.scan(String(textA), a);
    let b: Sink | null = null;
    if (textB !== undefined && textB !== null) { b = { ids: [], starts: [], ends: [] }; this.scan(String(textB), b); }
    const special = opts.addSpecialTokens ?? true;
    if (opts.maxLength !== undefined) truncate(a, b, Math.max(0, opts.maxLength - (special ? (b ? 3 : 2) : 0)));
    return this.assemble(a, b, special);
  }

  private assemble(a: Sink, b: Sink | null, special: boolean): Encoding {
    const e: Encoding = { ids: [], typeIds: [], attentionMask: [], offsets: [], specialTokensMask: [], sequenceIds: [] };
    const push = (id: number, type: number, s: number, t: number, sp: number, seq: number) => {
      e.ids.push(id); e.typeIds.push(type); e.attentionMask.push(1); e.offsets.push([s, t]); e.specialTokensMask.push(sp); e.sequenceIds.push(seq);
    };
    if (special) push(this.clsId, 0, 0, 0, 1, -1);
    for (let i = 0; i < a.ids.length; i++) push(a.ids[i], 0, a.starts[i], a.ends[i], 0, 0);
    if (special) push(this.sepId, 0, 0, 0, 1, -1);
    if (b) {
      for (let i = 0; i < b.ids.length; i++) push(b.ids[i], 1, b.starts[i], b.ends[i], 0, 1);
      if (special) push(this.sepId, 1, 0, 0, 1, -1);
    }
    return e;
  }

  /** Encode many texts or pairs, truncated (longest-first for pairs) and padded (right, with [PAD] id). */
  encodeBatch(inputs: ReadonlyArray<string | readonly [string, string]>, opts: BatchOptions = {}): Encoding[] {
    const truncation = opts.truncation ?? true;
    const maxLength = opts.maxLength ?? this.options.modelMaxLength;
    const encs = inputs.map((x) => (typeof x === 'string'
      ? this.encode(x, null, { addSpecialTokens: opts.addSpecialTokens, maxLength: truncation ? maxLength : undefined })
      : this.encode(x[0], x[1], { addSpecialTokens: opts.addSpecialTokens, maxLength: truncation ? maxLength : undefined })));
    const padding = opts.padding ?? 'longest';
    if (padding === false) return encs;
    const target = padding === 'max_length' ? maxLength : Math.max(0, ...encs.map((e) => e.ids.length));
    const pad = this.padId >= 0 ? this.padId : 0;
    for (const e of encs) {
      while (e.ids.length < target) {
        e.ids.push(pad); e.typeIds.push(0); e.attentionMask.push(0); e.offsets.push([0, 0]); e.specialTokensMask.push(1); e.sequenceIds.push(-1);
      }
    }
    return encs;
  }

  /** encodeBatch padded to one length, as flat Int32Arrays [B, T]. */
  encodeBatchPacked(inputs: ReadonlyArray<string | readonly [string, string]>, opts: BatchOptions = {}): PackedBatch {
    const encs = this.encodeBatch(inputs, { ...opts, padding: opts.padding || 'longest' });
    const B = encs.length, T = B ? encs[0].ids.length : 0;
    const p: PackedBatch = { batchSize: B, seqLen: T, inputIds: new Int32Array(B * T), tokenTypeIds: new Int32Array(B * T), attentionMask: new Int32Array(B * T) };
    encs.forEach((e, r) => { p.inputIds.set(e.ids, r * T); p.tokenTypeIds.set(e.typeIds, r * T); p.attentionMask.set(e.attentionMask, r * T); });
    return p;
  }

  /**
   * Text from ids, as HF's WordPiece decoder: a space before every piece but the first, '##' continuations glued
   * on, and HF's per-token "cleanup" (which in effect removes the space before . ? ! ,). Special tokens
   * ([PAD] [UNK] [CLS] [SEP] [MASK]) are skipped by default, as HF's skip_special_tokens does.
   */
  decode(ids: ArrayLike<number>, opts: { skipSpecialTokens?: boolean; cleanup?: boolean } = {}): string {
    const skip = opts.skipSpecialTokens ?? true, cleanup = opts.cleanup ?? true;
    const prefix = this.options.continuingSubwordPrefix;
    let out = '', i = 0;
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k];
      if (skip && this.specialIds.has(id)) continue;
      let t = this.tokens[id] ?? this.options.unkToken;
      if (i > 0) t = prefix && t.startsWith(prefix) ? t.slice(prefix.length) : ' ' + t;
      if (cleanup) t = cleanupToken(t);
      out += t; i++;
    }
    return out;
  }
}

function cleanupToken(t: string): string {
  return t.replaceAll(' .', '.').replaceAll(' ?', '?').replaceAll(' !', '!').replaceAll(' ,', ',')
    .replaceAll(" ' ", "'").replaceAll(" n't", "n't").replaceAll(" 'm", "'m").replaceAll(' do not', " don't")
    .replaceAll(" 's", "'s").replaceAll(" 've", "'ve").replaceAll(" 're", "'re");
}

/**
 * HF's longest_first truncation (tokenizers/src/utils/truncation.rs) to `budget` content tokens, from the end:
 * with n1 ≤ n2 the shorter and longer lengths, n2 becomes max(n1, budget − n1) (or n1 when n1 > budget), and if
 * that is still too long both become ⌊budget/2⌋ and ⌈budget/2⌉, the longer sequence taking the larger half.
 */
function truncate(a: Sink, b: Sink | null, budget: number): void {
  let na = a.ids.length, nb = b ? b.ids.length : 0;
  if (na + nb <= budget) return;
  if (!b) na = Math.max(0, budget);
  else if (budget === 0) { na = 0; nb = 0; }
  else {
    const swap = na > nb;
    let n1 = swap ? nb : na, n2: number;
    n2 = n1 > budget ? n1 : Math.max(n1, budget - n1);
    if (n1 + n2 > budget) { n1 = Math.floor(budget / 2); n2 = n1 + (budget % 2); }
    na = Math.min(na, swap ? n2 : n1); nb = Math.min(nb, swap ? n1 : n2);
  }
  a.ids.length = na; a.starts.length = na; a.ends.length = na;
  if (b) { b.ids.length = nb; b.starts.length = nb; b.ends.length = nb; }
}

/** A tokenizer file's text and the name errors give it (a path, a URL, a dropped file's name). */
export interface TokenizerFile { text: string; where: string }

/**
 * The tokenizer of a model directory from its files' texts, whatever read them (Node's files, a browser's fetch or
 * dropped files): tokenizer.json when given, else vocab.txt; tokenizer_config.json, when given, supplies
 * do_lower_case and the special tokens; `overrides` win over both.
 */
export function tokenizerFromFiles(
  f: { tokenizerJson?: TokenizerFile | null; vocabTxt?: TokenizerFile | null; tokenizerConfig?: TokenizerFile | null },
  overrides: Partial<TokenizerOptions> = {},
): WordPieceTokenizer {
  const cfg = f.tokenizerConfig ? parseTokenizerConfig(f.tokenizerConfig.text, f.tokenizerConfig.where) : {};
  if (f.tokenizerJson) {
    const { tokens, options } = parseTokenizerJson(f.tokenizerJson.text, f.tokenizerJson.where);
    return new WordPieceTokenizer(tokens, { ...options, ...cfg, ...overrides });
  }
  if (!f.vocabTxt) throw new Error('tokenizerFromFiles: give tokenizerJson or vocabTxt');
  const unk = overrides.unkToken ?? cfg.unkToken ?? '[UNK]';
  return new WordPieceTokenizer(parseVocabTxt(f.vocabTxt.text, f.vocabTxt.where, unk), { ...cfg, ...overrides });
}
