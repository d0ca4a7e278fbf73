// Tensor: a shape, a dtype, a device and a reference-counted storage, plus autograd fields.
// Ownership: each Tensor handle holds one reference to its storage; `dispose()` drops it (once).
// Graph nodes hold their own references to saved values and drop them as soon as backward has used
// them. `tidy(fn)` disposes every tensor created inside fn except those returned (or `keep()`-ed).
// A FinalizationRegistry releases storages of handles that were garbage-collected undisposed: a
// safety net, not the plan (GC timing is unknowable; dispose/tidy make memory deterministic).
// Op methods on Tensor are sugar for the functions in ops.ts (the primitive list lives there).

import { CpuDevice } from '../device/cpu.js';
import type { Device, Storage } from '../device/device.js';
import type { DType, HostArray } from '../device/dtype.js';
import { type Shape, ShapeError, checkShape, fmt, numel } from '../device/shape.js';
import { type GradNode, backward } from '../autograd/tape.js';
import * as ops from './ops.js';

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

export class Tensor {
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

  backward(grad?: Tensor): void { backward(this, grad); }

  // ---- sugar over ops.ts -----------------------------------------------------------------
  add(b: Tensor | number): Tensor { return typeof b === 'number' ? ops.adds(this, b) : ops.add(this, b); }
  sub(b: Tensor | number): Tensor { return typeof b === 'number' ? ops.adds(this, -b) : ops.sub(this, b); }
  mul(b: Tensor | number): Tensor { return typeof b === 'number' ? ops.muls(this, b) : ops.mul(this, b); }
  div(b: Tensor | number): Tensor { return typeof b === 'number' ? ops.muls(this, 1 / b) : ops.div(this, b); }
  pow(b: Tensor | number): Tensor { return typeof b === 'number' ? ops.pows(this, b) : ops.pow(this, b); }
  neg(): Tensor { return ops.neg(this); }
  exp(): Tensor { return ops.exp(this); }
  log(): Tensor { return ops.log(this); }
  sqrt(): Tensor { return ops.sqrt(this); }
  rsqrt(): Tensor { return ops.rsqrt(this); }
  tanh(): Tensor { return ops.tanh(this); }
  erf(): Tensor { return ops.erf(this); }
  gelu(): Tensor { return ops.gelu(this); }
  relu(): Tensor { return ops.relu(this); }
  sigmoid(): Tensor { return ops.sigmoid(this); }
  abs(): Tensor { return ops.abs(this); }
  square(): Tensor { return ops.square(this); }
  sum(axes?: number | number[], keepDims = false): Tensor { return ops.sum(this, axes, keepDims); }
  mean(axes?: number | number[], keepDims = false): Tensor { return ops.mean(this, axes, keepDims); }
  max(axes?: number | number[], keepDims = false): Tensor { return ops.max(this, axes, keepDims); }
  argmax(axis = -1): Tensor { return ops.argmax(this, axis); }
  reshape(shape: number[]): Tensor { return ops.reshape(this, shape); }
  permute(perm: number[]): Tensor { return ops.permute(this, perm); }
  transpose(a = -2, b = -1): Tensor { return ops.transpose(this, a, b); }
  slice(starts: number[], ends: number[]): Tensor { return ops.slice(this, starts, ends); }
  expand(shape: number[]): Tensor { return ops.expand(this, shape); }
  matmul(b: Tensor, opts?: Parameters<typeof ops.matmul>[2]): Tensor { return ops.matmul(this, b, opts); }
  cast(dtype: DType): Tensor { return ops.cast(this, dtype); }
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

export function full(shape: Shape, value: number, opts: Placement = {}): Tensor {
  return ops.fill(shape, value, opts.dtype ?? 'f32', opts.device ?? defaultDevice);
}
export const zeros = (shape: Shape, opts: Placement = {}) => full(shape, 0, opts);
export const ones = (shape: Shape, opts: Placement = {}) => full(shape, 1, opts);
