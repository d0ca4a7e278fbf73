// Checkpoint formats on plain bytes (browser-safe): safetensors, torch .bin, Hugging Face names/config.
// One namespace for the public API; Node file helpers are in src/node/files.ts.
export * from './safetensors.js';
export * from './torchbin.js';
export * from './hf.js';
export { readStateDict, assignStateDict, type AssignOptions } from './state.js';
