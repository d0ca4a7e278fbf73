// Loading ELECTRA model directories from any ModelSource (formats/source.ts: a Node directory, URLs, dropped
// files, memory): the Hugging Face layout (config.json, model.safetensors or pytorch_model.bin, vocab.txt or
// tokenizer.json) into engine models — the discriminator (ElectraForPreTraining), the generator
// (ElectraForMaskedLM), the bare encoder (ElectraModel), fine-tuned heads — and the tokenizer. Browser-safe:
// the Node loaders (src/node/*-io.ts) are these with a directory source, so every check and every error message
// is the same in both places. Order of work: config.json checked whole; then, before any tensor is allocated,
// every tensor the weights file declares is checked against that config (name, shape, float dtype), so a small
// hostile file cannot ask for gigabytes; loaded weights must be finite. Errors name the file.

import type { Device } from '../../device/device.js';
import { HostRng } from '../../nn/init.js';
import type { ElectraConfig } from '../model/config.js';
import { ElectraEmbeddings, ElectraForMaskedLM, ElectraForPreTraining, ElectraModel } from '../model/model.js';
import {
  ARCHITECTURE, checkElectraTensors, checkFiniteTensors, checkTensorShapes, detectElectraKind, expectedElectraShapes, fromHFConfig,
  isBareElectraModel, normalizeHFStateDict, normalizedName, parseElectraConfig, type ElectraKind, type HFElectraConfig,
} from '../formats/hf.js';
import { CheckpointError, parseSafetensors, type HostTensor, type TensorInfo } from '../formats/safetensors.js';
import type { ModelSource } from '../formats/source.js';
import { assignStateDict } from '../formats/state.js';
import { loadTorchStateDict } from '../formats/torchbin.js';
import { decodeUtf8, TextFileError } from '../../text/utf8.js';
import { type TokenizerOptions, type WordPieceTokenizer, tokenizerFromFiles } from '../../text/wordpiece.js';
import { HEAD_ARCHITECTURE, type ElectraHeadModel, type HeadKind, createHeadModel, headShapes } from './heads.js';

// ------------------------------------------------------------------------------------ the files

