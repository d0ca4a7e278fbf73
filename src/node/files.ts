// Node-only checkpoint files. writeFileAtomic: temp file in the same directory → fsync → rename → fsync the
// directory, so a reader (or a crash, even kill -9) sees the old file or the new one, never a torn one; a killed
// writer's temp file is removed on the next write there.
// directorySource: a directory as the ModelSource the core loaders read (electra/tasks/load.ts), so Node and
// browsers share every check and message. loadHFDirectory / saveHFDirectory: a Hugging Face ELECTRA directory
// (config.json, model.safetensors or pytorch_model.bin, vocab.txt) to and from plain host tensors in HF names.

import { existsSync, readFileSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CheckpointError } from '../electra/formats/safetensors.js';
import type { ModelSource } from '../electra/formats/source.js';
import { type HFWant, type ModelFiles, readModelFiles } from '../electra/tasks/load.js';
import { type DirectoryFiles, type HFDirectoryContents, hfDirectoryFiles } from '../electra/tasks/save.js';
import { atomicTempPath, removeStaleTemps } from '../text/node/files.js';

export type { HFWant } from '../electra/tasks/load.js';
export type { HFDirectoryContents } from '../electra/tasks/save.js';

export interface AtomicWriteOptions {
  /** Test hook: runs after the temp file is written and fsynced, just before the rename. */
  beforeRename?: (tmpPath: string) => void | Promise<void>;
}

/**
 * Replaces `path` with `data` atomically (POSIX rename semantics). The temp file is removed on failure; temp files
 * a killed writer left in the directory are removed first (removeStaleTemps).
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string, opts: AtomicWriteOptions = {}): Promise<void> {
  const dir = dirname(path);
  removeStaleTemps(dir);
  const tmp = atomicTempPath(path);
  let renamed = false;
  try {
    const fh = await open(tmp, 'wx');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await opts.beforeRename?.(tmp);
    await rename(tmp, path);
    renamed = true;
  } finally {
    if (!renamed) await rm(tmp, { force: true });
  }
  await syncDir(dir);
}

/** Parses a JSON file; a missing or corrupt file is an error naming it (a crash or a hand edit can leave either). */
export function readJsonFile(path: string): unknown {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch (e) { throw new Error(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`); }
  try { return JSON.parse(text); } catch (e) { throw new Error(`${path}: not valid JSON (${(e as Error).message})`); }
}

/** Makes the rename itself durable. Some platforms (Windows) cannot open a directory: then there is nothing to do. */
async function syncDir(dir: string): Promise<void> {
  let fh;
  try { fh = await open(dir, 'r'); } catch { return; }
  try { await fh.sync(); } catch { /* EINVAL/EPERM on file systems without directory fsync */ } finally { await fh.close(); }
}

/** A directory as a ModelSource: the core loaders (electra/tasks/load.ts) read it; errors name `dir/file`. */
export function directorySource(dir: string): ModelSource {
  return {
    label: dir,
    where: (name) => join(dir, name),
    async read(name) {
      const path = join(dir, name);
      try { return new Uint8Array(await readFile(path)); } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return null;
        throw new CheckpointError(path, `cannot read (${code ?? (e as Error).message})`);
      }
    },
  };
}

export interface HFDirectory extends ModelFiles {
  /** Null when the directory has no vocab.txt. */
  vocabPath: string | null;
}

/**
 * Reads an HF ELECTRA directory (readModelFiles on its files): config.json checked first, then every tensor the
 * weights file declares against it before any is allocated; weights must be finite. Errors name the file.
 */
export async function loadHFDirectory(dir: string, opts: { want?: HFWant } = {}): Promise<HFDirectory> {
  const files = await readModelFiles(directorySource(dir), opts);
  const vocab = join(dir, 'vocab.txt');
  return { ...files, vocabPath: existsSync(vocab) ? vocab : null };
}

/** Writes `files` (from electra/tasks/save.ts) into `dir`, each atomically, in their order (config.json last). */
export async function writeDirectoryFiles(dir: string, files: DirectoryFiles): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, data] of files) await writeFileAtomic(join(dir, name), data);
}

/**
 * Writes config.json (architectures set from `kind`), model.safetensors (metadata format=pt, the tied
 * generator_lm_head.weight left out as HF does) and vocab.txt into `dir`, each atomically. Names and shapes
 * are checked against the config first, so a wiring mistake fails before anything is written.
 */
export async function saveHFDirectory(dir: string, c: HFDirectoryContents): Promise<void> {
  await writeDirectoryFiles(dir, hfDirectoryFiles(c, directorySource(dir)));
}
