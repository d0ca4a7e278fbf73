// The fine-tuning heads: HF names and shapes, forward/backward on WebGPU equal the CPU device, gradients of the head
// code (CLS slice, GELU head, QA split, MSE) against finite differences, the authors' layer-wise LR factors, and
// save → load round trips (config.json label fields; starting from a discriminator directory, its
// pytorch_model.bin, a bare ElectraModel, or a fine-tuned directory with the same or other labels).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ElectraConfig, presetConfig } from '../../src/electra/model/config.js';
import {
  ElectraClassificationHead, ElectraForQuestionAnswering, ElectraForSequenceClassification, ElectraForTokenClassification, type ElectraHeadModel,
  type HeadKind, createHeadModel, layerwiseLrMultiplier,
} from '../../src/electra/tasks/heads.js';
import { defaultHFElectraConfig, electraConfigToJSON } from '../../src/electra/formats/hf.js';
import { ElectraEmbeddings, ElectraForPreTraining } from '../../src/electra/model/model.js';
import { parseSafetensors, serializeSafetensors, toWritable } from '../../src/electra/formats/safetensors.js';
import { readStateDict } from '../../src/electra/formats/state.js';
import { loadTorchStateDict } from '../../src/electra/formats/torchbin.js';
import { HostRng } from '../../src/nn/init.js';
import { evalCtx } from '../../src/nn/layers.js';
import { disposeModule, namedParameters } from '../../src/nn/module.js';
import { toHFConfig } from '../../src/node/electra-io.js';
import { saveHFDirectory } from '../../src/node/files.js';
import { expectedHeadModelShapes, initHeadModelFromDirectory, loadHeadModel, saveHeadModel } from '../../src/node/finetune-io.js';
import type { Device } from '../../src/device/device.js';
import { Rng } from '../../src/tensor/random.js';
import { tensor, tidy } from '../../src/tensor/tensor.js';
import { WordPieceTokenizer } from '../../src/text/wordpiece.js';
import { assertClose, checkGrad, cpu, cpu64, gpu, rand } from '../helpers.js';

const s = suite('fine-tuning heads');

const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...Array.from({ length: 35 }, (_, i) => `w${i}`)];
const tok = new WordPieceTokenizer(VOCAB);
const cfg: ElectraConfig = {
  ...presetConfig('tiny'), vocabSize: 40, embeddingSize: 8, hiddenSize: 16, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 32,
  maxPositionEmbeddings: 12, initializerRange: 0.2, hiddenDropoutProb: 0.1, attentionProbsDropoutProb: 0.1,
};
const C = { sequence: 3, token: 4, qa: 2 } as const;
const make = (kind: HeadKind, dev: Device, seed = 3) => createHeadModel(kind, cfg, C[kind], { rng: new HostRng(seed), device: dev, std: cfg.initializerRange });
const root = mkdtempSync(join(tmpdir(), 'electra-heads-'));
s.after(() => rmSync(root, { recursive: true, force: true }));

s('names and shapes are those of HF ElectraFor{Sequence,Token}Classification / ElectraForQuestionAnswering', () => {
  for (const kind of ['sequence', 'token', 'qa'] as const) {
    const m = make(kind, cpu);
    const got = new Map(namedParameters(m).map(([n, t]) => [n, [...t.shape]]));
    const want = expectedHeadModelShapes(toHFConfig(cfg), kind, C[kind]);
    assert.equal([...got.keys()].sort(), [...want.keys()].sort(), kind);
    for (const [n, sh] of want) assert.equal(got.get(n), sh, n);
    disposeModule(m);
  }
  const seq = new Map(namedParameters(make('sequence', cpu)));
  assert.equal([...seq.keys()].filter((n) => !n.startsWith('electra.')), ['classifier.dense.weight', 'classifier.dense.bias', 'classifier.out_proj.weight', 'classifier.out_proj.bias']);
  assert.throws(() => new ElectraForSequenceClassification(cfg, 0, { rng: new HostRng(0), device: cpu, std: 0.02 }), /num_labels/);
});

