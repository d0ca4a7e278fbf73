// Checkpoint I/O on plain bytes: safetensors byte-exact against the reference implementation's own test
// vectors and against files it wrote, torch .bin (zip and legacy) against fixtures written by torch.save,
// strict rejection of malformed files, and a restricted unpickler that refuses foreign globals.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadHFDirectory, saveHFDirectory, writeFileAtomic } from '../../src/node/files.js';
import { writeFileAtomic as writeTextAtomic } from '../../src/text/node/files.js';
import { assignStateDict, readStateDict } from '../../src/electra/formats/state.js';
import { CpuDevice } from '../../src/device/cpu.js';
import { tensor, type Tensor } from '../../src/tensor/tensor.js';
import { parseSafetensors, serializeSafetensors, type HostTensor, type TensorToWrite } from '../../src/electra/formats/safetensors.js';
import { loadTorchStateDict, PyDict, readZipDirectory, restrictedUnpickle } from '../../src/electra/formats/torchbin.js';
import { crc32 } from '../../src/text/crc32.js';
import { bytes, cat, f32bytes, le64, makeZip, pickleStateDict, type PickledTensor } from './torch-fixtures.js';
import {
  checkElectraTensors, countElectraParameters, defaultHFElectraConfig, detectElectraKind, electraConfigToJSON,
  expectedElectraShapes, normalizeHFStateDict, parseElectraConfig,
} from '../../src/electra/formats/hf.js';

const FIX = new URL('../../../test/fixtures/checkpoint/', import.meta.url);
const fixture = (name: string) => new Uint8Array(readFileSync(new URL(name, FIX)));

const s = suite('checkpoint');
const f32 = (shape: number[], data: number[]): TensorToWrite => ({ dtype: 'F32', shape, data: Float32Array.from(data) });
const i32 = (shape: number[], data: number[]): TensorToWrite => ({ dtype: 'I32', shape, data: Int32Array.from(data) });
function throwsWith(fn: () => unknown, ...parts: (string | RegExp)[]) {
  try { fn(); } catch (e) {
    const m = (e as Error).message;
    for (const p of parts) assert.ok(typeof p === 'string' ? m.includes(p) : p.test(m), `error "${m}" should mention ${p}`);
    return;
  }
  assert.unreachable(`expected an error mentioning ${parts.join(', ')}`);
}

// ---- safetensors: the reference's own test vectors (safetensors/src/tensor.rs, bindings/python/tests/test_simple.py)

s('safetensors: byte-exact with the reference test vectors', () => {
  // test_serialization (Rust): F32 [1,2,3] named attn.0, header exactly 64 bytes, no padding needed.
  const a = serializeSafetensors([['attn.0', f32([1, 2, 3], [0, 1, 2, 3, 4, 5])]]);
  assert.equal(Array.from(a), [
    64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100,
    116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34,
    58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115,
    101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63,
    0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
  ]);
  // test_serialization_forced_alignement: 7 spaces of padding.
  const b = serializeSafetensors([['attn0', f32([1, 1, 2, 3], [0, 1, 2, 3, 4, 5])]]);
  assert.equal(b[0], 72);
  assert.equal(Array.from(b.subarray(8 + 65, 8 + 72)), [32, 32, 32, 32, 32, 32, 32]);
  // test_empty: no tensors, with and without metadata.
  assert.equal(Array.from(serializeSafetensors([])), [8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
  assert.equal(serializeSafetensors([], { framework: 'pt' }), cat(le64(40), bytes('{"__metadata__":{"framework":"pt"}}     ')));
  // Python test_serialization / test_serialization_metadata (I32 [2,2]).
  const z = Array(16).fill(0);
  assert.equal(serializeSafetensors([['test', i32([2, 2], [0, 0, 0, 1])]]),
    cat(le64(64), bytes('{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}    '), Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0])));
  assert.equal(serializeSafetensors([['test1', i32([2, 2], [0, 0, 0, 0])]], { framework: 'pt' }),
    cat(le64(96), bytes('{"__metadata__":{"framework":"pt"},"test1":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}} '), Uint8Array.from(z)));
});

