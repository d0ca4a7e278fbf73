// The ELECTRA config: presets follow the authors' sizing, `--set` overrides are typed and checked, and every
// config (presets + overrides, every config.json) is validated whole before any work, each problem naming the
// key, the value and the rule. The one descriptor table drives config.json names, defaults and round trips.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ELECTRA_FIELDS, applyOverrides, configProblems, defaultElectraConfig, generatorConfig, presetConfig } from '../src/electra/model/config.js';
import { defaultHFElectraConfig, electraConfigToJSON, fromHFConfig, parseElectraConfig, toHFConfig } from '../src/electra/formats/hf.js';
import { createElectraPair } from '../src/electra/model/pretrain.js';
import { cpu } from './helpers.js';

const s = suite('config');
const throwsWith = (fn: () => unknown, ...parts: string[]) => {
  try { fn(); } catch (e) {
    for (const p of parts) assert.ok((e as Error).message.includes(p), `error "${(e as Error).message}" should mention ${p}`);
    return;
  }
  assert.unreachable(`expected an error mentioning ${parts.join(', ')}`);
};

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

s('overrides: typed, parsed from strings, unknown keys rejected with near names', () => {
  const c = presetConfig('tiny');
  assert.is(applyOverrides(c, { hiddenDropoutProb: '0.2' }).hiddenDropoutProb, 0.2);
  assert.is(applyOverrides(c, { numHiddenLayers: 3 }).numHiddenLayers, 3);
  assert.is(applyOverrides(c, { padTokenId: 'null' }).padTokenId, null);
  throwsWith(() => applyOverrides(c, { hiddenSise: 3 }), "unknown key 'hiddenSise' (did you mean hiddenSize");
  throwsWith(() => applyOverrides(c, { hidden_size: 3 }), "unknown key 'hidden_size' (did you mean hiddenSize?)");
  throwsWith(() => applyOverrides(c, { hiddenAct: 'relu' }), "unknown key 'hiddenAct'");
  throwsWith(() => applyOverrides(c, { hiddenSize: 'big' }), 'model config: hiddenSize = "big": must be an integer ≥ 1');
  throwsWith(() => applyOverrides(c, { hiddenSize: true }), 'hiddenSize = true: must be an integer ≥ 1');
  throwsWith(() => applyOverrides(c, { numHiddenLayers: '2.5' }), 'numHiddenLayers = 2.5: must be an integer ≥ 1');
});

s('every rule names the key, the value and the rule, all problems at once (issue 14 item 4)', () => {
  const c = presetConfig('tiny');
  // The probe's inputs: a 0-layer model trained and failed only at export; 3 heads or width 0 failed deep in reshape.
  throwsWith(() => applyOverrides(c, { numHiddenLayers: '-1' }), 'model config: numHiddenLayers = -1: must be an integer ≥ 1');
  throwsWith(() => applyOverrides(c, { numAttentionHeads: '3' }), 'hiddenSize = 128: must be a multiple of numAttentionHeads = 3');
  throwsWith(() => applyOverrides(c, { hiddenSize: '0' }), 'hiddenSize = 0: must be an integer ≥ 1');
  throwsWith(() => applyOverrides(c, { layerNormEps: '-1' }), 'layerNormEps = -1: must be a number in (0, 1]');
  throwsWith(() => applyOverrides(c, { initializerRange: '1e30' }), 'initializerRange = 1e+30: must be a number in (0, 1]');
  throwsWith(() => applyOverrides(c, { hiddenDropoutProb: '1' }), 'hiddenDropoutProb = 1: must be a number in [0, 1)');
  throwsWith(() => applyOverrides(c, { padTokenId: '99999' }), 'padTokenId = 99999: must be below vocabSize = 30522');
  throwsWith(() => applyOverrides(c, { vocabSize: '1e9', embeddingSize: '64' }), 'vocabSize × embeddingSize = 1000000000 × 64: one tensor must have at most 2^31 − 1 elements');
  // The generator pre-training derives is checked too (hidden 130·1 → 2 heads of 65 is fine, 129 is not).
  throwsWith(() => applyOverrides(c, { hiddenSize: '258', numAttentionHeads: '2', generatorHiddenFraction: '0.5' }, 'model config', { pretraining: true }),
    'generatorHiddenFraction = 0.5: gives the generator hidden size 129, not a multiple of its max(1, ⌊129/64⌋) = 2 heads');
  assert.ok(applyOverrides(c, { hiddenSize: '258', numAttentionHeads: '2', generatorHiddenFraction: '0.5' }), 'fine when no generator is derived');
  const many = configProblems({ ...c, numHiddenLayers: 0, hiddenSize: -4, layerNormEps: 0 });
  assert.equal(many, ['hiddenSize = -4: must be an integer ≥ 1', 'numHiddenLayers = 0: must be an integer ≥ 1', 'layerNormEps = 0: must be a number in (0, 1]']);
  // Library entry points check too, so a bad config never reaches a kernel.
  throwsWith(() => createElectraPair({ ...c, numAttentionHeads: 3 }, 'electra', 0, cpu), 'createElectraPair config: hiddenSize = 128: must be a multiple of numAttentionHeads = 3');
});

