// The benchmark suite: `npm run bench -- [--json FILE] [--filter S] [--reps N] [--passes N] [--device webgpu|cpu] [--peers]`.
// GPU-sized workloads (matmul 2048/4096, the ELECTRA-Small step at batch 128) run on hardware adapters only,
// unless --filter names one exactly.
// Prints a table; --json writes [{ name, device, ms, gflops?, gbps?, tokensPerSec?, spread? }]. Each
// entry is timed as dispatch → read back (matmul) or device sync (bandwidth ops), median of --reps after
// warm-up, repeated --passes times (median reported, spread = max/min of pass medians: lavapipe is noisy).
// --peers runs the same matmul and layer-step workloads with TF.js WebGPU and jax-js WebGPU (dev-only peers) in this
// process, pass by pass after ours, so claims are same-run ratios; "best peer" is the faster peer of each pass.

import { writeFileSync } from 'node:fs';
import type { Device } from '../src/device/device.js';
import { CpuDevice } from '../src/device/cpu.js';
import { nodeDevice, closeNodeDevice } from '../src/node/device.js';
import { type Tensor, tensor, tidy } from '../src/tensor/tensor.js';
import * as ops from '../src/tensor/ops.js';
import * as nn from '../src/tensor/nnops.js';
import { Rng } from '../src/tensor/random.js';
import { composedAttention } from '../test/kernels/fused.js';
import { electraSmallB128, electraSmallWorkload, layerWorkload } from './layer.bench.js';
import { type BenchArgs, type BenchRecord, median, parseArgs, printTable, timeIt } from './util.js';
import type { MatmulWorkload } from './peers.js';

interface Workload {
  name: string;
  /** Sized for a real GPU: skipped on software adapters and the CPU unless --filter names it exactly. */
  gpuScale?: boolean;
  flops?: number;
  /** Bytes moved by one run (read + written), for GB/s. */
  bytes?: number;
  tokens?: number;
  /** Builds inputs on the device; returns one run (ending in a read back or sync) and a cleanup. */
  setup(dev: Device): { run: () => Promise<unknown>; dispose: () => void };
}

function rnd(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; out[i] = (s / 4294967296) * 2 - 1; }
  return out;
}

// ---- matmul: square sizes and the ELECTRA-small GEMMs (B·T = 1024 tokens, hidden 256, FFN 1024) ----

export const matmulWorkloads: MatmulWorkload[] = [
  ...[256, 512, 1024, 2048, 4096].map((s) => ({ name: `matmul-${s}`, m: s, n: s, k: s, transA: false, transB: false })),
];
const GPU_SCALE = new Set(['matmul-2048', 'matmul-4096', ...electraSmallB128.map((w) => w.name)]);
// [M×K]·[K×N] forward (NN); dA = dC·Bᵀ (NT: M×N · (K×N)ᵀ); dB = Aᵀ·dC (TN: (M×K)ᵀ · M×N, K = M = B·T).
for (const [m, k, n] of [[1024, 256, 1024], [1024, 1024, 256], [1024, 256, 256]]) {
  matmulWorkloads.push({ name: `gemm-fwd-${m}x${k}x${n}`, m, n, k, transA: false, transB: false });
  matmulWorkloads.push({ name: `gemm-dA-${m}x${k}x${n}`, m, n: k, k: n, transA: false, transB: true });
  matmulWorkloads.push({ name: `gemm-dB-${m}x${k}x${n}`, m: k, n, k: m, transA: true, transB: false });
}

const matmulBench = (w: MatmulWorkload): Workload => ({
  name: w.name,
  flops: 2 * w.m * w.n * w.k,
  setup(dev) {
    const a = tensor(rnd(w.m * w.k, 1), w.transA ? [w.k, w.m] : [w.m, w.k], { device: dev });
    const b = tensor(rnd(w.k * w.n, 2), w.transB ? [w.n, w.k] : [w.k, w.n], { device: dev });
    return {
      run: async () => { const y = ops.matmul(a, b, { transA: w.transA, transB: w.transB }); const d = await y.data(); y.dispose(); return d; },
      dispose: () => { a.dispose(); b.dispose(); },
    };
  },
});

// ---- bandwidth ops: [B·T, FFN] = 1024 × 1024 activations ----

