// TF.js peer of `layer-x1-step` / `layer-x12-step`: L ELECTRA-small encoder layers (256 hidden, 4 heads × 64, FFN 1024,
// erf GELU, post-LN eps 1e-12, dropout 0.1, key-padding mask) on x [B·S, 256]; loss = mean((out − y)²), y fixed N(0,1)
// (mean(out²) is ≡ 1 after a γ=1, β=0 LayerNorm, so nothing below it would get a gradient); forward + backward
// (tf.variableGrads) + AdamW (tf.train.adam + decoupled decay) on TF.js's WebGPU backend over Dawn. Wall-clock per
// step including the loss readback a logging loop does; median after warm-up.
// CLI: node build/bench/peers/tfjs-layer.js [--layers 1,12] [--reps 3] [--warmup 1] [--json FILE] [--check] [--unfused]
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import type * as TF from '@tensorflow/tfjs-core';

type Tf = typeof TF;

export const HIDDEN = 256, HEADS = 4, HEAD_DIM = 64, FFN = 1024, LN_EPS = 1e-12, DROPOUT = 0.1, PAD_TOKENS = 16;
export const ADAMW = { beta1: 0.9, beta2: 0.999, eps: 1e-6, weightDecay: 0.01 };

// Dawn aborts the process if its GPU object is garbage-collected while devices live, so it stays referenced here.
let keepGpu: unknown = null;
let tfPromise: Promise<Tf> | null = null;

// TF.js's Node entry (tf-core.node.js) ships no gradient definitions — the `@tensorflow/tfjs` umbrella registers
// them — so `register_all_gradients` exists only as extensionless ESM that Node cannot load. We bundle core (ESM
// build), all gradients and the WebGPU backend into ONE CommonJS file with esbuild (a dev dependency already):
// a single copy of the engine, no umbrella package (layers/converter/webgl) needed.
export async function loadTfjs(): Promise<Tf> {
  if (tfPromise) return tfPromise;
  tfPromise = (async () => {
    const g = globalThis as unknown as { navigator?: { gpu?: unknown } };
    if (!g.navigator?.gpu) { // reuse a GPU object the host process already made (same Dawn instance), else make one
      const { create, globals } = await import('webgpu');
      Object.assign(globalThis, globals);
      const gpu = create([]);
      Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    }
    keepGpu = g.navigator!.gpu;
    const here = dirname(fileURLToPath(import.meta.url));
    const outfile = join(here, 'tfjs-bundle.cjs');
    const esbuild = await import('esbuild');
    await esbuild.build({
      stdin: {
        contents: "export * from '@tensorflow/tfjs-core';\n" +
          "import '@tensorflow/tfjs-core/dist/register_all_gradients';\nimport '@tensorflow/tfjs-backend-webgpu';\n",
        resolveDir: here, loader: 'js',
      },
      bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile, logLevel: 'error',
      mainFields: ['module', 'main'], ignoreAnnotations: true, external: ['node-fetch'],
    });
    const tf = createRequire(import.meta.url)(outfile) as Tf;
    if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs-layer: TF.js WebGPU backend failed to initialise');
    return tf;
  })();
  return tfPromise;
}

interface LayerVars {
  wq: TF.Variable; bq: TF.Variable; wk: TF.Variable; bk: TF.Variable; wv: TF.Variable; bv: TF.Variable;
  wo: TF.Variable; bo: TF.Variable; ln1g: TF.Variable; ln1b: TF.Variable;
  w1: TF.Variable; b1: TF.Variable; w2: TF.Variable; b2: TF.Variable; ln2g: TF.Variable; ln2b: TF.Variable;
}

export interface LayerModel {
  tf: Tf; layers: LayerVars[]; vars: TF.Variable[];
  x: TF.Tensor2D;          // [B·S, 256] the "embedding output", constant input
  target: TF.Tensor2D;     // [B·S, 256] fixed regression target
  maskAdd: TF.Tensor4D;    // [B, 1, 1, S] (1 − mask) · −10000
  batch: number; seq: number;
  fused: boolean;          // linear = tf.fused.matMul with bias (as tf.layers.dense), else tf.matMul + tf.add
}

