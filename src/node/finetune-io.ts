// Fine-tuned ELECTRA heads ↔ Hugging Face directories (config.json with `architectures`, `id2label`/`label2id`,
// `num_labels`, `problem_type`; model.safetensors; vocab.txt + tokenizer_config.json), each file written
// atomically, names and shapes checked before anything is written. A starting point for fine-tuning is a
// discriminator directory (ours or HF's, safetensors or pytorch_model.bin; its head is dropped), a bare
// ElectraModel, a fine-tuned directory (its head is kept when the task's head and labels match), or a preset.

import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ElectraConfig, checkElectraConfig, presetConfig } from '../electra/model/config.js';
import { type HFElectraConfig, checkTensorShapes, electraConfigToJSON, expectedElectraShapes, fromHFConfig, parseElectraConfig, toHFConfig } from '../electra/formats/hf.js';
import { HEAD_ARCHITECTURE, type ElectraHeadModel, type HeadKind, createHeadModel, headShapes } from '../electra/tasks/heads.js';
import { CheckpointError, type HostTensor, serializeSafetensors, toWritable } from '../electra/formats/safetensors.js';
import { assignStateDict, readStateDict } from '../electra/formats/state.js';
import { HostRng } from '../nn/init.js';
import type { Device } from '../device/device.js';
import type { WordPieceTokenizer } from '../text/wordpiece.js';
import { loadHFDirectory, writeFileAtomic } from './files.js';

export type ProblemType = 'single_label_classification' | 'regression' | null;

/** What a fine-tuned directory says about its head. */
export interface HeadInfo {
  kind: HeadKind;
  /** Class names by id (id2label); regression: ['LABEL_0']; QA: HF's default pair. */
  labels: string[];
  problemType: ProblemType;
}

/** Every tensor name → PyTorch shape of a head model (the encoder's as ElectraForPreTraining's, without its head). */
export function expectedHeadModelShapes(hf: HFElectraConfig, kind: HeadKind, numLabels: number): Map<string, number[]> {
  const m = new Map([...expectedElectraShapes(hf, 'discriminator')].filter(([n]) => n.startsWith('electra.')));
  for (const [n, s] of headShapes(kind, hf.hiddenSize, numLabels)) m.set(n, s);
  return m;
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

/** Writes DIR/{config.json, model.safetensors, vocab.txt, tokenizer_config.json}. */
export async function saveHeadModel(dir: string, model: ElectraHeadModel, tok: WordPieceTokenizer, info: { labels: readonly string[]; problemType: ProblemType; extra?: Record<string, unknown> }): Promise<void> {
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
  if (problems.length) throw new CheckpointError(dir, `the model does not match its config: ${problems.slice(0, 10).join('; ')}`);
  const weights = serializeSafetensors([...tensors].map(([n, t]) => [n, toWritable(t)] as const), { format: 'pt' }, join(dir, 'model.safetensors'));
  const o = tok.options;
  const tokConfig = {
    do_lower_case: o.lowercase, strip_accents: o.stripAccents, tokenize_chinese_chars: o.handleChineseChars, model_max_length: o.modelMaxLength,
    unk_token: o.unkToken, cls_token: o.clsToken, sep_token: o.sepToken, pad_token: o.padToken, mask_token: o.maskToken, tokenizer_class: 'ElectraTokenizer',
  };
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, 'model.safetensors'), weights);
  await writeFileAtomic(join(dir, 'vocab.txt'), tok.tokens.join('\n') + '\n');
  await writeFileAtomic(join(dir, 'tokenizer_config.json'), JSON.stringify(tokConfig, null, 2) + '\n');
  await writeFileAtomic(join(dir, 'config.json'), electraConfigToJSON(config));
}

/** Head kind from config.architectures, else from tensor names; null for a discriminator/generator/bare encoder. */
export function detectHead(config: HFElectraConfig, names: Iterable<string>): HeadKind | null {
  for (const [k, arch] of Object.entries(HEAD_ARCHITECTURE)) if (config.architectures.includes(arch)) return k as HeadKind;
  for (const n of names) {
    if (n.startsWith('classifier.out_proj.') || n.startsWith('classifier.dense.')) return 'sequence';
    if (n === 'classifier.weight') return 'token';
    if (n.startsWith('qa_outputs.')) return 'qa';
  }
  return null;
}

