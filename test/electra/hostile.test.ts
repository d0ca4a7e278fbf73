// Hostile and broken checkpoints (issue 14): each hole the probe found, with the input that opened it.
// Tiny files must not ask for gigabytes (views are checked against their storage and the file before anything
// is allocated; names and shapes against config.json before any tensor is read), pickles of many items must
// not overflow the stack, non-finite weights and bad config values are refused naming the file, the tensor or
// the key, a safetensors header may not name a tensor twice, every command applies one rule to unknown
// tensors, and a vocab.txt shorter than vocab_size is warned about.

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadTorchStateDict } from '../../src/electra/formats/torchbin.js';
import { parseSafetensors, serializeSafetensors, toWritable, type HostTensor } from '../../src/electra/formats/safetensors.js';
import { loadDiscriminator } from '../../src/node/electra-io.js';
import { initHeadModelFromDirectory, loadHeadModel } from '../../src/node/finetune-io.js';
import { modelDirectory } from '../../src/cli/infer-common.js';
import { cpu } from '../helpers.js';
import { bytes, cat, f32bytes, le64, makeZip, pickleStateDict, torchZip } from './torch-fixtures.js';

const s = suite('hostile checkpoints');
const GOLD = fileURLToPath(new URL('../../../test/fixtures/hf-golden/', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'electra-hostile-'));
let n = 0;

async function fails(p: Promise<unknown> | (() => unknown), ...parts: (string | RegExp)[]): Promise<string> {
  try { await (typeof p === 'function' ? p() : p); } catch (e) {
    const m = (e as Error).message;
    for (const x of parts) assert.ok(typeof x === 'string' ? m.includes(x) : x.test(m), `error "${m}" should mention ${x}`);
    return m;
  }
  assert.unreachable(`expected an error mentioning ${parts.join(', ')}`);
  return '';
}

/** Peak growth of the process's memory around `fn` (max RSS, and array buffers right after). */
function measured(fn: () => void): { ms: number; rssMB: number; buffersMB: number } {
  const rss0 = process.resourceUsage().maxRSS, ab0 = process.memoryUsage().arrayBuffers, t0 = performance.now();
  fn();
  const ms = performance.now() - t0;
  return { ms, rssMB: (process.resourceUsage().maxRSS - rss0) / 1024, buffersMB: (process.memoryUsage().arrayBuffers - ab0) / 2 ** 20 };
}

/** A copy of a golden Hugging Face directory (config.json, vocab.txt) with our own weights file. */
function goldenDir(name: string, weights: { file: string; bytes: Uint8Array } | null, config?: (c: Record<string, unknown>) => void): string {
  const dir = join(root, `${name}-${n++}`);
  mkdirSync(dir);
  const cfg = JSON.parse(readFileSync(join(GOLD, name, 'config.json'), 'utf8')) as Record<string, unknown>;
  config?.(cfg);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg));
  copyFileSync(join(GOLD, name, 'vocab.txt'), join(dir, 'vocab.txt'));
  if (weights) writeFileSync(join(dir, weights.file), weights.bytes);
  else copyFileSync(join(GOLD, name, 'model.safetensors'), join(dir, 'model.safetensors'));
  return dir;
}
const goldenTensors = (name: string) => parseSafetensors(new Uint8Array(readFileSync(join(GOLD, name, 'model.safetensors'))), name).tensors;
const f32 = (t: HostTensor) => t as { dtype: 'f32'; shape: number[]; data: Float32Array };

// ---- item 1: bounded memory, clean errors ------------------------------------------------------------

