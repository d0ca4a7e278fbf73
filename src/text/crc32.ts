// CRC-32 (IEEE 802.3, as zlib, zip and PNG), slicing-by-8: eight bytes per step, about 4× a byte-wise table
// loop. The one implementation: data shards (text/) and zip entries of PyTorch checkpoints (electra/formats/,
// which may import this floor-1 file) both use it. Plain data, Node and browsers.

let TABLES: Uint32Array[] | null = null;

function tables(): Uint32Array[] {
  if (TABLES) return TABLES;
  const t0 = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t0[n] = c >>> 0;
  }
  TABLES = [t0];
  for (let k = 1; k < 8; k++) {
    const prev = TABLES[k - 1], t = new Uint32Array(256);
    for (let n = 0; n < 256; n++) t[n] = (prev[n] >>> 8) ^ t0[prev[n] & 0xff];
    TABLES.push(t);
  }
  return TABLES;
}

/** CRC-32 of `data`, continuing from `crc` (pass a previous result to checksum in pieces). */
export function crc32(data: Uint8Array, crc = 0): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = tables();
  let c = ~crc >>> 0;
  let i = 0;
  const n8 = data.length - (data.length % 8);
  for (; i < n8; i += 8) {
    const a = c ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24));
    c = t7[a & 0xff] ^ t6[(a >>> 8) & 0xff] ^ t5[(a >>> 16) & 0xff] ^ t4[a >>> 24] ^
      t3[data[i + 4]] ^ t2[data[i + 5]] ^ t1[data[i + 6]] ^ t0[data[i + 7]];
  }
  for (; i < data.length; i++) c = t0[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
