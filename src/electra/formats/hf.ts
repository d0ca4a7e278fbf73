// Hugging Face ELECTRA conventions on plain data (browser-safe, no engine): config.json ↔ a typed camelCase
// config (names, defaults and rules from the one descriptor table in model/config.ts; every file read is
// checked whole before any work, and errors name the file, the key, the value and the rule), the tensor names
// and PyTorch shapes of ElectraForPreTraining / ElectraForMaskedLM (spec §6.2, Linear weights are [out, in]),
// unique parameter counts (the tied generator_lm_head.weight counted once), and the name fixes a loader
// needs: legacy LayerNorm gamma/beta → weight/bias, the `position_ids` buffer dropped, the tied head aliased.

import {
  ELECTRA_FIELDS, type ElectraConfig, type ElectraFileFields, type ElectraModelFields, configProblems, fieldDefaults,
} from '../model/config.js';
import { CheckpointError, numel, type HostTensor } from './safetensors.js';

export type ElectraKind = 'discriminator' | 'generator';

/** A config.json: the model's and HF's fixed fields (camelCase), `architectures`, and every other key kept in `extra`. */
export interface HFElectraConfig extends ElectraFileFields {
  architectures: string[];
  /** Unknown config.json keys (id2label, transformers_version, …), written back unchanged. */
  extra: Record<string, unknown>;
}

export const ARCHITECTURE: Record<ElectraKind, string> = {
  discriminator: 'ElectraForPreTraining',
  generator: 'ElectraForMaskedLM',
};

const FILE_FIELDS = ELECTRA_FIELDS.filter((f) => f.hf !== null);

function checkHF(c: HFElectraConfig, source: string): HFElectraConfig {
  const problems = configProblems(c as unknown as Record<string, unknown>, { naming: 'hf' });
  if (!Array.isArray(c.architectures) || !c.architectures.every((a) => typeof a === 'string')) {
    problems.push(`architectures = ${JSON.stringify(c.architectures)}: must be a list of strings`);
  }
  if (problems.length) throw new CheckpointError(source, problems.join('; '));
  return c;
}

/** HF defaults, with optional overrides (camelCase); checked. */
export function defaultHFElectraConfig(over: Partial<HFElectraConfig> = {}): HFElectraConfig {
  const c = { ...fieldDefaults(['model', 'file']), architectures: [], extra: {} } as unknown as HFElectraConfig;
  return checkHF({ ...c, ...over }, 'config');
}

/** config.json fields of an engine config (HF's fixed fields at their values); checked. */
export function toHFConfig(c: ElectraConfig, more: { architectures?: string[]; extra?: Record<string, unknown> } = {}): HFElectraConfig {
  const out: Record<string, unknown> = fieldDefaults(['file']);
  for (const f of FILE_FIELDS) if (f.scope === 'model') out[f.key] = (c as unknown as Record<string, unknown>)[f.key];
  return checkHF({ ...(out as unknown as ElectraFileFields), architectures: more.architectures ?? [], extra: more.extra ?? {} }, 'config');
}

/** The engine config of a config.json (run fields at their defaults: the generator is the model's size). */
export function fromHFConfig(h: HFElectraConfig, source = 'config'): ElectraConfig {
  checkHF(h, source);
  const out: Record<string, unknown> = fieldDefaults(['run']);
  for (const f of FILE_FIELDS) if (f.scope === 'model') out[f.key] = (h as unknown as Record<string, unknown>)[f.key];
  return out as unknown as ElectraConfig;
}

/** Parses config.json text. Missing fields take HF's defaults; every field is checked before anything else happens. */
export function parseElectraConfig(text: string, source: string): HFElectraConfig {
  let raw: unknown;
  try { raw = JSON.parse(text); } catch (e) { throw new CheckpointError(source, `not valid JSON (${(e as Error).message})`); }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new CheckpointError(source, 'config is not a JSON object');
  const obj = raw as Record<string, unknown>;
  if ('model_type' in obj && obj.model_type !== 'electra') {
    throw new CheckpointError(source, `model_type is '${String(obj.model_type)}', expected 'electra'`);
  }
  const c: Record<string, unknown> = {};
  const known = new Set<string>(['model_type', 'architectures']);
  for (const f of FILE_FIELDS) {
    known.add(f.hf!);
    c[f.key] = obj[f.hf!] === undefined ? f.dflt : obj[f.hf!];
  }
  c.architectures = obj.architectures ?? [];
  c.extra = Object.fromEntries(Object.entries(obj).filter(([k]) => !known.has(k)));
  return checkHF(c as unknown as HFElectraConfig, source);
}

