// `electra build-data`: corpus files or a bundled corpus → ELECTRA pre-training shards (worker threads).
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { buildShards, writeFileAtomic } from '../text/node/index.js';
import { trainWordPieceVocab } from '../text/train-vocab.js';
import { formatVocabTxt } from '../text/vocab.js';
import { WordPieceTokenizer } from '../text/wordpiece.js';
import { guard, intOption, loadDocuments, parse, tokenizerFrom, UsageError } from './text-common.js';

export const help = `usage: electra build-data (--corpus NAME | FILE...) (--vocab FILE | --tokenizer PATH | --vocab-size N) --out DIR [options]

Packs sentences into ELECTRA pre-training examples ([CLS] A [SEP] B [SEP], spec §2.1) and writes binary
shards DIR/shard-NNNNN.bin, DIR/vocab.txt and DIR/manifest.json. Input files: UTF-8, one sentence per
line, a blank line between documents (each file also ends a document).

  --corpus NAME       bundled corpus: sotu, moby-dick, brown or all
  --vocab FILE        vocab.txt to tokenize with (or --tokenizer tokenizer.json|DIR)
  --vocab-size N      train a vocabulary of N tokens on the corpus first instead
  --out DIR           output directory (required)
  --seq-len N         maximum example length in tokens (default 128)
  --seed N            seed for segment splits and short examples (default 0)
  --workers N         worker threads (default: CPU count; 0 = this thread)
  --chunk-mb N        megabytes of text per shard (default 4)
  --cased             do not lowercase or strip accents`;

export function run(argv: string[]): Promise<number> {
  return guard('build-data', async () => {
    const { values, positionals } = parse(argv, {
      corpus: { type: 'string' }, vocab: { type: 'string' }, tokenizer: { type: 'string' }, 'vocab-size': { type: 'string' },
      out: { type: 'string' }, 'seq-len': { type: 'string' }, seed: { type: 'string' }, workers: { type: 'string' },
      'chunk-mb': { type: 'string' }, cased: { type: 'boolean' },
  });
  if (!values.out) { console.error(help); return 2; }
  const seqLen = intOption(values['seq-len'], 'seq-len', 128, 5);
  const t0 = performance.now();
  const docs = loadDocuments(values.corpus, positionals);
  let tok: WordPieceTokenizer;
  if (values['vocab-size'] !== undefined) {
    if (values.vocab || values.tokenizer) throw new UsageError('give either --vocab-size or --vocab/--tokenizer, not both');
    const vocab = trainWordPieceVocab(docs.flat(), { vocabSize: intOption(values['vocab-size'], 'vocab-size', 0, 6), tokenizer: values.cased ? { lowercase: false } : {} });
    mkdirSync(values.out, { recursive: true });
    writeFileAtomic(join(values.out, 'vocab.txt'), formatVocabTxt(vocab));
    tok = new WordPieceTokenizer(vocab, values.cased ? { lowercase: false } : {});
    console.error(`electra build-data: trained ${vocab.length}-token vocabulary (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  } else tok = tokenizerFrom(values);
  const tty = process.stderr.isTTY;
  let last = 0;
  const m = await buildShards(docs, tok, {
    outDir: values.out, seqLen, seed: intOption(values.seed, 'seed', 0), chunkChars: intOption(values['chunk-mb'], 'chunk-mb', 4, 1) * 1e6,
    workers: values.workers === undefined ? undefined : intOption(values.workers, 'workers', 0),
    onProgress: (p) => {
      const now = performance.now();
      if (now - last < 250 && p.shardsDone < p.shards) return;
      last = now;
      const line = `${(p.chars / 1e6).toFixed(1)}/${(p.totalChars / 1e6).toFixed(1)} MB  shards ${p.shardsDone}/${p.shards}  ${p.examples} examples  ${p.examplesPerSec.toFixed(0)} ex/s  ETA ${p.etaSec.toFixed(0)} s`;
      process.stderr.write(tty ? `\r${line}   ` : line + '\n');
    },
  });
  if (tty) process.stderr.write('\n');
  console.error(`electra build-data: ${m.examples} examples, ${m.tokens} tokens in ${m.shards.length} shards → ${values.out} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  return 0;
  });
}
