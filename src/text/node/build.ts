// Builds pre-training shards from documents with worker threads: the corpus is cut into chunks of about
// `chunkChars` characters at document boundaries, chunk i becomes shard-0000i.bin with seed words [seed, i]
// (so the output does not depend on the number of workers), each written atomically as it completes.
// The output directory also gets vocab.txt and manifest.json (written last: a directory with a manifest is
// complete). Progress reports characters done, examples/s and an ETA.

import { Worker } from 'node:worker_threads';
import { cpus } from 'node:os';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { documentsToText, type Document } from '../corpus.js';
import { buildShardFromText } from '../pipeline.js';
import { formatVocabTxt, vocabHash } from '../vocab.js';
import type { WordPieceTokenizer } from '../wordpiece.js';
import { writeFileAtomic } from './files.js';
import type { WorkerReply, WorkerRequest } from './build-worker.js';

export interface BuildProgress { chars: number; totalChars: number; examples: number; shardsDone: number; shards: number; examplesPerSec: number; etaSec: number }

export interface BuildShardsOptions {
  outDir: string;
  seqLen: number;
  seed?: number;
  /** Characters of text per shard (default 4e6). */
  chunkChars?: number;
  /** Worker threads (default: CPU count, at most the number of shards; 0 builds in this thread). */
  workers?: number;
  onProgress?: (p: BuildProgress) => void;
}

export interface Manifest {
  format: 'electra-webgpu shards v1';
  vocabHash: string; vocabSize: number; seqLen: number; seed: number;
  examples: number; tokens: number;
  shards: Array<{ file: string; examples: number; tokens: number; bytes: number }>;
}

/** Cuts documents into chunks of roughly `chunkChars` characters, never inside a document. */
export function chunkDocuments(docs: readonly Document[], chunkChars: number): string[] {
  const chunks: string[] = [];
  let cur: Document[] = [], size = 0;
  for (const d of docs) {
    cur.push(d);
    size += d.reduce((n, s) => n + s.length + 1, 1);
    if (size >= chunkChars) { chunks.push(documentsToText(cur)); cur = []; size = 0; }
  }
  if (cur.length) chunks.push(documentsToText(cur));
  return chunks;
}

export async function buildShards(docs: readonly Document[], tok: WordPieceTokenizer, o: BuildShardsOptions): Promise<Manifest> {
  const seed = o.seed ?? 0;
  const chunks = chunkDocuments(docs, o.chunkChars ?? 4e6);
  if (chunks.length === 0) throw new Error('build-data: the corpus has no text');
  mkdirSync(o.outDir, { recursive: true });
  const totalChars = chunks.reduce((n, c) => n + c.length, 0);
  const shardFile = (i: number) => `shard-${String(i).padStart(5, '0')}.bin`;
  const results: Manifest['shards'] = new Array(chunks.length);
  const t0 = performance.now();
  let chars = 0, examples = 0, done = 0;
  const report = () => {
    if (!o.onProgress) return;
    const sec = (performance.now() - t0) / 1000;
    const rate = chars / Math.max(sec, 1e-3);
    o.onProgress({ chars, totalChars, examples, shardsDone: done, shards: chunks.length, examplesPerSec: examples / Math.max(sec, 1e-3), etaSec: (totalChars - chars) / Math.max(rate, 1) });
  };
  const finish = (index: number, bytes: Uint8Array, n: number, tokens: number) => {
    writeFileAtomic(join(o.outDir, shardFile(index)), bytes);
    results[index] = { file: shardFile(index), examples: n, tokens, bytes: bytes.length };
    examples += n; done++;
    report();
  };

  const nWorkers = Math.min(o.workers ?? cpus().length, chunks.length);
  if (nWorkers <= 0) {
    chunks.forEach((text, i) => {
      const r = buildShardFromText(tok, text, o.seqLen, seed, i, (c) => { chars += c; });
      finish(i, r.bytes, r.examples, r.tokens);
    });
  } else {
    await new Promise<void>((resolve, reject) => {
      let next = 0, failed = false;
      const workers: Worker[] = [];
      const stop = (err: Error) => { if (failed) return; failed = true; for (const w of workers) void w.terminate(); reject(err); };
      const feed = (w: Worker) => {
        if (next < chunks.length) { const i = next++; w.postMessage({ type: 'task', index: i, text: chunks[i] } satisfies WorkerRequest); }
        else void w.terminate();
      };
      for (let k = 0; k < nWorkers; k++) {
        const w = new Worker(new URL('./build-worker.js', import.meta.url));
        workers.push(w);
        w.on('error', (e) => stop(e));
        w.on('message', (m: WorkerReply) => {
          if (m.type === 'progress') { chars += m.chars; examples += m.examples; if (m.chars) report(); return; }
          if (m.type === 'error') { stop(new Error(`build-data: shard ${m.index}: ${m.message}`)); return; }
          try { finish(m.index, m.bytes, m.examples, m.tokens); } catch (e) { stop(e as Error); return; }
          if (done === chunks.length) { for (const x of workers) void x.terminate(); resolve(); } else feed(w);
        });
        w.postMessage({ type: 'init', tokens: [...tok.tokens], options: tok.options, seqLen: o.seqLen, seed } satisfies WorkerRequest);
        feed(w);
      }
    });
  }
  const manifest: Manifest = {
    format: 'electra-webgpu shards v1', vocabHash: vocabHash(tok.tokens), vocabSize: tok.vocabSize, seqLen: o.seqLen, seed,
    examples, tokens: results.reduce((n, r) => n + r.tokens, 0), shards: results,
  };
  writeFileAtomic(join(o.outDir, 'vocab.txt'), formatVocabTxt(tok.tokens));
  writeFileAtomic(join(o.outDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}
