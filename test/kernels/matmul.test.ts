// Every matmul config the selector or the autotuner can pick, forced through the op, on all four
// transpose layouts, batch broadcast, awkward shapes and split-K, against the float64 CPU reference.
// Tolerance: |err| ≤ 1e-5·√K·max|a|·max|b| (f32 accumulation error grows like √K; values in [-1, 1]).

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type MatmulConfig, type MatmulParams, K, configName, configSupported, matmulCandidates, matmulRef, selectMatmul, shapeClass, splitChunk } from '../../src/kernels/matmul.js';
import { tuneMatmul } from '../../bench/matmul-tune.js';
import { matmul, muls } from '../../src/tensor/ops.js';
import { tensor } from '../../src/tensor/tensor.js';
import type { Device } from '../../src/device/device.js';
import type { WebGPUDevice } from '../../src/device/webgpu.js';
import { assertClose, cpu, gpu, rand } from '../helpers.js';

const s = suite('matmul kernels');

interface Case { batchA: number; batchB: number; m: number; n: number; k: number; transA: boolean; transB: boolean }

async function check(dev: Device, c: Case, config: MatmulConfig | undefined, seed = 1): Promise<void> {
  const batch = Math.max(c.batchA, c.batchB);
  const ad = rand(c.batchA * c.m * c.k, seed), bd = rand(c.batchB * c.k * c.n, seed + 7);
  const p: MatmulParams = { batch, m: c.m, n: c.n, k: c.k, transA: c.transA, transB: c.transB, strideA: c.batchA === 1 ? 0 : c.m * c.k, strideB: c.batchB === 1 ? 0 : c.k * c.n };
  const want = new Float64Array(batch * c.m * c.n);
  matmulRef(p, ad, bd, want);
  const a = tensor(ad, [c.batchA, ...(c.transA ? [c.k, c.m] : [c.m, c.k])], { device: dev });
  const b = tensor(bd, [c.batchB, ...(c.transB ? [c.n, c.k] : [c.k, c.n])], { device: dev });
  const y = matmul(a, b, { transA: c.transA, transB: c.transB, config });
  assert.equal(y.shape, [batch, c.m, c.n]);
  const got = await y.data();
  a.dispose(); b.dispose(); y.dispose();
  const what = `${config ? configName(config) : 'auto'} ${c.transA ? 'T' : 'N'}${c.transB ? 'T' : 'N'} b${c.batchA}/${c.batchB} ${c.m}x${c.n}x${c.k}`;
  assertClose(got, want, { atol: 1e-5 * Math.sqrt(c.k), rtol: 0, label: what });
}

const layouts = [[false, false], [false, true], [true, false], [true, true]] as const;

s('CPU reference: split-K partials sum to the plain product', async () => {
  const cfg: MatmulConfig = { kind: 'reg', wgx: 8, wgy: 1, tm: 4, tn: 4, bk: 16, splits: 3 };
  for (const [transA, transB] of layouts) await check(cpu, { batchA: 2, batchB: 1, m: 5, n: 6, k: 37, transA, transB }, cfg);
  assert.is(splitChunk(37, 3), 16);
  assert.is(splitChunk(1024, 4), 256);
});

s('every candidate config × 4 layouts × awkward and fit shapes', async () => {
  const dev = await gpu();
  if (!dev) return;
  for (const cfg of matmulCandidates) {
    assert.ok(configSupported(cfg, dev.caps) || !cfg.sg, configName(cfg));
    if (!configSupported(cfg, dev.caps)) { console.log(`  (skipping ${configName(cfg)}: no subgroups ≥ 8 here)`); continue; }
    const bm = cfg.wgy * cfg.tm, bn = cfg.wgx * cfg.tn;
    for (const [transA, transB] of layouts) {
      // Awkward: primes, nothing divides a tile, K odd (scalar loads + tail), many workgroups.
      await check(dev, { batchA: 1, batchB: 1, m: 31, n: 127, k: 13, transA, transB }, cfg);
      // N, K multiples of 4 but M, N not of the tile: vec4 loads with clamped edges, guarded stores.
      await check(dev, { batchA: 2, batchB: 2, m: 7, n: 20, k: 12, transA, transB }, cfg);
    }
    // Fit: multiples of the tile (no-bounds-check path), on the forward and both backward layouts.
    for (const [transA, transB] of layouts.slice(0, 3)) await check(dev, { batchA: 1, batchB: 1, m: 2 * bm, n: 2 * bn, k: 32, transA, transB }, cfg);
  }
});