s('safetensors: order is descending dtype then name, whatever the input order', () => {
  const t = { p: i32([2], [7, 8]), w: f32([1], [1]), a: f32([2], [2, 3]), q: { dtype: 'I64', shape: [2], data: Int32Array.from([-1, 5]) } as TensorToWrite };
  const x = serializeSafetensors(Object.entries(t));
  const y = serializeSafetensors(Object.entries(t).reverse());
  assert.equal(x, y);
  const n = Number(new DataView(x.buffer).getBigUint64(0, true));
  assert.equal(Object.keys(JSON.parse(new TextDecoder().decode(x.subarray(8, 8 + n)))), ['q', 'a', 'w', 'p']);
  const back = parseSafetensors(x, 'order');
  assert.equal(Array.from(back.tensors.get('q')!.data), [-1, 5]);
  assert.equal(back.storedDtypes.get('q'), 'I64');
});

s('safetensors: round trip of empty, scalar and larger tensors; reading the reference vectors', () => {
  const big = new Float32Array(300_001).map((_, i) => Math.sin(i) * 1e3);
  const tensors: [string, TensorToWrite][] = [
    ['empty', f32([0, 4], [])], ['scalar', f32([], [3.5])], ['ids', i32([1, 3], [0, 1, -2])],
    ['big', { dtype: 'F32', shape: [300_001], data: big }],
  ];
  const file = serializeSafetensors(tensors, { format: 'pt' });
  const r = parseSafetensors(file, 'rt');
  assert.equal(r.metadata, { format: 'pt' });
  const get = (k: string) => r.tensors.get(k) as HostTensor;
  assert.equal(get('empty').shape, [0, 4]); assert.is(get('empty').data.length, 0);
  assert.equal(get('scalar').shape, []); assert.equal(Array.from(get('scalar').data), [3.5]);
  assert.is(get('ids').dtype, 'i32'); assert.equal(Array.from(get('ids').data), [0, 1, -2]);
  assert.equal(get('big').data, big);
  // Unpadded headers are valid too (the reference's own deserialization vectors).
  const raw = cat(le64(56), bytes('{"test":{"dtype":"I32","shape":[],"data_offsets":[0,4]}}'), Uint8Array.from([1, 0, 0, 0]));
  assert.equal(Array.from(parseSafetensors(raw, 'raw').tensors.get('test')!.data), [1]);
});

s('safetensors: F16, BF16, F64 widen/narrow to f32', () => {
  const hdr = '{"h":{"dtype":"F16","shape":[4],"data_offsets":[0,8]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[8,12]},"d":{"dtype":"F64","shape":[1],"data_offsets":[12,20]}}';
  const data = new Uint8Array(20); const dv = new DataView(data.buffer);
  [0x3c00, 0xc000, 0x0001, 0x7c00].forEach((h, i) => dv.setUint16(2 * i, h, true));   // 1, -2, 2^-24, inf
  dv.setUint16(8, 0x3f80, true); dv.setUint16(10, 0xc049, true);                       // 1, -3.140625
  dv.setFloat64(12, 0.1, true);
  const r = parseSafetensors(cat(le64(hdr.length), bytes(hdr), data), 'widen');
  assert.equal(Array.from(r.tensors.get('h')!.data), [1, -2, 2 ** -24, Infinity]);
  assert.equal(Array.from(r.tensors.get('b')!.data), [1, -3.140625]);
  assert.equal(Array.from(r.tensors.get('d')!.data), [Math.fround(0.1)]);
});

