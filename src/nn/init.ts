// Parameter initialisation on the host, from a seeded generator, then one upload per tensor: the
// same seed gives bit-identical weights on every device (CPU and GPU runs start equal), and init
// is a one-time cost. Distributions follow the ELECTRA/BERT code: truncated normal (cut at 2σ, as
// TF's truncated_normal_initializer) for most weights, Glorot uniform where TF used its default.

import type { Device } from '../device/device.js';
import { type Shape, numel } from '../device/shape.js';
import { Tensor, getDevice, keep, tensor } from '../tensor/tensor.js';

/** xoshiro128** seeded by splitmix32: fast, 2^128 period, reproducible across platforms. */
export class HostRng {
  private s: Uint32Array;
  constructor(seed: number) {
    this.s = new Uint32Array(4);
    let z = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      z = (z + 0x9e3779b9) >>> 0;
      let t = z;
      t = Math.imul(t ^ (t >>> 16), 0x85ebca6b);
      t = Math.imul(t ^ (t >>> 13), 0xc2b2ae35);
      this.s[i] = (t ^ (t >>> 16)) >>> 0;
    }
  }
  nextU32(): number {
    const s = this.s;
    const r = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 11);
    return r;
  }
  /** Uniform in [0, 1). */
  uniform(): number { return this.nextU32() / 4294967296; }
  normal(): number {
    const u = 1 - this.uniform(), v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  /** Normal resampled until within 2σ (TF truncated_normal). */
  truncatedNormal(): number {
    for (;;) { const x = this.normal(); if (Math.abs(x) <= 2) return x; }
  }
}

function rotl(x: number, k: number): number { return ((x << k) | (x >>> (32 - k))) >>> 0; }

export interface InitOpts { rng: HostRng; device?: Device }

function make(shape: Shape, opts: InitOpts, sample: () => number): Tensor {
  const v = new Float32Array(numel(shape));
  for (let i = 0; i < v.length; i++) v[i] = sample();
  return keep(tensor(v, shape, { device: opts.device ?? getDevice() })).param();
}

export const init = {
  truncatedNormal: (shape: Shape, std: number, o: InitOpts) => make(shape, o, () => std * o.rng.truncatedNormal()),
  normal: (shape: Shape, std: number, o: InitOpts) => make(shape, o, () => std * o.rng.normal()),
  /** Glorot/Xavier uniform for a [fanOut, fanIn] weight. */
  glorotUniform: (shape: Shape, o: InitOpts) => {
    const fanOut = shape[0], fanIn = numel(shape.slice(1));
    const lim = Math.sqrt(6 / (fanIn + fanOut));
    return make(shape, o, () => (2 * o.rng.uniform() - 1) * lim);
  },
  zeros: (shape: Shape, o: InitOpts) => make(shape, o, () => 0),
  ones: (shape: Shape, o: InitOpts) => make(shape, o, () => 1),
};
