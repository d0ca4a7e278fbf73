// ELECTRA models ↔ Hugging Face directories (config.json, model.safetensors or pytorch_model.bin,
// vocab.txt). The discriminator directory loads in transformers as ElectraForPreTraining, the
// generator's as ElectraForMaskedLM; directories from the Hub (google/electra-*) load here.
// The loading itself is the browser-safe core's (electra/tasks/load.ts) on a directory source; these add
// the paths Node callers print. Any ModelSource (urlSource, …) is accepted too.

import { join } from 'node:path';
import { existsSync } from 'node:fs';
import type { Device } from '../device/device.js';
import type { ElectraConfig } from '../electra/model/config.js';
import type { ElectraForMaskedLM, ElectraForPreTraining } from '../electra/model/model.js';
import type { ElectraPair } from '../electra/model/pretrain.js';
import type { ModelSource } from '../electra/formats/source.js';
import * as core from '../electra/tasks/load.js';
import { pairFiles } from '../electra/tasks/save.js';
import type { TokenizerOptions, WordPieceTokenizer } from '../text/wordpiece.js';
import { loadTokenizer as loadTokenizerPath } from '../text/node/files.js';
import { directorySource, writeDirectoryFiles } from './files.js';

export { toHFConfig, fromHFConfig } from '../electra/formats/hf.js';

/** Writes `<dir>/discriminator` and `<dir>/generator` (each file atomically). */
export async function exportPair(pair: ElectraPair, vocab: readonly string[], dir: string): Promise<void> {
  const files = await pairFiles(pair, vocab);
  for (const kind of ['discriminator', 'generator']) {
    const mine = new Map([...files].filter(([n]) => n.startsWith(`${kind}/`)).map(([n, d]) => [n.slice(kind.length + 1), d]));
    if (mine.size) await writeDirectoryFiles(join(dir, kind), mine);
  }
}

export interface LoadedModel<M> extends core.LoadedModel<M> { config: ElectraConfig; vocabPath: string | null; dir: string }

/** A directory path, or any ModelSource, as a source plus the `dir` and `vocabPath` Node callers print. */
export function sourceOf(dir: string | ModelSource): { src: ModelSource; dir: string; vocabPath: string | null } {
  if (typeof dir !== 'string') return { src: dir, dir: dir.label, vocabPath: null };
  const vocab = join(dir, 'vocab.txt');
  return { src: directorySource(dir), dir, vocabPath: existsSync(vocab) ? vocab : null };
}

/** Loads a discriminator directory (ours or a Hugging Face one) as ElectraForPreTraining. */
export async function loadDiscriminator(dir: string | ModelSource, device: Device): Promise<LoadedModel<ElectraForPreTraining>> {
  const s = sourceOf(dir);
  return { ...(await core.loadDiscriminator(s.src, device)), vocabPath: s.vocabPath, dir: s.dir };
}

/** Loads a generator directory (ours or a Hugging Face one) as ElectraForMaskedLM. */
export async function loadGenerator(dir: string | ModelSource, device: Device): Promise<LoadedModel<ElectraForMaskedLM>> {
  const s = sourceOf(dir);
  return { ...(await core.loadGenerator(s.src, device)), vocabPath: s.vocabPath, dir: s.dir };
}

/**
 * The tokenizer of a model directory, a vocab.txt or tokenizer.json path (textNode.loadTokenizer), or any ModelSource
 * (the core's loadTokenizer): the Node entry's counterpart of the browser's, taking a path too.
 */
export async function loadTokenizer(dir: string | ModelSource, overrides: Partial<TokenizerOptions> = {}): Promise<WordPieceTokenizer> {
  return typeof dir === 'string' ? loadTokenizerPath(dir, overrides) : core.loadTokenizer(dir, overrides);
}
