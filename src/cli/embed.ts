// `electra embed`: L2-normalised sentence embeddings ([CLS] or mean-pooled) of many texts — arguments, a file,
// stdin lines, or the sentences of a bundled corpus — in batches with progress on stderr, written as JSONL or as
// the binary index (header + float32 rows + JSON metadata, src/electra/tasks/embed.ts) that `electra search` reads.

import { existsSync, statSync } from 'node:fs';
import { type EmbeddingIndex, POOLINGS, type Pooling, embedTexts } from '../electra/tasks/embed.js';
import { type IndexFormat, indexFormatOf, indexToStdout, loadEncoder, writeIndexFile } from '../node/embed-io.js';
import { Progress } from '../node/progress.js';
import { BUNDLED_CORPORA, type BundledCorpusName, loadBundledCorpus } from '../text/node/corpus.js';
import { decodeUtf8, readTextFile } from '../text/node/files.js';
import { deviceOption, modelDirectory, warnIfUntrained } from './infer-common.js';
import { UsageError, guard, intOption, parse } from './text-common.js';

export const help = `usage: electra embed --model DIR [options] [TEXT...]

Embeds texts with an ELECTRA encoder and writes one unit-length vector per text. Texts come from the
arguments, --input FILE (one per line), --corpus NAME (the sentences of a bundled corpus) or stdin lines;
empty lines are skipped.

  --model DIR      an ELECTRA model directory (RUN/discriminator, RUN/generator, a fine-tuned model or a
                   Hugging Face one); only its encoder is used
  --pooling P      mean (default: the mean of the last hidden states over the text's tokens, [CLS] and
                   [SEP] included, padding excluded) | cls (the [CLS] state; ELECTRA pre-trains no
                   sentence-level task, so [CLS] is only meaningful after fine-tuning)
  --input FILE     texts, one per line          --corpus NAME  ${BUNDLED_CORPORA.join(' | ')}
  --limit N        the first N texts only
  --out FILE       where to write (default: JSONL on stdout). FILE.bin gets the binary index:
                     64-byte header: "EWGEMBED", u32 version 1, u32 64, u32 rows n, u32 dim d,
                     u32 metadata bytes m (little-endian, rest zero); then n·d float32 (row-major);
                     then m bytes of JSON {"format", "pooling", "model", "texts"}
                   (numpy: np.fromfile(FILE, '<f4', n*d, offset=64).reshape(n, d)). Any other name: JSONL,
                   one {"id", "text", "pooling", "embedding"} per line
  --format F       jsonl | bin (overrides the file name)
  --batch N        texts per forward (default 32; results do not depend on it)
  --max-length N   tokens per text including [CLS]/[SEP] (default: the model's positions); longer texts are cut
  --device D       webgpu | cpu | auto (default auto)`;

export function run(argv: string[]): Promise<number> {
  return guard('embed', async () => {
    const { values, positionals } = parse(argv, {
      model: { type: 'string' }, pooling: { type: 'string' }, input: { type: 'string' }, corpus: { type: 'string' },
      limit: { type: 'string' }, out: { type: 'string' }, format: { type: 'string' }, batch: { type: 'string' },
      'max-length': { type: 'string' }, device: { type: 'string' },
    });
    const pooling = (values.pooling ?? 'mean') as Pooling;
    if (!POOLINGS.includes(pooling)) throw new UsageError(`--pooling must be ${POOLINGS.join(' or ')}, got ${JSON.stringify(values.pooling)}`);
    const format = (values.format ?? (values.out ? indexFormatOf(values.out) : 'jsonl')) as IndexFormat;
    if (format !== 'jsonl' && format !== 'bin') throw new UsageError(`--format must be jsonl or bin, got ${JSON.stringify(values.format)}`);
    if (format === 'bin' && !values.out) throw new UsageError('the binary format needs --out FILE');
    const sources = [positionals.length > 0, values.input !== undefined, values.corpus !== undefined].filter(Boolean).length;
    if (sources > 1) throw new UsageError('give texts as arguments, --input FILE or --corpus NAME (one of them)');
    const { dir, tokenizer } = modelDirectory(values.model);
    warnIfUntrained(dir);
    const batchSize = intOption(values.batch, 'batch', 32, 1);
    const maxLength = values['max-length'] === undefined ? undefined : intOption(values['max-length'], 'max-length', 0, 2);
    const limit = intOption(values.limit, 'limit', Number.MAX_SAFE_INTEGER, 1);

    let texts: string[];
    if (positionals.length) texts = positionals;
    else if (values.input !== undefined) {
      if (!existsSync(values.input) || statSync(values.input).isDirectory()) throw new Error(`--input ${values.input}: no such file`);
      texts = lines(readTextFile(values.input, { allowEmpty: true }));
    } else if (values.corpus !== undefined) {
      if (!(BUNDLED_CORPORA as readonly string[]).includes(values.corpus)) throw new UsageError(`--corpus must be one of ${BUNDLED_CORPORA.join(', ')}, got ${JSON.stringify(values.corpus)}`);
      texts = loadBundledCorpus(values.corpus as BundledCorpusName).flat();
    } else {
      if (process.stdin.isTTY) throw new UsageError('give texts as arguments, --input FILE, --corpus NAME, or lines on stdin');
      const chunks: Buffer[] = [];
      for await (const c of process.stdin as AsyncIterable<Buffer>) chunks.push(c);
      texts = lines(decodeUtf8(Buffer.concat(chunks), '<stdin>', { allowEmpty: true }));
    }
    texts = texts.slice(0, limit);
    if (texts.length === 0) throw new Error('no texts to embed (all lines empty?)');

    const device = await deviceOption(values.device);
    const model = await loadEncoder(dir, device);
    process.stderr.write(`embedding ${texts.length} texts with ${dir} (${pooling} pooling, dim ${model.config.hiddenSize}) on ${device.name}\n`);
    const progress = new Progress(texts.length, 'texts ', Math.max(1, Math.floor(texts.length / 20)), process.stderr);
    const e = await embedTexts(model, tokenizer, texts, device, { pooling, batchSize, maxLength, onProgress: (d) => progress.update(d) });
    if (e.truncated) process.stderr.write(`note: ${e.truncated} texts were longer than ${maxLength ?? model.config.maxPositionEmbeddings} tokens and were cut\n`);
    const ix: EmbeddingIndex = { ...e, texts, model: dir };
    if (values.out) {
      await writeIndexFile(values.out, ix, format);
      process.stderr.write(`wrote ${values.out} (${format}, ${e.rows} × ${e.dim})\n`);
    } else await indexToStdout(ix);
    return 0;
  });
}

/** Non-empty lines, a trailing \r removed. */
function lines(text: string): string[] {
  return text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l)).filter((l) => l.trim() !== '');
}