s('safetensors: malformed files are rejected with the file name and the problem', () => {
  const good = serializeSafetensors([['a', f32([2], [1, 2])], ['b', f32([3], [3, 4, 5])]]);
  const n = Number(new DataView(good.buffer).getBigUint64(0, true));
  const withHeader = (h: string, data = new Uint8Array(20)) => cat(le64(h.length), bytes(h), data);
  throwsWith(() => parseSafetensors(good.subarray(0, 5), 'x.safetensors'), 'x.safetensors', 'shorter than the 8-byte');
  throwsWith(() => parseSafetensors(good.subarray(0, good.length - 4), 'x.safetensors'), 'x.safetensors', "tensor 'b'", 'run past the end');
  throwsWith(() => parseSafetensors(cat(good, new Uint8Array(4)), 'x.safetensors'), 'cover 20 data bytes', 'holds 24');
  const badLen = good.slice(); new DataView(badLen.buffer).setBigUint64(0, BigInt(good.length), true);
  throwsWith(() => parseSafetensors(badLen, 'x.safetensors'), 'x.safetensors', 'runs past the end of the file');
  const huge = good.slice(); new DataView(huge.buffer).setBigUint64(0, 1n << 62n, true);
  throwsWith(() => parseSafetensors(huge, 'x.safetensors'), 'exceeds the limit');
  const shortLen = good.slice(); new DataView(shortLen.buffer).setBigUint64(0, BigInt(n - 9), true);
  throwsWith(() => parseSafetensors(shortLen, 'x.safetensors'), 'not valid JSON');
  throwsWith(() => parseSafetensors(withHeader('[1,2]'), 'x'), "does not start with '{'");
  throwsWith(() => parseSafetensors(withHeader('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[4],"data_offsets":[4,20]}}'), 'x'), "tensor 'b'", 'overlap');
  throwsWith(() => parseSafetensors(withHeader('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}}'), 'x'), "tensor 'b'", 'gap');
  throwsWith(() => parseSafetensors(withHeader('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[4],"data_offsets":[8,20]}}'), 'x'), "tensor 'b'", '12 bytes for shape [4]', 'expected 16');
  throwsWith(() => parseSafetensors(withHeader('{"a":{"dtype":"F32","shape":[5],"data_offsets":[0,20]},"b":{"dtype":"F32","shape":[1],"data_offsets":[20,24]}}'), 'x'), "tensor 'b'", 'past the end of the data');
  throwsWith(() => parseSafetensors(withHeader('{"a":{"dtype":"Q7","shape":[5],"data_offsets":[0,20]}}'), 'x'), "unknown dtype 'Q7'");
  throwsWith(() => parseSafetensors(withHeader('{"a":{"dtype":"U64","shape":[2],"data_offsets":[0,16]}}', new Uint8Array(16)), 'x'), 'U64 is not supported');
  throwsWith(() => parseSafetensors(withHeader('{"a":{"dtype":"F32","shape":[-5],"data_offsets":[0,20]}}'), 'x'), 'shape');
  throwsWith(() => parseSafetensors(withHeader('{"a":{"dtype":"F32","shape":[5],"data_offsets":[0]}}'), 'x'), 'data_offsets');
  throwsWith(() => parseSafetensors(withHeader('{"__metadata__":{"k":1},"a":{"dtype":"F32","shape":[5],"data_offsets":[0,20]}}'), 'x'), '__metadata__.k');
  // A huge claimed shape is caught by the size check, before any allocation.
  throwsWith(() => parseSafetensors(withHeader('{"a":{"dtype":"F32","shape":[1000000000,1000],"data_offsets":[0,20]}}'), 'x'), "tensor 'a'");
  throwsWith(() => serializeSafetensors([['a', f32([3], [1, 2])]]), "tensor 'a'", '2 values for shape [3]');
  throwsWith(() => serializeSafetensors([['a', f32([1], [1])], ['a', f32([1], [1])]]), 'appears twice');
});

// ---- torch .bin


s('torch zip: a hand-made archive (any folder name, zip64 records) reads back; views honour offset and strides', () => {
  assert.is(crc32(bytes('123456789')), 0xcbf43926);   // the CRC-32 check value
  assert.is(crc32(bytes('The quick brown fox jumps over the lazy dog')), 0x414fa339);
  const pkl = pickleStateDict([
    { name: 'w', numel: 6, offset: 0, size: [2, 3], stride: [3, 1] },
    { name: 'wt', numel: 6, offset: 0, size: [3, 2], stride: [1, 3] },
    { name: 'tail', numel: 6, offset: 4, size: [2], stride: [1] },
  ]);
  for (const zip64 of [false, true]) {
    const file = makeZip([['anything/data.pkl', pkl], ['anything/data/0', f32bytes([0, 1, 2, 3, 4, 5])]], zip64);
    const r = loadTorchStateDict(file, 'made.bin');
    assert.equal(Array.from(r.tensors.get('w')!.data), [0, 1, 2, 3, 4, 5]);
    assert.equal(r.tensors.get('wt')!.shape, [3, 2]);
    assert.equal(Array.from(r.tensors.get('wt')!.data), [0, 3, 1, 4, 2, 5]);
    assert.equal(Array.from(r.tensors.get('tail')!.data), [4, 5]);
  }
});

s('torch zip and legacy: views and dtypes equal what torch saw (odd.bin, odd-legacy.bin)', () => {
  const want = JSON.parse(new TextDecoder().decode(fixture('odd.json'))) as Record<string, { shape: number[]; values: number[] }>;
  for (const [file, format] of [['odd.bin', 'zip'], ['odd-legacy.bin', 'legacy']] as const) {
    const r = loadTorchStateDict(fixture(file), file);
    assert.is(r.format, format);
    assert.equal([...r.tensors.keys()], Object.keys(want));
    for (const [k, w] of Object.entries(want)) {
      const t = r.tensors.get(k)!;
      assert.equal(t.shape, w.shape, `${file} ${k} shape`);
      assert.equal(Array.from(t.data), w.values, `${file} ${k} values`);
    }
    assert.is(r.storedDtypes.get('half'), 'F16'); assert.is(r.storedDtypes.get('bfloat'), 'BF16');
    assert.is(r.storedDtypes.get('int64'), 'I64'); assert.is(r.tensors.get('int64')!.dtype, 'i32');
  }
});

