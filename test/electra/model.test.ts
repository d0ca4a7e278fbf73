// The ELECTRA modules: parameter names and shapes are exactly Hugging Face's for both networks, the
// `small` discriminator counts 13,549,057 parameters, and generator and discriminator share the
// embedding tables (one tensor object, walked once by the optimiser).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { generatorConfig, presetConfig } from '../../src/electra/model/config.js';
import { countElectraParameters, expectedElectraShapes } from '../../src/electra/formats/hf.js';
import { createElectraPair, pairModules } from '../../src/electra/model/pretrain.js';
import { disposeModule, namedParameters } from '../../src/nn/module.js';
import { toHFConfig } from '../../src/node/electra-io.js';
import { cpu } from '../helpers.js';

const s = suite('electra model');

s('small: names and shapes equal HF ElectraForPreTraining / ElectraForMaskedLM; 13,549,057 parameters', () => {
  const cfg = presetConfig('small');
  const pair = createElectraPair(cfg, 'electra', 0, cpu);
  const disc = new Map(namedParameters(pair.discriminator!).map(([n, t]) => [n, [...t.shape]]));
  const want = expectedElectraShapes(toHFConfig(cfg), 'discriminator');
  assert.equal([...disc.keys()].sort(), [...want.keys()].sort());
  for (const [n, shape] of want) assert.equal(disc.get(n), shape, n);
  assert.is([...disc.values()].reduce((a, sh) => a + sh.reduce((x, y) => x * y, 1), 0), 13549057);
  assert.is(countElectraParameters(want), 13549057);

  const gen = new Map(namedParameters(pair.generator).map(([n, t]) => [n, [...t.shape]]));
  const wantGen = expectedElectraShapes(toHFConfig(generatorConfig(cfg)), 'generator');
  wantGen.delete('generator_lm_head.weight'); // tied to electra.embeddings.word_embeddings.weight
  assert.equal([...gen.keys()].sort(), [...wantGen.keys()].sort());
  for (const [n, shape] of wantGen) assert.equal(gen.get(n), shape, n);
  assert.is(gen.get('electra.embeddings_project.weight')![0], 64, 'paper small generator: hidden 64');

  // Shared embeddings: the same tensor objects, counted once by the optimiser's walk.
  assert.is(pair.generator.electra.embeddings, pair.discriminator!.electra.embeddings);
  const all = namedParameters(pairModules(pair));
  assert.is(all.length, disc.size + gen.size - 5);
  disposeModule(pairModules(pair));
});

s.run();
