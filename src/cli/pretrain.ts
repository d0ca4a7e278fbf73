// `electra pretrain`: the ELECTRA pre-training job, one readable script —
// resolve the config → data (bundled corpus or shards) → generator + discriminator → AdamW (no bias
// correction) with warmup × linear decay → the loop (log, eval, checkpoint) → HF export.
// Resumes exactly: state/ holds weights, Adam moments, the GPU RNG counter and the data position;
// host masking is seeded per step, so a run killed at any point continues with the same losses.
// Ctrl-C finishes the current step, saves and exits.

import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { noGrad } from '../autograd/tape.js';
import { type ElectraConfig, applyOverrides, presetConfig } from '../electra/model/config.js';
import { MetricsTally, type StepMetrics, stepMetrics } from '../electra/model/metrics.js';
import { type ElectraPair, type Objective, type StepOptions, createElectraPair, disposeStep, electraStep, pairModules } from '../electra/model/pretrain.js';
import { parseSafetensors, serializeSafetensors, toWritable } from '../electra/formats/safetensors.js';
import { assignStateDict, readStateDict } from '../electra/formats/state.js';
import { HostRng } from '../nn/init.js';
import { namedParameters } from '../nn/module.js';
import { AdamW, excludeLayerNormAndBias } from '../nn/optim.js';
import { linearWarmupLinearDecay } from '../nn/schedule.js';
import { bestDevice } from '../node/device.js';
import { exportPair, fromHFConfig } from '../node/electra-io.js';
import { loadHFDirectory, writeFileAtomic } from '../node/files.js';
import { Progress, fmtNum } from '../node/progress.js';
import type { Device } from '../device/device.js';
import { Rng } from '../tensor/random.js';
import type { BatchReader } from '../text/stream.js';
import type { WordPieceTokenizer } from '../text/wordpiece.js';
import { openBatchReader } from '../text/node/shards.js';
import { preparePretrainingData } from '../text/node/prepare.js';
import { loadTokenizer } from '../text/node/files.js';
import { BUNDLED_CORPORA, type BundledCorpusName, checkBundledCorpus } from '../text/node/corpus.js';

/** Everything that defines a run; saved as run-config.json and checked on resume. */
export interface RunConfig {
  preset: string;
  model: ElectraConfig;
  objective: Objective;
  corpus: string;         // a bundled corpus name, or '' when `data` is given
  data: string;           // a directory from `electra build-data` (manifest.json, vocab.txt, shards)
  vocabSize: number;      // for a bundled corpus: size of the vocabulary trained on it
  seqLength: number;
  batchSize: number;
  gradAccum: number;
  steps: number;
  lr: number;
  warmupSteps: number;
  weightDecay: number;
  adamEps: number;
  maxGradNorm: number;
  maskProb: number;
  discWeight: number;
  genWeight: number;
  temperature: number;
  seed: number;
  logEvery: number;
  evalEvery: number;
  evalBatches: number;
  saveEvery: number;
}