export interface ModelFiles {
  config: HFElectraConfig;
  /** From the tensor names, else from config.architectures; null for a bare encoder or another head. */
  kind: ElectraKind | null;
  /** HF names after normalizeHFStateDict (bare-model prefix, legacy names fixed, position_ids dropped, tied head aliased). */
  tensors: Map<string, HostTensor>;
  /** The weights file as errors name it. */
  weightsPath: string;
  format: 'safetensors' | 'torch-zip' | 'torch-legacy';
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

/** The source's config.json, checked field by field (errors name the file, the key, the value and the rule). */
export async function readModelConfig(src: ModelSource): Promise<HFElectraConfig> {
  const bytes = await src.read('config.json');
  if (!bytes) throw new CheckpointError(src.label, 'no config.json in the directory');
  return parseElectraConfig(new TextDecoder().decode(bytes), src.where('config.json'));
}

/**
 * Reads an HF ELECTRA directory. config.json is checked first; then, before any tensor is allocated, every tensor
 * the weights file declares must be one an ELECTRA class of that config has, with its shape and a float dtype
 * (one rule for every command: an unknown tensor is an error, a known head the caller does not build is skipped
 * unread). Loaded weights must be finite. Errors name the file.
 */
export async function readModelFiles(src: ModelSource, opts: { want?: HFWant } = {}): Promise<ModelFiles> {
  const config = await readModelConfig(src);
  const configPath = src.where('config.json');
  let file = 'model.safetensors';
  let bytes = await src.read(file);
  if (!bytes) {
    file = 'pytorch_model.bin';
    bytes = await src.read(file);
  }
  if (!bytes) {
    let sharded: string | undefined;
    for (const f of ['model.safetensors.index.json', 'pytorch_model.bin.index.json']) if (!sharded && (await src.read(f))) sharded = f;
    throw new CheckpointError(src.label, sharded
      ? `sharded checkpoints (${sharded}) are not supported`
      : 'neither model.safetensors nor pytorch_model.bin in the directory');
  }
  const weightsPath = src.where(file);
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
  const parseOpts = { inspect, keep: (name: string) => keep.has(name) };
  let raw: Map<string, HostTensor>;
  let format: ModelFiles['format'];
  if (file === 'model.safetensors') {
    raw = parseSafetensors(bytes, weightsPath, parseOpts).tensors;
    format = 'safetensors';
  } else {
    const r = loadTorchStateDict(bytes, weightsPath, parseOpts);
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
  return { config, kind, tensors, weightsPath, format };
}

// ------------------------------------------------------------------ discriminator, generator, encoder

export interface LoadedModel<M> { model: M; config: ElectraConfig; source: ModelSource }

async function prepare(src: ModelSource, want: HFWant, device: Device) {
  // Checked whole (names, shapes, finite values) before the model is allocated.
  const files = await readModelFiles(src, { want });
  const config = fromHFConfig(files.config, src.where('config.json'));
  const ic = { rng: new HostRng(0), device, std: config.initializerRange };
  return { files, config, ic, embeddings: new ElectraEmbeddings(config, ic) };
}

/** A discriminator directory (ours or a Hugging Face one) as ElectraForPreTraining. */
export async function loadDiscriminator(src: ModelSource, device: Device): Promise<LoadedModel<ElectraForPreTraining>> {
  const { files, config, ic, embeddings } = await prepare(src, 'discriminator', device);
  const model = new ElectraForPreTraining(config, embeddings, ic);
  assignStateDict(model, files.tensors, files.weightsPath);
  return { model, config, source: src };
}

/** A generator directory (ours or a Hugging Face one) as ElectraForMaskedLM. */
export async function loadGenerator(src: ModelSource, device: Device): Promise<LoadedModel<ElectraForMaskedLM>> {
  const { files, config, ic, embeddings } = await prepare(src, 'generator', device);
  const model = new ElectraForMaskedLM(config, embeddings, ic);
  assignStateDict(model, files.tensors, files.weightsPath);
  return { model, config, source: src };
}

/**
 * The ElectraModel inside any ELECTRA directory (discriminator, generator, fine-tuned head); head weights are
 * skipped. Returns the model itself (its `config` is on it), as Node's loadEncoder always has.
 */
export async function loadEncoder(src: ModelSource, device: Device): Promise<ElectraModel> {
  const { files, config, ic, embeddings } = await prepare(src, 'encoder', device);
  const electra = new ElectraModel(config, embeddings, ic);
  assignStateDict({ electra }, files.tensors, files.weightsPath);
  return electra;
}

// ----------------------------------------------------------------------------- fine-tuned heads

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

/** HF `classifier_dropout` (kept in `extra`: null means hidden_dropout_prob), checked like the table's fields. */
function classifierDropoutOf(hf: HFElectraConfig, source: string): number | null {
  const v = hf.extra.classifier_dropout;
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !(v >= 0 && v < 1)) throw new CheckpointError(source, `classifier_dropout = ${JSON.stringify(v)}: must be a number in [0, 1), or null`);
  return v;
}

export interface LoadedHead<M extends ElectraHeadModel = ElectraHeadModel> extends HeadInfo { model: M; config: ElectraConfig; source: ModelSource }

/** A fine-tuned head directory (ours or HF's) for evaluation or prediction. */
export async function loadHeadModel(src: ModelSource, device: Device): Promise<LoadedHead> {
  const files = await readModelFiles(src, { want: 'any' });
  const kind = detectHead(files.config, files.tensors.keys());
  if (!kind) throw new CheckpointError(src.label, `holds no fine-tuned head (architectures ${JSON.stringify(files.config.architectures)}); fine-tune it first with \`electra finetune --model ${src.label} …\``);
  const info = readHeadInfo(files.config, kind, files.tensors, files.weightsPath);
  const want = expectedHeadModelShapes(files.config, kind, info.labels.length);
  // Checked before the model is allocated, so its size is the file's; another head's tensors are not this model's.
  const used = new Map([...files.tensors].filter(([n]) => want.has(n)));
  checkTensorShapes(used, want, files.weightsPath, `its ${HEAD_ARCHITECTURE[kind]} config`);
  const configPath = src.where('config.json');
  const config = fromHFConfig(files.config, configPath);
  const model = createHeadModel(kind, config, info.labels.length, { rng: new HostRng(0), device, std: config.initializerRange }, { classifierDropout: classifierDropoutOf(files.config, configPath) });
  assignStateDict(model, used, files.weightsPath);
  return { ...info, model, config, source: src };
}

export interface InitOptions {
  kind: HeadKind;
  labels: readonly string[];
  /** Seeds the fresh head (and, from scratch, every weight). */
  seed: number;
  /** Use the source's config only: every weight random (the from-scratch baseline with the same shape and vocabulary). */
  scratch?: boolean;
}

/**
 * The model fine-tuning starts from: the source's encoder weights plus a fresh head with `labels.length` outputs
 * (1 for regression: pass labels ['LABEL_0']), or its own head when it is the same kind with the same labels.
 */
export async function initHeadModel(src: ModelSource, device: Device, o: InitOptions): Promise<{ model: ElectraHeadModel; config: ElectraConfig; headLoaded: boolean }> {
  const n = o.kind === 'qa' ? 2 : o.labels.length;
  const create = (config: ElectraConfig) => createHeadModel(o.kind, config, n, { rng: new HostRng(o.seed), device, std: config.initializerRange });
  const configPath = src.where('config.json');
  if (o.scratch) {
    const config = fromHFConfig(await readModelConfig(src), configPath);
    return { model: create(config), config, headLoaded: false };
  }
  const files = await readModelFiles(src, { want: 'any' });
  const config = fromHFConfig(files.config, configPath);
  if (![...files.tensors.keys()].some((k) => k.startsWith('electra.'))) throw new CheckpointError(files.weightsPath, 'has no ELECTRA encoder tensors (electra.* or embeddings.*/encoder.*)');
  const fileKind = detectHead(files.config, files.tensors.keys());
  let headLoaded = false;
  if (fileKind === o.kind) {
    const info = readHeadInfo(files.config, fileKind, files.tensors, files.weightsPath);
    headLoaded = o.kind === 'qa' || (info.labels.length === n && info.labels.every((l, i) => l === o.labels[i]));
  }
  // Without a matching head, every non-encoder tensor (discriminator/generator predictions, another fine-tuned
  // head) is left out and the fresh head stays. All used tensors are checked before the model is allocated.
  const want = headLoaded ? expectedHeadModelShapes(files.config, o.kind, n) : new Map([...expectedElectraShapes(files.config, 'discriminator')].filter(([k]) => k.startsWith('electra.')));
  const used = new Map([...files.tensors].filter(([k]) => want.has(k)));
  checkTensorShapes(used, want, files.weightsPath, headLoaded ? `its ${HEAD_ARCHITECTURE[o.kind]} config` : 'the encoder of its config');
  const model = create(config);
  assignStateDict(model, used, files.weightsPath, { allowMissing: (name) => !headLoaded && !name.startsWith('electra.') });
  return { model, config, headLoaded };
}

// ------------------------------------------------------------------------------------ tokenizer

/**
 * The source's tokenizer: tokenizer.json, else vocab.txt; tokenizer_config.json, when present, supplies
 * do_lower_case and the special tokens. Text is decoded strictly (a binary or invalid file names its byte).
 */
export async function loadTokenizer(src: ModelSource, overrides: Partial<TokenizerOptions> = {}): Promise<WordPieceTokenizer> {
  const text = async (name: string) => {
    const bytes = await src.read(name);
    return bytes ? { text: decodeUtf8(bytes, src.where(name)), where: src.where(name) } : null;
  };
  const tokenizerJson = await text('tokenizer.json');
  const vocabTxt = tokenizerJson ? null : await text('vocab.txt');
  if (!tokenizerJson && !vocabTxt) throw new TextFileError(`${src.label}: directory has neither tokenizer.json nor vocab.txt`);
  return tokenizerFromFiles({ tokenizerJson, vocabTxt, tokenizerConfig: await text('tokenizer_config.json') }, overrides);
}
