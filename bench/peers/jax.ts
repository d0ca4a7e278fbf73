// The second peer: jax-js (@jax-js/jax, dev-only) on its WebGPU backend over the same Dawn GPU object as TF.js
// (bench/peers.ts navigatorGpu). Matmul workloads are eager np.matmul with transposed views (`a.T @ b`, as one
// writes it in jax); the ELECTRA-small layer step (the workload of tfjs-layer.ts / layer.bench.ts) is ONE
// jit-compiled function: valueAndGrad of the loss, then AdamW (Adam with bias correction, as tf.train.adam, plus
// decoupled decay p·(1 − lr·wd) first, as the TF.js peer), with dropout masks from jax.random keys split per step.
// jit is what jax-js recommends for long op sequences (fusion, one recorded graph), and it was faster here (layer-x1,
// 2 steps each: 2.3–2.7 s jitted, 3.3–9.2 s with --eager; lavapipe, 2 loaded cores). Its first call traces + compiles.
// CLI: node build/bench/peers/jax.js [--layers 1,12] [--reps 3] [--warmup 1] [--eager] [--json FILE] | --check [--layers 1]

import { pathToFileURL } from 'node:url';
import type { Array as JArray } from '@jax-js/jax';
import { HostRng } from '../../src/nn/init.js';
import { type MatmulWorkload, navigatorGpu, rnd } from '../peers.js';
import { ADAMW, DROPOUT, FFN, HEADS, HEAD_DIM, HIDDEN, LN_EPS, PAD_TOKENS, layerStepCli, median } from './tfjs-layer.js';

type Jax = typeof import('@jax-js/jax');

let jaxp: Promise<Jax> | null = null;

/** Imports jax-js and makes WebGPU its default device (throws if its WebGPU backend does not start). */
export function loadJax(): Promise<Jax> {
  jaxp ??= (async () => {
    await navigatorGpu();
    const jax = await import('@jax-js/jax');
    // Only the WebGPU backend: init() with no argument would also start the Wasm one (worker threads).
    const got = await jax.init('webgpu');
    if (!got.includes('webgpu')) throw new Error('jax-js: init("webgpu") found no WebGPU adapter');
    jax.defaultDevice('webgpu');
    return jax;
  })();
  jaxp.catch(() => { jaxp = null; });
  return jaxp;
}

/**
 * One matmul workload as a runner (dispatch → read back), on the LCG data bench/run.ts uses. Operands are kept
 * (`.ref`: jax-js ops consume their arguments). Checked once against a float64 CPU dot product of a few entries.
 */
export async function jaxMatmulRunner(w: MatmulWorkload): Promise<{ run: () => Promise<unknown>; dispose: () => void }> {
  const { numpy: np } = await loadJax();
  const A = rnd(w.m * w.k, 1), B = rnd(w.k * w.n, 2);
  const a = np.array(A, { shape: w.transA ? [w.k, w.m] : [w.m, w.k] });
  const b = np.array(B, { shape: w.transB ? [w.n, w.k] : [w.k, w.n] });
  const run = async () => {
    const c = np.matmul(w.transA ? a.ref.transpose() : a.ref, w.transB ? b.ref.transpose() : b.ref);
    return c.data(); // consumes c
  };
  const got = await run();
  const at = (i: number, t: number) => (w.transA ? A[t * w.m + i] : A[i * w.k + t]);
  const bt = (t: number, j: number) => (w.transB ? B[j * w.k + t] : B[t * w.n + j]);
  for (const [i, j] of [[0, 0], [w.m - 1, w.n - 1], [Math.floor(w.m / 2), 7], [3, w.n - 2]]) {
    let s = 0;
    for (let t = 0; t < w.k; t++) s += at(i, t) * bt(t, j);
    const tol = 1e-5 * Math.sqrt(w.k) * 4; // as bench/matmul.bench.ts
    if (!(Math.abs(got[i * w.n + j] - s) <= tol)) {
      a.dispose(); b.dispose();
      throw new Error(`jax-js ${w.name}: C[${i},${j}] = ${got[i * w.n + j]}, CPU reference ${s} (tolerance ${tol})`);
    }
  }
  return { run, dispose: () => { a.dispose(); b.dispose(); } };
}

// ---- the ELECTRA-small layer step ----