// Weights N(0, 0.02) as HF's initializer_range, biases 0, LayerNorm γ 1 / β 0 (seeded, host-side, once).
export async function buildModel(opts: { layers: number; batch: number; seq: number; seed?: number; fused?: boolean }): Promise<LayerModel> {
  const tf = await loadTfjs();
  const { batch: B, seq: S } = opts;
  let seed = opts.seed ?? 1234;
  const w = (r: number, c: number, name: string) =>
    tf.variable(tf.randomNormal([r, c], 0, 0.02, 'float32', seed++) as TF.Tensor2D, true, name);
  const z = (n: number, name: string) => tf.variable(tf.zeros([n]), true, name);
  const o = (n: number, name: string) => tf.variable(tf.ones([n]), true, name);
  const layers: LayerVars[] = [];
  for (let l = 0; l < opts.layers; l++) {
    const p = `l${l}.`;
    layers.push({
      wq: w(HIDDEN, HIDDEN, p + 'wq'), bq: z(HIDDEN, p + 'bq'), wk: w(HIDDEN, HIDDEN, p + 'wk'), bk: z(HIDDEN, p + 'bk'),
      wv: w(HIDDEN, HIDDEN, p + 'wv'), bv: z(HIDDEN, p + 'bv'), wo: w(HIDDEN, HIDDEN, p + 'wo'), bo: z(HIDDEN, p + 'bo'),
      ln1g: o(HIDDEN, p + 'ln1g'), ln1b: z(HIDDEN, p + 'ln1b'),
      w1: w(HIDDEN, FFN, p + 'w1'), b1: z(FFN, p + 'b1'), w2: w(FFN, HIDDEN, p + 'w2'), b2: z(HIDDEN, p + 'b2'),
      ln2g: o(HIDDEN, p + 'ln2g'), ln2b: z(HIDDEN, p + 'ln2b'),
    });
  }
  const vars = layers.flatMap((v) => Object.values(v) as TF.Variable[]);
  const x = tf.randomNormal([B * S, HIDDEN], 0, 1, 'float32', seed++) as TF.Tensor2D;
  const target = tf.randomNormal([B * S, HIDDEN], 0, 1, 'float32', seed++) as TF.Tensor2D;
  // Odd sequences have their last PAD_TOKENS tokens as padding (half the batch padded).
  const mask = new Float32Array(B * S);
  for (let b = 0; b < B; b++) for (let s = 0; s < S; s++) mask[b * S + s] = b % 2 === 1 && s >= S - PAD_TOKENS ? -10000 : 0;
  const maskAdd = tf.tensor4d(mask, [B, 1, 1, S]);
  return { tf, layers, vars, x, target, maskAdd, batch: B, seq: S, fused: opts.fused ?? true };
}

export function disposeModel(m: LayerModel): void {
  for (const v of m.vars) v.dispose();
  m.x.dispose(); m.target.dispose(); m.maskAdd.dispose();
}

// [B·S, 256] → [B·S, 256]; dropout > 0 draws fresh masks (tf.dropout: uniform noise made on the host, then uploaded).
export function encoder(m: LayerModel, dropout: number, x: TF.Tensor2D = m.x): TF.Tensor2D {
  const { tf, batch: B, seq: S } = m;
  // tf.fused.matMul with a bias is what tf.layers.dense emits: the bias add rides in the GEMM epilogue.
  const linear = (a: TF.Tensor2D, w: TF.Tensor2D, b: TF.Tensor1D) =>
    (m.fused ? tf.fused.matMul({ a, b: w, bias: b }) : tf.add(tf.matMul(a, w), b)) as TF.Tensor2D;
  const drop = <T extends TF.Tensor>(t: T): T => (dropout > 0 ? tf.dropout(t, dropout) as T : t);
  const heads = (t: TF.Tensor2D) => tf.transpose(tf.reshape(t, [B, S, HEADS, HEAD_DIM]), [0, 2, 1, 3]); // [B, 4, S, 64]
  const layerNorm = (t: TF.Tensor2D, g: TF.Tensor1D, b: TF.Tensor1D) => {
    const { mean, variance } = tf.moments(t, -1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(t, mean), tf.rsqrt(tf.add(variance, LN_EPS))), g), b) as TF.Tensor2D;
  };
  const gelu = (t: TF.Tensor2D) => tf.mul(tf.mul(t, 0.5), tf.add(1, tf.erf(tf.mul(t, Math.SQRT1_2)))) as TF.Tensor2D;
  let h = x;
  for (const p of m.layers) {
    const q = heads(linear(h, p.wq as TF.Tensor2D, p.bq as TF.Tensor1D));
    const k = heads(linear(h, p.wk as TF.Tensor2D, p.bk as TF.Tensor1D));
    const v = heads(linear(h, p.wv as TF.Tensor2D, p.bv as TF.Tensor1D));
    const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(HEAD_DIM)), m.maskAdd); // [B, 4, S, S]
    const probs = drop(tf.softmax(scores));
    const ctx = tf.reshape(tf.transpose(tf.matMul(probs, v), [0, 2, 1, 3]), [B * S, HIDDEN]) as TF.Tensor2D;
    const attn = drop(linear(ctx, p.wo as TF.Tensor2D, p.bo as TF.Tensor1D));
    const h1 = layerNorm(tf.add(attn, h) as TF.Tensor2D, p.ln1g as TF.Tensor1D, p.ln1b as TF.Tensor1D);
    const inter = gelu(linear(h1, p.w1 as TF.Tensor2D, p.b1 as TF.Tensor1D));
    const out = drop(linear(inter, p.w2 as TF.Tensor2D, p.b2 as TF.Tensor1D));
    h = layerNorm(tf.add(out, h1) as TF.Tensor2D, p.ln2g as TF.Tensor1D, p.ln2b as TF.Tensor1D);
  }
  return h;
}

