// AdamW as the ELECTRA authors' AdamWeightDecayOptimizer: no bias correction by default, decoupled
// weight decay added to the Adam direction (update = m/(sqrt(v)+eps) + wd·p; p -= lr·update), decay
// skipped for parameters the name predicate excludes, and global-norm clipping of all gradients
// together (tf.clip_by_global_norm) computed on the device with no readback.
// Per step: one Adam launch per parameter with a gradient; clipping adds one sum-of-squares launch per
// such parameter plus one scale launch. m, v and the clip buffers are kept (outside every tidy scope).

import type { Device } from '../device/device.js';
import { ShapeError, fmt } from '../device/shape.js';
import { Tensor, keep, tensor } from '../tensor/tensor.js';
import { copyInto as copyTensor, fill, optimizer } from '../tensor/ops.js';
import { noGrad } from '../autograd/tape.js';
import { SLOTS } from '../kernels/adam.js';

export interface AdamWOptions {
  /** Learning rate used by step() when it gets none (schedules pass theirs per step). */
  lr: number;
  /** (β1, β2); default (0.9, 0.999). */
  betas?: readonly [number, number];
  /** Default 1e-6 (ELECTRA; PyTorch's default is 1e-8). */
  eps?: number;
  /** Decoupled weight decay rate; default 0. */
  weightDecay?: number;
  /** Parameters (by name) that get no weight decay; default: names containing LayerNorm, layer_norm or bias. */
  excludeFromDecay?: (name: string) => boolean;
  /** Adam's 1/(1-βᵗ) corrections; default false (ELECTRA uses none). */
  biasCorrection?: boolean;
  /**
   * Clip the global gradient norm to this value (ELECTRA: 1.0). Undefined or 0: no clipping and no
   * norm computed. Infinity: the norm is computed (for lastGradNorm) but never clips.
   */
  maxGradNorm?: number;
  /**
   * Per-parameter factor on the step's learning rate (ELECTRA fine-tuning's layerwise decay,
   * `_get_layer_lrs`: lr · decay^(depth of the layer from the top)); default 1 for all.
   */
  lrMultiplier?: (name: string) => number;
}

/** ELECTRA's exclusion rule (`_do_use_weight_decay` with ["LayerNorm", "layer_norm", "bias"]). */
export const excludeLayerNormAndBias = (name: string): boolean => /LayerNorm|layer_norm|bias/.test(name);

/**
 * Optimizer state for checkpoints. `m` and `v` map parameter names to the optimizer's own live
 * tensors (do not dispose them; read with `await t.data()`); `step` is the number of steps taken.
 */
export interface AdamWState { step: number; m: Record<string, Tensor>; v: Record<string, Tensor> }

/** What loadState accepts: tensors (copied on the device) or host arrays (uploaded), keyed by name. */
export interface AdamWStateInput { step: number; m: Record<string, Tensor | ArrayLike<number>>; v: Record<string, Tensor | ArrayLike<number>> }

interface Slot { name: string; p: Tensor; m: Tensor; v: Tensor; decay: boolean; lrScale: number }

export class AdamW {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly biasCorrection: boolean;
  readonly maxGradNorm: number;
  /** Steps taken so far (t in the bias correction; saved in state()). */
  stepCount = 0;
  private slots: Slot[];
  private device: Device;
  /** [SLOTS × params] partial sums of squares, and [scale, norm]; null when clipping is off. */
  private partials: Tensor | null = null;
  private clip: Tensor | null = null;
  private normValid = false;

