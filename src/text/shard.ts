// Binary shards of pre-training examples: encode to bytes and decode with full validation. Pure (no file
// system): src/text/node/shards.ts writes them atomically and reads them. Little-endian throughout.
//
// Layout (version 1):
//   0  magic "EWGSHARD"          8 bytes
//   8  version u32 = 1           12 header bytes u32 = 64
//   16 vocab hash, 16 hex digits as 8 bytes (see vocabHash)
//   24 vocab size u32            28 sequence length u32 (examples are at most this long)
//   32 example count u32         36 bytes per token id u32 (2: uint16 when the vocabulary fits, else 4)
//   40 total tokens u32          44 CRC-32 of the payload      48 CRC-32 of bytes 0..47     52..63 zero
//   64 payload: offsets u32[count + 1] (token offset of each example), firstSegEnd u16[count] (tokens with
//      segment id 0), zero padding to a multiple of 4, then the token ids (uint16 or uint32).

import { crc32 } from './crc32.js';
import type { Example } from './examples.js';

export const SHARD_MAGIC = 'EWGSHARD';
export const SHARD_VERSION = 1;
export const SHARD_HEADER_BYTES = 64;

export class ShardError extends Error {
  override name = 'ShardError';
}

export interface ShardMeta {
  vocabHash: string;
  vocabSize: number;
  seqLen: number;
}

export interface ShardHeader extends ShardMeta {
  count: number;
  idBytes: 2 | 4;
  totalTokens: number;
  payloadCrc: number;
  /** Total file size the header implies. */
  byteLength: number;
}

/** A decoded shard: views into one buffer, no copies. */
export interface Shard {
  header: ShardHeader;
  offsets: Uint32Array;
  firstSegEnd: Uint16Array;
  tokens: Uint16Array | Uint32Array;
}

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('shard.ts: big-endian platforms are not supported');

const align4 = (n: number) => (n + 3) & ~3;

function layout(count: number, totalTokens: number, idBytes: number) {
  const offsetsAt = SHARD_HEADER_BYTES;
  const segAt = offsetsAt + 4 * (count + 1);
  const tokensAt = align4(segAt + 2 * count);
  return { offsetsAt, segAt, tokensAt, end: tokensAt + idBytes * totalTokens };
}

/** Serializes examples; ids must be < vocabSize and examples at most seqLen long. */
export function encodeShard(examples: readonly Example[], meta: ShardMeta): Uint8Array {
  if (!/^[0-9a-f]{16}$/.test(meta.vocabHash)) throw new ShardError(`encodeShard: vocab hash must be 16 hex digits, got ${JSON.stringify(meta.vocabHash)}`);
  const idBytes = meta.vocabSize <= 65536 ? 2 : 4;
  const count = examples.length;
  let total = 0;
  for (const e of examples) {
    if (e.ids.length > meta.seqLen) throw new ShardError(`encodeShard: example of ${e.ids.length} tokens exceeds sequence length ${meta.seqLen}`);
    total += e.ids.length;
  }
  const L = layout(count, total, idBytes);
  const bytes = new Uint8Array(L.end);
  const offsets = new Uint32Array(bytes.buffer, L.offsetsAt, count + 1);
  const seg = new Uint16Array(bytes.buffer, L.segAt, count);
  const tokens = idBytes === 2 ? new Uint16Array(bytes.buffer, L.tokensAt, total) : new Uint32Array(bytes.buffer, L.tokensAt, total);
  let at = 0;
  examples.forEach((e, i) => {
    offsets[i] = at;
    seg[i] = e.firstSegEnd;
    for (const id of e.ids) {
      if (!(id >= 0 && id < meta.vocabSize)) throw new ShardError(`encodeShard: token id ${id} is outside the vocabulary (size ${meta.vocabSize})`);
      tokens[at++] = id;
    }
  });
  offsets[count] = at;
  const dv = new DataView(bytes.buffer);
  for (let i = 0; i < 8; i++) bytes[i] = SHARD_MAGIC.charCodeAt(i);
  dv.setUint32(8, SHARD_VERSION, true);
  dv.setUint32(12, SHARD_HEADER_BYTES, true);
  for (let i = 0; i < 8; i++) bytes[16 + i] = parseInt(meta.vocabHash.slice(2 * i, 2 * i + 2), 16);
  dv.setUint32(24, meta.vocabSize, true);
  dv.setUint32(28, meta.seqLen, true);
  dv.setUint32(32, count, true);
  dv.setUint32(36, idBytes, true);
  dv.setUint32(40, total, true);
  dv.setUint32(44, crc32(bytes.subarray(SHARD_HEADER_BYTES)), true);
  dv.setUint32(48, crc32(bytes.subarray(0, 48)), true);
  return bytes;
}

