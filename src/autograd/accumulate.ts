// In-place gradient accumulation dst += src (same shape), used where graph branches merge and for
// leaf .grad across micro-batches. A dedicated kernel: WebGPU forbids binding one buffer as both a
// read-only input and the output of a dispatch, so the generic map cannot write in place.

import { type Kernel, flatGrid, flatMain, header } from '../device/device.js';
import { add, launchInto } from '../tensor/ops.js';
import { keep } from '../tensor/tensor.js';
import { noGrad } from './tape.js';
import { fmt, sameShape } from '../device/shape.js';
import type { Tensor } from '../tensor/tensor.js';

export const accumulateKernel: Kernel<{ n: number }> = {
  name: 'accumulate',
  cpu(p, [x], [y]) { for (let i = 0; i < p.n; i++) y[i] += x[i]; },
  wgsl(p) {
    const w = p.n % 4 === 0 ? 4 : 1;
    const ty = w === 4 ? 'array<vec4<f32>>' : 'array<f32>';
    const h = header([['n', 'u32', p.n / w]], [['x', ty]], [['y', ty]]);
    return { code: `${h.code}${flatMain('P.n', '    y[i] = y[i] + x[i];')}`, grid: flatGrid(p.n / w), uniforms: h.uniforms };
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
