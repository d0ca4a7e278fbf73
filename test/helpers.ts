// Test helpers: the devices under test, allclose with readable failures, and the gradient checker.
// WebGPU: REQUIRE_WEBGPU=1 makes a missing adapter a failure; otherwise GPU suites skip with one line.

import { CpuDevice } from '../src/device/cpu.js';
import type { Device } from '../src/device/device.js';
import type { HostArray } from '../src/device/dtype.js';
import { Tensor, tensor, tidy } from '../src/tensor/tensor.js';
import { nodeDevice } from '../src/node/device.js';
import '../src/autograd/tape.js'; // installs Tensor.backward() for tests that import the tensor floor directly

let gpuPromise: Promise<Device | null> | null = null;

/** The shared Dawn device, or null (after one explanatory line) when none can be had. */
export function gpu(): Promise<Device | null> {
  gpuPromise ??= nodeDevice().then(
    (d) => d as Device,
    (e: Error) => {
      if (process.env.REQUIRE_WEBGPU === '1') throw new Error(`REQUIRE_WEBGPU=1 but no WebGPU device: ${e.message}`);
      console.log(`  (skipping WebGPU tests: ${e.message.split('.')[0]})`);
      return null;
    },
  );
  return gpuPromise;
}

export const cpu = new CpuDevice();
export const cpu64 = new CpuDevice({ f64: true });

/** Deterministic uniform values in [lo, hi) (mulberry32). */
export function rand(n: number, seed = 1, lo = -1, hi = 1): Float64Array {
  let s = seed >>> 0;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  return out;
}

export interface Tol { atol?: number; rtol?: number; label?: string }

/** |a - e| ≤ atol + rtol·|e| elementwise; on failure names the first bad index, both values and the max error. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tol = {}): void {
  const atol = tol.atol ?? 1e-5, rtol = tol.rtol ?? 1e-4, what = tol.label ?? 'values';
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length} vs expected ${expected.length}`);
  let worst = 0, worstIdx = -1, firstBad = -1;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], e = expected[i];
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    const err = Math.abs(a - e);
    if (!(err <= atol + rtol * Math.abs(e))) { if (firstBad < 0) firstBad = i; }
    if (!(err <= worst)) { worst = err; worstIdx = i; }
  }
  if (firstBad >= 0) {
    const show = (i: number) => `[${i}] got ${actual[i]}, expected ${expected[i]}`;
    throw new Error(`${what}: mismatch (atol ${atol}, rtol ${rtol}); first ${show(firstBad)}; max |err| ${worst} at ${show(worstIdx)}`);
  }
}

export async function read(t: Tensor): Promise<HostArray> { return t.data(); }

/**
 * Checks the analytic gradient of sum(f(xs) · w) (w fixed random weights) against central
 * differences, all in float64 on the CPU device. Returns the max relative error seen.
 */
export async function checkGrad(
  f: (...xs: Tensor[]) => Tensor,
  inputs: { data: ArrayLike<number>; shape: number[] }[],
  opts: { eps?: number; tol?: number; label?: string; wrt?: number[] } = {},
): Promise<void> {
  const eps = opts.eps ?? 1e-6, tol = opts.tol ?? 1e-6;
  const wrt = opts.wrt ?? inputs.map((_, i) => i);
  const dev = cpu64;
  const loss = (vals: Float64Array[], withGrad: boolean): { l: number; grads: Float64Array[] } =>
    tidy(() => {
      const xs = vals.map((v, i) => tensor(v, inputs[i].shape, { device: dev }));
      wrt.forEach((i) => { xs[i].requiresGrad = true; });
      const y = f(...xs);
      const w = tensor(rand(y.size, 99), [...y.shape], { device: dev });
      const l = y.mul(w).sum();
      const lv = syncData(l)[0];
      let grads: Float64Array[] = [];
      if (withGrad) {
        l.backward();
        grads = xs.map((x) => (x.grad ? Float64Array.from(syncData(x.grad)) : new Float64Array(x.size)));
        xs.forEach((x) => x.grad?.dispose());
      }
      return { l: lv, grads };
    });
  const base = inputs.map((x) => Float64Array.from(x.data));
  const { grads } = loss(base, true);
  for (const i of wrt) {
    const num = new Float64Array(base[i].length);
    for (let j = 0; j < base[i].length; j++) {
      const plus = base.map((v) => Float64Array.from(v)); plus[i][j] += eps;
      const minus = base.map((v) => Float64Array.from(v)); minus[i][j] -= eps;
      num[j] = (loss(plus, false).l - loss(minus, false).l) / (2 * eps);
    }
    assertClose(grads[i], num, { atol: tol, rtol: tol * 10, label: `${opts.label ?? 'grad'} d/dx${i}` });
  }
}

/** CPU tensors can be read synchronously (tests only). */
function syncData(t: Tensor): HostArray {
  const s = t.storage as unknown as { data: HostArray };
  return s.data.subarray(0, t.size);
}
