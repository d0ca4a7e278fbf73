// Worker thread of the shard builder (build.ts): builds one shard per task message and posts the bytes back
// (transferred, not copied), with progress every ~256 kB of text.
import { parentPort } from 'node:worker_threads';
import { WordPieceTokenizer, type TokenizerOptions } from '../wordpiece.js';
import { buildShardFromText } from '../pipeline.js';

export type WorkerRequest =
  | { type: 'init'; tokens: string[]; options: Partial<TokenizerOptions>; seqLen: number; seed: number }
  | { type: 'task'; index: number; text: string };
export type WorkerReply =
  | { type: 'progress'; index: number; chars: number; examples: number }
  | { type: 'done'; index: number; bytes: Uint8Array; examples: number; tokens: number }
  | { type: 'error'; index: number; message: string };

let tok: WordPieceTokenizer | null = null;
let seqLen = 0, seed = 0;
const port = parentPort!;
port.on('message', (m: WorkerRequest) => {
  if (m.type === 'init') { tok = new WordPieceTokenizer(m.tokens, m.options); seqLen = m.seqLen; seed = m.seed; return; }
  try {
    let pending = 0, reported = 0;
    const r = buildShardFromText(tok!, m.text, seqLen, seed, m.index, (chars, examples) => {
      pending += chars;
      if (pending > 262144) { port.postMessage({ type: 'progress', index: m.index, chars: pending, examples: examples - reported } satisfies WorkerReply); pending = 0; reported = examples; }
    });
    if (pending) port.postMessage({ type: 'progress', index: m.index, chars: pending, examples: 0 } satisfies WorkerReply);
    // The 'done' message carries the shard's full count; retract what progress already reported.
    if (reported) port.postMessage({ type: 'progress', index: m.index, chars: 0, examples: -reported } satisfies WorkerReply);
    port.postMessage({ type: 'done', index: m.index, bytes: r.bytes, examples: r.examples, tokens: r.tokens } satisfies WorkerReply, [r.bytes.buffer as ArrayBuffer]);
  } catch (e) {
    port.postMessage({ type: 'error', index: m.index, message: (e as Error).message } satisfies WorkerReply);
  }
});
