// AdamW as the ELECTRA authors' AdamWeightDecayOptimizer: no bias correction by default, decoupled
// weight decay added to the Adam direction (update = m/(sqrt(v)+eps) + wd·p; p -= lr·update), decay
// skipped for parameters the name predicate excludes, and global-norm clipping of all gradients
// together (tf.clip_by_global_norm) computed on the device with no readback.
// Multi-tensor: each step copies the parameters and gradients into two buffers (one layout, shared with
// the moments), runs three launches whatever the parameter count (src/kernels/adam.ts), and copies the
// parameters back: copy commands, not kernels. Parameters keep their own storages, so views of them and
// weights written in between (a checkpoint load) stay right. The same launches check every step that the
// loss and the gradient norm are finite. All of it is kept outside every tidy scope.

import type { Device, DeviceArray } from '../device/device.js';
import { ShapeError, fmt } from '../device/shape.js';
import { Tensor, keep, tensor } from '../tensor/tensor.js';
import { adamStep, copyElements, copyOut, fill, sliceOf } from '../tensor/ops.js';
import { noGrad } from '../autograd/tape.js';
import { type AdamBuffers, type AdamLayout, STATE, STATE_LEN, adamLayout, groupViews } from '../kernels/adam.js';

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
   * Clip the global gradient norm to this value (ELECTRA: 1.0). Undefined or 0: no clipping (the norm is
   * still computed for the finite check, but lastGradNorm is for clipping runs). Infinity: never clips.
   */
  maxGradNorm?: number;
  /**
   * Per-parameter factor on the step's learning rate (ELECTRA fine-tuning's layerwise decay,
   * `_get_layer_lrs`: lr · decay^(depth of the layer from the top)); default 1 for all.
   */
  lrMultiplier?: (name: string) => number;
  /**
   * Dynamic loss scaling for f16 mixed precision: backward is seeded with `lossScale` (start `init`,
   * default 2¹⁵), the gradients are unscaled inside the norm pass, a step whose scaled gradients
   * overflow is skipped and halves the scale, and `growthInterval` good steps in a row (default 1000)
   * double it. All on the device, with no readback.
   */
  lossScaling?: { init?: number; growthInterval?: number };
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

/**
 * What the last steps' device-side check found (read back on request, e.g. before a checkpoint): the
 * first step whose loss or gradient norm was not finite, and whose gradient went first. From that step
 * on no parameter moves, so the weights are those of the last finite step.
 */
export type AdamWHealth =
  | { ok: true }
  | { ok: false; step: number; what: 'loss' | 'gradient'; param: string | null; message: string };

