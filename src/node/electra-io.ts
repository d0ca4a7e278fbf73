// ELECTRA models ↔ Hugging Face directories (config.json, model.safetensors or pytorch_model.bin,
// vocab.txt). The discriminator directory loads in transformers as ElectraForPreTraining, the
// generator's as ElectraForMaskedLM; directories from the Hub (google/electra-*) load here.

import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { HostRng } from '../nn/init.js';
import type { Device } from '../device/device.js';
import type { ElectraConfig } from '../electra/model/config.js';
import { type ElectraKind, fromHFConfig, toHFConfig } from '../electra/formats/hf.js';
import { ElectraEmbeddings, ElectraForMaskedLM, ElectraForPreTraining } from '../electra/model/model.js';
import type { ElectraPair } from '../electra/model/pretrain.js';
import { assignStateDict, readStateDict } from '../electra/formats/state.js';
import { loadHFDirectory, saveHFDirectory } from './files.js';

export { toHFConfig, fromHFConfig } from '../electra/formats/hf.js';

/** Writes `<dir>/discriminator` and `<dir>/generator` (each file atomically). */
export async function exportPair(pair: ElectraPair, vocab: readonly string[], dir: string): Promise<void> {
  if (pair.discriminator) {
    await saveHFDirectory(join(dir, 'discriminator'), {
      config: toHFConfig(pair.config), kind: 'discriminator', tensors: await readStateDict(pair.discriminator), vocab: [...vocab],
    });
  }
  await saveHFDirectory(join(dir, 'generator'), {
    config: toHFConfig(pair.generator.config), kind: 'generator', tensors: await readStateDict(pair.generator), vocab: [...vocab],
  });
}

export interface LoadedModel<M> { model: M; config: ElectraConfig; vocabPath: string | null; dir: string }

async function load(dir: string, kind: ElectraKind, device: Device) {
  // Checked whole (names, shapes, finite values) before the model below is allocated.
  const hf = await loadHFDirectory(dir, { want: kind });
  const config = fromHFConfig(hf.config, join(dir, 'config.json'));
  const ic = { rng: new HostRng(0), device, std: config.initializerRange };
  return { hf, config, ic, embeddings: new ElectraEmbeddings(config, ic) };
}

/** Loads a discriminator directory (ours or a Hugging Face one) as ElectraForPreTraining. */
export async function loadDiscriminator(dir: string, device: Device): Promise<LoadedModel<ElectraForPreTraining>> {
  const { hf, config, ic, embeddings } = await load(dir, 'discriminator', device);
  const model = new ElectraForPreTraining(config, embeddings, ic);
  assignStateDict(model, hf.tensors, hf.weightsPath);
  return { model, config, vocabPath: vocabIn(dir), dir };
}

/** Loads a generator directory (ours or a Hugging Face one) as ElectraForMaskedLM. */
export async function loadGenerator(dir: string, device: Device): Promise<LoadedModel<ElectraForMaskedLM>> {
  const { hf, config, ic, embeddings } = await load(dir, 'generator', device);
  const model = new ElectraForMaskedLM(config, embeddings, ic);
  assignStateDict(model, hf.tensors, hf.weightsPath);
  return { model, config, vocabPath: vocabIn(dir), dir };
}

function vocabIn(dir: string): string | null {
  const p = join(dir, 'vocab.txt');
  return existsSync(p) ? p : null;
}
