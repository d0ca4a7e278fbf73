// ELECTRA model configuration from ONE descriptor table, FIELDS: each field's camelCase key, its Hugging Face
// config.json name, its type, HF ElectraConfig's default and its rule. The `ElectraConfig` type, the HF
// field names and defaults (formats/hf.ts), `--set` parsing and all validation derive from it; nothing
// else lists the fields (nn's EncoderConfig is a structural subset and names no defaults or rules).
// Every problem names the key, the value and the rule. Sizes follow the authors' code (spec §1): heads =
// max(1, H/64), FFN = 4H, and the generator shrinks in width only.

type Kind = 'int' | 'number' | 'string' | 'boolean' | 'int|null';
/**
 * model: ours and config.json's. run: ours only (how pre-training sizes the generator; not in config.json).
 * file: config.json only (HF fields we check and write back but whose value is fixed here).
 */
type Scope = 'model' | 'run' | 'file';

export interface FieldSpec {
  key: string;
  hf: string | null;
  scope: Scope;
  kind: Kind;
  dflt: number | string | boolean | null;
  /** Numeric bounds: ≥ ge, > gt, ≤ le, < lt. */
  ge?: number; gt?: number; le?: number; lt?: number;
  /** The only values accepted for a string field. */
  oneOf?: readonly string[];
  doc: string;
}

/** The fields; defaults are HF ElectraConfig's (its small discriminator), spec §1.3. */
const FIELDS = [
  { key: 'vocabSize', hf: 'vocab_size', scope: 'model', kind: 'int', dflt: 30522, ge: 1, doc: 'V: vocabulary size' },
  { key: 'embeddingSize', hf: 'embedding_size', scope: 'model', kind: 'int', dflt: 128, ge: 1, doc: 'E: embedding width, shared by generator and discriminator (projected to H when they differ)' },
  { key: 'hiddenSize', hf: 'hidden_size', scope: 'model', kind: 'int', dflt: 256, ge: 1, doc: 'H: hidden size' },
  { key: 'numHiddenLayers', hf: 'num_hidden_layers', scope: 'model', kind: 'int', dflt: 12, ge: 1, doc: 'encoder layers' },
  { key: 'numAttentionHeads', hf: 'num_attention_heads', scope: 'model', kind: 'int', dflt: 4, ge: 1, doc: 'attention heads (H must be a multiple)' },
  { key: 'intermediateSize', hf: 'intermediate_size', scope: 'model', kind: 'int', dflt: 1024, ge: 1, doc: 'FFN width' },
  { key: 'hiddenAct', hf: 'hidden_act', scope: 'file', kind: 'string', dflt: 'gelu', oneOf: ['gelu'], doc: 'the FFN activation: exact GELU only' },
  { key: 'hiddenDropoutProb', hf: 'hidden_dropout_prob', scope: 'model', kind: 'number', dflt: 0.1, ge: 0, lt: 1, doc: 'dropout after embeddings and dense layers' },
  { key: 'attentionProbsDropoutProb', hf: 'attention_probs_dropout_prob', scope: 'model', kind: 'number', dflt: 0.1, ge: 0, lt: 1, doc: 'dropout on attention probabilities' },
  { key: 'maxPositionEmbeddings', hf: 'max_position_embeddings', scope: 'model', kind: 'int', dflt: 512, ge: 1, doc: 'position table size (longest sequence)' },
  { key: 'typeVocabSize', hf: 'type_vocab_size', scope: 'model', kind: 'int', dflt: 2, ge: 1, doc: 'token-type (segment) table size' },
  // Above 1 the truncated-normal init overflows f32 activations within a few layers (1e30 gives NaN at step 1).
  { key: 'initializerRange', hf: 'initializer_range', scope: 'model', kind: 'number', dflt: 0.02, gt: 0, le: 1, doc: 'std of the truncated-normal init' },
  { key: 'layerNormEps', hf: 'layer_norm_eps', scope: 'model', kind: 'number', dflt: 1e-12, gt: 0, le: 1, doc: 'LayerNorm epsilon (≤ 0 divides by zero on a constant row)' },
  { key: 'padTokenId', hf: 'pad_token_id', scope: 'model', kind: 'int|null', dflt: 0, ge: 0, doc: '[PAD] id: its word-embedding row gets no gradient (HF padding_idx); null: none' },
  { key: 'positionEmbeddingType', hf: 'position_embedding_type', scope: 'file', kind: 'string', dflt: 'absolute', oneOf: ['absolute'], doc: 'learned absolute positions only' },
  { key: 'summaryType', hf: 'summary_type', scope: 'file', kind: 'string', dflt: 'first', doc: 'HF SequenceSummary (multiple choice; unused here)' },
  { key: 'summaryUseProj', hf: 'summary_use_proj', scope: 'file', kind: 'boolean', dflt: true, doc: 'HF SequenceSummary (unused here)' },
  { key: 'summaryActivation', hf: 'summary_activation', scope: 'file', kind: 'string', dflt: 'gelu', doc: 'HF SequenceSummary (unused here)' },
  { key: 'summaryLastDropout', hf: 'summary_last_dropout', scope: 'file', kind: 'number', dflt: 0.1, ge: 0, lt: 1, doc: 'HF SequenceSummary (unused here)' },
  { key: 'generatorHiddenFraction', hf: null, scope: 'run', kind: 'number', dflt: 1, gt: 0, le: 1, doc: 'generator hidden size as a fraction of H (paper small: 1/4; released small++: 1)' },
  { key: 'generatorLayersFraction', hf: null, scope: 'run', kind: 'number', dflt: 1, gt: 0, le: 1, doc: "generator depth as a fraction of the discriminator's (authors: 1)" },
] as const satisfies readonly FieldSpec[];

