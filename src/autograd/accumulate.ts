// In-place gradient accumulation dst += src (same shape), used where graph branches merge and for
// leaf .grad across micro-batches. A dedicated kernel: WebGPU forbids binding one buffer as both a
// read-only input and the output of a dispatch, so the generic map cannot write in place.

import { FLAT_WG, type Kernel, grid1d, header } from '../tensor/device.js';
import { add, launchInto } from '../tensor/ops.js';
import { keep } from '../tensor/tensor.js';
import { noGrad } from './tape.js';
import { fmt, sameShape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

const WG = 256;

export const accumulateKernel: Kernel<{ n: number }> = {
  name: 'accumulate',
  cpu(p, [x], [y]) { for (let i = 0; i < p.n; i++) y[i] += x[i]; },
  wgsl(p) {
    const h = header([['n', 'u32', p.n]], [['x', 'array<f32>']], [['y', 'array<f32>']]);
    return {
      code: `${h.code}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (${FLAT_WG}) * ${WG}u + lid;
  if (i >= P.n) { return; }
  y[i] = y[i] + x[i];
}
`,
      grid: grid1d(Math.ceil(p.n / WG)), uniforms: h.uniforms,
    };
  },
};

/**
 * dst + src, written into dst's storage when dst holds it alone (no other handle would see the
 * change); otherwise a new tensor. Returns the sum; src is left to the caller.
 */
export function accumulate(dst: Tensor, src: Tensor): Tensor {
  if (!sameShape(dst.shape, src.shape)) throw new Error(`accumulate: ${fmt(src.shape)} into ${fmt(dst.shape)}`);
  if (dst.storage.refs === 1 && dst.storage !== src.storage) {
    launchInto(accumulateKernel, { n: dst.size }, [src], [dst], `accumulate(${fmt(dst.shape)})`);
    return dst;
  }
  const sum = keep(noGrad(() => add(dst, src)));
  dst.dispose();
  return sum;
}
