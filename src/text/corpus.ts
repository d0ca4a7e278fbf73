// Cleaning raw English text into pre-training documents (arrays of sentences), and the line format the data
// tools exchange: one sentence per line, a blank line between documents (BERT/ELECTRA's input format).
// Pure string functions (browser-safe); src/text/node/corpus.ts reads the bundled npm corpora with them.

/** A document is a list of sentences (each one line, no newlines). */
export type Document = string[];

// Abbreviations after which a period does not end a sentence.
const ABBREV = new Set([
  'mr', 'mrs', 'ms', 'dr', 'st', 'jr', 'sr', 'messrs', 'gen', 'gov', 'sen', 'rep', 'col', 'capt', 'lt', 'maj', 'sgt',
  'rev', 'hon', 'prof', 'no', 'nos', 'vs', 'etc', 'viz', 'cf', 'vol', 'ch', 'fig', 'inc', 'co', 'corp', 'ltd', 'jan',
  'feb', 'mar', 'apr', 'jun', 'jul', 'aug', 'sep', 'sept', 'oct', 'nov', 'dec', 'u.s', 'u.s.a', 'a.m', 'p.m', 'e.g', 'i.e',
]);

/**
 * Splits a paragraph into sentences: after . ! or ? (and any closing quotes or brackets) followed by space and
 * an uppercase letter, digit or opening quote, unless the word before the period is a known abbreviation or a
 * single initial.
 */
export function splitSentences(paragraph: string): string[] {
  const text = paragraph.replace(/\s+/g, ' ').trim();
  if (!text) return [];
  const out: string[] = [];
  const re = /[.!?]+["'”’)\]]*\s+(?=["'“‘(\[]?[A-Z0-9])/g;
  let start = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const end = m.index + m[0].trimEnd().length;
    if (text[m.index] === '.') {
      const word = /([A-Za-z.]+)$/.exec(text.slice(start, m.index))?.[1] ?? '';
      if (ABBREV.has(word.toLowerCase()) || /^[A-Z]$/.test(word)) continue;
    }
    out.push(text.slice(start, end));
    start = m.index + m[0].length;
  }
  if (start < text.length) out.push(text.slice(start));
  return out;
}

/** A State of the Union speech: stage directions such as [Laughter] removed; one document. */
export function cleanSotu(text: string): Document {
  return splitSentences(text.replace(/\s*\[[^\]\n]{1,40}\]/g, ''));
}

/** Moby-Dick (the stdlib data.txt): one document per chapter, headings and footnote marks dropped. */
export function cleanMobyDick(text: string): Document[] {
  const docs: Document[] = [];
  for (const chapter of text.replace(/\r\n/g, '\n').split(/^CHAPTER \d+\..*$/m)) {
    const sentences = chapter.split(/\n\s*\n/).flatMap((p) => splitSentences(p.replace(/\*/g, '')));
    if (sentences.length > 0) docs.push(sentences);
  }
  return docs;
}

/**
 * One Brown corpus sample ("word/tag" tokens, one sentence per line): tags stripped, `` and '' turned into
 * quotes, and the tokens detokenized (no space before punctuation or contractions, none after opening marks).
 */
export function cleanBrown(text: string): Document {
  const sentences: string[] = [];
  for (const line of text.split('\n')) {
    const toks = line.trim().split(/\s+/).filter(Boolean).map((t) => {
      const w = t.slice(0, t.lastIndexOf('/') > 0 ? t.lastIndexOf('/') : t.length);
      return w === '``' ? '“' : w === "''" ? '”' : w;
    });
    if (toks.length === 0) continue;
    let s = '';
    let glueNext = true;
    for (const w of toks) {
      if (w === '.' && s.endsWith('.')) continue; // "Jr." followed by the sentence's own period
      const attach = /^([.,;:!?)\]%”]|'s|'t|n't|'re|'ll|'ve|'d|'m)$/i.test(w);
      s += (glueNext || attach ? '' : ' ') + w;
      glueNext = /^[(\[$“]$/.test(w);
    }
    sentences.push(s);
  }
  return sentences;
}

/** Documents to the line format: one sentence per line, a blank line after each document. */
export function documentsToText(docs: Iterable<Document>): string {
  let out = '';
  for (const d of docs) out += d.map((s) => s.replace(/[\r\n]+/g, ' ')).join('\n') + '\n\n';
  return out;
}

/** The line format back to documents (blank lines end documents; surrounding whitespace is trimmed). */
export function textToDocuments(text: string): Document[] {
  const docs: Document[] = [];
  let cur: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') { if (cur.length) docs.push(cur); cur = []; } else cur.push(line);
  }
  if (cur.length) docs.push(cur);
  return docs;
}
