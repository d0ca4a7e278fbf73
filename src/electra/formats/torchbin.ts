// PyTorch `torch.save` state dicts (pytorch_model.bin) from plain bytes (browser-safe, no engine): the zip format
// (stored entries `<any folder>/data.pkl` + `<folder>/data/<key>`, zip64 honoured) and the pre-1.6 legacy stream.
// Our restricted unpickler EXECUTES NOTHING: it knows only the opcodes a state dict uses and ALLOWED_GLOBALS; any
// other global (os.system, builtins.eval, …) is rejected by name as soon as it is named. Tensors are rebuilt from
// (storage, offset, size, stride), strided views copied to row-major. Before anything is allocated, every
// storage is checked against the file and every view against its storage (inside it, no stride-0 or
// overlapping elements, so a view never holds more elements than the file holds), and the caller's `inspect`
// sees names, dtypes and shapes; so the memory a load takes is bounded by the file's size. Errors name `source`.

import { crc32 } from '../../text/crc32.js';
import { CheckpointError, halfToFloat, numel, type HostTensor, type ParseOptions, type TensorInfo } from './safetensors.js';

// ---------------------------------------------------------------------------------------------- zip

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  crc32: number;
  localHeaderOffset: number;
}

const u16 = (dv: DataView, o: number) => dv.getUint16(o, true);
const u32 = (dv: DataView, o: number) => dv.getUint32(o, true);

