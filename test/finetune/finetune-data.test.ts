// Fine-tuning encoders and QA decoding on hand-made cases: pair layout and labels, first-sub-token tagging with
// truncation, doc-stride windows whose offsets map back to the context's characters, and answer decoding
// (max length, end ≥ start, best across windows, n-best probabilities, no-answer threshold).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  type QaExample, decodeQa, encodeForClassification, encodeForQa, encodeForTokens, packBatch, packTokenLabels,
} from '../../src/electra/tasks/finetune-data.js';
import { WordPieceTokenizer } from '../../src/text/wordpiece.js';

const s = suite('fine-tuning data');

export const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'the', 'cat', 'sat', 'on', 'mat', 'dog', 'ran', 'a', 'big', 'red',
  'house', '.', ',', '##s', '##ed', 'it', 'was', 'and', 'to', 'of', 'where', 'is', 'in', 'paris', 'france', 'who', '?', 'eiffel', 'tower'];
const tok = new WordPieceTokenizer(VOCAB);
const id = (t: string) => VOCAB.indexOf(t);

s('classification: [CLS] a [SEP] b [SEP] with segment ids, labels by name, regression numbers, clear errors', () => {
  const [one, pair] = encodeForClassification(tok, [{ text: 'The cat sat.', label: 'pos' }, { text: 'a dog', textB: 'it ran', label: 'neg' }], ['neg', 'pos'], 16);
  assert.equal(one.ids, [2, id('the'), id('cat'), id('sat'), id('.'), 3]);
  assert.equal(one.typeIds, [0, 0, 0, 0, 0, 0]);
  assert.is(one.label, 1);
  assert.equal(pair.ids, [2, id('a'), id('dog'), 3, id('it'), id('ran'), 3]);
  assert.equal(pair.typeIds, [0, 0, 0, 0, 1, 1, 1]);
  assert.is(pair.label, 0);
  // Numbers as labels name classes too (GLUE "0"/"1").
  assert.is(encodeForClassification(tok, [{ text: 'x', label: 1 }], ['0', '1'], 8)[0].label, 1);
  // Truncation keeps maxLen tokens with specials, longest first for pairs.
  const t = encodeForClassification(tok, [{ text: 'the cat sat on the mat', textB: 'a dog', label: 'neg' }], ['neg', 'pos'], 7)[0];
  assert.is(t.ids.length, 7);
  assert.equal(t.ids, [2, id('the'), id('cat'), 3, id('a'), id('dog'), 3]);
  const r = encodeForClassification(tok, [{ text: 'x', label: '3.5' }, { text: 'y', label: 0.25 }], null, 8);
  assert.equal(r.map((e) => e.label), [3.5, 0.25]);
  assert.throws(() => encodeForClassification(tok, [{ text: 'x', label: 'maybe', id: 'q7' }], ['neg', 'pos'], 8, 'dev.csv'), /dev\.csv example q7: label "maybe" is not one of the task's labels \(neg, pos\)/);
  assert.throws(() => encodeForClassification(tok, [{ text: 'x', label: 'high' }], null, 8), /regression label "high" is not a number/);
  assert.throws(() => encodeForClassification(tok, [{ text: 'x', label: '' }], null, 8), /regression label "" is not a number/);
});

s('token classification: first sub-token labelled, others and specials -100, empty and truncated words unscored', () => {
  const labels = ['DET', 'NOUN', 'VERB', 'X'];
  const [e] = encodeForTokens(tok, [{ words: ['The', 'cats', '\u0000', 'sat', 'zzz'], tags: ['DET', 'NOUN', 'X', 'VERB', 'X'] }], labels, 32);
  assert.equal(e.ids, [2, id('the'), id('cat'), id('##s'), id('sat'), 1, 3]);
  assert.equal(e.label, [-100, 0, 1, -100, 2, 3, -100]);
  assert.equal(e.wordStarts, [1, 2, -1, 4, 5]);
  // maxLen 5: [CLS] the cat ##s [SEP] — "cats" keeps its first pieces, later words are cut.
  const [c] = encodeForTokens(tok, [{ words: ['The', 'cats', 'sat'], tags: ['DET', 'NOUN', 'VERB'] }], labels, 5);
  assert.equal(c.ids, [2, id('the'), id('cat'), id('##s'), 3]);
  assert.equal(c.wordStarts, [1, 2, -1]);
  // A word whose pieces cross the cut keeps only what fits.
  const [d] = encodeForTokens(tok, [{ words: ['The', 'cats'], tags: ['DET', 'NOUN'] }], labels, 4);
  assert.equal(d.ids, [2, id('the'), id('cat'), 3]);
  assert.equal(d.label, [-100, 0, 1, -100]);
  assert.throws(() => encodeForTokens(tok, [{ words: ['a', 'b'], tags: ['DET'] }], labels, 8), /2 words but 1 tags/);
  assert.throws(() => encodeForTokens(tok, [{ words: ['a'], tags: ['ADJ'], id: 's9' }], labels, 8), /sentence s9, word 0 \("a"\): label "ADJ"/);
  // Packing pads labels with -100.
  assert.equal(Array.from(packTokenLabels([e, c], [1], 6)), [-100, 0, 1, -100, -100, -100]);
});

s('packBatch: right padding with the pad id and a 0 mask', () => {
  const items = encodeForClassification(tok, [{ text: 'the cat', label: 'a' }, { text: 'the cat sat on', label: 'a' }], ['a'], 16);
  const p = packBatch(items, [0, 1], 0);
  assert.is(p.T, 6);
  assert.equal(Array.from(p.inputIds), [2, 5, 6, 3, 0, 0, 2, 5, 6, 7, 8, 3]);
  assert.equal(Array.from(p.attentionMask), [1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1]);
});

const CONTEXT = 'The cat sat on the mat. The dog ran to Paris, and the big red house was in France.';
const EX: QaExample = { id: 'q1', question: 'Where is the house?', context: CONTEXT, answers: [{ text: 'in France', start: CONTEXT.indexOf('in France') }] };

s('QA windows: [CLS] question [SEP] window [SEP], stride, offsets back into the context, answer labels', () => {
  const ctxTokens = tok.encode(CONTEXT, null, { addSpecialTokens: false });
  assert.is(ctxTokens.ids.length, 22);
  // question: where is the house ? → 5 tokens; maxLen 16 → 8 context tokens per window; stride 5.
  const f = encodeForQa(tok, [EX], { maxLen: 16, docStride: 5 });
  // Context tokens: 0 the 1 cat … 17 house 18 was 19 in 20 france 21 . — windows start at 0, 5, 10, 15 (8 tokens
  // each; the last, 15..21, reaches the end).
  assert.equal(f.map((x) => x.ids.length), [16, 16, 16, 15]);
  const q = [2, id('where'), id('is'), id('the'), id('house'), id('?'), 3];
  for (const x of f) assert.equal(x.ids.slice(0, 7), q);
  assert.equal(f[1].ids.slice(7, 15), ctxTokens.ids.slice(5, 13));
  assert.equal(f[1].typeIds, [...new Array(7).fill(0), ...new Array(9).fill(1)]);
  // Every context token's offsets give its text in the context.
  for (const x of f) {
    x.offsets.forEach((o, i) => {
      if (!o) { assert.ok(i < 7 || i === x.ids.length - 1, 'only question and specials lack offsets'); return; }
      assert.is(CONTEXT.slice(o[0], o[1]).toLowerCase(), VOCAB[x.ids[i]].replace(/^##/, ''));
    });
  }
  // "in France" is context tokens 19, 20: only inside the window from 15, at positions 7 + 4 and 7 + 5.
  assert.equal(f.map((x) => x.label), [[0, 0], [0, 0], [0, 0], [11, 12]]);
  assert.equal(f.map((x) => x.exampleIndex), [0, 0, 0, 0]);
  assert.throws(() => encodeForQa(tok, [EX], { maxLen: 8 }), /leaves no room for the context/);
  assert.throws(() => encodeForQa(tok, [{ ...EX, answers: [{ text: 'France', start: 500 }] }], { maxLen: 32 }), /outside its/);
});

s('QA decoding: best span within max length, end ≥ start, across windows, n-best softmax, no-answer', () => {
  const f = encodeForQa(tok, [EX], { maxLen: 16, docStride: 5 });
  const zeros = () => f.map((x) => new Float64Array(x.ids.length));
  const start = zeros(), end = zeros();
  // Window 3 (context from token 15): "in" at 11, "france" at 12. Give "in France" the best score there.
  start[3][11] = 5; end[3][12] = 5;
  // A higher start on a question token must be ignored (no offsets), as must an end before the start.
  start[3][2] = 50; end[3][10] = 4.9;
  const [a] = decodeQa([EX], f, start, end, { nBest: 5, maxAnswerLength: 30 });
  assert.is(a.text, 'in France');
  assert.is(CONTEXT.slice(a.start, a.end), 'in France');
  assert.is(a.score, 10);
  const total = a.nBest.reduce((x, c) => x + c.probability, 0);
  assert.ok(Math.abs(total - 1) < 1e-12, `n-best probabilities sum to ${total}`);
  assert.ok(a.nBest.every((c, i) => i === 0 || c.score <= a.nBest[i - 1].score), 'n-best sorted by score');
  assert.ok(a.nBest.every((c) => c.end > c.start), 'no span ends before it starts');
  // Max answer length 1: only single-token spans.
  const [b] = decodeQa([EX], f, start, end, { nBest: 5, maxAnswerLength: 1 });
  assert.ok(b.nBest.every((c) => !c.text.includes(' ')), `single tokens only: ${b.nBest.map((c) => c.text)}`);
  // The same token appears in two windows: the better-scoring window wins, and a span is listed once.
  const s2 = zeros(), e2 = zeros();
  s2[1][7 + 2] = 3; e2[1][7 + 3] = 3;            // window 1 starts at context token 5: tokens 7, 8 = "the dog"
  s2[2][7 + 0] = 4; e2[2][7 + 0] = 4;            // window 2 starts at token 10: token 10 = "to"
  const [c] = decodeQa([EX], f, s2, e2, { nBest: 3 });
  assert.is(c.text, 'to');
  assert.is(new Set(c.nBest.map((x) => `${x.start}:${x.end}`)).size, c.nBest.length);
  // SQuAD v2: a [CLS] score above the best span + threshold answers ''.
  const s3 = zeros(), e3 = zeros();
  for (const x of [s3, e3]) for (const row of x) row[0] = 20;
  s3[3][11] = 5; e3[3][12] = 5;
  assert.is(decodeQa([EX], f, s3, e3, { nullThreshold: 0 })[0].text, '');
  assert.is(decodeQa([EX], f, s3, e3, { nullThreshold: 100 })[0].text, 'in France');
  assert.is(decodeQa([EX], f, s3, e3)[0].text, 'in France', 'v1.1: always a span');
});

s.run();