s('layer-wise LR: head ×1, top layer ×decay², layer i ×decay^(n+1−i), embeddings and projection ×decay^(n+2)', () => {
  const f = layerwiseLrMultiplier(12, 0.8);
  const near = (a: number, e: number, what: string) => assert.ok(Math.abs(a - e) < 1e-15, `${what}: ${a} vs ${e}`);
  near(f('classifier.out_proj.weight'), 1, 'head');
  near(f('qa_outputs.bias'), 1, 'qa head');
  near(f('electra.encoder.layer.11.output.dense.weight'), 0.8 ** 2, 'layer 11');
  near(f('electra.encoder.layer.0.attention.self.query.weight'), 0.8 ** 13, 'layer 0');
  near(f('electra.embeddings.word_embeddings.weight'), 0.8 ** 14, 'embeddings');
  near(f('electra.embeddings_project.weight'), 0.8 ** 14, 'projection');
  near(layerwiseLrMultiplier(2, 1)('electra.embeddings.LayerNorm.bias'), 1, 'decay 1 = off');
  assert.throws(() => layerwiseLrMultiplier(2, 0), /in \(0, 1\]/);
});

/** A padded batch of 3 sequences (lengths 7, 5, 3), labels for each head kind. */
function batch(dev: Device) {
  const B = 3, T = 7, lens = [7, 5, 3];
  const ids = new Int32Array(B * T), types = new Int32Array(B * T), mask = new Float32Array(B * T);
  const r = rand(B * T, 5, 5, 39.999);
  for (let b = 0; b < B; b++) for (let t = 0; t < lens[b]; t++) {
    ids[b * T + t] = t === 0 ? 2 : t === lens[b] - 1 ? 3 : Math.floor(r[b * T + t]);
    types[b * T + t] = t >= 3 ? 1 : 0;
    mask[b * T + t] = 1;
  }
  const tokLabels = Int32Array.from({ length: B * T }, (_, i) => (mask[i] && i % T !== 0 && i % 3 !== 1 ? i % 4 : -100));
  return {
    inputs: {
      ids: tensor(ids, [B, T], { device: dev, dtype: 'i32' }), types: tensor(types, [B, T], { device: dev, dtype: 'i32' }),
      positions: tensor(Int32Array.from({ length: T }, (_, i) => i), [T], { device: dev, dtype: 'i32' }), mask: tensor(mask, [B, T], { device: dev }),
    },
    labels: {
      sequence: tensor(Int32Array.from([2, 0, 1]), [B], { device: dev, dtype: 'i32' }),
      token: tensor(tokLabels, [B, T], { device: dev, dtype: 'i32' }),
      qa: tensor(Int32Array.from([3, 5, 1, 2, 0, 0]), [B, 2], { device: dev, dtype: 'i32' }),
      regression: tensor(Float32Array.from([0.5, -1, 2]), [B], { device: dev }),
    },
  };
}

async function forwardBackward(m: ElectraHeadModel, dev: Device, regression = false) {
  const bt = batch(dev);
  const rng = new Rng(11);
  const { logits, loss } = tidy(() => {
    // Training mode: dropout masks come from the counter-based RNG and are equal on both devices.
    const logits = m.forward(bt.inputs, { training: true, rng });
    const loss = m.loss(logits, regression ? bt.labels.regression : bt.labels[m.kind]);
    loss.backward();
    return { logits, loss };
  });
  const grads: Record<string, number[]> = {};
  for (const [n, p] of namedParameters(m)) {
    if (/classifier|qa_outputs|word_embeddings|layer\.0\.attention\.self\.query\.weight/.test(n)) grads[n] = Array.from(await p.grad!.data());
  }
  const out = { logits: Array.from(await logits.data()), loss: (await loss.data())[0], grads };
  logits.dispose(); loss.dispose();
  disposeModule(m);
  return out;
}