const NAMES = ['wq', 'bq', 'wk', 'bk', 'wv', 'bv', 'wo', 'bo', 'ln1g', 'ln1b', 'w1', 'b1', 'w2', 'b2', 'ln2g', 'ln2b'] as const;
type Name = (typeof NAMES)[number];
// `type` (not interface): jax-js's JsTree typing needs type aliases for object trees.
type LayerParams = { [K in Name]: JArray };
type Params = LayerParams[];

const shapeOf = (n: Name): number[] =>
  n === 'w1' ? [HIDDEN, FFN] : n === 'w2' ? [FFN, HIDDEN] : n.startsWith('w') ? [HIDDEN, HIDDEN] : [n === 'b1' ? FFN : HIDDEN];

/** Host values of a model: `l{i}.{name}` → data (TF.js's variable names), x and target [B·S·256]. */
export interface HostModel { vars: Map<string, Float32Array>; x: Float32Array; target: Float32Array }

/** Weights N(0, 0.02), biases 0, LayerNorm γ 1 / β 0 (as the other two), x and target N(0, 1); seeded, host-side. */
export function hostModel(layers: number, batch: number, seq: number, seed = 1234): HostModel {
  const rng = new HostRng(seed);
  const normal = (n: number, std: number) => Float32Array.from({ length: n }, () => std * rng.normal());
  const vars = new Map<string, Float32Array>();
  for (let l = 0; l < layers; l++) {
    for (const n of NAMES) {
      const size = shapeOf(n).reduce((a, b) => a * b, 1);
      vars.set(`l${l}.${n}`, n.startsWith('w') ? normal(size, 0.02) : n.endsWith('g') ? new Float32Array(size).fill(1) : new Float32Array(size));
    }
  }
  return { vars, x: normal(batch * seq * HIDDEN, 1), target: normal(batch * seq * HIDDEN, 1) };
}

export interface JaxLayerModel {
  jax: Jax; layers: number; batch: number; seq: number;
  params: Params; m: Params; v: Params;
  x: JArray; target: JArray; maskAdd: JArray; // [B·S, 256], [B·S, 256], [B, 1, 1, S]
  key: JArray; t: number;                     // PRNG key for dropout; Adam step count
}

export async function buildJaxModel(host: HostModel, layers: number, batch: number, seq: number): Promise<JaxLayerModel> {
  const jax = await loadJax();
  const { numpy: np, random } = jax;
  const params: Params = [], m: Params = [], v: Params = [];
  for (let l = 0; l < layers; l++) {
    const p = {} as LayerParams, pm = {} as LayerParams, pv = {} as LayerParams;
    for (const n of NAMES) {
      const data = host.vars.get(`l${l}.${n}`);
      if (!data) throw new Error(`jax layer: no initial value for l${l}.${n}`);
      p[n] = np.array(data, { shape: shapeOf(n) });
      pm[n] = np.zeros(shapeOf(n));
      pv[n] = np.zeros(shapeOf(n));
    }
    params.push(p); m.push(pm); v.push(pv);
  }
  // Odd sequences end in PAD_TOKENS padding tokens (additive −10000 on their keys), as the other two.
  const mask = new Float32Array(batch * seq);
  for (let b = 0; b < batch; b++) for (let s = 0; s < seq; s++) mask[b * seq + s] = b % 2 === 1 && s >= seq - PAD_TOKENS ? -10000 : 0;
  return {
    jax, layers, batch, seq, params, m, v, t: 0,
    x: np.array(host.x, { shape: [batch * seq, HIDDEN] }),
    target: np.array(host.target, { shape: [batch * seq, HIDDEN] }),
    maskAdd: np.array(mask, { shape: [batch, 1, 1, seq] }),
    key: random.key(7),
  };
}

export function disposeJaxModel(md: JaxLayerModel): void {
  const { tree } = md.jax;
  tree.dispose(md.params); tree.dispose(md.m); tree.dispose(md.v);
  md.x.dispose(); md.target.dispose(); md.maskAdd.dispose(); md.key.dispose();
}

/**
 * The encoder as a pure function; every argument is consumed (jax-js move semantics: a value used again is
 * passed as `.ref`). keys: 3 PRNG keys per layer (attention probabilities, attention output, FFN output), or
 * [] for no dropout. x [B·S, 256] → [B·S, 256].
 */
