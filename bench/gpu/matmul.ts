// Our f32 matmul at large square sizes: products recorded back to back with one sync per batch of reps
// (no readback in the timed region, as bench/peers/torch_matmul.py times PyTorch), the median of three
// batches; correctness spot-checked against a float64 dot on 64 entries. One JSON line per size.
//   node build/bench/gpu/matmul.js [--f16] [sizes…]   (default 1024 2048 4096; --f16: f16 operands, f32 accumulation)

import { closeNodeDevice, nodeDevice } from '../../src/node/device.js';
import { matmul } from '../../src/tensor/ops.js';
import { setPrecision, tensor } from '../../src/tensor/tensor.js';

function rnd(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const o = new Float32Array(n);
  for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; o[i] = (s / 4294967296) * 2 - 1; }
  return o;
}

const f16 = process.argv.includes('--f16');
const sizes = process.argv.slice(2).map(Number).filter(Boolean);
const dev = await nodeDevice({ precision: f16 ? 'f16' : 'f32' });
setPrecision(f16 ? 'f16' : 'f32');
console.error(`device: ${dev.name} caps ${JSON.stringify(dev.caps)}`);
for (const n of sizes.length ? sizes : [1024, 2048, 4096]) {
  const A = rnd(n * n, 1), B = rnd(n * n, 2);
  const a = tensor(A, [n, n], { device: dev }), b = tensor(B, [n, n], { device: dev });
  const y0 = matmul(a, b);
  const d = await y0.data();
  y0.dispose();
  let err = 0, ref = 0;
  for (let t = 0; t < 64; t++) {
    const i = (t * 7919) % n, j = (t * 104729) % n;
    let s = 0;
    for (let k = 0; k < n; k++) s += A[i * n + k] * B[k * n + j];
    err = Math.max(err, Math.abs(s - d[i * n + j])); ref = Math.max(ref, Math.abs(s));
  }
  const reps = n >= 4096 ? 20 : 50;
  for (let w = 0; w < 3; w++) matmul(a, b).dispose();
  await dev.sync();
  const times: number[] = [];
  for (let p = 0; p < 3; p++) {
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) matmul(a, b).dispose();
    await dev.sync();
    times.push((performance.now() - t0) / reps);
  }
  const ms = times.sort((x, y) => x - y)[1];
  console.log(JSON.stringify({ engine: f16 ? 'ours-webgpu-f16' : 'ours-webgpu', size: n, ms, gflops: (2 * n ** 3) / ms / 1e6, relErr: err / ref, tensorCores: f16 && !!dev.caps.subgroupMatrix?.length }));
  a.dispose(); b.dispose();
}
await closeNodeDevice();
process.exit(0);
