// ELECTRA model configuration: one typed object, presets that only override, and `applyOverrides`
// which rejects unknown keys and wrong types (a typo never silently falls back to a default).
// Field names are camelCase versions of Hugging Face's ElectraConfig (config.json uses snake_case;
// see hf.ts for the mapping). Sizes follow the authors' code (spec §1): heads = max(1, H/64),
// FFN = 4H, and the generator shrinks in width only.

export interface ElectraConfig {
  vocabSize: number;
  /** E: embedding width, shared by generator and discriminator (a projection maps E → H when they differ). */
  embeddingSize: number;
  /** H: discriminator hidden size. */
  hiddenSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  intermediateSize: number;
  hiddenDropoutProb: number;
  attentionProbsDropoutProb: number;
  maxPositionEmbeddings: number;
  typeVocabSize: number;
  initializerRange: number;
  layerNormEps: number;
  /** Generator hidden size as a fraction of H (paper small: 1/4; the released small++: 1). */
  generatorHiddenFraction: number;
  /** Generator depth as a fraction of the discriminator's (authors: 1.0). */
  generatorLayersFraction: number;
}

const base: ElectraConfig = {
  vocabSize: 30522, embeddingSize: 768, hiddenSize: 768, numHiddenLayers: 12, numAttentionHeads: 12,
  intermediateSize: 3072, hiddenDropoutProb: 0.1, attentionProbsDropoutProb: 0.1, maxPositionEmbeddings: 512,
  typeVocabSize: 2, initializerRange: 0.02, layerNormEps: 1e-12, generatorHiddenFraction: 1 / 3, generatorLayersFraction: 1,
};

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
  if (!(name in presets)) throw new Error(`unknown preset '${name}' (have: ${Object.keys(presets).join(', ')})`);
  return { ...base, ...presets[name as PresetName] };
}

/** The generator's encoder config derived from the discriminator's (spec §1.2). */
export function generatorConfig(c: ElectraConfig): ElectraConfig {
  const hidden = Math.round(c.hiddenSize * c.generatorHiddenFraction);
  return {
    ...c,
    hiddenSize: hidden,
    numHiddenLayers: Math.round(c.numHiddenLayers * c.generatorLayersFraction),
    numAttentionHeads: Math.max(1, Math.floor(hidden / 64)),
    intermediateSize: 4 * hidden,
  };
}

/**
 * Returns `defaults` with `overrides` applied. Unknown keys and values of another type throw,
 * naming the key, the expected type and the value given. Strings from a command line are parsed
 * into the default's type ("0.1" → 0.1, "true" → true).
 */
export function applyOverrides<T extends object>(defaults: T, overrides: Record<string, unknown>, what = 'config'): T {
  const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [k, raw] of Object.entries(overrides)) {
    if (!(k in defaults)) {
      const near = Object.keys(defaults).filter((d) => d.toLowerCase().includes(k.toLowerCase().slice(0, 4)));
      throw new Error(`${what}: unknown key '${k}'${near.length ? ` (did you mean ${near.join(', ')}?)` : ''}`);
    }
    const want = typeof (defaults as Record<string, unknown>)[k];
    let v = raw;
    if (typeof raw === 'string' && want !== 'string') {
      if (want === 'number') v = raw.trim() === '' ? NaN : Number(raw);
      else if (want === 'boolean') v = raw === 'true' ? true : raw === 'false' ? false : raw;
    }
    if (typeof v !== want || (want === 'number' && !Number.isFinite(v as number))) {
      throw new Error(`${what}: '${k}' must be a ${want}, got ${JSON.stringify(raw)}`);
    }
    out[k] = v;
  }
  return out as T;
}