interface Slot { name: string; p: Tensor; m: Tensor; v: Tensor; decay: boolean; lrScale: number; offset: number }

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
  private layout: AdamLayout;
  /** p, m, v, g buffers (p and g: per-step copies of the parameters and gradients), tables, partials, state. */
  private buf: { [K in keyof AdamBuffers]: Tensor };
  private views: DeviceArray[][];
  private live: Uint8Array;
  private normValid = false;
  /** The dynamic loss scale [] on the device (seed of backward), or null without loss scaling. */
  readonly lossScale: Tensor | null = null;
  private readonly growth: number = 0;

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
    const d = this.device;
    this.layout = adamLayout(namedParams.map(([, p]) => p.size), Math.floor((d.caps?.maxStorageBinding ?? Infinity) / 4));
    const L = this.layout;
    // Float64 so the float64 CPU device holds the factors exactly (the GPU rounds them to f32 as it must).
    const hyper = new Float64Array(2 * namedParams.length);
    namedParams.forEach(([name], k) => { hyper[2 * k] = scales[k]; hyper[2 * k + 1] = exclude(name) ? 0 : 1; });
    const state = new Float32Array(STATE_LEN);
    state[STATE.scale] = 1; state[STATE.badStep] = -1; state[STATE.badTensor] = -1;
    const kept = (t: Tensor) => keep(t);
    this.buf = noGrad(() => ({
      p: kept(fill([L.total], 0, 'f32', d)), m: kept(fill([L.total], 0, 'f32', d)), v: kept(fill([L.total], 0, 'f32', d)), g: kept(fill([L.total], 0, 'f32', d)),
      table: kept(tensor(new Int32Array(L.chunkTable.buffer), [L.chunkTable.length], { device: d, dtype: 'i32' })),
      live: kept(tensor(new Int32Array(namedParams.length).fill(1), [namedParams.length], { device: d, dtype: 'i32' })),
      hyper: kept(tensor(hyper, [hyper.length], { device: d })),
      partials: kept(fill([L.chunkTable.length / 4], 0, 'f32', d)),
      state: kept(tensor(state, [STATE_LEN], { device: d })),
    }));
    this.live = new Uint8Array(namedParams.length).fill(1);
    this.slots = namedParams.map(([name, p], k) => {
      const offset = L.offsets[k];
      const m = keep(sliceOf(this.buf.m, offset, p.shape, `AdamW m ${name}`)), v = keep(sliceOf(this.buf.v, offset, p.shape, `AdamW v ${name}`));
      return { name, p, m, v, decay: !exclude(name), lrScale: scales[k], offset };
    });
    this.views = groupViews(d, this.buf, L, 'AdamW');
    if (opts.lossScaling) {
      const init = checkNum('lossScaling.init', opts.lossScaling.init ?? 2 ** 15, 1);
      this.growth = checkNum('lossScaling.growthInterval', opts.lossScaling.growthInterval ?? 1000, 1);
      this.lossScale = keep(tensor([init], [], { device: d }));
    }
  }

  /** Names of the parameters that get weight decay (for logging and tests). */
  decayed(): string[] { return this.slots.filter((s) => s.decay).map((s) => s.name); }

  /**
   * One update of every parameter that has a gradient (others are skipped, as TF and PyTorch do), at
   * learning rate `lr` (default: the constructor's): parameters and gradients are copied into the
   * optimizer's buffers, three launches cover them all (see src/kernels/adam.ts), and the parameters are
   * copied back. Every step also checks on
   * the device that `loss` (when given) and the gradient norm are finite (`health()` reads the verdict).
   * Records device work and submits it; no readback.
   */
  step(lr: number = this.lr, opts: { loss?: Tensor } = {}): void {
    checkNum('step: lr', lr, 0);
    const live = this.slots.map((s) => !!s.p.check(`AdamW.step(${s.name})`).grad);
    this.slots.forEach((s, k) => {
      if (!live[k]) return;
      const g = s.p.grad!.check(`AdamW.step(${s.name}.grad)`);
      if (g.size !== s.p.size || g.dtype !== 'f32') throw new ShapeError(`AdamW.step: gradient ${fmt(g.shape)} ${g.dtype} does not match parameter ${s.name} ${fmt(s.p.shape)} f32`);
      if (g.device !== s.p.device) throw new Error(`AdamW.step: gradient of ${s.name} lives on ${g.device.name}, the parameter on ${s.p.device.name}`);
    });
    if (opts.loss && (opts.loss.size !== 1 || opts.loss.device !== this.device)) throw new ShapeError(`AdamW.step: loss must be one number on ${this.device.name}, got ${fmt(opts.loss.shape)} on ${opts.loss.device.name}`);
    if (live.some((x, k) => x !== !!this.live[k])) {
      this.live = Uint8Array.from(live, Number);
      this.device.write(this.buf.live.storage, Int32Array.from(this.live), 'i32');
    }
    this.stepCount++;
    const t = this.stepCount;
    this.slots.forEach((s, k) => {
      if (!live[k]) return;
      copyElements(s.p, this.buf.p, s.offset, `AdamW param ${s.name}`);
      copyElements(s.p.grad!, this.buf.g, s.offset, `AdamW grad ${s.name}`);
    });
    const q = {
      lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, wd: this.weightDecay,
      c1: this.biasCorrection ? 1 / (1 - this.beta1 ** t) : 1, c2: this.biasCorrection ? 1 / (1 - this.beta2 ** t) : 1,
    };
    const lossScale = this.lossScale ? { scale: this.lossScale, growth: this.growth } : null;
    adamStep(this.buf, this.views, this.layout, q, { maxNorm: this.maxGradNorm, step: t, loss: opts.loss ?? null, lossScale }, `AdamW(${this.slots.length} params)`);
    this.slots.forEach((s, k) => { if (live[k]) copyOut(this.buf.p, s.offset, s.p, `AdamW param ${s.name}`); });
    this.normValid = live.some(Boolean);
    this.device.submit?.();
  }

  /** The global gradient norm (before clipping) of the last step; a readback, for logging only. */
  async lastGradNorm(): Promise<number> {
    if (!(this.maxGradNorm > 0)) throw new Error('AdamW.lastGradNorm: the norm is computed only when maxGradNorm is set (Infinity: measure without clipping)');
    if (!this.normValid) throw new Error('AdamW.lastGradNorm: no step with gradients taken yet');
    return (await this.buf.state.data())[STATE.norm];
  }

  /**
   * Whether every step so far had a finite loss (when given) and gradient norm: one small readback. A
   * training loop checks it where it reads anyway (log steps, before writing a checkpoint).
   */
  async health(): Promise<AdamWHealth> {
    const st = await this.buf.state.data();
    const step = st[STATE.badStep];
    if (step < 0) return { ok: true };
    const loss = st[STATE.badLoss] !== 0, k = st[STATE.badTensor];
    const param = !loss && k >= 0 ? this.slots[k].name : null;
    const what = loss ? 'the loss' : param ? `the gradient of ${param}` : 'the gradient norm';
    const cause = step === 1
      ? 'already at the first step, before any update: the model config, the initial weights or the data are at fault, not the learning rate'
      : 'after earlier finite steps: usually a learning rate too high for this model, or bad data in that batch';
    return { ok: false, step, what: loss ? 'loss' : 'gradient', param, message: `${what} was not finite at step ${step} (${cause}); no parameter moved from then on` };
  }

  /** With loss scaling: the current scale and the steps skipped so far (their gradients overflowed); a readback. */
  async scaling(): Promise<{ scale: number; skipped: number }> {
    if (!this.lossScale) throw new Error('AdamW.scaling: this optimizer has no loss scaling (option lossScaling)');
    return { scale: await this.lossScale.item(), skipped: (await this.buf.state.data())[STATE.skips] };
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

  /** Frees the optimizer's buffers (m, v and the copies); the parameters are the caller's. */
  dispose(): void {
    for (const s of this.slots) { s.m.dispose(); s.v.dispose(); }
    const whole = new Set<unknown>(Object.values(this.buf));
    for (const row of this.views) for (const a of row) if (!whole.has(a)) this.device.free(a.storage);
    for (const t of Object.values(this.buf)) t.dispose();
    this.lossScale?.dispose();
  }
}
function checkNum(what: string, x: number, min: number): number {
  if (!Number.isFinite(x) || x < min) throw new RangeError(`AdamW: ${what} must be a finite number ≥ ${min}, got ${x}`);
  return x;
}

/** Copies a tensor (a copy command, in command order) or uploads a host array into dst. */
function copyInto(src: Tensor | ArrayLike<number>, dst: Tensor, lbl: string): void {
  if (!(src instanceof Tensor)) { dst.device.write(dst.storage, Float64Array.from(src), 'f32'); return; }
  src.check(lbl);
  if (src.dtype !== 'f32') throw new TypeError(`${lbl}: source is ${src.dtype}, not f32`);
  if (src.device !== dst.device) throw new Error(`${lbl}: source lives on ${src.device.name}, the optimizer on ${dst.device.name}`);
  if (src.storage !== dst.storage) copyElements(src, dst, 0, lbl);
}
