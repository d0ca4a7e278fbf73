// Gathers a bench/gpu/run.sh output folder into one summary: the GPU, our step's tokens/s against the
// PyTorch peer's (ratioVsTorchFp32 = ours ÷ PyTorch fp32 eager with full logits), matmul TFLOP/s against
// PyTorch's, the same-run peer ratios, and the hottest kernels. Writes <dir>/<gpu>-<date>-summary.json.
//   node build/bench/gpu/summarize.js DIR

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
if (!dir) throw new Error('usage: summarize.js DIR (the output folder of bench/gpu/run.sh)');
const json = (f: string): Record<string, unknown> | null => (existsSync(join(dir, f)) ? JSON.parse(readFileSync(join(dir, f), 'utf8')) : null);
const lines = (f: string): Record<string, unknown>[] => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)) : []);

const adapter = lines('adapter.log')[0] ?? {};
const gpuName = String(adapter.description ?? adapter.device ?? 'unknown-gpu');
const slug = gpuName.toLowerCase().replace(/nvidia|geforce/g, '').replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'gpu';
const date = new Date().toISOString().slice(0, 10);
const tps = (r: Record<string, unknown> | null) => (r ? Number(r.tokensPerSec) : NaN);
const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : null);

const ours = { v8192: json('step-ours-v8192.json'), v30522: json('step-ours-v30522.json'), v8192f16: json('step-ours-v8192-f16.json') };
const torch = {
  fp32: json('step-torch-v8192-fp32.json'), fp32Gather: json('step-torch-v8192-fp32-gather.json'),
  tf32: json('step-torch-v8192-tf32.json'), bf16: json('step-torch-v8192-bf16.json'), v30522fp32: json('step-torch-v30522-fp32.json'),
};
const strip = (r: Record<string, unknown> | null) => (r ? Object.fromEntries(Object.entries(r).filter(([k]) => !k.startsWith('profile'))) : null);
const mm: Record<string, Record<string, number>> = {};
for (const r of [...lines('matmul-ours.log'), ...lines('matmul-ours-f16.log'), ...lines('matmul-torch.log')]) (mm[String(r.size)] ??= {})[String(r.engine)] = Number(r.gflops) / 1000;
const summary = {
  gpu: gpuName, date, dawnFeatures: adapter.features,
  step: {
    shapes: 'ELECTRA-Small, batch 128 × 128',
    ours: { v8192: strip(ours.v8192), v30522: strip(ours.v30522), v8192f16: strip(ours.v8192f16) },
    torch: Object.fromEntries(Object.entries(torch).map(([k, v]) => [k, strip(v)])),
    ratioVsTorchFp32: ratio(tps(ours.v8192), tps(torch.fp32)),
    ratioVsTorchFp32Gather: ratio(tps(ours.v8192), tps(torch.fp32Gather)),
    ratioVsTorchTf32: ratio(tps(ours.v8192), tps(torch.tf32)),
    ratioVsTorchBf16: ratio(tps(ours.v8192), tps(torch.bf16)),
    ratioVsTorchFp32V30522: ratio(tps(ours.v30522), tps(torch.v30522fp32)),
    f16RatioVsTorchFp32: ratio(tps(ours.v8192f16), tps(torch.fp32)),
    f16RatioVsTorchBf16: ratio(tps(ours.v8192f16), tps(torch.bf16)),
    f16RatioVsTorchTf32: ratio(tps(ours.v8192f16), tps(torch.tf32)),
  },
  matmulTflops: mm,
  peers: { matmul1024: json('peers-matmul-1024.json'), layerX12: json('peers-layer-x12.json') },
  profileTop: (ours.v8192?.profileByKernel as { top?: unknown[] } | undefined)?.top?.slice(0, 12) ?? null,
  stages: existsSync(join(dir, 'stages.txt')) ? readFileSync(join(dir, 'stages.txt'), 'utf8').trim().split('\n') : [],
};
const file = join(dir, `${slug}-${date}-summary.json`);
writeFileSync(file, JSON.stringify(summary, null, 2) + '\n');
console.log(`${file}\n${JSON.stringify({ gpu: gpuName, ratioVsTorchFp32: summary.step.ratioVsTorchFp32, matmulTflops: mm })}`);
