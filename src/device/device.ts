// The device floor's contract: two implementations, `cpu` (reference, plain loops) and `webgpu` (Dawn or
// a browser's navigator.gpu). A kernel (src/kernels/*) is a `Kernel<P>`: a CPU reference and a WGSL
// program for the same params P; both devices run it through their single `run` path, and `launch`
// below is the one alloc-and-run path every launcher uses. This floor imports nothing above it and
// knows no kernel by name.
// Binding convention for every WGSL kernel: @binding(0) uniform params (dynamic offset), then the
// inputs in order (read-only storage), then the outputs (read_write storage; they may be read too), then
// (only for a program that declares `texture`) the device's scratch texture; `header` numbers them all.

import type { DType, HostArray } from './dtype.js';
import { type Shape, numel } from './shape.js';

export interface Storage {
  readonly id: number;
  readonly bytes: number;
  /** References held: one per live tensor handle, graph node or slice using it. 0 = back in the pool. */
  refs: number;
}

/** Element alignment of a slice's offset (256 bytes: WebGPU's largest minStorageBufferOffsetAlignment). */
export const SLICE_ALIGN = 64;
/** A slice must start on SLICE_ALIGN and lie inside its root (both devices check the same rule). */
export function checkSlice(rootElems: number, offset: number, n: number): void {
  if (offset % SLICE_ALIGN !== 0 || offset < 0 || n < 0 || offset + n > rootElems) {
    throw new RangeError(`slice: [${offset}, ${offset + n}) of ${rootElems} elements (the offset must be a multiple of ${SLICE_ALIGN})`);
  }
}


export interface GpuCaps {
  maxWorkgroupSize: number;
  maxWorkgroupStorage: number;
  subgroups: boolean;
  f16: boolean;
  /** A CPU-emulated adapter (Mesa lavapipe/llvmpipe, SwiftShader): kernels pick CPU-friendly variants. */
  software?: boolean;
  /** Smallest subgroup size the adapter may use (adapter.info.subgroupMinSize; 0 when unknown). */
  subgroupMinSize?: number;
  /**
   * Subgroup-matrix shapes (tensor cores through Dawn's chromium-experimental-subgroup-matrix) with f16
   * operands and f32 results, as the adapter lists them: left M×K times right K×N.
   */
  subgroupMatrix?: readonly { M: number; N: number; K: number }[];
  /** Largest storage-buffer binding in bytes (maxStorageBufferBindingSize); unknown = no limit known. */
  maxStorageBinding?: number;
  /** Texture limits (maxTextureDimension2D, maxTextureArrayLayers) for kernels that use a scratch texture. */
  maxTexture2D?: number;
  maxTextureLayers?: number;
}

export type UniformType = 'u32' | 'i32' | 'f32';
export type Field = readonly [name: string, type: UniformType, value: number];

export interface WgslProgram {
  /** A complete WGSL module; its pipeline is cached under this exact source. */
  code: string;
  /** Workgroups to dispatch, [x, y?, z?]; each at most 65535 (see grid1d). */
  grid: readonly number[];
  /** Packed uniform params matching the `Params` struct that `header()` declared. */
  uniforms?: ArrayBuffer;
  /**
   * The device's scratch texture for this size (rgba32float, 2-D array), bound after the outputs as
   * `texture_storage_2d_array<rgba32float, write>` ('write') or `texture_2d_array<f32>` ('read'). A
   * program and its `before` pass share it: the pass packs an operand, the program reads it (on lavapipe
   * texel fetches are vectorised, storage loads are per-lane loops).
   */
  texture?: ScratchTexture;
  /** A pass dispatched first with the same bindings (its own uniforms and grid), e.g. to fill the texture. */
  before?: WgslProgram;
}

/**
 * A scratch texture (rgba32float, 2-D array) the device lends a program: one per size, shared by every
 * launch of that size within one submission, made afresh for the next (see webgpu.ts).
 */
export interface ScratchTexture { access: 'write' | 'read'; width: number; height: number; layers: number }

export interface Kernel<P> {
  readonly name: string;
  /** CPU reference: reads `inputs`, writes `outputs`, in the float width of the arrays given. */
  cpu(p: P, inputs: HostArray[], outputs: HostArray[]): void;
  /** The WGSL program for these params on a device with these capabilities. */
  wgsl(p: P, caps: GpuCaps): WgslProgram;
  /** Params that only reach the uniforms (see UniformOnly); absent = every param is part of the program key. */
  readonly uniformOnly?: UniformOnly<P>;
}

