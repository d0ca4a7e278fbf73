// `evaluate --mlm` on a tiny random run directory made here: the pooled numbers equal an independent host
// computation (raw forwards, float64 log-softmax, pairwise AUC), WebGPU equals CPU, results are deterministic
// and depend on the seed, an MLM-only run reports no discriminator, and the CLI prints the API's numbers.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluateMlm, exampleBatches, maskSeed, mlmEvalToJSON, type MlmEvalResult } from '../../src/electra/model/evaluate-mlm.js';
import { maskBatch, maxPredictions, scatterUpdate } from '../../src/electra/model/masking.js';
import { createElectraPair } from '../../src/electra/model/pretrain.js';
import { sampleGumbelMax } from '../../src/nn/functional.js';
import { HostRng } from '../../src/nn/init.js';
import { evalCtx } from '../../src/nn/layers.js';
import { exportPair, loadDiscriminator, loadGenerator } from '../../src/node/electra-io.js';
import type { Device } from '../../src/device/device.js';
import { Rng } from '../../src/tensor/random.js';
import { tensor, tidy } from '../../src/tensor/tensor.js';
import { textToDocuments } from '../../src/text/corpus.js';
import { buildExamples, type Example } from '../../src/text/examples.js';
import { loadTokenizer } from '../../src/text/node/files.js';
import { buildShardFromText } from '../../src/text/pipeline.js';
import { assertClose, cpu, gpu } from '../helpers.js';
import { VOCAB, config } from './tiny-model.js';

const s = suite('evaluate --mlm');

const T = 16, MASK_P = 0.25;
const TEXT = [
  'The cat sat on the mat.', 'A big red dog ran to the house.', 'It was a small tree, and the man saw it.',
  '', 'The dog saw the cat in the tree.', 'A man ran and the cats sat.', 'The red house of the man was big.',
  '', 'It ran on the mat and sat.', 'The small dogs saw a big cat.', 'A tree was in the house.', 'The man sat in the red house.',
].join('\n');

const root = mkdtempSync(join(tmpdir(), 'electra-evalmlm-'));
const runDir = join(root, 'run'), textFile = join(root, 'held-out.txt');
const tok = () => loadTokenizer(join(runDir, 'discriminator', 'vocab.txt'));
const special = () => { const t = tok(); return { pad: t.padId, cls: t.clsId, sep: t.sepId, mask: t.maskId }; };

function examples(seed = 0): Example[] {
  const t = tok();
  return [...buildExamples(textToDocuments(TEXT), (x) => t.tokenizeToIds(x), { maxLength: T, clsId: t.clsId, sepId: t.sepId, seed: [seed, 0] })];
}

async function api(dev: Device, batch: number, seed = 0): Promise<MlmEvalResult> {
  const generator = (await loadGenerator(join(runDir, 'generator'), dev)).model;
  const discriminator = (await loadDiscriminator(join(runDir, 'discriminator'), dev)).model;
  return evaluateMlm({ generator, discriminator }, exampleBatches(examples(), batch, T), { special: special(), maskProb: MASK_P, seed }, dev);
}

s.before(async () => {
  const pair = createElectraPair(config, 'electra', 11, cpu);
  await exportPair(pair, VOCAB, runDir);
  writeFileSync(textFile, TEXT + '\n');
});
s.after(() => rmSync(root, { recursive: true, force: true }));

