// Data pipeline: vocabulary training, ELECTRA example building (spec §2.1), shard round trips and corruption
// errors, the batch reader's determinism, resume and epochs, the worker-thread builder, the bundled corpora.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, writeFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  WordPieceTokenizer, trainWordPieceVocab, ExampleBuilder, buildExamples, encodeShard, decodeShard, ShardError,
  BatchReader, epochOrder, vocabHash, splitSentences, cleanBrown, textToDocuments, documentsToText, type Example, type ShardSource,
} from '../../src/text/index.js';
import { loadBundledCorpus, buildShards, openBatchReader, readShardFile, writeShardFile, openShardFiles, preparePretrainingData } from '../../src/text/node/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'electra-text-'));
const moby = loadBundledCorpus('moby-dick');
const mobyVocab = trainWordPieceVocab(moby.flat(), { vocabSize: 3000 });
const tok = new WordPieceTokenizer(mobyVocab);

test('vocab training: layout, size, determinism, no [UNK] on its own corpus', () => {
  assert.is(mobyVocab.length, 3000);
  assert.equal(mobyVocab.slice(0, 2), ['[PAD]', '[unused0]']);
  assert.equal(mobyVocab.slice(100, 104), ['[UNK]', '[CLS]', '[SEP]', '[MASK]']);
  assert.is(new Set(mobyVocab).size, mobyVocab.length);
  assert.equal(trainWordPieceVocab(moby.flat(), { vocabSize: 3000 }), mobyVocab);
  const ids = tok.tokenizeToIds(moby.flat().join('\n'));
  assert.is(ids.filter((i) => i === tok.unkId).length, 0);
  assert.ok(ids.length < moby.flat().join(' ').length / 3, 'a trained vocabulary compresses its corpus');
  const small = trainWordPieceVocab(['low lower lowest', 'newer newest wider'], { vocabSize: 40, minFrequency: 1 });
  assert.equal(small.slice(0, 5), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
  assert.ok(small.includes('low') && small.length <= 40);
  // minFrequency stops early: with 1000 allowed, pairs seen once are never merged.
  const rare = trainWordPieceVocab(['abcdef'], { vocabSize: 1000, minFrequency: 2 });
  assert.is(rare.length, 5 + 6 + 6);
  assert.throws(() => trainWordPieceVocab(['x'], { vocabSize: 5 }), /too small/);
});

test('example builder follows build_pretraining_dataset.py', () => {
  const sentence = (n: number, base: number) => Array.from({ length: n }, (_, i) => base + i);
  const b = new ExampleBuilder({ maxLength: 16, clsId: 101, sepId: 102, seed: 1 });
  const out: Example[] = [];
  for (let k = 0; k < 400; k++) { const e = b.addSentence(sentence(1 + (k % 7), 1000 + k * 10)); if (e) out.push(e); if (k % 50 === 49) { const f = b.endDocument(); if (f) out.push(f); } }
  assert.ok(out.length > 50);
  let single = 0, short = 0;
  for (const e of out) {
    assert.ok(e.ids.length <= 16);
    assert.is(e.ids[0], 101);
    assert.is(e.ids[e.firstSegEnd - 1], 102);
    assert.is(e.ids[e.ids.length - 1], 102);
    assert.is(e.ids.filter((x) => x === 102).length, e.firstSegEnd === e.ids.length ? 1 : 2);
    if (e.firstSegEnd === e.ids.length) single++;
    if (e.ids.length < 12) short++;
  }
  assert.ok(single > 0 && single < out.length / 2, `single-segment examples: ${single}/${out.length}`);
  assert.ok(short > 0, 'the 5% random target length and document ends make shorter examples');
  // Same seed, same examples; a blank line flushes.
  const docs = [['a b c d e f g h', 'i j k l'], ['m n o p q r s t u v w x y z']];
  const ids = (s: string) => s.split(' ').map((w) => w.charCodeAt(0));
  const run = () => [...buildExamples(docs, ids, { maxLength: 64, clsId: 1, sepId: 2, seed: 9 })];
  assert.equal(run(), run());
  assert.is(run().length, 2);
});

test('shards: round trip, uint16/uint32, and clear errors for truncation, corruption, other vocabularies', () => {
  const ex: Example[] = [{ ids: [101, 5, 6, 102, 7, 102], firstSegEnd: 4 }, { ids: [101, 9, 102], firstSegEnd: 3 }, { ids: [101, 102], firstSegEnd: 2 }];
  const meta = { vocabHash: vocabHash(tok.tokens), vocabSize: tok.vocabSize, seqLen: 8 };
  const bytes = encodeShard(ex, meta);
  const s = decodeShard(bytes, 'mem', meta);
  assert.is(s.tokens.BYTES_PER_ELEMENT, 2);
  assert.equal(Array.from(s.tokens), ex.flatMap((e) => e.ids));
  assert.equal(Array.from(s.firstSegEnd), [4, 3, 2]);
  const big = decodeShard(encodeShard([{ ids: [0, 70000, 1], firstSegEnd: 3 }], { ...meta, vocabSize: 80000 }), 'mem');
  assert.is(big.tokens.BYTES_PER_ELEMENT, 4);
  assert.is(big.tokens[1], 70000);
  const f = join(tmp, 'one.bin');
  writeShardFile(f, ex, meta);
  assert.equal(Array.from(readShardFile(f, meta).tokens), ex.flatMap((e) => e.ids));
  const bad = (b: Uint8Array, re: RegExp, expect = meta) => {
    const p = join(tmp, 'bad.bin');
    writeFileSync(p, b);
    try { readShardFile(p, expect); assert.unreachable('accepted a bad shard'); } catch (e) {
      assert.instance(e, ShardError);
      assert.match((e as Error).message, re);
      assert.ok((e as Error).message.startsWith(p), 'the error names the file');
    }
  };
  bad(bytes.subarray(0, bytes.length - 3), /truncated/);
  bad(bytes.subarray(0, 20), /truncated/);
  const flip = bytes.slice(); flip[flip.length - 1] ^= 1; bad(flip, /corrupted/);
  const head = bytes.slice(); head[33] ^= 1; bad(head, /header is corrupted/);
  bad(new TextEncoder().encode('not a shard at all, just some text that is long enough to have a header.....'), /bad magic/);
  bad(bytes, /another vocabulary/, { ...meta, vocabHash: vocabHash(['[UNK]']) });
  bad(bytes, /sequence length/, { ...meta, seqLen: 128 });
  assert.throws(() => encodeShard([{ ids: [1, 2, 3], firstSegEnd: 3 }], { ...meta, seqLen: 2 }), /exceeds/);
  assert.throws(() => encodeShard([{ ids: [1, 99999], firstSegEnd: 2 }], meta), /outside the vocabulary/);
  // An atomic write that fails leaves the old file intact.
  assert.throws(() => writeShardFile(f, [{ ids: [1, 99999], firstSegEnd: 2 }], meta));
  assert.is(readShardFile(f, meta).header.count, 3);
});

/** In-memory ShardSource with `n` shards of `per` examples whose first token encodes its global index. */
function memSource(n: number, per: number, seqLen = 8): ShardSource & { loads: number } {
  const meta = { vocabHash: '0123456789abcdef', vocabSize: 65536, seqLen };
  const shards = Array.from({ length: n }, (_, s) => encodeShard(Array.from({ length: per }, (_, j) => ({ ids: [s * per + j, 7, 8], firstSegEnd: 2 })), meta));
  const src = { counts: Array(n).fill(per), seqLen, loads: 0, load: async (i: number) => { src.loads++; return decodeShard(shards[i], `mem${i}`); } };
  return src;
}
const firstTokens = (b: { inputIds: Int32Array; seqLen: number; batchSize: number }) => Array.from({ length: b.batchSize }, (_, r) => b.inputIds[r * b.seqLen]);

test('batch reader: layout, every example once per epoch, deterministic, resumable', async () => {
  const src = memSource(5, 37);
  const N = 185;
  const r = new BatchReader(src, { batchSize: 10, seed: 4, shuffleBuffer: 16 });
  const b = await r.next();
  assert.equal(Array.from(b.inputIds.subarray(1, 8)), [7, 8, 0, 0, 0, 0, 0]);
  assert.equal(Array.from(b.tokenTypeIds.subarray(0, 8)), [0, 0, 1, 0, 0, 0, 0, 0]);
  assert.equal(Array.from(b.attentionMask.subarray(0, 8)), [1, 1, 1, 0, 0, 0, 0, 0]);
  const seen: number[] = firstTokens(b);
  while (seen.length < 3 * N) seen.push(...firstTokens(await r.next()));
  assert.ok(src.loads <= 3 * 5 + 5, `shards loaded ${src.loads} times over 3 epochs of 5 shards`);
  for (let e = 0; e < 3; e++) assert.equal([...seen.slice(e * N, (e + 1) * N)].sort((x, y) => x - y), Array.from({ length: N }, (_, i) => i), `epoch ${e}`);
  assert.not.equal(seen.slice(0, N), seen.slice(N, 2 * N), 'epochs are shuffled differently');
  assert.not.equal(seen.slice(0, N), Array.from({ length: N }, (_, i) => i), 'not in file order');
  // Same seed → same stream; resume from a saved position → the same continuation.
  const again = new BatchReader(memSource(5, 37), { batchSize: 10, seed: 4, shuffleBuffer: 16 });
  const a: number[] = [];
  while (a.length < 3 * N) a.push(...firstTokens(await again.next()));
  assert.equal(a, seen);
  const resumed = new BatchReader(memSource(5, 37), { batchSize: 10, seed: 4, shuffleBuffer: 16, position: 170 });
  const c: number[] = [];
  while (c.length < 200) c.push(...firstTokens(await resumed.next()));
  assert.equal(c, seen.slice(170, 370));
  const other = epochOrder([37, 37, 37, 37, 37], 5, 0, 16).order;
  assert.not.equal(Array.from(other), seen.slice(0, N), 'another seed gives another order');
});

test('worker-thread build on a bundled corpus → shards → reader; same output with 0 and 2 workers', async () => {
  const docs = moby.slice(0, 40);
  const progress: number[] = [];
  const m2 = await buildShards(docs, tok, { outDir: join(tmp, 'w2'), seqLen: 64, seed: 3, chunkChars: 120000, workers: 2, onProgress: (p) => progress.push(p.chars) });
  const m0 = await buildShards(docs, tok, { outDir: join(tmp, 'w0'), seqLen: 64, seed: 3, chunkChars: 120000, workers: 0 });
  assert.ok(m2.shards.length >= 3);
  assert.equal(m2, m0);
  for (const s of m2.shards) assert.equal(readFileSync(join(tmp, 'w2', s.file)), readFileSync(join(tmp, 'w0', s.file)));
  assert.ok(progress.length > 0 && progress[progress.length - 1] > 0);
  assert.equal(readdirSync(join(tmp, 'w2')).filter((f) => f.endsWith('.tmp')), []);
  const files = m2.shards.map((s) => join(tmp, 'w2', s.file));
  const r = openBatchReader(files, tok, { batchSize: 8, seed: 1 });
  const b = await r.next();
  assert.is(b.seqLen, 64);
  for (let i = 0; i < 8; i++) assert.is(b.inputIds[i * 64], tok.clsId);
  // Decoded examples read back as Moby-Dick.
  const text = tok.decode(Array.from(b.inputIds.subarray(0, 64)));
  assert.match(text, /[a-z]+ [a-z]+/);
  // Reader refuses shards from another vocabulary, naming the file.
  const otherTok = new WordPieceTokenizer(trainWordPieceVocab(moby.slice(0, 5).flat(), { vocabSize: 500 }));
  assert.throws(() => openBatchReader(files, otherTok, { batchSize: 2 }), /shard-00000\.bin: shard was built with another vocabulary/);
  // A truncated file is caught from its header alone.
  const cut = join(tmp, 'cut.bin');
  writeFileSync(cut, readFileSync(files[0]).subarray(0, 200));
  assert.throws(() => openShardFiles([cut]), /cut\.bin: truncated shard/);
});

test('bundled corpora load cleaned: no tags, no stage directions, one sentence per line', () => {
  const sotu = loadBundledCorpus('sotu'), brown = loadBundledCorpus('brown');
  assert.is(sotu.length, 233);
  assert.is(brown.length, 500);
  assert.is(moby.length, 135);
  const all = loadBundledCorpus('all');
  assert.is(all.length, 233 + 500 + 135);
  const lines = all.flat();
  assert.ok(lines.every((s) => !s.includes('\n') && s.trim() === s && s.length > 0));
  assert.not.ok(lines.some((s) => /\/(at|nn|vbd|np)\b/.test(s)), 'Brown tags stripped');
  assert.not.ok(lines.some((s) => /\[(Laughter|Applause)\]/i.test(s)), 'stage directions removed');
  assert.not.ok(lines.some((s) => /^CHAPTER \d+/.test(s)), 'chapter headings removed');
  assert.equal(splitSentences('Mr. Smith went to Washington. He arrived at 3 p.m. on Jan. 5. "Good," he said! Then U.S. law applied.'),
    ['Mr. Smith went to Washington.', 'He arrived at 3 p.m. on Jan. 5.', '"Good," he said!', 'Then U.S. law applied.']);
  assert.equal(cleanBrown("\n\n\tThe/at jury/nn said/vbd ``/`` no/at ''/'' ,/, it's/pps+bez Jr./np ./.\n"), ['The jury said “no”, it\'s Jr.']);
  assert.equal(textToDocuments(documentsToText([['a', 'b'], ['c']])), [['a', 'b'], ['c']]);
});

test('preparePretrainingData: builds once, then reuses the directory', async () => {
  const o = { corpus: 'moby-dick' as const, vocabSize: 1000, seqLen: 64, outDir: join(tmp, 'prep'), workers: 0 };
  const a = await preparePretrainingData(o);
  assert.is(a.reused, false);
  assert.is(a.tokenizer.vocabSize, 1000);
  const b = await preparePretrainingData(o);
  assert.is(b.reused, true);
  assert.equal(b.tokenizer.tokens, a.tokenizer.tokens);
  assert.equal(b.files, a.files);
  const r = openBatchReader(b.files, b.tokenizer, { batchSize: 4 });
  assert.is((await r.next()).inputIds.length, 4 * 64);
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
