// One shard from text in the line format (a sentence per line, blank lines between documents): tokenize,
// pack into ELECTRA examples, serialize. The unit of work of the parallel shard builder; pure and browser-safe.

import { buildExamples, type Example } from './examples.js';
import { textToDocuments } from './corpus.js';
import { encodeShard } from './shard.js';
import { vocabHash } from './vocab.js';
import type { WordPieceTokenizer } from './wordpiece.js';

export interface ShardBuildResult { bytes: Uint8Array; examples: number; tokens: number }

/** Builds the examples of `text` with seed words [seed, index] and encodes them as one shard. */
export function buildShardFromText(tok: WordPieceTokenizer, text: string, seqLen: number, seed: number, index: number,
  onSentence?: (chars: number, examplesSoFar: number) => void): ShardBuildResult {
  const examples: Example[] = [];
  const tokenize = (s: string) => { onSentence?.(s.length + 1, examples.length); return tok.tokenizeToIds(s); };
  for (const e of buildExamples(textToDocuments(text), tokenize, { maxLength: seqLen, clsId: tok.clsId, sepId: tok.sepId, seed: [seed, index] })) examples.push(e);
  const bytes = encodeShard(examples, { vocabHash: vocabHash(tok.tokens), vocabSize: tok.vocabSize, seqLen });
  return { bytes, examples: examples.length, tokens: examples.reduce((n, e) => n + e.ids.length, 0) };
}
