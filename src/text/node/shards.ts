// Node-only shard files: atomic writes, validated reads, and a BatchReader over a list of shard files
// (headers are read and checked up front; payloads are loaded, checksummed and cached on demand).

import { openSync, readSync, closeSync, readFileSync, fstatSync } from 'node:fs';
import { decodeShard, decodeShardHeader, checkMeta, encodeShard, SHARD_HEADER_BYTES, ShardError, type Shard, type ShardMeta } from '../shard.js';
import { BatchReader, type BatchReaderOptions, type ShardSource } from '../stream.js';
import type { Example } from '../examples.js';
import { vocabHash } from '../vocab.js';
import type { WordPieceTokenizer } from '../wordpiece.js';
import { writeFileAtomic } from './files.js';

export function writeShardFile(path: string, examples: readonly Example[], meta: ShardMeta): void {
  writeFileAtomic(path, encodeShard(examples, meta));
}

export function readShardFile(path: string, expect?: Partial<ShardMeta>): Shard {
  let bytes: Uint8Array;
  try { bytes = readFileSync(path); } catch (e) { throw new ShardError(`${path}: cannot read shard (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`); }
  return decodeShard(bytes, path, expect);
}

/** What the shards must match: the tokenizer's vocabulary (and optionally a sequence length). */
export function shardExpectation(tok: WordPieceTokenizer, seqLen?: number): Partial<ShardMeta> {
  return { vocabHash: vocabHash(tok.tokens), vocabSize: tok.vocabSize, seqLen };
}

/** A ShardSource over files; every header is validated now (same vocabulary, one sequence length). */
export function openShardFiles(files: readonly string[], expect: Partial<ShardMeta> = {}): ShardSource {
  if (files.length === 0) throw new ShardError('no shard files given');
  const counts: number[] = [];
  let seqLen = expect.seqLen;
  for (const f of files) {
    const head = new Uint8Array(SHARD_HEADER_BYTES);
    let fd = -1, n = 0, size = 0;
    try { fd = openSync(f, 'r'); size = fstatSync(fd).size; n = readSync(fd, head, 0, SHARD_HEADER_BYTES, 0); } catch (e) {
      throw new ShardError(`${f}: cannot read shard (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    } finally { if (fd >= 0) closeSync(fd); }
    const h = decodeShardHeader(head.subarray(0, n), f);
    checkMeta(h, f, { ...expect, seqLen });
    if (size !== h.byteLength) throw new ShardError(`${f}: truncated shard (${size} bytes, header says ${h.byteLength})`);
    seqLen = h.seqLen;
    expect = { ...expect, vocabHash: h.vocabHash, vocabSize: h.vocabSize };
    counts.push(h.count);
  }
  const meta = { ...expect, seqLen };
  return { counts, seqLen: seqLen!, load: async (i) => readShardFile(files[i], meta) };
}

/** Batches from shard files, checked against the tokenizer's vocabulary. */
export function openBatchReader(files: readonly string[], tok: WordPieceTokenizer, o: BatchReaderOptions): BatchReader {
  return new BatchReader(openShardFiles(files, shardExpectation(tok)), o);
}