s('forward and backward on WebGPU equal the CPU device (each head, regression too; padding, pairs, dropout)', async () => {
  const dev = await gpu();
  if (!dev) return;
  const cases: [HeadKind, boolean][] = [['sequence', false], ['token', false], ['qa', false], ['sequence', true]];
  for (const [kind, regression] of cases) {
    const mk = (d: Device) => (regression ? new ElectraForSequenceClassification(cfg, 1, { rng: new HostRng(3), device: d, std: cfg.initializerRange }) : make(kind, d));
    const c = await forwardBackward(mk(cpu), cpu, regression), g = await forwardBackward(mk(dev), dev, regression);
    const what = `${kind}${regression ? ' (regression)' : ''}`;
    assertClose(g.logits, c.logits, { atol: 2e-4, rtol: 1e-3, label: `${what} logits` });
    assertClose([g.loss], [c.loss], { atol: 1e-5, rtol: 1e-4, label: `${what} loss` });
    assert.ok(c.loss > 0 && Number.isFinite(c.loss));
    for (const n of Object.keys(c.grads)) {
      assertClose(g.grads[n], c.grads[n], { atol: 2e-4, rtol: 2e-3, label: `${what} d${n}` });
      assert.ok(c.grads[n].some((x) => x !== 0), `${what}: ${n} gets a gradient`);
    }
  }
});

s('gradients of the head code against finite differences (float64, CPU)', async () => {
  const ic = { rng: new HostRng(1), device: cpu64, std: 0.5 };
  const head = new ElectraClassificationHead(5, 3, 0.1, ic);
  const h = { data: rand(2 * 4 * 5, 2), shape: [2, 4, 5] };
  // [CLS] slice → dense → GELU → out_proj, with respect to the hidden states and both weights.
  await checkGrad((x, w1, w2) => { head.dense.weight = w1; head.out_proj.weight = w2; return head.forward(x, evalCtx); },
    [h, { data: rand(25, 3), shape: [5, 5] }, { data: rand(15, 4), shape: [3, 5] }], { label: 'classification head' });
  // QA: split of [B, T, 2] into start/end and the averaged cross-entropies; token head loss over [B·T] rows.
  const qa = new ElectraForQuestionAnswering(cfg, { rng: new HostRng(0), device: cpu64, std: 0.02 });
  const qaLabels = tensor(Int32Array.from([1, 3, -100, -100, 0, 2]), [3, 2], { device: cpu64, dtype: 'i32' });
  await checkGrad((z) => qa.loss(z, qaLabels), [{ data: rand(3 * 4 * 2, 4, -2, 2), shape: [3, 4, 2] }], { label: 'QA loss' });
  const tk = new ElectraForTokenClassification(cfg, 3, { rng: new HostRng(0), device: cpu64, std: 0.02 });
  const tkLabels = tensor(Int32Array.from([0, -100, 2, 1, 1, -100]), [2, 3], { device: cpu64, dtype: 'i32' });
  await checkGrad((z) => tk.loss(z, tkLabels), [{ data: rand(18, 6, -2, 2), shape: [2, 3, 3] }], { label: 'token loss' });
  const reg = new ElectraForSequenceClassification(cfg, 1, { rng: new HostRng(0), device: cpu64, std: 0.02 });
  const y = tensor(Float64Array.from([0.3, -1.2, 2]), [3], { device: cpu64 });
  await checkGrad((z) => reg.loss(z, y), [{ data: rand(3, 7), shape: [3, 1] }], { label: 'MSE loss' });
  // The MSE value itself: mean((z − y)²).
  const z = tensor(Float64Array.from([1, 0, 2]), [3, 1], { device: cpu64 });
  assert.ok(Math.abs((await reg.loss(z, y).data())[0] - (0.49 + 1.44 + 0) / 3) < 1e-12);
  // QA loss value: (CE_start + CE_end) / 2 over the rows not ignored; all-equal logits → ln T.
  const flat = tensor(new Float64Array(3 * 4 * 2), [3, 4, 2], { device: cpu64 });
  assert.ok(Math.abs((await qa.loss(flat, qaLabels).data())[0] - Math.log(4)) < 1e-12);
});

function readConfig(dir: string): Record<string, unknown> { return JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>; }