/** Reads the central directory (zip64 aware). Throws CheckpointError naming `source` on any inconsistency. */
export function readZipDirectory(bytes: Uint8Array, source: string): Map<string, ZipEntry> {
  const fail = (p: string): never => { throw new CheckpointError(source, `not a valid zip archive: ${p}`); };
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = bytes.byteLength;
  if (len < 22) fail(`${len} bytes is too short for an end-of-central-directory record`);
  let eocd = -1;
  for (let i = len - 22; i >= Math.max(0, len - 22 - 0xffff); i--) {
    if (u32(dv, i) === 0x06054b50 && i + 22 + u16(dv, i + 20) === len) { eocd = i; break; }
  }
  if (eocd < 0) fail('no end-of-central-directory record (truncated file?)');
  let count = u16(dv, eocd + 10);
  let cdSize = u32(dv, eocd + 12);
  let cdOffset = u32(dv, eocd + 16);
  if (u16(dv, eocd + 4) !== 0 || u16(dv, eocd + 6) !== 0) fail('multi-disk archives are not supported');
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || u32(dv, loc) !== 0x07064b50) fail('zip64 fields without a zip64 end-of-central-directory locator');
    const rec = u64(dv, loc + 8, fail);
    if (rec + 56 > loc || u32(dv, rec) !== 0x06064b50) fail(`zip64 end-of-central-directory record missing at ${rec}`);
    count = u64(dv, rec + 32, fail);
    cdSize = u64(dv, rec + 40, fail);
    cdOffset = u64(dv, rec + 48, fail);
  }
  if (cdOffset + cdSize > len) fail(`central directory [${cdOffset}, +${cdSize}) lies outside the file (${len} bytes)`);
  if (count * 46 > cdSize) fail(`${count} entries cannot fit in a ${cdSize}-byte central directory`);
  const entries = new Map<string, ZipEntry>();
  const dec = new TextDecoder();
  let p = cdOffset;
  for (let k = 0; k < count; k++) {
    if (p + 46 > cdOffset + cdSize || u32(dv, p) !== 0x02014b50) fail(`central directory entry ${k} is corrupt`);
    const flags = u16(dv, p + 8);
    const nameLen = u16(dv, p + 28), extraLen = u16(dv, p + 30), commentLen = u16(dv, p + 32);
    if (p + 46 + nameLen + extraLen + commentLen > cdOffset + cdSize) fail(`central directory entry ${k} overruns the directory`);
    const name = dec.decode(bytes.subarray(p + 46, p + 46 + nameLen));
    if (flags & 1) fail(`entry '${name}' is encrypted`);
    let csize = u32(dv, p + 20), usize = u32(dv, p + 24), off = u32(dv, p + 42);
    // zip64 extended information: only the fields whose 32-bit slots are saturated, in this order.
    for (let e = p + 46 + nameLen; e + 4 <= p + 46 + nameLen + extraLen;) {
      const id = u16(dv, e), sz = u16(dv, e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        const take = () => { if (q + 8 > e + 4 + sz) fail(`entry '${name}': short zip64 extra field`); const v = u64(dv, q, fail); q += 8; return v; };
        if (usize === 0xffffffff) usize = take();
        if (csize === 0xffffffff) csize = take();
        if (off === 0xffffffff) off = take();
      }
      e += 4 + sz;
    }
    if (entries.has(name)) fail(`entry '${name}' appears twice`);
    entries.set(name, { name, method: u16(dv, p + 10), compressedSize: csize, size: usize, crc32: u32(dv, p + 16), localHeaderOffset: off });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

function u64(dv: DataView, o: number, fail: (p: string) => never): number {
  const v = dv.getBigUint64(o, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`64-bit field ${v} at ${o} is out of range`);
  return Number(v);
}

/** The bytes of a stored entry (a view into `bytes`, no copy), after checking its local header and bounds. */
export function zipEntryData(bytes: Uint8Array, e: ZipEntry, source: string, checkCrc = true): Uint8Array {
  const fail = (p: string): never => { throw new CheckpointError(source, `zip entry '${e.name}': ${p}`); };
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (e.method !== 0) fail(`compression method ${e.method} is not supported (torch.save writes stored entries)`);
  if (e.compressedSize !== e.size) fail(`stored entry has compressed size ${e.compressedSize} != size ${e.size}`);
  const h = e.localHeaderOffset;
  if (h + 30 > bytes.byteLength || u32(dv, h) !== 0x04034b50) fail(`no local header at offset ${h}`);
  const start = h + 30 + u16(dv, h + 26) + u16(dv, h + 28);
  if (start + e.size > bytes.byteLength) fail(`data [${start}, +${e.size}) runs past the end of the file (${bytes.byteLength} bytes; truncated?)`);
  const data = bytes.subarray(start, start + e.size);
  if (checkCrc && crc32(data) !== e.crc32) fail('CRC-32 mismatch (corrupt file)');
  return data;
}

// --------------------------------------------------------------------------------------- unpickler

/** Storage classes a state dict may name, with their element type. */
const STORAGE_TYPES = {
  FloatStorage: { bytes: 4, kind: 'f32' }, HalfStorage: { bytes: 2, kind: 'f16' }, BFloat16Storage: { bytes: 2, kind: 'bf16' },
  DoubleStorage: { bytes: 8, kind: 'f64' }, LongStorage: { bytes: 8, kind: 'i64' }, IntStorage: { bytes: 4, kind: 'i32' },
} as const;
type StorageName = keyof typeof STORAGE_TYPES;

/** The only globals the unpickler will name. Everything else is an error. */
export const ALLOWED_GLOBALS: readonly string[] = [
  'collections.OrderedDict', 'torch._utils._rebuild_tensor_v2', 'torch._utils._rebuild_parameter',
  ...Object.keys(STORAGE_TYPES).map((s) => `torch.${s}`),
];

export class PyTuple { constructor(readonly items: PyValue[]) {} }
export class PyList { constructor(readonly items: PyValue[]) {} }
export class PyDict { readonly map = new Map<string | number | boolean | null, PyValue>(); attrs: PyValue = null; }
export class PyGlobal { constructor(readonly module: string, readonly name: string) {} get path() { return `${this.module}.${this.name}`; } }
export class StorageRef { constructor(readonly type: StorageName, readonly key: string, readonly location: string, readonly numel: number) {} }
export class TensorRef {
  constructor(readonly storage: StorageRef, readonly offset: number, readonly size: number[], readonly stride: number[]) {}
}
export type PyValue =
  | null | boolean | number | bigint | string | Uint8Array | PyTuple | PyList | PyDict | PyGlobal | StorageRef | TensorRef;

const MARK = Symbol('mark');
const MAX_LINE = 4096;

/**
 * Unpickles `data` (the protocol 0–4 opcodes a torch state dict uses). `persistentLoad` turns a persistent id
 * (a tuple) into a value. Never imports or calls anything: REDUCE only applies the allow-listed globals.
 */
export function restrictedUnpickle(data: Uint8Array, source: string, persistentLoad: (pid: PyValue) => PyValue): PyValue {
  const { value, end } = unpickleAt(data, 0, source, persistentLoad);
  if (end !== data.length) throw new CheckpointError(source, `pickle has ${data.length - end} bytes after STOP`);
  return value;
}

/** Unpickles one pickle starting at `start`; returns the value and the offset just past its STOP. */
export function unpickleAt(
  data: Uint8Array, start: number, source: string, persistentLoad: (pid: PyValue) => PyValue,
): { value: PyValue; end: number } {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const dec = new TextDecoder('utf-8', { fatal: true });
  const stack: (PyValue | typeof MARK)[] = [];
  const memo = new Map<number, PyValue>();
  let pos = start;
  let op = 0, opAt = 0;
  const fail = (p: string): never => {
    throw new CheckpointError(source, `pickle opcode 0x${op.toString(16).padStart(2, '0')} at byte ${opAt}: ${p}`);
  };
  const need = (n: number) => { if (n < 0 || pos + n > data.length) fail(`needs ${n} bytes but the pickle ends at ${data.length}`); };
  const take = (n: number) => { need(n); const s = data.subarray(pos, pos + n); pos += n; return s; };
  // Protocol-0 lines hold a module, a name or a decimal integer: long ones are hostile (BigInt parsing is superlinear).
  const line = () => {
    let end = data.subarray(pos, pos + MAX_LINE + 1).indexOf(0x0a);
    if (end < 0) fail(pos + MAX_LINE < data.length ? `line longer than ${MAX_LINE} bytes` : 'unterminated line');
    end += pos;
    const s = new TextDecoder().decode(data.subarray(pos, end)); pos = end + 1; return s;
  };
  const str = (n: number) => { const b = take(n); try { return dec.decode(b); } catch { return fail('string is not valid UTF-8'); } };
  const pop = (): PyValue => {
    if (stack.length === 0) fail('stack underflow');
    const v = stack.pop()!;
    if (v === MARK) fail('unexpected MARK on the stack');
    return v as PyValue;
  };
  const popMark = (): PyValue[] => {
    let i = stack.length - 1;
    while (i >= 0 && stack[i] !== MARK) i--;
    if (i < 0) fail('no MARK on the stack');
    const items = stack.splice(i) as PyValue[];
    items.shift();
    return items;
  };
  const top = (): PyValue => { if (!stack.length || stack[stack.length - 1] === MARK) fail('stack underflow'); return stack[stack.length - 1] as PyValue; };
  const global = (module: string, name: string): PyGlobal => {
    const path = `${module}.${name}`;
    if (!ALLOWED_GLOBALS.includes(path)) fail(`global '${path}' is not allowed in a state dict (allowed: ${ALLOWED_GLOBALS.join(', ')})`);
    return new PyGlobal(module, name);
  };
  const setItems = (d: PyValue, kv: PyValue[]) => {
    if (!(d instanceof PyDict)) fail('SETITEM(S) on a non-dict');
    for (let i = 0; i + 1 < kv.length; i += 2) {
      const k = kv[i];
      if (!(k === null || typeof k === 'string' || typeof k === 'number' || typeof k === 'boolean')) fail('dict key of unsupported type');
      // A pickled dict never repeats a key; a repeat would silently replace an earlier tensor.
      if ((d as PyDict).map.has(k as string)) fail(`dict key ${JSON.stringify(k)} appears twice`);
      (d as PyDict).map.set(k as string, kv[i + 1]);
    }
  };
  const int = (v: bigint): number | bigint => (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
  const long = (b: Uint8Array): number | bigint => {
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b.length && b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
    return int(v);
  };

  for (;;) {
    opAt = pos;
    need(1);
    op = data[pos++];
    switch (op) {
      case 0x80: take(1); break; // PROTO
      case 0x95: take(8); break; // FRAME: frames are only a read-ahead hint
      case 0x2e: { // STOP
        const value = pop();
        return { value, end: pos };
      }
      case 0x28: stack.push(MARK); break;
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      case 0x4e: stack.push(null); break;
      case 0x88: stack.push(true); break;
      case 0x89: stack.push(false); break;
      case 0x4a: need(4); stack.push(dv.getInt32(pos, true)); pos += 4; break; // BININT
      case 0x4b: need(1); stack.push(data[pos++]); break; // BININT1
      case 0x4d: need(2); stack.push(dv.getUint16(pos, true)); pos += 2; break; // BININT2
      case 0x8a: { need(1); const n = data[pos++]; stack.push(long(take(n))); break; } // LONG1
      case 0x8b: { // LONG4: a state dict's integers fit in LONG1; long ones cost quadratic time to decode
        need(4); const n = dv.getInt32(pos, true); pos += 4;
        if (n > 255) fail(`integer of ${n} bytes (a state dict has none over 255)`);
        stack.push(long(take(n)));
        break;
      }
      case 0x49: { // INT (protocol 0; "01"/"00" are True/False)
        const s = line();
        if (s === '01' || s === '00') stack.push(s === '01');
        else if (/^-?\d+$/.test(s)) stack.push(int(BigInt(s)));
        else fail(`bad INT '${s}'`);
        break;
      }
      case 0x47: need(8); stack.push(dv.getFloat64(pos, false)); pos += 8; break; // BINFLOAT (big-endian)
      case 0x58: { need(4); const n = dv.getUint32(pos, true); pos += 4; stack.push(str(n)); break; } // BINUNICODE
      case 0x8c: { need(1); const n = data[pos++]; stack.push(str(n)); break; } // SHORT_BINUNICODE
      case 0x8d: { need(8); const n = u64(dv, pos, fail); pos += 8; stack.push(str(n)); break; } // BINUNICODE8
      case 0x55: { need(1); const n = data[pos++]; stack.push(new TextDecoder('latin1').decode(take(n))); break; } // SHORT_BINSTRING
      case 0x54: { need(4); const n = dv.getInt32(pos, true); pos += 4; stack.push(new TextDecoder('latin1').decode(take(n))); break; } // BINSTRING
      case 0x43: { need(1); const n = data[pos++]; stack.push(take(n).slice()); break; } // SHORT_BINBYTES
      case 0x42: { need(4); const n = dv.getUint32(pos, true); pos += 4; stack.push(take(n).slice()); break; } // BINBYTES
      case 0x29: stack.push(new PyTuple([])); break; // EMPTY_TUPLE
      case 0x74: stack.push(new PyTuple(popMark())); break; // TUPLE
      case 0x85: { const a = pop(); stack.push(new PyTuple([a])); break; }
      case 0x86: { const b = pop(), a = pop(); stack.push(new PyTuple([a, b])); break; }
      case 0x87: { const c = pop(), b = pop(), a = pop(); stack.push(new PyTuple([a, b, c])); break; }
      case 0x5d: stack.push(new PyList([])); break; // EMPTY_LIST
      case 0x6c: stack.push(new PyList(popMark())); break; // LIST
      case 0x61: { const v = pop(); const l = top(); if (!(l instanceof PyList)) fail('APPEND to a non-list'); (l as PyList).items.push(v); break; }
      case 0x65: { const vs = popMark(); const l = top(); if (!(l instanceof PyList)) fail('APPENDS to a non-list'); for (const v of vs) (l as PyList).items.push(v); break; } // no spread: 500k items overflow the call stack
      case 0x7d: stack.push(new PyDict()); break; // EMPTY_DICT
      case 0x64: { const d = new PyDict(); setItems(d, popMark()); stack.push(d); break; } // DICT
      case 0x73: { const v = pop(), k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const kv = popMark(); setItems(top(), kv); break; } // SETITEMS
      case 0x63: { const module = line(); const name = line(); stack.push(global(module, name)); break; } // GLOBAL
      case 0x93: { // STACK_GLOBAL
        const name = pop(), module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x51: stack.push(persistentLoad(pop())); break; // BINPERSID
      case 0x52: { // REDUCE
        const args = pop(), fn = pop();
        if (!(fn instanceof PyGlobal)) return fail('REDUCE on something that is not an allowed global');
        if (!(args instanceof PyTuple)) return fail(`REDUCE ${fn.path} with non-tuple arguments`);
        stack.push(applyGlobal(fn, args.items, fail));
        break;
      }
      case 0x62: { // BUILD: only an OrderedDict's instance dict (the state dict's `_metadata`)
        const state = pop(), obj = top();
        if (!(obj instanceof PyDict) || !(state instanceof PyDict)) fail('BUILD is only supported on a dict with a dict state');
        (obj as PyDict).attrs = state;
        break;
      }
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x71: need(1); memo.set(data[pos++], top()); break; // BINPUT
      case 0x72: need(4); memo.set(dv.getUint32(pos, true), top()); pos += 4; break; // LONG_BINPUT
      case 0x70: memo.set(Number(line()), top()); break; // PUT
      case 0x68: { need(1); const i = data[pos++]; if (!memo.has(i)) fail(`memo ${i} is empty`); stack.push(memo.get(i)!); break; }
      case 0x6a: { need(4); const i = dv.getUint32(pos, true); pos += 4; if (!memo.has(i)) fail(`memo ${i} is empty`); stack.push(memo.get(i)!); break; }
      case 0x67: { const i = Number(line()); if (!memo.has(i)) fail(`memo ${i} is empty`); stack.push(memo.get(i)!); break; }
      default:
        fail(`opcode not supported by the restricted unpickler (a state dict does not need it)`);
    }
  }
}

function isInt(v: PyValue): v is number { return typeof v === 'number' && Number.isSafeInteger(v); }
function intTuple(v: PyValue): number[] | null {
  return v instanceof PyTuple && v.items.every((x) => isInt(x) && x >= 0) ? (v.items as number[]) : null;
}

/** The effect of calling an allowed global, computed from data only. */
function applyGlobal(fn: PyGlobal, args: PyValue[], fail: (p: string) => never): PyValue {
  switch (fn.path) {
    case 'collections.OrderedDict': {
      if (args.length === 0) return new PyDict();
      return fail('OrderedDict(...) with arguments is not supported');
    }
    case 'torch._utils._rebuild_tensor_v2': {
      // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
      if (args.length !== 6 && args.length !== 7) fail(`_rebuild_tensor_v2 takes 6 or 7 arguments, got ${args.length}`);
      const [storage, offset, size, stride] = args;
      if (!(storage instanceof StorageRef)) return fail('_rebuild_tensor_v2: first argument is not a storage');
      const sz = intTuple(size), st = intTuple(stride);
      if (!isInt(offset) || offset < 0 || !sz || !st || sz.length !== st.length) {
        return fail('_rebuild_tensor_v2: offset/size/stride are not non-negative integers of matching rank');
      }
      return new TensorRef(storage, offset, [...sz], [...st]);
    }
    case 'torch._utils._rebuild_parameter': {
      if (args.length !== 3 || !(args[0] instanceof TensorRef)) return fail('_rebuild_parameter: expected (tensor, requires_grad, hooks)');
      return args[0];
    }
    default:
      return fail(`global '${fn.path}' cannot be called`);
  }
}

/** Persistent id → storage reference: ('storage', torch.XStorage, key, location, numel[, view_metadata]). */
function storageFromPid(pid: PyValue, fail: (p: string) => never): StorageRef {
  if (!(pid instanceof PyTuple) || pid.items.length < 5 || pid.items[0] !== 'storage') return fail('persistent id is not a storage tuple');
  const [, type, key, location, n] = pid.items;
  if (pid.items.length === 6 && pid.items[5] !== null) fail('storage views (legacy view_metadata) are not supported');
  if (!(type instanceof PyGlobal) || type.module !== 'torch' || !(type.name in STORAGE_TYPES)) return fail('persistent id names no storage type');
  if (typeof key !== 'string' || typeof location !== 'string' || !isInt(n) || n < 0) return fail('malformed storage persistent id');
  return new StorageRef(type.name as StorageName, key, location, n);
}

// ------------------------------------------------------------------------------------ state dict

export type TorchDtype = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32';
const KIND_TO_DTYPE: Record<(typeof STORAGE_TYPES)[StorageName]['kind'], TorchDtype> = {
  f32: 'F32', f16: 'F16', bf16: 'BF16', f64: 'F64', i64: 'I64', i32: 'I32',
};

export interface TorchStateDict {
  /** In pickle order. */
  tensors: Map<string, HostTensor>;
  storedDtypes: Map<string, TorchDtype>;
  format: 'zip' | 'legacy';
}

export interface TorchLoadOptions extends ParseOptions {
  /** Check the CRC-32 of every zip entry read (default true; about 1 s per 500 MB). */
  checkCrc?: boolean;
}

/** Reads a torch.save'd state dict (zip format, or the pre-1.6 legacy stream). */
export function loadTorchStateDict(bytes: Uint8Array, source: string, opts: TorchLoadOptions = {}): TorchStateDict {
  const fail = (p: string): never => { throw new CheckpointError(source, p); };
  if (bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) {
    return loadZip(bytes, source, opts);
  }
  if (bytes.length >= 2 && bytes[0] === 0x80) return loadLegacy(bytes, source, opts);
  return fail('not a PyTorch checkpoint (neither a zip archive nor a legacy pickle stream)');
}

function loadZip(bytes: Uint8Array, source: string, opts: TorchLoadOptions): TorchStateDict {
  const fail = (p: string): never => { throw new CheckpointError(source, p); };
  const checkCrc = opts.checkCrc ?? true;
  const dir = readZipDirectory(bytes, source);
  const pkls = [...dir.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pkls.length !== 1) {
    fail(`expected one '<folder>/data.pkl' in the archive, found ${pkls.length} (entries: ${[...dir.keys()].slice(0, 6).join(', ')})`);
  }
  const prefix = pkls[0].slice(0, -'data.pkl'.length);
  const bo = dir.get(`${prefix}byteorder`);
  if (bo) {
    const order = new TextDecoder().decode(zipEntryData(bytes, bo, source, checkCrc));
    if (order !== 'little') fail(`byteorder '${order}' is not supported`);
  }
  const pkl = zipEntryData(bytes, dir.get(pkls[0])!, source, checkCrc);
  const storages = new Map<string, StorageRef>();
  const root = restrictedUnpickle(pkl, `${source} (${pkls[0]})`, (pid) => {
    const s = storageFromPid(pid, (p) => fail(`${pkls[0]}: ${p}`));
    const prev = storages.get(s.key);
    if (prev && (prev.type !== s.type || prev.numel !== s.numel)) fail(`storage '${s.key}' is declared twice with different types or sizes`);
    storages.set(s.key, prev ?? s);
    return prev ?? s;
  });
  const refs = stateDictRefs(root, fail);
  // Validate every storage entry and every view before allocating anything.
  const data = new Map<string, ZipEntry>();
  for (const s of storages.values()) {
    const e = dir.get(`${prefix}data/${s.key}`);
    if (!e) return fail(`storage '${s.key}' has no entry '${prefix}data/${s.key}' in the archive`);
    const want = s.numel * STORAGE_TYPES[s.type].bytes;
    if (e.size !== want) fail(`storage '${s.key}' (${s.type}, ${s.numel} elements) should be ${want} bytes, archive entry has ${e.size}`);
    if (want > bytes.byteLength) fail(`storage '${s.key}' (${want} bytes) is larger than the file (${bytes.byteLength} bytes)`);
    data.set(s.key, e);
  }
  for (const [name, t] of refs) checkView(name, t, fail);
  opts.inspect?.(tensorInfos(refs));
  const bytesOf = new Map<string, Uint8Array>();
  const storageBytes = (s: StorageRef) => {
    let b = bytesOf.get(s.key);
    if (!b) { b = zipEntryData(bytes, data.get(s.key)!, source, checkCrc); bytesOf.set(s.key, b); }
    return b;
  };
  return materialize(refs, storageBytes, 'zip', opts.keep, fail);
}

function loadLegacy(bytes: Uint8Array, source: string, opts: TorchLoadOptions): TorchStateDict {
  const fail = (p: string): never => { throw new CheckpointError(source, `legacy torch format: ${p}`); };
  const noPid = () => fail('unexpected persistent id in the header pickles');
  const magic = unpickleAt(bytes, 0, source, noPid);
  if (magic.value !== 0x1950a86a20f9469cfc6cn) fail('bad magic number (not a torch.save file)');
  const proto = unpickleAt(bytes, magic.end, source, noPid);
  if (proto.value !== 1001) fail(`protocol version ${String(proto.value)} is not supported`);
  const sys = unpickleAt(bytes, proto.end, source, noPid);
  if (sys.value instanceof PyDict && sys.value.map.get('little_endian') === false) fail('big-endian checkpoints are not supported');
  const storages = new Map<string, StorageRef>();
  const main = unpickleAt(bytes, sys.end, source, (pid) => {
    const s = storageFromPid(pid, fail);
    const prev = storages.get(s.key);
    if (prev && (prev.type !== s.type || prev.numel !== s.numel)) fail(`storage '${s.key}' is declared twice with different types or sizes`);
    storages.set(s.key, prev ?? s);
    return prev ?? s;
  });
  const keys = unpickleAt(bytes, main.end, source, noPid);
  if (!(keys.value instanceof PyList) || !keys.value.items.every((k) => typeof k === 'string')) fail('storage key list is malformed');
  const refs = stateDictRefs(main.value, fail);
  // Storages follow back to back: int64 element count, then the raw bytes.
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const where = new Map<string, [number, number]>();
  let pos = keys.end;
  for (const key of (keys.value as PyList).items as string[]) {
    const s = storages.get(key);
    if (!s) return fail(`storage '${key}' is listed but never referenced`);
    if (pos + 8 > bytes.length) fail(`storage '${key}' header runs past the end of the file (truncated?)`);
    const n = dv.getBigInt64(pos, true);
    if (n !== BigInt(s.numel)) fail(`storage '${key}' holds ${n} elements, the pickle declares ${s.numel}`);
    const nb = s.numel * STORAGE_TYPES[s.type].bytes;
    if (pos + 8 + nb > bytes.length) fail(`storage '${key}' (${nb} bytes) runs past the end of the file (truncated?)`);
    where.set(key, [pos + 8, pos + 8 + nb]);
    pos += 8 + nb;
  }
  for (const s of storages.values()) if (!where.has(s.key)) fail(`storage '${s.key}' is referenced but has no data`);
  for (const [name, t] of refs) checkView(name, t, fail);
  opts.inspect?.(tensorInfos(refs));
  return materialize(refs, (s) => bytes.subarray(...where.get(s.key)!), 'legacy', opts.keep, fail);
}

function stateDictRefs(root: PyValue, fail: (p: string) => never): Map<string, TensorRef> {
  if (!(root instanceof PyDict)) return fail('the pickled object is not a state dict (dict of tensors)');
  const refs = new Map<string, TensorRef>();
  for (const [k, v] of root.map) {
    if (typeof k !== 'string') fail(`state dict key ${String(k)} is not a string`);
    if (!(v instanceof TensorRef)) fail(`state dict entry '${String(k)}' is not a tensor`);
    refs.set(k as string, v as TensorRef);
  }
  return refs;
}

function tensorInfos(refs: Map<string, TensorRef>): TensorInfo[] {
  return [...refs].map(([name, t]) => ({ name, dtype: KIND_TO_DTYPE[STORAGE_TYPES[t.storage.type].kind], shape: t.size }));
}

/**
 * A view must stay inside its storage (offset + Σ (size_i − 1)·stride_i < numel(storage)) and must not reach
 * one element twice: sorted by stride, each dimension's stride exceeds the span of the smaller ones. torch.save
 * never writes such views into a state dict (`expand` gives stride 0), and a view without them holds at most
 * its storage's elements, which the file holds: a 707-byte file cannot ask for gigabytes.
 */
function checkView(name: string, t: TensorRef, fail: (p: string) => never): void {
  const n = numel(t.size);
  const what = `tensor '${name}': shape [${t.size}], stride [${t.stride}]`;
  if (!Number.isSafeInteger(n)) fail(`${what}: too large`);
  if (n === 0) return;
  if (n > t.storage.numel) fail(`${what}: ${n} elements but storage '${t.storage.key}' holds ${t.storage.numel}`);
  const dims = t.size.map((size, d) => ({ size, stride: t.stride[d], d })).filter((x) => x.size > 1).sort((a, b) => a.stride - b.stride);
  let span = 0;
  for (const x of dims) {
    if (x.stride === 0) fail(`${what}: stride 0 in dimension ${x.d} of size ${x.size} (an expanded view) repeats elements`);
    if (x.stride <= span) fail(`${what}: dimension ${x.d} overlaps the smaller dimensions (stride ${x.stride} within their span ${span})`);
    span += (x.size - 1) * x.stride;
  }
  if (t.offset + span >= t.storage.numel) {
    fail(`${what}, offset ${t.offset}: reach element ${t.offset + span} of storage '${t.storage.key}' which has ${t.storage.numel}`);
  }
}

function materialize(
  refs: Map<string, TensorRef>, storageBytes: (s: StorageRef) => Uint8Array, format: 'zip' | 'legacy',
  keep: ((name: string) => boolean) | undefined, fail: (p: string) => never,
): TorchStateDict {
  const tensors = new Map<string, HostTensor>();
  const storedDtypes = new Map<string, TorchDtype>();
  for (const [name, t] of refs) {
    if (keep && !keep(name)) continue;
    const kind = STORAGE_TYPES[t.storage.type].kind;
    tensors.set(name, gather(storageBytes(t.storage), kind, t, name, fail));
    storedDtypes.set(name, KIND_TO_DTYPE[kind]);
  }
  return { tensors, storedDtypes, format };
}

/** Copies the (possibly strided) view into a fresh row-major f32/i32 array. */
function gather(
  src: Uint8Array, kind: (typeof STORAGE_TYPES)[StorageName]['kind'], t: TensorRef, name: string, fail: (p: string) => never,
): HostTensor {
  const n = numel(t.size);
  const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const isInt = kind === 'i64' || kind === 'i32';
  const out = isInt ? new Int32Array(n) : new Float32Array(n);
  const read: (i: number) => number =
    kind === 'f32' ? (i) => dv.getFloat32(4 * i, true)
    : kind === 'f16' ? (i) => halfToFloat(dv.getUint16(2 * i, true))
    : kind === 'bf16' ? (i) => { BF[0] = dv.getUint16(2 * i, true) << 16; return BF_F[0]; }
    : kind === 'f64' ? (i) => dv.getFloat64(8 * i, true)
    : kind === 'i32' ? (i) => dv.getInt32(4 * i, true)
    : (i) => {
      const v = dv.getBigInt64(8 * i, true);
      if (v < -2147483648n || v > 2147483647n) fail(`tensor '${name}': int64 value ${v} does not fit in int32`);
      return Number(v);
    };
  const rank = t.size.length;
  let contiguous = true;
  for (let i = rank - 1, s = 1; i >= 0; i--) { if (t.size[i] !== 1 && t.stride[i] !== s) contiguous = false; s *= t.size[i]; }
  if (contiguous && (kind === 'f32' || kind === 'i32') && LITTLE_ENDIAN_HOST) {
    new Uint8Array(out.buffer).set(src.subarray(4 * t.offset, 4 * (t.offset + n)));
  } else if (contiguous) {
    for (let i = 0; i < n; i++) out[i] = read(t.offset + i);
  } else {
    const idx = new Array<number>(rank).fill(0);
    let at = t.offset;
    for (let i = 0; i < n; i++) {
      out[i] = read(at);
      for (let d = rank - 1; d >= 0; d--) {
        if (++idx[d] < t.size[d]) { at += t.stride[d]; break; }
        at -= (t.size[d] - 1) * t.stride[d];
        idx[d] = 0;
      }
    }
  }
  return isInt
    ? { dtype: 'i32', shape: [...t.size], data: out as Int32Array }
    : { dtype: 'f32', shape: [...t.size], data: out as Float32Array };
}
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const BF = new Uint32Array(1);
const BF_F = new Float32Array(BF.buffer);
