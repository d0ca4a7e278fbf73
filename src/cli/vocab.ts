// `electra vocab`: trains a WordPiece vocabulary (vocab.txt) from a bundled corpus or text files.
import { trainWordPieceVocab } from '../text/train-vocab.js';
import { formatVocabTxt } from '../text/vocab.js';
import { writeFileAtomic } from '../text/node/index.js';
import { guard, intOption, loadDocuments, parse } from './text-common.js';

export const help = `usage: electra vocab (--corpus NAME | FILE...) --size N --out vocab.txt [options]

Trains a BERT-style WordPiece vocabulary (BPE merges with ## continuations, deterministic).
Input files: UTF-8 text, one sentence per line, blank lines between documents.

  --corpus NAME         bundled corpus: sotu, moby-dick, brown or all
  --size N              vocabulary size including special tokens (required)
  --out FILE            where to write vocab.txt (required; written atomically)
  --min-frequency N     stop when the most frequent pair is rarer (default 2)
  --limit-alphabet N    keep at most N distinct characters (default 1000)
  --layout bert|compact [PAD]=0 and [UNK] [CLS] [SEP] [MASK]=100..103, or the five first
                        (default: bert for sizes ≥ 2000)
  --cased               do not lowercase or strip accents`;

export function run(argv: string[]): Promise<number> {
  return guard('vocab', async () => {
    const { values, positionals } = parse(argv, {
      corpus: { type: 'string' }, size: { type: 'string' }, out: { type: 'string' }, 'min-frequency': { type: 'string' },
      'limit-alphabet': { type: 'string' }, layout: { type: 'string' }, cased: { type: 'boolean' },
  });
  if (!values.size || !values.out) { console.error(help); return 2; }
  const layout = values.layout;
  if (layout !== undefined && layout !== 'bert' && layout !== 'compact') { console.error('electra vocab: --layout must be bert or compact'); return 2; }
  const t0 = performance.now();
  const docs = loadDocuments(values.corpus, positionals);
  const vocab = trainWordPieceVocab(docs.flat(), {
    vocabSize: intOption(values.size, 'size', 0, 6), minFrequency: intOption(values['min-frequency'], 'min-frequency', 2, 1),
    limitAlphabet: intOption(values['limit-alphabet'], 'limit-alphabet', 1000, 1), layout,
    tokenizer: values.cased ? { lowercase: false } : {},
  });
  writeFileAtomic(values.out, formatVocabTxt(vocab));
  console.error(`electra vocab: ${vocab.length} tokens from ${docs.length} documents → ${values.out} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  return 0;
  });
}
