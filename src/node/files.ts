// Node-only checkpoint files. writeFileAtomic: temp file in the same directory → fsync → rename → fsync the
// directory, so a reader (or a crash, even kill -9) sees the old file or the new one, never a torn one; a killed
// writer's temp file is removed on the next write there.
// loadHFDirectory / saveHFDirectory: a Hugging Face ELECTRA directory (config.json, model.safetensors or
// pytorch_model.bin, vocab.txt) to and from plain host tensors in HF names; errors name the file.

import { existsSync, readFileSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  ARCHITECTURE, TIED, checkElectraTensors, checkFiniteTensors, checkTensorShapes, detectElectraKind, electraConfigToJSON, expectedElectraShapes,
  isBareElectraModel, normalizeHFStateDict, normalizedName, parseElectraConfig, type ElectraKind, type HFElectraConfig,
} from '../electra/formats/hf.js';
import { CheckpointError, parseSafetensors, serializeSafetensors, toWritable, type HostTensor, type TensorInfo } from '../electra/formats/safetensors.js';
import { loadTorchStateDict } from '../electra/formats/torchbin.js';
import { atomicTempPath, removeStaleTemps } from '../text/node/files.js';
import { HEAD_ARCHITECTURE, type HeadKind, headShapes } from '../electra/tasks/heads.js';

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

export interface HFDirectory {
  config: HFElectraConfig;
  /** From the tensor names, else from config.architectures; null for a bare encoder or another head. */
  kind: ElectraKind | null;
  /** HF names after normalizeHFStateDict (bare-model prefix, legacy names fixed, position_ids dropped, tied head aliased). */
  tensors: Map<string, HostTensor>;
  weightsPath: string;
  format: 'safetensors' | 'torch-zip' | 'torch-legacy';
  /** Null when the directory has no vocab.txt. */
  vocabPath: string | null;
}

/**
 * What a caller builds from the directory. A kind: that class's tensors are read and must all be there (a file of
 * the other kind is refused). 'encoder': the electra.* tensors, all required. 'any': every tensor (fine-tuned heads:
 * the caller checks its head). Default: the kind the file holds, else 'any'.
 */
export type HFWant = ElectraKind | 'encoder' | 'any';

/** Every tensor name an ELECTRA class of this config may have → shape (-1: any size, the label count of a head). */
function knownTensorShapes(c: HFElectraConfig): Map<string, readonly number[]> {
  const m = new Map<string, readonly number[]>([...expectedElectraShapes(c, 'discriminator'), ...expectedElectraShapes(c, 'generator')]);
  for (const kind of Object.keys(HEAD_ARCHITECTURE) as HeadKind[]) for (const [n, s] of headShapes(kind, c.hiddenSize, -1)) m.set(n, s);
  return m;
}

const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16', 'F64']);

/**
 * Reads an HF ELECTRA directory. config.json is checked first; then, before any tensor is allocated, every tensor
 * the weights file declares must be one an ELECTRA class of that config has, with its shape and a float dtype
 * (one rule for every command: an unknown tensor is an error, a known head the caller does not build is skipped
 * unread). Loaded weights must be finite. Errors name the file.
 */
export async function loadHFDirectory(dir: string, opts: { want?: HFWant } = {}): Promise<HFDirectory> {
  const configPath = join(dir, 'config.json');
  if (!existsSync(configPath)) throw new CheckpointError(dir, 'no config.json in the directory');
  const config = parseElectraConfig(await readFile(configPath, 'utf8'), configPath);
  const st = join(dir, 'model.safetensors');
  const bin = join(dir, 'pytorch_model.bin');
  let weightsPath: string;
  if (existsSync(st)) weightsPath = st;
  else if (existsSync(bin)) weightsPath = bin;
  else {
    const sharded = ['model.safetensors.index.json', 'pytorch_model.bin.index.json'].find((f) => existsSync(join(dir, f)));
    throw new CheckpointError(dir, sharded
      ? `sharded checkpoints (${sharded}) are not supported`
      : 'neither model.safetensors nor pytorch_model.bin in the directory');
  }
  const fromArch = Object.entries(ARCHITECTURE).find(([, a]) => config.architectures.includes(a))?.[0] as ElectraKind | undefined;
  // Set by `inspect` (run inside the parse, before any tensor is allocated); `as` keeps TS from narrowing them to the initial values.
  let kind = null as ElectraKind | null;
  let want = 'any' as HFWant;
  const keep = new Set<string>();
  const inspect = (infos: readonly TensorInfo[]) => {
    const bare = isBareElectraModel(infos.map((i) => i.name));
    const named = infos.map((i) => ({ ...i, ours: normalizedName(i.name, bare) }));
    kind = detectElectraKind(named.flatMap((i) => (i.ours ? [i.ours] : []))) ?? fromArch ?? null;
    want = opts.want ?? kind ?? 'any';
    if ((want === 'discriminator' || want === 'generator') && kind && kind !== want) {
      throw new CheckpointError(weightsPath, `holds a ${kind} checkpoint, not a ${want}`);
    }
    const known = knownTensorShapes(config);
    const wanted = want === 'discriminator' || want === 'generator' ? expectedElectraShapes(config, want) : null;
    const problems: string[] = [];
    for (const i of named) {
      if (i.ours === null) continue;
      const shape = known.get(i.ours);
      if (!shape) problems.push(`unexpected '${i.name}' (no ELECTRA class has this tensor)`);
      else if (shape.length !== i.shape.length || shape.some((d, k) => d !== -1 && d !== i.shape[k])) {
        problems.push(`'${i.name}' has shape [${i.shape}], config.json gives [${shape.map((d) => (d === -1 ? '*' : d))}]`);
      } else if (!FLOAT_DTYPES.has(i.dtype)) problems.push(`'${i.name}' is ${i.dtype}, expected a float tensor`);
      else if (wanted ? wanted.has(i.ours) : want === 'encoder' ? i.ours.startsWith('electra.') : true) keep.add(i.name);
    }
    if (problems.length) {
      const more = problems.length > 10 ? ` (and ${problems.length - 10} more)` : '';
      throw new CheckpointError(weightsPath, `does not fit ${configPath}: ${problems.slice(0, 10).join('; ')}${more}`);
    }
  };
  const bytes = new Uint8Array(await readFile(weightsPath));
  const parseOpts = { inspect, keep: (name: string) => keep.has(name) };
  let raw: Map<string, HostTensor>;
  let format: HFDirectory['format'];
  if (weightsPath === st) {
    raw = parseSafetensors(bytes, st, parseOpts).tensors;
    format = 'safetensors';
  } else {
    const r = loadTorchStateDict(bytes, bin, parseOpts);
    raw = r.tensors;
    format = r.format === 'zip' ? 'torch-zip' : 'torch-legacy';
  }
  let tensors = normalizeHFStateDict(raw, kind, weightsPath);
  if (want === 'discriminator' || want === 'generator') checkElectraTensors(tensors, config, want, weightsPath);
  if (want === 'encoder') {
    tensors = new Map([...tensors].filter(([n]) => n.startsWith('electra.'))); // drops the aliased tied head
    const enc = new Map([...expectedElectraShapes(config, 'discriminator')].filter(([n]) => n.startsWith('electra.')));
    checkTensorShapes(tensors, enc, weightsPath, 'the encoder of its config');
  }
  checkFiniteTensors(tensors, weightsPath);
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
