// A tiny ELECTRA config and WordPiece vocabulary shared by the tests that export a pair and run it through
// the CLI/API (embed, evaluate --mlm). Large init (0.3) keeps outputs far apart on every device.

import { type ElectraConfig, presetConfig } from '../../src/electra/model/config.js';

export const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'the', 'cat', 'sat', 'on', 'mat', 'dog', 'ran', 'a', 'big', 'red',
  'house', '.', ',', '##s', '##ed', 'it', 'was', 'and', 'to', 'of', 'in', 'man', 'saw', 'small', 'tree'];

export const config: ElectraConfig = {
  ...presetConfig('tiny'), vocabSize: VOCAB.length, embeddingSize: 16, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 2,
  intermediateSize: 64, maxPositionEmbeddings: 24, generatorHiddenFraction: 0.5, initializerRange: 0.3,
};
