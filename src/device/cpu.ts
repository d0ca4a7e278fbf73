// The CPU device: the reference for every kernel. Plain TypedArrays and the kernels' `cpu` loops,
// clear over fast. With { f64: true } it holds f32 tensors as float64, so gradient checks against
// finite differences are not drowned by float32 rounding.

import { type DType, type HostArray, hostArray } from './dtype.js';
import { type Device, type Kernel, type MemoryStats, type Storage, checkSlice } from './device.js';

export class CpuStorage implements Storage {
  refs = 1;
  /** For a slice: the storage whose elements `data` views. */
  root: CpuStorage | null = null;
  constructor(readonly id: number, readonly data: HostArray) {}
  get bytes(): number { return this.data.byteLength; }
}

let nextId = 1;

export class CpuDevice implements Device {
  readonly kind = 'cpu' as const;
  readonly name: string;
  readonly f64: boolean;
  private live = new Set<CpuStorage>();

  constructor(opts: { f64?: boolean } = {}) {
    this.f64 = opts.f64 ?? false;
    this.name = this.f64 ? 'cpu (float64)' : 'cpu';
  }

  alloc(n: number, dtype: DType): Storage {
    const s = new CpuStorage(nextId++, hostArray(dtype, n, this.f64));
    this.live.add(s);
    return s;
  }

  free(s: Storage): void {
    const c = s as CpuStorage;
    if (!this.live.delete(c)) return;
    if (c.root && --c.root.refs <= 0) this.free(c.root);
  }

  slice(root: Storage, offset: number, n: number): Storage {
    const r = root as CpuStorage;
    checkSlice(r.data.length, offset, n);
    const s = new CpuStorage(nextId++, r.data.subarray(offset, offset + n));
    s.root = r;
    r.refs++;
    this.live.add(s);
    return s;
  }

  copy(src: Storage, srcOffset: number, dst: Storage, dstOffset: number, n: number): void {
    (dst as CpuStorage).data.set((src as CpuStorage).data.subarray(srcOffset, srcOffset + n), dstOffset);
  }

  write(s: Storage, data: HostArray): void { (s as CpuStorage).data.set(data); }

  async read(s: Storage, dtype: DType, n: number): Promise<HostArray> {
    const src = (s as CpuStorage).data;
    // Readers get float32 like from the GPU unless this device computes in float64.
    const out = hostArray(dtype, n, this.f64);
    out.set(src.subarray(0, n));
    return out;
  }

  run<P>(kernel: Kernel<P>, p: P, inputs: Storage[], outputs: Storage[]): void {
    kernel.cpu(p, inputs.map((s) => (s as CpuStorage).data), outputs.map((s) => (s as CpuStorage).data));
  }

  async sync(): Promise<void> {}

  memory(): MemoryStats {
    let bytes = 0;
    for (const s of this.live) if (!s.root) bytes += s.bytes;
    return { bytesInUse: bytes, bytesPooled: 0, storages: this.live.size };
  }

  destroy(): void { this.live.clear(); }
}