s('a sub-kilobyte pytorch_model.bin (the probe\'s was 707 bytes: a stride-0 view of 2^28 floats over one float) fails in milliseconds, allocating nothing', async () => {
  const file = makeZip([
    ['archive/data.pkl', pickleStateDict([{ name: 'electra.embeddings.word_embeddings.weight', numel: 1, offset: 0, size: [2 ** 28], stride: [0] }])],
    ['archive/data/0', f32bytes([1])],
  ]);
  assert.ok(file.length < 800, `${file.length} bytes`);
  let err = '';
  const m = measured(() => { try { loadTorchStateDict(file, 'evil.bin'); } catch (e) { err = (e as Error).message; } });
  assert.match(err, /^evil\.bin: tensor 'electra\.embeddings\.word_embeddings\.weight': shape \[268435456\], stride \[0\]: 268435456 elements but storage '0' holds 1/);
  assert.ok(m.ms < 200 && m.rssMB < 64 && m.buffersMB < 16, `took ${m.ms.toFixed(1)} ms, peak RSS +${m.rssMB.toFixed(1)} MB, array buffers +${m.buffersMB.toFixed(1)} MB`);
  if (process.env.HOSTILE_REPORT) console.log(`  ${file.length}-byte file: ${m.ms.toFixed(2)} ms, peak RSS +${m.rssMB.toFixed(1)} MB, array buffers +${m.buffersMB.toFixed(2)} MB`);
  // Overlapping views within the storage's element count are refused too (a [2, 3] view reading element 1 twice).
  const overlap = makeZip([['a/data.pkl', pickleStateDict([{ name: 'w', numel: 6, offset: 0, size: [2, 3], stride: [1, 1] }])], ['a/data/0', f32bytes([0, 1, 2, 3, 4, 5])]]);
  await fails(() => loadTorchStateDict(overlap, 'o.bin'), "o.bin: tensor 'w'", 'dimension 1 overlaps the smaller dimensions');
  const expanded = makeZip([['a/data.pkl', pickleStateDict([{ name: 'w', numel: 6, offset: 0, size: [2, 3], stride: [0, 1] }])], ['a/data/0', f32bytes([0, 1, 2, 3, 4, 5])]]);
  await fails(() => loadTorchStateDict(expanded, 'x.bin'), 'stride 0 in dimension 0 of size 2 (an expanded view)');
  // A size-1 dimension may have any stride (HF's position_ids buffer is arange(P).expand(1, -1): stride [0, 1]).
  const pos = makeZip([['a/data.pkl', pickleStateDict([{ name: 'w', numel: 6, offset: 0, size: [1, 6], stride: [0, 1] }])], ['a/data/0', f32bytes([0, 1, 2, 3, 4, 5])]]);
  assert.equal(Array.from(loadTorchStateDict(pos, 'p.bin').tensors.get('w')!.data), [0, 1, 2, 3, 4, 5]);
});

s('a view of [2^20, 2^20] and a 500k-item APPENDS end in errors that name the file, not "Invalid typed array length" or a stack overflow', async () => {
  const huge = makeZip([['a/data.pkl', pickleStateDict([{ name: 'w', numel: 4, offset: 0, size: [2 ** 20, 2 ** 20], stride: [0, 0] }])], ['a/data/0', f32bytes([0, 1, 2, 3])]]);
  await fails(() => loadTorchStateDict(huge, 'huge.bin'), "huge.bin: tensor 'w': shape [1048576,1048576]", 'holds 4');
  // {'w': [1, 1, … 500,000 times]} as one APPENDS.
  const items = 500_000;
  const pkl = new Uint8Array(2 + 1 + 3 + 1 + 1 + 2 * items + 3);
  let p = 0;
  for (const b of [0x80, 2, 0x7d, 0x8c, 1, 0x77, 0x5d, 0x28]) pkl[p++] = b;   // PROTO 2, {}, 'w', [], MARK
  for (let i = 0; i < items; i++) { pkl[p++] = 0x4b; pkl[p++] = 1; }         // BININT1 1
  for (const b of [0x65, 0x73, 0x2e]) pkl[p++] = b;                          // APPENDS, SETITEM, STOP
  await fails(() => loadTorchStateDict(makeZip([['a/data.pkl', pkl]]), 'appends.bin'), "appends.bin: state dict entry 'w' is not a tensor");
  // A pickled integer of a megabyte (decoding it is quadratic) is refused at once.
  const long = cat(Uint8Array.from([0x80, 2, 0x8b]), new Uint8Array(new Int32Array([1 << 20]).buffer), new Uint8Array(1 << 20), Uint8Array.from([0x2e]));
  const t0 = performance.now();
  await fails(() => loadTorchStateDict(makeZip([['a/data.pkl', long]]), 'long.bin'), 'long.bin', 'integer of 1048576 bytes');
  assert.ok(performance.now() - t0 < 1000);
});

s('inside an otherwise valid state dict, an unknown tensor is refused by name before any tensor data is read (detect and finetune alike)', async () => {
  const tensors = [...goldenTensors('discriminator')].map(([k, t]) => [k, f32(t)] as [string, { shape: number[]; data: Float32Array }]);
  const junk = new Float32Array(1000).fill(1);
  const file = torchZip([...tensors, ['junk.weight', { shape: [1000], data: junk }]]);
  for (const load of [
    (dir: string) => loadDiscriminator(dir, cpu),
    (dir: string) => initHeadModelFromDirectory(dir, cpu, { kind: 'sequence', labels: ['a', 'b'], seed: 0 }),
  ]) {
    await fails(load(goldenDir('discriminator', { file: 'pytorch_model.bin', bytes: file })), 'pytorch_model.bin', "unexpected 'junk.weight' (no ELECTRA class has this tensor)");
  }
  // Its data is never read: with a corrupted storage the error is still the name, not the CRC.
  const corrupt = file.slice();
  const i = findSubarray(corrupt, new Uint8Array(junk.buffer, 0, 64));
  assert.ok(i > 0);
  corrupt[i] ^= 0xff;
  await fails(loadDiscriminator(goldenDir('discriminator', { file: 'pytorch_model.bin', bytes: corrupt }), cpu), "unexpected 'junk.weight'");
  // A tensor of the wrong shape is refused before reading, naming config.json's shape.
  const wrong = torchZip(tensors.map(([k, t]) => (k === 'discriminator_predictions.dense.bias' ? [k, { shape: [31], data: t.data.subarray(0, 31) }] : [k, t])));
  await fails(loadDiscriminator(goldenDir('discriminator', { file: 'pytorch_model.bin', bytes: wrong }), cpu), "'discriminator_predictions.dense.bias' has shape [31], config.json gives [32]");
});

