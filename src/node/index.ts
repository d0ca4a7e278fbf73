// electra-webgpu for Node: everything in the core plus Dawn loading and file-system helpers.
export * from '../index.js';
export { nodeDevice, bestDevice, closeNodeDevice } from './device.js';
export { writeFileAtomic, loadHFDirectory, saveHFDirectory } from './files.js';
export type { AtomicWriteOptions, HFDirectory, HFDirectoryContents } from './files.js';
