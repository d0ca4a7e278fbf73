// `electra plot`: a run's metrics.jsonl → an SVG of its loss and accuracy curves (default RUN/curves.svg),
// written atomically. RUN may also be the metrics file itself.

import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { dedupeRecords, parseMetrics, renderCurves } from '../electra/model/plot.js';
import { writeFileAtomic } from '../node/files.js';
import { UsageError, guard, parse } from './text-common.js';

export const help = `usage: electra plot RUN [--out FILE.svg]

Renders the training curves of a pre-training run (RUN/metrics.jsonl) as an SVG: total, MLM and
discriminator loss, MLM accuracy, discriminator accuracy and AUC, and the learning rate; train records
as solid lines, eval records (split "eval") dashed. Steps logged twice by a resumed run keep the last record.

  RUN             a run directory (holding metrics.jsonl) or a metrics .jsonl file
  --out FILE      where to write the SVG (default RUN/curves.svg)
  --title TEXT    the title (default: "ELECTRA pre-training: <run name>")`;

export function run(argv: string[]): Promise<number> {
  return guard('plot', async () => {
    const { values, positionals } = parse(argv, { out: { type: 'string' }, title: { type: 'string' } });
    if (positionals.length !== 1) throw new UsageError(`give exactly one run directory, got ${positionals.length}`);
    const target = positionals[0];
    if (!existsSync(target)) throw new Error(`${target}: no such run directory or file`);
    const isDir = statSync(target).isDirectory();
    const metrics = isDir ? join(target, 'metrics.jsonl') : target;
    const runDir = isDir ? target : dirname(target);
    if (!existsSync(metrics)) throw new Error(`${target}: no metrics.jsonl (is it a run directory written by electra pretrain?)`);
    const records = parseMetrics(await readFile(metrics, 'utf8'), metrics);
    if (records.length === 0) throw new Error(`${metrics}: no records yet`);
    const name = basename(resolve(runDir));
    const svg = renderCurves(records, { title: values.title ?? `ELECTRA pre-training: ${name}` });
    const out = values.out ?? join(runDir, 'curves.svg');
    await writeFileAtomic(out, svg);
    const splits = [...dedupeRecords(records)].map(([s, rs]) => `${rs.length} ${s}`).join(', ');
    console.log(`wrote ${out} (${splits} records, steps ${Math.min(...records.map((r) => r.step))}–${Math.max(...records.map((r) => r.step))})`);
    return 0;
  });
}