function encoder(jax: Jax, B: number, S: number, params: Params, x: JArray, maskAdd: JArray, keys: JArray[]): JArray {
  const { numpy: np, nn, random } = jax;
  const linear = (a: JArray, w: JArray, b: JArray) => np.matmul(a, w).add(b);
  const heads = (t: JArray) => t.reshape([B, S, HEADS, HEAD_DIM]).transpose([0, 2, 1, 3]); // [B, 4, S, 64]
  const layerNorm = (t: JArray, g: JArray, b: JArray) => {
    const xc = t.ref.sub(np.mean(t, -1, { keepdims: true }));
    const variance = np.mean(np.square(xc.ref), -1, { keepdims: true });
    return xc.mul(np.reciprocal(np.sqrt(variance.add(LN_EPS)))).mul(g).add(b);
  };
  const dropout = (t: JArray, key: JArray | undefined) => {
    if (!key) return t;
    const keep = random.bernoulli(key, 1 - DROPOUT, t.shape);
    return np.where(keep, t.mul(1 / (1 - DROPOUT)), 0);
  };
  let h = x;
  params.forEach((p, l) => {
    const k = keys.length ? keys.slice(3 * l, 3 * l + 3) : [];
    const q = heads(linear(h.ref, p.wq, p.bq));
    const kk = heads(linear(h.ref, p.wk, p.bk));
    const v = heads(linear(h.ref, p.wv, p.bv));
    const scores = np.matmul(q, kk.transpose([0, 1, 3, 2])).mul(1 / Math.sqrt(HEAD_DIM)).add(maskAdd.ref); // [B, 4, S, S]
    const probs = dropout(nn.softmax(scores, -1), k[0]);
    const ctx = np.matmul(probs, v).transpose([0, 2, 1, 3]).reshape([B * S, HIDDEN]);
    const h1 = layerNorm(dropout(linear(ctx, p.wo, p.bo), k[1]).add(h), p.ln1g, p.ln1b);
    const inter = nn.gelu(linear(h1.ref, p.w1, p.b1), { approximate: false }); // exact: x·Φ(x) via erfc
    h = layerNorm(dropout(linear(inter, p.w2, p.b2), k[2]).add(h1), p.ln2g, p.ln2b);
  });
  maskAdd.dispose();
  return h;
}

function lossFn(jax: Jax, B: number, S: number) {
  const { numpy: np } = jax;
  return (params: Params, x: JArray, target: JArray, maskAdd: JArray, keys: JArray[]) =>
    np.mean(np.square(encoder(jax, B, S, params, x, maskAdd, keys).sub(target)));
}

type StepFn = (params: Params, m: Params, v: Params, x: JArray, target: JArray, maskAdd: JArray, key: JArray, c1: JArray, c2: JArray)
  => [JArray, Params, Params, Params];

/**
 * The training step (params, m, v consumed; new ones returned with the loss). c1 = 1/(1 − β1ᵗ), c2 = 1/(1 − β2ᵗ)
 * are traced scalars so one compiled step serves every t. Update as tf.train.adam with decoupled decay first:
 * p ← p·(1 − lr·wd) − lr·m̂/(√v̂ + ε), m̂ = m·c1, v̂ = v·c2.
 */
function makeStep(jax: Jax, layers: number, B: number, S: number, lr: number, dropout: boolean): StepFn {
  const { numpy: np, random, tree, valueAndGrad } = jax;
  const loss = lossFn(jax, B, S);
  return (params, m, v, x, target, maskAdd, key, c1, c2) => {
    let keys: JArray[] = [];
    if (dropout) keys = [...random.split(key, 3 * layers)];
    else key.dispose();
    const [value, grads] = valueAndGrad(loss, { argnums: 0 })(tree.ref(params), x, target, maskAdd, keys) as [JArray, Params];
    const [pl, def] = tree.flatten(params);
    const gl = tree.leaves(grads), ml = tree.leaves(m), vl = tree.leaves(v);
    const np_: JArray[] = [], nm: JArray[] = [], nv: JArray[] = [];
    for (let i = 0; i < pl.length; i++) {
      const g = gl[i];
      const m2 = ml[i].mul(ADAMW.beta1).add(g.ref.mul(1 - ADAMW.beta1));
      const v2 = vl[i].mul(ADAMW.beta2).add(np.square(g).mul(1 - ADAMW.beta2));
      const upd = m2.ref.mul(c1.ref).div(np.sqrt(v2.ref.mul(c2.ref)).add(ADAMW.eps));
      np_.push(pl[i].mul(1 - lr * ADAMW.weightDecay).sub(upd.mul(lr)));
      nm.push(m2); nv.push(v2);
    }
    c1.dispose(); c2.dispose();
    return [value, tree.unflatten(def, np_) as Params, tree.unflatten(def, nm) as Params, tree.unflatten(def, nv) as Params];
  };
}

