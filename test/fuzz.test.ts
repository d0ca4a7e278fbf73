// Seeded fuzzing of every file format we read from users: safetensors, pytorch_model.bin (torch.save zip, and the
// legacy pickle stream), data shards and CSV tables. Each valid seed file is mutated deterministically (bit flips,
// byte smashes, truncation, spliced headers, chunk deletion/duplication; for checksummed formats also with the
// checksums left unchecked or recomputed, so mutations reach the structural checks) and handed to the loader the
// CLI uses. Every outcome must be a valid load (tensors whose data fits their shapes) or one of our errors whose
// message names the file; never a JS RangeError/TypeError or a hang. Memory stays bounded: no case may grow the
// process's array buffers by more than 8× its input + 1 MB (a valid load takes ≤ 2× the file: f16 widens to f32),
// and the process's peak RSS may not grow by more than 128 MB over the whole run. FUZZ_CASES=N scales the run.

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rng } from './text/cases.js'; // mulberry32: the same cases on every run
import { parseSafetensors } from '../src/electra/formats/safetensors.js';
import { loadTorchStateDict } from '../src/electra/formats/torchbin.js';
import { defaultHFElectraConfig, electraConfigToJSON } from '../src/electra/formats/hf.js';
import { loadHFDirectory } from '../src/node/files.js';
import { decodeShard, encodeShard } from '../src/text/shard.js';
import { crc32 } from '../src/text/crc32.js';
import { readTable } from '../src/text/node/datasets.js';
import { torchZip } from './electra/torch-fixtures.js';

const s = suite('fuzz');
const FIX = new URL('../../test/fixtures/checkpoint/', import.meta.url);
const fixture = (name: string) => new Uint8Array(readFileSync(new URL(name, FIX)));
const CASES = Number(process.env.FUZZ_CASES ?? 1000);  // per format: 4,000 cases in ~4 s on a 2-core machine
const OUR_ERRORS = new Set(['CheckpointError', 'ShardError', 'DatasetError', 'TextFileError']);


/** Where the pickled integers (BININT operands: sizes, strides, offsets, storage sizes) of a torch file are. */
function pickleInts(file: Uint8Array): number[] {
  const at: number[] = [];
  for (let i = 0; i + 5 <= file.length; i++) if (file[i] === 0x4a && file[i + 5] !== undefined && [0x4a, 0x74, 0x85, 0x86, 0x87, 0x51].includes(file[i + 5])) at.push(i + 1);
  return at;
}
const INTERESTING = [0, 1, 2, -1, 255, 65536, 2 ** 20, 2 ** 28, 2 ** 31 - 1];

/**
 * One mutation of `a` (`b`: another valid file of the format, for splices); returns the bytes and what was done.
 * `ints`: offsets of `a`'s pickled integers, for the structure-aware mutation (a view's size, stride or offset set
 * to an edge value, as the probe's hostile files did).
 */
function mutate(a: Uint8Array, b: Uint8Array, r: () => number, ints?: number[]): { bytes: Uint8Array; what: string } {
  const int = (n: number) => Math.floor(r() * n);
  if (ints?.length && r() < 0.15) {
    // The last size of a view followed by its stride tuple `t(J…`: make the view expand (stride 0) or overlap.
    const views = ints.filter((p) => a[p + 4] === 0x74 && a[p + 5] === 0x28 && a[p + 6] === 0x4a);
    if (views.length) {
      const x = a.slice(), dv = new DataView(x.buffer), p = views[int(views.length)];
      const size = [2 ** 28, 2 ** 20, 3, 2 ** 31 - 1][int(4)], stride = [0, 0, 1][int(3)];
      dv.setInt32(p, size, true);
      dv.setInt32(p + 7, stride, true);
      return { bytes: x, what: `a view of size ${size}, stride ${stride}` };
    }
  }
  if (ints?.length && r() < 0.4) {
    const x = a.slice(), dv = new DataView(x.buffer);
    const k = 1 + int(3);
    for (let j = 0; j < k; j++) dv.setInt32(ints[int(ints.length)], INTERESTING[int(INTERESTING.length)], true);
    return { bytes: x, what: `${k} pickled ints set to edge values` };
  }
  // Headers live at both ends (safetensors and shards at the start, a zip's directory at the end): aim there half the time.
  const pos = (len: number) => (r() < 0.5 ? int(len) : r() < 0.5 ? int(Math.min(len, 256)) : Math.max(0, len - 1 - int(Math.min(len, 256))));
  const x = a.slice();
  switch (int(7)) {
    case 0: { const k = 1 + int(8); for (let i = 0; i < k; i++) { const p = pos(x.length); x[p] ^= 1 << int(8); } return { bytes: x, what: `flip ${k} bits` }; }
    case 1: { const p = pos(x.length), v = [0, 0xff, 0x7f, 0x80, 0x30, 0x7b][int(6)]; x.fill(v, p, p + 1 + int(8)); return { bytes: x, what: `smash 0x${v.toString(16)} at ${p}` }; }
    case 2: { const n = int(a.length); return { bytes: a.slice(0, n), what: `truncate to ${n}` }; }
    case 3: { const n = 1 + int(Math.min(a.length, b.length) - 1); const out = new Uint8Array(b.length); out.set(a.subarray(0, n)); out.set(b.subarray(n), n); return { bytes: out, what: `splice first ${n} of a onto b` }; }
    case 4: { const n = 1 + int(b.length - 1); const out = new Uint8Array(a.length); out.set(a); out.set(b.subarray(b.length - n).subarray(0, a.length), Math.max(0, a.length - n)); return { bytes: out, what: `splice last ${n} of b onto a` }; }
    case 5: { const p = pos(a.length), n = 1 + int(64); const out = new Uint8Array(a.length - Math.min(n, a.length - p)); out.set(a.subarray(0, p)); out.set(a.subarray(p + n), p); return { bytes: out, what: `delete ${n} at ${p}` }; }
    default: { const p = pos(a.length), n = 1 + int(64); const chunk = a.subarray(p, p + n); const out = new Uint8Array(a.length + chunk.length); out.set(a.subarray(0, p + chunk.length)); out.set(chunk, p + chunk.length); out.set(a.subarray(p + chunk.length), p + 2 * chunk.length); return { bytes: out, what: `duplicate ${chunk.length} at ${p}` }; }
  }
}

