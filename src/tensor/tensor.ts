// Tensor: a shape, a dtype, a device and a reference-counted storage, plus autograd fields.
// Ownership: each Tensor handle holds one reference to its storage; `dispose()` drops it (once).
// Graph nodes hold their own references to saved values and drop them as soon as backward has used
// them. `tidy(fn)` disposes every tensor created inside fn except those returned (or `keep()`-ed).
// A FinalizationRegistry releases storages of handles that were garbage-collected undisposed: a
// safety net, not the plan (GC timing is unknowable; dispose/tidy make memory deterministic).
// Graph recording lives here too (grad mode, `record`), so the op layer records without importing
// autograd; src/autograd reads the nodes and runs backward. Both sit above this file and install
// themselves: ops.ts the method sugar (t.add(u) ≡ add(t, u)), autograd the `backward()` engine.

import { CpuDevice } from '../device/cpu.js';
import type { Device, DeviceArray, Storage } from '../device/device.js';
import type { DType, HostArray } from '../device/dtype.js';
import { type Shape, ShapeError, checkShape, fmt, numel } from '../device/shape.js';
import type { OpCtx, OpName } from './primitives.js';

let defaultDevice: Device = new CpuDevice();
export function getDevice(): Device { return defaultDevice; }
export function setDevice(d: Device): void { defaultDevice = d; }

export function retain(s: Storage): void { s.refs++; }

export function release(s: Storage, device: Device): void {
  if (s.refs <= 0) return;
  if (--s.refs === 0) device.free(s);
}

interface Held { storage: Storage; device: Device }
const finalizer = new FinalizationRegistry<Held>((h) => release(h.storage, h.device));

const scopes: Set<Tensor>[] = [];

// ---- graph recording -----------------------------------------------------------------------------

/** The op that produced a tensor, while its graph is alive: inputs, what the rule needs, the context. */
export interface GradNode<K extends OpName = OpName> {
  op: K;
  inputs: Tensor[];
  saved: Tensor[];
  ctx: OpCtx[K];
}

let gradEnabled = true;
export function isGradEnabled(): boolean { return gradEnabled; }

/** Runs fn with gradient recording off (inference, optimizer updates, metrics). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try { return fn(); } finally { gradEnabled = prev; }
}

/** A second handle on t's storage, outside every scope (graph-saved values survive the user disposing t). */
export function alias(t: Tensor): Tensor {
  retain(t.storage);
  return new Tensor(t.storage, t.shape, t.dtype, t.device, false);
}

/** Makes `out` a graph node of `op` (the op layer calls it when grad is on and an input requires grad). */
export function record<K extends OpName>(op: K, out: Tensor, inputs: Tensor[], ctx: OpCtx[K], saved: Tensor[]): void {
  out.requiresGrad = true;
  out.node = { op, inputs, saved: saved.map(alias), ctx } as GradNode;
}

/**
 * Matmul precision: 'f16' rounds the operands of every matmul (forward and both backward products, and
 * attention's) to f16 and accumulates in f32, on devices with shader-f16 (tensor cores through subgroup
 * matrices where the adapter has them); weights, optimizer state, normalisations, softmax and losses stay
 * f32. 'f32' (the default) everywhere else. Set around a training step or for a whole run.
 */
export type Precision = 'f32' | 'f16';
let precision: Precision = 'f32';
export function getPrecision(): Precision { return precision; }
export function setPrecision(p: Precision): void {
  if (p !== 'f32' && p !== 'f16') throw new RangeError(`precision must be 'f32' or 'f16', got ${String(p)}`);
  precision = p;
}
/** Runs fn with matmul precision p. */
export function withPrecision<T>(p: Precision, fn: () => T): T {
  const prev = precision;
  setPrecision(p);
  try { return fn(); } finally { precision = prev; }
}

type BackwardEngine = (root: Tensor, grad?: Tensor) => void;
let engine: BackwardEngine | null = null;
/** Installed by src/autograd/tape.ts, which sits above the op layer it differentiates. */
export function setBackwardEngine(f: BackwardEngine): void { engine = f; }

// ---- the tensor ----------------------------------------------------------------------------------

export class Tensor implements DeviceArray {
  readonly shape: readonly number[];
  requiresGrad = false;
  /** Accumulated gradient (leaf tensors). */
  grad: Tensor | null = null;
  /** The op that produced this tensor, while a graph is alive. */
  node: GradNode | null = null;
  private alive = true;

