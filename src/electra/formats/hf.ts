// Hugging Face ELECTRA conventions on plain data (browser-safe, no engine): config.json ↔ a typed camelCase
// config (HF field names and HF ElectraConfig defaults, spec §1.3), the tensor names and PyTorch shapes of
// ElectraForPreTraining / ElectraForMaskedLM (spec §6.2, Linear weights are [out, in]), unique parameter
// counts (the tied generator_lm_head.weight counted once), and the name fixes a loader needs: legacy
// LayerNorm gamma/beta → weight/bias, the `position_ids` buffer dropped, the tied head aliased when absent.

import { CheckpointError, numel, type HostTensor } from './safetensors.js';

export type ElectraKind = 'discriminator' | 'generator';

/** HF `ElectraConfig`, camelCase. Unknown config.json keys are kept in `extra` and written back unchanged. */
export interface HFElectraConfig {
  vocabSize: number;
  embeddingSize: number;
  hiddenSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  intermediateSize: number;
  hiddenAct: string;
  hiddenDropoutProb: number;
  attentionProbsDropoutProb: number;
  maxPositionEmbeddings: number;
  typeVocabSize: number;
  initializerRange: number;
  layerNormEps: number;
  padTokenId: number;
  positionEmbeddingType: string;
  summaryType: string;
  summaryUseProj: boolean;
  summaryActivation: string;
  summaryLastDropout: number;
  architectures: string[];
  extra: Record<string, unknown>;
}

type FieldType = 'int' | 'number' | 'string' | 'boolean' | 'string[]';
/** One descriptor per field: camelCase key, HF key, type, HF default (ElectraConfig defaults = small discriminator). */
const FIELDS: readonly [Exclude<keyof HFElectraConfig, 'extra'>, string, FieldType, unknown][] = [
  ['vocabSize', 'vocab_size', 'int', 30522],
  ['embeddingSize', 'embedding_size', 'int', 128],
  ['hiddenSize', 'hidden_size', 'int', 256],
  ['numHiddenLayers', 'num_hidden_layers', 'int', 12],
  ['numAttentionHeads', 'num_attention_heads', 'int', 4],
  ['intermediateSize', 'intermediate_size', 'int', 1024],
  ['hiddenAct', 'hidden_act', 'string', 'gelu'],
  ['hiddenDropoutProb', 'hidden_dropout_prob', 'number', 0.1],
  ['attentionProbsDropoutProb', 'attention_probs_dropout_prob', 'number', 0.1],
  ['maxPositionEmbeddings', 'max_position_embeddings', 'int', 512],
  ['typeVocabSize', 'type_vocab_size', 'int', 2],
  ['initializerRange', 'initializer_range', 'number', 0.02],
  ['layerNormEps', 'layer_norm_eps', 'number', 1e-12],
  ['padTokenId', 'pad_token_id', 'int', 0],
  ['positionEmbeddingType', 'position_embedding_type', 'string', 'absolute'],
  ['summaryType', 'summary_type', 'string', 'first'],
  ['summaryUseProj', 'summary_use_proj', 'boolean', true],
  ['summaryActivation', 'summary_activation', 'string', 'gelu'],
  ['summaryLastDropout', 'summary_last_dropout', 'number', 0.1],
  ['architectures', 'architectures', 'string[]', []],
];

export const ARCHITECTURE: Record<ElectraKind, string> = {
  discriminator: 'ElectraForPreTraining',
  generator: 'ElectraForMaskedLM',
};

function typeOk(v: unknown, t: FieldType): boolean {
  switch (t) {
    case 'int': return Number.isSafeInteger(v);
    case 'number': return typeof v === 'number' && Number.isFinite(v);
    case 'string': return typeof v === 'string';
    case 'boolean': return typeof v === 'boolean';
    case 'string[]': return Array.isArray(v) && v.every((x) => typeof x === 'string');
  }
}

/** HF defaults, with optional overrides (camelCase). */
export function defaultHFElectraConfig(over: Partial<HFElectraConfig> = {}): HFElectraConfig {
  const c = { extra: {} } as Record<string, unknown>;
  for (const [k, , , d] of FIELDS) c[k] = Array.isArray(d) ? [...d] : d;
  return checkConfig({ ...(c as unknown as HFElectraConfig), ...over }, 'config');
}

