// Sentence embeddings and search on a tiny random model: unit norms, identical texts at similarity 1, results
// independent of the batch size, pooling equal to a direct forward, WebGPU = CPU, index files round-trip (and
// broken ones are refused), search ranks an exact duplicate first, and the embed/search CLIs agree with the API.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type EmbeddingIndex, decodeIndex, embedTexts, encodeIndex, indexFromJSONL, indexToJSONL, searchIndex } from '../../src/electra/tasks/embed.js';
import { createElectraPair } from '../../src/electra/model/pretrain.js';
import { evalCtx } from '../../src/nn/layers.js';
import { exportPair } from '../../src/node/electra-io.js';
import { loadEncoder, readIndexFile } from '../../src/node/embed-io.js';
import type { Device } from '../../src/device/device.js';
import { tensor, tidy } from '../../src/tensor/tensor.js';
import { loadTokenizer } from '../../src/text/node/files.js';
import { assertClose, cpu, gpu } from '../helpers.js';
import { VOCAB, config } from './tiny-model.js';

const s = suite('embeddings and search');

const TEXTS = ['The cat sat on the mat.', 'A big red dog ran to the house, and it was small.', 'the man saw a tree',
  'The cat sat on the mat.', 'dog', 'It was a small red house in the tree and the man sat on it.', 'the cats ran'];

const root = mkdtempSync(join(tmpdir(), 'electra-embed-'));
const disc = join(root, 'run', 'discriminator'), gen = join(root, 'run', 'generator');
const tok = () => loadTokenizer(join(disc, 'vocab.txt'));
const dot = (v: Float32Array, d: number, i: number, j: number) => { let x = 0; for (let k = 0; k < d; k++) x += v[i * d + k] * v[j * d + k]; return x; };

s.before(async () => { await exportPair(createElectraPair(config, 'electra', 5, cpu), VOCAB, join(root, 'run')); });
s.after(() => rmSync(root, { recursive: true, force: true }));

s('unit norms; identical texts have similarity 1; other pairs less', async () => {
  const m = await loadEncoder(disc, cpu);
  for (const pooling of ['cls', 'mean'] as const) {
    const e = await embedTexts(m, tok(), TEXTS, cpu, { pooling, batchSize: 3 });
    assert.equal([e.rows, e.dim, e.pooling, e.truncated], [TEXTS.length, 32, pooling, 0]);
    for (let i = 0; i < e.rows; i++) assertClose([dot(e.vectors, e.dim, i, i)], [1], { atol: 1e-6, label: `norm ${i}` });
    assertClose([dot(e.vectors, e.dim, 0, 3)], [1], { atol: 1e-6, label: 'duplicate' });
    assert.ok(dot(e.vectors, e.dim, 0, 1) < 0.9999, `different texts differ (${pooling})`);
  }
});

s('the batch size does not change the embeddings (texts reordered by length inside)', async () => {
  const m = await loadEncoder(disc, cpu);
  for (const pooling of ['cls', 'mean'] as const) {
    const ref = await embedTexts(m, tok(), TEXTS, cpu, { pooling, batchSize: 1 });
    for (const b of [2, 7, 64]) assertClose((await embedTexts(m, tok(), TEXTS, cpu, { pooling, batchSize: b })).vectors, ref.vectors, { atol: 2e-6, label: `${pooling} batch ${b}` });
  }
});

