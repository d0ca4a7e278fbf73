// Raw RFC 822/MIME e-mail → plain text for classification, browser-safe (TextDecoder only, no Buffer).
// cleanEmail(bytes) returns "Subject\n\nbody": every header except Subject is dropped (routing headers and
// spam-filter markers like X-Spam-Status would leak the label), MIME multipart is walked (text/plain preferred in
// multipart/alternative, attachments that are not text skipped), base64 and quoted-printable bodies are decoded,
// each part's declared charset is honoured (undeclared or invalid UTF-8 falls back to windows-1252), RFC 2047
// encoded words in the Subject are decoded, HTML becomes text, and whitespace is normalised.

/** Bytes as a "binary string" (one char per byte) so MIME structure can be parsed before charsets are known. */
function binaryString(bytes: Uint8Array): string {
  // fromCharCode.apply on typed-array chunks: far faster than spreading, and the chunk stays under arg limits
  const parts: string[] = [];
  for (let i = 0; i < bytes.length; i += 0x2000) parts.push(String.fromCharCode.apply(null, bytes.subarray(i, i + 0x2000) as unknown as number[]));
  return parts.join('');
}

function stringBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

const B64 = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.charCodeAt(i)] = i;
B64['-'.charCodeAt(0)] = 62; // base64url, seen in the wild
B64['_'.charCodeAt(0)] = 63;

/** Base64 → bytes; characters outside the alphabet (line breaks, stray junk) are skipped, as mail readers do. */
export function decodeBase64(s: string): Uint8Array {
  const out = new Uint8Array(Math.floor((s.length * 3) / 4) + 3);
  let acc = 0, bits = 0, n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 61) break; // '=' padding ends the data
    const v = c < 128 ? B64[c] : -1;
    if (v < 0) continue;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) { bits -= 8; out[n++] = (acc >> bits) & 0xff; }
  }
  return out.subarray(0, n);
}

/** Quoted-printable (RFC 2045 §6.7) of a binary string → bytes; soft line breaks removed, bad escapes kept. */
export function decodeQuotedPrintable(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 61 /* = */) {
      if (s[i + 1] === '\n') { i += 1; continue; }
      if (s[i + 1] === '\r' && s[i + 2] === '\n') { i += 2; continue; }
      const h = s.slice(i + 1, i + 3);
      if (/^[0-9A-Fa-f]{2}$/.test(h)) { out[n++] = parseInt(h, 16); i += 2; continue; }
    }
    out[n++] = c & 0xff;
  }
  return out.subarray(0, n);
}

const decoders = new Map<string, TextDecoder | null>();
function decoder(label: string): TextDecoder | null {
  let d = decoders.get(label);
  if (d === undefined) {
    try { d = new TextDecoder(label); } catch { d = null; }
    decoders.set(label, d);
  }
  return d;
}
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

// windows-1252 by hand: Node's TextDecoder (v20) decodes the 'windows-1252' label as ISO-8859-1, turning curly
// quotes, dashes and € (bytes 0x80–0x9f) into invisible C1 controls; browsers do it right. One table, same everywhere.
const CP1252_HIGH = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ';
export function decodeWindows1252(bytes: Uint8Array): string {
  const parts: string[] = [];
  let chunk = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    chunk += b >= 0x80 && b < 0xa0 ? CP1252_HIGH[b - 0x80] : String.fromCharCode(b);
    if (chunk.length >= 4096) { parts.push(chunk); chunk = ''; }
  }
  parts.push(chunk);
  return parts.join('');
}

/** Bytes in `charset` → string. Unknown or missing charsets and invalid UTF-8 fall back to windows-1252
 *  (a superset of latin-1 and ASCII that never fails), the usual mail-reader behaviour. */