interface Stats { ok: number; errors: number; worstBufferGrowth: number; worstCase: string }

/** Runs `load` on `cases` mutations of the seeds; every outcome must be a valid load or our error naming `name`. */
function fuzz(format: string, seeds: Uint8Array[], name: string, cases: number, load: (bytes: Uint8Array, i: number) => void, pickled = false): Stats {
  const r = rng(0x5eed ^ format.length * 7919);
  const st: Stats = { ok: 0, errors: 0, worstBufferGrowth: 0, worstCase: '' };
  const ints = seeds.map((x) => (pickled ? pickleInts(x) : []));
  for (let i = 0; i < cases; i++) {
    const ai = Math.floor(r() * seeds.length), a = seeds[ai], b = seeds[Math.floor(r() * seeds.length)];
    const { bytes, what } = mutate(a, b, r, ints[ai]);
    const before = process.memoryUsage().arrayBuffers;
    try {
      load(bytes, i);
      st.ok++;
    } catch (e) {
      const err = e as Error;
      if (!OUR_ERRORS.has(err.name) || !err.message.includes(name)) {
        throw new Error(`${format} case ${i} (${what}): ${err.name}: ${err.message}`);
      }
      st.errors++;
    }
    const grew = process.memoryUsage().arrayBuffers - before;
    if (grew > st.worstBufferGrowth) { st.worstBufferGrowth = grew; st.worstCase = `${i} (${what})`; }
    assert.ok(grew <= 8 * bytes.length + 2 ** 20, `${format} case ${i} (${what}): array buffers grew by ${grew} bytes for a ${bytes.length}-byte input`);
  }
  return st;
}

function checkTensors(tensors: Map<string, { shape: readonly number[]; data: ArrayLike<number> }>): void {
  for (const [k, t] of tensors) assert.is(t.data.length, t.shape.reduce((x, y) => x * y, 1), `${k}: data fits its shape`);
}

const work = mkdtempSync(join(tmpdir(), 'electra-fuzz-'));
const TINY = { vocabSize: 40, embeddingSize: 8, hiddenSize: 16, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 32, maxPositionEmbeddings: 12 };
const report: string[] = [];
// Measured from the suite's start, not the module's import: the test runner imports every file before running any.
let rss0 = 0, t0 = 0;
s.before(() => { rss0 = process.resourceUsage().maxRSS; t0 = performance.now(); });

s('safetensors: mutated files load validly or fail naming the file (bytes, and an HF directory every 8th case)', async () => {
  const seeds = [fixture('tiny-disc.safetensors')];
  const dir = join(work, 'st');
  mkdirSync(dir);
  writeFileSync(join(dir, 'config.json'), electraConfigToJSON(defaultHFElectraConfig({ ...TINY, architectures: ['ElectraForPreTraining'] })));
  const hfCases: Uint8Array[] = [];
  const st = fuzz('safetensors', seeds, 'fuzz/model.safetensors', CASES, (bytes, i) => {
    if (i % 8 === 0) hfCases.push(bytes);
    checkTensors(parseSafetensors(bytes, 'fuzz/model.safetensors').tensors);
  });
  let hfOk = 0;
  for (const bytes of hfCases) {
    writeFileSync(join(dir, 'model.safetensors'), bytes);
    try { checkTensors((await loadHFDirectory(dir)).tensors); hfOk++; } catch (e) {
      const err = e as Error;
      assert.ok(OUR_ERRORS.has(err.name) && err.message.includes(join(dir, 'model.safetensors')), `${err.name}: ${err.message}`);
    }
  }
  report.push(`safetensors ${CASES} cases: ${st.ok} loaded, ${st.errors} refused; directory ${hfCases.length} cases: ${hfOk} loaded; worst buffer growth ${st.worstBufferGrowth} B (${st.worstCase})`);
});

