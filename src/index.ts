// electra-webgpu: the engine core, usable unchanged in browsers (no Node imports below this file).
// Node-only pieces (Dawn loading, files) live in src/node.
// The reference below is kept in the emitted index.d.ts (preserve), so a TypeScript user gets the WebGPU
// globals (GPUDevice, …) that the device declarations name, from the @webgpu/types dependency.
/// <reference types="@webgpu/types" preserve="true" />
export { Tensor, tensor, tidy, keep, getDevice, setDevice } from './tensor/tensor.js';
export { zeros, ones, full } from './tensor/ops.js';
export * as ops from './tensor/ops.js';
export * as nn from './tensor/nnops.js';
export { CpuDevice } from './device/cpu.js';
export { WebGPUDevice } from './device/webgpu.js';
export type { Device, Kernel, WgslProgram } from './device/device.js';
export { ShapeError } from './device/shape.js';
export { backward, noGrad } from './autograd/tape.js';
export { Rng, type RngState, sampleGumbelMax } from './tensor/random.js';
export { AdamW, type AdamWOptions, type AdamWState, excludeLayerNormAndBias } from './nn/optim.js';
export * as schedules from './nn/schedule.js';
export * as checkpoint from './electra/formats/index.js';
export * as layers from './nn/layers.js';
export { namedParameters, parameters, countParameters, disposeModule, zeroGrad } from './nn/module.js';
export { HostRng, init } from './nn/init.js';
export * as text from './text/index.js';
export {
  type ElectraConfig, presets, presetConfig, generatorConfig, applyOverrides, checkElectraConfig, configProblems, defaultElectraConfig, ConfigError,
} from './electra/model/config.js';
export { ElectraEmbeddings, ElectraModel, ElectraForPreTraining, ElectraForMaskedLM } from './electra/model/model.js';
export { createElectraPair, electraStep, pairModules, disposeStep, maskRngFor, type StepOptions, type ElectraPair } from './electra/model/pretrain.js';
export { maskBatch, scatterUpdate } from './electra/model/masking.js';
export { stepMetrics, auc } from './electra/model/metrics.js';
export * as infer from './electra/tasks/infer.js';
export { renderCurves, renderFinetuneCurves, isFinetuneRun, parseMetrics } from './electra/model/plot.js';
export {
  ElectraForSequenceClassification, ElectraForTokenClassification, ElectraForQuestionAnswering, ElectraClassificationHead, createHeadModel,
  layerwiseLrMultiplier, HEAD_ARCHITECTURE, type HeadKind, type ElectraHeadModel,
} from './electra/tasks/heads.js';
export {
  finetune, evaluate as evaluateTask, predictSequence, predictTags, predictAnswers, FINETUNE_DEFAULTS, DEFAULT_METRIC, SELECTABLE_METRICS, HEAD_FOR_TASK,
  FINETUNE_SIZE_DEFAULTS, finetuneSizeDefaults, modelSize, type ModelSize, type TaskData, type TaskKind, type FinetuneOptions, type FinetuneHooks, type FinetuneResult, type Metrics, type Prediction,
} from './electra/tasks/finetune.js';
export * as finetuneData from './electra/tasks/finetune-data.js';
export * as evalMetrics from './electra/tasks/eval-metrics.js';
export { evaluateMlm, exampleBatches, mlmEvalToJSON, type MlmEvalResult, type MlmEvalOptions } from './electra/model/evaluate-mlm.js';
export * as embeddings from './electra/tasks/embed.js';
export * as bow from './electra/tasks/bow.js';
// Model directories from any source, the same loaders and checks as Node's (which add a file-system source):
// URLs (fetch), File/Blob objects (a dropped folder), bytes in memory; and a directory's files as bytes
// (for a download: zipStored packs them).
export { type ModelSource, type ModelLocation, type DroppedFile, type UrlSourceOptions, urlSource, fileSource, folderSources, memorySource } from './electra/formats/source.js';
export {
  readModelConfig, readModelFiles, loadDiscriminator, loadGenerator, loadEncoder, loadHeadModel, initHeadModel, loadTokenizer, detectHead, expectedHeadModelShapes,
  type ModelFiles, type HFWant, type LoadedModel, type LoadedHead, type HeadInfo, type ProblemType, type InitOptions,
} from './electra/tasks/load.js';
export { hfDirectoryFiles, pairFiles, headModelFiles, headHFConfig, type DirectoryFiles, type HFDirectoryContents, type HeadSaveInfo } from './electra/tasks/save.js';
export { zipStored } from './electra/formats/zip.js';
