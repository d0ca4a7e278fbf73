// The benchmark suite: `npm run bench -- [--json FILE] [--filter S] [--reps N] [--passes N] [--device webgpu|cpu] [--peers]`.
// Prints a table; --json writes [{ name, device, ms, gflops?, gbps?, tokensPerSec?, spread? }]. Each
// entry is timed as dispatch → read back (matmul) or device sync (bandwidth ops), median of --reps after
// warm-up, repeated --passes times (median reported, spread = max/min of pass medians: lavapipe is noisy).
// --peers runs the same matmul workloads with TF.js WebGPU in this process, so claims are same-run ratios.

import { writeFileSync } from 'node:fs';
import type { Device } from '../src/tensor/device.js';
import { CpuDevice } from '../src/tensor/cpu.js';
import { nodeDevice, closeNodeDevice } from '../src/node/device.js';
import { type Tensor, tensor, tidy } from '../src/tensor/tensor.js';
import * as ops from '../src/tensor/ops.js';
import * as nn from '../src/tensor/nnops.js';
import { electraSmallWorkload, layerWorkload } from './layer.bench.js';
import { type BenchArgs, type BenchRecord, median, parseArgs, printTable, timeIt } from './util.js';
import type { MatmulWorkload } from './peers.js';

interface Workload {
  name: string;
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
  ...[256, 512, 1024].map((s) => ({ name: `matmul-${s}`, m: s, n: s, k: s, transA: false, transB: false })),
];
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
  layerWorkload(1),
  layerWorkload(12),
  electraSmallWorkload,
];

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
 * Times a workload over --passes passes. With a peer runner (TF.js, same workload), each pass times ours
 * then the peer's back to back, so load changes on the shared machine hit both alike; the records then
 * carry the per-pass ratio peer/ours (median and range), which is the number to quote.
 */
async function measure(dev: Device, w: Workload, a: BenchArgs, peer?: { run: () => Promise<unknown>; dispose: () => void }): Promise<BenchRecord[]> {
  const { run, dispose } = w.setup(dev);
  const ms: number[] = [], pms: number[] = [];
  for (let i = 0; i < a.passes; i++) {
    ms.push((await timeIt(run, a.reps, i === 0 ? a.warmup : 1)).ms);
    if (peer) pms.push((await timeIt(peer.run, a.reps, i === 0 ? a.warmup : 1)).ms);
  }
  dispose();
  peer?.dispose();
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
  if (!peer) return [ours];
  const ratios = ms.map((t, i) => pms[i] / t);
  ours.peerRatio = median(ratios);
  ours.peerRatioRange = [Math.min(...ratios), Math.max(...ratios)];
  return [ours, record('tfjs-webgpu', pms)];
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const dev: Device = a.device === 'cpu' ? new CpuDevice() : await nodeDevice();
  console.log(`device: ${dev.name}; reps ${a.reps} after ${a.warmup} warm-up, ${a.passes} pass(es)`);
  const rows: BenchRecord[] = [];
  // With --peers, each matmul workload is measured for us and then for TF.js right after, so both see
  // the same machine load (lavapipe shares the CPU with everything else).
  let peer: typeof import('./peers.js') | null = null;
  if (a.peers) {
    try {
      peer = await import('./peers.js');
      await peer.loadTfjs();
    } catch (e) {
      console.log(`peers: TF.js WebGPU could not run: ${(e as Error).stack ?? e}`);
      peer = null;
    }
  }
  for (const w of workloads) {
    if (!w.name.includes(a.filter)) continue;
    if (a.device === 'cpu' && ((w.flops ?? 0) > 2 * 512 ** 3 || w.tokens)) continue; // the CPU reference is too slow
    const mw = matmulWorkloads.find((m) => m.name === w.name);
    const recs = await measure(dev, w, a, peer && mw ? await peer.tfjsMatmulRunner(mw) : undefined);
    rows.push(...recs);
    let line = `  ${w.name}: ${recs[0].ms.toFixed(1)} ms`;
    if (recs[1]) line += `, tfjs ${recs[1].ms.toFixed(1)} ms (per-pass ratio ×${recs[0].peerRatio!.toFixed(2)}, ×${recs[0].peerRatioRange![0].toFixed(2)}–${recs[0].peerRatioRange![1].toFixed(2)})`;
    const layers = /^layer-x(\d+)-step$/.exec(w.name);
    if (peer && layers) {
      const { tfjsLayerStep } = await import('./peers/tfjs-layer.js');
      const t = await tfjsLayerStep({ layers: Number(layers[1]), batch: 8, seq: 128, reps: a.reps, warmup: a.warmup });
      const ms = median(t.msPerStep);
      rows.push({ name: w.name, device: 'tfjs-webgpu', ms, tokensPerSec: t.tokensPerSec });
      line += `, tfjs ${ms.toFixed(1)} ms`;
    }
    console.log(line);
  }
  // Same-run ratios against the peer.
  const ratios = rows.filter((r) => r.device === 'webgpu').map((r) => {
    const p = rows.find((q) => q.device === 'tfjs-webgpu' && q.name === r.name);
    if (!p) return null;
    return r.peerRatio ? `${r.name} ×${r.peerRatio.toFixed(2)} [${r.peerRatioRange![0].toFixed(2)}–${r.peerRatioRange![1].toFixed(2)}]` : `${r.name} ×${(p.ms / r.ms).toFixed(2)}`;
  }).filter(Boolean);
  console.log('');
  printTable([...rows.filter((r) => r.device !== 'tfjs-webgpu'), ...rows.filter((r) => r.device === 'tfjs-webgpu')]);
  if (ratios.length) console.log(`\nspeed-up over tfjs-webgpu (same run; matmul: median [range] of per-pass ratios, passes alternate): ${ratios.join(', ')}`);
  if (a.json) writeFileSync(a.json, JSON.stringify(rows, null, 2) + '\n');
  if (dev.kind === 'webgpu') await closeNodeDevice();
  process.exit(0);
}

await main();