function findSubarray(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

// ---- item 3: non-finite weights and config values -------------------------------------------------------

s('NaN or ±Inf weights are refused, naming the file and each tensor; so is a negative layer_norm_eps', async () => {
  const t = goldenTensors('discriminator');
  const bad = new Map(t);
  const poke = (name: string, i: number, v: number) => { const x = f32(t.get(name)!); const d = x.data.slice(); d[i] = v; bad.set(name, { ...x, data: d }); };
  poke('electra.encoder.layer.1.output.dense.weight', 7, NaN);
  poke('discriminator_predictions.dense_prediction.bias', 0, Infinity);
  const file = serializeSafetensors([...bad].map(([k, x]) => [k, toWritable(x)] as const), { format: 'pt' });
  const dir = goldenDir('discriminator', { file: 'model.safetensors', bytes: file });
  await fails(loadDiscriminator(dir, cpu), join(dir, 'model.safetensors'), 'non-finite weights',
    "'electra.encoder.layer.1.output.dense.weight' has 1 non-finite value (first NaN at flat index 7)", "'discriminator_predictions.dense_prediction.bias' has 1 non-finite value (first Infinity");
  // `electra detect` exits 1 with that message instead of printing NaN probabilities.
  const cli = join(process.cwd(), 'build/src/cli/main.js');
  const r = spawnSync(process.execPath, [cli, 'detect', '--model', dir, '--device', 'cpu', 'hello world'], { encoding: 'utf8' });
  assert.is(r.status, 1, r.stdout);
  assert.match(r.stderr, /model\.safetensors: non-finite weights: .*'electra\.encoder\.layer\.1\.output\.dense\.weight' has 1 non-finite value/);
  const eps = goldenDir('discriminator', null, (c) => { c.layer_norm_eps = -1; });
  await fails(loadDiscriminator(eps, cpu), join(eps, 'config.json'), 'layer_norm_eps = -1: must be a number in (0, 1]');
  const drop = goldenDir('sequence-classification', null, (c) => { c.classifier_dropout = 5; });
  await fails(loadHeadModel(drop, cpu), join(drop, 'config.json'), 'classifier_dropout = 5: must be a number in [0, 1), or null');
});

// ---- item 9: duplicate keys, one rule for unknown tensors, short vocabularies --------------------------------

s('a safetensors header naming a tensor twice is refused (JSON.parse alone keeps the last)', async () => {
  const h = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
  await fails(() => parseSafetensors(cat(le64(h.length), bytes(h), f32bytes([1])), 'dup.safetensors'), 'dup.safetensors: header has the key "a" twice');
  const inner = '{"a":{"dtype":"F32","shape":[1],"shape":[1],"data_offsets":[0,4]}}';
  await fails(() => parseSafetensors(cat(le64(inner.length), bytes(inner), f32bytes([1])), 'd2'), 'the key "shape" twice in a');
  const escaped = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"\\u0061":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
  await fails(() => parseSafetensors(cat(le64(escaped.length), bytes(escaped), f32bytes([1])), 'd3'), 'the key "a" twice');
  // Keys equal only as values elsewhere are fine.
  const ok = '{"__metadata__":{"a":"a"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
  assert.ok(parseSafetensors(cat(le64(ok.length), bytes(ok), f32bytes([1])), 'ok').tensors.has('a'));
});

s('a vocab.txt shorter than vocab_size warns naming both files; a longer one is an error', async () => {
  const dir = goldenDir('discriminator', null);
  const vocab = readFileSync(join(dir, 'vocab.txt'), 'utf8').trim().split('\n');
  writeFileSync(join(dir, 'vocab.txt'), vocab.slice(0, 100).join('\n') + '\n');
  const warned: string[] = [];
  const warn = console.warn;
  console.warn = (m: string) => { warned.push(m); };
  try { modelDirectory(dir); } finally { console.warn = warn; }
  assert.is(warned.length, 1);
  assert.match(warned[0], /vocab\.txt has 100 tokens but .*config\.json says vocab_size 121/);
  writeFileSync(join(dir, 'vocab.txt'), [...vocab, 'extra1', 'extra2'].join('\n') + '\n');
  await fails(() => modelDirectory(dir), 'vocab.txt has 123 tokens', 'vocab_size 121');
});

s.after(() => rmSync(root, { recursive: true, force: true }));
s.run();
