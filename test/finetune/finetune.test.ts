// The fine-tuning loop on small synthetic tasks (tiny model, WebGPU when present): training lowers the loss and
// beats the majority class for classification, tagging, regression and QA; hooks report every epoch and the best
// one; the model ends with the best epoch's weights; a seed reproduces a run; bad setups fail clearly. Then the
// CLI: `electra predict` on a saved model matches the API, and `electra finetune` → `predict` end to end on a CSV.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ElectraConfig, presetConfig } from '../../src/electra/model/config.js';
import {
  type EpochLog, type TaskData, FINETUNE_SIZE_DEFAULTS, evaluate, finetune, finetuneSizeDefaults, modelSize, predictAnswers, predictSequence, predictTags,
} from '../../src/electra/tasks/finetune.js';
import type { QaExample, TaggedExample, TextExample } from '../../src/electra/tasks/finetune-data.js';
import { type ElectraForQuestionAnswering, type ElectraForSequenceClassification, type ElectraForTokenClassification, type HeadKind, createHeadModel } from '../../src/electra/tasks/heads.js';
import { HostRng } from '../../src/nn/init.js';
import { disposeModule } from '../../src/nn/module.js';
import { saveHeadModel } from '../../src/node/finetune-io.js';
import type { Device } from '../../src/device/device.js';
import { WordPieceTokenizer } from '../../src/text/wordpiece.js';
import { cpu, gpu } from '../helpers.js';

const s = suite('fine-tuning');

const WORDS = Array.from({ length: 30 }, (_, i) => `w${i}`);
const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...WORDS];
const tok = new WordPieceTokenizer(VOCAB);
const cfg: ElectraConfig = {
  ...presetConfig('tiny'), vocabSize: VOCAB.length, embeddingSize: 16, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 64,
  maxPositionEmbeddings: 32,
};
const root = mkdtempSync(join(tmpdir(), 'electra-finetune-'));
s.after(() => rmSync(root, { recursive: true, force: true }));

const rng = new HostRng(42);
const pick = () => WORDS[2 + Math.floor(rng.uniform() * (WORDS.length - 2))];
/** "pos" when the text contains w1, else "neg"; texts of 4–7 random words. */
function clsExamples(n: number): TextExample[] {
  return Array.from({ length: n }, (_, i) => {
    const words = Array.from({ length: 4 + (i % 4) }, pick);
    const pos = i % 2 === 0;
    if (pos) words[Math.floor(rng.uniform() * words.length)] = 'w1';
    return { text: words.join(' '), label: pos ? 'pos' : 'neg', id: `c${i}` };
  });
}
const TRAIN = clsExamples(64), DEV = clsExamples(24);
const fast = { epochs: 4, batchSize: 8, lr: 5e-3, maxLen: 16, logEvery: 1, layerDecay: 0.8 };

let device: Device = cpu;
const model = (kind: HeadKind, n: number, seed = 0) => createHeadModel(kind, cfg, n, { rng: new HostRng(seed), device, std: cfg.initializerRange });

s.before(async () => { device = (await gpu()) ?? cpu; });