s('torch .bin and safetensors of the same ELECTRA state dict agree; our writer reproduces the file byte for byte', () => {
  const bin = loadTorchStateDict(fixture('tiny-disc.bin'), 'tiny-disc.bin');
  const st = parseSafetensors(fixture('tiny-disc.safetensors'), 'tiny-disc.safetensors');
  assert.equal(new Set(bin.tensors.keys()), new Set(st.tensors.keys()));
  for (const [k, t] of bin.tensors) {
    assert.equal(st.tensors.get(k)!.shape, t.shape, k);
    assert.equal(st.tensors.get(k)!.data, t.data, k);
  }
  assert.is(st.storedDtypes.get('electra.embeddings.position_ids'), 'I64');
  const again = serializeSafetensors([...st.tensors].map(([k, t]) => [k, {
    dtype: st.storedDtypes.get(k) === 'I64' ? 'I64' : t.dtype === 'f32' ? 'F32' : 'I32', shape: t.shape, data: t.data,
  } as TensorToWrite]), st.metadata);
  assert.equal(again, fixture('tiny-disc.safetensors'));
});

s('torch pickle: foreign globals are refused by name and nothing runs', () => {
  const MARKER = '/tmp/electra-webgpu-pickle-executed';
  rmSync(MARKER, { force: true });
  throwsWith(() => loadTorchStateDict(fixture('evil-os-system.bin'), 'evil-os-system.bin'), 'evil-os-system.bin', "global 'posix.system' is not allowed");
  throwsWith(() => loadTorchStateDict(fixture('evil-eval.bin'), 'evil-eval.bin'), "global 'builtins.eval' is not allowed");
  const cmd = `touch ${MARKER}`;
  const osSystem = cat(bytes('\x80\x02cos\nsystem\nX'), new Uint8Array(new Uint32Array([cmd.length]).buffer), bytes(`${cmd}\x85R.`));
  throwsWith(() => loadTorchStateDict(makeZip([['archive/data.pkl', osSystem]]), 'crafted.bin'), "global 'os.system' is not allowed");
  // A storage type outside the allow-list is a global like any other.
  const byteStorage = pickleStateDict([{ name: 'w', storage: 'ByteStorage', numel: 4, offset: 0, size: [4], stride: [1] }]);
  throwsWith(() => loadTorchStateDict(makeZip([['a/data.pkl', byteStorage], ['a/data/0', new Uint8Array(4)]]), 'bytes.bin'), "'torch.ByteStorage' is not allowed");
  assert.not.ok(existsSync(MARKER), 'a pickle was executed');
});

s('restricted unpickler: lengths, strings, memo, unknown opcodes, trailing bytes', () => {
  const up = (str: string) => restrictedUnpickle(bytes(str), 'p.pkl', () => null);
  assert.ok(up('\x80\x02}q\x00X\x01\x00\x00\x00aK\x07s.') instanceof PyDict);
  assert.is((up('\x80\x02}q\x00X\x01\x00\x00\x00aK\x07s.') as PyDict).map.get('a'), 7);
  throwsWith(() => up('\x80\x02X\xff\xff\xff\xff.'), 'p.pkl', 'opcode 0x58 at byte 2', 'needs 4294967295 bytes');
  throwsWith(() => up('\x80\x02X\x01\x00\x00\x00\xff.'), 'string is not valid UTF-8');
  throwsWith(() => up('\x80\x02h\x05.'), 'memo 5 is empty');
  throwsWith(() => up('\x80\x02(ios\nsystem\n.'), 'opcode 0x69', 'not supported');
  throwsWith(() => up('\x80\x02ccollections\nOrderedDict\nK\x01\x85R.'), 'OrderedDict(...) with arguments');
  throwsWith(() => up('\x80\x02N.N'), '1 bytes after STOP');
  throwsWith(() => up('\x80\x02t.'), 'no MARK');
});

