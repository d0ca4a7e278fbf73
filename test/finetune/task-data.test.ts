// The fine-tuning commands' data options (src/cli/finetune-common.ts) on small files: GLUE layouts with the authors'
// task rules (MRPC/STS-B pairs doubled with A and B swapped, 10 epochs for RTE/STS-B, MCC for CoLA), user files
// with the dev labels checked against the training labels, fixed subsets independent of the seed, and option errors.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTaskData } from '../../src/cli/finetune-common.js';
import type { TextExample } from '../../src/electra/tasks/finetune-data.js';

const s = suite('fine-tuning task data');
const root = mkdtempSync(join(tmpdir(), 'electra-taskdata-'));
s.after(() => rmSync(root, { recursive: true, force: true }));

const write = (rel: string, text: string) => { mkdirSync(join(root, rel, '..'), { recursive: true }); writeFileSync(join(root, rel), text); };
const fail = (p: Promise<unknown>, re: RegExp) => p.then(() => assert.unreachable(`expected ${re}`), (e: Error) => assert.match(e.message, re));

s('GLUE: MRPC pairs train in both orders, dev as given; RTE gets 10 epochs; CoLA picks MCC', async () => {
  const mrpc = 'Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t1\t2\tthe cat sat\ta cat was sitting\n0\t3\t4\tit rained\tthe sun shone\n';
  write('MRPC/train.tsv', mrpc); write('MRPC/dev.tsv', mrpc);
  const t = await loadTaskData({ task: 'mrpc', data: root }, 'both');
  assert.is(t.data.kind, 'classification');
  const train = t.data.train as TextExample[];
  assert.equal(train.map((x) => [x.text, x.textB, x.label]), [
    ['the cat sat', 'a cat was sitting', '1'], ['a cat was sitting', 'the cat sat', '1'],
    ['it rained', 'the sun shone', '0'], ['the sun shone', 'it rained', '0'],
  ]);
  assert.is(t.data.dev.length, 2);
  assert.is(t.epochs, undefined);
  assert.is(t.metric, undefined);
  const rte = 'index\tsentence1\tsentence2\tlabel\n0\ta b\tc d\tentailment\n1\te f\tg h\tnot_entailment\n';
  write('RTE/train.tsv', rte); write('RTE/dev.tsv', rte);
  const r = await loadTaskData({ task: 'rte', data: join(root, 'RTE') }, 'both');
  assert.is(r.epochs, 10);
  assert.is(r.data.train.length, 2, 'RTE is not doubled');
  write('CoLA/train.tsv', 'gj04\t1\t\tthe cat sat .\ngj04\t0\t*\tcat the sat .\n'); write('CoLA/dev.tsv', 'gj04\t1\t\tit ran .\n');
  const c = await loadTaskData({ task: 'cola', data: root }, 'both');
  assert.is(c.metric, 'mcc');
  assert.equal(c.data.kind === 'classification' && c.data.labels, ['0', '1']);
  write('MRPC/test.tsv', 'index\t#1 ID\t#2 ID\t#1 String\t#2 String\n0\t1\t2\ta b\tc d\n');
  await fail(loadTaskData({ task: 'mrpc', data: root }, 'dev', 'test'), /GLUE mrpc test has no labels/);
  // Evaluation reads only the evaluated split.
  const ev = await loadTaskData({ task: 'mrpc', data: root }, 'dev');
  assert.is(ev.data.train.length, 0);
  assert.is(ev.data.dev.length, 2);
});

s('user files: dev labels must occur in training; regression; fixed subsets; one data source', async () => {
  write('u/train.csv', 'text,label\nthe cat,pos\na dog,neg\nthe mat,pos\nit ran,neg\nbig red,pos\n');
  write('u/dev.csv', 'text,label\nthe cat,pos\n');
  write('u/bad.csv', 'text,label\nthe cat,maybe\n');
  const opts = { train: join(root, 'u/train.csv'), dev: join(root, 'u/dev.csv'), 'text-col': 'text', 'label-col': 'label' };
  const t = await loadTaskData(opts, 'both');
  assert.equal(t.data.kind === 'classification' && t.data.labels, ['neg', 'pos']);
  assert.is(t.name, 'train');
  await fail(loadTaskData({ ...opts, dev: join(root, 'u/bad.csv') }, 'both'), /bad\.csv:2: label "maybe" in column "label" is not one of/);
  const a = await loadTaskData({ ...opts, 'max-train': '3' }, 'both'), b = await loadTaskData({ ...opts, 'max-train': '3' }, 'both');
  assert.is(a.data.train.length, 3);
  assert.equal(a.data.train, b.data.train, 'the same subset every time');
  write('u/reg.csv', 'text,score\nx,1.5\ny,2\n');
  const reg = await loadTaskData({ train: join(root, 'u/reg.csv'), dev: join(root, 'u/reg.csv'), 'text-col': 'text', 'label-col': 'score', regression: true }, 'both');
  assert.is(reg.data.kind, 'regression');
  assert.equal(reg.data.train.map((x) => (x as TextExample).label), [1.5, 2]);
  await fail(loadTaskData({ ...opts, dataset: 'spam-assassin' }, 'both'), /give one data source, not --dataset and --train\/--dev/);
  await fail(loadTaskData({}, 'both'), /give the data/);
  await fail(loadTaskData({ ...opts, 'text-col': undefined }, 'both'), /give --text-col/);
  await fail(loadTaskData({ task: 'sst3', data: root }, 'both'), /--task must be one of cola, sst2/);
  await fail(loadTaskData({ task: 'sst2' }, 'both'), /--task sst2 needs --data DIR/);
  await fail(loadTaskData({ dataset: 'imdb' }, 'both'), /--dataset must be one of spam-assassin, brown-pos/);
  await fail(loadTaskData({ ...opts, 'max-train': '0' }, 'both'), /--max-train must be a positive integer/);
});

s.run();
