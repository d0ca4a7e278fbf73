// Inference API and CLI (detect, fill-mask) on tiny random models saved as HF directories: results equal a
// direct forward, WebGPU equals CPU, top-k order and softmax are right, JSON shapes are as documented, and
// bad input (no [MASK], missing directory or vocab, wrong model kind, too long) fails with clear errors. A model of a
// pre-training run whose own metrics.jsonl shows it has not learned gets a one-line notice on stderr, with the
// command that trains it longer; a learned one, or a directory outside a run, gets none.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, unlinkSync, cpSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ElectraConfig, presetConfig } from '../../src/electra/model/config.js';
import { detectReplaced, detectToJSON, fillMask, fillMaskToJSON, topK } from '../../src/electra/tasks/infer.js';
import { ElectraEmbeddings, ElectraForMaskedLM, ElectraForPreTraining } from '../../src/electra/model/model.js';
import { readStateDict } from '../../src/electra/formats/state.js';
import { HostRng } from '../../src/nn/init.js';
import { evalCtx } from '../../src/nn/layers.js';
import { loadDiscriminator, loadGenerator, toHFConfig } from '../../src/node/electra-io.js';
import { saveHFDirectory } from '../../src/node/files.js';
import { UNTRAINED, modelDirectory, untrainedNotice } from '../../src/cli/infer-common.js';
import { loadTokenizer } from '../../src/text/node/files.js';
import { tensor, tidy } from '../../src/tensor/tensor.js';
import type { Device } from '../../src/device/device.js';
import { assertClose, cpu, gpu } from '../helpers.js';

const s = suite('electra inference');

const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'the', 'cat', 'sat', 'on', 'mat', 'dog', 'ran', 'a', 'big', 'red',
  'house', '.', ',', '##s', '##ed', 'it', 'was', 'and', 'to', 'of'];
const config: ElectraConfig = {
  ...presetConfig('tiny'), vocabSize: VOCAB.length, embeddingSize: 16, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 2,
  intermediateSize: 64, maxPositionEmbeddings: 24, generatorHiddenFraction: 1,
  // Large init so logits are far apart: top-k order is then the same on every device.
  initializerRange: 0.3,
};

const root = mkdtempSync(join(tmpdir(), 'electra-infer-'));
const discDir = join(root, 'discriminator'), genDir = join(root, 'generator');

async function savePair(): Promise<void> {
  const ic = { rng: new HostRng(7), device: cpu, std: config.initializerRange };
  const emb = new ElectraEmbeddings(config, ic);
  const gen = new ElectraForMaskedLM(config, emb, ic);
  const disc = new ElectraForPreTraining(config, emb, ic);
  // Random biases too (init leaves them at zero), so the head's bias path is covered.
  gen.generator_lm_head.bias = tensor(Float32Array.from({ length: VOCAB.length }, () => ic.rng.normal() * 0.5), [VOCAB.length], { device: cpu }).param();
  await saveHFDirectory(discDir, { config: toHFConfig(config), kind: 'discriminator', tensors: await readStateDict(disc), vocab: VOCAB });
  await saveHFDirectory(genDir, { config: toHFConfig(config), kind: 'generator', tensors: await readStateDict(gen), vocab: VOCAB });
}

const tok = () => loadTokenizer(join(discDir, 'vocab.txt'));
const TEXT = 'The cat sat on a big red mat, and it ran.';
const MASKED = 'the [MASK] sat on the [MASK].';

async function directDisc(dev: Device, ids: number[], types: number[]): Promise<number[]> {
  const { model } = await loadDiscriminator(discDir, dev);
  const T = ids.length;
  const out = tidy(() => model.forward(tensor(Int32Array.from(ids), [1, T], { device: dev, dtype: 'i32' }),
    tensor(Int32Array.from(types), [1, T], { device: dev, dtype: 'i32' }), tensor(Int32Array.from({ length: T }, (_, i) => i), [T], { device: dev, dtype: 'i32' }),
    null, evalCtx));
  return Array.from(await out.data());
}