s('classification: loss falls, dev accuracy beats chance, hooks per epoch, best weights kept', async () => {
  const data: TaskData = { kind: 'classification', labels: ['neg', 'pos'], train: TRAIN, dev: DEV };
  const m = model('sequence', 2);
  // 4 epochs at 5e-3 sat at the knee of learning (loss ×0.75, accuracy 0.75 with one dropout stream);
  // 5 at 3e-3 gave ×0.02 and 1.0, so the bounds below test learning, not one lucky draw.
  const opts = { ...fast, epochs: 5, lr: 3e-3 };
  const before = await evaluate(m, tok, data, opts, device);
  const epochs: EpochLog[] = [];
  const steps: number[] = [];
  const res = await finetune(m, tok, data, opts, device, { onStep: (x) => { steps.push(x.loss); }, onEpoch: (e) => { epochs.push(e); } });
  assert.is(res.steps, 5 * 8);
  assert.is(steps.length, 40, 'logEvery 1: every step reported');
  assert.is(epochs.length, 5);
  assert.ok(epochs[0].best, 'the first epoch is the best so far');
  const first = steps.slice(0, 8).reduce((a, b) => a + b) / 8, last = steps.slice(-8).reduce((a, b) => a + b) / 8;
  assert.ok(last < first * 0.7, `mean train loss ${first.toFixed(3)} → ${last.toFixed(3)}`);
  const acc = res.best.metrics.accuracy as number;
  assert.ok(acc >= 0.8, `dev accuracy ${acc} (before: ${before.metrics.accuracy}; chance 0.5)`);
  assert.equal(Object.keys(res.best.metrics).sort(), ['accuracy', 'confusion', 'f1', 'macroF1', 'mcc']);
  const cm = res.best.metrics.confusion as number[][];
  assert.is(cm.flat().reduce((a, b) => a + b), DEV.length);
  // The model now holds the best epoch's weights: evaluating again gives its metrics.
  const again = await evaluate(m, tok, data, opts, device);
  assert.is(again.metrics.accuracy, acc);
  const p = again.predictions[0] as { id: string; label: string; gold: string; probabilities: number[] };
  assert.is(p.id, 'c0');
  assert.ok(Math.abs(p.probabilities[0] + p.probabilities[1] - 1) < 1e-6);
  // Prediction on raw text agrees with evaluation.
  const [pr] = await predictSequence(m as ElectraForSequenceClassification, tok, ['neg', 'pos'], [{ text: DEV[0].text }], device);
  assert.is((pr as { label: string }).label, p.label);
  await saveHeadModel(join(root, 'cls'), m, tok, { labels: ['neg', 'pos'], problemType: 'single_label_classification' });
  disposeModule(m);
});

s('precision f16: the same recipe learns as well (dev accuracy within 0.1 of f32; losses differ by f16 rounding)', async () => {
  const data: TaskData = { kind: 'classification', labels: ['neg', 'pos'], train: TRAIN, dev: DEV };
  const run = async (precision: 'f32' | 'f16') => {
    const m = model('sequence', 2, 7);
    const losses: number[] = [];
    const r = await finetune(m, tok, data, { ...fast, epochs: 5, lr: 3e-3, precision }, device, { onStep: (x) => { losses.push(x.loss); } });
    disposeModule(m);
    return { acc: r.best.metrics.accuracy as number, losses };
  };
  const a = await run('f32'), h = await run('f16');
  assert.ok(Math.abs(h.acc - a.acc) <= 0.1, `dev accuracy f16 ${h.acc} vs f32 ${a.acc}`);
  assert.ok(h.losses.some((l, i) => l !== a.losses[i]), 'f16 changed the losses (it ran in f16)');
  assert.ok(h.losses[h.losses.length - 1] < h.losses[0] * 0.5, `f16 loss falls: ${h.losses[0]} → ${h.losses[h.losses.length - 1]}`);
});

s('a seed reproduces a run; another seed differs', async () => {
  const data: TaskData = { kind: 'classification', labels: ['neg', 'pos'], train: TRAIN.slice(0, 16), dev: DEV.slice(0, 8) };
  const o = { ...fast, epochs: 1 };
  const losses = async (seed: number) => {
    const m = model('sequence', 2, seed), l: number[] = [];
    await finetune(m, tok, data, { ...o, seed }, device, { onStep: (x) => { l.push(x.loss); } });
    disposeModule(m);
    return l;
  };
  const mem = () => ('memory' in device ? (device as unknown as { memory(): { storages: number } }).memory().storages : 0);
  const live = mem();
  const a = await losses(1), b = await losses(1), c = await losses(2);
  assert.equal(a, b);
  assert.not.equal(a, c);
  // Three runs (model, optimiser, every step and evaluation) leave no tensor behind.
  assert.is(mem(), live, 'live storages after the runs');
});