type Field = (typeof FIELDS)[number];
type ValueOf<K extends Kind> = K extends 'int' | 'number' ? number : K extends 'string' ? string : K extends 'boolean' ? boolean : number | null;
type FieldsOf<S extends Scope> = { -readonly [F in Field as F['scope'] extends S ? F['key'] : never]: ValueOf<F['kind']> };

/** The model and run fields (camelCase). */
export type ElectraConfig = FieldsOf<'model' | 'run'>;
/** The fields a config.json holds (camelCase), ours and HF's fixed ones. */
export type ElectraFileFields = FieldsOf<'model' | 'file'>;
/** The fields that size and shape the network (what checkpoints are checked against). */
export type ElectraModelFields = FieldsOf<'model'>;
export type ElectraFieldKey = Field['key'];

/** The descriptors, for formats/hf.ts (config.json names) and tools; read-only. */
export const ELECTRA_FIELDS: readonly FieldSpec[] = FIELDS;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Largest element count of one tensor: kernels index elements with signed 32-bit integers. */
const MAX_TENSOR_ELEMENTS = 2 ** 31 - 1;

/** Defaults of the fields in `scopes`, as a fresh object. */
export function fieldDefaults(scopes: readonly Scope[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of FIELDS) if ((scopes as readonly string[]).includes(f.scope)) out[f.key] = f.dflt;
  return out;
}

/** HF ElectraConfig's defaults with our run fields (generator = discriminator size). */
export function defaultElectraConfig(): ElectraConfig {
  return fieldDefaults(['model', 'run']) as ElectraConfig;
}

/** "an integer ≥ 1", "a number in (0, 1]", "'gelu'", … */
export function ruleText(f: FieldSpec): string {
  if (f.kind === 'string') return f.oneOf ? `one of ${f.oneOf.map((s) => `'${s}'`).join(', ')}` : 'a string';
  if (f.kind === 'boolean') return 'true or false';
  const what = f.kind === 'number' ? 'a number' : 'an integer';
  const lo = f.ge !== undefined ? `[${f.ge}` : f.gt !== undefined ? `(${f.gt}` : null;
  const hi = f.le !== undefined ? `${f.le}]` : f.lt !== undefined ? `${f.lt})` : null;
  const range = lo && hi ? ` in ${lo}, ${hi}` : lo ? ` ${lo[0] === '[' ? '≥' : '>'} ${lo.slice(1)}` : hi ? ` ${hi.endsWith(']') ? '≤' : '<'} ${hi.slice(0, -1)}` : '';
  return `${what}${range}${f.kind === 'int|null' ? ', or null' : ''}`;
}

