// The peers' shared pieces and the TF.js matmul peer: TF.js's WebGPU backend (@tensorflow/tfjs-backend-webgpu,
// dev-only) on Dawn through the same `webgpu` npm package, timed exactly like ours (dispatch → read back, median
// after warm-up), so bench/run.ts --peers reports all in one process run. Records carry device 'tfjs-webgpu';
// the second peer, jax-js, is bench/peers/jax.ts ('jax-webgpu').

import { dawnFlags } from '../src/node/device.js';

export interface MatmulWorkload { name: string; m: number; n: number; k: number; transA: boolean; transB: boolean }

type TF = typeof import('@tensorflow/tfjs-core');

let tfp: Promise<TF> | null = null;
// Dawn tears its instance down (taking live devices with it) when the GPU object is collected: hold it.
let peerGpu: GPU | null = null;

/**
 * The one Dawn GPU object both peers use, as `navigator.gpu` (TF.js's backend registers itself at import time
 * only if it is there; jax-js's init() looks for it). Node 20 has no `navigator`: it is defined here, with a
 * `userAgent` because jax-js reads navigator.userAgent (its Firefox and mobile checks).
 */
export async function navigatorGpu(): Promise<GPU> {
  const g = globalThis as unknown as { navigator?: { gpu?: GPU; userAgent?: string } };
  if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
  if (!g.navigator!.gpu) {
    const { create, globals } = (await import('webgpu')) as unknown as { create(flags: string[]): GPU; globals: Record<string, unknown> };
    Object.assign(globalThis, globals);
    Object.defineProperty(g.navigator, 'gpu', { value: create(dawnFlags()), configurable: true });
  }
  if (typeof g.navigator!.userAgent !== 'string') Object.defineProperty(g.navigator, 'userAgent', { value: `Node.js/${process.version}`, configurable: true });
  peerGpu = g.navigator!.gpu!;
  return peerGpu;
}

/**
 * TF.js with its WebGPU backend on the shared GPU object: the one copy the layer peer bundles with its gradients
 * (bench/peers/tfjs-layer.ts). Importing the npm tfjs-core as well would load a second engine into the same
 * global kernel registry (both register every WebGPU kernel, with a warning per kernel).
 */
export async function loadTfjs(): Promise<TF> {
  tfp ??= (async () => {
    await navigatorGpu();
    return (await import('./peers/tfjs-layer.js')).loadTfjs();
  })();
  tfp.catch(() => { tfp = null; });
  return tfp;
}

/** The LCG data every matmul workload uses (as bench/run.ts), so all engines multiply the same numbers. */
export function rnd(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; out[i] = (s / 4294967296) * 2 - 1; }
  return out;
}

/** One tfjs matmul workload as a runner (dispatch → read back) for bench/run.ts's alternating passes. */
export async function tfjsMatmulRunner(w: MatmulWorkload): Promise<{ run: () => Promise<unknown>; dispose: () => void }> {
  const tf = await loadTfjs();
  const a = tf.tensor2d(rnd(w.m * w.k, 1), w.transA ? [w.k, w.m] : [w.m, w.k]);
  const b = tf.tensor2d(rnd(w.k * w.n, 2), w.transB ? [w.n, w.k] : [w.k, w.n]);
  return {
    run: async () => { const c = tf.matMul(a, b, w.transA, w.transB); const d = await c.data(); c.dispose(); return d; },
    dispose: () => { a.dispose(); b.dispose(); },
  };
}