/** A unary op timed with a device sync (no read back): bytes = read n + write n floats. */
const unaryBench = (name: string, n: number, f: (x: Tensor) => Tensor): Workload => ({
  name, bytes: 8 * n,
  setup(dev) {
    const x = tensor(rnd(n, 3), [n / 1024, 1024], { device: dev });
    return { run: async () => { const y = f(x); await dev.sync(); y.dispose(); }, dispose: () => x.dispose() };
  },
});

export const workloads: Workload[] = [
  ...matmulWorkloads.map(matmulBench),
  unaryBench('gelu-1M', 1 << 20, (x) => ops.gelu(x)),
  // Attention probabilities of ELECTRA-small: [8 batch, 4 heads, 128, 128] with a key-padding mask.
  rowBench('softmax-fwd+bwd', [8, 4, 128, 128], (x, dev) => {
    const mask = tensor(Float32Array.from({ length: 8 * 128 }, (_, i) => (i % 128 < 112 ? 1 : 0)), [8, 128], { device: dev });
    return { f: (t) => nn.softmax(t, { mask, scale: 0.125 }), dispose: () => mask.dispose() };
  }),
  rowBench('layernorm-fwd+bwd', [1024, 256], (_x, dev) => {
    const w = tensor(rnd(256, 5), [256], { device: dev }).param(), b = tensor(rnd(256, 6), [256], { device: dev }).param();
    return { f: (t) => nn.layerNorm(t, w, b), dispose: () => { w.dispose(); b.dispose(); } };
  }),
  ...[128, 512].flatMap((T) => [attentionBench(T, 'fused'), attentionBench(T, 'composed')]),
  layerWorkload(1),
  layerWorkload(12),
  electraSmallWorkload,
  ...electraSmallB128,
].map((w) => (GPU_SCALE.has(w.name) ? { ...w, gpuScale: true } : w));

/**
 * A fused row op timed forward + backward (grad of sum(y · w), w fixed), synced. bytes: forward reads x
 * and writes y; backward reads y (or x), dy and writes dx: ≈ 5 passes over the tensor.
 */
function rowBench(name: string, shape: number[], make: (x: Tensor, dev: Device) => { f: (x: Tensor) => Tensor; dispose: () => void }): Workload {
  const n = shape.reduce((a, b) => a * b, 1);
  return {
    name, bytes: 5 * 4 * n,
    setup(dev) {
      const x = tensor(rnd(n, 3), shape, { device: dev }).param();
      const w = tensor(rnd(n, 4), shape, { device: dev });
      const { f, dispose } = make(x, dev);
      return {
        run: async () => {
          const l = tidy(() => { const l = ops.sum(ops.mul(f(x), w)); l.backward(); return l; });
          await dev.sync();
          l.dispose();
          x.grad?.dispose(); x.grad = null;
        },
        dispose: () => { x.dispose(); w.dispose(); dispose(); },
      };
    },
  };
}

/**
 * Multi-head attention alone, forward + backward (grad of Σ out·w into q, k, v), synced: ELECTRA-Small's
 * shape B 8, 4 heads of 64, T 128 (and 512), key-padding mask (odd sequences end in T/8 padding),
 * probability dropout 0.1. 'fused': nnops.attention (src/kernels/attention.ts); 'composed': the path it
 * replaced (heads split, matmul, masked softmax, dropout on [B, nh, T, T], matmul, heads merged).
 * flops: the 12·B·nh·T²·dh of the six T×T×dh products (what both compute; the fused backward also
 * recomputes the scores: 14 by FlashAttention-2's count).
 */
function attentionBench(T: number, kind: 'fused' | 'composed'): Workload {
  const B = 8, nh = 4, dh = 64, H = nh * dh;
  return {
    name: `attention-t${T}-${kind}`, flops: 12 * B * nh * T * T * dh,
    setup(dev) {
      const [q, k, v] = [1, 2, 3].map((seed) => tensor(rnd(B * T * H, seed), [B, T, H], { device: dev }).param());
      const w = tensor(rnd(B * T * H, 4), [B, T, H], { device: dev });
      const mask = tensor(Float32Array.from({ length: B * T }, (_, i) => (Math.floor(i / T) % 2 === 1 && i % T >= T - T / 8 ? 0 : 1)), [B, T], { device: dev });
      const rng = new Rng(7);
      const f = kind === 'fused'
        ? () => nn.attention(q, k, v, { heads: nh, mask, dropout: { p: 0.1, rng }, training: true })
        : () => composedAttention(q, k, v, nh, mask, 0.1, rng);
      return {
        run: async () => {
          tidy(() => { ops.sum(ops.mul(f(), w)).backward(); });
          await dev.sync();
          for (const x of [q, k, v]) { x.grad?.dispose(); x.grad = null; }
        },
        dispose: () => { for (const t of [q, k, v, w, mask]) t.dispose(); },
      };
    },
  };
}