s('split-K over every layout and kind, with batch, deterministic', async () => {
  const dev = await gpu();
  if (!dev) return;
  const kinds: MatmulConfig[] = [
    { kind: 'reg', wgx: 16, wgy: 1, tm: 8, tn: 8, bk: 16, splits: 4 },
    { ...K.regSgSmall, splits: 2, ku: 2 },
    { ...K.regSgTex, splits: 3 },
    { kind: 'tiled', wgx: 8, wgy: 8, tm: 4, tn: 4, bk: 16, splits: 3 },
    { ...K.tile64, splits: 3 },
    { ...K.tile128, splits: 5 },
  ];
  for (const cfg of kinds) {
    if (!configSupported(cfg, dev.caps)) continue;
    for (const [transA, transB] of layouts) await check(dev, { batchA: 1, batchB: 1, m: 33, n: 40, k: 515, transA, transB }, cfg);
    await check(dev, { batchA: 3, batchB: 1, m: 16, n: 64, k: 256, transA: true, transB: false }, cfg);
  }
  // Same inputs twice → bitwise the same output (fixed-order reduction, no atomics).
  const cfg = kinds[0];
  const a = tensor(rand(64 * 1024, 3), [1024, 64], { device: dev }), b = tensor(rand(1024 * 48, 4), [1024, 48], { device: dev });
  const y1 = await matmul(a, b, { transA: true, config: cfg }).data();
  const y2 = await matmul(a, b, { transA: true, config: cfg }).data();
  assert.ok(y1.every((v, i) => Object.is(v, y2[i])), 'split-K result differs between runs');
});

s('scratch textures: 40 B sizes recorded before one read (the device recycles textures midway), all correct', async () => {
  const dev = await gpu();
  if (!dev || !configSupported(K.regSgTex, dev.caps)) return;
  const made = (dev as WebGPUDevice).stats.texturesCreated;
  const runs = Array.from({ length: 40 }, (_, i) => {
    const m = 3 + (i % 5), n = 4 + 4 * i, k = 2 + (i % 7);
    const ad = rand(m * k, 100 + i), bd = rand(k * n, 200 + i);
    const want = new Float64Array(m * n);
    matmulRef({ batch: 1, m, n, k, transA: false, transB: false, strideA: 0, strideB: 0 }, ad, bd, want);
    const y = matmul(tensor(ad, [m, k], { device: dev }), tensor(bd, [k, n], { device: dev }), { config: K.regSgTex });
    return { y, want, what: `${m}x${n}x${k}` };
  });
  // More launches before the read, so the recycled uniform slots are reused (a pass recorded with a stale
  // slot would then read another kernel's params).
  const x = tensor(rand(64, 9), [64], { device: dev });
  const extra = Array.from({ length: 100 }, (_, j) => muls(x, j));
  for (const r of runs) assertClose(await r.y.data(), r.want, { atol: 1e-5 * 4, rtol: 0, label: r.what });
  assertClose(await extra[99].data(), Array.from(await x.data(), (v) => v * 99), { atol: 1e-4, rtol: 0 });
  assert.ok((dev as WebGPUDevice).stats.texturesCreated - made >= 40, 'one texture per size');
});

s('edge shapes: 1×1×1, K=1, M=1 matvec, N=1, batch broadcast on either side', async () => {
  const dev = await gpu();
  if (!dev) return;
  const cases: Case[] = [
    { batchA: 1, batchB: 1, m: 1, n: 1, k: 1, transA: false, transB: false },
    { batchA: 1, batchB: 1, m: 9, n: 17, k: 1, transA: false, transB: true },
    { batchA: 1, batchB: 1, m: 1, n: 300, k: 130, transA: false, transB: false },
    { batchA: 1, batchB: 1, m: 1, n: 256, k: 256, transA: true, transB: true },
    { batchA: 1, batchB: 1, m: 130, n: 1, k: 67, transA: true, transB: false },
    { batchA: 4, batchB: 1, m: 13, n: 7, k: 31, transA: false, transB: true },
    { batchA: 1, batchB: 5, m: 7, n: 12, k: 8, transA: true, transB: false },
  ];
  for (const c of cases) {
    await check(dev, c, undefined);
    for (const cfg of [K.regSmall, K.tiledSmall, K.regSgSmall, K.regSgTex, K.tile64, K.tile128]) if (configSupported(cfg, dev.caps)) await check(dev, c, cfg, 5);
  }
});

