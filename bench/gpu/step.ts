// The ELECTRA pre-training step at GPU scale, timed the way the PyTorch peer times itself
// (bench/peers/torch_step.py): warm-up steps, then N steps recorded back to back with one sync at the end
// (the loss of the last step read back), ms per step and tokens/s; optionally a per-kernel GPU profile
// of one more step. Prints one JSON line and writes it with --json.
//   node build/bench/gpu/step.js [--preset small] [--batch 128] [--vocab 8192] [--steps 20] [--warmup 3]
//                                [--precision f32|f16] [--profile] [--json OUT] [--device webgpu|census]
// --precision f16: f16 matmul operands (tensor cores where the adapter has them) and dynamic loss scaling.
// With --device census nothing runs: it prints the launch census of one step (kernels, workgroups, bytes).

import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CensusDevice, H200_CAPS } from '../../src/device/census.js';
import type { Device } from '../../src/device/device.js';
import { presetConfig } from '../../src/electra/model/config.js';
import { createElectraPair, disposeStep, electraStep, pairModules } from '../../src/electra/model/pretrain.js';
import { HostRng } from '../../src/nn/init.js';
import { countParameters, disposeModule, namedParameters } from '../../src/nn/module.js';
import { AdamW } from '../../src/nn/optim.js';
import { closeNodeDevice, nodeDevice } from '../../src/node/device.js';
import { Rng } from '../../src/tensor/random.js';
import type { WebGPUDevice } from '../../src/device/webgpu.js';
import { setPrecision } from '../../src/tensor/tensor.js';

const { values: v } = parseArgs({
  options: {
    preset: { type: 'string', default: 'small' }, batch: { type: 'string', default: '128' }, vocab: { type: 'string', default: '8192' },
    steps: { type: 'string', default: '20' }, warmup: { type: 'string', default: '3' }, profile: { type: 'boolean', default: false },
    json: { type: 'string' }, device: { type: 'string', default: 'webgpu' }, precision: { type: 'string', default: 'f32' },
  },
});
const B = Number(v.batch), T = 128, V = Number(v.vocab), steps = Number(v.steps), warmup = Number(v.warmup);
const census = v.device === 'census';
const precision = v.precision === 'f16' ? 'f16' : 'f32';
const device: Device = census ? new CensusDevice(precision === 'f16' ? { ...H200_CAPS, f16: true, subgroupMatrix: [{ M: 16, N: 16, K: 16 }] } : H200_CAPS) : await nodeDevice({ precision });
setPrecision(precision);
const cfg = { ...presetConfig(v.preset!), vocabSize: V };
const pair = createElectraPair(cfg, 'electra', 0, device);
const opt = new AdamW(namedParameters(pairModules(pair)), { lr: 5e-4, eps: 1e-6, weightDecay: 0.01, maxGradNorm: 1, lossScaling: precision === 'f16' ? {} : undefined });
const host = new HostRng(3);
const ids = new Int32Array(B * T);
for (let i = 0; i < B * T; i++) ids[i] = i % T === 0 ? 101 : i % T === T - 1 ? 102 : 200 + Math.floor(host.uniform() * (V - 200));
const batch = { B, T, inputIds: ids, tokenTypeIds: new Int32Array(B * T), attentionMask: new Int32Array(B * T).fill(1) };
const so = { maskProb: 0.15, discWeight: 50, genWeight: 1, temperature: 1, objective: 'electra' as const, special: { pad: 0, cls: 101, sep: 102, mask: 103 }, lossScale: opt.lossScale };
const rng = new Rng(5);
let i = 0;
/** One step (forward, backward, AdamW); its outputs are kept only when asked (to read the loss). */
const step = (keep: boolean) => {
  const r = electraStep(pair, batch, so, new HostRng(i++), rng, device, true);
  opt.step(5e-4, { loss: r.loss });
  opt.zeroGrad();
  if (keep) return r;
  disposeStep(r);
  return null;
};
const lossOf = async (r: ReturnType<typeof step>) => { const l = await r!.loss.item(); disposeStep(r!); return l; };

if (census) {
  const d = device as CensusDevice;
  step(false);
  const by = new Map<string, { count: number; workgroups: number; bytes: number; minWg: number }>();
  for (const x of d.dispatches) {
    const e = by.get(x.kernel) ?? { count: 0, workgroups: 0, bytes: 0, minWg: Infinity };
    e.count++; e.workgroups += x.workgroups; e.bytes += x.bytes; e.minWg = Math.min(e.minWg, x.workgroups);
    by.set(x.kernel, e);
  }
  console.log(`census of one ${v.preset} step, batch ${B} × ${T}, vocab ${V}, ${d.dispatches.length} dispatches (H200 capabilities):`);
  for (const [k, e] of [...by].sort((a, b) => b[1].bytes - a[1].bytes)) {
    console.log(`  ${k.padEnd(22)} ${String(e.count).padStart(5)}×  workgroups ${String(e.workgroups).padStart(8)} (min ${e.minWg})  bound ${(e.bytes / 2 ** 20).toFixed(0).padStart(6)} MB`);
  }
  process.exit(0);
}

for (let w = 0; w < warmup; w++) await lossOf(step(true));
const t0 = performance.now();
let last: ReturnType<typeof step> = null;
for (let s = 0; s < steps; s++) last = step(s === steps - 1);
const loss = await lossOf(last);
const ms = (performance.now() - t0) / steps;
const health = await opt.health();
const res: Record<string, unknown> = {
  engine: 'electra-webgpu', device: device.name, precision, tensorCores: !!device.caps?.subgroupMatrix?.length && precision === 'f16',
  preset: v.preset, batch: B, seq: T, vocab: V, steps, ms, tokensPerSec: (B * T) / ms * 1000,
  params: countParameters(pairModules(pair)), loss, finite: health.ok, ...(opt.lossScale ? { scaling: await opt.scaling() } : {}),
};
if (v.profile) {
  const gd = device as WebGPUDevice;
  for (const byLabel of [false, true]) {
    gd.profile(true, { byLabel });
    await lossOf(step(true));
    const totals = [...(await gd.profile(false)).entries()].sort((a, b) => b[1].ms - a[1].ms);
    const all = totals.reduce((sum, [, t]) => sum + t.ms, 0);
    res[byLabel ? 'profileByLabel' : 'profileByKernel'] = { totalMs: all, top: totals.slice(0, byLabel ? 40 : 30).map(([k, t]) => ({ k, ms: t.ms, count: t.count })) };
    console.error(`\nGPU ms by ${byLabel ? 'kernel | op' : 'kernel'} (profiled total ${all.toFixed(1)} ms; one pass per dispatch, so above the wall time)`);
    for (const [k, t] of totals.slice(0, byLabel ? 40 : 30)) console.error(`${t.ms.toFixed(2).padStart(9)} ms ${(100 * t.ms / all).toFixed(1).padStart(5)}% ${String(t.count).padStart(6)}×  ${k}`);
  }
}
console.log(JSON.stringify(res));
if (v.json) writeFileSync(v.json, JSON.stringify(res, null, 2) + '\n');
opt.dispose();
disposeModule(pairModules(pair));
await closeNodeDevice();
process.exit(0);