s('pytorch_model.bin (torch.save zip, CRC checked and not; legacy stream): mutated files load validly or fail naming the file', () => {
  // torch.save's own files, and one pickled with 4-byte ints and MARK…TUPLE as pickleStateDict writes (the view mutation's target).
  const own = parseSafetensors(fixture('tiny-disc.safetensors'), 'seed').tensors as Map<string, { shape: number[]; data: Float32Array }>;
  const zips = [fixture('tiny-disc.bin'), fixture('odd.bin'), fixture('tiny-gen-legacy.bin'), torchZip(own)];
  const z = fuzz('torch zip', zips, 'fuzz/pytorch_model.bin', CASES, (bytes, i) => {
    checkTensors(loadTorchStateDict(bytes, 'fuzz/pytorch_model.bin', { checkCrc: i % 2 === 0 }).tensors);
  }, true);
  const legacy = [fixture('odd-legacy.bin')];
  const l = fuzz('torch legacy', legacy, 'fuzz/old.bin', Math.round(CASES / 2), (bytes) => checkTensors(loadTorchStateDict(bytes, 'fuzz/old.bin').tensors), true);
  report.push(`torch zip ${CASES} cases: ${z.ok} loaded, ${z.errors} refused (worst buffer growth ${z.worstBufferGrowth} B); legacy ${Math.round(CASES / 2)}: ${l.ok} loaded, ${l.errors} refused`);
});

s('data shards (checksums as written, and recomputed after the mutation): decode validly or fail naming the file', () => {
  const r = rng(17);
  const examples = (n: number) => Array.from({ length: n }, () => {
    const len = 3 + Math.floor(r() * 20);
    return { ids: Array.from({ length: len }, () => Math.floor(r() * 600)), firstSegEnd: Math.floor(r() * len) };
  });
  const meta = { vocabHash: '0123456789abcdef', vocabSize: 600, seqLen: 24 };
  const seeds = [encodeShard(examples(40), meta), encodeShard(examples(7), meta)];
  const st = fuzz('shard', seeds, 'fuzz/shard-00001.bin', CASES, (bytes, i) => {
    if (i % 2 && bytes.length >= 64) {
      // Recompute both checksums, so the mutation is judged by the structural checks behind them.
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      dv.setUint32(44, crc32(bytes.subarray(64)), true);
      dv.setUint32(48, crc32(bytes.subarray(0, 48)), true);
    }
    const sh = decodeShard(bytes, 'fuzz/shard-00001.bin', meta);
    for (let k = 0; k < sh.header.count; k++) assert.ok(sh.offsets[k + 1] - sh.offsets[k] <= meta.seqLen);
  });
  report.push(`shards ${CASES} cases: ${st.ok} decoded, ${st.errors} refused`);
});

s('CSV tables: mutated files read validly or fail naming the file', () => {
  const enc = new TextEncoder();
  const seeds = [
    enc.encode('id,text,label\n1,"a ""quoted"", line",pos\n2,plain text,neg\n3,"multi\nline, field",pos\n4,café ünïcode 日本,neg\n'),
    enc.encode('\ufefftext,label\r\nhello world,a\r\n"x,y",b\r\n,a\r\n'),
  ];
  const path = join(work, 'fuzz.csv');
  const st = fuzz('csv', seeds, path, CASES, (bytes) => {
    writeFileSync(path, bytes);
    const d = readTable(path, { textCol: 'text', labelCol: 'label' });
    for (const x of d.examples) assert.type(x.text, 'string');
  });
  report.push(`CSV ${CASES} cases: ${st.ok} read, ${st.errors} refused`);
});

s('the whole run stays within its time and memory bounds', () => {
  const secs = (performance.now() - t0) / 1000, rssMB = (process.resourceUsage().maxRSS - rss0) / 1024;
  if (process.env.FUZZ_REPORT) console.log(`\n  ${report.join('\n  ')}\n  ${(CASES * 3.5 + CASES / 2).toFixed(0)} cases in ${secs.toFixed(1)} s, peak RSS +${rssMB.toFixed(0)} MB`);
  assert.ok(rssMB < 128, `peak RSS grew by ${rssMB.toFixed(0)} MB`);
  assert.ok(secs < 60, `${secs.toFixed(1)} s`);
});

s.after(() => rmSync(work, { recursive: true, force: true }));
s.run();
