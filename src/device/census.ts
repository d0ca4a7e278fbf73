// The census device: runs nothing and holds no data; it records every dispatch a workload would make on
// an adapter with the given capabilities (kernel, op label, workgroups, bytes bound), from the same WGSL
// programs the WebGPU device would build. So launch shapes can be checked on any machine, GPU or not:
// e.g. that no launch over megabytes of data runs on a handful of workgroups and idles a big GPU.
// Reading data back is an error: a census covers work that stays on the device (a training step).

import type { DType, HostArray } from './dtype.js';
import type { Device, GpuCaps, Kernel, MemoryStats, Storage, WgslProgram } from './device.js';

export interface Dispatch {
  kernel: string;
  label: string;
  /** Workgroups dispatched (x·y·z). */
  workgroups: number;
  /** Invocations per workgroup, from the program's @workgroup_size. */
  workgroupSize: number;
  /** Bytes of every buffer the launch binds (inputs and outputs). */
  bytes: number;
}

/** An H200 as Dawn/Vulkan reports it (2026-12-04): the default capabilities of a census. */
export const H200_CAPS: GpuCaps = {
  maxWorkgroupSize: 1024, maxWorkgroupStorage: 49152, subgroups: true, f16: false, software: false,
  subgroupMinSize: 32, maxStorageBinding: 2 ** 31 - 4, maxTexture2D: 16384, maxTextureLayers: 2048,
};

let nextId = 1;

export class CensusDevice implements Device {
  readonly kind = 'census' as const;
  readonly name: string;
  readonly dispatches: Dispatch[] = [];
  private programs = new Map<string, WgslProgram>();
  private live = new Map<number, Storage>();
  private roots = new Map<number, Storage>();

  constructor(readonly caps: GpuCaps = H200_CAPS, name = 'census') {
    this.name = name;
  }

  alloc(n: number, _dtype: DType, _label: string): Storage {
    const s = { id: nextId++, bytes: Math.max(4, n * 4), refs: 1 };
    this.live.set(s.id, s);
    return s;
  }

  free(s: Storage): void {
    this.live.delete(s.id);
    const root = this.roots.get(s.id);
    if (root) { this.roots.delete(s.id); if (--root.refs <= 0) this.free(root); }
  }

  slice(root: Storage, _offset: number, n: number): Storage {
    const s = { id: nextId++, bytes: n * 4, refs: 1 };
    root.refs++;
    this.roots.set(s.id, root);
    return s;
  }

  copy(): void {}

  write(): void {}

  read(_s: Storage, _dtype: DType, _n: number): Promise<HostArray> {
    return Promise.reject(new Error('census device: it holds no data (a census covers work that stays on the device)'));
  }

  run<P>(kernel: Kernel<P>, p: P, inputs: Storage[], outputs: Storage[], label: string): void {
    const key = kernel.name + JSON.stringify(p);
    let prog = this.programs.get(key);
    if (!prog) this.programs.set(key, (prog = kernel.wgsl(p, this.caps)));
    const bytes = [...inputs, ...outputs].reduce((a, s) => a + s.bytes, 0);
    for (const q of prog.before ? [prog.before, prog] : [prog]) {
      const workgroups = q.grid.reduce((a, b) => a * b, 1);
      this.dispatches.push({ kernel: kernel.name, label, workgroups, workgroupSize: workgroupSize(q.code), bytes });
    }
  }

  async sync(): Promise<void> {}

  memory(): MemoryStats {
    let bytes = 0;
    for (const s of this.live.values()) bytes += s.bytes;
    return { bytesInUse: bytes, bytesPooled: 0, storages: this.live.size };
  }

  destroy(): void { this.live.clear(); }
}

/** Invocations per workgroup declared by a WGSL module's entry point. */
function workgroupSize(code: string): number {
  const m = /@workgroup_size\(([^)]*)\)/.exec(code);
  if (!m) return 0;
  return m[1].split(',').map((s) => Number(s.trim()) || 1).reduce((a, b) => a * b, 1);
}