/** A runner for one step on a model: takes the step, advances the key and t, returns the loss (unread). */
export function stepper(md: JaxLayerModel, opts: { lr: number; dropout: boolean; jit: boolean }): { step: () => JArray; dispose: () => void } {
  const { jax } = md;
  const raw = makeStep(jax, md.layers, md.batch, md.seq, opts.lr, opts.dropout);
  const f = opts.jit ? jax.jit(raw) : null;
  return {
    step: () => {
      md.t++;
      const [next, sub] = [...jax.random.split(md.key, 2)];
      md.key = next;
      const c1 = jax.numpy.array(1 / (1 - ADAMW.beta1 ** md.t)), c2 = jax.numpy.array(1 / (1 - ADAMW.beta2 ** md.t));
      const [loss, p, m, v] = (f ?? raw)(md.params, md.m, md.v, md.x.ref, md.target.ref, md.maskAdd.ref, sub, c1, c2);
      md.params = p; md.m = m; md.v = v;
      return loss;
    },
    dispose: () => f?.dispose(),
  };
}

/** Times `reps` steps after `warmup` (the first compiles when jit): wall clock per step including the loss read back. */
export async function jaxLayerStep(opts: { layers: number; batch: number; seq: number; reps: number; warmup: number; lr?: number; jit?: boolean }):
  Promise<{ msPerStep: number[]; tokensPerSec: number; losses: number[]; cpuMsPerStep: number[]; firstMs: number }> {
  const md = await buildJaxModel(hostModel(opts.layers, opts.batch, opts.seq), opts.layers, opts.batch, opts.seq);
  const s = stepper(md, { lr: opts.lr ?? 1e-4, dropout: true, jit: opts.jit ?? true });
  const msPerStep: number[] = [], losses: number[] = [], cpuMsPerStep: number[] = [];
  let firstMs = 0;
  try {
    for (let i = 0; i < Math.max(1, opts.warmup) + opts.reps; i++) { // at least one warm-up: it holds the compile
      const t0 = performance.now(), c0 = process.cpuUsage();
      const l = (await s.step().data())[0];
      const ms = performance.now() - t0, c = process.cpuUsage(c0);
      if (!Number.isFinite(l)) throw new Error(`jax layer: loss is ${l} at step ${i}`);
      losses.push(l);
      if (i === 0) firstMs = ms;
      if (i >= Math.max(1, opts.warmup)) { msPerStep.push(ms); cpuMsPerStep.push((c.user + c.system) / 1000); }
    }
  } finally {
    s.dispose();
    disposeJaxModel(md);
  }
  return { msPerStep, tokensPerSec: (opts.batch * opts.seq) / (median(msPerStep) / 1000), losses, cpuMsPerStep, firstMs };
}

/**
 * The step as a runner for bench/run.ts's alternating passes: one step + loss read back per run. The first step
 * (the jit trace and compile, a one-time cost) runs here, untimed.
 */
export async function jaxLayerRunner(opts: { layers: number; batch: number; seq: number; lr?: number; jit?: boolean }):
  Promise<{ run: () => Promise<number>; dispose: () => void }> {
  const md = await buildJaxModel(hostModel(opts.layers, opts.batch, opts.seq), opts.layers, opts.batch, opts.seq);
  const s = stepper(md, { lr: opts.lr ?? 1e-4, dropout: true, jit: opts.jit ?? true });
  const run = async () => {
    const l = (await s.step().data())[0];
    if (!Number.isFinite(l)) throw new Error(`jax layer: loss is ${l} at step ${md.t}`);
    return l;
  };
  try { await run(); } catch (e) { s.dispose(); disposeJaxModel(md); throw e; }
  return { run, dispose: () => { s.dispose(); disposeJaxModel(md); } };
}

