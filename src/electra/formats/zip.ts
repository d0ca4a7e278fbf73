// Writes a zip archive of stored (uncompressed) entries, browser-safe: how a page hands over a model directory
// (a browser downloads one file, not a folder). Weights barely compress, and stored entries are what our
// reader (torchbin.ts: readZipDirectory, zipEntryData) and every unzip accept. Names are UTF-8 (flag bit 11);
// times are fixed (1980-01-01), so the same files give the same bytes. No zip64: an entry or an archive of
// 4 GiB or more, or more than 65,535 entries, is refused.

import { crc32 } from '../../text/crc32.js';

const LIMIT = 0xffffffff;

/** The archive of `entries` (path → contents; paths use '/', no leading '/' or '..'). */
export function zipStored(entries: Iterable<[string, Uint8Array | string]>): Uint8Array<ArrayBuffer> {
  const enc = new TextEncoder();
  const files = [...entries].map(([name, data]) => {
    if (!name || name.startsWith('/') || name.split('/').includes('..')) throw new Error(`zip: entry name ${JSON.stringify(name)} must be a relative path`);
    const bytes = typeof data === 'string' ? enc.encode(data) : data;
    if (bytes.byteLength >= LIMIT) throw new Error(`zip: entry ${name} is ${bytes.byteLength} bytes, over the 4 GiB a zip without zip64 holds`);
    return { name: enc.encode(name), bytes, crc: crc32(bytes), offset: 0 };
  });
  if (files.length > 0xffff) throw new Error(`zip: ${files.length} entries, over the 65,535 a zip without zip64 holds`);
  const localSize = files.reduce((n, f) => n + 30 + f.name.length + f.bytes.byteLength, 0);
  const centralSize = files.reduce((n, f) => n + 46 + f.name.length, 0);
  if (localSize + centralSize + 22 >= LIMIT) throw new Error('zip: the archive would reach 4 GiB, over what a zip without zip64 holds');
  const out = new Uint8Array(localSize + centralSize + 22);
  const dv = new DataView(out.buffer);
  let p = 0;
  // Fields shared by the local header (from offset 4) and the central entry (from offset 6).
  const common = (at: number, f: (typeof files)[number]) => {
    dv.setUint16(at, 20, true);              // version needed: 2.0
    dv.setUint16(at + 2, 0x0800, true);      // flags: UTF-8 names
    dv.setUint16(at + 4, 0, true);           // method: stored
    dv.setUint16(at + 6, 0, true);           // time 00:00
    dv.setUint16(at + 8, 0x21, true);        // date 1980-01-01
    dv.setUint32(at + 10, f.crc, true);
    dv.setUint32(at + 14, f.bytes.byteLength, true);
    dv.setUint32(at + 18, f.bytes.byteLength, true);
    dv.setUint16(at + 22, f.name.length, true);
  };
  for (const f of files) {
    f.offset = p;
    dv.setUint32(p, 0x04034b50, true);
    common(p + 4, f);
    out.set(f.name, p + 30);
    out.set(f.bytes, p + 30 + f.name.length);
    p += 30 + f.name.length + f.bytes.byteLength;
  }
  const cd = p;
  for (const f of files) {
    dv.setUint32(p, 0x02014b50, true);
    dv.setUint16(p + 4, 20, true);           // made by: 2.0 (MS-DOS attributes)
    common(p + 6, f);
    dv.setUint32(p + 42, f.offset, true);    // extra, comment, disk, attributes: 0
    out.set(f.name, p + 46);
    p += 46 + f.name.length;
  }
  dv.setUint32(p, 0x06054b50, true);
  dv.setUint16(p + 8, files.length, true);
  dv.setUint16(p + 10, files.length, true);
  dv.setUint32(p + 12, p - cd, true);
  dv.setUint32(p + 16, cd, true);
  return out;
}
