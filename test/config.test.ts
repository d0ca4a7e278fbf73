import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { applyOverrides, generatorConfig, presetConfig } from '../src/electra/model/config.js';

const s = suite('config');
s('presets follow the authors’ sizing rules', () => {
  const small = presetConfig('small');
  assert.equal([small.hiddenSize, small.numAttentionHeads, small.intermediateSize, small.embeddingSize], [256, 4, 1024, 128]);
  const g = generatorConfig(small);
  assert.equal([g.hiddenSize, g.numAttentionHeads, g.intermediateSize, g.numHiddenLayers], [64, 1, 256, 12]);
  assert.is(generatorConfig(presetConfig('small++')).hiddenSize, 256);
  assert.is(generatorConfig(presetConfig('base')).hiddenSize, 256);
  assert.is(generatorConfig(presetConfig('large')).hiddenSize, 256);
  assert.throws(() => presetConfig('medium'), /unknown preset 'medium'/);
});
s('overrides: typed, parsed from strings, unknown keys rejected', () => {
  const c = presetConfig('tiny');
  assert.is(applyOverrides(c, { hiddenDropoutProb: '0.2' }).hiddenDropoutProb, 0.2);
  assert.is(applyOverrides(c, { numHiddenLayers: 3 }).numHiddenLayers, 3);
  assert.throws(() => applyOverrides(c, { hiddenSise: 3 }), /unknown key 'hiddenSise' \(did you mean hiddenSize/);
  assert.throws(() => applyOverrides(c, { hiddenSize: 'big' }), /'hiddenSize' must be a number, got "big"/);
  assert.throws(() => applyOverrides(c, { hiddenSize: true }), /must be a number/);
});
s.run();