/**
 * Per-call numbers (a learning rate, Adam's step factors, RNG stream ids, a slot index) that change the
 * uniforms but never the WGSL text or the grid. The WebGPU device leaves `keys` out of its program-cache
 * key, so a training loop reuses one program per shape, and calls `pack(p)` on every launch for the
 * uniforms. `pack` must pack exactly what `wgsl(p).uniforms` would (build both from one field list);
 * the checked device mode (ELECTRA_WEBGPU_CHECK=1) verifies that the code and grid did not depend on them.
 */
export interface UniformOnly<P> {
  readonly keys: readonly (keyof P & string)[];
  pack(p: P): ArrayBuffer;
}

/** Declares `keys` of P uniform-only, packing the uniforms from the same field list the WGSL header uses. */
export function uniformOnly<P>(keys: readonly (keyof P & string)[], fields: (p: P) => readonly Field[]): UniformOnly<P> {
  return { keys, pack: (p) => uniformBlock(fields(p)).data };
}

export interface MemoryStats {
  /** Bytes held by live storages (tensors and graph-saved values). */
  bytesInUse: number;
  /** Bytes held in the free pool, ready for reuse. */
  bytesPooled: number;
  storages: number;
}

export interface Device {
  readonly kind: 'cpu' | 'webgpu' | 'census';
  /** Human-readable adapter or CPU description. */
  readonly name: string;
  /** Adapter capabilities (WebGPU only); kernels' variant selectors read them. */
  readonly caps?: GpuCaps;
  alloc(n: number, dtype: DType, label: string): Storage;
  /** Called when a storage's refs reach 0. */
  free(s: Storage): void;
  write(s: Storage, data: HostArray, dtype: DType): void;
  read(s: Storage, dtype: DType, n: number): Promise<HostArray>;
  /**
   * A storage over `n` elements of `root` from element `offset` (a multiple of SLICE_ALIGN), bound by
   * kernels like any storage: many tensors in one buffer, which one launch can then cover whole (an
   * optimizer's parameters). The slice holds a reference on root; freeing it releases that reference.
   */
  slice(root: Storage, offset: number, n: number, dtype: DType, label: string): Storage;
  /** Copies n elements from src[srcOffset…] to dst[dstOffset…] in command order (a copy command, not a kernel). */
  copy(src: Storage, srcOffset: number, dst: Storage, dstOffset: number, n: number): void;
  run<P>(kernel: Kernel<P>, p: P, inputs: Storage[], outputs: Storage[], label: string): void;
  /** Waits for all submitted work and surfaces any asynchronous GPU error. */
  sync(): Promise<void>;
  /**
   * Hands what is recorded so far to the GPU without waiting (an optimizer calls it after each update,
   * so a loop that reads nothing back still submits step by step). Optional: the CPU device runs eagerly.
   */
  submit?(): void;
  memory(): MemoryStats;
  destroy(): void;
}

// ---------------------------------------------------------------------------------------------
// WGSL helpers shared by every kernel family: one way to declare params and bindings.

/** Packs uniform fields and declares them as `P.<name>` in WGSL. All fields are 4-byte scalars. */
export function uniformBlock(fields: readonly Field[]): { decl: string; data: ArrayBuffer } {
  const data = new ArrayBuffer(Math.max(16, Math.ceil((fields.length * 4) / 16) * 16));
  const dv = new DataView(data);
  fields.forEach(([, t, v], i) => {
    if (t === 'f32') dv.setFloat32(i * 4, v, true);
    else if (t === 'i32') dv.setInt32(i * 4, v, true);
    else dv.setUint32(i * 4, v, true);
  });
  const body = fields.length ? fields.map(([n, t]) => `  ${n}: ${t},`).join('\n') : '  _unused: u32,';
  return { decl: `struct Params {\n${body}\n}\n@group(0) @binding(0) var<uniform> P: Params;\n`, data };
}

export type Binding = readonly [name: string, type: string];

/** Declares inputs (read) then outputs (read_write) at bindings 1, 2, … in the launcher's order. */
export function bindings(inputs: readonly Binding[], outputs: readonly Binding[]): string {
  const lines: string[] = [];
  let b = 1;
  for (const [n, t] of inputs) lines.push(`@group(0) @binding(${b++}) var<storage, read> ${n}: ${t};`);
  for (const [n, t] of outputs) lines.push(`@group(0) @binding(${b++}) var<storage, read_write> ${n}: ${t};`);
  return lines.join('\n') + '\n';
}

