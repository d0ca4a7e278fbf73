// Node-only file helpers for the text pipeline: strict UTF-8 text reading (clear errors for missing, empty,
// binary or invalid files), tokenizer loading from vocab.txt / tokenizer.json / a model directory, and atomic
// writes (temp file in the same directory, fsync, rename), so a failed write never leaves a partial file, and
// the temp files a killed writer leaves are removed when the directory is next written.

import { closeSync, existsSync, fsyncSync, openSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join, basename, resolve } from 'node:path';
import { type TokenizerOptions, type WordPieceTokenizer, tokenizerFromFiles } from '../wordpiece.js';
import { TextFileError, decodeUtf8 } from '../utf8.js';

// Strict decoding moved to ../utf8.ts (browser-safe: the browser loaders use it too); re-exported for callers here.
export { TextFileError, decodeUtf8, firstInvalidUtf8 } from '../utf8.js';

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
  const read = (where: string) => ({ text: readTextFile(where), where });
  return tokenizerFromFiles({
    tokenizerJson: file.endsWith('.json') ? read(file) : null,
    vocabTxt: file.endsWith('.json') ? null : read(file),
    tokenizerConfig: existsSync(cfgPath) ? read(cfgPath) : null,
  }, overrides);
}