  constructor(namedParams: readonly (readonly [string, Tensor])[], opts: AdamWOptions) {
    if (namedParams.length === 0) throw new Error('AdamW: no parameters');
    this.lr = checkNum('lr', opts.lr, 0);
    [this.beta1, this.beta2] = opts.betas ?? [0.9, 0.999];
    for (const b of [this.beta1, this.beta2]) if (!(b >= 0 && b < 1)) throw new RangeError(`AdamW: betas must be in [0, 1), got ${opts.betas}`);
    this.eps = checkNum('eps', opts.eps ?? 1e-6, 0);
    this.weightDecay = checkNum('weightDecay', opts.weightDecay ?? 0, 0);
    this.biasCorrection = opts.biasCorrection ?? false;
    this.maxGradNorm = opts.maxGradNorm ?? 0;
    if (!(this.maxGradNorm >= 0)) throw new RangeError(`AdamW: maxGradNorm must be ≥ 0, got ${opts.maxGradNorm}`);
    const exclude = opts.excludeFromDecay ?? excludeLayerNormAndBias;
    const lrScale = opts.lrMultiplier ?? (() => 1);
    this.device = namedParams[0][1].device;
    // Validate everything before allocating, so a bad argument leaks no kept state tensors.
    const seen = new Set<string>();
    const storages = new Map<unknown, string>();
    const scales = namedParams.map(([name, p]) => {
      p.check(`AdamW(${name})`);
      if (seen.has(name)) throw new Error(`AdamW: parameter name ${name} given twice`);
      seen.add(name);
      // A tied weight must appear once: two slots on one storage would apply two updates per step.
      const other = storages.get(p.storage);
      if (other !== undefined) throw new Error(`AdamW: parameters ${other} and ${name} share storage (a tied weight); list it once`);
      storages.set(p.storage, name);
      if (p.dtype !== 'f32') throw new TypeError(`AdamW: parameter ${name} ${fmt(p.shape)} is ${p.dtype}, not f32`);
      if (p.device !== this.device) throw new Error(`AdamW: parameter ${name} lives on ${p.device.name}, others on ${this.device.name}`);
      return checkNum(`lrMultiplier(${name})`, lrScale(name), 0);
    });
    this.slots = noGrad(() => namedParams.map(([name, p], k) => {
      const m = keep(fill(p.shape, 0, 'f32', p.device)), v = keep(fill(p.shape, 0, 'f32', p.device));
      return { name, p, m, v, decay: !exclude(name), lrScale: scales[k] };
    }));
    if (this.maxGradNorm > 0) {
      this.partials = keep(noGrad(() => fill([this.slots.length * SLOTS], 0, 'f32', this.device)));
      this.clip = keep(noGrad(() => fill([2], 0, 'f32', this.device)));
    }
  }

  /** Names of the parameters that get weight decay (for logging and tests). */
  decayed(): string[] { return this.slots.filter((s) => s.decay).map((s) => s.name); }

  /**
   * One update of every parameter that has a gradient (others are skipped, as TF and PyTorch do),
   * at learning rate `lr` (default: the constructor's). Records device work and submits it (so a loop
   * that reads nothing back still hands the GPU each step); no readback.
   */
  step(lr: number = this.lr): void {
    checkNum('step: lr', lr, 0);
    const live = this.slots.filter((s) => s.p.check(`AdamW.step(${s.name})`).grad);
    for (const s of live) {
      const g = s.p.grad!.check(`AdamW.step(${s.name}.grad)`);
      if (g.size !== s.p.size || g.dtype !== 'f32') throw new ShapeError(`AdamW.step: gradient ${fmt(g.shape)} ${g.dtype} does not match parameter ${s.name} ${fmt(s.p.shape)} f32`);
      if (g.device !== s.p.device) throw new Error(`AdamW.step: gradient of ${s.name} lives on ${g.device.name}, the parameter on ${s.p.device.name}`);
    }
    this.stepCount++;
    const t = this.stepCount;
    const c1 = this.biasCorrection ? 1 / (1 - this.beta1 ** t) : 1;
    const c2 = this.biasCorrection ? 1 / (1 - this.beta2 ** t) : 1;
    const clip = this.clip !== null && live.length > 0;
    if (clip) {
      live.forEach((s, k) => optimizer.sumSquares(s.p.grad!, this.partials!, k, `AdamW sumSquares(${s.name} ${fmt(s.p.shape)})`));
      optimizer.clipScale(this.partials!, this.clip!, live.length * SLOTS, this.maxGradNorm, `AdamW clipScale(${live.length} params)`);
      this.normValid = true;
    }
    for (const s of live) {
      const q = { lr: lr * s.lrScale, beta1: this.beta1, beta2: this.beta2, eps: this.eps, wd: s.decay ? this.weightDecay : 0, c1, c2 };
      optimizer.adamUpdate(s.p.grad!, clip ? this.clip! : null, s.p, s.m, s.v, q, `AdamW(${s.name} ${fmt(s.p.shape)})`);
    }
    live[0]?.p.device.submit?.();
  }