type Runner = { run: () => Promise<unknown>; dispose: () => void };

/**
 * A peer engine: its record device, and a runner for a workload of ours (null when it has no such workload).
 * TF.js and jax-js both run on the same Dawn GPU object, in this process (bench/peers.ts, bench/peers/).
 */
interface Peer { device: string; label: string; runner(w: Workload): Promise<Runner | null> }

const layerCount = (name: string): number | null => { const m = /^layer-x(\d+)-step$/.exec(name); return m ? Number(m[1]) : null; };

/** How to start each peer and get its runners for our matmul and layer-step workloads (others: none). */
const PEER_DEFS: { device: string; label: string; name: string; load(): Promise<{
  matmul(w: MatmulWorkload): Promise<Runner>; layer(o: { layers: number; batch: number; seq: number }): Promise<Runner>;
}> }[] = [
  {
    device: 'tfjs-webgpu', label: 'tfjs', name: 'TF.js WebGPU',
    async load() {
      const p = await import('./peers.js');
      await p.loadTfjs();
      const tl = await import('./peers/tfjs-layer.js');
      return { matmul: p.tfjsMatmulRunner, layer: tl.tfjsLayerRunner };
    },
  },
  {
    device: 'jax-webgpu', label: 'jax', name: 'jax-js WebGPU',
    async load() {
      const j = await import('./peers/jax.js');
      await j.loadJax();
      return { matmul: j.jaxMatmulRunner, layer: j.jaxLayerRunner };
    },
  },
];

/** Loads the peers that start; a peer that cannot run at all is reported once and left out. */
async function loadPeers(): Promise<Peer[]> {
  const peers: Peer[] = [];
  for (const d of PEER_DEFS) {
    try {
      const r = await d.load();
      peers.push({
        device: d.device, label: d.label,
        async runner(w) {
          const mw = matmulWorkloads.find((m) => m.name === w.name), L = layerCount(w.name);
          if (mw) return r.matmul(mw);
          if (L) return r.layer({ layers: L, batch: 8, seq: 128 });
          return null;
        },
      });
    } catch (e) {
      console.log(`peers: ${d.name} could not run: ${(e as Error).stack ?? e}`);
    }
  }
  return peers;
}

/**
 * Times a workload over --passes passes. With peer runners (the same workload on TF.js, jax-js), each pass times
 * ours then each peer's back to back, so load changes on the shared machine hit all alike; our record then
 * carries, per peer and against the fastest peer of each pass ("best"), the per-pass ratio peer/ours (median
 * and range), which is the number to quote.
 */