// One training step; returns the loss tensor (caller reads it). AdamW = decoupled decay p ← p·(1 − lr·wd) on every
// layer parameter (as torch.optim.AdamW, before the Adam update, with gradients taken at the old p), then Adam.
export function trainStep(m: LayerModel, opt: TF.Optimizer, lr: number, dropout = DROPOUT,
  onGrads?: (g: TF.NamedTensorMap) => void): TF.Scalar {
  const { tf } = m;
  return tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(tf.sub(encoder(m, dropout), m.target))) as TF.Scalar, m.vars);
    onGrads?.(grads);
    const decay = 1 - lr * ADAMW.weightDecay;
    for (const v of m.vars) v.assign(tf.mul(v, decay));
    opt.applyGradients(grads);
    return value;
  });
}

// Matmul FLOPs of one step (forward ×3 for forward + both backward GEMMs): for reporting GFLOP/s.
export function stepFlops(layers: number, batch: number, seq: number): number {
  const T = batch * seq;
  const fwd = 2 * T * HIDDEN * HIDDEN * 4 + 2 * 2 * batch * HEADS * seq * seq * HEAD_DIM + 2 * 2 * T * HIDDEN * FFN;
  return 3 * fwd * layers;
}

export const median = (a: number[]) => { const s = [...a].sort((x, y) => x - y); const n = s.length; return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2; };

export async function tfjsLayerStep(opts: { layers: number; batch: number; seq: number; reps: number; warmup: number; lr?: number; fused?: boolean }):
  Promise<{ msPerStep: number[]; tokensPerSec: number; losses: number[]; cpuMsPerStep: number[] }> {
  const m = await buildModel(opts);
  const lr = opts.lr ?? 1e-4;
  const opt = m.tf.train.adam(lr, ADAMW.beta1, ADAMW.beta2, ADAMW.eps);
  // CPU time of this process (all threads: lavapipe's workers included) per step, a load-robust companion of wall time.
  const msPerStep: number[] = [], losses: number[] = [], cpuMsPerStep: number[] = [];
  try {
    for (let i = 0; i < opts.warmup + opts.reps; i++) {
      const t0 = performance.now(), c0 = process.cpuUsage();
      const loss = trainStep(m, opt, lr);
      const l = (await loss.data())[0];
      const ms = performance.now() - t0, c = process.cpuUsage(c0);
      loss.dispose();
      if (!Number.isFinite(l)) throw new Error(`tfjs-layer: loss is ${l} at step ${i}`);
      losses.push(l);
      if (i >= opts.warmup) { msPerStep.push(ms); cpuMsPerStep.push((c.user + c.system) / 1000); }
    }
  } finally {
    opt.dispose();
    disposeModel(m);
  }
  return { msPerStep, tokensPerSec: (opts.batch * opts.seq) / (median(msPerStep) / 1000), losses, cpuMsPerStep };
}

