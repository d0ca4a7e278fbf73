// `electra baseline-bow`: the bag-of-words logistic-regression baseline (src/electra/bow.ts) on a user's
// CSV/TSV/JSONL files with named text and label columns: per-epoch dev metrics, the best epoch's weights kept,
// optional test metrics, --json for one machine-readable object.

import { existsSync } from 'node:fs';
import { type BowEpoch, evaluateBow, trainBow } from '../electra/bow.js';
import type { TextDataset, TextExample } from '../text/datasets.js';
import { readTextFile } from '../text/node/files.js';
import { loadTokenizer } from '../text/node/files.js';
import { deviceOption } from './infer-common.js';
import { UsageError, guard, intOption, parse } from './text-common.js';

export const help = `usage: electra baseline-bow --train FILE --dev FILE --text-col C --label-col C [options]

Trains a bag-of-words multinomial logistic regression (tf-idf features of the training split's terms,
Adam with an L2 penalty, on the device) and reports dev accuracy and macro-F1 after every epoch; the
weights of the best dev epoch are kept and, with --test, scored on the test file.

  --train FILE, --dev FILE, --test FILE   CSV, TSV or JSONL (by extension, or --format) with a header row
  --text-col C    text column        --text-col-b C   second text column (pairs: one bag of both)
  --label-col C   class label column (labels are the training file's distinct values)
  --format F      csv | tsv | jsonl
  --features F    words (default: lowercased letter/digit runs) | wordpiece (needs --vocab FILE)
  --min-df N      keep terms in ≥ N training texts (default 2)    --max-features N (default 20000)
  --epochs N (default 20)   --batch N (default 32)   --lr X (default 0.02)   --l2 X (default 1e-4)
  --seed N (default 0)      --device D  webgpu | cpu | auto (default auto)
  --json          print one JSON object: {"labels", "features", "best_epoch", "dev": {...}, "test": {...}, "history"}`;

