// One call for pre-training jobs: a bundled corpus → a vocabulary trained on it → shards on disk → a tokenizer
// and the shard list. A second call with the same parameters reuses the directory (checked via the shard
// headers), so a training script can call it unconditionally at start-up.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { trainWordPieceVocab } from '../train-vocab.js';
import { formatVocabTxt, parseVocabTxt } from '../vocab.js';
import { WordPieceTokenizer } from '../wordpiece.js';
import { buildShards, type BuildProgress, type Manifest } from './build.js';
import { loadBundledCorpus, type BundledCorpusName } from './corpus.js';
import { readTextFile, writeFileAtomic } from './files.js';
import { openShardFiles, shardExpectation } from './shards.js';

export interface PrepareOptions {
  corpus: BundledCorpusName;
  vocabSize: number;
  seqLen: number;
  outDir: string;
  seed?: number;
  workers?: number;
  onProgress?: (p: BuildProgress) => void;
}

export interface PreparedData { tokenizer: WordPieceTokenizer; files: string[]; manifest: Manifest; reused: boolean }

export async function preparePretrainingData(o: PrepareOptions): Promise<PreparedData> {
  const params = { corpus: o.corpus, vocabSize: o.vocabSize, seqLen: o.seqLen, seed: o.seed ?? 0 };
  const paramsFile = join(o.outDir, 'prepare.json');
  const manifestFile = join(o.outDir, 'manifest.json');
  if (existsSync(paramsFile) && existsSync(manifestFile) && readFileSync(paramsFile, 'utf8') === JSON.stringify(params)) {
    const vocabFile = join(o.outDir, 'vocab.txt');
    const tokenizer = new WordPieceTokenizer(parseVocabTxt(readTextFile(vocabFile), vocabFile));
    const manifest = JSON.parse(readTextFile(manifestFile)) as Manifest;
    const files = manifest.shards.map((s) => join(o.outDir, s.file));
    openShardFiles(files, shardExpectation(tokenizer, o.seqLen)); // throws, naming the file, if anything is off
    return { tokenizer, files, manifest, reused: true };
  }
  const docs = loadBundledCorpus(o.corpus);
  const tokenizer = new WordPieceTokenizer(trainWordPieceVocab(docs.flat(), { vocabSize: o.vocabSize }));
  const manifest = await buildShards(docs, tokenizer, { outDir: o.outDir, seqLen: o.seqLen, seed: params.seed, workers: o.workers, onProgress: o.onProgress });
  writeFileAtomic(join(o.outDir, 'vocab.txt'), formatVocabTxt(tokenizer.tokens));
  writeFileAtomic(paramsFile, JSON.stringify(params));
  return { tokenizer, files: manifest.shards.map((s) => join(o.outDir, s.file)), manifest, reused: false };
}
