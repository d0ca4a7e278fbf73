// safetensors read/write on plain bytes (browser-safe: no node:fs, no engine). Layout, as the reference
// (huggingface/safetensors `tensor.rs`): u64 LE header length n | n bytes of compact JSON
// {"__metadata__":{..}, name:{dtype,shape,data_offsets:[b,e]}} padded with spaces to a multiple of 8 |
// row-major little-endian data, tensors ordered by descending dtype then name (UTF-8 bytes).
// Reading validates the whole header (lengths, no duplicate keys, offsets contiguous from 0 and covering the file
// exactly, byte size = numel × dtype size, dtypes) before allocating any tensor, so what is allocated is bounded
// by the file's size; a caller's `inspect` then sees names, dtypes and shapes before anything is materialised.
// Every error names `source`.

/** A host tensor as the engine holds them: f32 or i32, row-major. */
export type HostTensor =
  | { dtype: 'f32'; shape: number[]; data: Float32Array }
  | { dtype: 'i32'; shape: number[]; data: Int32Array };

/** Every dtype name the format defines (reference `Dtype` enum), in its declared (alignment) order. */
const DTYPE_ORDER = [
  'BOOL', 'F4', 'F6_E2M3', 'F6_E3M2', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'F8_E8M0', 'F8_E4M3FNUZ', 'F8_E5M2FNUZ',
  'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'C64', 'F64', 'I64', 'U64',
] as const;
export type SafetensorsDtype = (typeof DTYPE_ORDER)[number];

/** Dtypes we read, with their element size in bytes. F16/BF16/F64 widen or narrow to f32; I64 narrows to i32 (range-checked). */
const READABLE: Partial<Record<SafetensorsDtype, { bytes: number; to: 'f32' | 'i32' }>> = {
  F32: { bytes: 4, to: 'f32' }, F16: { bytes: 2, to: 'f32' }, BF16: { bytes: 2, to: 'f32' }, F64: { bytes: 8, to: 'f32' },
  I32: { bytes: 4, to: 'i32' }, I64: { bytes: 8, to: 'i32' },
};

export type WriteDtype = 'F32' | 'I32' | 'I64';
export interface TensorToWrite {
  dtype: WriteDtype;
  shape: readonly number[];
  /** F32: Float32Array; I32: Int32Array; I64: Int32Array (sign-extended) or BigInt64Array. */
  data: Float32Array | Int32Array | BigInt64Array;
}

/** A tensor as a file declares it, before any of its data is read. */
export interface TensorInfo { name: string; dtype: string; shape: readonly number[] }

export interface ParseOptions {
  /** Runs once the file's structure is valid and before any tensor is allocated: throw to refuse the file. */
  inspect?: (tensors: readonly TensorInfo[]) => void;
  /** Tensors to materialise (default: all); the others are validated but never allocated. */
  keep?: (name: string) => boolean;
}

export interface ParsedSafetensors {
  metadata: Record<string, string>;
  /** In file (offset) order. */
  tensors: Map<string, HostTensor>;
  /** The dtype each tensor had in the file, before conversion. */
  storedDtypes: Map<string, SafetensorsDtype>;
}