s('exampleBatches: rows padded to T, segment ids from firstSegEnd, a smaller last batch', () => {
  const ex = [{ ids: [2, 5, 3, 6, 3], firstSegEnd: 3 }, { ids: [2, 7, 3], firstSegEnd: 3 }, { ids: [2, 3], firstSegEnd: 2 }];
  const bs = [...exampleBatches(ex, 2, 6)];
  assert.equal(bs.map((b) => b.B), [2, 1]);
  assert.equal(Array.from(bs[0].inputIds), [2, 5, 3, 6, 3, 0, 2, 7, 3, 0, 0, 0]);
  assert.equal(Array.from(bs[0].attentionMask), [1, 1, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0]);
  assert.equal(Array.from(bs[0].tokenTypeIds), [0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
  assert.throws(() => [...exampleBatches(ex, 2, 4)], /5 tokens, more than the sequence length 4/);
});

s('CPU: pooled numbers equal an independent host computation from raw forwards', async () => {
  const B = 3, seed = 5;
  const r = await api(cpu, B, seed);
  // Reference: mask, full generator logits, float64 log-softmax at the masked slots, the same Gumbel draws,
  // the host scatter_update, raw discriminator logits; counts pooled over all tokens, AUC by pairwise counting.
  const gen = (await loadGenerator(join(runDir, 'generator'), cpu)).model;
  const disc = (await loadDiscriminator(join(runDir, 'discriminator'), cpu)).model;
  const sp = special(), V = VOCAB.length, N = maxPredictions(MASK_P, T), rng = new Rng(seed + 1);
  let masked = 0, right = 0, ce = 0, tokens = 0, ok = 0, fake = 0, flagged = 0, hit = 0, bce = 0, seqs = 0;
  const pos: number[] = [], neg: number[] = [];
  let i = 0;
  for (const b of exampleBatches(examples(), B, T)) {
    const m = maskBatch(b.inputIds, b.attentionMask, b.B, T, { maskProb: MASK_P, maxPredictions: N, maskId: sp.mask, clsId: sp.cls, sepId: sp.sep }, new HostRng(maskSeed(seed, i++)));
    const up = (a: Int32Array, shape: number[]) => tensor(a, shape, { device: cpu, dtype: 'i32' });
    const types = () => up(b.tokenTypeIds, [b.B, T]), posIds = () => up(Int32Array.from({ length: T }, (_, k) => k), [T]);
    const maskF = () => tensor(Float32Array.from(b.attentionMask), [b.B, T], { device: cpu });
    const all = Array.from(await tidy(() => gen.forward(up(m.maskedIds, [b.B, T]), types(), posIds(), maskF(), null, evalCtx)).data()); // [B·T, V]
    const rows = Int32Array.from({ length: b.B * N }, (_, k) => Math.floor(k / N) * T + m.positions[k]);
    const samples = Array.from(await tidy(() => sampleGumbelMax(gen.forward(up(m.maskedIds, [b.B, T]), types(), posIds(), maskF(), up(rows, [b.B * N]), evalCtx), rng, 1)).data());
    for (let k = 0; k < b.B * N; k++) {
      if (!m.weights[k]) continue;
      const row = all.slice(rows[k] * V, (rows[k] + 1) * V);
      const mx = Math.max(...row), lse = mx + Math.log(row.reduce((a, x) => a + Math.exp(x - mx), 0));
      masked++; ce += lse - row[m.targets[k]];
      if (row.indexOf(mx) === m.targets[k]) right++;
    }
    const { seq } = scatterUpdate(b.inputIds, samples, m.positions, b.B, T, N);
    const logits = Array.from(await tidy(() => disc.forward(up(seq, [b.B, T]), types(), posIds(), maskF(), evalCtx)).data());
    for (let k = 0; k < b.B * T; k++) {
      if (!b.attentionMask[k]) continue;
      const y = seq[k] !== b.inputIds[k] ? 1 : 0, p = logits[k] > 0 ? 1 : 0, x = logits[k];
      tokens++; ok += +(p === y); fake += y; flagged += p; hit += p * y;
      bce += -(y ? Math.log(1 / (1 + Math.exp(-x))) : Math.log(1 - 1 / (1 + Math.exp(-x))));
      (y ? pos : neg).push(x);
    }
    seqs += b.B;
  }
  let wins = 0;
  for (const a of pos) for (const c of neg) wins += a > c ? 1 : a === c ? 0.5 : 0;
  assert.is(r.sequences, seqs);
  assert.is(r.masked, masked);
  assert.is(r.tokens, tokens);
  assert.ok(masked > 10 && fake > 0 && fake < tokens, `a meaningful sample (masked ${masked}, replaced ${fake} of ${tokens})`);
  assertClose([r.generator.accuracy, r.generator.loss, r.generator.perplexity], [right / masked, ce / masked, Math.exp(ce / masked)], { atol: 1e-6, rtol: 1e-5, label: 'generator' });
  const d = r.discriminator!;
  assertClose([d.accuracy, d.baseline, d.replaced, d.recall, d.loss, d.auc],
    [ok / tokens, 1 - fake / tokens, fake / tokens, hit / fake, bce / tokens, wins / (pos.length * neg.length)], { atol: 1e-9, rtol: 1e-6, label: 'discriminator' });
  if (flagged) assertClose([d.precision], [hit / flagged], { atol: 1e-12 }); else assert.ok(Number.isNaN(d.precision));
  // A random model: perplexity is near the vocabulary size, not near 1.
  assert.ok(r.generator.perplexity > 5, `perplexity ${r.generator.perplexity}`);
});

s('deterministic; another seed masks other tokens; batch count does not change the token totals', async () => {
  const a = await api(cpu, 4, 0), b = await api(cpu, 4, 0), c = await api(cpu, 4, 1), d = await api(cpu, 7, 0);
  assert.equal(mlmEvalToJSON(a), mlmEvalToJSON(b));
  assert.not.equal(mlmEvalToJSON(a), mlmEvalToJSON(c));
  assert.is(d.tokens, a.tokens);
  assert.is(d.sequences, a.sequences);
});

s('WebGPU equals CPU', async () => {
  const dev = await gpu(); if (!dev) return;
  const c = await api(cpu, 3, 2), g = await api(dev, 3, 2);
  assert.equal([g.masked, g.tokens], [c.masked, c.tokens]);
  assertClose([g.generator.accuracy, g.generator.loss, g.discriminator!.accuracy, g.discriminator!.replaced, g.discriminator!.auc, g.discriminator!.loss],
    [c.generator.accuracy, c.generator.loss, c.discriminator!.accuracy, c.discriminator!.replaced, c.discriminator!.auc, c.discriminator!.loss],
    { atol: 1e-4, rtol: 1e-4, label: 'WebGPU vs CPU' });
});

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const cli = (...args: string[]) => spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', env: { ...process.env } });

s('CLI: --json equals the API, progress on stderr; an MLM-only run; clear errors', async () => {
  const p = cli('evaluate', '--mlm', '--model', runDir, '--data', textFile, '--json', '--device', 'cpu', '--seq-len', String(T), '--mask-prob', String(MASK_P), '--batch', '3', '--seed', '5');
  assert.is(p.status, 0, p.stderr);
  const j = JSON.parse(p.stdout) as Record<string, number>;
  const r = mlmEvalToJSON(await api(cpu, 3, 5));
  assert.equal(Object.keys(j), Object.keys(r));
  for (const k of Object.keys(r)) if (r[k] !== null) assertClose([j[k]], [r[k]!], { atol: 1e-12, label: k });
  assert.match(p.stderr, /batch \d+\/\d+ .*done in/);

  // The same text as a shard (built with seed 0, as the text path packs it) gives the same numbers.
  const shard = join(root, 'held-out.bin');
  writeFileSync(shard, buildShardFromText(tok(), TEXT, T, 0, 0).bytes);
  const ps = cli('evaluate', '--mlm', '--model', runDir, '--data', shard, '--json', '--device', 'cpu', '--seq-len', String(T), '--mask-prob', String(MASK_P), '--batch', '3', '--seed', '5');
  assert.is(ps.status, 0, ps.stderr);
  assert.equal(JSON.parse(ps.stdout), j);
  const short = cli('evaluate', '--mlm', '--model', runDir, '--data', shard, '--device', 'cpu', '--seq-len', '8');
  assert.is(short.status, 2);
  assert.match(short.stderr, /held-out.bin holds sequences of up to 16 tokens, more than --seq-len 8/);

  const table = cli('evaluate', '--mlm', '--model', runDir, '--data', textFile, '--device', 'cpu', '--seq-len', String(T));
  assert.is(table.status, 0, table.stderr);
  assert.match(table.stdout, /generator +accuracy [\d.]+ +cross-entropy [\d.]+ +perplexity [\d.]+/);
  assert.match(table.stdout, /discriminator +accuracy [\d.]+ \(all-original [\d.]+\) +AUC/);

  const mlmOnly = join(root, 'mlm-run');
  cpSync(join(runDir, 'generator'), join(mlmOnly, 'generator'), { recursive: true });
  const m = cli('evaluate', '--mlm', '--model', mlmOnly, '--data', textFile, '--json', '--device', 'cpu', '--seq-len', String(T));
  assert.is(m.status, 0, m.stderr);
  const mj = JSON.parse(m.stdout) as Record<string, number | null>;
  assert.is(mj.disc_auc, null);
  assert.ok((mj.perplexity as number) > 1);

  const single = cli('evaluate', '--mlm', '--model', join(runDir, 'generator'), '--data', textFile, '--device', 'cpu');
  assert.is(single.status, 1);
  assert.match(single.stderr, /no generator\/config.json .*single model directory/);
  const noData = cli('evaluate', '--mlm', '--model', runDir);
  assert.is(noData.status, 2);
  assert.match(noData.stderr, /--data FILE\|DIR or --corpus NAME/);
  const missing = cli('evaluate', '--mlm', '--model', runDir, '--data', join(root, 'nope.txt'), '--device', 'cpu');
  assert.match(missing.stderr, /nope.txt: no such file/);
});

s.run();