s('the recipe reaches the optimiser: layer-wise decay scales each depth\'s step, the head moves at full rate', async () => {
  const data: TaskData = { kind: 'classification', labels: ['neg', 'pos'], train: TRAIN.slice(0, 16), dev: DEV.slice(0, 4) };
  const moved = async (layerDecay: number) => {
    const m = model('sequence', 2, 5) as ElectraForSequenceClassification;
    const snap = () => Promise.all([m.electra.embeddings.word_embeddings.weight, m.electra.encoder.layer[1].output.dense.weight, m.classifier.out_proj.weight]
      .map(async (t) => Float64Array.from(await t.data())));
    const before = await snap();
    await finetune(m, tok, data, { ...fast, epochs: 1, layerDecay, weightDecay: 0 }, device);
    const after = await snap();
    disposeModule(m);
    return before.map((b, k) => b.reduce((mx, x, i) => Math.max(mx, Math.abs(after[k][i] - x)), 0));
  };
  const [emb1, top1, head1] = await moved(1), [emb, top, head] = await moved(0.1);
  // Adam's step size does not depend on the gradient's scale, so each tensor's largest move scales with its factor:
  // embeddings 0.1^4, the top layer (index 1 of 2) 0.1^2, the head 1.
  assert.ok(Math.abs(head / head1 - 1) < 0.05, `head: ${head} vs ${head1}`);
  assert.ok(top < top1 * 0.02 && top > top1 * 0.005, `top layer: ${top} vs ${top1} (×0.01 expected)`);
  assert.ok(emb < emb1 * 2e-4 && emb > 0, `embeddings: ${emb} vs ${emb1} (×1e-4 expected)`);
});

s('defaults keyed on model size: paper Table 7 for Small/Base/Large, the measured rate for tiny; explicit options win', async () => {
  assert.equal([64, 128, 129, 256, 257, 768, 769, 1024].map((h) => modelSize({ hiddenSize: h })), ['tiny', 'tiny', 'small', 'small', 'base', 'base', 'large', 'large']);
  assert.equal(finetuneSizeDefaults(presetConfig('small')), { size: 'small', lr: 3e-4, layerDecay: 0.8 });
  assert.equal(finetuneSizeDefaults(presetConfig('base')), { size: 'base', lr: 1e-4, layerDecay: 0.8 });
  assert.equal(finetuneSizeDefaults(presetConfig('large')), { size: 'large', lr: 5e-5, layerDecay: 0.9 });
  assert.is(finetuneSizeDefaults(presetConfig('tiny')).size, 'tiny');
  // The loop takes its peak from the model's size when lr is omitted (or undefined), else the given one:
  // the logged lr at the end of warmup is the peak times the schedule's factor, the same for both.
  const data: TaskData = { kind: 'classification', labels: ['neg', 'pos'], train: TRAIN.slice(0, 32), dev: DEV.slice(0, 4) };
  const peakOf = async (opts: Record<string, unknown>) => {
    const m = model('sequence', 2, 3);
    const lrs: number[] = [];
    await finetune(m, tok, data, { ...opts, epochs: 1 }, device, { onStep: (x) => { lrs.push(x.lr); } });
    disposeModule(m);
    return Math.max(...lrs);
  };
  const { lr: _lr, ...noLr } = fast;
  const dflt = await peakOf(noLr), undef = await peakOf({ ...noLr, lr: undefined }), given = await peakOf({ ...noLr, lr: 1e-5 });
  assert.is(undef, dflt);
  assert.ok(Math.abs(dflt / given - FINETUNE_SIZE_DEFAULTS.tiny.lr / 1e-5) < 1e-6, `peak ${dflt} vs ${given}`);
});

