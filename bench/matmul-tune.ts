// Lab: per-adapter autotune for matmul. Times every candidate config (matmulCandidates, plus split-K forms
// where K is large) on representative shapes and records the fastest per shape class with setTunedMatmul
// (selectMatmul consults that table first). The default heuristics do not need it.
//   await tuneMatmul(device, [{ m: 1024, n: 1024, k: 1024 }, { m: 256, n: 256, k: 1024, transA: true }])

import type { Device } from '../src/device/device.js';
import { tensor } from '../src/tensor/tensor.js';
import { matmul } from '../src/tensor/ops.js';
import { type MatmulConfig, type MatmulParams, configName, configSupported, matmulCandidates, setTunedMatmul, shapeClass } from '../src/kernels/matmul.js';

export interface TuneShape { m: number; n: number; k: number; batch?: number; transA?: boolean; transB?: boolean }

/** Returns the chosen config per shape class (also cached for `device`); reps timed runs per candidate. */
export async function tuneMatmul(device: Device, shapes: TuneShape[], opts: { reps?: number; log?: (s: string) => void } = {}): Promise<Map<string, MatmulConfig>> {
  const caps = device.caps;
  const chosen = new Map<string, MatmulConfig>();
  if (!caps) return chosen; // the CPU device has one implementation
  const reps = opts.reps ?? 3;
  for (const s of shapes) {
    const batch = s.batch ?? 1, transA = s.transA ?? false, transB = s.transB ?? false;
    const p: MatmulParams = { batch, m: s.m, n: s.n, k: s.k, transA, transB, strideA: s.m * s.k, strideB: s.k * s.n };
    const cls = shapeClass(p);
    if (chosen.has(cls)) continue;
    const a = tensor(new Float32Array(batch * s.m * s.k).fill(0.5), [batch, ...(transA ? [s.k, s.m] : [s.m, s.k])], { device });
    const b = tensor(new Float32Array(batch * s.k * s.n).fill(0.25), [batch, ...(transB ? [s.n, s.k] : [s.k, s.n])], { device });
    const cands: MatmulConfig[] = [...matmulCandidates];
    if (s.k >= 512) for (const c of matmulCandidates) for (const splits of [2, 4, 8]) cands.push({ ...c, splits });
    let best: { c: MatmulConfig; ms: number } | null = null;
    for (const c of cands) {
      if (c.wgx * c.wgy > caps.maxWorkgroupSize || !configSupported(c, caps)) continue;
      const once = async () => { const y = matmul(a, b, { transA, transB, config: c }); await device.sync(); y.dispose(); };
      await once(); // compile + warm
      const ts: number[] = [];
      for (let i = 0; i < reps; i++) { const t0 = performance.now(); await once(); ts.push(performance.now() - t0); }
      const ms = ts.sort((x, y) => x - y)[Math.floor(ts.length / 2)];
      opts.log?.(`${cls}  ${configName(c)}  ${ms.toFixed(2)} ms`);
      if (!best || ms < best.ms) best = { c, ms };
    }
    a.dispose(); b.dispose();
    if (best) { setTunedMatmul(caps, cls, best.c); chosen.set(cls, best.c); }
  }
  return chosen;
}
