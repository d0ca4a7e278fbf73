// `electra baseline-bow`: the bag-of-words logistic-regression baseline (src/electra/tasks/bow.ts) on a user's
// CSV/TSV/JSONL files with named text and label columns (readTable), or on the bundled SpamAssassin split:
// per-epoch dev metrics, the best epoch's weights kept, test metrics, --json for one machine-readable object.

import { type BowEpoch, evaluateBow, trainBow } from '../electra/tasks/bow.js';
import type { TableFormat, TextDataset } from '../text/datasets.js';
import { loadSpamAssassin, readTable } from '../text/node/datasets.js';
import { loadTokenizer } from '../text/node/files.js';
import { deviceOption } from './infer-common.js';
import { UsageError, guard, intOption, parse } from './text-common.js';

export const help = `usage: electra baseline-bow (--train FILE --dev FILE --text-col C --label-col C | --dataset spam-assassin) [options]

Trains a bag-of-words multinomial logistic regression (tf-idf features of the training split's terms,
Adam with an L2 penalty, on the device) and reports dev accuracy and macro-F1 after every epoch; the
weights of the best dev epoch are kept and, with --test, scored on the test file.

  --dataset spam-assassin   the bundled SpamAssassin e-mails with their fixed train/dev/test split (ham, spam)
  --train FILE, --dev FILE, --test FILE   CSV, TSV or JSONL (by extension, or --format) with a header row
  --text-col C    text column        --text-col-b C   second text column (pairs: one bag of both)
  --label-col C   class label column (labels: the training file's distinct values; dev/test must use them)
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
      dataset: { type: 'string' }, json: { type: 'boolean' },
    });
    if (positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    const format = values.format as TableFormat | undefined;
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
    let train: TextDataset, dev: TextDataset, test: TextDataset | null;
    if (values.dataset !== undefined) {
      if (values.dataset !== 'spam-assassin') throw new UsageError(`--dataset must be spam-assassin, got ${JSON.stringify(values.dataset)}`);
      if (values.train || values.dev || values.test) throw new UsageError('give --dataset or --train/--dev/--test files, not both');
      [train, dev, test] = (['train', 'dev', 'test'] as const).map((split) => loadSpamAssassin(split));
    } else {
      for (const k of ['train', 'dev', 'text-col', 'label-col'] as const) if (!values[k]) throw new UsageError(`give --${k} (or --dataset spam-assassin)`);
      const cols = { textCol: values['text-col']!, textColB: values['text-col-b'], labelCol: values['label-col']!, format };
      train = readTable(values.train!, cols);
      // Dev and test take the training labels: a class unseen in training is an error naming file and line.
      dev = readTable(values.dev!, { ...cols, labels: train.labels! });
      test = values.test ? readTable(values.test, { ...cols, labels: train.labels! }) : null;
    }
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