function throwsWith(fn: () => unknown, ...parts: string[]): Promise<void> {
  return Promise.resolve().then(fn).then(
    () => assert.unreachable(`expected an error mentioning ${parts.join(', ')}`),
    (e: Error) => { for (const p of parts) assert.ok(e.message.includes(p), `error "${e.message}" should mention ${p}`); },
  );
}

s.before(savePair);
s.after(() => rmSync(root, { recursive: true, force: true }));

s('topK: descending, ties to the lower index, NaN skipped, limited to the first n', () => {
  const v = [0.5, 3, NaN, 3, -1, 7, 0.5];
  assert.equal(topK(v, 3), [5, 1, 3]);
  assert.equal(topK(v, 10), [5, 1, 3, 0, 6, 4]);
  assert.equal(topK(v, 2, 5), [1, 3]);
  assert.equal(topK([], 3), []);
});

s('detect (CPU): one score per token with specials, logits equal a direct forward, p = sigmoid(logit)', async () => {
  const t = tok();
  const { model } = await loadDiscriminator(discDir, cpu);
  const r = await detectReplaced(model, t, TEXT, cpu);
  const enc = t.encode(TEXT);
  assert.equal(r.inputIds, enc.ids);
  assert.is(r.inputIds[0], t.clsId);
  assert.is(r.inputIds.at(-1), t.sepId);
  assert.equal(r.tokens, enc.ids.map((id) => VOCAB[id]));
  assert.equal(r.scores.map((x) => x.special), enc.ids.map((id) => id === t.clsId || id === t.sepId));
  assertClose(r.scores.map((x) => x.logit), await directDisc(cpu, enc.ids, enc.typeIds), { atol: 1e-6, label: 'detect logits' });
  assertClose(r.scores.map((x) => x.probability), r.scores.map((x) => 1 / (1 + Math.exp(-x.logit))), { atol: 1e-12, label: 'sigmoid' });
  assert.is(TEXT.slice(...r.scores[2].offset), 'cat');
  // Logits differ per token (a broken forward that returns one value would pass the equality above only by luck).
  assert.ok(new Set(r.scores.map((x) => x.logit.toFixed(4))).size > 3);
  const j = detectToJSON(r);
  assert.equal(Object.keys(j), ['input_ids', 'tokens', 'logits']);
  assert.is(j.logits.length, j.input_ids.length);
  assert.is(j.tokens.length, j.input_ids.length);
});

s('fill-mask (CPU): top-k at each [MASK] = argsort of the full logits, softmax probabilities', async () => {
  const t = tok();
  const { model } = await loadGenerator(genDir, cpu);
  const r = await fillMask(model, t, MASKED, 4, cpu);
  const enc = t.encode(MASKED);
  const T = enc.ids.length, V = VOCAB.length;
  assert.equal(r.masks.map((m) => m.position), [2, 6]);
  const all = tidy(() => model.forward(tensor(Int32Array.from(enc.ids), [1, T], { device: cpu, dtype: 'i32' }),
    tensor(Int32Array.from(enc.typeIds), [1, T], { device: cpu, dtype: 'i32' }), tensor(Int32Array.from({ length: T }, (_, i) => i), [T], { device: cpu, dtype: 'i32' }),
    null, null, evalCtx));
  const full = Array.from(await all.data()); // [T, V]
  for (const m of r.masks) {
    const row = full.slice(m.position * V, (m.position + 1) * V);
    const order = row.map((x, id) => [x, id] as const).sort((a, b) => b[0] - a[0]).slice(0, 4).map(([, id]) => id);
    assert.equal(m.top.map((c) => c.id), order, `top ids at ${m.position}`);
    assertClose(m.top.map((c) => c.logit), order.map((id) => row[id]), { atol: 1e-6, label: 'top logits' });
    for (let i = 1; i < m.top.length; i++) assert.ok(m.top[i - 1].logit >= m.top[i].logit, 'descending');
    const z = row.reduce((acc, x) => acc + Math.exp(x), 0);
    assertClose(m.top.map((c) => c.probability), order.map((id) => Math.exp(row[id]) / z), { atol: 1e-9, label: 'softmax' });
    assert.equal(m.top.map((c) => c.token), order.map((id) => VOCAB[id]));
  }
  // The two masks see different contexts: their predictions differ.
  assert.not.equal(r.masks[0].top.map((c) => c.logit), r.masks[1].top.map((c) => c.logit));
  const j = fillMaskToJSON(r);
  assert.equal(Object.keys(j), ['input_ids', 'tokens', 'masks']);
  assert.equal(Object.keys(j.masks[0]), ['position', 'top']);
  assert.equal(Object.keys(j.masks[0].top[0]), ['id', 'token', 'logit']);
  // k beyond the vocabulary returns the whole vocabulary, in order.
  const wide = await fillMask(model, t, MASKED, 1000, cpu);
  assert.is(wide.masks[0].top.length, V);
  const ps = wide.masks[0].top.map((c) => c.probability);
  assertClose([ps.reduce((a, b) => a + b, 0)], [1], { atol: 1e-9, label: 'probabilities sum to 1' });
});

