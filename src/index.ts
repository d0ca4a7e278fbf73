// electra-webgpu: the engine core, usable unchanged in browsers (no Node imports below this file).
// Node-only pieces (Dawn loading, files) live in src/node.
export { Tensor, tensor, zeros, ones, full, tidy, keep, getDevice, setDevice } from './tensor/tensor.js';
export * as ops from './tensor/ops.js';
export * as nn from './tensor/nnops.js';
export { CpuDevice } from './tensor/cpu.js';
export { WebGPUDevice } from './tensor/webgpu.js';
export type { Device, Kernel, WgslProgram } from './tensor/device.js';
export { ShapeError } from './tensor/shape.js';
export { backward, noGrad } from './autograd/tape.js';
export { Rng, type RngState, sampleGumbelMax } from './tensor/random.js';
export { AdamW, type AdamWOptions, type AdamWState, excludeLayerNormAndBias } from './nn/optim.js';
export * as schedules from './nn/schedule.js';
export * as checkpoint from './electra/checkpoint.js';
