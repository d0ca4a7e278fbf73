// The WebGPU device. Takes a GPUDevice (or finds one through navigator.gpu / a passed GPU object);
// no Node-only code here, so it runs unchanged in browsers.
// - Buffers come from a size-class pool; tensors return them deterministically (dispose/tidy).
// - Pipelines are cached by WGSL source, bind-group layouts by signature, bind groups by buffers.
// - A program may bring a `before` pass (dispatched first, same bindings) and use a device-owned scratch
//   texture: one per size, shared by every launch of that size within one submission (recorded work runs
//   in order), made afresh for the next submission. Lavapipe's matmul packs B into one.
// - Dispatches are recorded into one compute pass and submitted at sync points (read, sync), on
//   `submit()`, every SUBMIT_EVERY dispatches, or when the uniform arena fills (never between the passes
//   of one launch); uniforms of a submission live in one arena bound with dynamic offsets.
// - Reads are async only. GPU errors are collected and thrown at the next sync point, naming the
//   kernel and the op that launched it; ELECTRA_WEBGPU_CHECK=1 (or { checked: true }) submits every
//   launch on its own with error scopes, for exact attribution at a speed cost.

import { type DType, type HostArray, hostArray } from './dtype.js';
import { type Device, type GpuCaps, type Kernel, type MemoryStats, type ScratchTexture, type Storage, type WgslProgram, checkSlice } from './device.js';

/** A scratch texture and the keys of the cached bind groups that bind it. */
interface ScratchEntry { id: number; texture: GPUTexture; view: GPUTextureView; bindGroupKeys: string[] }

const ARENA_BYTES = 1 << 20;
const UNIFORM_SLOT = 256; // minUniformBufferOffsetAlignment is at most 256 everywhere
const MAX_DISPATCHES_PER_SUBMIT = 4096;
/**
 * Submit after this many dispatches even without a sync point, so the GPU (on lavapipe: its worker
 * threads) starts on a step's first kernels while JS still records the rest (an ELECTRA-small step
 * records ~2,500 dispatches, 0.5–1 s of JS, which a single submit at the end would serialise).
 */
const SUBMIT_EVERY = 256;

export class GpuStorage implements Storage {
  refs = 1;
  /** Submit epoch in which a recorded command last touched this buffer (kept on the root for slices). */
  lastUse = -1;
  /** For a slice: the storage owning the buffer, and the slice's byte offset in it. */
  root: GpuStorage | null = null;
  offset = 0;
  constructor(readonly id: number, readonly buffer: GPUBuffer, public bytes: number, readonly sizeClass: number) {}
  /** The storage whose epoch guards this buffer. */
  get owner(): GpuStorage { return this.root ?? this; }
}

/** Pool size classes: multiples of 256 B up to 4 KiB, then 8 steps per power of two (≤12.5% waste). */
export function sizeClass(bytes: number): number {
  const b = Math.max(16, bytes);
  if (b <= 4096) return Math.ceil(b / 256) * 256;
  const p = 2 ** Math.floor(Math.log2(b));
  const step = p / 8;
  return Math.ceil(b / step) * step;
}

/** Program-cache key: the params minus the uniform-only ones (top-level keys). */
function programKey<P>(p: P, skip: readonly string[]): string {
  const rest: Record<string, unknown> = { ...(p as Record<string, unknown>) };
  for (const k of skip) delete rest[k];
  return JSON.stringify(rest);
}

interface PipelineEntry { pipeline: GPUComputePipeline; layout: GPUBindGroupLayout; sig: string }

/** Scratch texture sizes one submission may use (a kernel's pack pass and its reader share one). */
const MAX_SCRATCH_TEXTURES = 32;
const textureKey = (t: ScratchTexture): string => `${t.width}x${t.height}x${t.layers}`;
/** Timestamp pairs collected per readback while profiling. */
const PROFILE_SLOTS = 2048;

export interface WebGPUOptions { checked?: boolean; label?: string }

/** Dawn's tensor-core feature (exposed with the allow_unsafe_apis toggle); requested whenever the adapter has it. */
const SGM_FEATURE = 'chromium-experimental-subgroup-matrix' as GPUFeatureName;

