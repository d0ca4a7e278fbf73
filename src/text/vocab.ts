// WordPiece vocabularies: parsing `vocab.txt` and Hugging Face `tokenizer.json` / `tokenizer_config.json` text
// into a validated token list plus tokenizer options, and a stable 64-bit vocabulary hash for shard headers.
// Pure functions on strings (no file system), so they run in browsers too; src/text/node/files.ts reads files.
// Errors name the source (`where`: a file name or a label) and the problem; nothing here ever returns a
// vocabulary without its [UNK] token or with a token listed twice.
// The tokenizer's options are declared here, beside the files that set them; wordpiece.ts uses them.

export interface TokenizerOptions {
  /** do_lower_case: lowercase every character (per code point, as HF does). */
  lowercase: boolean;
  /** NFD + drop nonspacing marks; null follows `lowercase` (HF and BERT default). */
  stripAccents: boolean | null;
  /** Surround CJK ideographs with spaces (tokenize_chinese_chars). */
  handleChineseChars: boolean;
  /** Drop NUL, U+FFFD and control/format characters; map whitespace to ' '. */
  cleanText: boolean;
  /** Longer words become [UNK]: 100 in HF, 200 in the original BERT/ELECTRA code. */
  maxInputCharsPerWord: number;
  continuingSubwordPrefix: string;
  unkToken: string; clsToken: string; sepToken: string; padToken: string; maskToken: string;
  /** Tokens recognised verbatim in raw text before normalization (HF "added tokens"); default: the five specials. */
  specialTokens: string[] | null;
  /** Default truncation length for encodeBatch. */
  modelMaxLength: number;
}

export const DEFAULT_OPTIONS: TokenizerOptions = {
  lowercase: true, stripAccents: null, handleChineseChars: true, cleanText: true, maxInputCharsPerWord: 100,
  continuingSubwordPrefix: '##', unkToken: '[UNK]', clsToken: '[CLS]', sepToken: '[SEP]', padToken: '[PAD]',
  maskToken: '[MASK]', specialTokens: null, modelMaxLength: 512,
};

export class VocabError extends Error {
  override name = 'VocabError';
}

/** One token per line; the id is the line index. Trailing whitespace (including \r) is dropped, as HF does. */
export function parseVocabTxt(text: string, where = 'vocab.txt', unkToken = '[UNK]'): string[] {
  if (text.length === 0) throw new VocabError(`${where}: empty vocabulary file`);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const tokens = lines.map((l) => l.trimEnd());
  validateTokens(tokens, where, unkToken);
  return tokens;
}

/** Throws on an empty list, empty or duplicate tokens, tokens containing line breaks, or a missing [UNK]. */
export function validateTokens(tokens: readonly string[], where: string, unkToken = '[UNK]'): void {
  if (tokens.length === 0) throw new VocabError(`${where}: empty vocabulary`);
  const seen = new Map<string, number>();
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t === '') throw new VocabError(`${where}: empty token at line ${i + 1}`);
    if (/[\n\r\0]/.test(t)) throw new VocabError(`${where}: token at line ${i + 1} contains a line break or NUL`);
    const prev = seen.get(t);
    if (prev !== undefined) throw new VocabError(`${where}: duplicate token ${JSON.stringify(t)} at lines ${prev + 1} and ${i + 1}`);
    seen.set(t, i);
  }
  if (!seen.has(unkToken)) throw new VocabError(`${where}: vocabulary has no unknown token ${JSON.stringify(unkToken)}`);
}

/** vocab.txt text for a token list (one per line, trailing newline). */
export function formatVocabTxt(tokens: readonly string[]): string {
  return tokens.join('\n') + '\n';
}

interface JsonObject { [k: string]: unknown }
const isObj = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseJson(text: string, where: string): JsonObject {
  let v: unknown;
  try { v = JSON.parse(text); } catch (e) { throw new VocabError(`${where}: invalid JSON (${(e as Error).message})`); }
  if (!isObj(v)) throw new VocabError(`${where}: expected a JSON object`);
  return v;
}

/** Special tokens named in tokenizer_config.json may be strings or {content: string} objects. */
function tokenName(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (isObj(v) && typeof v.content === 'string') return v.content;
  return undefined;
}

/** Options from tokenizer_config.json (`do_lower_case`, `strip_accents`, `tokenize_chinese_chars`, special tokens). */
export function parseTokenizerConfig(text: string, where = 'tokenizer_config.json'): Partial<TokenizerOptions> {
  const c = parseJson(text, where);
  const o: Partial<TokenizerOptions> = {};
  if (typeof c.do_lower_case === 'boolean') o.lowercase = c.do_lower_case;
  if (typeof c.strip_accents === 'boolean' || c.strip_accents === null) o.stripAccents = c.strip_accents;
  if (typeof c.tokenize_chinese_chars === 'boolean') o.handleChineseChars = c.tokenize_chinese_chars;
  if (typeof c.model_max_length === 'number' && c.model_max_length < 1e9) o.modelMaxLength = c.model_max_length;
  const names: Array<[keyof TokenizerOptions, string]> = [
    ['unkToken', 'unk_token'], ['clsToken', 'cls_token'], ['sepToken', 'sep_token'], ['padToken', 'pad_token'], ['maskToken', 'mask_token'],
  ];
  for (const [k, key] of names) { const t = tokenName(c[key]); if (t !== undefined) (o as Record<string, unknown>)[k] = t; }
  return o;
}

