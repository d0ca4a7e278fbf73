// A tiny ELECTRA config and WordPiece vocabulary shared by the tests that export a pair and run it through
// the CLI/API (embed, evaluate --mlm, the loaders from every source, the browser). Large init (0.3) keeps outputs far
// apart on every device.

import { join } from 'node:path';
import { type ElectraConfig, generatorConfig, presetConfig } from '../../src/electra/model/config.js';
import { ElectraEmbeddings, ElectraForMaskedLM, ElectraForPreTraining } from '../../src/electra/model/model.js';
import { createHeadModel } from '../../src/electra/tasks/heads.js';
import { HostRng } from '../../src/nn/init.js';
import { exportPair } from '../../src/node/electra-io.js';
import { saveHeadModel } from '../../src/node/finetune-io.js';
import { WordPieceTokenizer } from '../../src/text/wordpiece.js';
import { cpu } from '../helpers.js';

export const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'the', 'cat', 'sat', 'on', 'mat', 'dog', 'ran', 'a', 'big', 'red',
  'house', '.', ',', '##s', '##ed', 'it', 'was', 'and', 'to', 'of', 'in', 'man', 'saw', 'small', 'tree'];

export const config: ElectraConfig = {
  ...presetConfig('tiny'), vocabSize: VOCAB.length, embeddingSize: 16, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 2,
  intermediateSize: 64, maxPositionEmbeddings: 24, generatorHiddenFraction: 0.5, initializerRange: 0.3,
};

/**
 * Writes a random tiny pair as a run directory (ROOT/pair/discriminator, ROOT/pair/generator) and a two-label
 * sequence classifier (ROOT/cls, labels ham/spam) on the CPU device: the fixtures of the loader and browser tests.
 */
export async function writeTinyModels(root: string, seed = 7): Promise<{ run: string; disc: string; gen: string; cls: string }> {
  const ic = { rng: new HostRng(seed), device: cpu, std: config.initializerRange };
  const emb = new ElectraEmbeddings(config, ic);
  const gen = new ElectraForMaskedLM(generatorConfig(config), emb, ic);
  const disc = new ElectraForPreTraining(config, emb, ic);
  const run = join(root, 'pair'), cls = join(root, 'cls');
  await exportPair({ config, embeddings: emb, generator: gen, discriminator: disc }, VOCAB, run);
  const head = createHeadModel('sequence', config, 2, ic);
  await saveHeadModel(cls, head, new WordPieceTokenizer(VOCAB), { labels: ['ham', 'spam'], problemType: 'single_label_classification' });
  return { run, disc: join(run, 'discriminator'), gen: join(run, 'generator'), cls };
}