s('WebGPU equals CPU for detect and fill-mask', async () => {
  const dev = await gpu();
  if (!dev) return;
  const t = tok();
  const dc = await detectReplaced((await loadDiscriminator(discDir, cpu)).model, t, TEXT, cpu);
  const dg = await detectReplaced((await loadDiscriminator(discDir, dev)).model, t, TEXT, dev);
  assert.equal(dg.inputIds, dc.inputIds);
  assertClose(dg.scores.map((x) => x.logit), dc.scores.map((x) => x.logit), { atol: 2e-4, rtol: 1e-3, label: 'detect logits GPU vs CPU' });
  const fc = await fillMask((await loadGenerator(genDir, cpu)).model, t, MASKED, 5, cpu);
  const fg = await fillMask((await loadGenerator(genDir, dev)).model, t, MASKED, 5, dev);
  assert.equal(fg.masks.map((m) => m.top.map((c) => c.id)), fc.masks.map((m) => m.top.map((c) => c.id)));
  assertClose(fg.masks.flatMap((m) => m.top.map((c) => c.logit)), fc.masks.flatMap((m) => m.top.map((c) => c.logit)), { atol: 2e-4, rtol: 1e-3, label: 'fill-mask logits GPU vs CPU' });
});

s('errors: no [MASK], bad k, too long, other device, wrong kind, missing directory or vocab', async () => {
  const t = tok();
  const gen = (await loadGenerator(genDir, cpu)).model;
  const disc = (await loadDiscriminator(discDir, cpu)).model;
  await throwsWith(() => fillMask(gen, t, 'the cat sat.', 5, cpu), 'no [MASK]');
  await throwsWith(() => fillMask(gen, t, MASKED, 0, cpu), 'k must be a positive integer');
  await throwsWith(() => detectReplaced(disc, t, 'the cat '.repeat(20), cpu), 'at most 24');
  const dev = await gpu();
  if (dev) await throwsWith(() => detectReplaced(disc, t, TEXT, dev), 'the model lives on');
  await throwsWith(() => loadDiscriminator(genDir, cpu), 'generator', 'not a discriminator');
  await throwsWith(() => modelDirectory(join(root, 'nope')), join(root, 'nope'), 'no such directory');
  const bare = join(root, 'bare');
  cpSync(genDir, bare, { recursive: true });
  unlinkSync(join(bare, 'vocab.txt'));
  await throwsWith(() => modelDirectory(bare), bare, 'no vocab.txt');
});

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const cli = (...args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env: { ...process.env } });

