// Rng: a seed plus a counter of streams drawn. Every draw (a random tensor, a dropout mask, a Gumbel
// sample) takes the next stream id and is then a pure function of (seed, stream, element index) on
// either device (Philox, src/kernels/random.ts). Saving { seed, counter } and restoring it therefore
// resumes the exact sequence of draws an uninterrupted run would have made.
// Creation ops here record no gradient (random tensors are constants); dropout lives in ops.ts.

import type { Device } from '../device/device.js';
import { type Shape, ShapeError, checkShape, fmt, numel } from '../device/shape.js';
import { type Tensor, getDevice, wrap } from './tensor.js';
import { type RandomKind, gumbelMax, randomFill, seedKey } from '../kernels/random.js';

export interface RngState { seed: number; counter: number }

export class Rng {
  readonly seed: number;
  /** Streams drawn so far; the next draw uses stream id `counter`. */
  counter: number;
  /** The seed as Philox's two key words. */
  readonly key: readonly [number, number];

  constructor(seed: number, counter = 0) {
    this.key = seedKey(seed);
    if (!Number.isInteger(counter) || counter < 0 || counter >= 2 ** 32) throw new RangeError(`rng: counter must be an integer in [0, 2^32), got ${counter}`);
    this.seed = seed;
    this.counter = counter;
  }

  static fromState(s: RngState): Rng { return new Rng(s.seed, s.counter); }
  state(): RngState { return { seed: this.seed, counter: this.counter }; }

  /** Reserves the next stream id (for kernels that draw on their own, e.g. dropout). */
  nextStream(): number {
    if (this.counter >= 2 ** 32 - 1) throw new RangeError('rng: stream counter exhausted (2^32 draws)');
    return this.counter++;
  }

  private fill(kind: RandomKind, shape: Shape, a: number, b: number, device: Device, what: string): Tensor {
    checkShape(shape, what);
    if (numel(shape) >= 2 ** 32) throw new ShapeError(`${what}: ${fmt(shape)} has over 2^32 elements`);
    return wrap(randomFill(device, kind, shape, { k0: this.key[0], k1: this.key[1], stream: this.nextStream() }, a, b, `${what}(${fmt(shape)})`));
  }

  /** Uniform in [lo, hi): lo + (hi - lo)·u, u = k·2⁻²⁴ (24 random bits, exact in f32). */
  uniform(shape: Shape, lo = 0, hi = 1, device: Device = getDevice()): Tensor {
    return this.fill('uniform', shape, lo, hi, device, 'rng.uniform');
  }

  /** Normal(mean, std²) by Box–Muller (one value per counter). */
  normal(shape: Shape, mean = 0, std = 1, device: Device = getDevice()): Tensor {
    return this.fill('normal', shape, mean, std, device, 'rng.normal');
  }

  /** Normal(0, std²) with values beyond 2·std re-drawn (TF truncated_normal, ELECTRA's initializer). */
  truncatedNormal(shape: Shape, std = 1, device: Device = getDevice()): Tensor {
    return this.fill('truncnormal', shape, 0, std, device, 'rng.truncatedNormal');
  }

  /** The raw Philox words: i32 [n, 4], row i = philox(counter (i, stream, 0, 0), key) bit-cast. */
  bits(n: number, device: Device = getDevice()): Tensor {
    return this.fill('bits', [n, 4], 0, 0, device, 'rng.bits');
  }
}

/**
 * Gumbel-max sampling: logits [N, V] → i32 [N], argmax(logits/T + g), g = -log(-log(u + 1e-9) + 1e-9)
 * as the ELECTRA authors' sample_from_softmax; a sample from softmax(logits/T). No gradient. The noise
 * is generated inside the kernel (one workgroup per row), never materialised.
 */
export function sampleGumbelMax(logits: Tensor, rng: Rng, temperature = 1): Tensor {
  logits.check('sampleGumbelMax');
  if (logits.rank !== 2) throw new ShapeError(`sampleGumbelMax: logits must be [N, V], got ${fmt(logits.shape)}`);
  if (logits.dtype !== 'f32') throw new TypeError(`sampleGumbelMax: expected f32 logits, got ${logits.dtype} ${fmt(logits.shape)}`);
  if (!(temperature > 0) || !Number.isFinite(temperature)) throw new RangeError(`sampleGumbelMax: temperature must be a positive number, got ${temperature}`);
  const [rows, v] = logits.shape;
  if (v === 0) throw new ShapeError(`sampleGumbelMax: logits ${fmt(logits.shape)} has no classes`);
  if (rows * v >= 2 ** 32) throw new ShapeError(`sampleGumbelMax: ${fmt(logits.shape)} has over 2^32 elements`);
  return wrap(gumbelMax(logits, { k0: rng.key[0], k1: rng.key[1], stream: rng.nextStream() }, temperature, `sampleGumbelMax(${fmt(logits.shape)})`));
}