/** What the device reads from the adapter's info (subgroupMatrixConfigs: Dawn's extension of it). */
interface AdapterInfo {
  description?: string; vendor?: string; architecture?: string; subgroupMinSize?: number;
  subgroupMatrixConfigs?: Iterable<{ componentType: string; resultComponentType: string; M: number; N: number; K: number }>;
}

let nextId = 1;

export class WebGPUDevice implements Device {
  readonly kind = 'webgpu' as const;
  readonly name: string;
  readonly caps: GpuCaps;
  readonly checked: boolean;

  private pool = new Map<number, GpuStorage[]>();
  private live = new Set<GpuStorage>();
  private bytesPooled = 0;
  private pipelines = new Map<string, PipelineEntry>();
  /**
   * WGSL programs by kernel + params (minus a kernel's uniform-only params): a training loop repeats the
   * same launches every step, so after warm-up every launch is a hit (stats.programsCreated stays put).
   */
  private programs = new Map<string, { prog: WgslProgram; entries: PipelineEntry[] | null }>();
  private scratch = new Map<string, ScratchEntry>();
  private layouts = new Map<string, { bgl: GPUBindGroupLayout; pl: GPUPipelineLayout }>();
  private bindGroups = new Map<string, GPUBindGroup>();
  private arena: GPUBuffer;
  private arenaHost = new Uint8Array(ARENA_BYTES);
  private arenaUsed = 0;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private dispatches = 0;
  private epoch = 0;
  private stagingToDestroy: GPUBuffer[] = [];
  private readbacks: GPUBuffer[] = [];
  private recent: string[] = [];
  private errors: string[] = [];
  private lost: string | null = null;
  // Profiling (timestamp queries): each dispatch gets its own pass with begin/end timestamps.
  private profiling: { set: GPUQuerySet; resolve: GPUBuffer; names: string[]; pending: Promise<void>[]; totals: Map<string, { ms: number; count: number }>; byLabel: boolean } | null = null;
  /** Counters for tests and benchmarks. */
  readonly stats = { dispatches: 0, submits: 0, programsCreated: 0, pipelinesCreated: 0, bindGroupsCreated: 0, buffersCreated: 0, texturesCreated: 0 };

