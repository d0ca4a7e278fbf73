// Checkpoint I/O on plain bytes: safetensors byte-exact against the reference implementation's own test
// vectors and against files it wrote, torch .bin (zip and legacy) against fixtures written by torch.save,
// strict rejection of malformed files, and a restricted unpickler that refuses foreign globals.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { parseSafetensors, serializeSafetensors, type HostTensor, type TensorToWrite } from '../../src/electra/safetensors.js';

const FIX = new URL('../../../test/fixtures/', import.meta.url);
export const fixture = (name: string) => new Uint8Array(readFileSync(new URL(name, FIX)));

const s = suite('checkpoint');
const bytes = (str: string) => Uint8Array.from(str, (c) => c.charCodeAt(0));
const le64 = (n: number) => { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, BigInt(n), true); return b; };
const cat = (...parts: Uint8Array[]) => { const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0)); let o = 0; for (const p of parts) { out.set(p, o); o += p.length; } return out; };
const f32 = (shape: number[], data: number[]): TensorToWrite => ({ dtype: 'F32', shape, data: Float32Array.from(data) });
const i32 = (shape: number[], data: number[]): TensorToWrite => ({ dtype: 'I32', shape, data: Int32Array.from(data) });
export function throwsWith(fn: () => unknown, ...parts: (string | RegExp)[]) {
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

s.run();