async function sameTensors(a: object, b: object, filter: (n: string) => boolean, what: string): Promise<void> {
  const x = await readStateDict(a), y = await readStateDict(b);
  for (const [n, t] of x) if (filter(n)) assert.equal(Array.from(y.get(n)!.data), Array.from(t.data), `${what}: ${n}`);
}

s('save → load round trip of each head: HF config fields, same weights, same outputs', async () => {
  const labels = { sequence: ['neg', 'neutral', 'pos'], token: ['DET', 'NOUN', 'VERB', 'X'], qa: ['LABEL_0', 'LABEL_1'] };
  for (const kind of ['sequence', 'token', 'qa'] as const) {
    const m = make(kind, cpu, 9);
    const dir = join(root, `saved-${kind}`);
    const pt = kind === 'sequence' ? 'single_label_classification' : null;
    await saveHeadModel(dir, m, tok, { labels: labels[kind], problemType: pt, extra: { finetuning_task: 'test' } });
    const c = readConfig(dir);
    assert.equal(c.architectures, [{ sequence: 'ElectraForSequenceClassification', token: 'ElectraForTokenClassification', qa: 'ElectraForQuestionAnswering' }[kind]]);
    assert.equal(c.id2label, Object.fromEntries(labels[kind].map((l, i) => [String(i), l])));
    assert.equal(c.label2id, Object.fromEntries(labels[kind].map((l, i) => [l, i])));
    assert.is(c.num_labels, labels[kind].length);
    assert.is(c.problem_type, pt);
    assert.is(c.model_type, 'electra');
    assert.is(c.hidden_size, 16);
    assert.is(c.finetuning_task, 'test');
    const st = parseSafetensors(new Uint8Array(readFileSync(join(dir, 'model.safetensors'))), 'm');
    assert.equal(st.metadata, { format: 'pt' });
    const back = await loadHeadModel(dir, cpu);
    assert.is(back.kind, kind);
    assert.equal(back.labels, labels[kind]);
    await sameTensors(m, back.model, () => true, kind);
    const bt = batch(cpu);
    const y1 = await tidy(() => m.forward(bt.inputs, evalCtx)).data(), y2 = await tidy(() => back.model.forward(bt.inputs, evalCtx)).data();
    assert.equal(Array.from(y2), Array.from(y1), `${kind} outputs`);
  }
  const reg = new ElectraForSequenceClassification(cfg, 1, { rng: new HostRng(0), device: cpu, std: 0.02 });
  const rdir = join(root, 'saved-regression');
  await saveHeadModel(rdir, reg, tok, { labels: ['LABEL_0'], problemType: 'regression' });
  assert.is(readConfig(rdir).problem_type, 'regression');
  assert.is((await loadHeadModel(rdir, cpu)).problemType, 'regression');
  // A directory without a head is refused with advice.
  const disc = new ElectraForPreTraining(cfg, new ElectraEmbeddings(cfg, { rng: new HostRng(1), device: cpu, std: 0.02 }), { rng: new HostRng(1), device: cpu, std: 0.02 });
  const ddir = join(root, 'disc');
  await saveHFDirectory(ddir, { config: toHFConfig(cfg), kind: 'discriminator', tensors: await readStateDict(disc), vocab: VOCAB });
  await loadHeadModel(ddir, cpu).then(() => assert.unreachable('loaded a discriminator as a head'), (e: Error) => assert.match(e.message, /no fine-tuned head.*electra finetune --model/));
});