export function decodeCharset(bytes: Uint8Array, charset?: string): string {
  const label = (charset ?? '').trim().toLowerCase().replace(/^["']|["']$/g, '');
  const d = label ? decoder(label) : null;
  if (d && d.encoding === 'windows-1252') return decodeWindows1252(bytes); // also us-ascii and iso-8859-1, as in HTML
  if (d && d.encoding !== 'utf-8') return d.decode(bytes);
  try { return strictUtf8.decode(bytes); } catch { return decodeWindows1252(bytes); }
}

/** RFC 2047 encoded words (=?charset?B|Q?text?=) in a header value; whitespace between adjacent words dropped. */
export function decodeMimeWords(value: string): string {
  return value
    .replace(/(=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)\s+(?==\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)/g, '$1')
    .replace(/=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g, (_m, cs: string, enc: string, text: string) => {
      const bytes = enc.toUpperCase() === 'B' ? decodeBase64(text) : decodeQuotedPrintable(text.replace(/_/g, ' '));
      return decodeCharset(bytes, cs.replace(/\*.*$/, '')); // RFC 2231 language suffix: "utf-8*en"
    });
}

export interface MimeHeaders { [lowerName: string]: string }

/** Header block (binary string, LF line ends) → lower-cased names to unfolded values; the first occurrence wins.
 *  The mbox "From " separator line and other non-header lines are ignored. */
export function parseHeaders(block: string): MimeHeaders {
  const out: MimeHeaders = {};
  let name = '';
  for (const line of block.split('\n')) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && name) {
      out[name] += ' ' + line.trim();
      continue;
    }
    const m = /^([!-9;-~]+):[ \t]*(.*)$/.exec(line);
    if (!m) { name = ''; continue; }
    const key = m[1].toLowerCase();
    if (key in out) { name = ''; continue; }
    name = key;
    out[key] = m[2].trim();
  }
  return out;
}

/** Content-Type value → lower-cased "type/subtype" and its parameters (quoted values unquoted). */
export function parseContentType(value: string | undefined): { type: string; params: { [k: string]: string } } {
  const params: { [k: string]: string } = {};
  if (!value) return { type: 'text/plain', params };
  const semi = value.indexOf(';');
  const type = (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase() || 'text/plain';
  const re = /;\s*([^=;\s]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^;\s]*)/g;
  for (let m = re.exec(value); m; m = re.exec(value)) params[m[1].toLowerCase()] = m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : m[2];
  return { type: type.includes('/') ? type : 'text/plain', params };
}

const ENTITIES: { [k: string]: string } = {
  nbsp: ' ', amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", copy: '©', reg: '®', trade: '™', hellip: '…',
  mdash: '—', ndash: '–', lsquo: '‘', rsquo: '’', ldquo: '“', rdquo: '”', bull: '•', middot: '·', laquo: '«',
  raquo: '»', cent: '¢', pound: '£', euro: '€', yen: '¥', sect: '§', deg: '°', plusmn: '±', times: '×',
  divide: '÷', frac12: '½', frac14: '¼', frac34: '¾', iexcl: '¡', iquest: '¿', shy: '', ensp: ' ', emsp: ' ',
  thinsp: ' ', zwnj: '', zwj: '', eacute: 'é', egrave: 'è', ecirc: 'ê', euml: 'ë', aacute: 'á', agrave: 'à',
  acirc: 'â', auml: 'ä', aring: 'å', atilde: 'ã', ccedil: 'ç', iacute: 'í', igrave: 'ì', icirc: 'î', iuml: 'ï',
  oacute: 'ó', ograve: 'ò', ocirc: 'ô', ouml: 'ö', otilde: 'õ', oslash: 'ø', uacute: 'ú', ugrave: 'ù',
  ucirc: 'û', uuml: 'ü', ntilde: 'ñ', szlig: 'ß', Eacute: 'É', Agrave: 'À', Auml: 'Ä', Ouml: 'Ö', Uuml: 'Ü',
  Ntilde: 'Ñ', Ccedil: 'Ç',
};