s('pooling equals a direct forward: [CLS] row, or the mean over every token; then L2-normalised', async () => {
  const m = await loadEncoder(disc, cpu);
  const t = tok(), text = TEXTS[1], enc = t.encode(text), T = enc.ids.length, H = 32;
  const h = Array.from(await tidy(() => m.forward(tensor(Int32Array.from(enc.ids), [1, T], { device: cpu, dtype: 'i32' }),
    tensor(Int32Array.from(enc.typeIds), [1, T], { device: cpu, dtype: 'i32' }), tensor(Int32Array.from({ length: T }, (_, i) => i), [T], { device: cpu, dtype: 'i32' }),
    null, evalCtx)).data());
  const norm = (v: number[]) => { const n = Math.hypot(...v); return v.map((x) => x / n); };
  const cls = norm(h.slice(0, H));
  const mean = norm(Array.from({ length: H }, (_, j) => h.filter((_, i) => i % H === j).reduce((a, x) => a + x, 0) / T));
  assertClose((await embedTexts(m, t, [text], cpu, { pooling: 'cls' })).vectors, cls, { atol: 1e-6, label: 'cls' });
  assertClose((await embedTexts(m, t, [text], cpu, { pooling: 'mean' })).vectors, mean, { atol: 1e-6, label: 'mean' });
  // Truncation to maxLength is counted.
  assert.is((await embedTexts(m, t, TEXTS, cpu, { maxLength: 6 })).truncated, TEXTS.filter((x) => t.encode(x).ids.length > 6).length);
  // The generator directory's encoder loads too (its own hidden size).
  assert.is((await embedTexts(await loadEncoder(gen, cpu), t, TEXTS, cpu)).dim, 16);
});

s('WebGPU equals CPU', async () => {
  const dev = await gpu(); if (!dev) return;
  const run = async (d: Device) => (await embedTexts(await loadEncoder(disc, d), tok(), TEXTS, d, { pooling: 'mean', batchSize: 4 })).vectors;
  assertClose(await run(dev), await run(cpu), { atol: 2e-5, label: 'embeddings' });
});

s('index files: binary and JSONL round-trip exactly; broken files are refused with the reason', async () => {
  const m = await loadEncoder(disc, cpu);
  const e = await embedTexts(m, tok(), TEXTS, cpu, { pooling: 'mean' });
  const ix: EmbeddingIndex = { ...e, texts: TEXTS, model: disc };
  const bin = encodeIndex(ix);
  const head = new DataView(bin.buffer, bin.byteOffset, 64);
  assert.equal([0, 1, 2, 3].map((k) => head.getUint32(8 + 4 * k, true)), [1, 64, TEXTS.length, 32], 'version, header, rows, dim');
  assert.is(bin.length, 64 + 4 * TEXTS.length * 32 + head.getUint32(24, true), 'header + rows + metadata');
  assert.equal(new Float32Array(bin.slice(64, 64 + 4 * 32).buffer), e.vectors.subarray(0, 32), 'row 0 at offset 64 as float32');
  const back = decodeIndex(bin, 'x.bin');
  assert.equal([back.rows, back.dim, back.pooling, back.texts, back.model], [ix.rows, ix.dim, 'mean', TEXTS, disc]);
  assert.equal(back.vectors, e.vectors);
  const j = indexFromJSONL(indexToJSONL(ix), 'x.jsonl');
  assert.equal(j.vectors, e.vectors, 'JSONL keeps float32 exactly');
  assert.equal(j.texts, TEXTS);
  assert.throws(() => decodeIndex(bin.subarray(0, bin.length - 3), 'cut.bin'), /cut.bin: .*truncated/);
  const bad = bin.slice(); bad[0] = 0x41;
  assert.throws(() => decodeIndex(bad, 'bad.bin'), /magic/);
  assert.throws(() => indexFromJSONL('{"text": "a", "embedding": [1, 2]}\n{"text": "b", "embedding": [1]}\n', 'r.jsonl'), /r.jsonl:2: embedding of 1 numbers/);
});