// ---- --check: the same model as the TF.js peer, bit for bit at the start ----

/**
 * Builds the TF.js peer's model, copies its weights and inputs into jax-js, and compares with dropout off:
 * (1) the loss, (2) every parameter's gradient (jax-js eager valueAndGrad vs tf.variableGrads), (3) the losses
 * of `steps` AdamW steps at lr 1e-3 (jax-js: the jit-compiled step the bench times) and their total decrease;
 * and that dropout moves jax-js's output as much as TF.js's (the masks themselves cannot match).
 * Throws past the tolerances it prints.
 */
export async function checkJaxLayer(layers = 1, batch = 8, seq = 128, steps = 5): Promise<string[]> {
  await loadJax(); // first, so that TF.js reuses its navigator.gpu (one Dawn instance, DAWN_FLAGS honoured)
  const tl = await import('./tfjs-layer.js');
  const tm = await tl.buildModel({ layers, batch, seq });
  const { tf } = tm;
  const lines: string[] = [];
  const host: HostModel = { vars: new Map(), x: (await tm.x.data()) as Float32Array, target: (await tm.target.data()) as Float32Array };
  for (const v of tm.vars) host.vars.set(v.name, (await v.data()) as Float32Array);
  const md = await buildJaxModel(host, layers, batch, seq);
  const { tree, valueAndGrad } = md.jax;
  try {
    // (1) + (2)
    const tg = tf.variableGrads(() => tf.mean(tf.square(tf.sub(tl.encoder(tm, 0), tm.target))) as import('@tensorflow/tfjs-core').Scalar, tm.vars);
    const tfLoss = (await tg.value.data())[0];
    tg.value.dispose();
    const [jv, jg] = valueAndGrad(lossFn(md.jax, batch, seq), { argnums: 0 })(tree.ref(md.params), md.x.ref, md.target.ref, md.maskAdd.ref, []) as [JArray, Params];
    const jaxLoss = (await jv.data())[0];
    // Each engine's own float32 mean over B·S·256 squares rounds differently; the encoder outputs, reduced in
    // float64 here, are what must agree closely.
    const sq64 = (o: ArrayLike<number>, y: Float32Array) => { let s = 0; for (let i = 0; i < y.length; i++) s += (o[i] - y[i]) ** 2; return s / y.length; };
    const tOut = tl.encoder(tm, 0);
    const tfLoss64 = sq64((await tOut.data()) as Float32Array, host.target);
    tOut.dispose();
    const jaxLoss64 = sq64(await encoder(md.jax, batch, seq, tree.ref(md.params), md.x.ref, md.maskAdd.ref, []).data(), host.target);
    const lossRel = Math.abs(jaxLoss - tfLoss) / Math.abs(tfLoss), loss64Rel = Math.abs(jaxLoss64 - tfLoss64) / tfLoss64;
    lines.push(`loss (dropout off): jax-js ${jaxLoss.toFixed(7)}, TF.js ${tfLoss.toFixed(7)}, relative difference ${lossRel.toExponential(2)} (tolerance 2e-4)`);
    lines.push(`  same, mean taken in float64 on the host from each engine's output: jax-js ${jaxLoss64.toFixed(7)}, TF.js ${tfLoss64.toFixed(7)}, relative difference ${loss64Rel.toExponential(2)} (tolerance 1e-5)`);
    // Dropout masks differ between engines (each its own RNG): compare how much dropout moves the output in each
    // (the loss cannot show it: after the last LayerNorm mean(out²) ≈ 1 whatever the masks).
    const meanAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => { let d = 0; for (let i = 0; i < a.length; i++) d += Math.abs(a[i] - b[i]); return d / a.length; };
    const keys = [...md.jax.random.split(md.jax.random.key(3), 3 * layers)];
    const jOff = await encoder(md.jax, batch, seq, tree.ref(md.params), md.x.ref, md.maskAdd.ref, []).data();
    const jOn = await encoder(md.jax, batch, seq, tree.ref(md.params), md.x.ref, md.maskAdd.ref, keys).data();
    const [tOffT, tOnT] = [tl.encoder(tm, 0), tl.encoder(tm, DROPOUT)];
    const jDrop = meanAbsDiff(jOn, jOff), tDrop = meanAbsDiff(await tOnT.data(), await tOffT.data());
    tOffT.dispose(); tOnT.dispose();
    lines.push(`dropout ${DROPOUT}: mean |out_on − out_off| jax-js ${jDrop.toExponential(3)}, TF.js ${tDrop.toExponential(3)} (ratio must be in 0.9–1.1)`);
    let worst = { name: '', rel: 0 };
    for (let l = 0; l < layers; l++) {
      for (const n of NAMES) {
        const name = `l${l}.${n}`;
        const t = (await tg.grads[name].data()) as Float32Array, j = (await jg[l][n].data()) as Float32Array;
        tg.grads[name].dispose();
        let scale = 0, diff = 0;
        for (let i = 0; i < t.length; i++) { scale = Math.max(scale, Math.abs(t[i])); diff = Math.max(diff, Math.abs(t[i] - j[i])); }
        // ∂loss/∂bk ≡ 0 in exact arithmetic (softmax ignores a per-row shift): both are rounding noise; skip.
        if (n === 'bk') { lines.push(`  ${name}: |g| ≤ ${scale.toExponential(1)} in TF.js, |Δ| ${diff.toExponential(1)} (≡ 0 exactly; not compared)`); continue; }
        const rel = diff / scale;
        if (!(rel <= worst.rel) || !worst.name) worst = { name, rel };
      }
    }
    lines.push(`gradients: worst max|g_jax − g_tf| / max|g_tf| over ${layers * (NAMES.length - 1)} parameters ${worst.rel.toExponential(2)} (${worst.name}; tolerance 1e-4)`);
    // (3) training: TF.js trainStep and the jitted jax-js step, dropout off.
    const lr = 1e-3;
    const opt = tf.train.adam(lr, ADAMW.beta1, ADAMW.beta2, ADAMW.eps);
    const tfL: number[] = [];
    for (let i = 0; i < steps; i++) { const l = tl.trainStep(tm, opt, lr, 0); tfL.push((await l.data())[0]); l.dispose(); }
    opt.dispose();
    const s = stepper(md, { lr, dropout: false, jit: true });
    const jaxL: number[] = [];
    for (let i = 0; i < steps; i++) jaxL.push((await s.step().data())[0]);
    s.dispose();
    const dT = tfL[steps - 1] - tfL[0], dJ = jaxL[steps - 1] - jaxL[0];
    const stepRel = Math.max(...tfL.map((t, i) => Math.abs(jaxL[i] - t) / Math.abs(t)));
    lines.push(`AdamW lr ${lr}, ${steps} steps: jax-js ${jaxL.map((x) => x.toFixed(6)).join(' ')}`);
    lines.push(`                        TF.js  ${tfL.map((x) => x.toFixed(6)).join(' ')}`);
    lines.push(`  worst relative loss difference ${stepRel.toExponential(2)} (tolerance 1e-5); decrease jax-js ${dJ.toExponential(3)}, TF.js ${dT.toExponential(3)} (tolerance 1% of TF.js's)`);
    const bad: string[] = [];
    if (!(lossRel <= 2e-4) || !(loss64Rel <= 1e-5)) bad.push('loss');
    if (!(worst.rel <= 1e-4)) bad.push(`gradient of ${worst.name}`);
    if (!(jDrop / tDrop >= 0.9 && jDrop / tDrop <= 1.1)) bad.push('dropout');
    if (!(stepRel <= 1e-5) || !(Math.abs(dJ - dT) <= 0.01 * Math.abs(dT)) || !(dT < 0)) bad.push('training losses');
    if (bad.length) throw new Error(`jax layer check failed: ${bad.join(', ')}\n${lines.join('\n')}`);
  } finally {
    tl.disposeModel(tm);
    disposeJaxModel(md);
  }
  return lines;
}

async function main(): Promise<void> {
  await layerStepCli({
    device: 'jax-webgpu',
    check: checkJaxLayer,
    time: (o, has) => jaxLayerStep({ ...o, jit: !has('--eager') }),
    title: async (o, has) => `jax-js WebGPU on Dawn (${has('--eager') ? 'eager' : 'jit'}), batch ${o.batch} × seq ${o.seq}, warmup ${o.warmup}, reps ${o.reps}`,
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
}
