// Shared pieces of `electra finetune` and `electra evaluate`: the data options (a GLUE task directory, a user's
// CSV/TSV/JSONL files with named columns, SQuAD JSON, or a bundled labelled dataset) resolved into a TaskData
// through the dataset readers of src/text/node/datasets.ts, and the task's metric.
// Errors name the option, file or column at fault.

import { HostRng } from '../nn/init.js';
import type { TaskData } from '../electra/tasks/finetune.js';
import { GLUE_TASKS, type GlueSplit, type GlueTaskName, type TableFormat, type TextDataset, type TextExample } from '../text/datasets.js';
import { glueTask, loadBrownPos, loadSpamAssassin, readSquad, readTable } from '../text/node/datasets.js';
import { UsageError } from './text-common.js';

export const BUNDLED_DATASETS = ['spam-assassin', 'brown-pos'] as const;

/** Options every data-reading command accepts (node:util parseArgs config). */
export const DATA_OPTIONS = {
  task: { type: 'string' }, data: { type: 'string' }, train: { type: 'string' }, dev: { type: 'string' },
  'text-col': { type: 'string' }, 'text-col-b': { type: 'string' }, 'label-col': { type: 'string' },
  format: { type: 'string' }, regression: { type: 'boolean' }, dataset: { type: 'string' }, tagset: { type: 'string' },
  'max-train': { type: 'string' }, 'max-dev': { type: 'string' }, 'id-col': { type: 'string' },
} as const;

export const DATA_HELP = `data (one of):
  --task NAME --data DIR   a GLUE task (${GLUE_TASKS.join(', ')}) in its TSV layout (DIR/train.tsv, DIR/dev.tsv …);
                           as the authors: MRPC/STS-B pairs also train swapped, RTE/STS-B default to 10 epochs
  --train FILE --dev FILE --text-col C [--text-col-b C2] --label-col L [--regression] [--format csv|tsv|jsonl]
                           your own files with named columns (a second text column for pairs; --id-col C
                           names each example in predictions.jsonl)
  --task squad --train FILE --dev FILE    SQuAD v1.1/v2 JSON (extractive question answering)
  --dataset NAME           bundled labelled data: spam-assassin (ham/spam e-mails), brown-pos (POS tags;
                           --tagset universal|brown, default universal)
  --max-train N, --max-dev N   use a fixed random subset of N examples (the same for every seed)`;

export interface DataArgs {
  task?: string; data?: string; train?: string; dev?: string; 'text-col'?: string; 'text-col-b'?: string; 'label-col'?: string;
  format?: string; regression?: boolean; dataset?: string; tagset?: string; 'max-train'?: string; 'max-dev'?: string; 'id-col'?: string;
}

export interface LoadedTask {
  data: TaskData; name: string; metric: string | undefined;
  /** The authors' per-task epochs (configure_finetuning.py): 10 for RTE and STS-B, 2 for SQuAD; else the default 3. */
  epochs?: number;
}

function subset<T>(xs: T[], n: number | undefined): T[] {
  if (n === undefined || n >= xs.length) return xs;
  const rng = new HostRng(12345);
  const idx = Array.from({ length: xs.length }, (_, i) => i);
  for (let i = idx.length - 1; i > 0; i--) { const j = Math.floor(rng.uniform() * (i + 1)); [idx[i], idx[j]] = [idx[j], idx[i]]; }
  return idx.slice(0, n).sort((a, b) => a - b).map((i) => xs[i]);
}