/** The step as a runner for bench/run.ts's alternating passes (ours, TF.js, jax-js): one step + loss read back per run. */
export async function tfjsLayerRunner(opts: { layers: number; batch: number; seq: number; lr?: number }):
  Promise<{ run: () => Promise<number>; dispose: () => void }> {
  const m = await buildModel(opts);
  const lr = opts.lr ?? 1e-4;
  const opt = m.tf.train.adam(lr, ADAMW.beta1, ADAMW.beta2, ADAMW.eps);
  return {
    run: async () => {
      const loss = trainStep(m, opt, lr);
      const l = (await loss.data())[0];
      loss.dispose();
      if (!Number.isFinite(l)) throw new Error(`tfjs-layer: loss is ${l}`);
      return l;
    },
    dispose: () => { opt.dispose(); disposeModel(m); },
  };
}

// Cheap correctness: (1) every parameter gets a finite, nonzero gradient; (2) with dropout off, changing the padded
// tokens of a padded sequence leaves its real tokens' outputs bit-identical (mask works) while the padded ones move;
// (3) with a large lr the loss is finite and falls over 10 steps.
export async function checkLayer(layers = 1, batch = 8, seq = 128): Promise<string[]> {
  const m = await buildModel({ layers, batch, seq });
  const { tf } = m;
  const lines: string[] = [];
  try {
    const lr = 1e-2;
    const opt = tf.train.adam(lr, ADAMW.beta1, ADAMW.beta2, ADAMW.eps);
    const normT: [string, TF.Tensor][] = []; // dataSync is unavailable on WebGPU in Node: keep, read after the step
    const first = trainStep(m, opt, lr, DROPOUT, (g) => {
      for (const [name, t] of Object.entries(g)) normT.push([name, tf.keep(tf.norm(t))]);
    });
    const norms: [string, number][] = [];
    for (const [name, t] of normT) { norms.push([name, (await t.data())[0]]); t.dispose(); }
    if (process.env.TFJS_LAYER_DEBUG) console.log(norms);
    // ∂loss/∂bk ≡ 0: q·bk is the same for every key of a query row and softmax ignores a per-row shift.
    const bad = norms.filter(([name, n]) => !Number.isFinite(n) || (n === 0 && !name.endsWith('.bk')));
    if (norms.length !== m.vars.length || bad.length) throw new Error(`tfjs-layer check: bad gradients ${JSON.stringify(bad)}`);
    const others = norms.filter(([name]) => !name.endsWith('.bk')).map((n) => n[1]);
    const bk = norms.filter(([name]) => name.endsWith('.bk')).map((n) => n[1]);
    lines.push(`grads: ${norms.length} parameters finite; min |g| ${Math.min(...others).toExponential(2)} over all but bk; ` +
      `max |g_bk| ${Math.max(...bk).toExponential(2)} (≡ 0 in exact arithmetic)`);
    const losses = [(await first.data())[0]];
    first.dispose();
    for (let i = 1; i < 10; i++) { const l = trainStep(m, opt, lr); losses.push((await l.data())[0]); l.dispose(); }
    opt.dispose();
    lines.push(`loss over 10 steps (lr 1e-2): ${losses.map((l) => l.toFixed(4)).join(' ')}`);
    if (!losses.every(Number.isFinite) || !(losses[9] < losses[0] * 0.9)) throw new Error('tfjs-layer check: loss did not fall');

    const [realT, padT] = tf.tidy(() => {
      const base = encoder(m, 0);
      const pert = new Float32Array(batch * seq * HIDDEN);
      for (let s = seq - PAD_TOKENS; s < seq; s++) for (let c = 0; c < HIDDEN; c++) pert[(1 * seq + s) * HIDDEN + c] = 3;
      const moved = encoder(m, 0, tf.add(m.x, tf.tensor2d(pert, [batch * seq, HIDDEN])) as TF.Tensor2D);
      const diff = tf.reshape(tf.abs(tf.sub(moved, base)), [batch, seq, HIDDEN]);
      const real = tf.max(tf.slice(diff, [1, 0, 0], [1, seq - PAD_TOKENS, HIDDEN]));
      const pad = tf.max(tf.slice(diff, [1, seq - PAD_TOKENS, 0], [1, PAD_TOKENS, HIDDEN]));
      return [real, pad];
    });
    const dReal = (await realT.data())[0], dPad = (await padT.data())[0];
    realT.dispose(); padT.dispose();
    lines.push(`mask: perturbing padded tokens moves real-token outputs by ${dReal}, padded outputs by ${dPad.toFixed(3)}`);
    if (dReal > 1e-5 || dPad < 1e-2) throw new Error('tfjs-layer check: key-padding mask not effective');
  } finally {
    disposeModel(m);
  }
  return lines;
}