/** id2label (keys "0".."n-1") as a list; num_labels when there is none (HF default names LABEL_i). */
function readHeadInfo(hf: HFElectraConfig, kind: HeadKind, tensors: Map<string, HostTensor>, source: string): HeadInfo {
  const x = hf.extra;
  let labels: string[] | null = null;
  if (x.id2label && typeof x.id2label === 'object') {
    const entries = Object.entries(x.id2label as Record<string, unknown>);
    labels = new Array(entries.length);
    for (const [k, v] of entries) {
      const i = Number(k);
      if (!Number.isInteger(i) || i < 0 || i >= entries.length || typeof v !== 'string') throw new CheckpointError(source, `id2label must map "0".."${entries.length - 1}" to names, got ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
      labels[i] = v;
    }
  }
  const outName = kind === 'sequence' ? 'classifier.out_proj.weight' : kind === 'token' ? 'classifier.weight' : 'qa_outputs.weight';
  const rows = tensors.get(outName)?.shape[0];
  if (rows === undefined) throw new CheckpointError(source, `no '${outName}' for its ${HEAD_ARCHITECTURE[kind]} head`);
  if (!labels || labels.length !== rows) labels = Array.from({ length: rows }, (_, i) => labels?.[i] ?? `LABEL_${i}`);
  const pt = x.problem_type;
  const problemType: ProblemType = pt === 'regression' || (kind === 'sequence' && rows === 1) ? 'regression' : kind === 'sequence' ? 'single_label_classification' : null;
  if (pt === 'multi_label_classification') throw new CheckpointError(source, 'problem_type multi_label_classification is not supported');
  return { kind, labels, problemType };
}

export interface LoadedHead<M extends ElectraHeadModel = ElectraHeadModel> extends HeadInfo { model: M; config: ElectraConfig; dir: string; vocabPath: string | null }

/** Loads a fine-tuned head directory (ours or HF's) for evaluation or prediction. */
export async function loadHeadModel(dir: string, device: Device): Promise<LoadedHead> {
  const hf = await loadHFDirectory(dir, { want: 'any' });
  const kind = detectHead(hf.config, hf.tensors.keys());
  if (!kind) throw new CheckpointError(dir, `holds no fine-tuned head (architectures ${JSON.stringify(hf.config.architectures)}); fine-tune it first with \`electra finetune --model ${dir} …\``);
  const info = readHeadInfo(hf.config, kind, hf.tensors, hf.weightsPath);
  const want = expectedHeadModelShapes(hf.config, kind, info.labels.length);
  // Checked before the model is allocated, so its size is the file's; another head's tensors are not this model's.
  const used = new Map([...hf.tensors].filter(([n]) => want.has(n)));
  checkTensorShapes(used, want, hf.weightsPath, `its ${HEAD_ARCHITECTURE[kind]} config`);
  const config = fromHFConfig(hf.config, join(dir, 'config.json'));
  const model = createHeadModel(kind, config, info.labels.length, { rng: new HostRng(0), device, std: config.initializerRange }, { classifierDropout: classifierDropoutOf(hf.config, join(dir, 'config.json')) });
  assignStateDict(model, used, hf.weightsPath);
  return { ...info, model, config, dir, vocabPath: hf.vocabPath };
}

/** HF `classifier_dropout` (kept in `extra`: null means hidden_dropout_prob), checked like the table's fields. */
function classifierDropoutOf(hf: HFElectraConfig, source: string): number | null {
  const v = hf.extra.classifier_dropout;
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !(v >= 0 && v < 1)) throw new CheckpointError(source, `classifier_dropout = ${JSON.stringify(v)}: must be a number in [0, 1), or null`);
  return v;
}

export interface InitOptions {
  kind: HeadKind;
  labels: readonly string[];
  /** Seeds the fresh head (and, from scratch, every weight). */
  seed: number;
  /** Use DIR's config only: every weight random (the from-scratch baseline with the same shape and vocabulary). */
  scratch?: boolean;
}

/**
 * The model fine-tuning starts from: DIR's encoder weights plus a fresh head with `labels.length` outputs
 * (1 for regression: pass labels ['LABEL_0']), or DIR's own head when it is the same kind with the same labels.
 */
export async function initHeadModelFromDirectory(dir: string, device: Device, o: InitOptions): Promise<{ model: ElectraHeadModel; config: ElectraConfig; headLoaded: boolean }> {
  const n = o.kind === 'qa' ? 2 : o.labels.length;
  const create = (config: ElectraConfig) => createHeadModel(o.kind, config, n, { rng: new HostRng(o.seed), device, std: config.initializerRange });
  if (o.scratch) {
    const configPath = join(dir, 'config.json');
    const config = fromHFConfig(parseElectraConfig(await readFile(configPath, 'utf8'), configPath), configPath);
    return { model: create(config), config, headLoaded: false };
  }
  const hf = await loadHFDirectory(dir, { want: 'any' });
  const config = fromHFConfig(hf.config, join(dir, 'config.json'));
  if (![...hf.tensors.keys()].some((k) => k.startsWith('electra.'))) throw new CheckpointError(hf.weightsPath, 'has no ELECTRA encoder tensors (electra.* or embeddings.*/encoder.*)');
  const fileKind = detectHead(hf.config, hf.tensors.keys());
  let headLoaded = false;
  if (fileKind === o.kind) {
    const info = readHeadInfo(hf.config, fileKind, hf.tensors, hf.weightsPath);
    headLoaded = o.kind === 'qa' || (info.labels.length === n && info.labels.every((l, i) => l === o.labels[i]));
  }
  // Without a matching head, every non-encoder tensor (discriminator/generator predictions, another fine-tuned
  // head) is left out and the fresh head stays. All used tensors are checked before the model is allocated.
  const want = headLoaded ? expectedHeadModelShapes(hf.config, o.kind, n) : new Map([...expectedElectraShapes(hf.config, 'discriminator')].filter(([k]) => k.startsWith('electra.')));
  const used = new Map([...hf.tensors].filter(([k]) => want.has(k)));
  checkTensorShapes(used, want, hf.weightsPath, headLoaded ? `its ${HEAD_ARCHITECTURE[o.kind]} config` : 'the encoder of its config');
  const model = create(config);
  assignStateDict(model, used, hf.weightsPath, { allowMissing: (name) => !headLoaded && !name.startsWith('electra.') });
  return { model, config, headLoaded };
}

/** A model from a preset (all weights random) for a tokenizer's vocabulary. */
export function initHeadModelFromPreset(preset: string, vocabSize: number, device: Device, o: InitOptions & { overrides?: Partial<ElectraConfig> }): { model: ElectraHeadModel; config: ElectraConfig } {
  const config = checkElectraConfig({ ...presetConfig(preset), ...o.overrides, vocabSize }, `preset '${preset}' with its overrides`);
  const n = o.kind === 'qa' ? 2 : o.labels.length;
  return { model: createHeadModel(o.kind, config, n, { rng: new HostRng(o.seed), device, std: config.initializerRange }), config };
}