/** Parses config.json text. Missing fields take HF's defaults; wrong types and a non-electra model_type are errors. */
export function parseElectraConfig(text: string, source: string): HFElectraConfig {
  let raw: unknown;
  try { raw = JSON.parse(text); } catch (e) { throw new CheckpointError(source, `not valid JSON (${(e as Error).message})`); }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new CheckpointError(source, 'config is not a JSON object');
  const obj = raw as Record<string, unknown>;
  if ('model_type' in obj && obj.model_type !== 'electra') {
    throw new CheckpointError(source, `model_type is '${String(obj.model_type)}', expected 'electra'`);
  }
  const c: Record<string, unknown> = {};
  const known = new Set<string>(['model_type']);
  for (const [k, hf, t, d] of FIELDS) {
    known.add(hf);
    const v = obj[hf];
    if (v === undefined) { c[k] = Array.isArray(d) ? [...d] : d; continue; }
    if (!typeOk(v, t)) throw new CheckpointError(source, `field '${hf}' should be ${t}, got ${JSON.stringify(v)}`);
    c[k] = v;
  }
  c.extra = Object.fromEntries(Object.entries(obj).filter(([k]) => !known.has(k)));
  return checkConfig(c as unknown as HFElectraConfig, source);
}

function checkConfig(c: HFElectraConfig, source: string): HFElectraConfig {
  for (const k of ['vocabSize', 'embeddingSize', 'hiddenSize', 'numHiddenLayers', 'numAttentionHeads', 'intermediateSize',
    'maxPositionEmbeddings', 'typeVocabSize'] as const) {
    if (!Number.isSafeInteger(c[k]) || c[k] < 1) throw new CheckpointError(source, `${k} must be a positive integer, got ${c[k]}`);
  }
  if (c.hiddenSize % c.numAttentionHeads !== 0) {
    throw new CheckpointError(source, `hidden_size ${c.hiddenSize} is not a multiple of num_attention_heads ${c.numAttentionHeads}`);
  }
  return c;
}

/** config.json text as HF writes it (keys sorted, 2-space indent, trailing newline). */
export function electraConfigToJSON(c: HFElectraConfig): string {
  checkConfig(c, 'config');
  const out: Record<string, unknown> = { ...c.extra, model_type: 'electra' };
  for (const [k, hf] of FIELDS) out[hf] = c[k];
  const sorted = Object.fromEntries(Object.keys(out).sort().map((k) => [k, out[k]]));
  return JSON.stringify(sorted, null, 2) + '\n';
}

// --------------------------------------------------------------------------------------- names

/** Tied parameters: name → the parameter it shares storage with. */
export const TIED: Readonly<Record<string, string>> = {
  'generator_lm_head.weight': 'electra.embeddings.word_embeddings.weight',
};

/** Buffers HF may store that are not parameters. */
export const IGNORED_BUFFERS: readonly string[] = ['electra.embeddings.position_ids'];

/** Every HF tensor name → PyTorch shape, in state-dict order (spec §6.2). Includes the tied lm-head weight. */
export function expectedElectraShapes(c: HFElectraConfig, kind: ElectraKind): Map<string, number[]> {
  const { vocabSize: V, embeddingSize: E, hiddenSize: H, intermediateSize: F } = c;
  const m = new Map<string, number[]>();
  const lin = (name: string, out: number, inp: number) => { m.set(`${name}.weight`, [out, inp]); m.set(`${name}.bias`, [out]); };
  const ln = (name: string, n: number) => { m.set(`${name}.weight`, [n]); m.set(`${name}.bias`, [n]); };
  m.set('electra.embeddings.word_embeddings.weight', [V, E]);
  m.set('electra.embeddings.position_embeddings.weight', [c.maxPositionEmbeddings, E]);
  m.set('electra.embeddings.token_type_embeddings.weight', [c.typeVocabSize, E]);
  ln('electra.embeddings.LayerNorm', E);
  if (E !== H) lin('electra.embeddings_project', H, E);
  for (let i = 0; i < c.numHiddenLayers; i++) {
    const p = `electra.encoder.layer.${i}`;
    lin(`${p}.attention.self.query`, H, H);
    lin(`${p}.attention.self.key`, H, H);
    lin(`${p}.attention.self.value`, H, H);
    lin(`${p}.attention.output.dense`, H, H);
    ln(`${p}.attention.output.LayerNorm`, H);
    lin(`${p}.intermediate.dense`, F, H);
    lin(`${p}.output.dense`, H, F);
    ln(`${p}.output.LayerNorm`, H);
  }
  if (kind === 'discriminator') {
    lin('discriminator_predictions.dense', H, H);
    lin('discriminator_predictions.dense_prediction', 1, H);
  } else {
    lin('generator_predictions.dense', E, H);
    ln('generator_predictions.LayerNorm', E);
    m.set('generator_lm_head.weight', [V, E]);
    m.set('generator_lm_head.bias', [V]);
  }
  return m;
}

