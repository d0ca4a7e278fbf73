// Streaming batches of pre-training examples from shards: infinite epochs, each with its own shard order and
// a shuffle buffer (as tf.data's shuffle), deterministic for a seed, resumable from a saved position.
// The order of epoch e is a pure function of (seed, e, per-shard example counts), so resuming at position p
// recomputes epoch ⌊p / N⌋'s order (integers only, no shard reads) and continues at p mod N.
// Shards are loaded on demand through a ShardSource (files in Node, fetch in a browser), a few kept cached.

import { Rng } from './random.js';
import { shardExample, type Shard } from './shard.js';

export interface ShardSource {
  /** Example count of each shard (from the headers). */
  readonly counts: readonly number[];
  /** Longest example; batches are padded to it. */
  readonly seqLen: number;
  /** Loads and validates shard i. */
  load(i: number): Promise<Shard>;
}

/** Resume with the same shards, seed and shuffle buffer; the batch size may change. */
export interface ReaderState {
  seed: number;
  /** Examples consumed since the start (epoch = ⌊position / examples per epoch⌋). */
  position: number;
}

export interface BatchReaderOptions {
  batchSize: number;
  seed?: number;
  /** Shuffle buffer size in examples (default 10000; 1 keeps each shard's order). */
  shuffleBuffer?: number;
  /** Resume here (a saved `state.position`). */
  position?: number;
  /** Shards kept in memory (default: enough for the shuffle buffer's window, at least 4). */
  cacheShards?: number;
}

/** Flat row-major [batchSize, seqLen] arrays, ready to upload. */
export interface Batch {
  batchSize: number;
  seqLen: number;
  inputIds: Int32Array;
  tokenTypeIds: Int32Array;
  attentionMask: Int32Array;
  /** Epoch of the first example in the batch. */
  epoch: number;
  /** Reader position after this batch (save it to resume). */
  position: number;
}

/** The example order of one epoch: global example indices (shard-major), shard order and shuffle seeded. */
export function epochOrder(counts: readonly number[], seed: number, epoch: number, shuffleBuffer: number): { order: Int32Array; shardOrder: number[] } {
  const rng = new Rng(seed, epoch, 0x5eed);
  const prefix = [0];
  for (const c of counts) prefix.push(prefix[prefix.length - 1] + c);
  const shardOrder = counts.map((_, i) => i);
  for (let i = shardOrder.length - 1; i > 0; i--) {
    const j = Math.floor(rng.random() * (i + 1));
    [shardOrder[i], shardOrder[j]] = [shardOrder[j], shardOrder[i]];
  }
  const total = prefix[prefix.length - 1];
  const order = new Int32Array(total);
  const K = Math.max(1, shuffleBuffer);
  const buf: number[] = [];
  let n = 0;
  for (const s of shardOrder) {
    for (let j = 0; j < counts[s]; j++) {
      const g = prefix[s] + j;
      if (buf.length < K) { buf.push(g); continue; }
      const r = Math.floor(rng.random() * K);
      order[n++] = buf[r];
      buf[r] = g;
    }
  }
  while (buf.length > 0) {
    const r = Math.floor(rng.random() * buf.length);
    order[n++] = buf[r];
    buf[r] = buf[buf.length - 1];
    buf.pop();
  }
  return { order, shardOrder };
}

export class BatchReader {
  readonly batchSize: number;
  readonly seed: number;
  readonly examplesPerEpoch: number;
  private position: number;
  private readonly shuffleBuffer: number;
  private readonly cacheSize: number;
  private readonly prefix: number[] = [0];
  private epoch = -1;
  private order: Int32Array = new Int32Array(0);
  private shardOrder: number[] = [];
  private shardRank: number[] = [];
  private readonly cache = new Map<number, Promise<Shard>>();

  constructor(private readonly source: ShardSource, o: BatchReaderOptions) {
    if (!(o.batchSize >= 1)) throw new Error(`BatchReader: batchSize must be at least 1, got ${o.batchSize}`);
    for (const c of source.counts) this.prefix.push(this.prefix[this.prefix.length - 1] + c);
    this.examplesPerEpoch = this.prefix[this.prefix.length - 1];
    if (this.examplesPerEpoch === 0) throw new Error('BatchReader: the shards hold no examples');
    this.batchSize = o.batchSize;
    this.seed = o.seed ?? 0;
    this.shuffleBuffer = o.shuffleBuffer ?? 10000;
    // The shuffle buffer draws from about K / (examples per shard) + 1 shards at once; keep those resident.
    const perShard = this.examplesPerEpoch / source.counts.length;
    this.cacheSize = Math.max(2, o.cacheShards ?? Math.max(4, Math.ceil(this.shuffleBuffer / perShard) + 2));
    this.position = o.position ?? 0;
  }

  /** What to save to resume exactly here. */
  get state(): ReaderState { return { seed: this.seed, position: this.position }; }

  private shardOf(g: number): number {
    let lo = 0, hi = this.prefix.length - 2;
    while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (this.prefix[mid] <= g) lo = mid; else hi = mid - 1; }
    return lo;
  }

  private load(s: number): Promise<Shard> {
    let p = this.cache.get(s);
    if (p) { this.cache.delete(s); this.cache.set(s, p); return p; } // LRU: most recent last
    p = this.source.load(s);
    p.catch(() => this.cache.delete(s));
    this.cache.set(s, p);
    while (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value as number);
    return p;
  }

  /** The next batch; the stream never ends (epochs follow one another). */
  async next(): Promise<Batch> {
    const B = this.batchSize, T = this.source.seqLen;
    const batch: Batch = {
      batchSize: B, seqLen: T, inputIds: new Int32Array(B * T), tokenTypeIds: new Int32Array(B * T),
      attentionMask: new Int32Array(B * T), epoch: Math.floor(this.position / this.examplesPerEpoch), position: 0,
    };
    for (let r = 0; r < B; r++) {
      const epoch = Math.floor(this.position / this.examplesPerEpoch);
      if (epoch !== this.epoch) {
        ({ order: this.order, shardOrder: this.shardOrder } = epochOrder(this.source.counts, this.seed, epoch, this.shuffleBuffer));
        this.shardOrder.forEach((s, k) => { this.shardRank[s] = k; });
        this.epoch = epoch;
      }
      const g = this.order[this.position % this.examplesPerEpoch];
      const s = this.shardOf(g);
      const shard = await this.load(s);
      // Prefetch the shard that follows in this epoch's order.
      const k = this.shardRank[s];
      if (k + 1 < this.shardOrder.length && !this.cache.has(this.shardOrder[k + 1])) void this.load(this.shardOrder[k + 1]).catch(() => {});
      const { ids, firstSegEnd } = shardExample(shard, g - this.prefix[s]);
      const at = r * T;
      batch.inputIds.set(ids, at);
      for (let i = 0; i < ids.length; i++) { batch.attentionMask[at + i] = 1; if (i >= firstSegEnd) batch.tokenTypeIds[at + i] = 1; }
      this.position++;
    }
    batch.position = this.position;
    return batch;
  }
}
