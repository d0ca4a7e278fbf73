// electra-webgpu for Node: everything in the core plus Dawn loading and file-system helpers.
export * from '../index.js';
export { nodeDevice, bestDevice, closeNodeDevice } from './device.js';