/**
 * A Hugging Face tokenizer.json with a WordPiece model, a BertNormalizer (or none) and a BertPreTokenizer.
 * Returns the token list (ids must be 0..n-1, each used once) and the options it implies.
 */
export function parseTokenizerJson(text: string, where = 'tokenizer.json'): { tokens: string[]; options: Partial<TokenizerOptions> } {
  const j = parseJson(text, where);
  const model = j.model;
  if (!isObj(model)) throw new VocabError(`${where}: no "model" object`);
  if (model.type !== undefined && model.type !== 'WordPiece') throw new VocabError(`${where}: model type ${JSON.stringify(model.type)} is not WordPiece`);
  if (!isObj(model.vocab)) throw new VocabError(`${where}: model.vocab is not an object of token → id`);
  const entries = Object.entries(model.vocab);
  const tokens: string[] = new Array(entries.length);
  for (const [tok, id] of entries) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= entries.length) {
      throw new VocabError(`${where}: token ${JSON.stringify(tok)} has id ${JSON.stringify(id)}, expected an integer in 0..${entries.length - 1}`);
    }
    if (tokens[id] !== undefined) throw new VocabError(`${where}: id ${id} is used by both ${JSON.stringify(tokens[id])} and ${JSON.stringify(tok)}`);
    tokens[id] = tok;
  }
  const o: Partial<TokenizerOptions> = {};
  if (typeof model.unk_token === 'string') o.unkToken = model.unk_token;
  if (typeof model.continuing_subword_prefix === 'string') o.continuingSubwordPrefix = model.continuing_subword_prefix;
  if (typeof model.max_input_chars_per_word === 'number') o.maxInputCharsPerWord = model.max_input_chars_per_word;
  const n = j.normalizer;
  if (isObj(n)) {
    if (n.type !== 'BertNormalizer') throw new VocabError(`${where}: normalizer ${JSON.stringify(n.type)} is not supported (only BertNormalizer)`);
    if (typeof n.clean_text === 'boolean') o.cleanText = n.clean_text;
    if (typeof n.handle_chinese_chars === 'boolean') o.handleChineseChars = n.handle_chinese_chars;
    if (typeof n.lowercase === 'boolean') o.lowercase = n.lowercase;
    if (typeof n.strip_accents === 'boolean' || n.strip_accents === null) o.stripAccents = n.strip_accents;
  } else if (n === null) {
    o.cleanText = false; o.handleChineseChars = false; o.lowercase = false; o.stripAccents = false;
  }
  const p = j.pre_tokenizer;
  if (isObj(p) && p.type !== 'BertPreTokenizer') throw new VocabError(`${where}: pre_tokenizer ${JSON.stringify(p.type)} is not supported (only BertPreTokenizer)`);
  if (Array.isArray(j.added_tokens)) {
    o.specialTokens = j.added_tokens.filter((t): t is JsonObject => isObj(t) && typeof t.content === 'string').map((t) => t.content as string);
  }
  // [CLS] / [SEP] come from the post-processor when it names them.
  const pp = j.post_processor;
  if (isObj(pp)) {
    if (pp.type === 'BertProcessing' && Array.isArray(pp.cls) && Array.isArray(pp.sep)) {
      o.clsToken = String(pp.cls[0]); o.sepToken = String(pp.sep[0]);
    } else if (pp.type === 'TemplateProcessing' && Array.isArray(pp.single)) {
      const specials = pp.single.map((x) => (isObj(x) && isObj(x.SpecialToken) ? String(x.SpecialToken.id) : null)).filter((x): x is string => x !== null);
      if (specials.length >= 2) { o.clsToken = specials[0]; o.sepToken = specials[specials.length - 1]; }
    }
  }
  validateTokens(tokens, where, o.unkToken ?? '[UNK]');
  return { tokens, options: o };
}

/**
 * 64-bit FNV-1a over the tokens joined by '\n' (UTF-16 code units), as 16 hex digits. Shard headers store it so
 * that a shard built with another vocabulary is refused.
 */
export function vocabHash(tokens: readonly string[]): string {
  // Two 32-bit halves of the 64-bit state; the FNV prime 0x100000001b3 multiplies as (hi, lo) pairs.
  let hi = 0xcbf29ce4, lo = 0x84222325;
  const step = (c: number) => {
    lo = (lo ^ c) >>> 0;
    // (hi·2^32 + lo) · (2^40 + 0x1b3) mod 2^64
    const loMul = lo * 0x1b3;
    const carry = Math.floor(loMul / 0x100000000);
    const newLo = loMul >>> 0;
    const newHi = (Math.imul(hi, 0x1b3) + Math.imul(lo, 0x100) + carry) >>> 0;
    hi = newHi; lo = newLo;
  };
  for (let t = 0; t < tokens.length; t++) {
    const s = tokens[t];
    for (let i = 0; i < s.length; i++) step(s.charCodeAt(i));
    step(10);
  }
  return (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
}