function valueOk(f: FieldSpec, v: unknown): boolean {
  switch (f.kind) {
    case 'string': return typeof v === 'string' && (!f.oneOf || f.oneOf.includes(v));
    case 'boolean': return typeof v === 'boolean';
    default: {
      if (f.kind === 'int|null' && v === null) return true;
      if (typeof v !== 'number' || !Number.isFinite(v) || (f.kind !== 'number' && !Number.isSafeInteger(v))) return false;
      return (f.ge === undefined || v >= f.ge) && (f.gt === undefined || v > f.gt) && (f.le === undefined || v <= f.le) && (f.lt === undefined || v < f.lt);
    }
  }
}

export type Naming = 'ts' | 'hf';
const BY_KEY = new Map<string, FieldSpec>(FIELDS.map((f) => [f.key, f]));
const nameOf = (key: string, naming: Naming) => (naming === 'hf' ? BY_KEY.get(key)?.hf ?? key : key);
const show = (v: unknown) => (typeof v === 'number' ? String(v) : JSON.stringify(v) ?? String(v));

export interface CheckOptions {
  /** Name fields as config.json does (snake_case) instead of camelCase. */
  naming?: Naming;
  /** Also check the generator that pre-training derives (generatorConfig). */
  pretraining?: boolean;
}

/**
 * Every problem of the fields present in `c`, one line each naming the key, the value and the rule
 * (`numHiddenLayers = -1: must be an integer ≥ 1`); [] when valid. Cross-field rules run when their fields are valid.
 */
export function configProblems(c: Record<string, unknown>, o: CheckOptions = {}): string[] {
  const naming = o.naming ?? 'ts';
  const n = (k: string) => nameOf(k, naming);
  const problems: string[] = [];
  const good = new Set<string>();
  for (const f of FIELDS) {
    if (!(f.key in c)) continue;
    if (valueOk(f, c[f.key])) good.add(f.key);
    else problems.push(`${n(f.key)} = ${show(c[f.key])}: must be ${ruleText(f)}`);
  }
  const has = (...ks: ElectraFieldKey[]) => ks.every((k) => good.has(k));
  const v = c as Record<ElectraFieldKey, number>;
  if (has('hiddenSize', 'numAttentionHeads') && v.hiddenSize % v.numAttentionHeads !== 0) {
    problems.push(`${n('hiddenSize')} = ${v.hiddenSize}: must be a multiple of ${n('numAttentionHeads')} = ${v.numAttentionHeads}`);
  }
  if (has('padTokenId', 'vocabSize') && c.padTokenId !== null && v.padTokenId >= v.vocabSize) {
    problems.push(`${n('padTokenId')} = ${v.padTokenId}: must be below ${n('vocabSize')} = ${v.vocabSize}`);
  }
  for (const [a, b] of [['vocabSize', 'embeddingSize'], ['maxPositionEmbeddings', 'embeddingSize'], ['intermediateSize', 'hiddenSize'], ['hiddenSize', 'hiddenSize'], ['hiddenSize', 'embeddingSize']] as const) {
    if (has(a, b) && v[a] * v[b] > MAX_TENSOR_ELEMENTS) {
      problems.push(`${n(a)} × ${n(b)} = ${v[a]} × ${v[b]}: one tensor must have at most 2^31 − 1 elements`);
    }
  }
  if (o.pretraining && has('hiddenSize', 'numHiddenLayers', 'generatorHiddenFraction', 'generatorLayersFraction')) {
    const g = generatorConfig(c as unknown as ElectraConfig);
    const f = `${n('generatorHiddenFraction')} = ${c.generatorHiddenFraction}`;
    if (g.hiddenSize < 1) problems.push(`${f}: gives the generator hidden size ${g.hiddenSize}; it must be at least 1`);
    else if (g.hiddenSize % g.numAttentionHeads !== 0) {
      problems.push(`${f}: gives the generator hidden size ${g.hiddenSize}, not a multiple of its max(1, ⌊${g.hiddenSize}/64⌋) = ${g.numAttentionHeads} heads`);
    }
    if (g.numHiddenLayers < 1) problems.push(`${n('generatorLayersFraction')} = ${c.generatorLayersFraction}: gives the generator ${g.numHiddenLayers} layers; it must have at least 1`);
  }
  return problems;
}

