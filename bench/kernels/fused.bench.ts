// Kernel lab for the fused families: each fused forward and backward alone (GB/s of its minimum
// traffic: every input read once, every output written once), and fused forward + backward against
// the same math composed from primitive ops. Validation lives in test/kernels/*; this only times.
// Standalone: node scripts/build.mjs && node build/bench/kernels/fused.bench.js
// From a bench runner: `fusedBench(device)` returns { name, device, ms, gbps? } records.
import { pathToFileURL } from 'node:url';
import type { Device } from '../../src/device/device.js';
import { Tensor, tensor, tidy } from '../../src/tensor/tensor.js';
import * as o from '../../src/tensor/ops.js';
import * as nn from '../../src/tensor/nnops.js';
import { noGrad } from '../../src/autograd/tape.js';
import { rand } from '../../test/helpers.js';

export interface BenchRecord { name: string; device: string; ms: number; gbps?: number }

export async function fusedBench(dev: Device, log = (s: string) => console.log(s)): Promise<BenchRecord[]> {
  const out: BenchRecord[] = [];

  /** Median wall time (ms) of fn + sync over reps, after one warm-up (pipeline compilation). */
  async function time(fn: () => unknown, reps = 5): Promise<number> {
    tidy(() => { fn(); }); await dev.sync();
    const ts: number[] = [];
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      tidy(() => { fn(); }); await dev.sync();
      ts.push(performance.now() - t0);
    }
    return ts.sort((a, b) => a - b)[reps >> 1];
  }
  async function kernel(name: string, floats: number, fn: () => unknown): Promise<void> {
    const ms = await time(() => noGrad(fn));
    const gbps = (floats * 4) / (ms * 1e6);
    out.push({ name, device: dev.name, ms, gbps });
    log(`${name.padEnd(46)} ${ms.toFixed(1).padStart(8)} ms ${gbps.toFixed(2).padStart(7)} GB/s`);
  }
  /** forward, Σ y·½, backward; frees everything (gradients included). */
  function step(leaves: Tensor[], f: () => Tensor): () => void {
    return () => {
      const y = f();
      o.sum(o.muls(y, 0.5)).backward();
      for (const l of leaves) { l.grad?.dispose(); l.grad = null; }
    };
  }
  async function versus(name: string, leaves: Tensor[], fused: () => Tensor, composed: () => Tensor): Promise<void> {
    const a = await time(step(leaves, fused)), b = await time(step(leaves, composed));
    out.push({ name: `${name} fwd+bwd fused`, device: dev.name, ms: a }, { name: `${name} fwd+bwd composed`, device: dev.name, ms: b });
    log(`${`${name} fwd+bwd`.padEnd(46)} fused ${a.toFixed(1).padStart(7)} ms   composed ${b.toFixed(1).padStart(7)} ms   ×${(b / a).toFixed(1)}`);
  }
  const f32 = (shape: number[], seed: number, lo = -1, hi = 1) => tensor(rand(shape.reduce((a, b) => a * b, 1), seed, lo, hi), shape, { device: dev });

  log(`device: ${dev.name}`);
  {
    const [B, H, T] = [8, 4, 128], n = B * H * T * T;
    const x = f32([B, H, T, T], 1, -3, 3), dy = f32([B, H, T, T], 2);
    const m = tensor(Array.from({ length: B * T }, (_, i) => (i % T < T - 7 * ((i / T) | 0) ? 1 : 0)), [B, T], { device: dev });
    await kernel(`softmax [${B}, ${H}, ${T}, ${T}] masked fwd`, 2 * n, () => nn.softmax(x, { mask: m, scale: 0.125 }));
    await kernel(`softmax [${B}, ${H}, ${T}, ${T}] bwd`, 3 * n, () => nn.softmaxBackward(x, dy, 0.125, false));
    x.requiresGrad = true;
    await versus(`softmax [${B}, ${H}, ${T}, ${T}] masked`, [x], () => nn.softmax(x, { mask: m, scale: 0.125 }), () => {
      const v = o.add(o.muls(x, 0.125), o.reshape(o.muls(o.adds(m, -1), 10000), [B, 1, 1, T]));
      const e = o.exp(o.sub(v, o.max(v, -1, true)));
      return o.div(e, o.sum(e, -1, true));
    });
  }
  for (const C of [128, 256, 1024]) {
    const R = 1024, n = R * C;
    const x = f32([R, C], 2), w = f32([C], 3), b = f32([C], 4), dy = f32([R, C], 5);
    const mean = f32([R], 6), rstd = f32([R], 7, 0.5, 2);
    await kernel(`layerNorm [${R}, ${C}] fwd`, 2 * n, () => nn.layerNorm(x, w, b));
    await kernel(`layerNorm [${R}, ${C}] bwd`, 3 * n, () => nn.layerNormBackward(x, w, mean, rstd, dy));
    for (const t of [x, w, b]) t.requiresGrad = true;
    await versus(`layerNorm [${R}, ${C}]`, [x, w, b], () => nn.layerNorm(x, w, b), () => {
      const xc = o.sub(x, o.mean(x, -1, true));
      return o.add(o.mul(o.div(xc, o.sqrt(o.adds(o.mean(o.square(xc), -1, true), 1e-12))), w), b);
    });
  }
  {
    const [N, V] = [256, 30522];
    const x = f32([N, V], 5, -4, 4);
    const t = tensor(Int32Array.from(rand(N, 6, 0, V), Math.floor), [N], { device: dev });
    await kernel(`softmaxCrossEntropy [${N}, ${V}] fwd`, N * V, () => nn.softmaxCrossEntropy(x, t));
    x.requiresGrad = true;
    const oh = o.cast(o.eq(o.expand(o.reshape(o.cast(t, 'f32'), [N, 1]), [N, V]), tensor(Float32Array.from({ length: V }, (_, i) => i), [V], { device: dev })), 'f32');
    await versus(`softmaxCrossEntropy [${N}, ${V}]`, [x], () => nn.softmaxCrossEntropy(x, t), () => o.neg(o.sum(o.mul(nn.logSoftmax(x), oh), -1)));
  }
  {
    const [N, V, E] = [16384, 30522, 128];
    const table = f32([V, E], 7), dy = f32([N, E], 8);
    const ids = tensor(Int32Array.from(rand(N, 8, 0, 1), (u) => Math.floor(V * u ** 4)), [N], { device: dev });
    await kernel(`embedding [${N}] from [${V}, ${E}] fwd`, 2 * N * E, () => nn.embedding(ids, table));
    // Minimum traffic of the backward: write the dense dTable, read dY once.
    await kernel(`embedding [${N}] from [${V}, ${E}] bwd`, V * E + N * E, () => nn.embeddingBackward(ids, dy, V));
  }
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { nodeDevice } = await import('../../src/node/device.js');
  await fusedBench(await nodeDevice());
  process.exit(0);
}
