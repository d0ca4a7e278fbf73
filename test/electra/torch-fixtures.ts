// Hand-made checkpoint bytes for the tests: stored-entry zip archives (zip64 optional) and protocol-2 pickles of
// state dicts written opcode by opcode as torch.save does, so views, storages and archive records can be bent
// in ways torch itself would never write.

import { crc32 } from '../../src/text/crc32.js';

export const bytes = (str: string) => Uint8Array.from(str, (c) => c.charCodeAt(0));
export const le64 = (n: number) => { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, BigInt(n), true); return b; };
export const cat = (...parts: Uint8Array[]) => { const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0)); let o = 0; for (const p of parts) { out.set(p, o); o += p.length; } return out; };
export const f32bytes = (xs: number[]) => new Uint8Array(Float32Array.from(xs).buffer);

/** A zip of stored entries, optionally with zip64 end records and zip64 extras for every entry. */
export function makeZip(entries: [string, Uint8Array][], zip64 = false): Uint8Array {
  const enc = new TextEncoder();
  const locals: Uint8Array[] = [], centrals: Uint8Array[] = [];
  let off = 0;
  for (const [name, data] of entries) {
    const nb = enc.encode(name), crc = crc32(data);
    const lh = new Uint8Array(30 + nb.length); const l = new DataView(lh.buffer);
    l.setUint32(0, 0x04034b50, true); l.setUint16(4, 20, true); l.setUint32(14, crc, true);
    l.setUint32(18, data.length, true); l.setUint32(22, data.length, true); l.setUint16(26, nb.length, true); lh.set(nb, 30);
    const extra = zip64 ? 28 : 0;
    const ch = new Uint8Array(46 + nb.length + extra); const c = new DataView(ch.buffer);
    c.setUint32(0, 0x02014b50, true); c.setUint16(4, 20, true); c.setUint16(6, 20, true); c.setUint32(16, crc, true);
    c.setUint32(20, zip64 ? 0xffffffff : data.length, true); c.setUint32(24, zip64 ? 0xffffffff : data.length, true);
    c.setUint16(28, nb.length, true); c.setUint16(30, extra, true); c.setUint32(42, zip64 ? 0xffffffff : off, true); ch.set(nb, 46);
    if (zip64) {
      const e = 46 + nb.length;
      c.setUint16(e, 1, true); c.setUint16(e + 2, 24, true);
      c.setBigUint64(e + 4, BigInt(data.length), true); c.setBigUint64(e + 12, BigInt(data.length), true); c.setBigUint64(e + 20, BigInt(off), true);
    }
    locals.push(lh, data); centrals.push(ch); off += lh.length + data.length;
  }
  const cd = cat(...centrals);
  const tail: Uint8Array[] = [];
  const eocd = new Uint8Array(22); const e = new DataView(eocd.buffer);
  e.setUint32(0, 0x06054b50, true);
  if (zip64) {
    const rec = new Uint8Array(56); const r = new DataView(rec.buffer);
    r.setUint32(0, 0x06064b50, true); r.setBigUint64(4, 44n, true);
    r.setBigUint64(24, BigInt(entries.length), true); r.setBigUint64(32, BigInt(entries.length), true);
    r.setBigUint64(40, BigInt(cd.length), true); r.setBigUint64(48, BigInt(off), true);
    const loc = new Uint8Array(20); const lc = new DataView(loc.buffer);
    lc.setUint32(0, 0x07064b50, true); lc.setBigUint64(8, BigInt(off + cd.length), true); lc.setUint32(16, 1, true);
    tail.push(rec, loc);
    e.setUint16(8, 0xffff, true); e.setUint16(10, 0xffff, true); e.setUint32(12, 0xffffffff, true); e.setUint32(16, 0xffffffff, true);
  } else {
    e.setUint16(8, entries.length, true); e.setUint16(10, entries.length, true); e.setUint32(12, cd.length, true); e.setUint32(16, off, true);
  }
  return cat(...locals, cd, ...tail, eocd);
}

/** A protocol-2 pickle of an OrderedDict of _rebuild_tensor_v2 calls, opcode by opcode (as torch writes it). */
export interface PickledTensor { name: string; storage?: string; key?: string; numel: number; offset: number; size: number[]; stride: number[] }
export function pickleStateDict(ts: PickledTensor[]): Uint8Array {
  const out: number[] = [0x80, 2];
  const raw = (str: string) => { for (const ch of str) out.push(ch.charCodeAt(0)); };
  const uni = (str: string) => { const b = new TextEncoder().encode(str); out.push(0x58, ...new Uint8Array(new Uint32Array([b.length]).buffer), ...b); };
  const int = (n: number) => { out.push(0x4a, ...new Uint8Array(new Int32Array([n]).buffer)); };
  const odict = () => { raw('ccollections\nOrderedDict\n'); out.push(0x29, 0x52); };
  odict();
  out.push(0x28);
  for (const t of ts) {
    uni(t.name);
    raw('ctorch._utils\n_rebuild_tensor_v2\n');
    out.push(0x28, 0x28);
    uni('storage'); raw(`ctorch\n${t.storage ?? 'FloatStorage'}\n`); uni(t.key ?? '0'); uni('cpu'); int(t.numel);
    out.push(0x74, 0x51);
    int(t.offset);
    out.push(0x28); t.size.forEach(int); out.push(0x74);
    out.push(0x28); t.stride.forEach(int); out.push(0x74);
    out.push(0x89); odict();
    out.push(0x74, 0x52);
  }
  out.push(0x75, 0x2e);
  return Uint8Array.from(out);
}

/** A torch.save-style zip (`archive/data.pkl` + one storage per tensor) of contiguous f32 tensors. */
export function torchZip(tensors: Iterable<[string, { shape: readonly number[]; data: Float32Array }]>): Uint8Array {
  const pickled: PickledTensor[] = [], entries: [string, Uint8Array][] = [];
  let k = 0;
  for (const [name, t] of tensors) {
    const key = String(k++);
    const size = [...t.shape], stride = size.map((_, i) => size.slice(i + 1).reduce((a, b) => a * b, 1));
    pickled.push({ name, key, numel: t.data.length, offset: 0, size, stride });
    entries.push([`archive/data/${key}`, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)]);
  }
  return makeZip([['archive/data.pkl', pickleStateDict(pickled)], ...entries]);
}