/** The reference's cap on the header size. */
export const MAX_HEADER_SIZE = 100_000_000;
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export class CheckpointError extends Error {
  constructor(source: string, problem: string) {
    super(`${source}: ${problem}`);
    this.name = 'CheckpointError';
  }
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

interface Entry { name: string; dtype: SafetensorsDtype; shape: number[]; begin: number; end: number }

/** Parses a whole safetensors file. */
export function parseSafetensors(bytes: Uint8Array, source: string, opts: ParseOptions = {}): ParsedSafetensors {
  const fail = (problem: string): never => { throw new CheckpointError(source, problem); };
  if (bytes.byteLength < 8) fail(`file is ${bytes.byteLength} bytes, shorter than the 8-byte header length`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = dv.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_SIZE)) fail(`header length ${n64} exceeds the limit of ${MAX_HEADER_SIZE} bytes`);
  const n = Number(n64);
  if (8 + n > bytes.byteLength) fail(`header length ${n} runs past the end of the file (${bytes.byteLength} bytes)`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    return fail('header is not valid UTF-8');
  }
  if (!text.startsWith('{')) fail(`header does not start with '{' (header length ${n} is probably wrong)`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    return fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) return fail('header is not a JSON object');
  // JSON.parse keeps the last of two equal keys, so a second entry for a tensor would silently win.
  const dup = duplicateJsonKey(text);
  if (dup) fail(`header has the key ${JSON.stringify(dup.key)} twice${dup.path ? ` in ${dup.path}` : ''}`);

  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (info === null || typeof info !== 'object' || Array.isArray(info)) fail('__metadata__ is not an object');
      for (const [k, v] of Object.entries(info as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__.${k} is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    entries.push(checkEntry(name, info, fail));
  }
  // Offsets must tile [0, dataLength) exactly: sorted by begin, each starts where the previous ended.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  const dataLength = bytes.byteLength - 8 - n;
  let pos = 0;
  for (const e of entries) {
    if (e.end < e.begin) fail(`tensor '${e.name}': data_offsets [${e.begin}, ${e.end}] end before they begin`);
    if (e.begin < pos) fail(`tensor '${e.name}': data_offsets [${e.begin}, ${e.end}] overlap the previous tensor (ends at ${pos})`);
    if (e.begin > pos) fail(`tensor '${e.name}': data_offsets [${e.begin}, ${e.end}] leave a gap after byte ${pos}`);
    if (e.end > dataLength) {
      fail(`tensor '${e.name}': data_offsets [${e.begin}, ${e.end}] run past the end of the data (${dataLength} bytes; file truncated?)`);
    }
    const want = numel(e.shape) * dtypeBytes(e.dtype);
    if (e.end - e.begin !== want) {
      fail(`tensor '${e.name}': ${e.end - e.begin} bytes for shape [${e.shape}] of ${e.dtype}, expected ${want}`);
    }
    pos = e.end;
  }
  if (pos !== dataLength) fail(`tensors cover ${pos} data bytes but the file holds ${dataLength} after the header`);
  for (const e of entries) {
    if (!READABLE[e.dtype]) fail(`tensor '${e.name}': dtype ${e.dtype} is not supported (readable: ${Object.keys(READABLE).join(', ')})`);
  }

  opts.inspect?.(entries.map((e) => ({ name: e.name, dtype: e.dtype, shape: e.shape })));

  // Validation done: sizes are now bounded by the file, so allocating is safe.
  const tensors = new Map<string, HostTensor>();
  const storedDtypes = new Map<string, SafetensorsDtype>();
  const base = 8 + n;
  for (const e of entries) {
    if (opts.keep && !opts.keep(e.name)) continue;
    tensors.set(e.name, decode(bytes.subarray(base + e.begin, base + e.end), e.dtype, e.shape, (p) => fail(`tensor '${e.name}': ${p}`)));
    storedDtypes.set(e.name, e.dtype);
  }
  return { metadata, tensors, storedDtypes };
}

/**
 * The first key that occurs twice in one object of JSON `text` (already known to be valid JSON), with the
 * path of that object; null when there is none. One pass, no recursion (a header may nest deeply).
 */
export function duplicateJsonKey(text: string): { key: string; path: string } | null {
  const stack: { keys: Set<string>; name: string; expectKey: boolean }[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top?.expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) return { key, path: stack.slice(0, -1).map((o) => o.name).join('.') };
        top.keys.add(key);
        top.name = key;
        top.expectKey = false;
      }
      i = j;
    } else if (ch === '{') stack.push({ keys: new Set(), name: '', expectKey: true });
    else if (ch === '[') stack.push({ keys: new Set(), name: '', expectKey: false });
    else if (ch === '}' || ch === ']') stack.pop();
    else if (ch === ',') { const top = stack[stack.length - 1]; if (top && top.keys.size > 0) top.expectKey = true; }
  }
  return null;
}