/**
 * A program's header: params struct plus bindings, and (for a program that uses the device's scratch
 * texture) the texture named `texture.name` at the binding after the outputs.
 */
export function header(fields: readonly Field[], inputs: readonly Binding[], outputs: readonly Binding[], texture?: { name: string; access: ScratchTexture['access'] }) {
  const u = uniformBlock(fields);
  let code = u.decl + bindings(inputs, outputs);
  if (texture) {
    const ty = texture.access === 'write' ? 'texture_storage_2d_array<rgba32float, write>' : 'texture_2d_array<f32>';
    code += `@group(0) @binding(${1 + inputs.length + outputs.length}) var ${texture.name}: ${ty};\n`;
  }
  return { code, uniforms: u.data };
}

/** Splits a 1-D launch of `n` workgroups into [x, y] within the 65535 per-dimension limit. */
export function grid1d(n: number): [number, number] {
  if (n <= 65535) return [Math.max(1, n), 1];
  const y = Math.ceil(n / 65535);
  return [Math.ceil(n / y), y];
}

/** WGSL: the flat workgroup index of a grid1d launch (needs `wid` and `nwg` builtins in main). */
export const FLAT_WG = 'wid.x + wid.y * nwg.x';

// Flat kernels (elementwise, copy, fill, dropout, accumulate, Adam): one entry point shape for all.
// Each invocation handles FLAT_ITEMS items strided by the workgroup size; an item is one element or,
// where the kernel can, one vec4. Measured on lavapipe (a+b over 2^18 floats): scalar 3.0 ms, vec4
// 1.0 ms, four vec4 per invocation 0.75 ms; on a GPU the strided items stay coalesced.
const FLAT_WG_SIZE = 256;
const FLAT_ITEMS = 4;

/** WGSL entry point running `body` for each item index `i` < `count` (a WGSL u32 expression). */
export function flatMain(count: string, body: string): string {
  return `@compute @workgroup_size(${FLAT_WG_SIZE})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let base = (${FLAT_WG}) * ${FLAT_WG_SIZE * FLAT_ITEMS}u + lid;
  for (var k = 0u; k < ${FLAT_ITEMS}u; k++) {
    let i = base + k * ${FLAT_WG_SIZE}u;
    if (i >= ${count}) { return; }
${body}
  }
}
`;
}

/** The grid of a flatMain launch over `items` items. */
export const flatGrid = (items: number): [number, number] => grid1d(Math.ceil(items / (FLAT_WG_SIZE * FLAT_ITEMS)));

// ---------------------------------------------------------------------------------------------
// The one launch path: allocate the outputs, run the kernel, hand back device arrays. Kernel families'
// launchers (src/kernels/*) call it; the op layer wraps what they return into Tensors.

/** Elements on a device: what a launcher reads and returns (a Tensor is one). */
export interface DeviceArray {
  readonly storage: Storage;
  readonly shape: Shape;
  readonly dtype: DType;
  readonly device: Device;
}

export interface ArraySpec { shape: Shape; dtype: DType }

/** Allocates `outs` on `device`, runs `kernel` on `ins` → them. Each output holds one storage reference. */
export function launch<P>(kernel: Kernel<P>, p: P, ins: readonly DeviceArray[], outs: readonly ArraySpec[], label: string, device: Device = ins[0].device): DeviceArray[] {
  const storages = outs.map((o) => device.alloc(numel(o.shape), o.dtype, label));
  device.run(kernel, p, ins.map((a) => a.storage), storages, label);
  return outs.map((o, i) => ({ storage: storages[i], shape: o.shape, dtype: o.dtype, device }));
}

/** Runs `kernel` writing into existing arrays (in place: optimizer states, accumulators, sort keys). */
export function launchInto<P>(kernel: Kernel<P>, p: P, ins: readonly DeviceArray[], outs: readonly DeviceArray[], label: string): void {
  outs[0].device.run(kernel, p, ins.map((a) => a.storage), outs.map((a) => a.storage), label);
}

/** Frees a launcher's own temporary (made by `launch`, never handed out): its storage goes back to the pool. */
export function freeTemp(a: DeviceArray): void {
  a.storage.refs = 0;
  a.device.free(a.storage);
}
