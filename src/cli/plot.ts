// `electra plot`: a run's metrics.jsonl → an SVG of its curves (default RUN/curves.svg), written atomically.
// RUN may also be the metrics file itself. A pre-training run (electra pretrain) and a fine-tuning run (electra
// finetune: dev records per epoch) are told apart by their records and drawn each as what it is.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { dedupeRecords, isFinetuneRun, parseMetrics, renderCurves, renderFinetuneCurves } from '../electra/model/plot.js';
import { writeFileAtomic } from '../node/files.js';
import { UsageError, guard, parse } from './text-common.js';

export const help = `usage: electra plot RUN [--out FILE.svg]

Renders the training curves of a run (RUN/metrics.jsonl) as an SVG.
  pre-training (electra pretrain): total, MLM and discriminator loss, MLM accuracy, discriminator accuracy
    and AUC, and the learning rate; train records as solid lines, eval records (split "eval") dashed.
    Steps logged twice by a resumed run keep the last record.
  fine-tuning (electra finetune): training loss per step (epoch ends dotted), the dev metric per epoch with
    the best epoch ringed (the metric of RUN/eval.json, the one that picked it), and the learning rate;
    with --runs N, one line per seed.

  RUN             a run directory (holding metrics.jsonl) or a metrics .jsonl file
  --out FILE      where to write the SVG (default RUN/curves.svg)
  --title TEXT    the title (default: "ELECTRA pre-training: <run name>" or "ELECTRA fine-tuning: <run name>")`;

export function run(argv: string[]): Promise<number> {
  return guard('plot', async () => {
    const { values, positionals } = parse(argv, { out: { type: 'string' }, title: { type: 'string' } });
    if (positionals.length !== 1) throw new UsageError(`give exactly one run directory, got ${positionals.length}`);
    const target = positionals[0];
    if (!existsSync(target)) throw new Error(`${target}: no such run directory or file`);
    const isDir = statSync(target).isDirectory();
    const metrics = isDir ? join(target, 'metrics.jsonl') : target;
    const runDir = isDir ? target : dirname(target);
    if (!existsSync(metrics)) throw new Error(`${target}: no metrics.jsonl (is it a run directory written by electra pretrain or electra finetune?)`);
    const records = parseMetrics(await readFile(metrics, 'utf8'), metrics);
    if (records.length === 0) throw new Error(`${metrics}: no records yet`);
    const name = basename(resolve(runDir));
    const finetuned = isFinetuneRun(records);
    const svg = finetuned
      ? renderFinetuneCurves(records, { title: values.title ?? `ELECTRA fine-tuning: ${name}`, metric: evalMetric(runDir) })
      : renderCurves(records, { title: values.title ?? `ELECTRA pre-training: ${name}` });
    const out = values.out ?? join(runDir, 'curves.svg');
    await writeFileAtomic(out, svg);
    const splits = [...dedupeRecords(records)].map(([s, rs]) => `${rs.length} ${s}`).join(', ');
    console.log(`wrote ${out} (${finetuned ? 'fine-tuning' : 'pre-training'} run: ${splits} records, steps ${Math.min(...records.map((r) => r.step))}–${Math.max(...records.map((r) => r.step))})`);
    return 0;
  });
}

/** The metric that picked the best epoch, from the run's eval.json (absent or unreadable: the renderer's default). */
function evalMetric(runDir: string): string | undefined {
  const path = join(runDir, 'eval.json');
  if (!existsSync(path)) return undefined;
  try {
    const m = (JSON.parse(readFileSync(path, 'utf8')) as { metric?: unknown }).metric;
    return typeof m === 'string' ? m : undefined;
  } catch { return undefined; }
}