s('torch zip: malformed archives fail with clear errors before allocation', () => {
  const one = (t: Partial<PickledTensor>, data = f32bytes([0, 1, 2, 3, 4, 5]), name = 'a/data/0') =>
    makeZip([['a/data.pkl', pickleStateDict([{ name: 'w', numel: 6, offset: 0, size: [6], stride: [1], ...t }])], [name, data]]);
  throwsWith(() => loadTorchStateDict(one({ offset: 3, size: [2, 2], stride: [2, 1] }), 'm.bin'), 'm.bin', "tensor 'w'", 'reach element 6', 'has 6');
  throwsWith(() => loadTorchStateDict(one({ size: [1000000, 1000000], stride: [1000000, 1] }), 'm.bin'), "tensor 'w'", '1000000000000 elements but storage \'0\' holds 6');
  throwsWith(() => loadTorchStateDict(one({}, f32bytes([1, 2, 3])), 'm.bin'), "storage '0'", 'should be 24 bytes', 'has 12');
  throwsWith(() => loadTorchStateDict(one({ numel: 1 << 30 }), 'm.bin'), "storage '0'", 'should be 4294967296 bytes');
  throwsWith(() => loadTorchStateDict(one({}, undefined, 'a/data/7'), 'm.bin'), "storage '0' has no entry 'a/data/0'");
  throwsWith(() => loadTorchStateDict(makeZip([['a/version', new Uint8Array(1)]]), 'm.bin'), "expected one '<folder>/data.pkl'", 'found 0');
  const good = fixture('tiny-disc.bin');
  throwsWith(() => loadTorchStateDict(good.subarray(0, good.length - 100), 'cut.bin'), 'cut.bin', 'no end-of-central-directory');
  const flipped = good.slice(); flipped[2000] ^= 0xff;
  throwsWith(() => loadTorchStateDict(flipped, 'flip.bin'), 'flip.bin', 'CRC-32 mismatch');
  const badCd = good.slice(); const d = readZipDirectory(good, 'x');
  assert.ok(d.size > 10);
  new DataView(badCd.buffer).setUint32(badCd.length - 6, good.length, true);   // central directory offset past the end
  throwsWith(() => loadTorchStateDict(badCd, 'cd.bin'), 'cd.bin', 'central directory');
  throwsWith(() => loadTorchStateDict(new Uint8Array([1, 2, 3, 4, 5]), 'junk.bin'), 'junk.bin', 'not a PyTorch checkpoint');
  const legacy = fixture('odd-legacy.bin');
  throwsWith(() => loadTorchStateDict(legacy.subarray(0, legacy.length - 3), 'old.bin'), 'old.bin', 'legacy torch format', 'runs past the end');
  const truncatedPickle = makeZip([['a/data.pkl', pickleStateDict([{ name: 'w', numel: 6, offset: 0, size: [6], stride: [1] }]).subarray(0, 40)]]);
  throwsWith(() => loadTorchStateDict(truncatedPickle, 'p.bin'), 'p.bin', /pickle opcode 0x[0-9a-f]{2} at byte \d+: (unterminated line|needs)/);
});

// ---- Hugging Face names, shapes, config

s('HF shapes: unique parameter counts of the released and paper sizes (spec §1.1, §6.2)', () => {
  const small = defaultHFElectraConfig();
  const count = (over: Parameters<typeof defaultHFElectraConfig>[0], kind: 'discriminator' | 'generator') =>
    countElectraParameters(expectedElectraShapes(defaultHFElectraConfig(over), kind));
  const disc = expectedElectraShapes(small, 'discriminator');
  assert.is(disc.size, 203);
  assert.is(countElectraParameters(disc), 13_549_057);
  assert.is(expectedElectraShapes(small, 'generator').size, 205);
  assert.is(count({}, 'generator'), 13_546_682);
  assert.is(count({ hiddenSize: 64, numAttentionHeads: 1, intermediateSize: 256 }, 'generator'), 4_620_026);
  const base = { embeddingSize: 768, hiddenSize: 768, numAttentionHeads: 12, intermediateSize: 3072 };
  assert.is(count(base, 'discriminator'), 109_483_009);
  assert.is(count({ embeddingSize: 768 }, 'generator'), 33_740_602);
  assert.is(count({ embeddingSize: 1024, hiddenSize: 1024, numHiddenLayers: 24, numAttentionHeads: 16, intermediateSize: 4096 }, 'discriminator'), 335_142_913);
  assert.is(count({ embeddingSize: 1024, numHiddenLayers: 24 }, 'generator'), 51_295_290);
  assert.ok(!expectedElectraShapes(defaultHFElectraConfig(base), 'discriminator').has('electra.embeddings_project.weight'));
  assert.equal(disc.get('electra.encoder.layer.11.intermediate.dense.weight'), [1024, 256]);
});