function checkEntry(name: string, info: unknown, fail: (p: string) => never): Entry {
  if (info === null || typeof info !== 'object' || Array.isArray(info)) fail(`tensor '${name}': header entry is not an object`);
  const { dtype, shape, data_offsets: off } = info as Record<string, unknown>;
  if (typeof dtype !== 'string') return fail(`tensor '${name}': missing or non-string dtype`);
  if (!(DTYPE_ORDER as readonly string[]).includes(dtype)) fail(`tensor '${name}': unknown dtype '${dtype}'`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(`tensor '${name}': shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
  }
  if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(`tensor '${name}': data_offsets ${JSON.stringify(off)} is not a pair of non-negative integers`);
  }
  const s = shape as number[];
  if (!Number.isSafeInteger(numel(s) * 8)) fail(`tensor '${name}': shape [${s}] is too large`);
  return { name, dtype: dtype as SafetensorsDtype, shape: s, begin: (off as number[])[0], end: (off as number[])[1] };
}

function dtypeBytes(d: SafetensorsDtype): number {
  switch (d) {
    case 'BOOL': case 'U8': case 'I8': case 'F8_E5M2': case 'F8_E4M3': case 'F8_E8M0': case 'F8_E4M3FNUZ': case 'F8_E5M2FNUZ':
      return 1;
    case 'I16': case 'U16': case 'F16': case 'BF16': return 2;
    case 'I32': case 'U32': case 'F32': return 4;
    case 'C64': case 'F64': case 'I64': case 'U64': return 8;
    // Sub-byte types: the byte count check below uses whole bytes, so these never pass for odd sizes; unsupported anyway.
    case 'F4': return 0.5;
    case 'F6_E2M3': case 'F6_E3M2': return 0.75;
    default: return d satisfies never;
  }
}

/** Copies `src` (little-endian bytes of one tensor) into a fresh aligned host array. */
function decode(src: Uint8Array, dtype: SafetensorsDtype, shape: number[], fail: (p: string) => never): HostTensor {
  const count = numel(shape);
  const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  switch (dtype) {
    case 'F32': {
      const out = new Float32Array(count);
      if (LITTLE_ENDIAN_HOST) new Uint8Array(out.buffer).set(src);
      else for (let i = 0; i < count; i++) out[i] = dv.getFloat32(4 * i, true);
      return { dtype: 'f32', shape: [...shape], data: out };
    }
    case 'I32': {
      const out = new Int32Array(count);
      if (LITTLE_ENDIAN_HOST) new Uint8Array(out.buffer).set(src);
      else for (let i = 0; i < count; i++) out[i] = dv.getInt32(4 * i, true);
      return { dtype: 'i32', shape: [...shape], data: out };
    }
    case 'F16': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = halfToFloat(dv.getUint16(2 * i, true));
      return { dtype: 'f32', shape: [...shape], data: out };
    }
    case 'BF16': {
      const out = new Float32Array(count);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) bits[i] = dv.getUint16(2 * i, true) << 16;
      return { dtype: 'f32', shape: [...shape], data: out };
    }
    case 'F64': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = dv.getFloat64(8 * i, true);
      return { dtype: 'f32', shape: [...shape], data: out };
    }
    case 'I64': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const v = dv.getBigInt64(8 * i, true);
        if (v < -2147483648n || v > 2147483647n) fail(`I64 value ${v} at index ${i} does not fit in int32`);
        out[i] = Number(v);
      }
      return { dtype: 'i32', shape: [...shape], data: out };
    }
    default:
      return fail(`dtype ${dtype} is not supported`);
  }
}

/** IEEE binary16 bits → number (exact: every half is representable in f32). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Host tensor → a writable entry (f32 → F32, i32 → I32). */
export function toWritable(t: HostTensor): TensorToWrite {
  return { dtype: t.dtype === 'f32' ? 'F32' : 'I32', shape: t.shape, data: t.data };
}

function utf8Compare(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/**
 * Serializes tensors byte-for-byte as the reference `safetensors.serialize` does (same order, same JSON, same
 * padding). Metadata keys are written sorted (the reference uses a hash map, so its order is unspecified
 * beyond one key). Throws on duplicate or reserved names and on data that does not match dtype/shape.
 */
export function serializeSafetensors(
  tensors: Iterable<readonly [string, TensorToWrite]>, metadata?: Record<string, string>, source = 'safetensors',
): Uint8Array {
  const fail = (problem: string): never => { throw new CheckpointError(source, problem); };
  const enc = new TextEncoder();
  const items: { name: string; key: Uint8Array; t: TensorToWrite; rank: number; bytes: number }[] = [];
  const seen = new Set<string>();
  for (const [name, t] of tensors) {
    if (name === '__metadata__') fail(`'__metadata__' cannot be a tensor name`);
    if (seen.has(name)) fail(`tensor '${name}' appears twice`);
    seen.add(name);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`tensor '${name}': bad shape [${t.shape}]`);
    const count = numel(t.shape);
    if (t.data.length !== count) fail(`tensor '${name}': ${t.data.length} values for shape [${t.shape}] (${count})`);
    const ok = t.dtype === 'F32' ? t.data instanceof Float32Array
      : t.dtype === 'I32' ? t.data instanceof Int32Array
      : t.dtype === 'I64' ? t.data instanceof Int32Array || t.data instanceof BigInt64Array : false;
    if (!ok) fail(`tensor '${name}': dtype ${t.dtype} cannot be written from a ${t.data.constructor.name}`);
    items.push({ name, key: enc.encode(name), t, rank: DTYPE_ORDER.indexOf(t.dtype), bytes: count * dtypeBytes(t.dtype) });
  }
  items.sort((a, b) => b.rank - a.rank || utf8Compare(a.key, b.key));

  let json = '{';
  const parts: string[] = [];
  if (metadata) {
    const m: Record<string, string> = {};
    for (const k of Object.keys(metadata).sort()) {
      if (typeof metadata[k] !== 'string') fail(`metadata '${k}' is not a string`);
      m[k] = metadata[k];
    }
    parts.push(`"__metadata__":${JSON.stringify(m)}`);
  }
  let offset = 0;
  for (const it of items) {
    parts.push(`${JSON.stringify(it.name)}:{"dtype":"${it.t.dtype}","shape":[${it.t.shape.join(',')}],"data_offsets":[${offset},${offset + it.bytes}]}`);
    offset += it.bytes;
  }
  json += parts.join(',') + '}';
  const jsonBytes = enc.encode(json);
  const n = Math.ceil(jsonBytes.length / 8) * 8;
  const out = new Uint8Array(8 + n + offset);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(n), true);
  out.set(jsonBytes, 8);
  out.fill(0x20, 8 + jsonBytes.length, 8 + n);
  let pos = 8 + n;
  for (const { t, bytes } of items) {
    const d = t.data;
    if (t.dtype === 'I64') {
      for (let i = 0; i < d.length; i++) dv.setBigInt64(pos + 8 * i, d instanceof BigInt64Array ? d[i] : BigInt(d[i] as number), true);
    } else if (LITTLE_ENDIAN_HOST) {
      out.set(new Uint8Array(d.buffer, d.byteOffset, bytes), pos);
    } else if (d instanceof Float32Array) {
      for (let i = 0; i < d.length; i++) dv.setFloat32(pos + 4 * i, d[i], true);
    } else {
      for (let i = 0; i < d.length; i++) dv.setInt32(pos + 4 * i, Number(d[i]), true);
    }
    pos += bytes;
  }
  return out;
}
