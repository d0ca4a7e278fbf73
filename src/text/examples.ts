// Pre-training examples exactly as ELECTRA's build_pretraining_dataset.py ExampleBuilder makes them (spec §2.1):
// tokenized sentences are packed until the target length is reached or a document ends; the first segment
// target is (target − 3) // 2, or unlimited with p = 0.1; A and B are cut to fit; the next target is
// randint(5, maxLength) with p = 0.05. The randomness is our seeded Rng, so the choices are reproducible
// but not the same draws as Python's `random`.

import { Rng } from './random.js';

/** One example: `[CLS] A [SEP] (B [SEP])` without padding; tokens [0, firstSegEnd) have segment id 0. */
export interface Example { ids: number[]; firstSegEnd: number }

export interface ExampleBuilderOptions {
  maxLength: number;
  clsId: number;
  sepId: number;
  /** Seed words for the Rng (e.g. [seed, shardIndex]). */
  seed: number | number[];
}

export class ExampleBuilder {
  private sentences: number[][] = [];
  private length = 0;
  private target: number;
  private readonly rng: Rng;

  constructor(private readonly o: ExampleBuilderOptions) {
    if (!(o.maxLength >= 5)) throw new Error(`ExampleBuilder: maxLength must be at least 5, got ${o.maxLength}`);
    this.target = o.maxLength;
    this.rng = new Rng(...(Array.isArray(o.seed) ? o.seed : [o.seed]));
  }

  /** Adds one tokenized sentence (no [CLS]/[SEP]); returns an example when the target length is reached. */
  addSentence(ids: number[]): Example | null {
    if (ids.length === 0) return null;
    this.sentences.push(ids);
    this.length += ids.length;
    return this.length >= this.target ? this.create() : null;
  }

  /** A blank line: flushes the current example, if any. */
  endDocument(): Example | null {
    return this.length > 0 ? this.create() : null;
  }

  private create(): Example {
    const { maxLength, clsId, sepId } = this.o;
    // Small chance of a single segment, as in classification tasks.
    const firstTarget = this.rng.random() < 0.1 ? 100000 : Math.floor((this.target - 3) / 2);
    let first: number[] = [], second: number[] = [];
    for (const s of this.sentences) {
      // To A if A is empty, if it keeps A under its target, or (B still empty, A under target) on a coin flip.
      if (first.length === 0 || first.length + s.length < firstTarget
        || (second.length === 0 && first.length < firstTarget && this.rng.random() < 0.5)) first = first.concat(s);
      else second = second.concat(s);
    }
    first = first.slice(0, maxLength - 2);
    second = second.slice(0, Math.max(0, maxLength - first.length - 3));
    this.sentences = [];
    this.length = 0;
    this.target = this.rng.random() < 0.05 ? this.rng.randint(5, maxLength) : maxLength;
    const ids = [clsId, ...first, sepId];
    const firstSegEnd = ids.length;
    if (second.length > 0) ids.push(...second, sepId);
    return { ids, firstSegEnd };
  }
}

/**
 * Examples from documents (arrays of sentences) in order; `tokenize` maps a sentence to ids (no specials).
 * Lines are stripped first, and an empty line inside a document is a document boundary, as in the reference.
 */
export function* buildExamples(documents: Iterable<readonly string[]>, tokenize: (s: string) => number[], o: ExampleBuilderOptions): Generator<Example> {
  const b = new ExampleBuilder(o);
  for (const doc of documents) {
    for (const line of doc) {
      const t = line.trim();
      const e = t === '' ? b.endDocument() : b.addSentence(tokenize(t));
      if (e) yield e;
    }
    const e = b.endDocument();
    if (e) yield e;
  }
}
