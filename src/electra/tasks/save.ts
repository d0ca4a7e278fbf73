// The files of an ELECTRA model directory as bytes, in Hugging Face's layout (browser-safe): what Node writes
// atomically into a directory (src/node/*-io.ts) and what a page offers for download, so both are the same
// files. A discriminator or generator directory holds config.json (architectures set), model.safetensors
// (metadata format=pt, the tied generator_lm_head.weight left out as HF does) and vocab.txt; a fine-tuned head
// adds id2label/label2id/num_labels/problem_type to config.json and writes tokenizer_config.json. Names and
// shapes are checked against the config before any bytes are made, so a wiring mistake fails early.
// Maps keep write order: config.json comes last, so a directory whose config.json is there is complete.

import { ARCHITECTURE, TIED, checkElectraTensors, electraConfigToJSON, normalizeHFStateDict, toHFConfig, type ElectraKind, type HFElectraConfig } from '../formats/hf.js';
import { CheckpointError, serializeSafetensors, toWritable, type HostTensor } from '../formats/safetensors.js';
import type { ModelLocation } from '../formats/source.js';
import { readStateDict } from '../formats/state.js';
import type { ElectraPair } from '../model/pretrain.js';
import type { WordPieceTokenizer } from '../../text/wordpiece.js';
import { HEAD_ARCHITECTURE, type ElectraHeadModel } from './heads.js';
import { expectedHeadModelShapes, type ProblemType } from './load.js';

/** File name → contents, in the order to write them. */
export type DirectoryFiles = Map<string, Uint8Array | string>;

export interface HFDirectoryContents {
  config: HFElectraConfig;
  kind: ElectraKind;
  tensors: Map<string, HostTensor> | Iterable<[string, HostTensor]>;
  /** vocab.txt lines (one token each, id = index), or the file's whole text. */
  vocab: readonly string[] | string;
}

/** Names the files in errors when no location is given. */
const nowhere = (label: string): ModelLocation => ({ label, where: (name) => `${label}/${name}` });

/** model.safetensors, vocab.txt and config.json of a discriminator or generator (`at` names them in errors). */
export function hfDirectoryFiles(c: HFDirectoryContents, at: ModelLocation = nowhere(c.kind)): DirectoryFiles {
  const tensors = new Map(c.tensors);
  const config: HFElectraConfig = { ...c.config, architectures: [ARCHITECTURE[c.kind]] };
  checkElectraTensors(normalizeHFStateDict(tensors, c.kind, at.label), config, c.kind, at.label);
  const kept = [...tensors].filter(([name]) => !(name in TIED && tensors.has(TIED[name])));
  const weights = serializeSafetensors(kept.map(([n, t]) => [n, toWritable(t)] as const), { format: 'pt' }, at.where('model.safetensors'));
  const vocab = typeof c.vocab === 'string' ? c.vocab : c.vocab.join('\n') + '\n';
  return new Map<string, Uint8Array | string>([['model.safetensors', weights], ['vocab.txt', vocab], ['config.json', electraConfigToJSON(config)]]);
}

/**
 * A pre-trained pair as a run directory's two model folders: `discriminator/…` and `generator/…` (the generator
 * alone for the MLM baseline). Reads the weights back from the device once.
 */
export async function pairFiles(pair: ElectraPair, vocab: readonly string[]): Promise<DirectoryFiles> {
  const out: DirectoryFiles = new Map();
  const add = (dir: string, files: DirectoryFiles) => { for (const [n, d] of files) out.set(`${dir}/${n}`, d); };
  if (pair.discriminator) {
    add('discriminator', hfDirectoryFiles({ config: toHFConfig(pair.config), kind: 'discriminator', tensors: await readStateDict(pair.discriminator), vocab: [...vocab] }, nowhere('discriminator')));
  }
  add('generator', hfDirectoryFiles({ config: toHFConfig(pair.generator.config), kind: 'generator', tensors: await readStateDict(pair.generator), vocab: [...vocab] }, nowhere('generator')));
  return out;
}

/** config.json for a head model: the encoder's fields plus HF's label fields. */
export function headHFConfig(model: ElectraHeadModel, labels: readonly string[], problemType: ProblemType, extra: Record<string, unknown> = {}): HFElectraConfig {
  const base = toHFConfig(model.config);
  const names = model.kind === 'qa' ? ['LABEL_0', 'LABEL_1'] : model.numLabels === 1 ? ['LABEL_0'] : [...labels];
  if (names.length !== (model.kind === 'qa' ? 2 : model.numLabels)) throw new Error(`saving a ${model.numLabels}-label head with ${labels.length} label names`);
  return {
    ...base,
    architectures: [HEAD_ARCHITECTURE[model.kind]],
    extra: {
      ...extra,
      id2label: Object.fromEntries(names.map((l, i) => [String(i), l])),
      label2id: Object.fromEntries(names.map((l, i) => [l, i])),
      num_labels: names.length,
      problem_type: problemType,
    },
  };
}

export interface HeadSaveInfo { labels: readonly string[]; problemType: ProblemType; extra?: Record<string, unknown> }

/** model.safetensors, vocab.txt, tokenizer_config.json and config.json of a fine-tuned head model. */
export async function headModelFiles(model: ElectraHeadModel, tok: WordPieceTokenizer, info: HeadSaveInfo, at: ModelLocation = nowhere('model')): Promise<DirectoryFiles> {
  const config = headHFConfig(model, info.labels, info.problemType, info.extra);
  const tensors = await readStateDict(model);
  const want = expectedHeadModelShapes(config, model.kind, model.kind === 'qa' ? 2 : model.numLabels);
  const problems: string[] = [];
  for (const [n, s] of want) {
    const t = tensors.get(n);
    if (!t) problems.push(`missing '${n}'`);
    else if (t.shape.join() !== s.join()) problems.push(`'${n}' has shape [${t.shape}], expected [${s}]`);
  }
  for (const n of tensors.keys()) if (!want.has(n)) problems.push(`unexpected '${n}'`);
  if (problems.length) throw new CheckpointError(at.label, `the model does not match its config: ${problems.slice(0, 10).join('; ')}`);
  const weights = serializeSafetensors([...tensors].map(([n, t]) => [n, toWritable(t)] as const), { format: 'pt' }, at.where('model.safetensors'));
  const o = tok.options;
  const tokConfig = {
    do_lower_case: o.lowercase, strip_accents: o.stripAccents, tokenize_chinese_chars: o.handleChineseChars, model_max_length: o.modelMaxLength,
    unk_token: o.unkToken, cls_token: o.clsToken, sep_token: o.sepToken, pad_token: o.padToken, mask_token: o.maskToken, tokenizer_class: 'ElectraTokenizer',
  };
  return new Map<string, Uint8Array | string>([
    ['model.safetensors', weights],
    ['vocab.txt', tok.tokens.join('\n') + '\n'],
    ['tokenizer_config.json', JSON.stringify(tokConfig, null, 2) + '\n'],
    ['config.json', electraConfigToJSON(config)],
  ]);
}
