// electra-webgpu for Node: everything in the core plus Dawn loading and file-system helpers.
// Its declarations name Node's types (streams, Buffer): kept as a reference in the emitted .d.ts (needs @types/node).
/// <reference types="node" preserve="true" />
export * from '../index.js';
export { nodeDevice, bestDevice, closeNodeDevice } from './device.js';
// Loaders below take a directory path or any ModelSource; they shadow the core's source-only ones of the same name.
export { writeFileAtomic, loadHFDirectory, saveHFDirectory, directorySource, writeDirectoryFiles } from './files.js';
export type { AtomicWriteOptions, HFDirectory, HFDirectoryContents } from './files.js';
export { exportPair, loadDiscriminator, loadGenerator, loadTokenizer, toHFConfig, fromHFConfig } from './electra-io.js';
export * as textNode from '../text/node/index.js';
export { saveHeadModel, loadHeadModel, initHeadModelFromDirectory, initHeadModelFromPreset } from './finetune-io.js';
export { loadEncoder, readIndexFile, writeIndexFile } from './embed-io.js';
