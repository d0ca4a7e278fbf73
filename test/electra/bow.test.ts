// The bag-of-words logistic-regression baseline: tf-idf features by hand, metrics on hand cases, gradients of the
// embedding-bag loss (with L2) against finite differences, and learning a separable 3-class toy task on the device
// (dev accuracy and macro-F1 1, falling loss, probabilities that sum to 1, clear errors for bad labels).
import { suite } from 'uvu';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import { BowVectorizer, bowLoss, disposeBow, evaluateBow, packRows, predictBow, trainBow } from '../../src/electra/tasks/bow.js';
import { HostRng } from '../../src/nn/init.js';
import { tensor } from '../../src/tensor/tensor.js';
import type { TextDataset, TextExample } from '../../src/text/datasets.js';
import { WordPieceTokenizer } from '../../src/text/wordpiece.js';
import { assertClose, checkGrad, cpu, gpu, rand } from '../helpers.js';

const s = suite('bag-of-words baseline');

s('vectorizer: vocabulary by document frequency (minDf, maxFeatures), sublinear tf-idf, unit rows', () => {
  const ex: TextExample[] = [
    { text: 'Spam spam SPAM, eggs.', label: 'a' }, { text: 'eggs and ham', label: 'b' }, { text: "ham isn't spam", label: 'a' }, { text: 'toast', label: 'b' },
  ];
  const v = BowVectorizer.fit(ex, { minDf: 2 });
  assert.equal(v.terms, ['eggs', 'ham', 'spam']); // df 2 each (ties by name); 'and', "isn't", 'toast' once
  const N = 4, idf = Math.log((1 + N) / (1 + 2)) + 1;
  assertClose(Array.from(v.idf), [idf, idf, idf], { atol: 1e-12 });
  const r = v.transform([ex[0], { text: 'nothing known', label: 'a' }]);
  assert.equal(Array.from(r.ids[0]), [0, 2]);
  const raw = [1 * idf, (1 + Math.log(3)) * idf], n = Math.hypot(...raw);
  assertClose(r.vals[0], raw.map((x) => x / n), { atol: 1e-7, label: 'tf-idf' });
  assert.is(r.ids[1].length, 0, 'no known term: an empty row (logits = bias)');
  assert.equal(BowVectorizer.fit(ex, { minDf: 1, maxFeatures: 2 }).terms, ['eggs', 'ham']);
  assert.throws(() => BowVectorizer.fit(ex, { minDf: 5 }), /no term occurs in 5 or more/);
  // Pairs are one bag; WordPiece features use the tokenizer's pieces.
  assert.equal(Array.from(v.transform([{ text: 'ham', textB: 'eggs', label: 'a' }]).ids[0]), [0, 1]);
  const tok = new WordPieceTokenizer(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'spam', '##s', 'ham', 'egg']);
  assert.equal(BowVectorizer.fit([{ text: 'spams eggs', label: 'a' }, { text: 'spam', label: 'b' }], { features: 'wordpiece', tokenizer: tok, minDf: 1 }).terms, ['spam', '##s', 'egg']);
  const p = packRows(r, [1, 0]);
  assert.equal([p.B, p.L, Array.from(p.ids)], [2, 2, [0, 0, 0, 2]]);
});

s('gradients of the loss (embedding bag, cross-entropy, L2) match finite differences', async () => {
  const ids = [0, 3, 3, 0, 4, 1, 0, 0]; // [2, 4]: a repeated id, and padding (id 0, value 0) in row 1
  const vals = [0.5, -1.2, 0.3, 0, 0.8, 0.6, 0, 0];
  await checkGrad((W, b, v) => bowLoss(W, b, tensor(Int32Array.from(ids), [2, 4], { device: W.device, dtype: 'i32' }), v,
    tensor(Int32Array.from([2, 0]), [2], { device: W.device, dtype: 'i32' }), 0.3, 0.7),
  [{ data: rand(15, 3), shape: [5, 3] }, { data: rand(3, 4), shape: [3] }, { data: vals, shape: [2, 4] }], { label: 'bowLoss' });
});

s('a batch split into several bags (the gather size limit) trains to the same weights', async () => {
  const train = toy(24, 1, 'toy-train'), devSet = toy(9, 2, 'toy-dev');
  const o = { epochs: 2, batchSize: 8, lr: 0.1, l2: 0.01, keepBest: false };
  const whole = await trainBow(train, devSet, cpu, o);
  const Fn = whole.model.vectorizer.size, L = Math.max(...whole.model.vectorizer.transform(train.examples).ids.map((r) => r.length));
  const split = await trainBow(train, devSet, cpu, { ...o, maxBagElements: (Fn + 1) * L * 3 }); // ≤ 3 rows per bag
  assertClose(await split.model.W.data(), await whole.model.W.data(), { atol: 1e-6, label: 'W' });
  assertClose([split.history[1].trainLoss], [whole.history[1].trainLoss], { atol: 1e-6, label: 'train loss' });
});