/** Throws a ConfigError listing every problem (`where: problem; problem`), else returns `c`. */
export function checkElectraConfig<T extends object>(c: T, where: string, o: CheckOptions = {}): T {
  const problems = configProblems(c as Record<string, unknown>, o);
  if (problems.length) throw new ConfigError(`${where}: ${problems.join('; ')}`);
  return c;
}

/** Width-derived sizes, as the authors' get_bert_config: heads = max(1, H/64), FFN = 4H. */
function sized(hidden: number, layers: number, embedding: number, gen: number): Partial<ElectraConfig> {
  return {
    hiddenSize: hidden, numHiddenLayers: layers, embeddingSize: embedding,
    numAttentionHeads: Math.max(1, Math.floor(hidden / 64)), intermediateSize: 4 * hidden, generatorHiddenFraction: gen,
  };
}

export const presets = {
  /** Trains in minutes on a CPU/lavapipe: the demo and the tests. Vocabulary set by the data. */
  tiny: { ...sized(128, 2, 64, 0.5), numAttentionHeads: 2, maxPositionEmbeddings: 128 },
  /** Paper ELECTRA-Small: generator 1/4 width (hidden 64). */
  small: sized(256, 12, 128, 0.25),
  /** Released electra-small checkpoints: generator at full width. */
  'small++': sized(256, 12, 128, 1),
  base: sized(768, 12, 768, 1 / 3),
  large: sized(1024, 24, 1024, 0.25),
} satisfies Record<string, Partial<ElectraConfig>>;

export type PresetName = keyof typeof presets;

export function presetConfig(name: string): ElectraConfig {
  if (!(name in presets)) throw new ConfigError(`unknown preset '${name}' (have: ${Object.keys(presets).join(', ')})`);
  return checkElectraConfig({ ...defaultElectraConfig(), ...presets[name as PresetName] }, `preset '${name}'`, { pretraining: true });
}

/** The generator's encoder config derived from the discriminator's (spec §1.2); it derives no generator itself. */
export function generatorConfig(c: ElectraConfig): ElectraConfig {
  const hidden = Math.round(c.hiddenSize * c.generatorHiddenFraction);
  return {
    ...c,
    hiddenSize: hidden,
    numHiddenLayers: Math.round(c.numHiddenLayers * c.generatorLayersFraction),
    numAttentionHeads: Math.max(1, Math.floor(hidden / 64)),
    intermediateSize: 4 * hidden,
    generatorHiddenFraction: 1,
    generatorLayersFraction: 1,
  };
}

/**
 * `c` with `overrides` applied and the result checked (all problems at once). Keys are the camelCase fields of
 * ElectraConfig; strings from a command line are parsed to the field's type ("0.1" → 0.1, "null" for a
 * nullable id). An unknown key throws, suggesting near names. `pretraining` also checks the derived generator.
 */
export function applyOverrides(c: ElectraConfig, overrides: Record<string, unknown>, what = 'model config', o: { pretraining?: boolean } = {}): ElectraConfig {
  const out: Record<string, unknown> = { ...c };
  for (const [k, raw] of Object.entries(overrides)) {
    const f = BY_KEY.get(k);
    if (!f || f.scope === 'file') {
      const byHf = FIELDS.find((d) => d.hf === k && d.scope !== 'file');
      const stem = k.toLowerCase().replace(/_/g, '').slice(0, 4);
      const near = byHf ? [byHf.key] : FIELDS.filter((d) => d.scope !== 'file' && d.key.toLowerCase().includes(stem)).map((d) => d.key);
      throw new ConfigError(`${what}: unknown key '${k}'${near.length ? ` (did you mean ${near.join(', ')}?)` : ''}`);
    }
    let v = raw;
    if (typeof raw === 'string' && f.kind !== 'string') {
      const s = raw.trim();
      if (f.kind === 'boolean') v = s === 'true' ? true : s === 'false' ? false : raw;
      else if (f.kind === 'int|null' && s === 'null') v = null;
      else v = s === '' || Number.isNaN(Number(s)) ? raw : Number(s);
    }
    out[k] = v;
  }
  return checkElectraConfig(out as ElectraConfig, what, o);
}

/** `c` with every missing field at its default (a run-config.json written before a field existed). */
export function completeElectraConfig(c: Partial<ElectraConfig>): ElectraConfig {
  return { ...defaultElectraConfig(), ...c };
}