s('HF config.json: released fields parse to camelCase, unknown keys survive, writing is HF-shaped', () => {
  const text = new TextDecoder().decode(fixture('config-small-disc.json'));
  const c = parseElectraConfig(text, 'config.json');
  assert.equal(c, defaultHFElectraConfig({ architectures: ['ElectraForPreTraining'] }));
  assert.equal(JSON.parse(electraConfigToJSON(c)), JSON.parse(text));
  const withExtra = parseElectraConfig(JSON.stringify({ ...JSON.parse(text), transformers_version: '4.0.0', use_cache: true }), 'c');
  assert.equal(withExtra.extra, { transformers_version: '4.0.0', use_cache: true });
  const out = electraConfigToJSON(withExtra);
  assert.ok(out.endsWith('}\n'));
  assert.equal(Object.keys(JSON.parse(out)), Object.keys(JSON.parse(out)).sort());
  assert.is(JSON.parse(out).use_cache, true);
  assert.equal(parseElectraConfig('{}', 'c'), defaultHFElectraConfig());
  throwsWith(() => parseElectraConfig('{"model_type":"bert"}', 'cfg.json'), 'cfg.json', "model_type is 'bert'");
  throwsWith(() => parseElectraConfig('{"hidden_size":"256"}', 'cfg.json'), 'cfg.json: hidden_size = "256": must be an integer ≥ 1');
  throwsWith(() => parseElectraConfig('{"hidden_size":250}', 'cfg.json'), 'hidden_size = 250: must be a multiple of num_attention_heads = 4');
  throwsWith(() => parseElectraConfig('{"hidden_size":', 'cfg.json'), 'cfg.json', 'not valid JSON');
});

s('HF names: legacy gamma/beta, position_ids, tied head alias; shape check against the config', () => {
  const tiny = { vocabSize: 40, embeddingSize: 8, hiddenSize: 16, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 32, maxPositionEmbeddings: 12 };
  const cfg = defaultHFElectraConfig(tiny);
  const gen = loadTorchStateDict(fixture('tiny-gen-legacy.bin'), 'tiny-gen-legacy.bin');
  assert.ok(gen.tensors.has('electra.embeddings.LayerNorm.gamma'));
  assert.is(detectElectraKind(gen.tensors.keys()), 'generator');
  const g = normalizeHFStateDict(gen.tensors, 'generator', 'gen');
  assert.ok(g.has('generator_predictions.LayerNorm.weight') && !g.has('electra.embeddings.position_ids'));
  checkElectraTensors(g, cfg, 'generator', 'gen');
  // Tied in the .bin (one storage), so equal values.
  assert.equal(g.get('generator_lm_head.weight')!.data, g.get('electra.embeddings.word_embeddings.weight')!.data);
  // Absent (as in HF safetensors) → aliased.
  const noHead = new Map(g); noHead.delete('generator_lm_head.weight');
  const aliased = normalizeHFStateDict(noHead, 'generator', 'gen');
  assert.is(aliased.get('generator_lm_head.weight'), aliased.get('electra.embeddings.word_embeddings.weight'));
  const disc = normalizeHFStateDict(parseSafetensors(fixture('tiny-disc.safetensors'), 'd').tensors, 'discriminator', 'd');
  checkElectraTensors(disc, cfg, 'discriminator', 'd');
  throwsWith(() => checkElectraTensors(disc, defaultHFElectraConfig({ ...tiny, hiddenSize: 32 }), 'discriminator', 'model.safetensors'),
    'model.safetensors', "'electra.embeddings_project.weight' has shape [16,8], expected [32,8]", 'more');
  const missing = new Map(disc); missing.delete('discriminator_predictions.dense.bias'); missing.set('extra.weight', disc.get('discriminator_predictions.dense.bias')!);
  throwsWith(() => checkElectraTensors(missing, cfg, 'discriminator', 'x'), "missing 'discriminator_predictions.dense.bias' [16]", "unexpected 'extra.weight'");
  const ints = new Map(disc); ints.set('discriminator_predictions.dense.bias', { dtype: 'i32', shape: [16], data: new Int32Array(16) });
  throwsWith(() => checkElectraTensors(ints, cfg, 'discriminator', 'i.bin'), "'discriminator_predictions.dense.bias' is i32, expected a float tensor");
  const both = new Map(gen.tensors); both.set('electra.embeddings.LayerNorm.weight', both.get('electra.embeddings.LayerNorm.gamma')!);
  throwsWith(() => normalizeHFStateDict(both, 'generator', 'g.bin'), 'g.bin', "both map to 'electra.embeddings.LayerNorm.weight'");
});