  /** The global gradient norm (before clipping) of the last step; a readback, for logging only. */
  async lastGradNorm(): Promise<number> {
    if (!this.clip) throw new Error('AdamW.lastGradNorm: the norm is computed only when maxGradNorm is set (Infinity: measure without clipping)');
    if (!this.normValid) throw new Error('AdamW.lastGradNorm: no step with gradients taken yet');
    return (await this.clip.data())[1];
  }

  /** Drops every parameter's gradient (the next backward starts a fresh accumulation). */
  zeroGrad(): void {
    for (const s of this.slots) { s.p.grad?.dispose(); s.p.grad = null; }
  }

  state(): AdamWState {
    const m: Record<string, Tensor> = {}, v: Record<string, Tensor> = {};
    for (const s of this.slots) { m[s.name] = s.m; v[s.name] = s.v; }
    return { step: this.stepCount, m, v };
  }

  /** Restores a state() (or its arrays read back); every parameter needs its m and v. */
  loadState(st: AdamWStateInput): void {
    if (!Number.isInteger(st.step) || st.step < 0) throw new RangeError(`AdamW.loadState: step must be a non-negative integer, got ${st.step}`);
    for (const s of this.slots) {
      for (const [which, src, dst] of [['m', st.m[s.name], s.m], ['v', st.v[s.name], s.v]] as const) {
        if (src === undefined) throw new Error(`AdamW.loadState: no ${which} for parameter ${s.name}`);
        const n = src instanceof Tensor ? src.size : src.length;
        if (n !== dst.size) throw new ShapeError(`AdamW.loadState: ${which} of ${s.name} has ${n} elements, parameter ${fmt(s.p.shape)} has ${dst.size}`);
        copyInto(src, dst, `AdamW.loadState(${which} ${s.name})`);
      }
    }
    this.stepCount = st.step;
    this.normValid = false;
  }

  /** Frees m, v and the clip buffers. */
  dispose(): void {
    for (const s of this.slots) { s.m.dispose(); s.v.dispose(); }
    this.partials?.dispose();
    this.clip?.dispose();
  }
}

function checkNum(what: string, x: number, min: number): number {
  if (!Number.isFinite(x) || x < min) throw new RangeError(`AdamW: ${what} must be a finite number ≥ ${min}, got ${x}`);
  return x;
}

/** Copies a tensor (on the device, in command order) or a host array into dst. */
function copyInto(src: Tensor | ArrayLike<number>, dst: Tensor, lbl: string): void {
  let t: Tensor;
  let owned = false;
  if (src instanceof Tensor) {
    t = src.check(lbl);
    if (t.dtype !== 'f32') throw new TypeError(`${lbl}: source is ${t.dtype}, not f32`);
    if (t.device !== dst.device) throw new Error(`${lbl}: source lives on ${t.device.name}, the optimizer on ${dst.device.name}`);
  } else {
    t = tensor(src, [dst.size], { device: dst.device, dtype: 'f32' });
    owned = true;
  }
  if (t.storage !== dst.storage) copyTensor(t, dst, lbl);
  if (owned) t.dispose();
}
