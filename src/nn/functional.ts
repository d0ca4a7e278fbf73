// The functional ops the layers use, in one place: fused kernels (nnops.ts), dropout and the RNG.
export { softmax, logSoftmax, layerNorm, embedding, checkIds, softmaxCrossEntropy, crossEntropy, linear, attention } from '../tensor/nnops.js';
export { dropout } from '../tensor/ops.js';
export { Rng, sampleGumbelMax } from '../tensor/random.js';