async function measure(dev: Device, w: Workload, a: BenchArgs, peers: { peer: Peer; runner: Runner }[]): Promise<BenchRecord[]> {
  const { run, dispose } = w.setup(dev);
  const ms: number[] = [], pms: number[][] = peers.map(() => []);
  try {
    for (let i = 0; i < a.passes; i++) {
      ms.push((await timeIt(run, a.reps, i === 0 ? a.warmup : 1)).ms);
      for (const [j, p] of peers.entries()) pms[j].push((await timeIt(p.runner.run, a.reps, i === 0 ? a.warmup : 1)).ms);
    }
  } finally {
    dispose();
    for (const p of peers) p.runner.dispose();
  }
  const record = (device: string, xs: number[]): BenchRecord => {
    const m = median(xs);
    const r: BenchRecord = { name: w.name, device, ms: m };
    if (w.flops) r.gflops = w.flops / m / 1e6;
    if (w.bytes) r.gbps = w.bytes / m / 1e6;
    if (w.tokens) r.tokensPerSec = w.tokens / (m / 1000);
    if (a.passes > 1) r.spread = Math.max(...xs) / Math.min(...xs);
    return r;
  };
  const ours = record(dev.kind === 'webgpu' ? 'webgpu' : 'cpu', ms);
  if (!peers.length) return [ours];
  const ratio = (xs: number[]) => { const r = xs.map((t, i) => t / ms[i]); return { ratio: median(r), range: [Math.min(...r), Math.max(...r)] as [number, number] }; };
  ours.peerRatios = {};
  for (const [j, p] of peers.entries()) ours.peerRatios[p.peer.device] = ratio(pms[j]);
  const best = ratio(ms.map((_, i) => Math.min(...pms.map((xs) => xs[i]))));
  ours.peerRatio = best.ratio;
  ours.peerRatioRange = best.range;
  return [ours, ...peers.map((p, j) => record(p.peer.device, pms[j]))];
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const dev: Device = a.device === 'cpu' ? new CpuDevice() : await nodeDevice();
  console.log(`device: ${dev.name}; reps ${a.reps} after ${a.warmup} warm-up, ${a.passes} pass(es)`);
  const rows: BenchRecord[] = [];
  // With --peers, each workload a peer has is measured for us and then for each peer right after, pass by pass,
  // so all see the same machine load (lavapipe shares the CPU with everything else).
  const peers = a.peers ? await loadPeers() : [];
  for (const w of workloads) {
    if (!w.name.includes(a.filter)) continue;
    if (w.gpuScale && (a.device === 'cpu' || dev.caps?.software) && a.filter !== w.name) continue;
    if (a.device === 'cpu' && ((w.flops ?? 0) > 2 * 512 ** 3 || w.tokens)) continue; // the CPU reference is too slow
    const runners: { peer: Peer; runner: Runner }[] = [];
    for (const peer of peers) {
      try {
        const runner = await peer.runner(w);
        if (runner) runners.push({ peer, runner });
      } catch (e) { // a peer that cannot run a workload says why, and is left out of it (never faked)
        console.log(`  ${peer.label}: ${w.name} skipped: ${((e as Error).message ?? String(e)).split('\n')[0]}`);
      }
    }
    const recs = await measure(dev, w, a, runners);
    rows.push(...recs);
    let line = `  ${w.name}: ${recs[0].ms.toFixed(1)} ms`;
    for (const [j, { peer }] of runners.entries()) {
      const r = recs[0].peerRatios![peer.device];
      line += `, ${peer.label} ${recs[j + 1].ms.toFixed(1)} ms (×${r.ratio.toFixed(2)}, ×${r.range[0].toFixed(2)}–${r.range[1].toFixed(2)})`;
    }
    if (runners.length > 1) line += `; vs best peer ×${recs[0].peerRatio!.toFixed(2)}, ×${recs[0].peerRatioRange![0].toFixed(2)}–${recs[0].peerRatioRange![1].toFixed(2)}`;
    console.log(line);
  }
  // Same-run ratios against each peer and against the faster peer of each pass.
  const fmtR = (r: { ratio: number; range: [number, number] }) => `×${r.ratio.toFixed(2)} [${r.range[0].toFixed(2)}–${r.range[1].toFixed(2)}]`;
  const ratios = rows.filter((r) => r.peerRatios).map((r) => {
    const each = peers.filter((p) => r.peerRatios![p.device]).map((p) => `${p.label} ${fmtR(r.peerRatios![p.device])}`);
    return `${r.name}: ${each.join(', ')}${each.length > 1 ? `, best peer ${fmtR({ ratio: r.peerRatio!, range: r.peerRatioRange! })}` : ''}`;
  });
  console.log('');
  printTable([...rows.filter((r) => !peers.some((p) => p.device === r.device)), ...peers.flatMap((p) => rows.filter((r) => r.device === p.device))]);
  if (ratios.length) console.log(`\nspeed-up over the peers (same run; median [range] of per-pass ratios peer ms / our ms, passes alternate ours, ${peers.map((p) => p.label).join(', ')}):\n  ${ratios.join('\n  ')}`);
  if (a.json) writeFileSync(a.json, JSON.stringify(rows, null, 2) + '\n');
  if (dev.kind === 'webgpu') await closeNodeDevice();
  process.exit(0);
}

await main();