/** config.json text as HF writes it (keys sorted, 2-space indent, trailing newline). */
export function electraConfigToJSON(c: HFElectraConfig): string {
  checkHF(c, 'config');
  const out: Record<string, unknown> = { ...c.extra, model_type: 'electra', architectures: c.architectures };
  for (const f of FILE_FIELDS) out[f.hf!] = (c as unknown as Record<string, unknown>)[f.key];
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
export function expectedElectraShapes(c: ElectraModelFields, kind: ElectraKind): Map<string, number[]> {
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

/** A bare HF ElectraModel file: its encoder names lack the `electra.` prefix. */
export function isBareElectraModel(names: Iterable<string>): boolean {
  let encoder = false;
  for (const n of names) {
    if (n.startsWith('electra.')) return false;
    if (n.startsWith('embeddings.') || n.startsWith('embeddings_project.') || n.startsWith('encoder.')) encoder = true;
  }
  return encoder;
}

/** The name a file's tensor has here: `electra.`-prefixed in a bare ElectraModel, legacy names fixed; null for an ignored buffer. */
export function normalizedName(name: string, bare: boolean): string | null {
  const prefixed = bare && (name.startsWith('embeddings.') || name.startsWith('embeddings_project.') || name.startsWith('encoder.')) ? `electra.${name}` : name;
  return IGNORED_BUFFERS.includes(prefixed) ? null : fixLegacyName(prefixed);
}

/**
 * A loaded HF state dict in our names (normalizedName: bare-model prefix, legacy names, ignored buffers dropped)
 * and, for the generator, `generator_lm_head.weight` aliased to the word embeddings when the file omits it
 * (safetensors drops tied weights). Throws if two tensors map to one name.
 */
export function normalizeHFStateDict(tensors: Map<string, HostTensor>, kind: ElectraKind | null, source: string): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  const bare = isBareElectraModel(tensors.keys());
  for (const [name, t] of tensors) {
    const fixed = normalizedName(name, bare);
    if (fixed === null) continue;
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
  tensors: Map<string, { shape: readonly number[]; dtype?: string }>, c: ElectraModelFields, kind: ElectraKind, source: string,
): void {
  checkTensorShapes(tensors, expectedElectraShapes(c, kind), source, `the ${kind} config`);
}

/** `tensors` must be exactly `want` (name → shape) with float dtypes; one error lists up to 10 problems. */
export function checkTensorShapes(
  tensors: Map<string, { shape: readonly number[]; dtype?: string }>, want: Map<string, readonly number[]>, source: string, what: string,
): void {
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
    throw new CheckpointError(source, `does not match ${what}: ${problems.slice(0, 10).join('; ')}${more}`);
  }
}

/**
 * Refuses non-finite values: a NaN or ±Inf weight makes every output NaN or saturated, silently. The error
 * names the file and (up to 5) tensors with their count and first bad index.
 */
export function checkFiniteTensors(tensors: Iterable<[string, HostTensor]>, source: string): void {
  const bad: string[] = [];
  let total = 0;
  for (const [name, t] of tensors) {
    if (t.dtype !== 'f32') continue;
    const d = t.data;
    let count = 0, first = -1;
    for (let i = 0; i < d.length; i++) {
      // v - v is 0 for finite values and NaN for NaN and ±Inf: one comparison per element.
      if (d[i] - d[i] !== 0) { if (first < 0) first = i; count++; }
    }
    if (count) { total++; if (bad.length < 5) bad.push(`'${name}' has ${count} non-finite value${count > 1 ? 's' : ''} (first ${d[first]} at flat index ${first})`); }
  }
  if (total) throw new CheckpointError(source, `non-finite weights: ${bad.join('; ')}${total > bad.length ? ` (and ${total - bad.length} more tensors)` : ''}`);
}
