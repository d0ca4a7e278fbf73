// `node build/bench/profile.js [--filter electra-small-step] [--warmup 1] [--by kernel|label|both]`: runs one
// (electra-small-b128-v8192 is the GPU-sized step; bench/gpu/step.js --profile times it as the PyTorch peer does)
// step workload of bench/layer.bench.ts with WebGPU timestamp profiling on and prints GPU ms per kernel
// (and per kernel + op label). Every dispatch then gets its own compute pass, so totals carry per-pass
// overhead and exceed the unprofiled wall clock; use it to rank hot kernels, not as the benchmark.
// Also prints the programs/pipelines the profiled step created (0 after warm-up = no cache churn).

import { nodeDevice, closeNodeDevice } from '../src/node/device.js';
import { electraSmallB128, electraSmallWorkload, layerWorkload } from './layer.bench.js';

const args = process.argv.slice(2);
const opt = (k: string, d: string) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : d; };
const filter = opt('--filter', 'electra-small-step'), warmup = Number(opt('--warmup', '1')), by = opt('--by', 'both');
const all = [layerWorkload(1), layerWorkload(12), electraSmallWorkload, ...electraSmallB128];
const w = all.find((x) => x.name === filter);
if (!w) throw new Error(`profile: no step workload named ${filter} (${all.map((x) => x.name).join(', ')})`);
const dev = await nodeDevice();
const { run, dispose } = w.setup(dev);
for (let i = 0; i < warmup; i++) await run();
const t0 = performance.now();
await run();
const wall = performance.now() - t0;
const before = { ...dev.stats };
const show = async (byLabel: boolean) => {
  dev.profile(true, { byLabel });
  await run();
  const totals = [...(await dev.profile(false)).entries()].sort((a, b) => b[1].ms - a[1].ms);
  const all = totals.reduce((s, [, v]) => s + v.ms, 0);
  console.log(`\n${w.name}: GPU ms by ${byLabel ? 'kernel | op' : 'kernel'} (profiled total ${all.toFixed(0)} ms)`);
  for (const [k, v] of totals.slice(0, byLabel ? 40 : 100)) {
    console.log(`  ${v.ms.toFixed(1).padStart(9)} ms ${(100 * v.ms / all).toFixed(1).padStart(5)}% ${String(v.count).padStart(6)}×  ${k}`);
  }
};
console.log(`${w.name}: unprofiled wall ${wall.toFixed(0)} ms`);
if (by !== 'label') await show(false);
if (by !== 'kernel') await show(true);
const after = dev.stats;
console.log(`\nnew pipelines during the profiled steps: ${after.pipelinesCreated - before.pipelinesCreated}, bind groups: ${after.bindGroupsCreated - before.bindGroupsCreated}, scratch textures: ${after.texturesCreated - before.texturesCreated} (${after.texturesCreated} in all)`);
dispose();
await closeNodeDevice();
process.exit(0);