// ---- files (Node)

const tmp = () => mkdtempSync(join(tmpdir(), 'electra-ckpt-'));
const TINY = { vocabSize: 40, embeddingSize: 8, hiddenSize: 16, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 32, maxPositionEmbeddings: 12 };

s('writeFileAtomic: replaces, leaves no temp file, and a failure before rename keeps the old file', async () => {
  const dir = tmp();
  const p = join(dir, 'model.safetensors');
  await writeFileAtomic(p, 'OLD');
  await writeFileAtomic(p, new Uint8Array([78, 69, 87]));
  assert.is(await readFile(p, 'utf8'), 'NEW');
  assert.equal(readdirSync(dir), ['model.safetensors']);
  let seenTmp = '';
  try {
    await writeFileAtomic(p, 'BROKEN', { beforeRename: async (t) => { seenTmp = await readFile(t, 'utf8'); throw new Error('disk full'); } });
    assert.unreachable('should throw');
  } catch (e) { assert.is((e as Error).message, 'disk full'); }
  assert.is(seenTmp, 'BROKEN');
  assert.is(await readFile(p, 'utf8'), 'NEW');
  assert.equal(readdirSync(dir), ['model.safetensors']);
  rmSync(dir, { recursive: true });
});

s('writeFileAtomic: kill -9 between the temp write and the rename leaves the old file intact', async () => {
  const dir = tmp();
  const p = join(dir, 'config.json');
  writeFileSync(p, 'OLD');
  const mod = new URL('../../src/node/files.js', import.meta.url).href;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e',
    `import { writeFileAtomic } from ${JSON.stringify(mod)};
     await writeFileAtomic(${JSON.stringify(p)}, 'NEW', { beforeRename: () => process.kill(process.pid, 'SIGKILL') });`]);
  assert.is(r.signal, 'SIGKILL', String(r.stderr));
  assert.is(await readFile(p, 'utf8'), 'OLD');
  const left = readdirSync(dir).filter((f) => f.endsWith('.tmp'));
  assert.is(left.length, 1, 'the crash happened after the temp write');
  assert.is(await readFile(join(dir, left[0]), 'utf8'), 'NEW');
  rmSync(dir, { recursive: true });
});

s('writeFileAtomic: the next write into a directory removes temp files of killed writers, never a live writer\'s', async () => {
  for (const write of [(p: string) => writeFileAtomic(p, 'x'), async (p: string) => writeTextAtomic(p, 'x')]) {
    const dir = tmp();
    const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid!;   // a pid that has exited
    const stale = `.model.safetensors.${dead}.k3j5x9.tmp`, live = `.model.safetensors.${process.ppid}.a1b2c3.tmp`, other = '.notes.tmp';
    for (const f of [stale, live, other]) writeFileSync(join(dir, f), 'partial');
    await write(join(dir, 'config.json'));
    assert.equal(readdirSync(dir).sort(), [live, other, 'config.json'].sort());
    rmSync(dir, { recursive: true });
  }
});

