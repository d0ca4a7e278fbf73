// Kernel lab for the fused families: forward + backward time of each fused op against the same math
// composed from primitive ops, on the WebGPU device, at the issue's shapes. Validation lives in
// test/kernels/*; this only times. Run: node scripts/build.mjs && node build/bench/kernels/fused.bench.js
import { nodeDevice } from '../../src/node/device.js';
import { Tensor, tensor, tidy } from '../../src/tensor/tensor.js';
import * as o from '../../src/tensor/ops.js';
import * as nn from '../../src/tensor/nnops.js';
import { rand } from '../../test/helpers.js';

const dev = await nodeDevice();

/** Median wall time (ms) of fn + sync over reps, after one warm-up (pipeline compilation). */
async function time(fn: () => void, reps = 5): Promise<number> {
  fn(); await dev.sync();
  const ts: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn(); await dev.sync();
    ts.push(performance.now() - t0);
  }
  return ts.sort((a, b) => a - b)[reps >> 1];
}

/** forward, Σ y·w, backward; frees everything (gradients included). */
function step(leaves: Tensor[], f: () => Tensor): () => void {
  return () => tidy(() => {
    const y = f();
    o.sum(o.mul(y, o.fill(y.shape, 0.5, 'f32', dev))).backward();
    for (const l of leaves) { l.grad?.dispose(); l.grad = null; }
  });
}

const f32 = (shape: number[], seed: number, lo = -1, hi = 1) => tensor(rand(shape.reduce((a, b) => a * b, 1), seed, lo, hi), shape, { device: dev });

async function row(name: string, leaves: Tensor[], fused: () => Tensor, composed: () => Tensor): Promise<void> {
  const a = await time(step(leaves, fused)), b = await time(step(leaves, composed));
  console.log(`${name.padEnd(44)} fused ${a.toFixed(1).padStart(7)} ms   composed ${b.toFixed(1).padStart(7)} ms   ×${(b / a).toFixed(1)}`);
}

console.log(`device: ${dev.name}`);
{
  const [B, H, T] = [8, 4, 128];
  const x = f32([B, H, T, T], 1, -3, 3).param();
  const m = tensor(Array.from({ length: B * T }, (_, i) => (i % T < T - 7 * (i / T | 0) ? 1 : 0)), [B, T], { device: dev });
  await row(`softmax [${B}, ${H}, ${T}, ${T}] masked`, [x], () => nn.softmax(x, { mask: m, scale: 0.125 }), () => {
    const v = o.add(o.muls(x, 0.125), o.reshape(o.muls(o.adds(m, -1), 10000), [B, 1, 1, T]));
    const e = o.exp(o.sub(v, o.max(v, -1, true)));
    return o.div(e, o.sum(e, -1, true));
  });
}
for (const C of [128, 256, 1024]) {
  const x = f32([1024, C], 2).param(), w = f32([C], 3).param(), b = f32([C], 4).param();
  await row(`layerNorm [1024, ${C}]`, [x, w, b], () => nn.layerNorm(x, w, b), () => {
    const xc = o.sub(x, o.mean(x, -1, true));
    return o.add(o.mul(o.div(xc, o.sqrt(o.adds(o.mean(o.square(xc), -1, true), 1e-12))), w), b);
  });
}
{
  const [N, V] = [256, 30522];
  const x = f32([N, V], 5, -4, 4).param();
  const t = tensor(Int32Array.from(rand(N, 6, 0, V), Math.floor), [N], { device: dev });
  const oh = o.cast(o.eq(o.expand(o.reshape(o.cast(t, 'f32'), [N, 1]), [N, V]), tensor(Float32Array.from({ length: V }, (_, i) => i), [V], { device: dev })), 'f32');
  await row(`softmaxCrossEntropy [${N}, ${V}]`, [x], () => nn.softmaxCrossEntropy(x, t), () => o.neg(o.sum(o.mul(nn.logSoftmax(x), oh), -1)));
}
{
  const [N, V, E] = [16384, 30522, 128];
  const table = f32([V, E], 7).param();
  const ids = tensor(Int32Array.from(rand(N, 8, 0, 1), (u) => Math.floor(V * u ** 4)), [N], { device: dev });
  // The composition is a one-hot matmul: [N, V] one-hot is 2 GB at this size, so time the fused op alone.
  const a = await time(step([table], () => nn.embedding(ids, table)));
  console.log(`${`embedding [${N}] from [${V}, ${E}]`.padEnd(44)} fused ${a.toFixed(1).padStart(7)} ms   (fill of dTable 15.6 MB included)`);
}
process.exit(0);
