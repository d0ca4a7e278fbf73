// Character classes used by the BERT normalizer and pre-tokenizer, as Hugging Face's Rust tokenizer applies
// them. ASCII is hard-coded; code points >= 0x80 come from the generated tables in unicode-tables.ts (see
// scripts/gen-unicode-tables.mjs for why they are probed from HF rather than taken from \p{...}).
// Lookups are O(1) for the BMP (one byte per code point, built once) and a binary search above it.
import { DROP, NORM_SPACE, PRE_SPACE, PUNCT, MARK_NONSPACING, STRIP_OVERRIDES } from './unicode-tables.js';

/** Removed by clean_text (control, format, private use). */
export const C_DROP = 1;
/** Turned into ' ' by clean_text. */
export const C_NORM_SPACE = 2;
/** Split on by the pre-tokenizer (Rust char::is_whitespace). */
export const C_PRE_SPACE = 4;
/** Isolated by the pre-tokenizer (ASCII punctuation or HF's Unicode P* table). */
export const C_PUNCT = 8;
/** Removed after NFD when stripping accents (HF's Mn table). */
export const C_MARK = 16;
/** Surrounded by spaces when handle_chinese_chars is on (BERT's CJK ideograph blocks). */
export const C_CJK = 32;

// BERT's `_is_chinese_char` blocks (spec §6.3), inclusive ranges, as HF's Rust code has them: it starts the
// CJK Extension E block at 0x2B920 where BERT's Python has 0x2B820, so U+2B820..2B91F are ordinary letters there.
const CJK_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x4e00, 0x9fff], [0x3400, 0x4dbf], [0x20000, 0x2a6df], [0x2a700, 0x2b73f],
  [0x2b740, 0x2b81f], [0x2b920, 0x2ceaf], [0xf900, 0xfaff], [0x2f800, 0x2fa1f],
];

function parseRanges(s: string): Uint32Array {
  const parts = s ? s.split(',') : [];
  const out = new Uint32Array(parts.length * 2);
  parts.forEach((p, i) => {
    const dash = p.indexOf('-');
    const start = parseInt(dash < 0 ? p : p.slice(0, dash), 36);
    out[2 * i] = start;
    out[2 * i + 1] = dash < 0 ? start : start + parseInt(p.slice(dash + 1), 36);
  });
  return out;
}

const TABLES: Array<[number, Uint32Array]> = [
  [C_DROP, parseRanges(DROP)], [C_NORM_SPACE, parseRanges(NORM_SPACE)], [C_PRE_SPACE, parseRanges(PRE_SPACE)],
  [C_PUNCT, parseRanges(PUNCT)], [C_MARK, parseRanges(MARK_NONSPACING)],
  [C_CJK, Uint32Array.from([...CJK_RANGES].sort((a, b) => a[0] - b[0]).flat())],
];

const BMP = new Uint8Array(0x10000);
// ASCII: the same definitions HF uses (is_ascii_punctuation; \t \n \r are whitespace, other C0 controls and DEL are dropped).
for (let c = 0; c < 0x80; c++) {
  if (c === 9 || c === 10 || c === 13 || c === 32) BMP[c] = C_NORM_SPACE | C_PRE_SPACE;
  else if (c === 11 || c === 12) BMP[c] = C_DROP | C_PRE_SPACE;
  else if (c < 32 || c === 127) BMP[c] = C_DROP;
  else if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) BMP[c] = C_PUNCT;
}
for (const [bit, r] of TABLES) {
  for (let i = 0; i < r.length; i += 2) {
    if (r[i] >= 0x10000) continue;
    const end = Math.min(r[i + 1], 0xffff);
    for (let c = Math.max(r[i], 0x80); c <= end; c++) BMP[c] |= bit;
  }
}
// U+0000 and U+FFFD are dropped by clean_text whatever their category.
BMP[0] |= C_DROP;
BMP[0xfffd] |= C_DROP;

function inRanges(r: Uint32Array, cp: number): boolean {
  let lo = 0, hi = (r.length >> 1) - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cp < r[2 * mid]) hi = mid - 1;
    else if (cp > r[2 * mid + 1]) lo = mid + 1;
    else return true;
  }
  return false;
}

/** Bit set of C_* classes for a code point (0 for an ordinary word character). */
export function charClass(cp: number): number {
  if (cp < 0x10000) return BMP[cp];
  let bits = 0;
  for (const [bit, r] of TABLES) if (inRanges(r, cp)) bits |= bit;
  return bits;
}

/** The 128-entry ASCII part of the table, for the tokenizer's fast path. */
export const ASCII_CLASS: Uint8Array = BMP.subarray(0, 0x80);

/** Accent stripping results that differ from NFD-then-drop-marks under V8's (newer) Unicode data. */
export const STRIP_OVERRIDE: ReadonlyMap<number, string> = new Map(
  (STRIP_OVERRIDES ? STRIP_OVERRIDES.split(',') : []).map((e) => {
    const [cp, out] = e.split(':');
    return [parseInt(cp, 36), out ? String.fromCodePoint(...out.split(' ').map((x) => parseInt(x, 36))) : ''];
  }),
);