/** One peer's layer-step timing, as both peers' CLIs record it (firstMs: the compiling first call, jax-js). */
export interface PeerStepTiming { msPerStep: number[]; cpuMsPerStep: number[]; tokensPerSec: number; firstMs?: number }

/**
 * The CLI of both layer-step peers: `--check` prints the peer's check lines; otherwise times each of
 * `--layers` (default 1,12), prints a table and with `--json FILE` writes the records. `has(flag)` gives the
 * peer its own flags (--unfused, --eager).
 */
export async function layerStepCli(peer: {
  device: string;
  check: (layers: number, batch: number, seq: number) => Promise<string[]>;
  time: (o: { layers: number; batch: number; seq: number; reps: number; warmup: number }, has: (flag: string) => boolean) => Promise<PeerStepTiming>;
  title: (o: { batch: number; seq: number; reps: number; warmup: number }, has: (flag: string) => boolean) => Promise<string>;
}): Promise<void> {
  const args = process.argv.slice(2);
  const arg = (k: string, d: string) => { const i = args.indexOf(`--${k}`); return i >= 0 && args[i + 1] ? args[i + 1] : d; };
  const has = (flag: string) => args.includes(flag);
  const batch = Number(arg('batch', '8')), seq = Number(arg('seq', '128'));
  if (has('--check')) {
    for (const l of await peer.check(Number(arg('layers', '1')), batch, seq)) console.log(l);
    return;
  }
  const reps = Number(arg('reps', '3')), warmup = Number(arg('warmup', '1'));
  const json = arg('json', '');
  const records: { name: string; device: string; ms: number; gflops: number; tokensPerSec: number; runsMs: number[]; firstMs?: number; cpuMs: number; load: number[] }[] = [];
  for (const layers of arg('layers', '1,12').split(',').map(Number)) {
    const r = await peer.time({ layers, batch, seq, reps, warmup }, has);
    const ms = median(r.msPerStep);
    records.push({
      name: `layer-x${layers}-step`, device: peer.device, ms: +ms.toFixed(1),
      gflops: +(stepFlops(layers, batch, seq) / ms / 1e6).toFixed(2), tokensPerSec: +r.tokensPerSec.toFixed(1),
      runsMs: r.msPerStep.map((t) => +t.toFixed(1)), firstMs: r.firstMs === undefined ? undefined : +r.firstMs.toFixed(0),
      cpuMs: +median(r.cpuMsPerStep).toFixed(1), load: loadavg().map((x) => +x.toFixed(2)),
    });
  }
  console.log(await peer.title({ batch, seq, reps, warmup }, has));
  console.log('name'.padEnd(16) + 'device'.padEnd(14) + 'ms/step'.padStart(10) + 'GFLOP/s'.padStart(9) + 'tokens/s'.padStart(10) + '  cpu-ms'.padStart(10) + '  first(ms)  runs (ms)  loadavg after');
  for (const r of records) {
    console.log(r.name.padEnd(16) + r.device.padEnd(14) + r.ms.toFixed(1).padStart(10) + r.gflops.toFixed(2).padStart(9) +
      r.tokensPerSec.toFixed(1).padStart(10) + r.cpuMs.toFixed(0).padStart(10) + `  ${r.firstMs ?? '-'}`.padStart(11) + '  ' + r.runsMs.join(' ') + '  ' + r.load.join(' '));
  }
  if (json) writeFileSync(json, JSON.stringify(records, null, 2) + '\n');
}

async function main(): Promise<void> {
  await layerStepCli({
    device: 'tfjs-webgpu',
    check: checkLayer,
    time: (o, has) => tfjsLayerStep({ ...o, fused: !has('--unfused') }),
    title: async (o) => `TF.js ${(await loadTfjs()).version_core} WebGPU on Dawn, batch ${o.batch} × seq ${o.seq}, warmup ${o.warmup}, reps ${o.reps}`,
  });
  void keepGpu;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
}
