// Node-only pieces of sentence embeddings: the encoder (ElectraModel, the `electra.*` tensors) of any ELECTRA
// directory — discriminator, generator, or a fine-tuned head, ours or Hugging Face's — and index files, binary
// (.bin, header + float32 rows + JSON metadata; see src/electra/tasks/embed.ts) or JSONL, told apart by the magic bytes.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type EmbeddingIndex, INDEX_MAGIC, decodeIndex, encodeIndex, indexFromJSONL, indexToJSONL } from '../electra/tasks/embed.js';
import { ElectraEmbeddings, ElectraModel } from '../electra/model/model.js';
import { assignStateDict } from '../electra/formats/state.js';
import { HostRng } from '../nn/init.js';
import type { Device } from '../device/device.js';
import { fromHFConfig } from './electra-io.js';
import { loadHFDirectory, writeFileAtomic } from './files.js';

/** The ElectraModel inside an ELECTRA model directory; head weights are skipped. */
export async function loadEncoder(dir: string, device: Device): Promise<ElectraModel> {
  const hf = await loadHFDirectory(dir, { want: 'encoder' });
  const config = fromHFConfig(hf.config, join(dir, 'config.json'));
  const ic = { rng: new HostRng(0), device, std: config.initializerRange };
  const electra = new ElectraModel(config, new ElectraEmbeddings(config, ic), ic);
  assignStateDict({ electra }, hf.tensors, hf.weightsPath);
  return electra;
}

export type IndexFormat = 'bin' | 'jsonl';

/** Format from the file name: .bin → binary, anything else JSONL. */
export function indexFormatOf(path: string): IndexFormat { return path.endsWith('.bin') ? 'bin' : 'jsonl'; }

export async function writeIndexFile(path: string, ix: EmbeddingIndex, format: IndexFormat = indexFormatOf(path)): Promise<void> {
  await writeFileAtomic(path, format === 'bin' ? encodeIndex(ix) : indexToJSONL(ix));
}

export function readIndexFile(path: string): EmbeddingIndex {
  let bytes: Uint8Array;
  try { bytes = readFileSync(path); } catch (e) { throw new Error(`--index ${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`); }
  if (String.fromCharCode(...bytes.subarray(0, 8)) === INDEX_MAGIC) return decodeIndex(bytes, path);
  return indexFromJSONL(new TextDecoder().decode(bytes), path);
}

/** JSONL on stdout, in chunks that respect back-pressure (an index of many texts is large). */
export async function indexToStdout(ix: EmbeddingIndex): Promise<void> {
  const rowsPerChunk = 256;
  for (let at = 0; at < ix.rows; at += rowsPerChunk) {
    const end = Math.min(ix.rows, at + rowsPerChunk);
    const part = indexToJSONL({ ...ix, rows: end - at, texts: ix.texts.slice(at, end), vectors: ix.vectors.subarray(at * ix.dim, end * ix.dim) }, at);
    if (!process.stdout.write(part)) await new Promise<void>((r) => process.stdout.once('drain', () => r()));
  }
}