s('search: an exact duplicate of the query ranks first with score 1; scores descend', async () => {
  const m = await loadEncoder(disc, cpu);
  const e = await embedTexts(m, tok(), TEXTS, cpu, { pooling: 'mean' });
  const ix: EmbeddingIndex = { ...e, texts: TEXTS, model: disc };
  const q = await embedTexts(m, tok(), [TEXTS[5]], cpu, { pooling: 'mean' });
  const hits = searchIndex(ix, q.vectors, 4);
  assert.is(hits[0].id, 5);
  assertClose([hits[0].score], [1], { atol: 1e-6 });
  for (let i = 1; i < hits.length; i++) assert.ok(hits[i].score <= hits[i - 1].score);
  assert.equal(hits.map((h) => h.rank), [1, 2, 3, 4]);
  // Two copies of one text tie: the lower id first.
  assert.equal(searchIndex(ix, (await embedTexts(m, tok(), [TEXTS[0]], cpu, { pooling: 'mean' })).vectors, 2).map((h) => h.id), [0, 3]);
  assert.throws(() => searchIndex(ix, new Float32Array(16), 3), /16 dimensions, the index 32/);
  // Centred: cosine after subtracting the index mean, computed here by hand; the duplicate still scores 1.
  const d = ix.dim, mean = Array.from({ length: d }, (_, j) => TEXTS.reduce((a, _t, r) => a + e.vectors[r * d + j], 0) / TEXTS.length);
  const centred = (v: ArrayLike<number>, at: number) => Array.from({ length: d }, (_, j) => v[at * d + j] - mean[j]);
  const cos = (a: number[], b: number[]) => a.reduce((x, v, j) => x + v * b[j], 0) / (Math.hypot(...a) * Math.hypot(...b));
  const ch = searchIndex(ix, q.vectors, TEXTS.length, { center: true });
  assert.is(ch[0].id, 5);
  assertClose(ch.map((h) => h.score), ch.map((h) => cos(centred(e.vectors, h.id), centred(q.vectors, 0))), { atol: 1e-9, label: 'centred cosine' });
  assert.ok(ch.at(-1)!.score < searchIndex(ix, q.vectors, TEXTS.length).at(-1)!.score, 'centring spreads the scores');
});

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const cli = (args: string[], input?: string) => spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', input, env: { ...process.env } });

s('CLI: embed stdin → JSONL, embed --input → .bin, search ranks the duplicate first; errors', async () => {
  const p = cli(['embed', '--model', disc, '--device', 'cpu', '--batch', '2'], TEXTS.join('\n') + '\n\n');
  assert.is(p.status, 0, p.stderr);
  const api = await embedTexts(await loadEncoder(disc, cpu), tok(), TEXTS, cpu, { pooling: 'mean' });
  const j = indexFromJSONL(p.stdout, 'stdout');
  assert.equal(j.texts, TEXTS, 'empty lines skipped');
  assertClose(j.vectors, api.vectors, { atol: 1e-7, label: 'CLI vs API' });
  assert.match(p.stderr, /texts 7\/7 .*done in/);

  const input = join(root, 'texts.txt'), out = join(root, 'index.bin');
  writeFileSync(input, TEXTS.join('\n'));
  const b = cli(['embed', '--model', disc, '--device', 'cpu', '--input', input, '--out', out, '--pooling', 'cls']);
  assert.is(b.status, 0, b.stderr);
  assert.is(readFileSync(out).subarray(0, 8).toString(), 'EWGEMBED');
  assert.is(readIndexFile(out).pooling, 'cls');

  const q = cli(['search', '--model', disc, '--index', out, '--device', 'cpu', '--top-k', '3', '--json', TEXTS[2]]);
  assert.is(q.status, 0, q.stderr);
  const r = JSON.parse(q.stdout) as { pooling: string; results: { rank: number; id: number; score: number; text: string }[] };
  assert.is(r.pooling, 'cls');
  assert.is(r.results.length, 3);
  assert.equal([r.results[0].id, r.results[0].text], [2, TEXTS[2]]);
  assertClose([r.results[0].score], [1], { atol: 1e-6 });
  const table = cli(['search', '--model', disc, '--index', out, '--device', 'cpu', TEXTS[2]]);
  assert.match(table.stdout, /^ {2}1 {2}1\.0000 {2}#2 {2}the man saw a tree$/m);

  assert.is(cli(['embed', '--model', disc, '--pooling', 'max', 'x']).status, 2);
  const bad = cli(['search', '--model', gen, '--index', out, '--device', 'cpu', 'dog']);
  assert.is(bad.status, 1);
  assert.match(bad.stderr, /32-dimensional embeddings but .*generator makes 16-dimensional/);
});

s.run();