/** Unique parameters: tied names are not counted again. */
export function countElectraParameters(shapes: Map<string, readonly number[]>): number {
  let n = 0;
  for (const [name, shape] of shapes) if (!(name in TIED && shapes.has(TIED[name]))) n += numel(shape);
  return n;
}

/** `…LayerNorm.gamma` → `…LayerNorm.weight`, `…beta` → `…bias` (old TF-converted checkpoints); other names unchanged. */
export function fixLegacyName(name: string): string {
  if (name.endsWith('.gamma')) return name.slice(0, -'gamma'.length) + 'weight';
  if (name.endsWith('.beta')) return name.slice(0, -'beta'.length) + 'bias';
  return name;
}

/**
 * A loaded HF state dict in our names: legacy names fixed, ignored buffers dropped, and (for the generator)
 * `generator_lm_head.weight` aliased to the word embeddings when the file omits it (safetensors drops tied
 * weights). Throws if a legacy and a modern name collide.
 */
export function normalizeHFStateDict(tensors: Map<string, HostTensor>, kind: ElectraKind | null, source: string): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const [name, t] of tensors) {
    if (IGNORED_BUFFERS.includes(name)) continue;
    const fixed = fixLegacyName(name);
    if (out.has(fixed)) throw new CheckpointError(source, `tensor '${name}' and another tensor both map to '${fixed}'`);
    out.set(fixed, t);
  }
  if (kind === 'generator') {
    for (const [name, target] of Object.entries(TIED)) {
      if (!out.has(name) && out.has(target)) out.set(name, out.get(target)!);
    }
  }
  return out;
}

/** Which head a state dict carries, from its names (null: neither, e.g. a bare ElectraModel). */
export function detectElectraKind(names: Iterable<string>): ElectraKind | null {
  for (const n of names) {
    if (n.startsWith('discriminator_predictions.')) return 'discriminator';
    if (n.startsWith('generator_predictions.') || n.startsWith('generator_lm_head.')) return 'generator';
  }
  return null;
}

/**
 * Checks names, shapes and (when given) dtypes against the config; throws one error listing (up to 10) missing,
 * unexpected, mis-shaped and integer-typed tensors. A tied weight, when present, is checked like any other.
 */
export function checkElectraTensors(
  tensors: Map<string, { shape: readonly number[]; dtype?: string }>, c: HFElectraConfig, kind: ElectraKind, source: string,
): void {
  const want = expectedElectraShapes(c, kind);
  const problems: string[] = [];
  for (const [name, shape] of want) {
    const t = tensors.get(name);
    if (!t) problems.push(`missing '${name}' [${shape}]`);
    else if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      problems.push(`'${name}' has shape [${t.shape}], expected [${shape}]`);
    } else if (t.dtype !== undefined && t.dtype !== 'f32') {
      problems.push(`'${name}' is ${t.dtype}, expected a float tensor`);
    }
  }
  for (const name of tensors.keys()) if (!want.has(name)) problems.push(`unexpected '${name}'`);
  if (problems.length) {
    const more = problems.length > 10 ? ` (and ${problems.length - 10} more)` : '';
    throw new CheckpointError(source, `does not match the ${kind} config: ${problems.slice(0, 10).join('; ')}${more}`);
  }
}