  constructor(readonly gpu: GPUDevice, info: AdapterInfo = {}, opts: WebGPUOptions = {}) {
    this.name = [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'webgpu';
    const l = gpu.limits;
    this.caps = {
      maxWorkgroupSize: l.maxComputeInvocationsPerWorkgroup,
      maxWorkgroupStorage: l.maxComputeWorkgroupStorageSize,
      subgroups: gpu.features.has('subgroups'),
      f16: gpu.features.has('shader-f16'),
      software: /llvmpipe|lavapipe|swiftshader/i.test(this.name),
      maxStorageBinding: l.maxStorageBufferBindingSize,
      maxTexture2D: l.maxTextureDimension2D,
      maxTextureLayers: l.maxTextureArrayLayers,
      subgroupMinSize: info.subgroupMinSize ?? 0,
      subgroupMatrix: gpu.features.has(SGM_FEATURE) && gpu.features.has('shader-f16')
        ? [...(info.subgroupMatrixConfigs ?? [])].filter((c) => c.componentType === 'f16' && c.resultComponentType === 'f32').map((c) => ({ M: c.M, N: c.N, K: c.K }))
        : undefined,
    };
    const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
    this.checked = opts.checked ?? env?.ELECTRA_WEBGPU_CHECK === '1';
    this.arena = gpu.createBuffer({ size: ARENA_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label: 'uniform-arena' });
    gpu.addEventListener('uncapturederror', (ev: Event) => {
      const e = (ev as GPUUncapturedErrorEvent).error;
      this.errors.push(`${e.constructor.name}: ${e.message}\n  recent launches: ${this.recent.join(' | ')}`);
    });
    void gpu.lost.then((info) => { this.lost = `device lost (${info.reason}): ${info.message}`; });
  }

  /** Finds an adapter (navigator.gpu unless a GPU object is given) and requests a device with its real limits. */
  static async create(gpuApi?: GPU, opts: WebGPUOptions & { powerPreference?: GPUPowerPreference } = {}): Promise<WebGPUDevice> {
    const api = gpuApi ?? (globalThis.navigator as Navigator | undefined)?.gpu;
    if (!api) throw new Error('WebGPU is not available: no navigator.gpu (in Node, use nodeDevice() or bestDevice() from electra-webgpu/node)');
    const adapter = await api.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
    if (!adapter) throw new Error('WebGPU: no adapter found');
    const want: (keyof GPUSupportedLimits)[] = [
      'maxBufferSize', 'maxStorageBufferBindingSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup',
      'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupSizeY', 'maxComputeWorkgroupSizeZ', 'maxStorageBuffersPerShaderStage',
      'maxComputeWorkgroupsPerDimension', 'maxTextureDimension2D', 'maxTextureArrayLayers',
    ];
    const requiredLimits: Record<string, number> = {};
    for (const k of want) requiredLimits[k] = adapter.limits[k] as number;
    const features = (['shader-f16', 'subgroups', 'timestamp-query', SGM_FEATURE] as GPUFeatureName[]).filter((f) => adapter.features.has(f));
    const device = await adapter.requestDevice({ requiredLimits, requiredFeatures: features, label: opts.label ?? 'electra-webgpu' });
    return new WebGPUDevice(device, (adapter.info ?? {}) as AdapterInfo, opts);
  }

  // ---- memory ------------------------------------------------------------------------------

  alloc(n: number, _dtype: DType, label: string): Storage {
    const bytes = Math.max(4, n * 4);
    const max = Math.min(this.gpu.limits.maxBufferSize, this.gpu.limits.maxStorageBufferBindingSize);
    if (bytes > max) {
      throw new RangeError(`${label}: needs a buffer of ${bytes} bytes, over this adapter's limit of ${max} (maxStorageBufferBindingSize)`);
    }
    const cls = sizeClass(bytes);
    const free = this.pool.get(cls);
    let s = free?.pop();
    if (s) {
      this.bytesPooled -= cls;
      // Reusing the object keeps its id, so bind groups cached for this buffer stay valid.
      s.refs = 1;
      s.bytes = bytes;
    } else {
      const buffer = this.gpu.createBuffer({
        size: cls, label: `t${nextId}`,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      });
      this.stats.buffersCreated++;
      s = new GpuStorage(nextId++, buffer, bytes, cls);
    }
    this.live.add(s);
    return s;
  }

  free(st: Storage): void {
    const s = st as GpuStorage;
    if (!this.live.delete(s)) return;
    if (s.root) {
      if (--s.root.refs <= 0) this.free(s.root);
      return;
    }
    let list = this.pool.get(s.sizeClass);
    if (!list) this.pool.set(s.sizeClass, (list = []));
    // Kept sorted by id, descending, so alloc's pop() takes the lowest free id. Which buffer an allocation
    // gets then depends only on the set of free buffers, not on the order earlier steps freed them in:
    // every training step repeats the same buffers and so hits the bind-group cache (a LIFO pool
    // permuted them each step, and about 2,000 bind groups per ELECTRA-small step were created afresh).
    let lo = 0, hi = list.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (list[mid].id > s.id) lo = mid + 1; else hi = mid; }
    list.splice(lo, 0, s);
    this.bytesPooled += s.sizeClass;
  }

  /** Destroys pooled (free) buffers, e.g. between phases with different shapes. */
  trim(): void {
    this.flush();
    for (const list of this.pool.values()) for (const s of list) s.buffer.destroy();
    this.pool.clear();
    this.bytesPooled = 0;
  }

  slice(root: Storage, offset: number, n: number, _dtype: DType, label: string): Storage {
    const r = root as GpuStorage;
    checkSlice(r.bytes / 4, offset, n);
    if (r.root) throw new Error(`${label}: a slice of a slice`);
    const s = new GpuStorage(nextId++, r.buffer, Math.max(4, n * 4), 0);
    s.root = r;
    s.offset = offset * 4;
    r.refs++;
    this.live.add(s);
    return s;
  }

  copy(src: Storage, srcOffset: number, dst: Storage, dstOffset: number, n: number): void {
    if (n === 0) return;
    const a = src as GpuStorage, b = dst as GpuStorage;
    this.endPass();
    this.enc().copyBufferToBuffer(a.buffer, a.offset + 4 * srcOffset, b.buffer, b.offset + 4 * dstOffset, 4 * n);
    a.owner.lastUse = b.owner.lastUse = this.epoch;
  }