s('one descriptor table: config.json names, defaults and rules; config.json problems name the file, the HF key, the value and the rule', () => {
  const hfNames = ELECTRA_FIELDS.filter((f) => f.hf).map((f) => f.hf);
  const written = Object.keys(JSON.parse(electraConfigToJSON(defaultHFElectraConfig()))).sort();
  assert.equal(written, [...hfNames, 'architectures', 'model_type'].sort());
  const c = presetConfig('small');
  assert.equal(fromHFConfig(toHFConfig(c)), { ...c, generatorHiddenFraction: 1, generatorLayersFraction: 1 }, 'run fields are not in config.json');
  assert.equal(Object.keys(defaultElectraConfig()).sort(), ELECTRA_FIELDS.filter((f) => f.scope !== 'file').map((f) => f.key).sort());
  throwsWith(() => parseElectraConfig('{"num_hidden_layers": -1, "layer_norm_eps": -1, "hidden_act": "relu"}', 'run/config.json'),
    'run/config.json: ', 'num_hidden_layers = -1: must be an integer ≥ 1', 'hidden_act = "relu": must be one of \'gelu\'', 'layer_norm_eps = -1: must be a number in (0, 1]');
  throwsWith(() => parseElectraConfig('{"pad_token_id": 121, "vocab_size": 121}', 'c.json'), 'pad_token_id = 121: must be below vocab_size = 121');
  assert.is(parseElectraConfig('{"pad_token_id": null}', 'c.json').padTokenId, null);
});

// ---- the CLI: checked before any work ------------------------------------------------------------------

const cli = join(process.cwd(), 'build/src/cli/main.js');
const work = mkdtempSync(join(tmpdir(), 'electra-config-'));
const electra = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 });

s('pretrain --set with a bad value fails at once, naming key, value and rule, before touching --out or the data', () => {
  for (const [set, msg] of [
    ['numHiddenLayers=-1', 'numHiddenLayers = -1: must be an integer ≥ 1'],
    ['numAttentionHeads=3', 'hiddenSize = 128: must be a multiple of numAttentionHeads = 3'],
    ['hiddenSize=0', 'hiddenSize = 0: must be an integer ≥ 1'],
    ['layerNormEps=-1', 'layerNormEps = -1: must be a number in (0, 1]'],
  ]) {
    const out = join(work, `pre-${set.split('=')[0]}`);
    const t0 = Date.now();
    const r = electra('pretrain', '--out', out, '--corpus', 'moby-dick', '--device', 'cpu', '--set', set);
    assert.is(r.status, 1, r.stdout);
    assert.ok(r.stderr.includes(`model config: ${msg}`), r.stderr);
    assert.not.ok(existsSync(out), 'nothing was created');
    assert.ok(Date.now() - t0 < 20_000);
  }
});

s('finetune --preset --set with a bad value fails before the data is read; detect and evaluate --mlm on a bad config.json name the file', () => {
  const r = electra('finetune', '--preset', 'tiny', '--vocab', join(work, 'no-vocab.txt'), '--set', 'numAttentionHeads=3',
    '--train', join(work, 'missing.csv'), '--dev', join(work, 'missing.csv'), '--text-col', 't', '--label-col', 'l', '--out', join(work, 'ft'));
  assert.is(r.status, 1);
  assert.match(r.stderr, /model config: hiddenSize = 128: must be a multiple of numAttentionHeads = 3/);
  const dir = join(work, 'bad-config');
  rmSync(dir, { recursive: true, force: true });
  spawnSync('mkdir', ['-p', dir]);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'electra', num_attention_heads: 3 }));
  writeFileSync(join(dir, 'vocab.txt'), '[PAD]\n[UNK]\n');
  const d = electra('detect', '--model', dir, '--device', 'cpu', 'hello');
  assert.is(d.status, 1);
  assert.ok(d.stderr.includes(`${join(dir, 'config.json')}: hidden_size = 256: must be a multiple of num_attention_heads = 3`), d.stderr);
  // evaluate --mlm checks the run's configs before it reads or tokenizes any text.
  const run = join(work, 'bad-run');
  spawnSync('mkdir', ['-p', join(run, 'generator')]);
  writeFileSync(join(run, 'generator', 'config.json'), JSON.stringify({ model_type: 'electra', num_hidden_layers: -1 }));
  const e = electra('evaluate', '--mlm', '--model', run, '--corpus', 'moby-dick', '--device', 'cpu');
  assert.is(e.status, 1);
  assert.ok(e.stderr.includes(`${join(run, 'generator', 'config.json')}: num_hidden_layers = -1: must be an integer ≥ 1`), e.stderr);
});

s.after(() => rmSync(work, { recursive: true, force: true }));
s.run();