function limit(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

/** Class labels of a split pair: the training set's, in its order; a dev label it lacks is an error. */
function unifyLabels(train: TextDataset, dev: TextDataset, devName: string): string[] {
  const labels = train.labels ?? [];
  if (train.examples.length === 0 && dev.labels) return dev.labels; // evaluation only: the dev file's labels
  for (const l of dev.labels ?? []) {
    if (!labels.includes(l)) throw new Error(`${devName}: label ${JSON.stringify(l)} does not occur in the training data (labels: ${labels.join(', ')})`);
  }
  return labels;
}

/**
 * Resolves the data options. `splits` says which sets to read: both for fine-tuning; only `dev` (the evaluated
 * split, named by `evalSplit`) for evaluation, when train comes back empty.
 */
export async function loadTaskData(v: DataArgs, splits: 'both' | 'dev', evalSplit: 'train' | 'dev' | 'test' = 'dev'): Promise<LoadedTask> {
  const maxTrain = limit(v['max-train'], 'max-train'), maxDev = limit(v['max-dev'], 'max-dev');
  const wantTrain = splits === 'both';
  const done = (data: TaskData, name: string, metric?: string, epochs?: number): LoadedTask => {
    (data as { train: unknown[] }).train = subset(data.train as unknown[], maxTrain);
    (data as { dev: unknown[] }).dev = subset(data.dev as unknown[], maxDev);
    return { data, name, metric, epochs };
  };
  const sources = [v.task && v.task !== 'squad' ? '--task' : '', v.dataset ? '--dataset' : '', v.train || v.dev || v.task === 'squad' ? '--train/--dev' : ''].filter(Boolean);
  if (sources.length !== 1) throw new UsageError(sources.length ? `give one data source, not ${sources.join(' and ')}` : 'give the data: --task NAME --data DIR, --train FILE --dev FILE …, or --dataset NAME');
  if (v.dataset) {
    if (v.dataset === 'spam-assassin') {
      const train = wantTrain ? loadSpamAssassin('train') : { examples: [], labels: null, name: '' } as TextDataset;
      const dev = loadSpamAssassin(evalSplit);
      return done({ kind: 'classification', labels: unifyLabels(train, dev, `spam-assassin ${evalSplit}`), train: train.examples, dev: dev.examples }, 'spam-assassin');
    }
    if (v.dataset === 'brown-pos') {
      const tagset = (v.tagset ?? 'universal') as 'universal' | 'brown';
      if (tagset !== 'universal' && tagset !== 'brown') throw new UsageError(`--tagset must be universal or brown, got ${JSON.stringify(v.tagset)}`);
      const train = wantTrain ? loadBrownPos('train', { tagset }) : { examples: [], labels: [] };
      const dev = loadBrownPos(evalSplit, { tagset });
      const labels = wantTrain ? train.labels : dev.labels;
      return done({ kind: 'tagging', labels, train: train.examples, dev: dev.examples }, `brown-pos-${tagset}`);
    }
    throw new UsageError(`--dataset must be one of ${BUNDLED_DATASETS.join(', ')}, got ${JSON.stringify(v.dataset)}`);
  }
  if (v.task === 'squad') {
    if ((wantTrain && !v.train) || !v.dev) throw new UsageError('--task squad needs --train FILE and --dev FILE (SQuAD JSON)');
    return done({ kind: 'qa', train: wantTrain ? readSquad(v.train!) : [], dev: readSquad(v.dev) }, 'squad', undefined, 2);
  }
  if (v.task) {
    if (!(GLUE_TASKS as readonly string[]).includes(v.task)) throw new UsageError(`--task must be one of ${GLUE_TASKS.join(', ')} or squad, got ${JSON.stringify(v.task)}`);
    const task = v.task as GlueTaskName;
    if (!v.data) throw new UsageError(`--task ${v.task} needs --data DIR (the task's GLUE directory)`);
    const train = wantTrain ? glueTask(task, v.data, 'train') : { examples: [], labels: null, name: v.task } as TextDataset;
    const dev = glueTask(task, v.data, evalSplit as GlueSplit);
    if (dev.unlabeled) throw new UsageError(`GLUE ${task} ${evalSplit} has no labels (GLUE test sets are unlabeled); evaluate --split dev, or label it with electra predict`);
    const metric = v.task === 'cola' ? 'mcc' : undefined;
    const epochs = v.task === 'rte' || v.task === 'stsb' ? 10 : undefined;
    // The authors' double_unordered: MRPC and STS-B train on every pair in both orders (the subset is drawn first).
    const doubled = (xs: TextExample[]) => (task === 'mrpc' || task === 'stsb' ? xs.flatMap((x) => [x, { ...x, text: x.textB ?? '', textB: x.text }]) : xs);
    const loaded = (d: TaskData): LoadedTask => {
      const r = done(d, v.task!, metric, epochs);
      (r.data as { train: TextExample[] }).train = doubled(r.data.train as TextExample[]);
      return r;
    };
    if (v.task === 'stsb') return loaded({ kind: 'regression', train: train.examples, dev: dev.examples });
    return loaded({ kind: 'classification', labels: unifyLabels(train, dev, `${v.data} (${evalSplit})`), train: train.examples, dev: dev.examples });
  }
  // The user's own files.
  if ((wantTrain && !v.train) || !v.dev) throw new UsageError('give --train FILE and --dev FILE');
  if (!v['text-col']) throw new UsageError('give --text-col (the column holding the text)');
  if (!v['label-col']) throw new UsageError('give --label-col (the column holding the label)');
  const format = v.format as TableFormat | undefined;
  if (format !== undefined && !['csv', 'tsv', 'jsonl'].includes(format)) throw new UsageError(`--format must be csv, tsv or jsonl, got ${JSON.stringify(v.format)}`);
  const opts = { textCol: v['text-col'], textColB: v['text-col-b'], labelCol: v['label-col'], format, regression: !!v.regression, idCol: v['id-col'] };
  const train = wantTrain ? readTable(v.train!, opts) : { examples: [] as TextExample[], labels: null, name: '' };
  // The dev file is read with the training labels fixed, so a label the training data lacks is an error there.
  const dev = readTable(v.dev, { ...opts, labels: train.labels && wantTrain ? train.labels : undefined });
  const name = (wantTrain ? v.train! : v.dev).replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, '');
  if (v.regression) return done({ kind: 'regression', train: train.examples, dev: dev.examples }, name);
  return done({ kind: 'classification', labels: unifyLabels(train, dev, v.dev), train: train.examples, dev: dev.examples }, name);
}

/** --null-threshold X: any finite number (negative answers "" more often). */
export function nullThreshold(v: string): number {
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x)) throw new UsageError(`--null-threshold must be a number, got ${JSON.stringify(v)}`);
  return x;
}