  memory(): MemoryStats {
    let bytes = 0;
    for (const s of this.live) if (!s.root) bytes += s.sizeClass;
    return { bytesInUse: bytes, bytesPooled: this.bytesPooled, storages: this.live.size };
  }

  write(st: Storage, data: HostArray): void {
    const s = st as GpuStorage;
    const src = data instanceof Float64Array ? Float32Array.from(data) : data;
    const bytes = src.byteLength;
    if (s.owner.lastUse !== this.epoch) {
      // Nothing recorded-but-unsubmitted touches this buffer, so a queue write cannot overtake a reader.
      this.gpu.queue.writeBuffer(s.buffer, s.offset, src.buffer, src.byteOffset, Math.ceil(bytes / 4) * 4);
      return;
    }
    // A pending command uses this buffer: stage the upload and copy it in command order.
    const staging = this.gpu.createBuffer({ size: Math.ceil(bytes / 4) * 4, usage: GPUBufferUsage.COPY_SRC, mappedAtCreation: true });
    new Uint8Array(staging.getMappedRange()).set(new Uint8Array(src.buffer, src.byteOffset, bytes));
    staging.unmap();
    this.endPass();
    this.enc().copyBufferToBuffer(staging, 0, s.buffer, s.offset, staging.size);
    this.stagingToDestroy.push(staging);
  }