s('tagging, regression and QA: the loss falls and the metrics are computed', async () => {
  // Tagging: a word's tag is its index mod 3.
  const tagged: TaggedExample[] = Array.from({ length: 48 }, () => {
    const words = Array.from({ length: 5 }, pick);
    return { words, tags: words.map((w) => `T${Number(w.slice(1)) % 3}`) };
  });
  const tdata: TaskData = { kind: 'tagging', labels: ['T0', 'T1', 'T2'], train: tagged.slice(0, 40), dev: tagged.slice(40) };
  const tm = model('token', 3);
  const tl: number[] = [];
  const tr = await finetune(tm, tok, tdata, { ...fast, epochs: 3 }, device, { onStep: (x) => { tl.push(x.loss); } });
  assert.ok(tl.at(-1)! < tl[0] * 0.7, `tagging loss ${tl[0].toFixed(3)} → ${tl.at(-1)!.toFixed(3)}`);
  assert.ok((tr.best.metrics.accuracy as number) > 0.5, `tag accuracy ${tr.best.metrics.accuracy} (chance ≈ 0.33)`);
  assert.is(tr.best.metrics.wordsScored, 8 * 5);
  const [tp] = await predictTags(tm as ElectraForTokenClassification, tok, tdata.labels, ['w3 w4 w5'], device);
  assert.equal(tp.words, ['w3', 'w4', 'w5']);
  assert.is(tp.tags.length, 3);
  await saveHeadModel(join(root, 'tok'), tm, tok, { labels: tdata.labels, problemType: null });
  disposeModule(tm);

  // Regression: the target is the number of w1 … w3 in the text.
  const reg: TextExample[] = Array.from({ length: 48 }, (_, i) => {
    const words = Array.from({ length: 6 }, (_, j) => (j < i % 4 ? `w${1 + j}` : pick()));
    return { text: words.join(' '), label: i % 4 };
  });
  const rdata: TaskData = { kind: 'regression', train: reg.slice(0, 40), dev: reg.slice(40) };
  const rm = model('sequence', 1);
  const rl: number[] = [];
  const rr = await finetune(rm, tok, rdata, fast, device, { onStep: (x) => { rl.push(x.loss); } });
  assert.ok(rl.slice(-3).reduce((a, b) => a + b) < rl.slice(0, 3).reduce((a, b) => a + b), `MSE ${rl[0].toFixed(3)} → ${rl.at(-1)!.toFixed(3)}`);
  assert.equal(Object.keys(rr.best.metrics).sort(), ['mse', 'pearson', 'spearman']);
  disposeModule(rm);

  // QA: the answer is the two words after w0.
  const qa: QaExample[] = Array.from({ length: 40 }, (_, i) => {
    const words = Array.from({ length: 8 }, pick);
    const at = 1 + (i % 5);
    words[at] = 'w0';
    const context = words.join(' ');
    const text = `${words[at + 1]} ${words[at + 2]}`;
    return { id: `q${i}`, question: 'w0 w1', context, answers: [{ text, start: context.indexOf(text, context.indexOf('w0')) }] };
  });
  const qdata: TaskData = { kind: 'qa', train: qa.slice(0, 32), dev: qa.slice(32) };
  const qm = model('qa', 2);
  const ql: number[] = [];
  const qr = await finetune(qm, tok, qdata, { ...fast, maxLen: 24 }, device, { onStep: (x) => { ql.push(x.loss); } });
  assert.ok(ql.slice(-4).reduce((a, b) => a + b) < 0.8 * ql.slice(0, 4).reduce((a, b) => a + b), `QA loss ${ql[0].toFixed(3)} → ${ql.at(-1)!.toFixed(3)}`);
  assert.equal(Object.keys(qr.best.metrics).sort(), ['exactMatch', 'f1']);
  assert.ok((qr.best.metrics.f1 as number) > 0, `QA F1 ${qr.best.metrics.f1}`);
  const answers = await predictAnswers(qm as ElectraForQuestionAnswering, tok, qa.slice(32, 36), device, { maxLen: 24 });
  for (const [i, a] of answers.entries()) {
    assert.is(a.id, `q${32 + i}`);
    assert.is(qa[32 + i].context.slice(a.start, a.end), a.text, 'the answer is its context span');
    assert.ok(a.nBest.length > 0 && a.nBest[0].text === a.text);
  }
  // SQuAD v2: with a threshold far below any score every answer is '' — right for unanswerable questions.
  const v2: TaskData = { kind: 'qa', train: qdata.train, dev: qa.slice(32).map((x) => ({ ...x, answers: [] })) };
  const none = await evaluate(qm, tok, v2, { maxLen: 24, nullThreshold: -1e9 }, device);
  assert.equal(none.metrics, { exactMatch: 100, f1: 100 });
  const spans = await evaluate(qm, tok, v2, { maxLen: 24 }, device);
  assert.equal(spans.metrics, { exactMatch: 0, f1: 0 }, 'v1.1 decoding always answers a span');
  await saveHeadModel(join(root, 'qa'), qm, tok, { labels: ['LABEL_0', 'LABEL_1'], problemType: null });
  disposeModule(qm);
});