export const help = `usage: electra pretrain [options]

Pre-trains an ELECTRA generator + discriminator (replaced-token detection, loss = MLM + 50·disc,
Adam without bias correction, warmup × linear decay) and writes a run directory:
  OUT/discriminator/  OUT/generator/   Hugging Face directories (config.json, model.safetensors, vocab.txt)
  OUT/metrics.jsonl   one JSON object per log/eval step       OUT/run-config.json   the resolved config
  OUT/state/          weights, optimizer, RNG and data position for an exact resume
Re-running the same command on an existing OUT resumes it.

  --preset NAME       tiny | small | small++ | base | large (default tiny)
  --corpus NAME       bundled corpus: ${BUNDLED_CORPORA.join(', ')} (default all)
  --data DIR          shards from \`electra build-data\` instead of a bundled corpus
  --vocab-size N      vocabulary trained on the bundled corpus (default 8192)
  --out DIR           run directory (default runs/<preset>)
  --steps N           optimizer steps (default 600)
  --batch N           sequences per micro-batch (default 8)      --grad-accum N   micro-batches per step (default 1)
  --seq-len N         tokens per sequence (default 128)
  --lr X              peak learning rate (default 5e-4 small/tiny, 2e-4 base/large)
  --warmup N          warmup steps (default 10% of --steps)
  --objective O       electra | mlm (BERT baseline) | adversarial (opt-in; worse in the paper) (default electra)
  --set KEY=VALUE     model config override, repeatable (e.g. --set numHiddenLayers=4)
  --seed N            (default 0)
  --log-every N       (default 20)   --eval-every N (default 100)   --eval-batches N (default 4)
  --save-every N      checkpoint interval (default 200; also at the end and on Ctrl-C)
  --device D          webgpu | cpu | auto (default auto)
  --init DIR          start from pre-trained weights: DIR holds discriminator/ and generator/ (a run
                      directory, or two Hugging Face directories such as google/electra-small-*); the
                      model config comes from them, and --data must be tokenized with their vocab.txt
                      (electra build-data --vocab DIR/discriminator/vocab.txt …)
  --fresh             delete OUT's previous state and start over`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv, strict: true,
    options: {
      preset: { type: 'string', default: 'tiny' }, corpus: { type: 'string' }, data: { type: 'string' },
      'vocab-size': { type: 'string' }, out: { type: 'string' }, steps: { type: 'string' }, batch: { type: 'string' },
      'grad-accum': { type: 'string' }, 'seq-len': { type: 'string' }, lr: { type: 'string' }, warmup: { type: 'string' },
      objective: { type: 'string' }, set: { type: 'string', multiple: true }, seed: { type: 'string' },
      'log-every': { type: 'string' }, 'eval-every': { type: 'string' }, 'eval-batches': { type: 'string' },
      'save-every': { type: 'string' }, device: { type: 'string', default: 'auto' }, fresh: { type: 'boolean' },
      init: { type: 'string' },
    },
  });
  const num = (k: keyof typeof values, dflt: number, int = true): number => {
    const raw = values[k];
    if (raw === undefined) return dflt;
    const v = Number(raw);
    if (!Number.isFinite(v) || (int && !Number.isInteger(v)) || v < 0) throw new Error(`--${k} must be a non-negative ${int ? 'integer' : 'number'}, got '${raw}'`);
    return v;
  };
  const preset = values.preset!;
  const overrides: Record<string, string> = {};
  for (const kv of values.set ?? []) {
    const eq = kv.indexOf('=');
    if (eq < 1) throw new Error(`--set expects KEY=VALUE, got '${kv}'`);
    overrides[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  const objective = (values.objective ?? 'electra') as Objective;
  if (!['electra', 'mlm', 'adversarial'].includes(objective)) throw new Error(`--objective must be electra, mlm or adversarial, got '${objective}'`);
  if (values.corpus && values.data) throw new Error('give either --corpus or --data, not both');
  const corpus = values.data ? '' : values.corpus ?? 'all';
  if (corpus && !BUNDLED_CORPORA.includes(corpus as BundledCorpusName)) throw new Error(`--corpus must be one of ${BUNDLED_CORPORA.join(', ')}, got '${corpus}'`);
  const steps = num('steps', 600);
  const big = preset === 'base' || preset === 'large';
  const seqLength = num('seq-len', 128);
  const init = values.init ? await readInit(values.init) : null;
  if (init && !values.data) throw new Error(`--init needs --data tokenized with ${init.vocabPath} (make it with: electra build-data --corpus all --vocab ${init.vocabPath} --out DIR)`);
  const rc: RunConfig = {
    preset: init ? `init:${values.init}` : preset, model: applyOverrides(init ? init.config : presetConfig(preset), overrides, 'model config'), objective, corpus, data: values.data ?? '',
    vocabSize: num('vocab-size', 8192), seqLength, batchSize: num('batch', 8), gradAccum: Math.max(1, num('grad-accum', 1)), steps,
    lr: num('lr', big ? 2e-4 : 5e-4, false), warmupSteps: num('warmup', Math.ceil(steps / 10)), weightDecay: 0.01, adamEps: 1e-6,
    maxGradNorm: 1, maskProb: preset === 'large' ? 0.25 : 0.15, discWeight: 50, genWeight: 1, temperature: 1, seed: num('seed', 0),
    logEvery: Math.max(1, num('log-every', 20)), evalEvery: num('eval-every', 100), evalBatches: num('eval-batches', 4),
    saveEvery: num('save-every', 200),
  };
  const out = values.out ?? join('runs', preset);
  mkdirSync(out, { recursive: true });
  if (values.fresh) for (const f of ['state', 'state.old', 'state.tmp', 'metrics.jsonl']) rmSync(join(out, f), { recursive: true, force: true });

  // A missing corpus package is reported before the device starts (shards already built need no corpus).
  if (corpus && !existsSync(join(out, 'data', 'manifest.json'))) checkBundledCorpus(corpus as BundledCorpusName);
  const device = await bestDevice({ device: values.device as 'auto' | 'webgpu' | 'cpu' });

  // ---- data ----------------------------------------------------------------------------------
  const { tok, files } = await loadData(rc, out);
  if (init && readFileSync(init.vocabPath, 'utf8').trim() !== tok.tokens.join('\n').trim()) {
    throw new Error(`--data ${rc.data} was not tokenized with ${init.vocabPath}; rebuild it with --vocab ${init.vocabPath}`);
  }
  rc.model = { ...rc.model, vocabSize: tok.vocabSize, maxPositionEmbeddings: Math.max(rc.model.maxPositionEmbeddings, seqLength) };
  // The last shard is held out for evaluation; a one-shard corpus is evaluated on its training data.
  const trainFiles = files.length > 1 ? files.slice(0, -1) : files, evalFiles = files.slice(-1);
  if (files.length === 1) console.log('warning: the data has one shard, so evaluation uses training data (build more shards to hold one out)');

  // ---- resume or start ---------------------------------------------------------------------
  const cfgPath = join(out, 'run-config.json');
  const stateDir = ['state', 'state.old'].map((d) => join(out, d)).find((d) => existsSync(join(d, 'trainer.json')));
  if (stateDir && existsSync(cfgPath)) {
    const saved = readFileSync(cfgPath, 'utf8');
    const same = (a: RunConfig) => JSON.stringify({ ...a, steps: 0, logEvery: 0, evalEvery: 0, saveEvery: 0, evalBatches: 0 });
    if (same(JSON.parse(saved) as RunConfig) !== same(rc)) {
      throw new Error(`${out} holds a run with a different configuration (${cfgPath}); use another --out, or --fresh to discard it`);
    }
  }
  await writeFileAtomic(cfgPath, JSON.stringify(rc, null, 2) + '\n');
  console.log(`run: ${out}  device: ${device.name}`);
  console.log(`config: ${JSON.stringify(rc)}`);

  const pair = createElectraPair(rc.model, objective, rc.seed, device);
  const modules = pairModules(pair);
  const params = namedParameters(modules);
  const opt = new AdamW(params, {
    lr: rc.lr, eps: rc.adamEps, weightDecay: rc.weightDecay, excludeFromDecay: excludeLayerNormAndBias,
    maxGradNorm: rc.maxGradNorm, biasCorrection: false,
  });
  let rng = new Rng(rc.seed + 1);
  let start = 0, position = 0;
  if (init && !stateDir) {
    const d = await loadHFDirectory(join(values.init!, 'discriminator'));
    if (pair.discriminator) assignStateDict(pair.discriminator, d.tensors, d.weightsPath);
    const g = await loadHFDirectory(join(values.init!, 'generator'));
    // The generator's copy of the shared embeddings equals the discriminator's (the authors tie them).
    assignStateDict(pair.generator, g.tensors, g.weightsPath);
    console.log(`initialised from ${values.init}`);
  }
  if (stateDir) {
    ({ step: start, rng, position } = await loadState(stateDir, modules, opt));
    truncateMetrics(join(out, 'metrics.jsonl'), start);
    console.log(`resumed from ${stateDir} at step ${start}`);
  }
  console.log(`parameters: ${params.reduce((n, [, t]) => n + t.size, 0).toLocaleString('en-US')} (${params.length} tensors)`);
  const reader = openBatchReader(trainFiles, tok, { batchSize: rc.batchSize, seed: rc.seed, position });
  const special = { pad: tok.padId, cls: tok.clsId, sep: tok.sepId, mask: tok.maskId };
  const stepOpts: StepOptions = {
    maskProb: rc.maskProb, discWeight: rc.discWeight, genWeight: rc.genWeight, temperature: rc.temperature,
    objective, special, gradScale: 1 / rc.gradAccum,
  };

  let stop = false;
  const onInt = () => { if (stop) process.exit(130); stop = true; console.log('\ninterrupt: finishing this step, saving, exiting (Ctrl-C again to abort)'); };
  process.on('SIGINT', onInt);

  const save = async (step: number) => {
    await saveState(out, step, modules, opt, rng, reader.state.position);
    await exportPair(pair, tok.tokens, out);
  };

  // ---- the loop ------------------------------------------------------------------------------
  const progress = new Progress(rc.steps, 'step ', rc.logEvery);
  const tokensPerStep = rc.batchSize * rc.gradAccum * seqLength;
  let t0 = Date.now(), tokens = 0;
  for (let step = start + 1; step <= rc.steps && !stop; step++) {
    const lr = linearWarmupLinearDecay(step - 1, { peak: rc.lr, warmupSteps: rc.warmupSteps, totalSteps: rc.steps });
    const log = step % rc.logEvery === 0 || step === rc.steps;
    let kept: Awaited<ReturnType<typeof electraStep>> | null = null;
    for (let micro = 0; micro < rc.gradAccum; micro++) {
      const b = await reader.next();
      const r = electraStep(pair, { B: b.batchSize, T: b.seqLen, ...b }, stepOpts, maskRngFor(rc.seed, step, micro), rng, device, true);
      if (log && micro === rc.gradAccum - 1) kept = r; else disposeStep(r);
    }
    opt.step(lr);
    opt.zeroGrad();
    tokens += tokensPerStep;
    if (kept) {
      const m = await stepMetrics(kept);
      disposeStep(kept);
      const gradNorm = await opt.lastGradNorm();
      const secs = (Date.now() - t0) / 1000;
      const rec = { step, split: 'train', ...m, lr, gradNorm, tokensPerSec: tokens / secs, time: new Date().toISOString() };
      appendFileSync(join(out, 'metrics.jsonl'), JSON.stringify(rec) + '\n');
      t0 = Date.now(); tokens = 0;
      progress.update(step, logFields(m, { lr, gnorm: gradNorm, 'tok/s': rec.tokensPerSec }));
      if (!Number.isFinite(m.loss)) throw new Error(`loss is ${m.loss} at step ${step}; lower --lr (checkpoint of step ${Math.floor(step / rc.saveEvery) * rc.saveEvery} kept)`);
    }
    if (rc.evalEvery && (step % rc.evalEvery === 0 || step === rc.steps)) {
      const m = await evaluate(pair, evalFiles, tok, rc, stepOpts, device);
      appendFileSync(join(out, 'metrics.jsonl'), JSON.stringify({ step, split: 'eval', ...m }) + '\n');
      console.log(`eval @${step}: ${Object.entries(logFields(m, {})).map(([k, v]) => `${k} ${v}`).join(' | ')}`);
    }
    if ((rc.saveEvery && step % rc.saveEvery === 0) || step === rc.steps || stop) {
      await save(step);
      if (stop) { console.log(`saved step ${step} to ${out}; run the same command to resume`); return 130; }
    }
  }
  process.off('SIGINT', onInt);
  console.log(`done: ${out}/discriminator and ${out}/generator (Hugging Face format), metrics in ${out}/metrics.jsonl`);
  return 0;
}

/** Model config and vocabulary of a --init directory (discriminator/ + generator/). */
async function readInit(dir: string): Promise<{ config: ElectraConfig; vocabPath: string }> {
  const d = await loadHFDirectory(join(dir, 'discriminator'), { check: false });
  const g = await loadHFDirectory(join(dir, 'generator'), { check: false });
  const config = fromHFConfig(d.config, join(dir, 'discriminator', 'config.json'));
  if (g.config.numHiddenLayers !== d.config.numHiddenLayers || g.config.embeddingSize !== d.config.embeddingSize || g.config.vocabSize !== d.config.vocabSize) {
    throw new Error(`${dir}: the generator and discriminator configs do not pair (layers, embedding size and vocabulary must agree)`);
  }
  config.generatorHiddenFraction = g.config.hiddenSize / d.config.hiddenSize;
  const vocabPath = join(dir, 'discriminator', 'vocab.txt');
  if (!existsSync(vocabPath)) throw new Error(`${dir}/discriminator: no vocab.txt`);
  return { config, vocabPath };
}

/** Host masking is seeded per (step, micro-batch): resuming needs no saved generator state. */
function maskRngFor(seed: number, step: number, micro: number): HostRng {
  return new HostRng((Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(step, 0x85ebca6b) ^ Math.imul(micro + 1, 0xc2b2ae35)) >>> 0);
}

function logFields(m: StepMetrics, extra: Record<string, number>): Record<string, string> {
  const f: Record<string, string> = { loss: fmtNum(m.loss), mlm: fmtNum(m.mlmLoss) };
  if (m.discLoss !== null) f.disc = fmtNum(m.discLoss);
  f.mlmAcc = fmtNum(m.mlmAcc);
  if (m.discAcc !== null) f.discAcc = `${fmtNum(m.discAcc)} (all-original ${fmtNum(m.discBaseline ?? NaN)})`;
  if (m.discAuc !== null) f.auc = fmtNum(m.discAuc);
  if (m.discRecall !== null) f.recall = fmtNum(m.discRecall);
  if (m.replaced !== null) f.replaced = fmtNum(m.replaced);
  for (const [k, v] of Object.entries(extra)) f[k] = fmtNum(v);
  return f;
}

async function loadData(rc: RunConfig, out: string): Promise<{ tok: WordPieceTokenizer; files: string[] }> {
  if (rc.data) {
    const manifestPath = join(rc.data, 'manifest.json');
    if (!existsSync(manifestPath)) throw new Error(`${rc.data}: no manifest.json (make it with \`electra build-data\`)`);
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { shards: { file: string }[] };
    return { tok: loadTokenizer(join(rc.data, 'vocab.txt')), files: manifest.shards.map((s) => join(rc.data, s.file)) };
  }
  console.log(`data: bundled corpus '${rc.corpus}', vocabulary ${rc.vocabSize}, sequences of ${rc.seqLength} (cached in ${join(out, 'data')})`);
  let last = 0;
  const prep = await preparePretrainingData({
    corpus: rc.corpus as BundledCorpusName, vocabSize: rc.vocabSize, seqLen: rc.seqLength, outDir: join(out, 'data'), seed: rc.seed,
    onProgress: (p) => {
      if (Date.now() - last < 2000) return;
      last = Date.now();
      console.log(`  building shards: ${(p.chars / 1e6).toFixed(1)}/${(p.totalChars / 1e6).toFixed(1)} MB, ${p.examples} examples, ETA ${p.etaSec.toFixed(0)} s`);
    },
  });
  console.log(`data: ${prep.manifest.examples} examples, ${prep.manifest.tokens} tokens in ${prep.files.length} shards${prep.reused ? ' (reused)' : ''}`);
  return { tok: prep.tokenizer, files: prep.files };
}

/** Metrics pooled over the held-out shard's first `evalBatches` batches (the same batches and masks every time). */
async function evaluate(pair: ElectraPair, files: string[], tok: WordPieceTokenizer, rc: RunConfig, so: StepOptions, device: Device): Promise<StepMetrics> {
  const reader: BatchReader = openBatchReader(files, tok, { batchSize: rc.batchSize, seed: rc.seed, shuffleBuffer: 1 });
  const rng = new Rng(rc.seed + 7);
  const tally = new MetricsTally();
  for (let i = 0; i < rc.evalBatches; i++) {
    const b = await reader.next();
    const r = noGrad(() => electraStep(pair, { B: b.batchSize, T: b.seqLen, ...b }, so, maskRngFor(rc.seed + 999, i, 0), rng, device, false));
    try { await tally.add(r); } finally { disposeStep(r); }
  }
  return tally.metrics();
}

// ---- training state ------------------------------------------------------------------------------

interface Trainer { step: number; rng: { seed: number; counter: number }; position: number; optimizerStep: number }

/** Writes state.tmp/ fully, then swaps it in: at every instant a complete state/ or state.old/ exists. */
async function saveState(out: string, step: number, modules: object, opt: AdamW, rng: Rng, position: number): Promise<void> {
  const tmp = join(out, 'state.tmp'), cur = join(out, 'state'), old = join(out, 'state.old');
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const weights = await readStateDict(modules);
  await writeFileAtomic(join(tmp, 'weights.safetensors'), serializeSafetensors([...weights].map(([n, t]) => [n, toWritable(t)] as const)));
  const st = opt.state();
  const moments: [string, ReturnType<typeof toWritable>][] = [];
  for (const [kind, rec] of [['m', st.m], ['v', st.v]] as const) {
    for (const [name, t] of Object.entries(rec)) moments.push([`${kind}.${name}`, { dtype: 'F32', shape: [...t.shape], data: Float32Array.from(await t.data()) }]);
  }
  await writeFileAtomic(join(tmp, 'optimizer.safetensors'), serializeSafetensors(moments));
  const trainer: Trainer = { step, rng: rng.state(), position, optimizerStep: st.step };
  await writeFileAtomic(join(tmp, 'trainer.json'), JSON.stringify(trainer, null, 2) + '\n');
  if (existsSync(cur)) { rmSync(old, { recursive: true, force: true }); renameSync(cur, old); }
  renameSync(tmp, cur);
  rmSync(old, { recursive: true, force: true });
}

async function loadState(dir: string, modules: object, opt: AdamW): Promise<{ step: number; rng: Rng; position: number }> {
  const trainer = JSON.parse(readFileSync(join(dir, 'trainer.json'), 'utf8')) as Trainer;
  const wPath = join(dir, 'weights.safetensors');
  assignStateDict(modules, parseSafetensors(new Uint8Array(readFileSync(wPath)), wPath).tensors, wPath);
  const oPath = join(dir, 'optimizer.safetensors');
  const moments = parseSafetensors(new Uint8Array(readFileSync(oPath)), oPath).tensors;
  const m: Record<string, Float32Array> = {}, v: Record<string, Float32Array> = {};
  for (const [key, t] of moments) {
    const [kind, ...rest] = key.split('.');
    (kind === 'm' ? m : v)[rest.join('.')] = t.data as Float32Array;
  }
  opt.loadState({ step: trainer.optimizerStep, m, v });
  return { step: trainer.step, rng: Rng.fromState(trainer.rng), position: trainer.position };
}

/** Drops metric lines past the resumed step (a killed run may have logged beyond its last checkpoint). */
function truncateMetrics(path: string, step: number): void {
  if (!existsSync(path)) return;
  const kept = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() && (JSON.parse(l) as { step: number }).step <= step);
  writeFileSync(path, kept.map((l) => l + '\n').join(''));
}
