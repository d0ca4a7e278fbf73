// Fine-tuned ELECTRA heads ↔ Hugging Face directories (config.json with `architectures`, `id2label`/`label2id`,
// `num_labels`, `problem_type`; model.safetensors; vocab.txt + tokenizer_config.json), each file written
// atomically, names and shapes checked before anything is written. A starting point for fine-tuning is a
// discriminator directory (ours or HF's, safetensors or pytorch_model.bin; its head is dropped), a bare
// ElectraModel, a fine-tuned directory (its head is kept when the task's head and labels match), or a preset.
// Reading and the files' bytes are the browser-safe core's (electra/tasks/load.ts, save.ts); this adds the directory.

import { type ElectraConfig, checkElectraConfig, presetConfig } from '../electra/model/config.js';
import type { ModelSource } from '../electra/formats/source.js';
import { type ElectraHeadModel, createHeadModel } from '../electra/tasks/heads.js';
import * as core from '../electra/tasks/load.js';
import { type HeadSaveInfo, headModelFiles } from '../electra/tasks/save.js';
import { HostRng } from '../nn/init.js';
import type { Device } from '../device/device.js';
import type { WordPieceTokenizer } from '../text/wordpiece.js';
import { directorySource, writeDirectoryFiles } from './files.js';
import { sourceOf } from './electra-io.js';

export { expectedHeadModelShapes, detectHead, type ProblemType, type HeadInfo, type InitOptions } from '../electra/tasks/load.js';
export { headHFConfig } from '../electra/tasks/save.js';

/** Writes DIR/{config.json, model.safetensors, vocab.txt, tokenizer_config.json}, each atomically (config.json last). */
export async function saveHeadModel(dir: string, model: ElectraHeadModel, tok: WordPieceTokenizer, info: HeadSaveInfo): Promise<void> {
  await writeDirectoryFiles(dir, await headModelFiles(model, tok, info, directorySource(dir)));
}

export interface LoadedHead<M extends ElectraHeadModel = ElectraHeadModel> extends core.LoadedHead<M> { dir: string; vocabPath: string | null }

/** Loads a fine-tuned head directory (ours or HF's; or any ModelSource) for evaluation or prediction. */
export async function loadHeadModel(dir: string | ModelSource, device: Device): Promise<LoadedHead> {
  const s = sourceOf(dir);
  return { ...(await core.loadHeadModel(s.src, device)), dir: s.dir, vocabPath: s.vocabPath };
}

/**
 * The model fine-tuning starts from: DIR's encoder weights plus a fresh head with `labels.length` outputs
 * (1 for regression: pass labels ['LABEL_0']), or DIR's own head when it is the same kind with the same labels.
 */
export function initHeadModelFromDirectory(dir: string | ModelSource, device: Device, o: core.InitOptions): Promise<{ model: ElectraHeadModel; config: ElectraConfig; headLoaded: boolean }> {
  return core.initHeadModel(sourceOf(dir).src, device, o);
}

/** A model from a preset (all weights random) for a tokenizer's vocabulary. */
export function initHeadModelFromPreset(preset: string, vocabSize: number, device: Device, o: core.InitOptions & { overrides?: Partial<ElectraConfig> }): { model: ElectraHeadModel; config: ElectraConfig } {
  const config = checkElectraConfig({ ...presetConfig(preset), ...o.overrides, vocabSize }, `preset '${preset}' with its overrides`);
  const n = o.kind === 'qa' ? 2 : o.labels.length;
  return { model: createHeadModel(o.kind, config, n, { rng: new HostRng(o.seed), device, std: config.initializerRange }), config };
}