s('selector: ELECTRA shapes and split-K choice; auto path matches the reference', async () => {
  const dev = await gpu();
  const caps = { maxWorkgroupSize: 256, maxWorkgroupStorage: 16384, subgroups: false, f16: false };
  const p = (m: number, n: number, k: number, tA = false, tB = false): MatmulParams => ({ batch: 1, m, n, k, transA: tA, transB: tB, strideA: 0, strideB: 0 });
  // Weight gradient [1024×256]ᵀ·[1024×256]: small M×N, large K → split-K on a GPU (too few SMs busy);
  // a 2-core software adapter is already busy at 64 workgroups, and splits only for tinier outputs.
  assert.ok(selectMatmul(p(256, 256, 1024, true), caps).splits > 1);
  assert.is(selectMatmul(p(256, 256, 1024, true), { ...caps, software: true }).splits, 1);
  assert.ok(selectMatmul(p(8, 32, 2048, true), { ...caps, software: true }).splits > 1);
  // Big square forward: no split.
  assert.is(selectMatmul(p(1024, 1024, 1024), caps).splits, 1);
  assert.is(selectMatmul(p(1024, 1024, 1024), { ...caps, software: true }).splits, 1);
  for (const cfgCaps of [caps, { ...caps, software: true }]) {
    for (const shape of [p(1024, 1024, 256), p(256, 1024, 1024, true), p(7, 5, 3)]) {
      const c = selectMatmul(shape, cfgCaps);
      assert.ok(matmulCandidates.some((x) => x.kind === c.kind && x.wgx === c.wgx && x.wgy === c.wgy && x.tm === c.tm && x.tn === c.tn && x.bk === c.bk), `${configName(c)} is a tested candidate`);
    }
  }
  // Software adapter with subgroups ≥ 8: B through the scratch texture, unless it is over the limits.
  const lp = { ...caps, software: true, subgroups: true, subgroupMinSize: 8, maxTexture2D: 8192, maxTextureLayers: 256 };
  assert.ok(selectMatmul(p(1024, 1024, 1024), lp).tex);
  assert.ok(selectMatmul(p(30522, 128, 152, true), lp).tex); // generator's tied-embedding gradient
  assert.not.ok(selectMatmul({ ...p(128, 64, 128), batch: 32, strideA: 128 * 128, strideB: 128 * 64 }, lp).tex); // attention: 128 rows
  assert.not.ok(selectMatmul(p(1024, 64, 1024), lp).tex); // small tile
  assert.not.ok(selectMatmul(p(256, 4 * 8192 + 4, 128), lp).tex); // ⌈N/4⌉ over maxTexture2D
  assert.not.ok(selectMatmul({ ...p(256, 256, 64), batch: 300, strideB: 64 * 256 }, lp).tex); // layers over the limit
  // The 16×64 tile: attention's products and the generator's N = 64 linears; not with few workgroups.
  const attn = (m: number, n: number, k: number, tA = false, tB = false) => ({ ...p(m, n, k, tA, tB), batch: 32, strideA: m * k, strideB: k * n });
  for (const q of [attn(128, 128, 64, false, true), attn(128, 64, 128), attn(128, 64, 128, true), p(1024, 64, 256, false, true)]) {
    assert.is(configName(selectMatmul(q, lp)), configName(K.regSgMid), `${q.m}×${q.n}×${q.k} batch ${q.batch}`);
  }
  assert.is(configName(selectMatmul(p(256, 64, 1024, true), lp)), configName(K.regSgSmall)); // 16 workgroups
  assert.is(configName(selectMatmul(p(1024, 1024, 256), lp)), configName({ ...K.regSg, tex: true }));
  assert.not.ok(selectMatmul(p(1024, 1024, 1024), caps).tex);
  if (!dev) return;
  await check(dev, { batchA: 1, batchB: 1, m: 256, n: 256, k: 1024, transA: true, transB: false }, undefined);
  await check(dev, { batchA: 1, batchB: 1, m: 256, n: 192, k: 256, transA: false, transB: true }, undefined);
});

s('tuneMatmul caches a tested candidate per shape class; the selector returns it', async () => {
  const dev = await gpu();
  if (!dev || !dev.caps) return;
  const shape = { m: 24, n: 40, k: 20, transB: true };
  const chosen = await tuneMatmul(dev, [shape], { reps: 1 });
  const p: MatmulParams = { batch: 1, m: 24, n: 40, k: 20, transA: false, transB: true, strideA: 0, strideB: 0 };
  const c = chosen.get(shapeClass(p));
  assert.ok(c && matmulCandidates.includes(c));
  assert.is(selectMatmul(p, dev.caps), c);
  await check(dev, { batchA: 1, batchB: 1, m: 24, n: 40, k: 20, transA: false, transB: true }, undefined);
});

s.run();
