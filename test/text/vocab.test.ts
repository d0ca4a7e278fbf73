// Vocabulary parsing and validation (vocab.txt, tokenizer.json, tokenizer_config.json), the vocabulary hash,
// and loading a tokenizer from a model directory.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseVocabTxt, parseTokenizerJson, parseTokenizerConfig, vocabHash, VocabError } from '../../src/text/vocab.js';
import { WordPieceTokenizer } from '../../src/text/wordpiece.js';
import { loadTokenizer } from '../../src/text/node/index.js';
import { bertBaseUncasedVocab, bertTokenizerJson } from './hf.js';

test('vocab.txt: ids are line numbers; CRLF, BOM and trailing spaces are tolerated', () => {
  assert.equal(parseVocabTxt('\ufeff[PAD]\r\n[UNK] \r\nhello\n##s\n'), ['[PAD]', '[UNK]', 'hello', '##s']);
  assert.equal(parseVocabTxt('[UNK]\nx'), ['[UNK]', 'x']);
});

test('vocab.txt errors: empty, duplicate, missing [UNK], blank line', () => {
  const err = (text: string, re: RegExp) => {
    try { parseVocabTxt(text, 'v.txt'); assert.unreachable(); } catch (e) { assert.instance(e, VocabError); assert.match((e as Error).message, re); }
  };
  err('', /v\.txt: empty vocabulary file/);
  err('[UNK]\na\nb\na\n', /v\.txt: duplicate token "a" at lines 2 and 4/);
  err('a\nb\n', /v\.txt: vocabulary has no unknown token "\[UNK\]"/);
  err('[UNK]\n\nb\n', /v\.txt: empty token at line 2/);
  assert.throws(() => new WordPieceTokenizer(['a', 'b']), /no unknown token/);
});

test('tokenizer.json: options and specials; unsupported pipelines are refused by name', () => {
  const vocab = bertBaseUncasedVocab();
  const { tokens, options } = parseTokenizerJson(bertTokenizerJson(vocab, { lowercase: false, maxInputCharsPerWord: 200 }));
  assert.is(tokens.length, vocab.length);
  assert.equal([options.lowercase, options.maxInputCharsPerWord, options.clsToken, options.sepToken], [false, 200, '[CLS]', '[SEP]']);
  assert.equal(options.specialTokens, ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
  const j = JSON.parse(bertTokenizerJson(['[UNK]', 'a']));
  assert.throws(() => parseTokenizerJson(JSON.stringify({ ...j, model: { ...j.model, type: 'BPE' } }), 't.json'), /t\.json: model type "BPE" is not WordPiece/);
  assert.throws(() => parseTokenizerJson(JSON.stringify({ ...j, normalizer: { type: 'NFKC' } }), 't.json'), /normalizer "NFKC" is not supported/);
  assert.throws(() => parseTokenizerJson(JSON.stringify({ ...j, model: { ...j.model, vocab: { '[UNK]': 0, a: 0 } } }), 't.json'), /id 0 is used by both/);
  assert.throws(() => parseTokenizerJson('{not json', 't.json'), /t\.json: invalid JSON/);
  assert.equal(parseTokenizerConfig('{"do_lower_case": false, "model_max_length": 512, "unk_token": {"content": "<unk>"}}'),
    { lowercase: false, modelMaxLength: 512, unkToken: '<unk>' });
});

test('vocabHash is stable and order-sensitive', () => {
  assert.is(vocabHash(['[PAD]', '[UNK]']), vocabHash(['[PAD]', '[UNK]']));
  assert.is.not(vocabHash(['[PAD]', '[UNK]']), vocabHash(['[UNK]', '[PAD]']));
  assert.match(vocabHash(bertBaseUncasedVocab()), /^[0-9a-f]{16}$/);
  // FNV-1a 64 of "a\n" (reference value computed with BigInt arithmetic).
  let h = 0xcbf29ce484222325n;
  for (const c of [97, 10]) { h ^= BigInt(c); h = (h * 0x100000001b3n) & 0xffffffffffffffffn; }
  assert.is(vocabHash(['a']), h.toString(16).padStart(16, '0'));
});

test('loadTokenizer: a directory with vocab.txt and tokenizer_config.json (do_lower_case false)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'electra-vocab-'));
  try {
    writeFileSync(join(dir, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'Hello', 'hello', '##s'].join('\n') + '\n');
    writeFileSync(join(dir, 'tokenizer_config.json'), '{"do_lower_case": false}');
    const cased = loadTokenizer(dir);
    assert.equal(cased.tokenize('Hello hellos'), ['Hello', 'hello', '##s']);
    writeFileSync(join(dir, 'tokenizer_config.json'), '{"do_lower_case": true}');
    assert.equal(loadTokenizer(dir).tokenize('Hello'), ['hello']);
    assert.throws(() => loadTokenizer(join(dir, 'missing.txt')), /missing\.txt: cannot read \(ENOENT\)/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('the core text API bundles for browsers (no Node built-ins)', async () => {
  const { build } = await import('esbuild');
  const entry = fileURLToPath(new URL('../../../src/text/index.ts', import.meta.url));
  const r = await build({ entryPoints: [entry], bundle: true, platform: 'browser', format: 'esm', write: false, logLevel: 'silent' });
  assert.is(r.errors.length, 0);
  assert.not.match(r.outputFiles[0].text, /from\s*["']node:/);
});

test.run();