export function run(argv: string[]): Promise<number> {
  return guard('baseline-bow', async () => {
    const { values, positionals } = parse(argv, {
      train: { type: 'string' }, dev: { type: 'string' }, test: { type: 'string' }, 'text-col': { type: 'string' },
      'text-col-b': { type: 'string' }, 'label-col': { type: 'string' }, format: { type: 'string' }, features: { type: 'string' },
      vocab: { type: 'string' }, 'min-df': { type: 'string' }, 'max-features': { type: 'string' }, epochs: { type: 'string' },
      batch: { type: 'string' }, lr: { type: 'string' }, l2: { type: 'string' }, seed: { type: 'string' }, device: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    for (const k of ['train', 'dev', 'text-col', 'label-col'] as const) if (!values[k]) throw new UsageError(`give --${k}`);
    const format = values.format as Format | undefined;
    if (format !== undefined && !['csv', 'tsv', 'jsonl'].includes(format)) throw new UsageError(`--format must be csv, tsv or jsonl, got ${JSON.stringify(format)}`);
    const features = (values.features ?? 'words') as 'words' | 'wordpiece';
    if (features !== 'words' && features !== 'wordpiece') throw new UsageError(`--features must be words or wordpiece, got ${JSON.stringify(values.features)}`);
    if (features === 'wordpiece' && !values.vocab) throw new UsageError('--features wordpiece needs --vocab FILE (a vocab.txt or model directory)');
    const real = (v: string | undefined, name: string, dflt: number, min: number) => {
      if (v === undefined) return dflt;
      const x = Number(v);
      if (!Number.isFinite(x) || x < min || (min > 0 && x === 0)) throw new UsageError(`--${name} must be a number ${min > 0 ? '> 0' : '≥ 0'}, got ${JSON.stringify(v)}`);
      return x;
    };
    const cols = { text: values['text-col']!, textB: values['text-col-b'], label: values['label-col']! };
    const train = readLabelled(values.train!, cols, format);
    const dev = readLabelled(values.dev!, cols, format);
    const test = values.test ? readLabelled(values.test, cols, format) : null;
    const device = await deviceOption(values.device);
    const log = values.json ? (x: string) => process.stderr.write(x + '\n') : (x: string) => console.log(x);
    log(`train ${train.examples.length}, dev ${dev.examples.length}${test ? `, test ${test.examples.length}` : ''} examples; labels ${JSON.stringify(train.labels)}; device ${device.name}`);
    const line = (e: BowEpoch) => `epoch ${e.epoch} | train loss ${e.trainLoss.toFixed(4)} | dev loss ${e.dev.loss.toFixed(4)} | dev acc ${e.dev.accuracy.toFixed(4)} | dev macro-F1 ${e.dev.macroF1.toFixed(4)}`;
    const r = await trainBow(train, dev, device, {
      features, tokenizer: values.vocab ? loadTokenizer(values.vocab) : undefined,
      minDf: intOption(values['min-df'], 'min-df', 2, 1), maxFeatures: intOption(values['max-features'], 'max-features', 20000, 1),
      epochs: intOption(values.epochs, 'epochs', 20, 1), batchSize: intOption(values.batch, 'batch', 32, 1),
      lr: real(values.lr, 'lr', 0.02, 1e-12), l2: real(values.l2, 'l2', 1e-4, 0), seed: intOption(values.seed, 'seed', 0),
      onEpoch: (e) => log(line(e)),
    });
    const testM = test ? await evaluateBow(r.model, test) : null;
    const snake = (m: { n: number; accuracy: number; macroF1: number; loss: number }) => ({ n: m.n, accuracy: m.accuracy, macro_f1: m.macroF1, loss: m.loss });
    if (values.json) {
      process.stdout.write(JSON.stringify({
        labels: r.model.labels, features: r.model.vectorizer.size, best_epoch: r.best.epoch, dev: snake(r.best.dev), test: testM ? snake(testM) : null,
        history: r.history.map((e) => ({ epoch: e.epoch, train_loss: e.trainLoss, dev: snake(e.dev) })),
      }) + '\n');
      return 0;
    }
    console.log(`${r.model.vectorizer.size} features; best dev epoch ${r.best.epoch}: accuracy ${r.best.dev.accuracy.toFixed(4)}, macro-F1 ${r.best.dev.macroF1.toFixed(4)}`);
    if (testM) console.log(`test (${testM.n} examples): accuracy ${testM.accuracy.toFixed(4)}, macro-F1 ${testM.macroF1.toFixed(4)}`);
    return 0;
  });
}

type Format = 'csv' | 'tsv' | 'jsonl';

/**
 * A labelled table as a TextDataset (labels: the distinct label values, sorted). A small reader for this command
 * (header row; CSV with RFC 4180 quotes, TSV split on tabs as GLUE's files, JSONL objects); the shared readers
 * of the fine-tuning commands (src/text/node/datasets.ts) accept the same files.
 */
export function readLabelled(path: string, cols: { text: string; textB?: string; label: string }, format?: Format): TextDataset {
  if (!existsSync(path)) throw new Error(`${path}: no such file`);
  const fmt: Format = format ?? (path.endsWith('.tsv') ? 'tsv' : /\.jsonl?$/.test(path) ? 'jsonl' : 'csv');
  const text = readTextFile(path);
  let records: Record<string, unknown>[];
  if (fmt === 'jsonl') {
    records = text.split('\n').flatMap((l, i) => {
      if (!l.trim()) return [];
      try { return [JSON.parse(l) as Record<string, unknown>]; } catch (e) { throw new Error(`${path}:${i + 1}: not JSON (${(e as Error).message})`); }
    });
  } else {
    const rows = fmt === 'tsv' ? text.split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l !== '').map((l) => l.split('\t')) : parseCsv(text, path);
    if (rows.length === 0) throw new Error(`${path}: empty`);
    const [head, ...body] = rows;
    records = body.map((r, i) => {
      if (r.length !== head.length) throw new Error(`${path}: row ${i + 2} has ${r.length} fields, the header ${head.length}`);
      return Object.fromEntries(head.map((h, k) => [h, r[k]]));
    });
  }
  if (records.length === 0) throw new Error(`${path}: no examples`);
  const examples = records.map((r, i): TextExample => {
    const get = (c: string) => {
      if (!(c in r)) throw new Error(`${path}: no column '${c}' (have: ${Object.keys(r).join(', ')})${fmt === 'jsonl' ? ` at line ${i + 1}` : ''}`);
      const v = r[c];
      if (v === null || typeof v === 'object') throw new Error(`${path}: column '${c}' of example ${i + 1} is ${JSON.stringify(v)}, not text`);
      return String(v);
    };
    return { text: get(cols.text), ...(cols.textB ? { textB: get(cols.textB) } : {}), label: get(cols.label), id: String(i) };
  });
  return { examples, labels: [...new Set(examples.map((e) => e.label as string))].sort(), name: path };
}

/** RFC 4180 CSV: quoted fields may hold commas, newlines and doubled quotes. */
function parseCsv(text: string, path: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [], field = '', i = 0, quoted = false;
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') { if (text[i + 1] === '"') { field += '"'; i += 2; continue; } quoted = false; i++; continue; }
      field += ch; i++; continue;
    }
    if (ch === '"' && field === '') { quoted = true; i++; continue; }
    if (ch === ',') { row.push(field); field = ''; i++; continue; }
    if (ch === '\n' || ch === '\r') {
      row.push(field); field = '';
      if (row.length > 1 || row[0] !== '') rows.push(row);
      row = [];
      i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
      continue;
    }
    field += ch; i++;
  }
  if (quoted) throw new Error(`${path}: a quoted field is not closed`);
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}
