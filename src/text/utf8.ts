// Strict UTF-8 text decoding with clear errors (browser-safe): an empty file, a binary one (a NUL byte) and
// invalid UTF-8 (the offset of the first bad byte) are refused naming the file. The Node file readers and the
// browser loaders (URLs, dropped files) share it, so a bad text file fails the same way everywhere.

export class TextFileError extends Error {
  override name = 'TextFileError';
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes UTF-8 strictly; `where` names the source in errors. */
export function decodeUtf8(bytes: Uint8Array, where: string, opts: { allowEmpty?: boolean } = {}): string {
  if (bytes.length === 0 && !opts.allowEmpty) throw new TextFileError(`${where}: file is empty`);
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw new TextFileError(`${where}: looks binary (NUL byte at offset ${nul}), expected UTF-8 text`);
  try {
    return utf8.decode(bytes);
  } catch {
    throw new TextFileError(`${where}: invalid UTF-8 at byte ${firstInvalidUtf8(bytes)}`);
  }
}

/** Offset of the first byte that does not start a valid UTF-8 sequence (-1 if all valid). */
export function firstInvalidUtf8(b: Uint8Array): number {
  for (let i = 0; i < b.length;) {
    const c = b[i];
    if (c < 0x80) { i++; continue; }
    const need = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (need < 0 || i + need >= b.length) return i;
    let cp = c & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const d = b[i + k];
      if ((d & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < [0, 0x80, 0x800, 0x10000][need] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return i;
    i += need + 1;
  }
  return -1;
}
