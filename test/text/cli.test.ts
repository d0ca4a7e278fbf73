// The text subcommands end to end, as scripts use them: `electra tokenize --ids` on stdin, vocab training,
// build-data from files, and the bad-input errors (each names the file and the problem, exit code non-zero).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bertBaseUncasedVocab, bertTokenizerJson } from './hf.js';
import { readShardFile } from '../../src/text/node/index.js';

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'electra-cli-'));
const vocabFile = join(tmp, 'vocab.txt');
writeFileSync(vocabFile, bertBaseUncasedVocab().join('\n') + '\n');
const electra = (args: string[], input?: string | Uint8Array) => spawnSync(process.execPath, [main, ...args], { input, encoding: 'utf8' });

test('tokenize --ids: one line of ids per stdin line, no [CLS]/[SEP]; fixture ids from HF', () => {
  const fx = JSON.parse(readFileSync(new URL('./fixtures/bert-uncased-parity.json', import.meta.url.replace('/build/', '/')), 'utf8'));
  const cases = (fx.cases as Array<{ text: string; ids: number[] }>).filter((c) => !/[\n\r\u2028\u2029\u0085\u000b\u000c]/.test(c.text)).slice(0, 300);
  const r = electra(['tokenize', '--vocab', vocabFile, '--ids'], cases.map((c) => c.text).join('\n') + '\n');
  assert.is(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.is(lines.length, cases.length + 1);
  cases.forEach((c, i) => assert.is(lines[i], c.ids.slice(1, -1).join(' '), JSON.stringify(c.text)));
  // tokenizer.json gives the same; CRLF input and a last line without newline are handled.
  const json = join(tmp, 'tokenizer.json');
  writeFileSync(json, bertTokenizerJson(bertBaseUncasedVocab()));
  const r2 = electra(['tokenize', '--tokenizer', json, '--ids'], 'Hello, world!\r\nThe end');
  assert.is(r2.stdout, '7592 1010 2088 999\n1996 2203\n');
  const r3 = electra(['tokenize', '--vocab', vocabFile], 'Unbelievably good');
  assert.is(r3.stdout, 'un ##bel ##ie ##va ##bly good\n');
});

test('bad inputs: clear errors naming the file and problem', () => {
  const cases: Array<[string, string | Uint8Array, RegExp]> = [
    ['dup.txt', '[UNK]\na\nb\na\n', /dup\.txt: duplicate token "a" at lines 2 and 4/],
    ['nounk.txt', 'a\nb\n', /nounk\.txt: vocabulary has no unknown token "\[UNK\]"/],
    ['empty.txt', '', /empty\.txt: file is empty/],
    ['binary.txt', new Uint8Array([0x5b, 0x55, 0, 1, 2]), /binary\.txt: looks binary/],
    ['latin1.txt', new Uint8Array([0x5b, 0x55, 0x4e, 0x4b, 0x5d, 0x0a, 0x63, 0x61, 0x66, 0xe9, 0x0a]), /latin1\.txt: invalid UTF-8 at byte 9/],
  ];
  for (const [name, body, re] of cases) {
    const f = join(tmp, name);
    writeFileSync(f, body);
    const r = electra(['tokenize', '--vocab', f, 'x']);
    assert.is.not(r.status, 0, name);
    assert.match(r.stderr, re);
  }
  const bad = electra(['tokenize', '--vocab', vocabFile, '--ids'], new Uint8Array([0x61, 0x0a, 0xff, 0x0a]));
  assert.is(bad.status, 1);
  assert.match(bad.stderr, /<stdin>: invalid UTF-8/);
  assert.is(electra(['tokenize', '--nope']).status, 2);
  const corpusFile = join(tmp, 'latin1.txt');
  const r = electra(['build-data', corpusFile, '--vocab', vocabFile, '--out', join(tmp, 'never')]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /latin1\.txt: invalid UTF-8/);
  assert.not.ok(existsSync(join(tmp, 'never')), 'nothing written on bad input');
});

test('vocab and build-data from files; --help everywhere', () => {
  const corpus = join(tmp, 'corpus.txt');
  const doc = (k: number) => Array.from({ length: 30 }, (_, i) => `Sentence ${i} of document ${k} talks about whales, ships and the sea.`).join('\n');
  writeFileSync(corpus, [doc(1), doc(2), doc(3)].join('\n\n') + '\n');
  const v = join(tmp, 'small-vocab.txt');
  const r = electra(['vocab', corpus, '--size', '300', '--out', v]);
  assert.is(r.status, 0, r.stderr);
  const tokens = readFileSync(v, 'utf8').trim().split('\n');
  assert.ok(tokens.length <= 300 && tokens[1] === '[UNK]');
  const out = join(tmp, 'shards');
  const b = electra(['build-data', corpus, '--vocab', v, '--out', out, '--seq-len', '32', '--workers', '1']);
  assert.is(b.status, 0, b.stderr);
  assert.match(b.stderr, /examples/);
  const files = readdirSync(out).filter((f) => f.endsWith('.bin'));
  assert.equal(files, ['shard-00000.bin']);
  const s = readShardFile(join(out, files[0]));
  assert.ok(s.header.count > 10);
  assert.is(s.header.seqLen, 32);
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
  assert.is(manifest.examples, s.header.count);
  for (const c of ['vocab', 'tokenize', 'build-data']) {
    const h = electra([c, '--help']);
    assert.is(h.status, 0);
    assert.match(h.stdout, new RegExp(`usage: electra ${c}`));
  }
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