s('starting points: discriminator (safetensors and pytorch_model.bin), bare ElectraModel, fine-tuned with same/other labels', async () => {
  const ic = { rng: new HostRng(1), device: cpu, std: 0.3 };
  const disc = new ElectraForPreTraining(cfg, new ElectraEmbeddings(cfg, ic), ic);
  const ddir = join(root, 'start-disc');
  await saveHFDirectory(ddir, { config: toHFConfig(cfg), kind: 'discriminator', tensors: await readStateDict(disc), vocab: VOCAB });
  const enc = (n: string) => n.startsWith('electra.');
  const a = await initHeadModelFromDirectory(ddir, cpu, { kind: 'sequence', labels: ['a', 'b'], seed: 4 });
  assert.not.ok(a.headLoaded);
  await sameTensors(disc, a.model, enc, 'encoder from the discriminator');
  // Another seed: same encoder, different fresh head.
  const b = await initHeadModelFromDirectory(ddir, cpu, { kind: 'sequence', labels: ['a', 'b'], seed: 5 });
  const ha = Array.from(await (a.model as ElectraForSequenceClassification).classifier.out_proj.weight.data());
  const hb = Array.from(await (b.model as ElectraForSequenceClassification).classifier.out_proj.weight.data());
  assert.not.equal(ha, hb);
  // --scratch: the config only.
  const sc = await initHeadModelFromDirectory(ddir, cpu, { kind: 'sequence', labels: ['a', 'b'], seed: 4, scratch: true });
  const w0 = Array.from(await sc.model.electra.embeddings.word_embeddings.weight.data());
  assert.not.equal(w0, Array.from(await disc.electra.embeddings.word_embeddings.weight.data()));

  // A bare HF ElectraModel (names without "electra.").
  const bare = join(root, 'bare');
  const tensors = await readStateDict(disc.electra);
  mkdirSync(bare, { recursive: true });
  writeFileSync(join(bare, 'config.json'), electraConfigToJSON({ ...toHFConfig(cfg), architectures: ['ElectraModel'] }));
  writeFileSync(join(bare, 'model.safetensors'), serializeSafetensors([...tensors].map(([n, t]) => [n, toWritable(t)] as const)));
  writeFileSync(join(bare, 'vocab.txt'), VOCAB.join('\n') + '\n');
  const c = await initHeadModelFromDirectory(bare, cpu, { kind: 'token', labels: ['x', 'y'], seed: 1 });
  await sameTensors(disc, c.model, enc, 'encoder from a bare ElectraModel');

  // The committed torch .bin fixture (HF ElectraForPreTraining names, E=8 H=16 L=1 V=40, position_ids buffer).
  const TINY = { vocabSize: 40, embeddingSize: 8, hiddenSize: 16, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 32, maxPositionEmbeddings: 12 };
  const bin = join(root, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'config.json'), electraConfigToJSON(defaultHFElectraConfig({ ...TINY, architectures: ['ElectraForPreTraining'] })));
  const fixture = new URL('../../../test/fixtures/checkpoint/tiny-disc.bin', import.meta.url);
  copyFileSync(fixture, join(bin, 'pytorch_model.bin'));
  writeFileSync(join(bin, 'vocab.txt'), VOCAB.join('\n') + '\n');
  const q = await initHeadModelFromDirectory(bin, cpu, { kind: 'qa', labels: [], seed: 0 });
  const torch = loadTorchStateDict(new Uint8Array(readFileSync(fixture)), 'bin').tensors;
  const qw = await readStateDict(q.model);
  assert.equal(Array.from(qw.get('electra.encoder.layer.0.output.dense.weight')!.data), Array.from(torch.get('electra.encoder.layer.0.output.dense.weight')!.data as Float32Array));
  assert.is(q.model.kind, 'qa');

  // A fine-tuned directory: its head is kept for the same labels, replaced for others.
  const ft = join(root, 'ft');
  await saveHeadModel(ft, a.model, tok, { labels: ['a', 'b'], problemType: 'single_label_classification' });
  const same = await initHeadModelFromDirectory(ft, cpu, { kind: 'sequence', labels: ['a', 'b'], seed: 99 });
  assert.ok(same.headLoaded);
  await sameTensors(a.model, same.model, () => true, 'fine-tuned head kept');
  const other = await initHeadModelFromDirectory(ft, cpu, { kind: 'sequence', labels: ['b', 'a', 'c'], seed: 99 });
  assert.not.ok(other.headLoaded);
  assert.is((other.model as ElectraForSequenceClassification).numLabels, 3);
  await sameTensors(a.model, other.model, enc, 'encoder kept with a new head');
  for (const m of [a, b, c, q, same, other, sc]) disposeModule(m.model);
});

s.run();
