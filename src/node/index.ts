// electra-webgpu for Node: everything in the core plus Dawn loading and file-system helpers.
// Its declarations name Node's types (streams, Buffer): kept as a reference in the emitted .d.ts (needs @types/node).
/// <reference types="node" preserve="true" />
export * from '../index.js';
export { nodeDevice, bestDevice, closeNodeDevice } from './device.js';
export { writeFileAtomic, loadHFDirectory, saveHFDirectory } from './files.js';
export type { AtomicWriteOptions, HFDirectory, HFDirectoryContents } from './files.js';
export { exportPair, loadDiscriminator, loadGenerator, toHFConfig, fromHFConfig } from './electra-io.js';
export * as textNode from '../text/node/index.js';
export { saveHeadModel, loadHeadModel, initHeadModelFromDirectory, initHeadModelFromPreset } from './finetune-io.js';
export { loadEncoder, readIndexFile, writeIndexFile } from './embed-io.js';