s('HF directory: save then load (discriminator and generator), .bin fallback, clear errors', async () => {
  const cfg = defaultHFElectraConfig(TINY);
  const discT = normalizeHFStateDict(loadTorchStateDict(fixture('tiny-disc.bin'), 'd').tensors, 'discriminator', 'd');
  const genT = normalizeHFStateDict(loadTorchStateDict(fixture('tiny-gen-legacy.bin'), 'g').tensors, 'generator', 'g');
  const vocab = Array.from({ length: 40 }, (_, i) => (i === 0 ? '[PAD]' : `tok${i}`));
  const root = tmp();
  for (const [kind, tensors] of [['discriminator', discT], ['generator', genT]] as const) {
    const dir = join(root, kind);
    await saveHFDirectory(dir, { config: cfg, kind, tensors, vocab });
    assert.equal(readdirSync(dir).sort(), ['config.json', 'model.safetensors', 'vocab.txt']);
    const raw = parseSafetensors(new Uint8Array(await readFile(join(dir, 'model.safetensors'))), 'm');
    assert.equal(raw.metadata, { format: 'pt' });
    assert.not.ok(raw.tensors.has('generator_lm_head.weight'), 'tied head is not stored');
    const back = await loadHFDirectory(dir);
    assert.is(back.kind, kind); assert.is(back.format, 'safetensors');
    assert.equal(back.config, { ...cfg, architectures: [kind === 'discriminator' ? 'ElectraForPreTraining' : 'ElectraForMaskedLM'] });
    assert.equal(new Set(back.tensors.keys()), new Set(tensors.keys()));
    for (const [k, t] of tensors) assert.equal(back.tensors.get(k)!.data, t.data, k);
    assert.is((await readFile(back.vocabPath!, 'utf8')).split('\n')[39], 'tok39');
  }
  // pytorch_model.bin only (legacy names, position_ids) loads the same tensors as the saved safetensors.
  const binDir = join(root, 'bin');
  await saveHFDirectory(binDir, { config: cfg, kind: 'generator', tensors: genT, vocab });
  rmSync(join(binDir, 'model.safetensors'));
  copyFileSync(new URL('tiny-gen-legacy.bin', FIX), join(binDir, 'pytorch_model.bin'));
  const fromBin = await loadHFDirectory(binDir);
  assert.is(fromBin.format, 'torch-zip'); assert.is(fromBin.kind, 'generator');
  assert.equal(new Set(fromBin.tensors.keys()), new Set(genT.keys()));
  // Errors name the directory or the file.
  rmSync(join(binDir, 'pytorch_model.bin'));
  await rejects(loadHFDirectory(binDir), binDir, 'neither model.safetensors nor pytorch_model.bin');
  await rejects(loadHFDirectory(join(root, 'nope')), 'no config.json');
  writeFileSync(join(root, 'discriminator', 'config.json'), electraConfigToJSON(defaultHFElectraConfig({ ...TINY, intermediateSize: 64 })));
  await rejects(loadHFDirectory(join(root, 'discriminator')), 'model.safetensors', "'electra.encoder.layer.0.intermediate.dense.weight' has shape [32,16], config.json gives [64,16]");
  await rejects(saveHFDirectory(join(root, 'bad'), { config: defaultHFElectraConfig(), kind: 'discriminator', tensors: discT, vocab }), 'does not match the discriminator config');
  assert.not.ok(existsSync(join(root, 'bad')), 'nothing written when the check fails');
  rmSync(root, { recursive: true });
});

s('engine bridge: assign a loaded generator into a module tree (tied head walked once) and read it back', async () => {
  const dev = new CpuDevice();
  const shapes = expectedElectraShapes(defaultHFElectraConfig(TINY), 'generator');
  const root: Record<string, unknown> = {};
  const put = (name: string, t: Tensor) => {
    const parts = name.split('.'); let o = root;
    for (const k of parts.slice(0, -1)) o = (o[k] ??= {}) as Record<string, unknown>;
    o[parts[parts.length - 1]] = t;
  };
  for (const [name, shape] of shapes) {
    if (name === 'generator_lm_head.weight') continue;
    put(name, tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape, { device: dev }).param());
  }
  const at = (name: string) => name.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], root) as Tensor;
  put('generator_lm_head.weight', at('electra.embeddings.word_embeddings.weight'));   // tied: the same tensor
  const file = normalizeHFStateDict(loadTorchStateDict(fixture('tiny-gen-legacy.bin'), 'g').tensors, 'generator', 'g');
  const before = await readStateDict(root);
  const wrongShape = new Map(file); wrongShape.set('generator_lm_head.bias', { dtype: 'f32', shape: [41], data: new Float32Array(41) });
  wrongShape.set('classifier.weight', file.get('generator_lm_head.bias')!);
  throwsWith(() => assignStateDict(root, wrongShape, 'g.bin'), 'g.bin', "'generator_lm_head.bias' has shape [41], the model expects [40]", "unexpected 'classifier.weight'");
  assert.equal(await readStateDict(root), before, 'nothing written when the check fails');
  assignStateDict(root, file, 'g.bin');
  const back = await readStateDict(root);
  assert.is(back.size, shapes.size - 1);
  for (const [k, t] of back) assert.equal(t.data, file.get(k)!.data, k);
  const partial = new Map(file); partial.delete('generator_lm_head.bias');
  throwsWith(() => assignStateDict(root, partial, 'p.bin'), "missing 'generator_lm_head.bias'");
  assignStateDict(root, partial, 'p.bin', { allowMissing: (n) => n.startsWith('generator_lm_head.') });
});

async function rejects(p: Promise<unknown>, ...parts: string[]) {
  try { await p; } catch (e) {
    for (const part of parts) assert.ok((e as Error).message.includes(part), `error "${(e as Error).message}" should mention ${part}`);
    return;
  }
  assert.unreachable(`expected a rejection mentioning ${parts.join(', ')}`);
}

s.run();