/** Parses and checks the 64-byte header (enough bytes for it must be given); `where` names the file in errors. */
export function decodeShardHeader(bytes: Uint8Array, where: string): ShardHeader {
  if (bytes.length < SHARD_HEADER_BYTES) throw new ShardError(`${where}: truncated shard (${bytes.length} bytes, the header alone is ${SHARD_HEADER_BYTES})`);
  for (let i = 0; i < 8; i++) if (bytes[i] !== SHARD_MAGIC.charCodeAt(i)) throw new ShardError(`${where}: not a data shard (bad magic)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, SHARD_HEADER_BYTES);
  if (dv.getUint32(48, true) !== crc32(bytes.subarray(0, 48))) throw new ShardError(`${where}: shard header is corrupted (checksum mismatch)`);
  const version = dv.getUint32(8, true);
  if (version !== SHARD_VERSION) throw new ShardError(`${where}: shard format version ${version} is not supported (expected ${SHARD_VERSION})`);
  let vocabHash = '';
  for (let i = 0; i < 8; i++) vocabHash += bytes[16 + i].toString(16).padStart(2, '0');
  const idBytes = dv.getUint32(36, true);
  if (idBytes !== 2 && idBytes !== 4) throw new ShardError(`${where}: bad token width ${idBytes}`);
  const count = dv.getUint32(32, true), totalTokens = dv.getUint32(40, true);
  return {
    vocabHash, vocabSize: dv.getUint32(24, true), seqLen: dv.getUint32(28, true), count, idBytes, totalTokens,
    payloadCrc: dv.getUint32(44, true), byteLength: layout(count, totalTokens, idBytes).end,
  };
}

/**
 * Decodes and fully validates a shard: size, checksums, structure, and (when `expect` is given) that it was
 * built with the same vocabulary and sequence length.
 */
export function decodeShard(bytes: Uint8Array, where: string, expect?: Partial<ShardMeta>): Shard {
  const h = decodeShardHeader(bytes, where);
  checkMeta(h, where, expect);
  if (bytes.length < h.byteLength) throw new ShardError(`${where}: truncated shard (${bytes.length} bytes, header says ${h.byteLength})`);
  if (bytes.length > h.byteLength) throw new ShardError(`${where}: ${bytes.length - h.byteLength} unexpected trailing bytes after the shard`);
  if (crc32(bytes.subarray(SHARD_HEADER_BYTES)) !== h.payloadCrc) throw new ShardError(`${where}: shard data is corrupted (checksum mismatch)`);
  // Views need aligned offsets; copy once if the caller's buffer is not 4-byte aligned.
  if (bytes.byteOffset % 4 !== 0) bytes = bytes.slice();
  const L = layout(h.count, h.totalTokens, h.idBytes);
  const offsets = new Uint32Array(bytes.buffer, bytes.byteOffset + L.offsetsAt, h.count + 1);
  const firstSegEnd = new Uint16Array(bytes.buffer, bytes.byteOffset + L.segAt, h.count);
  const tokens = h.idBytes === 2
    ? new Uint16Array(bytes.buffer, bytes.byteOffset + L.tokensAt, h.totalTokens)
    : new Uint32Array(bytes.buffer, bytes.byteOffset + L.tokensAt, h.totalTokens);
  for (let i = 0; i < h.count; i++) {
    const len = offsets[i + 1] - offsets[i];
    if (offsets[i + 1] < offsets[i] || len > h.seqLen || firstSegEnd[i] > len) throw new ShardError(`${where}: example ${i} is malformed`);
  }
  if (offsets[0] !== 0 || offsets[h.count] !== h.totalTokens) throw new ShardError(`${where}: example offsets do not cover the tokens`);
  return { header: h, offsets, firstSegEnd, tokens };
}

export function checkMeta(h: ShardHeader, where: string, expect?: Partial<ShardMeta>): void {
  if (expect?.vocabHash !== undefined && h.vocabHash !== expect.vocabHash) {
    throw new ShardError(`${where}: shard was built with another vocabulary (hash ${h.vocabHash}, expected ${expect.vocabHash})`);
  }
  if (expect?.vocabSize !== undefined && h.vocabSize !== expect.vocabSize) {
    throw new ShardError(`${where}: shard vocabulary size ${h.vocabSize} differs from ${expect.vocabSize}`);
  }
  if (expect?.seqLen !== undefined && h.seqLen !== expect.seqLen) {
    throw new ShardError(`${where}: shard sequence length ${h.seqLen} differs from ${expect.seqLen}`);
  }
}

/** Example i of a shard as [CLS] A [SEP] (B [SEP]) ids and its segment split. */
export function shardExample(s: Shard, i: number): { ids: Uint16Array | Uint32Array; firstSegEnd: number } {
  return { ids: s.tokens.subarray(s.offsets[i], s.offsets[i + 1]), firstSegEnd: s.firstSegEnd[i] };
}