const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'echo', 'fox', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'lima'];
const CUES = [['apple', 'pear'], ['car', 'train'], ['red', 'blue']];
function toy(n: number, seed: number, name: string): TextDataset {
  const r = new HostRng(seed), pick = <T>(a: T[]) => a[Math.floor(r.uniform() * a.length)];
  const examples = Array.from({ length: n }, (_, i): TextExample => {
    const c = i % 3;
    const words = [...Array.from({ length: 6 }, () => pick(WORDS)), pick(CUES[c])];
    for (let k = words.length - 1; k > 0; k--) { const j = Math.floor(r.uniform() * (k + 1)); [words[k], words[j]] = [words[j], words[k]]; }
    return { text: words.join(' '), label: ['fruit', 'vehicle', 'colour'][c] };
  });
  return { examples, labels: ['fruit', 'vehicle', 'colour'], name };
}

s('learns a separable 3-class task on the device: dev accuracy and macro-F1 1, loss falls', async () => {
  const dev = (await gpu()) ?? cpu;
  const train = toy(60, 1, 'toy-train'), devSet = toy(30, 2, 'toy-dev');
  const epochs: number[] = [];
  const r = await trainBow(train, devSet, dev, { epochs: 8, batchSize: 16, lr: 0.1, l2: 1e-4, onEpoch: (e) => epochs.push(e.trainLoss) });
  assert.is(r.history.length, 8);
  assert.ok(epochs[7] < epochs[0] * 0.5, `train loss falls: ${epochs.map((x) => x.toFixed(3)).join(' ')}`);
  assert.is(r.best.dev.accuracy, 1);
  assert.is(r.best.dev.macroF1, 1);
  // The kept weights are the best epoch's: evaluating them again gives its numbers.
  const again = await evaluateBow(r.model, devSet);
  assert.is(again.accuracy, r.best.dev.accuracy);
  assertClose([again.loss], [r.best.dev.loss], { atol: 1e-9 });
  const P = await predictBow(r.model, [{ text: 'apple alpha beta', label: 'fruit' }, { text: 'blue kilo', label: 'colour' }]);
  assertClose([P[0] + P[1] + P[2], P[3] + P[4] + P[5]], [1, 1], { atol: 1e-12 });
  assert.ok(P[0] > 0.5 && P[5] > 0.5, `cue words decide: ${Array.from(P).map((x) => x.toFixed(2))}`);
  // Chance on shuffled labels: the task is not learnable without the cues (the test can fail).
  const noCue: TextDataset = { ...devSet, examples: devSet.examples.map((e) => ({ ...e, text: e.text.split(' ').filter((w) => WORDS.includes(w)).join(' ') })) };
  assert.ok((await evaluateBow(r.model, noCue)).accuracy < 0.8);
  disposeBow(r.model);
});

s('bad labels and regression data are refused, naming the dataset and example', async () => {
  const train = toy(9, 1, 'toy-train');
  const bad: TextDataset = { ...toy(3, 2, 'toy-dev'), examples: [{ text: 'a', label: 'vegetable' }] };
  await trainBow(train, bad, cpu, { epochs: 1 }).then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /dev set 'toy-dev': example 0 has label "vegetable", not one of/));
  await trainBow({ ...train, labels: null }, train, cpu).then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /regression dataset/));
});

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const cli = (...args: string[]) => spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', env: { ...process.env } });

s('CLI baseline-bow: CSV (quoted fields) and JSONL files, --json metrics; missing columns named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'electra-bow-'));
  try {
    const csv = (d: TextDataset) => 'id,body,kind\n' + d.examples.map((e, i) => `${i},"${e.text}, ""quoted""",${e.label}`).join('\n') + '\n';
    writeFileSync(join(dir, 'train.csv'), csv(toy(60, 1, 'train')));
    writeFileSync(join(dir, 'dev.jsonl'), toy(30, 2, 'dev').examples.map((e) => JSON.stringify({ body: e.text, kind: e.label })).join('\n') + '\n');
    const p = cli('baseline-bow', '--train', join(dir, 'train.csv'), '--dev', join(dir, 'dev.jsonl'), '--text-col', 'body', '--label-col', 'kind',
      '--epochs', '6', '--batch', '16', '--lr', '0.1', '--device', 'cpu', '--json');
    assert.is(p.status, 0, p.stderr);
    const j = JSON.parse(p.stdout) as { labels: string[]; features: number; dev: { accuracy: number; macro_f1: number }; history: unknown[] };
    assert.equal(j.labels, ['colour', 'fruit', 'vehicle']);
    assert.is(j.history.length, 6);
    assert.is(j.dev.accuracy, 1);
    assert.is(j.dev.macro_f1, 1);
    assert.ok(j.features > 12, 'the quoted word is a feature too');
    assert.match(p.stderr, /epoch 6 \| train loss/);
    const bad = cli('baseline-bow', '--train', join(dir, 'train.csv'), '--dev', join(dir, 'dev.jsonl'), '--text-col', 'text', '--label-col', 'kind', '--device', 'cpu');
    assert.is(bad.status, 1);
    assert.match(bad.stderr, /train.csv: no column "text"; the columns are/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

s.run();