  constructor(readonly storage: Storage, shape: Shape, readonly dtype: DType, readonly device: Device, scoped = true) {
    this.shape = Object.freeze([...shape]);
    finalizer.register(this, { storage, device }, this);
    if (scoped) scopes[scopes.length - 1]?.add(this);
  }

  get size(): number { return numel(this.shape); }
  get rank(): number { return this.shape.length; }
  get isDisposed(): boolean { return !this.alive; }

  toString(): string { return `Tensor(${fmt(this.shape)}, ${this.dtype}, ${this.device.kind})`; }

  /** Throws a clear error if this handle was disposed. */
  check(op: string): this {
    if (!this.alive) throw new Error(`${op}: tensor ${fmt(this.shape)} ${this.dtype} was disposed`);
    return this;
  }

  dispose(): void {
    if (!this.alive) return;
    this.alive = false;
    finalizer.unregister(this);
    for (const s of scopes) s.delete(this);
    release(this.storage, this.device);
  }

  /** Reads the elements back (async: the only way data leaves the GPU). */
  async data(): Promise<HostArray> {
    this.check('data');
    return this.device.read(this.storage, this.dtype, this.size);
  }

  async item(): Promise<number> {
    if (this.size !== 1) throw new ShapeError(`item: tensor ${fmt(this.shape)} has ${this.size} elements, not 1`);
    return (await this.data())[0];
  }

  /** Nested arrays, for printing and tests. */
  async array(): Promise<unknown> {
    const d = Array.from(await this.data());
    const build = (dim: number, off: number): unknown => {
      if (dim === this.shape.length) return d[off];
      const stride = numel(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim] }, (_, i) => build(dim + 1, off + i * stride));
    };
    return build(0, 0);
  }

  /** Marks a leaf as trainable (returns this). */
  param(): this { this.requiresGrad = true; return this; }

  /** Backpropagates from this tensor (a scalar unless `grad` is given); gradients accumulate into leaves' .grad. */
  backward(grad?: Tensor): void {
    if (!engine) throw new Error('backward: autograd is not loaded (import electra-webgpu, or src/autograd/tape.js)');
    engine(this, grad);
  }
}

/** A launcher's output as a Tensor (the handle takes over the array's storage reference). */
export function wrap(a: DeviceArray): Tensor {
  return new Tensor(a.storage, a.shape, a.dtype, a.device);
}

// ---- scopes ------------------------------------------------------------------------------------

/** Runs fn; disposes every tensor created inside except those in its (possibly nested) result. */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    for (const t of scope) t.dispose();
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise) throw new Error('tidy: fn must be synchronous (await outside tidy)');
  const kept = new Set<Tensor>();
  collect(result, kept);
  const parent = scopes[scopes.length - 1];
  for (const t of scope) {
    if (kept.has(t)) parent?.add(t);
    else t.dispose();
  }
  return result;
}

function collect(v: unknown, out: Set<Tensor>, depth = 0): void {
  if (depth > 4 || v === null || typeof v !== 'object') return;
  if (v instanceof Tensor) { out.add(v); return; }
  if (Array.isArray(v)) { for (const x of v) collect(x, out, depth + 1); return; }
  if (v instanceof Map) { for (const x of v.values()) collect(x, out, depth + 1); return; }
  for (const x of Object.values(v)) collect(x, out, depth + 1);
}

/** Removes t from every enclosing tidy scope: it survives them and must be disposed by its owner. */
export function keep<T extends Tensor>(t: T): T {
  for (const s of scopes) s.delete(t);
  return t;
}

// ---- creation ----------------------------------------------------------------------------------

export interface Placement { dtype?: DType; device?: Device }

/** A tensor of host values (one upload); full/zeros/ones, which fill on the device, are in ops.ts. */
export function tensor(data: ArrayLike<number>, shape?: Shape, opts: Placement = {}): Tensor {
  const dtype = opts.dtype ?? (data instanceof Int32Array ? 'i32' : 'f32');
  const device = opts.device ?? defaultDevice;
  const sh = shape ?? [data.length];
  checkShape(sh, 'tensor');
  if (numel(sh) !== data.length) throw new ShapeError(`tensor: ${data.length} values do not fill shape ${fmt(sh)}`);
  const s = device.alloc(data.length, dtype, `tensor ${fmt(sh)}`);
  const arr = dtype === 'i32' ? Int32Array.from(data) : data instanceof Float64Array || data instanceof Float32Array ? data : Float64Array.from(data);
  device.write(s, arr as HostArray, dtype);
  return new Tensor(s, sh, dtype, device);
}