s('CLI: detect --json and fill-mask --json match the API; no [MASK] exits with an error', async () => {
  const t = tok();
  const d = cli('detect', '--model', discDir, '--device', 'cpu', '--json', TEXT);
  assert.is(d.status, 0, d.stderr);
  const dj = JSON.parse(d.stdout) as { input_ids: number[]; tokens: string[]; logits: number[] };
  const api = detectToJSON(await detectReplaced((await loadDiscriminator(discDir, cpu)).model, t, TEXT, cpu));
  assert.equal(dj.input_ids, api.input_ids);
  assert.equal(dj.tokens, api.tokens);
  assertClose(dj.logits, api.logits, { atol: 1e-6, label: 'CLI logits' });

  const f = cli('fill-mask', '--model', genDir, '--device', 'cpu', '--top-k', '3', '--json', MASKED);
  assert.is(f.status, 0, f.stderr);
  const fj = JSON.parse(f.stdout) as ReturnType<typeof fillMaskToJSON>;
  assert.equal(fj.masks.map((m) => [m.position, m.top.length]), [[2, 3], [6, 3]]);

  const table = cli('detect', '--model', discDir, '--device', 'cpu', TEXT);
  assert.is(table.status, 0, table.stderr);
  assert.match(table.stdout, /p\(replaced\)/);
  assert.match(table.stdout, /tokens look replaced/);

  const none = cli('fill-mask', '--model', genDir, '--device', 'cpu', 'no mask here');
  assert.is.not(none.status, 0);
  assert.match(none.stderr, /no \[MASK\]/);
  const bad = cli('detect', '--model', discDir, '--bogus', TEXT);
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /bogus/);
});

s('not learned yet: one notice line from the run\'s own metrics (held-out first), none when learned or outside a run', async () => {
  const metrics = (recs: object[]) => writeFileSync(join(root, 'metrics.jsonl'), recs.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const notice = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('note:'));
  // Outside a pre-training run (no run-config.json / metrics.jsonl beside the model): nothing.
  assert.is(untrainedNotice(discDir), null);
  writeFileSync(join(root, 'run-config.json'), JSON.stringify({ preset: 'tiny', model: { ...presetConfig('tiny'), hiddenSize: 64 }, objective: 'electra', corpus: 'all', data: '',
    vocabSize: 8192, seqLength: 128, batchSize: 8, gradAccum: 1, steps: 300, lr: 5e-4, seed: 0 }));
  try {
    // The last held-out record decides, not a later training one: AUC 0.52 → the discriminator; MLM acc 0.08 → the generator.
    metrics([{ step: 200, split: 'eval', discAuc: 0.9, mlmAcc: 0.5 }, { step: 300, split: 'eval', discAuc: 0.52, mlmAcc: 0.08 }, { step: 320, split: 'train', discAuc: 0.95, mlmAcc: 0.6 }]);
    const d = cli('detect', '--model', discDir, '--device', 'cpu', '--json', TEXT);
    assert.is(d.status, 0, d.stderr);
    JSON.parse(d.stdout); // stdout stays machine-readable
    const dn = notice(d.stderr);
    assert.is(dn.length, 1, d.stderr);
    assert.match(dn[0], /has not learned yet \(held-out metrics at step 300: replaced-token AUC 0\.52 \(0\.5 is chance\)\)/);
    // The command re-creates the run's configuration: the preset's defaults are left out, the override is kept.
    assert.ok(dn[0].endsWith(`electra pretrain --set hiddenSize=64 --out ${root} --minutes 30`), dn[0]);
    const f = cli('fill-mask', '--model', genDir, '--device', 'cpu', MASKED);
    assert.match(notice(f.stderr)[0] ?? '', /MLM accuracy 0\.08/);
    const e = cli('embed', '--model', discDir, '--device', 'cpu', 'a cat');
    assert.is(notice(e.stderr).length, 1, e.stderr);
    // No held-out record: the last training one, named as such.
    metrics([{ step: 40, split: 'train', discAuc: 0.55, mlmAcc: 0.3 }]);
    assert.match(untrainedNotice(discDir) ?? '', /training metrics at step 40/);
    assert.is(untrainedNotice(genDir), null, `MLM accuracy 0.3 ≥ ${UNTRAINED.mlmAcc}`);
    // Learned: no line.
    metrics([{ step: 300, split: 'eval', discAuc: 0.8, mlmAcc: 0.4 }]);
    const ok = cli('detect', '--model', discDir, '--device', 'cpu', TEXT);
    assert.is(notice(ok.stderr).length, 0, ok.stderr);
  } finally {
    rmSync(join(root, 'metrics.jsonl'), { force: true });
    rmSync(join(root, 'run-config.json'), { force: true });
  }
});

s.run();
