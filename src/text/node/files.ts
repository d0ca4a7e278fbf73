// Node-only file helpers for the text pipeline: strict UTF-8 text reading (clear errors for missing, empty,
// binary or invalid files), tokenizer loading from vocab.txt / tokenizer.json / a model directory, and atomic
// writes (temp file in the same directory, fsync, rename), so a failed write never leaves a partial file, and
// the temp files a killed writer leaves are removed when the directory is next written.

import { closeSync, existsSync, fsyncSync, openSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join, basename, resolve } from 'node:path';
import { parseTokenizerConfig, parseTokenizerJson, parseVocabTxt } from '../vocab.js';
import { WordPieceTokenizer, type TokenizerOptions } from '../wordpiece.js';

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

/** Reads a UTF-8 text file, refusing missing, empty, binary and invalid files with a clear error. */
export function readTextFile(path: string, opts: { allowEmpty?: boolean } = {}): string {
  let bytes: Uint8Array;
  try { bytes = readFileSync(path); } catch (e) { throw new TextFileError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`); }
  return decodeUtf8(bytes, path, opts);
}

/**
 * The temp file of an atomic write of `path`: `.NAME.PID.RANDOM.tmp` beside it. The writer's pid lets a later
 * writer tell a killed writer's leftover from a live one's (removeStaleTemps).
 */
export function atomicTempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`);
}

const TEMP_NAME = /^\..+\.(\d+)\.[0-9a-z]+\.tmp$/;
const cleanedDirs = new Set<string>();

/**
 * Removes temp files of atomic writes (atomicTempPath's names) whose writer is gone: a kill -9 between the write
 * and the rename leaves one, as big as the file it was to become. Runs once per directory per process, on its
 * first atomic write there. A temp of a live process (this one included) is kept: pids are local, so this
 * assumes no writer on another machine shares the directory.
 */
export function removeStaleTemps(dir: string): void {
  const key = resolve(dir);
  if (cleanedDirs.has(key)) return;
  cleanedDirs.add(key);
  let names: string[];
  try { names = readdirSync(dir); } catch { return; }
  for (const name of names) {
    const m = TEMP_NAME.exec(name);
    if (!m || processAlive(Number(m[1]))) continue;
    try { unlinkSync(join(dir, name)); } catch { /* removed by another writer meanwhile */ }
  }
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

/** Writes `data` to `path` atomically: a temp file beside it is fsynced and renamed over the target. */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  removeStaleTemps(dirname(path));
  const tmp = atomicTempPath(path);
  let fd = -1;
  try {
    fd = openSync(tmp, 'wx');
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    for (let off = 0; off < buf.length;) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
    closeSync(fd); fd = -1;
    renameSync(tmp, path);
  } catch (e) {
    if (fd >= 0) try { closeSync(fd); } catch { /* already failing */ }
    try { unlinkSync(tmp); } catch { /* never created */ }
    throw new TextFileError(`${path}: write failed (${(e as Error).message}); the previous file, if any, is unchanged`);
  }
}

/**
 * A tokenizer from a vocab.txt, a tokenizer.json, or a directory holding either (tokenizer.json preferred);
 * tokenizer_config.json next to it supplies do_lower_case and special tokens when present.
 */
export function loadTokenizer(path: string, overrides: Partial<TokenizerOptions> = {}): WordPieceTokenizer {
  let file = path;
  if (existsSync(path) && statSync(path).isDirectory()) {
    file = ['tokenizer.json', 'vocab.txt'].map((f) => join(path, f)).find((f) => existsSync(f)) ?? '';
    if (!file) throw new TextFileError(`${path}: directory has neither tokenizer.json nor vocab.txt`);
  }
  const cfgPath = join(dirname(file), 'tokenizer_config.json');
  const cfg = existsSync(cfgPath) ? parseTokenizerConfig(readTextFile(cfgPath), cfgPath) : {};
  if (file.endsWith('.json')) {
    const { tokens, options } = parseTokenizerJson(readTextFile(file), file);
    return new WordPieceTokenizer(tokens, { ...options, ...cfg, ...overrides });
  }
  const unk = overrides.unkToken ?? cfg.unkToken ?? '[UNK]';
  return new WordPieceTokenizer(parseVocabTxt(readTextFile(file), file, unk), { ...cfg, ...overrides });
}
