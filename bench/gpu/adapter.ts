// What Dawn sees on this machine: the adapter's info, features, key limits and subgroup-matrix configs
// (with the instance flags of DAWN_FLAGS), then the engine's device capabilities. One JSON line each.
//   node build/bench/gpu/adapter.js

import { closeNodeDevice, dawnFlags, nodeDevice } from '../../src/node/device.js';

const { create, globals } = (await import('webgpu')) as unknown as { create(flags: string[]): GPU; globals: Record<string, unknown> };
Object.assign(globalThis, globals);
const gpu = create(dawnFlags());
const a = await gpu.requestAdapter({ powerPreference: 'high-performance' });
if (!a) { console.log(JSON.stringify({ adapter: null })); process.exit(1); }
const info = a.info as GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number; subgroupMatrixConfigs?: Iterable<Record<string, unknown>> };
const limits: Record<string, number> = {};
for (const k of ['maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup', 'maxStorageBufferBindingSize', 'maxBufferSize', 'maxStorageBuffersPerShaderStage', 'minStorageBufferOffsetAlignment'] as const) limits[k] = a.limits[k];
const sgm = [...(info.subgroupMatrixConfigs ?? [])].map((c) => ({ componentType: c.componentType, resultComponentType: c.resultComponentType, M: c.M, N: c.N, K: c.K }));
console.log(JSON.stringify({ vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description,
  subgroupMinSize: info.subgroupMinSize, subgroupMaxSize: info.subgroupMaxSize, features: [...a.features].sort(), limits, subgroupMatrixConfigs: sgm }));
const dev = await nodeDevice();
console.log(JSON.stringify({ name: dev.name, caps: dev.caps }));
await closeNodeDevice();
process.exit(0);