  async read(st: Storage, dtype: DType, n: number): Promise<HostArray> {
    const s = st as GpuStorage;
    const bytes = Math.ceil((n * 4) / 4) * 4;
    let rb = this.readbacks.findIndex((b) => b.size >= bytes && b.size <= bytes * 4 + 4096);
    const buf = rb >= 0 ? this.readbacks.splice(rb, 1)[0] : this.gpu.createBuffer({ size: Math.max(16, bytes), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    this.endPass();
    if (bytes > 0) this.enc().copyBufferToBuffer(s.buffer, s.offset, buf, 0, bytes);
    this.flush();
    await buf.mapAsync(GPUMapMode.READ, 0, Math.max(16, bytes));
    this.throwPending();
    const out = hostArray(dtype, n);
    out.set(dtype === 'i32' ? new Int32Array(buf.getMappedRange(0, bytes), 0, n) : new Float32Array(buf.getMappedRange(0, bytes), 0, n));
    buf.unmap();
    if (this.readbacks.length < 16) this.readbacks.push(buf); else buf.destroy();
    return out;
  }

  // ---- launch ------------------------------------------------------------------------------

  run<P>(kernel: Kernel<P>, p: P, inputs: Storage[], outputs: Storage[], label: string): void {
    if (this.lost) throw new Error(`WebGPU ${this.lost}; while launching ${kernel.name} for ${label}`);
    const uo = kernel.uniformOnly;
    // Kernels pick variants from caps (tests switch paths by editing them), so caps are part of the key.
    const pkey = kernel.name + this.capsKey() + (uo ? programKey(p, uo.keys) : JSON.stringify(p));
    let cached = this.programs.get(pkey);
    if (!cached) {
      if (this.programs.size > 4096) this.programs.clear();
      cached = { prog: kernel.wgsl(p, this.caps), entries: null };
      if (uo && cached.prog.before) throw new Error(`${kernel.name}: uniform-only params pack one uniform block, so no \`before\` pass`);
      this.programs.set(pkey, cached);
      this.stats.programsCreated++;
    } else if (uo && this.checked) {
      const again = kernel.wgsl(p, this.caps);
      if (again.code !== cached.prog.code || String(again.grid) !== String(cached.prog.grid)) {
        throw new Error(`${kernel.name} (${label}): its WGSL or grid depends on params declared uniform-only (${uo.keys.join(', ')})`);
      }
    }
    const prog = uo ? { ...cached.prog, uniforms: uo.pack(p) } : cached.prog;
    const passes = prog.before ? [prog.before, prog] : [prog];
    const entries = (cached.entries ??= passes.map((q) => this.pipeline(kernel.name, q.code, inputs.length, outputs.length, q.texture?.access, label)));
    const all = [...inputs, ...outputs] as GpuStorage[];
    // A launch's passes go into one submission: they may share a scratch texture, which the next
    // submission would replace. So room for all of them is made first.
    const newTexture = passes.some((q) => q.texture && !this.scratch.has(textureKey(q.texture)));
    if (this.arenaUsed + passes.length * UNIFORM_SLOT > ARENA_BYTES || this.dispatches + passes.length > MAX_DISPATCHES_PER_SUBMIT ||
      (newTexture && this.scratch.size >= MAX_SCRATCH_TEXTURES)) this.flush();
    if (this.profiling && this.profiling.names.length + passes.length > PROFILE_SLOTS) this.collectProfile();
    passes.forEach((q, i) => this.dispatch(kernel.name, q, entries[i], all, label));
    if (this.checked) this.flush();
    else if (this.dispatches >= SUBMIT_EVERY && !this.profiling) this.flush();
  }

  private capsSeen: GpuCaps | null = null;
  private capsStr = '';
  /** The caps as part of program keys, restringified only when a field changed (tests switch variants by editing caps). */
  private capsKey(): string {
    const c = this.caps, s = this.capsSeen;
    if (!s || (Object.keys(c) as (keyof GpuCaps)[]).some((k) => c[k] !== s[k])) {
      this.capsSeen = { ...c };
      this.capsStr = JSON.stringify(c);
    }
    return this.capsStr;
  }

  /** Records one program's dispatch: uniforms into the arena, a cached bind group, the pass. */
  private dispatch(name: string, prog: WgslProgram, entry: PipelineEntry, all: GpuStorage[], label: string): void {
    if (prog.uniforms && prog.uniforms.byteLength > UNIFORM_SLOT) throw new Error(`${name}: uniforms over ${UNIFORM_SLOT} bytes`);
    const tex = prog.texture ? this.scratchTexture(prog.texture, name) : null;
    const offset = this.arenaUsed;
    if (prog.uniforms) this.arenaHost.set(new Uint8Array(prog.uniforms), offset);
    this.arenaUsed += UNIFORM_SLOT;

    const key = entry.sig + ':' + all.map((s) => s.id).join(',') + (tex ? `:t${tex.id}` : '');
    let bg = this.bindGroups.get(key);
    if (!bg) {
      if (this.bindGroups.size > 8192) this.bindGroups.clear();
      bg = this.gpu.createBindGroup({
        layout: entry.layout,
        entries: [
          { binding: 0, resource: { buffer: this.arena, offset: 0, size: UNIFORM_SLOT } },
          ...all.map((s, i) => ({ binding: i + 1, resource: s.root ? { buffer: s.buffer, offset: s.offset, size: s.bytes } : { buffer: s.buffer } })),
          ...(tex ? [{ binding: all.length + 1, resource: tex.view }] : []),
        ],
      });
      this.bindGroups.set(key, bg);
      tex?.bindGroupKeys.push(key);
      this.stats.bindGroupsCreated++;
    }
    for (const s of all) s.owner.lastUse = this.epoch;
    const [x, y = 1, z = 1] = prog.grid;
    if (x > 65535 || y > 65535 || z > 65535) throw new Error(`${name} (${label}): grid [${prog.grid}] over 65535 workgroups per dimension`);
    if (this.checked) this.gpu.pushErrorScope('validation');
    if (this.profiling) this.endPass();
    const pass = this.profiling ? this.profiledPass(this.profiling.byLabel ? `${name} | ${label}` : name) : this.beginPass();
    pass.setPipeline(entry.pipeline);
    pass.setBindGroup(0, bg, [offset]);
    if (x * y * z > 0) pass.dispatchWorkgroups(x, y, z);
    this.dispatches++;
    this.stats.dispatches++;
    this.recent.push(`${name}: ${label}`);
    if (this.recent.length > 6) this.recent.shift();
    if (this.checked) void this.gpu.popErrorScope().then((e) => { if (e) this.errors.push(`${name} for ${label}: ${e.message}`); });
  }

  /**
   * The scratch texture of this size in this submission (created on first use). Work is recorded in
   * order, so a pack pass and the pass reading it may share one texture with every other launch of the
   * same size. Past MAX_SCRATCH_TEXTURES sizes in one submission, the next launch starts a new one.
   */
  private scratchTexture(t: ScratchTexture, name: string): ScratchEntry {
    const key = textureKey(t);
    let hit = this.scratch.get(key);
    if (hit) return hit;
    const max = this.caps.maxTexture2D ?? 8192, maxLayers = this.caps.maxTextureLayers ?? 256;
    if (t.width > max || t.height > max || t.layers > maxLayers) {
      throw new RangeError(`${name}: scratch texture ${t.width}×${t.height}×${t.layers} is over this adapter's limits (${max}×${max}×${maxLayers})`);
    }
    if (this.scratch.size >= MAX_SCRATCH_TEXTURES) throw new Error(`${name}: over ${MAX_SCRATCH_TEXTURES} scratch texture sizes in one submission`);
    const texture = this.gpu.createTexture({
      size: [t.width, t.height, t.layers], format: 'rgba32float', label: `scratch ${key}`,
      usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.STORAGE_BINDING,
    });
    hit = { id: nextId++, texture, view: texture.createView({ dimension: '2d-array' }), bindGroupKeys: [] };
    this.scratch.set(key, hit);
    this.stats.texturesCreated++;
    return hit;
  }

  /**
   * Destroys the scratch textures (WebGPU defers it until the submitted work that uses them is done) and
   * forgets their bind groups; the next submission creates fresh ones. Called at every submit, so no
   * texture outlives the submission that filled it: on lavapipe (Mesa 25.0.7, Dawn 0.6.2) an ELECTRA-small
   * step took 7–9 s with textures kept across steps against 4–5 s with fresh ones, bit-identical results
   * (a probe alternating both; the cause was not found).
   */
  private retireScratch(): void {
    for (const t of this.scratch.values()) {
      t.texture.destroy();
      for (const k of t.bindGroupKeys) this.bindGroups.delete(k);
    }
    this.scratch.clear();
  }

  private pipeline(name: string, code: string, nIn: number, nOut: number, tex: ScratchTexture['access'] | undefined, label: string): PipelineEntry {
    const hit = this.pipelines.get(code);
    if (hit) return hit;
    const sig = `${nIn}/${nOut}${tex ? `/${tex}` : ''}`;
    let lay = this.layouts.get(sig);
    if (!lay) {
      const entries: GPUBindGroupLayoutEntry[] = [
        { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true } },
      ];
      for (let i = 0; i < nIn + nOut; i++) {
        entries.push({ binding: i + 1, visibility: GPUShaderStage.COMPUTE, buffer: { type: i < nIn ? 'read-only-storage' : 'storage' } });
      }
      if (tex === 'write') entries.push({ binding: nIn + nOut + 1, visibility: GPUShaderStage.COMPUTE, storageTexture: { access: 'write-only', format: 'rgba32float', viewDimension: '2d-array' } });
      if (tex === 'read') entries.push({ binding: nIn + nOut + 1, visibility: GPUShaderStage.COMPUTE, texture: { sampleType: 'unfilterable-float', viewDimension: '2d-array' } });
      const bgl = this.gpu.createBindGroupLayout({ entries, label: `layout ${sig}` });
      lay = { bgl, pl: this.gpu.createPipelineLayout({ bindGroupLayouts: [bgl] }) };
      this.layouts.set(sig, lay);
    }
    this.gpu.pushErrorScope('validation');
    const module = this.gpu.createShaderModule({ code, label: name });
    const pipeline = this.gpu.createComputePipeline({ layout: lay.pl, compute: { module, entryPoint: 'main' }, label: name });
    void this.gpu.popErrorScope().then((e) => {
      if (!e) return;
      const numbered = code.split('\n').map((l, i) => `${String(i + 1).padStart(4)} | ${l}`).join('\n');
      this.errors.push(`kernel ${name} failed to compile (first used by ${label}): ${e.message}\n${numbered}`);
    });
    const entry = { pipeline, layout: lay.bgl, sig };
    this.pipelines.set(code, entry);
    this.stats.pipelinesCreated++;
    return entry;
  }

  /**
   * Starts (or stops, returning per-kernel GPU time) timestamp profiling. While on, every dispatch
   * runs in its own compute pass, so totals include per-pass overhead; for finding hot kernels.
   * `byLabel`: totals keyed by "kernel | op label" (shapes included) instead of the kernel name.
   */
  profile(on: true, opts?: { byLabel?: boolean }): void;
  profile(on: false): Promise<Map<string, { ms: number; count: number }>>;
  profile(on: boolean, opts: { byLabel?: boolean } = {}): void | Promise<Map<string, { ms: number; count: number }>> {
    if (on) {
      if (!this.gpu.features.has('timestamp-query')) throw new Error('profile: this adapter lacks timestamp-query');
      const set = this.gpu.createQuerySet({ type: 'timestamp', count: 2 * PROFILE_SLOTS });
      const resolve = this.gpu.createBuffer({ size: 16 * PROFILE_SLOTS, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
      this.flush();
      this.profiling = { set, resolve, names: [], pending: [], totals: new Map(), byLabel: opts.byLabel ?? false };
      return;
    }
    const prof = this.profiling;
    if (!prof) return Promise.resolve(new Map());
    this.collectProfile();
    this.profiling = null;
    return Promise.all(prof.pending).then(() => { prof.set.destroy(); prof.resolve.destroy(); return prof.totals; });
  }

  private profiledPass(name: string): GPUComputePassEncoder {
    const prof = this.profiling!;
    if (prof.names.length >= PROFILE_SLOTS) this.collectProfile();
    const i = prof.names.length;
    prof.names.push(name);
    this.pass = this.enc().beginComputePass({ timestampWrites: { querySet: prof.set, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } });
    return this.pass;
  }

  /** Resolves the timestamps recorded so far and adds them to the totals (async readback). */
  private collectProfile(): void {
    const prof = this.profiling!;
    const n = prof.names.length;
    if (n === 0) return;
    this.endPass();
    const rb = this.gpu.createBuffer({ size: 16 * n, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    this.enc().resolveQuerySet(prof.set, 0, 2 * n, prof.resolve, 0);
    this.enc().copyBufferToBuffer(prof.resolve, 0, rb, 0, 16 * n);
    const names = prof.names;
    prof.names = [];
    this.flush();
    prof.pending.push(rb.mapAsync(GPUMapMode.READ).then(() => {
      const t = new BigUint64Array(rb.getMappedRange());
      for (let i = 0; i < n; i++) {
        const e = prof.totals.get(names[i]) ?? { ms: 0, count: 0 };
        e.ms += Number(t[2 * i + 1] - t[2 * i]) / 1e6;
        e.count++;
        prof.totals.set(names[i], e);
      }
      rb.unmap();
      rb.destroy();
    }));
  }

  private enc(): GPUCommandEncoder {
    return (this.encoder ??= this.gpu.createCommandEncoder());
  }

  private beginPass(): GPUComputePassEncoder {
    return (this.pass ??= this.enc().beginComputePass());
  }

  private endPass(): void {
    if (this.pass) { this.pass.end(); this.pass = null; }
  }

  /** Submits everything recorded so far (no wait); the scratch textures it used retire with it. */
  flush(): void {
    this.endPass();
    if (!this.encoder) { this.retireScratch(); return; }
    if (this.arenaUsed > 0) this.gpu.queue.writeBuffer(this.arena, 0, this.arenaHost.buffer, 0, this.arenaUsed);
    this.gpu.queue.submit([this.encoder.finish()]);
    this.stats.submits++;
    this.encoder = null;
    this.arenaUsed = 0;
    this.dispatches = 0;
    this.epoch++;
    this.retireScratch();
    if (this.stagingToDestroy.length) {
      const done = this.stagingToDestroy;
      this.stagingToDestroy = [];
      void this.gpu.queue.onSubmittedWorkDone().then(() => done.forEach((b) => b.destroy()));
    }
  }

  submit(): void {
    this.flush();
  }

  async sync(): Promise<void> {
    this.flush();
    await this.gpu.queue.onSubmittedWorkDone();
    this.throwPending();
  }

  private throwPending(): void {
    if (this.lost) throw new Error(`WebGPU ${this.lost}; recent launches: ${this.recent.join(' | ')}`);
    if (this.errors.length) {
      const msg = this.errors.join('\n');
      this.errors = [];
      throw new Error(`WebGPU error: ${msg}`);
    }
  }

  destroy(): void {
    this.endPass();
    this.encoder = null;
    this.gpu.destroy();
  }
}