s('errors: wrong head for the task, label count, empty data, sequence longer than the positions', async () => {
  const m = model('sequence', 2);
  const fail = (p: Promise<unknown>, re: RegExp) => p.then(() => assert.unreachable(`expected ${re}`), (e: Error) => assert.match(e.message, re));
  await fail(finetune(m, tok, { kind: 'tagging', labels: ['a', 'b'], train: [], dev: [] }, fast, device), /needs an token head, the model has a sequence head/);
  await fail(finetune(m, tok, { kind: 'classification', labels: ['a', 'b', 'c'], train: TRAIN, dev: DEV }, fast, device), /3 labels \(a, b, c\), the model's head has 2/);
  await fail(finetune(m, tok, { kind: 'classification', labels: ['neg', 'pos'], train: [], dev: DEV }, fast, device), /training set is empty/);
  await fail(finetune(m, tok, { kind: 'classification', labels: ['neg', 'pos'], train: TRAIN, dev: DEV }, { ...fast, maxLen: 64 }, device), /maxLen 64 exceeds the model's 32 positions/);
  await fail(finetune(m, tok, { kind: 'regression', train: TRAIN, dev: DEV }, fast, device), /regression needs num_labels 1/);
  await fail(finetune(m, tok, { kind: 'classification', labels: ['neg', 'pos'], train: TRAIN, dev: DEV }, { ...fast, metric: 'spearman' }, device), /metric 'spearman' cannot pick the best epoch of a classification task \(use one of accuracy, macroF1, mcc, f1\)/);
  disposeModule(m);
});

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const cli = (...args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env: { ...process.env } });

s('CLI predict: --json matches the API; the table lists every label; a head-less directory is refused', async () => {
  const dir = join(root, 'cls');
  const r = cli('predict', '--model', dir, '--device', 'cpu', '--json', DEV[1].text);
  assert.is(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { label: string; probabilities: Record<string, number> };
  const { loadHeadModel } = await import('../../src/node/finetune-io.js');
  const loaded = await loadHeadModel(dir, cpu);
  const [api] = await predictSequence(loaded.model as ElectraForSequenceClassification, tok, loaded.labels, [{ text: DEV[1].text }], cpu);
  assert.is(j.label, (api as { label: string }).label);
  for (const l of ['neg', 'pos']) assert.ok(Math.abs(j.probabilities[l] - (api as { probabilities: Record<string, number> }).probabilities[l]) < 1e-6, l);
  const table = cli('predict', '--model', dir, '--device', 'cpu', DEV[1].text);
  assert.is(table.status, 0, table.stderr);
  assert.match(table.stdout, /^(neg|pos)  \(p = 0\.\d{3}\)\n  (neg|pos) +0\.\d{4}/);
  const many = spawnSync(process.execPath, [MAIN, 'predict', '--model', dir, '--device', 'cpu', '--json'], { encoding: 'utf8', input: `${DEV[0].text}\n${DEV[1].text}\n` });
  assert.is(many.status, 0, many.stderr);
  assert.is(many.stdout.trim().split('\n').length, 2);
  const tags = cli('predict', '--model', join(root, 'tok'), '--device', 'cpu', '--json', 'w3 w4 w5 w6');
  assert.is(tags.status, 0, tags.stderr);
  const tj = JSON.parse(tags.stdout) as { words: string[]; tags: string[] };
  assert.equal(tj.words, ['w3', 'w4', 'w5', 'w6']);
  assert.ok(tj.tags.every((t) => ['T0', 'T1', 'T2'].includes(t)));
  const ctx = 'w5 w0 w7 w8 w9 w10';
  const qa = cli('predict', '--model', join(root, 'qa'), '--device', 'cpu', '--json', '--top', '3', '--context', ctx, 'w0 w1');
  assert.is(qa.status, 0, qa.stderr);
  const qj = JSON.parse(qa.stdout) as { answer: string; start: number; end: number; n_best: { text: string }[] };
  assert.is(ctx.slice(qj.start, qj.end), qj.answer);
  assert.is(qj.n_best.length, 3);
  const noCtx = cli('predict', '--model', join(root, 'qa'), '--device', 'cpu', 'w0 w1');
  assert.is(noCtx.status, 2);
  assert.match(noCtx.stderr, /needs --context/);
  const none = cli('predict', '--model', dir, '--device', 'cpu');
  assert.not.equal(none.status, 0);
  const help = cli('predict', '--help');
  assert.is(help.status, 0);
  assert.match(help.stdout, /--context TEXT/);
  for (const c of ['finetune', 'evaluate']) {
    const h = cli(c, '--help');
    assert.is(h.status, 0, c);
    assert.match(h.stdout, /--text-col/);
  }
  const bad = cli('finetune', '--preset', 'tiny', '--out', join(root, 'x'));
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /--preset needs --vocab/);
});

s('CLI finetune → evaluate → predict on a tiny CSV, end to end', async () => {
  const csv = (xs: TextExample[]) => 'id,sentence,label\n' + xs.map((x) => `${x.id},"${x.text}",${x.label}`).join('\n') + '\n';
  writeFileSync(join(root, 'train.csv'), csv(TRAIN));
  writeFileSync(join(root, 'dev.csv'), csv(DEV));
  writeFileSync(join(root, 'vocab.txt'), VOCAB.join('\n') + '\n');
  const out = join(root, 'run');
  const ft = cli('finetune', '--preset', 'tiny', '--vocab', join(root, 'vocab.txt'), '--set', 'numHiddenLayers=1', '--set', 'maxPositionEmbeddings=32',
    '--set', 'hiddenSize=32', '--set', 'embeddingSize=16', '--set', 'intermediateSize=64', '--set', 'numAttentionHeads=2',
    '--train', join(root, 'train.csv'), '--dev', join(root, 'dev.csv'), '--text-col', 'sentence', '--label-col', 'label',
    '--out', out, '--epochs', '3', '--batch', '8', '--lr', '5e-3', '--max-len', '16');
  assert.is(ft.status, 0, ft.stderr + ft.stdout);
  for (const f of ['config.json', 'model.safetensors', 'vocab.txt', 'eval.json', 'predictions.jsonl', 'metrics.jsonl']) assert.ok(existsSync(join(out, f)), f);
  const ev = JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8')) as { dev: { accuracy: number }; metric: string; labels: string[] };
  assert.is(ev.metric, 'accuracy');
  assert.equal([...ev.labels].sort(), ['neg', 'pos']);
  assert.is(readFileSync(join(out, 'predictions.jsonl'), 'utf8').trim().split('\n').length, DEV.length);
  const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { split: string });
  assert.is(lines.filter((l) => l.split === 'dev').length, 3);
  const e = cli('evaluate', '--model', out, '--dev', join(root, 'dev.csv'), '--text-col', 'sentence', '--label-col', 'label', '--device', 'cpu', '--json');
  assert.is(e.status, 0, e.stderr);
  assert.is((JSON.parse(e.stdout) as { accuracy: number }).accuracy, ev.dev.accuracy);
  const p = cli('predict', '--model', out, '--device', 'cpu', '--json', DEV[0].text);
  assert.is(p.status, 0, p.stderr);
  assert.ok(['neg', 'pos'].includes((JSON.parse(p.stdout) as { label: string }).label));
});

s.run();