/** Decodes HTML character references: the common named ones, decimal and hex; unknown names stay as written. */
export function decodeEntities(s: string): string {
  return s.replace(/&(#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z][a-zA-Z0-9]{1,31});?/g, (m, e: string) => {
    if (e[0] === '#') {
      const cp = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      if (cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return '';
      // numeric references in the 0x80–0x9f range mean windows-1252 in practice (HTML5 does the same)
      if (cp >= 0x80 && cp <= 0x9f) return decodeWindows1252(new Uint8Array([cp]));
      return String.fromCodePoint(cp);
    }
    return ENTITIES[e] ?? m;
  });
}

/** HTML → readable text: script/style/head/comments removed, block elements become line breaks, other tags
 *  dropped, entities decoded. A regex pass, not a DOM: enough for mail bodies, and identical in every runtime. */
export function htmlToText(html: string): string {
  return decodeEntities(html
    .replace(/<!--[\s\S]*?(-->|$)/g, ' ')
    .replace(/<head\b[^>]*>[\s\S]*?(<\/head\s*>|(?=<body\b)|$)/gi, ' ') // spam often never closes <head>
    .replace(/<(script|style|title|xml)\b[^>]*>[\s\S]*?(<\/\1\s*>|$)/gi, ' ')
    .replace(/<(br|p|div|tr|li|h[1-6]|table|hr|blockquote|center|ul|ol|dd|dt|pre)\b[^>]*>/gi, '\n')
    .replace(/<\/(p|div|tr|li|h[1-6]|table|blockquote|center|ul|ol|pre)\s*>/gi, '\n')
    .replace(/<(td|th)\b[^>]*>/gi, ' ')
    .replace(/<\/?[a-zA-Z!?][^>]*>/g, ''));
}

/** Whitespace normalisation shared by every part: no CR/control characters, runs of blanks collapsed, lines
 *  trimmed, at most one empty line in a row. */
export function normaliseWhitespace(s: string): string {
  return s
    .replace(/\r\n?/g, '\n')
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u00ad\u200b\ufeff\ufffd]/g, '')
    .replace(/[ \t\u00a0\u2000-\u200a\u3000]+/g, ' ')
    .split('\n').map((l) => l.trim()).join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

const LOOKS_HTML = /<(html|body)[\s>]|<!doctype html/i;

/** Splits an entity into header block and body at the first empty line. Broken spam sometimes folds an encoded
 *  Subject across empty lines; an empty line followed by an indented encoded word continues the header. */
function splitEntity(raw: string): { head: string; body: string } {
  const re = /\n\n(?![ \t]+=\?)/g;
  const m = re.exec(raw);
  if (!m) return { head: raw, body: '' };
  return { head: raw.slice(0, m.index).replace(/\n\n(?=[ \t])/g, '\n'), body: raw.slice(m.index + 2) };
}

/** Inline non-text residue that survives MIME decoding: PGP signatures and key blocks, uuencoded files, and
 *  undeclared base64 attachments (three or more consecutive lines of 40+ base64 characters). */
