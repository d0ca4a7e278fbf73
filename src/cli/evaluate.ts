// `electra evaluate`: a fine-tuned model's metrics on a labelled split (dev by default) — the task's metrics, a
// confusion matrix for classification, and optionally every prediction as JSONL. The label ids are the model's
// (config.json id2label); a label in the data that the model does not know is an error naming it.

import { writeFileSync } from 'node:fs';
import { evaluate, type TaskData } from '../electra/tasks/finetune.js';
import { loadHeadModel } from '../node/finetune-io.js';
import { fmtNum } from '../node/progress.js';
import { DATA_HELP, DATA_OPTIONS, loadTaskData, nullThreshold } from './finetune-common.js';
import { deviceOption, modelDirectory } from './infer-common.js';
import { UsageError, guard, intOption, parse } from './text-common.js';

export const help = `usage: electra evaluate --model DIR DATA [options]

Evaluates a fine-tuned model (a directory written by \`electra finetune\`, or a Hugging Face
ElectraForSequenceClassification / ElectraForTokenClassification / ElectraForQuestionAnswering directory)
on a labelled split and prints its metrics (accuracy, macro-F1, MCC and a confusion matrix for
classification; Pearson/Spearman for regression; token accuracy/macro-F1 for tagging; EM/F1 for SQuAD).
The data options are those of \`electra finetune\`; only the evaluated split is read (--dev FILE for files).

${DATA_HELP}

  --split S            dev | test | train for --task/--dataset (default dev)
  --max-len N          tokens per sequence (default 128; 384 for squad)
  --batch N            sequences per forward pass (default 64)
  --null-threshold X   SQuAD v2: answer "" when the [CLS] score beats the best span by more than X
  --predictions FILE   write one JSON line per example (prediction and gold)
  --json               print the metrics as one JSON object
  --device D           webgpu | cpu | auto (default auto)`;

export function run(argv: string[]): Promise<number> {
  return guard('evaluate', async () => {
    const { values: v } = parse(argv, {
      ...DATA_OPTIONS, model: { type: 'string' }, split: { type: 'string' }, 'max-len': { type: 'string' }, batch: { type: 'string' },
      predictions: { type: 'string' }, json: { type: 'boolean' }, device: { type: 'string' }, 'null-threshold': { type: 'string' },
    });
    const split = (v.split ?? 'dev') as 'dev' | 'test' | 'train';
    if (!['dev', 'test', 'train'].includes(split)) throw new UsageError(`--split must be dev, test or train, got ${JSON.stringify(v.split)}`);
    const { dir, tokenizer } = modelDirectory(v.model);
    const task = await loadTaskData(v, 'dev', split);
    const device = await deviceOption(v.device);
    const loaded = await loadHeadModel(dir, device);
    let data: TaskData = task.data;
    const want = data.kind === 'regression' || data.kind === 'classification' ? 'sequence' : data.kind === 'tagging' ? 'token' : 'qa';
    if (loaded.kind !== want) throw new Error(`${dir}: holds a ${loaded.kind} head, the ${task.name} data needs a ${want} head`);
    if (data.kind === 'classification' && loaded.problemType === 'regression') throw new Error(`${dir}: is a regression model; pass --regression for numeric labels`);
    if (data.kind === 'regression' && loaded.problemType !== 'regression') throw new Error(`${dir}: is a ${loaded.labels.length}-class classifier, the data is a regression task`);
    // The model's label ids, not the data's order.
    if (data.kind === 'classification' || data.kind === 'tagging') data = { ...data, labels: loaded.labels };
    const maxLen = intOption(v['max-len'], 'max-len', Math.min(data.kind === 'qa' ? 384 : 128, loaded.config.maxPositionEmbeddings), 3);
    const evalBatchSize = intOption(v.batch, 'batch', 64, 1);
    const t0 = Date.now();
    const r = await evaluate(loaded.model, tokenizer, data, { maxLen, evalBatchSize, nullThreshold: v['null-threshold'] === undefined ? null : nullThreshold(v['null-threshold']) }, device);
    if (v.predictions) writeFileSync(v.predictions, r.predictions.map((p) => JSON.stringify(p)).join('\n') + '\n');
    if (v.json) { process.stdout.write(JSON.stringify({ task: task.name, split, examples: data.dev.length, ...r.metrics }) + '\n'); return 0; }
    console.log(`${task.name} ${split}: ${data.dev.length} examples, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    for (const [k, x] of Object.entries(r.metrics)) if (typeof x === 'number') console.log(`  ${k.padEnd(14)} ${Number.isInteger(x) ? x : fmtNum(x)}`);
    const cm = r.metrics.confusion;
    if (Array.isArray(cm) && 'labels' in data) {
      const names = data.labels, w = Math.max(6, ...names.map((n) => n.length), ...cm.flat().map((c) => String(c).length));
      console.log(`\nconfusion matrix (rows gold, columns predicted):\n${''.padEnd(w)}  ${names.map((n) => n.padStart(w)).join(' ')}`);
      cm.forEach((row, i) => console.log(`${names[i].padEnd(w)}  ${row.map((c) => String(c).padStart(w)).join(' ')}`));
    }
    if (v.predictions) console.log(`predictions: ${v.predictions}`);
    return 0;
  });
}
