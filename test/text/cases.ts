// Shared test inputs: hand-picked Unicode edge cases and a seeded generator of adversarial strings.

export const EDGE_CASES: string[] = [
  'Hello, world!', "Don't stop believin' — it's 3:45pm, isn't it?", 'UNBELIEVABLE unbelievably Unbelievable',
  'Café naïve résumé façade jalapeño Ångström Øresund Straße', 'ÀÉÎÕÜ àéîõü ĀĒĪŌŪ ǅ ǈ ǋ', 'x\u0301 e\u0301\u0302 a\u0308b \u0301lead',
  'İstanbul ıi Iİ ΣΟΦΟΣ ΟΔΟΣ Σ σ ς', 'ﬁnance ﬂow Ⅷ ⅷ ① ㎏ ＡＢＣ！？', '東京は日本の首都です。北京欢迎你', '漢字かなカナ한국어 조선말',
  '𠀀𠀁 𪜀 𫝀 𫠠 𬺰 豈更 丽', 'emoji 😀😃 👍🏽 👩‍👩‍👧 🇫🇷 ❤️ 🥰', 'ctrl\u0000nul\u0001\u0002\u0007bell\u001b[31m\u007fdel',
  'tabs\tand\nnew\r\nlines\u000b\u000cff\u0085nel', 'nbsp\u00a0thin\u2009ideo\u3000ls\u2028ps\u2029zw\u200bzwj\u200d',
  'soft\u00adhyphen bidi\u200eltr\u202erlo\ufeffbom', 'replacement\ufffdchar', 'lone \ud800 high \udc00 low \ud83d end\ud83d',
  'a'.repeat(99), 'b'.repeat(100), 'c'.repeat(101), 'supercalifragilisticexpialidocious'.repeat(4),
  'é'.repeat(100), 'é'.repeat(101), '😀'.repeat(60), 'x' + '\u0301'.repeat(150),
  '[CLS] [SEP] [MASK] [PAD] [UNK] x[MASK]y [mask] [[MASK]] [MAS K]', 'The [MASK] sat on the mat.',
  'e-mail: someone@example.com, URL https://example.org/a_b?c=d&e=f#g', '$1,234.56 (approx.) 50% off! #hashtag @user ~tilde` ^caret |pipe',
  '“Curly quotes” ‘single’ – en — em … ellipsis «guillemets» ¿Qué? ¡Hola!', '١٢٣ مرحبا بالعالم שלום עולם', 'Привет, мир! Ёлка ЁЖ',
  'ভাষা हिन्दी ਪੰਜਾਬੀ தமிழ் ไทย ລາວ ᠮᠣᠩᠭᠣᠯ', 'Z̤̺̦ͭ͋a̸̛l̴g̷o̶ text', '\u0890\u0891 \u08e2 \u{110cd} \u{13430}\u{13438}',
  '\u{1e5ff}\u{16d6d} \u2e4f\u2e52 \u{11f43}', '', ' ', '\n\n\t', '\u0000', '\ufffd', '##', '## ##a', 'a##b',
  '\u{e000}\u{f0000}\u{10fffd} private use', 'ǰ ΐ ΰ ẖ ẗ ẘ ẙ ẚ ﬀ ﬃ ﬅ ﬆ ﬓ', '\u0130\u0307 \u1e9e ß', 'A\u030a \u212b \u2126 \u00c5',
];

/** mulberry32: a small seeded PRNG, enough for reproducible test inputs. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const POOLS: string[] = [
  'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', '0123456789', '   \t\n', '.,;:!?\'"()[]{}-_/\\@#$%^&*+=<>|~`',
  'éèêëàâäôöûüçñåøæœßÉÈÀÇÑÅØÆŒ', '\u0300\u0301\u0302\u0303\u0308\u0327\u0338\u1ac1\u20dd', '東京日本語中文漢字豈丽かなカナ한국',
  '😀👍🏽❤️🇫🇷🥰', '\u0000\u0001\u001b\u007f\u0085\u00ad\u200b\u200d\u2028\ufeff\ufffd', '\u00a0\u2009\u3000',
  'ΣσςΑΩабвЁЖ', '\ud800\udc00\udbff', '“”‘’–—…«»¿¡', 'İıﬁﬂⅧ①㎏ＡＢ！',
];

/** A random string mixing every pool above; long runs of one pool make long words. */
export function randomText(r: () => number, maxLen = 80): string {
  let s = '';
  const len = Math.floor(r() * maxLen);
  while (s.length < len) {
    const pool = POOLS[Math.floor(r() * POOLS.length)];
    const run = 1 + Math.floor(r() * (r() < 0.1 ? 40 : 6));
    const chars = Array.from(pool);
    for (let i = 0; i < run; i++) s += chars[Math.floor(r() * chars.length)];
  }
  return s;
}

/** Random UTF-16 code units, including unpaired surrogates. */
export function randomUnits(r: () => number, maxLen = 40): string {
  const n = Math.floor(r() * maxLen);
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(r() < 0.7 ? Math.floor(r() * 0x3000) : Math.floor(r() * 0x10000));
  return s;
}