export function stripEncodedBlocks(s: string): string {
  return s
    .replace(/\r\n?/g, '\n')
    .replace(/-----BEGIN PGP (SIGNATURE|PUBLIC KEY BLOCK)-----[\s\S]*?(-----END PGP \1-----|$)/g, '')
    .replace(/-----BEGIN PGP SIGNED MESSAGE-----\n(Hash: [^\n]*\n)?/g, '')
    .replace(/^begin [0-7]{3,4} [^\n]*\n[\s\S]*?(^end$|(?![\s\S]))/gm, '')
    .replace(/(^[ \t]*[A-Za-z0-9+/=]{40,}[ \t]*(\n|$)){3,}/gm, '')
    .replace(/(^M[!-`]{59,61}[ \t]*(\n|$)){3,}/gm, '');
}

/** One MIME entity (binary string) → its readable text; `depth` bounds pathological nesting. */
function entityText(raw: string, depth: number): string {
  const { head, body } = splitEntity(raw);
  return bodyText(parseHeaders(head), body, depth);
}

function bodyText(h: MimeHeaders, body: string, depth: number): string {
  let { type, params } = parseContentType(h['content-type']);
  if (!h['content-type']) {
    // multipart bodies sent without a Content-Type header: a delimiter line directly followed by a part header
    const m = /^--([^\n]{1,70})\nContent-Type:/im.exec(body);
    if (m) { type = 'multipart/mixed'; params = { boundary: m[1].trimEnd() }; }
  }
  if (type.startsWith('multipart/') && params.boundary && depth < 8) {
    const parts = splitMultipart(body, params.boundary);
    if (parts.length > 0) {
      if (type === 'multipart/alternative') {
        const texts = parts.map((p) => ({ p, t: partType(p) }));
        const pick = texts.find((x) => x.t === 'text/plain') ?? texts.find((x) => x.t === 'text/html') ?? texts[0];
        const text = entityText(pick.p, depth + 1);
        if (text.trim() || pick === texts[texts.length - 1]) return text;
        return parts.map((p) => entityText(p, depth + 1)).find((t) => t.trim()) ?? '';
      }
      return parts.map((p) => entityText(p, depth + 1)).filter((t) => t.trim()).join('\n\n');
    }
  }
  if (type === 'message/rfc822' && depth < 8) return entityText(body, depth + 1);
  const disposition = (h['content-disposition'] ?? '').toLowerCase();
  if (!type.startsWith('text/') && !type.startsWith('multipart/')) return ''; // images, zips, executables
  if (disposition.startsWith('attachment') && type !== 'text/plain' && type !== 'text/html') return '';
  const cte = (h['content-transfer-encoding'] ?? '').trim().toLowerCase();
  const bytes = cte === 'base64' ? decodeBase64(body) : cte === 'quoted-printable' ? decodeQuotedPrintable(body) : stringBytes(body);
  // HTML without a declared charset often names it in a <meta> tag; it is ASCII, so it can be read from the bytes
  const meta = !params.charset && type === 'text/html' ? /<meta[^>]+charset=["']?([\w.:-]+)/i.exec(binaryString(bytes.subarray(0, 4096))) : null;
  const text = decodeCharset(bytes, params.charset ?? meta?.[1]);
  return type === 'text/html' || LOOKS_HTML.test(text) ? htmlToText(text) : text;
}

function partType(part: string): string {
  return parseContentType(parseHeaders(splitEntity(part).head)['content-type']).type;
}

/** Body of a multipart entity → its parts (preamble and epilogue dropped). A missing closing delimiter, common
 *  in truncated spam, keeps everything up to the end. */
function splitMultipart(body: string, boundary: string): string[] {
  const delim = '--' + boundary;
  const lines = body.split('\n');
  const parts: string[] = [];
  let cur: string[] | null = null;
  for (const line of lines) {
    const l = line.trimEnd();
    if (l === delim || l === delim + '--') {
      if (cur) parts.push(cur.join('\n'));
      cur = l === delim ? [] : null;
      if (!cur) break;
      continue;
    }
    if (cur) cur.push(line);
  }
  if (cur && cur.length) parts.push(cur.join('\n'));
  return parts;
}

export interface ParsedEmail { subject: string; body: string; headers: MimeHeaders }

/** Parses a raw message (bytes as stored, or a string already decoded) into subject, cleaned body and headers. */
export function parseEmail(raw: Uint8Array | string): ParsedEmail {
  const bin = (typeof raw === 'string' ? binaryString(new TextEncoder().encode(raw)) : binaryString(raw)).replace(/\r\n?/g, '\n');
  const { head, body } = splitEntity(bin);
  const headers = parseHeaders(head);
  const subject = normaliseWhitespace(decodeMimeWords(decodeCharset(stringBytes(headers.subject ?? ''))).replace(/\n/g, ' '));
  return { subject, body: normaliseWhitespace(stripEncodedBlocks(bodyText(headers, body, 0))), headers };
}

/** "Subject\n\nbody" of a raw message: the text a classifier sees (no other header survives). */
export function cleanEmail(raw: Uint8Array | string): string {
  const { subject, body } = parseEmail(raw);
  return subject && body ? `${subject}\n\n${body}` : subject || body;
}
