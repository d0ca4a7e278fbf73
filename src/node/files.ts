// Node-only checkpoint files. writeFileAtomic: temp file in the same directory → fsync → rename → fsync the
// directory, so a reader (or a crash, even kill -9) sees the old file or the new one, never a torn one.
// loadHFDirectory / saveHFDirectory: a Hugging Face ELECTRA directory (config.json, model.safetensors or
// pytorch_model.bin, vocab.txt) to and from plain host tensors in HF names; errors name the file.

import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import {
  ARCHITECTURE, TIED, checkElectraTensors, detectElectraKind, electraConfigToJSON, normalizeHFStateDict, parseElectraConfig,
  type ElectraKind, type HFElectraConfig,
} from '../electra/formats/hf.js';
import { CheckpointError, parseSafetensors, serializeSafetensors, toWritable, type HostTensor } from '../electra/formats/safetensors.js';
import { loadTorchStateDict } from '../electra/formats/torchbin.js';

export interface AtomicWriteOptions {
  /** Test hook: runs after the temp file is written and fsynced, just before the rename. */
  beforeRename?: (tmpPath: string) => void | Promise<void>;
}

/** Replaces `path` with `data` atomically (POSIX rename semantics). The temp file is removed on failure. */
export async function writeFileAtomic(path: string, data: Uint8Array | string, opts: AtomicWriteOptions = {}): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
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

/** Makes the rename itself durable. Some platforms (Windows) cannot open a directory: then there is nothing to do. */
async function syncDir(dir: string): Promise<void> {
  let fh;
  try { fh = await open(dir, 'r'); } catch { return; }
  try { await fh.sync(); } catch { /* EINVAL/EPERM on file systems without directory fsync */ } finally { await fh.close(); }
}

export interface HFDirectory {
  config: HFElectraConfig;
  /** From the tensor names, else from config.architectures; null for a bare encoder or another head. */
  kind: ElectraKind | null;
  /** HF names after normalizeHFStateDict (legacy names fixed, position_ids dropped, tied head aliased). */
  tensors: Map<string, HostTensor>;
  weightsPath: string;
  format: 'safetensors' | 'torch-zip' | 'torch-legacy';
  /** Null when the directory has no vocab.txt. */
  vocabPath: string | null;
}

/** Reads an HF ELECTRA directory. With `check` (default true) a known kind's names and shapes must match config.json. */
export async function loadHFDirectory(dir: string, opts: { check?: boolean } = {}): Promise<HFDirectory> {
  const configPath = join(dir, 'config.json');
  if (!existsSync(configPath)) throw new CheckpointError(dir, 'no config.json in the directory');
  const config = parseElectraConfig(await readFile(configPath, 'utf8'), configPath);
  const st = join(dir, 'model.safetensors');
  const bin = join(dir, 'pytorch_model.bin');
  let raw: Map<string, HostTensor>;
  let weightsPath: string;
  let format: HFDirectory['format'];
  if (existsSync(st)) {
    weightsPath = st;
    raw = parseSafetensors(new Uint8Array(await readFile(st)), st).tensors;
    format = 'safetensors';
  } else if (existsSync(bin)) {
    weightsPath = bin;
    const r = loadTorchStateDict(new Uint8Array(await readFile(bin)), bin);
    raw = r.tensors;
    format = r.format === 'zip' ? 'torch-zip' : 'torch-legacy';
  } else {
    const sharded = ['model.safetensors.index.json', 'pytorch_model.bin.index.json'].find((f) => existsSync(join(dir, f)));
    throw new CheckpointError(dir, sharded
      ? `sharded checkpoints (${sharded}) are not supported`
      : 'neither model.safetensors nor pytorch_model.bin in the directory');
  }
  const fromArch = Object.entries(ARCHITECTURE).find(([, a]) => config.architectures.includes(a))?.[0] as ElectraKind | undefined;
  const kind = detectElectraKind(raw.keys()) ?? fromArch ?? null;
  const tensors = normalizeHFStateDict(raw, kind, weightsPath);
  if (kind && (opts.check ?? true)) checkElectraTensors(tensors, config, kind, weightsPath);
  const vocab = join(dir, 'vocab.txt');
  return { config, kind, tensors, weightsPath, format, vocabPath: existsSync(vocab) ? vocab : null };
}

export interface HFDirectoryContents {
  config: HFElectraConfig;
  kind: ElectraKind;
  tensors: Map<string, HostTensor> | Iterable<[string, HostTensor]>;
  /** vocab.txt lines (one token each, id = index), or the file's whole text. */
  vocab: readonly string[] | string;
}

/**
 * Writes config.json (architectures set from `kind`), model.safetensors (metadata format=pt, the tied
 * generator_lm_head.weight left out as HF does) and vocab.txt into `dir`, each atomically. Names and shapes
 * are checked against the config first, so a wiring mistake fails before anything is written.
 */
export async function saveHFDirectory(dir: string, c: HFDirectoryContents): Promise<void> {
  const tensors = new Map(c.tensors);
  const config: HFElectraConfig = { ...c.config, architectures: [ARCHITECTURE[c.kind]] };
  checkElectraTensors(normalizeHFStateDict(tensors, c.kind, dir), config, c.kind, dir);
  const kept = [...tensors].filter(([name]) => !(name in TIED && tensors.has(TIED[name])));
  const weights = serializeSafetensors(kept.map(([n, t]) => [n, toWritable(t)] as const), { format: 'pt' }, join(dir, 'model.safetensors'));
  const vocab = typeof c.vocab === 'string' ? c.vocab : c.vocab.join('\n') + '\n';
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, 'model.safetensors'), weights);
  await writeFileAtomic(join(dir, 'vocab.txt'), vocab);
  await writeFileAtomic(join(dir, 'config.json'), electraConfigToJSON(config));
}
