// `electra pretrain`: the ELECTRA pre-training job, one readable script —
// resolve the config → data (bundled corpus or shards) → generator + discriminator → AdamW (no bias
// correction) with warmup × linear decay → the loop (log, eval, checkpoint) → HF export.
// Resumes exactly: state/ holds weights, Adam moments, the GPU RNG counter and the data position;
// host masking is seeded per step, so a run killed at any point continues with the same losses.
// Ctrl-C finishes the current step, saves and exits.
// `--minutes N` sizes the run by time: the step time is measured on this device (throwaway steps at lr 0 that
// leave weights, optimizer and data position untouched), the steps that fit are fixed once and saved, and the
// schedule decays over them (src/electra/model/budget.ts says why). Re-running an unfinished run finishes that
// plan; re-running a finished one with --minutes trains that much longer (a new plan from where it ended).

import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { noGrad } from '../autograd/tape.js';
import { type ElectraConfig, applyOverrides, checkElectraConfig, completeElectraConfig, presetConfig } from '../electra/model/config.js';
import { MetricsTally, type StepMetrics, stepMetrics } from '../electra/model/metrics.js';
import { type ElectraPair, type Objective, type StepOptions, createElectraPair, disposeStep, electraStep, maskRngFor, pairModules } from '../electra/model/pretrain.js';
import { checkFiniteTensors, fromHFConfig, parseElectraConfig } from '../electra/formats/hf.js';
import { parseSafetensors, serializeSafetensors, toWritable } from '../electra/formats/safetensors.js';
import { assignStateDict, readStateDict } from '../electra/formats/state.js';
import { namedParameters } from '../nn/module.js';
import { AdamW, excludeLayerNormAndBias } from '../nn/optim.js';
import { linearWarmupLinearDecay } from '../nn/schedule.js';
import { AUTO_EVALS, AUTO_SAVES, autoInterval, planSteps } from '../electra/model/budget.js';
import type { Tensor } from '../tensor/tensor.js';
import { bestDevice } from '../node/device.js';
import { exportPair } from '../node/electra-io.js';
import { loadHFDirectory, readJsonFile, writeFileAtomic } from '../node/files.js';
import { Progress, fmtNum } from '../node/progress.js';
import type { Device } from '../device/device.js';
import { Rng } from '../tensor/random.js';
import { type Precision, setPrecision } from '../tensor/tensor.js';
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
  /** The time budget (minutes) that planned `steps`, or null for a run sized by --steps. Informational. */
  minutes?: number | null;
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
  /** Matmul precision: 'f16' operands with f32 accumulation and dynamic loss scaling, or 'f32'. */
  precision: Precision;
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
  --minutes N         train for about N minutes (fractions allowed; data preparation not counted). The
                      LR schedule needs its total before the first step, so the run times a few throwaway
                      steps (lr 0: they change nothing), fixes the steps that fit in what is left, saves
                      that count, and decays over it: a resume replays the same schedule exactly, and a
                      faster device gets more steps rather than a schedule stretched over wall time.
                      Re-running a finished run with --minutes trains N more minutes (a new plan from its
                      last step). With --steps S, S caps the total.
  --steps N           optimizer steps (default 600, or a resumed run's own)
  --batch N           sequences per micro-batch (default 8)      --grad-accum N   micro-batches per step (default 1)
  --seq-len N         tokens per sequence (default 128)
  --lr X              peak learning rate (default 5e-4 small/tiny, 2e-4 base/large)
  --warmup N          warmup steps (default 10% of the steps; a resumed or extended run keeps its own)
  --objective O       electra | mlm (BERT baseline) | adversarial (opt-in; worse in the paper) (default electra)
  --set KEY=VALUE     model config override, repeatable (e.g. --set numHiddenLayers=4)
  --seed N            (default 0)
  --log-every N       (default 20)   --eval-every N (default 100; with --minutes, about ${AUTO_EVALS} per run, at least 100)
  --eval-batches N    (default 4)
  --save-every N      checkpoint interval (default 200; with --minutes, about ${AUTO_SAVES} per run, at least 200;
                      also at the end and on Ctrl-C)
  --device D          webgpu | cpu | auto (default auto)
  --precision P       f32 | f16 (default f32). f16: matmul operands in f16 with f32 accumulation (tensor
                      cores where the adapter has them), f32 weights and AdamW, dynamic loss scaling;
                      an adapter without shader-f16 says so and runs f32
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
      init: { type: 'string' }, minutes: { type: 'string' }, precision: { type: 'string', default: 'f32' },
    },
  });
  if (values.precision !== 'f32' && values.precision !== 'f16') throw new Error(`--precision must be f32 or f16, got '${values.precision}'`);
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
  const minutes = values.minutes === undefined ? null : num('minutes', 0, false);
  if (minutes !== null && !(minutes > 0)) throw new Error(`--minutes must be a positive number, got '${values.minutes}'`);
  const out = values.out ?? join('runs', preset);
  // A previous run in OUT: its step, and the config it ran with (its plan and warmup carry over). Only read here:
  // OUT is created, and --fresh deletes, once the configuration has been checked.
  const cfgPath = join(out, 'run-config.json');
  const stateDir = values.fresh ? undefined : ['state', 'state.old'].map((d) => join(out, d)).find((d) => existsSync(join(d, 'trainer.json')));
  const saved = stateDir && existsSync(cfgPath) ? readJsonFile(cfgPath) as RunConfig : null;
  const savedStep = stateDir ? (readJsonFile(join(stateDir, 'trainer.json')) as Trainer).step : 0;
  // Steps: fixed by --steps, or planned from --minutes after the step time is measured (0 until then).
  // An unfinished time-budgeted run finishes its own plan; a finished one gets a new plan from where it ended.
  const unfinished = saved !== null && savedStep < saved.steps;
  const planned = minutes !== null && !unfinished;
  const steps = minutes === null ? num('steps', saved?.steps ?? 600) : unfinished ? saved!.steps : 0;
  const big = preset === 'base' || preset === 'large';
  const seqLength = num('seq-len', 128);
  const init = values.init ? await readInit(values.init) : null;
  if (init && !values.data) throw new Error(`--init needs --data tokenized with ${init.vocabPath} (make it with: electra build-data --corpus all --vocab ${init.vocabPath} --out DIR)`);
  const rc: RunConfig = {
    preset: init ? `init:${values.init}` : preset, objective, corpus, data: values.data ?? '',
    // Checked (with the generator it derives) before any work: a bad --set fails here, naming key, value and rule.
    model: applyOverrides(init ? init.config : presetConfig(preset), overrides, 'model config', { pretraining: true }),
    vocabSize: num('vocab-size', 8192), seqLength, batchSize: num('batch', 8), gradAccum: Math.max(1, num('grad-accum', 1)), steps,
    minutes: minutes !== null ? (unfinished ? saved!.minutes ?? minutes : minutes) : null,
    // Warmup belongs to the start of a run: a resumed or extended run keeps the one it began with.
    lr: num('lr', big ? 2e-4 : 5e-4, false), warmupSteps: num('warmup', saved ? saved.warmupSteps : Math.ceil(steps / 10)), weightDecay: 0.01, adamEps: 1e-6,
    maxGradNorm: 1, maskProb: preset === 'large' ? 0.25 : 0.15, discWeight: 50, genWeight: 1, temperature: 1, seed: num('seed', 0),
    // Reporting intervals carry over to a resumed run unless given again.
    logEvery: Math.max(1, num('log-every', saved?.logEvery ?? 20)), evalEvery: num('eval-every', saved?.evalEvery ?? 100),
    evalBatches: num('eval-batches', saved?.evalBatches ?? 4), saveEvery: num('save-every', saved?.saveEvery ?? 200),
    precision: values.precision,
  };
  // A missing corpus package is reported before anything is written (shards already built need no corpus).
  if (corpus && !existsSync(join(out, 'data', 'manifest.json'))) checkBundledCorpus(corpus as BundledCorpusName);
  mkdirSync(out, { recursive: true });
  if (values.fresh) for (const f of ['state', 'state.old', 'state.tmp', 'metrics.jsonl']) rmSync(join(out, f), { recursive: true, force: true });

  const device = await bestDevice({ device: values.device as 'auto' | 'webgpu' | 'cpu', precision: rc.precision });
  if (rc.precision === 'f16' && device.caps && !device.caps.f16) {
    console.log(`precision: ${device.name} has no shader-f16; running in f32`);
    rc.precision = 'f32';
  }
  setPrecision(rc.precision);

  // ---- data ----------------------------------------------------------------------------------
  const { tok, files } = await loadData(rc, out);
  if (init && readFileSync(init.vocabPath, 'utf8').trim() !== tok.tokens.join('\n').trim()) {
    throw new Error(`--data ${rc.data} was not tokenized with ${init.vocabPath}; rebuild it with --vocab ${init.vocabPath}`);
  }
  rc.model = checkElectraConfig({ ...rc.model, vocabSize: tok.vocabSize, maxPositionEmbeddings: Math.max(rc.model.maxPositionEmbeddings, seqLength), padTokenId: tok.padId },
    `model config with the vocabulary of ${rc.data || `corpus '${rc.corpus}'`}`, { pretraining: true });
  // The last shard is held out for evaluation; a one-shard corpus is evaluated on its training data.
  const trainFiles = files.length > 1 ? files.slice(0, -1) : files, evalFiles = files.slice(-1);
  if (files.length === 1) console.log('warning: the data has one shard, so evaluation uses training data (build more shards to hold one out)');

  // ---- resume or start ---------------------------------------------------------------------
  if (saved) {
    // What may change between sessions: the length (steps, minutes; warmup is carried over) and the reporting.
    // Fields added since the run was saved (padTokenId, precision) take their defaults, so an old run still resumes.
    const same = (a: RunConfig) => canonical({
      ...a, model: completeElectraConfig(a.model ?? {}), steps: 0, minutes: 0, logEvery: 0, evalEvery: 0, saveEvery: 0, evalBatches: 0, precision: a.precision ?? 'f32',
    });
    if (same(saved) !== same(rc)) {
      throw new Error(`${out} holds a run with a different configuration (${cfgPath}); use another --out, or --fresh to discard it`);
    }
  }
  console.log(`run: ${out}  device: ${device.name}`);

  const pair = createElectraPair(rc.model, objective, rc.seed, device);
  const modules = pairModules(pair);
  const params = namedParameters(modules);
  const opt = new AdamW(params, {
    lr: rc.lr, eps: rc.adamEps, weightDecay: rc.weightDecay, excludeFromDecay: excludeLayerNormAndBias,
    maxGradNorm: rc.maxGradNorm, biasCorrection: false, lossScaling: rc.precision === 'f16' ? {} : undefined,
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
    await truncateMetrics(join(out, 'metrics.jsonl'), start);
    console.log(`resumed from ${stateDir} at step ${start}`);
  }
  console.log(`parameters: ${params.reduce((n, [, t]) => n + t.size, 0).toLocaleString('en-US')} (${params.length} tensors)`);
  const special = { pad: tok.padId, cls: tok.clsId, sep: tok.sepId, mask: tok.maskId };
  const stepOpts: StepOptions = {
    maskProb: rc.maskProb, discWeight: rc.discWeight, genWeight: rc.genWeight, temperature: rc.temperature,
    objective, special, gradScale: 1 / rc.gradAccum, lossScale: opt.lossScale,
  };

  // ---- the time budget: measure, then fix the step count ---------------------------------------
  const budgetStart = Date.now();
  if (planned) {
    const evalAuto = values['eval-every'] === undefined;
    const t = await measureStepTime(pair, params, trainFiles, evalFiles, tok, rc, stepOpts, device, evalAuto || rc.evalEvery > 0, minutes! * 6);
    // The measurement itself counts against the budget; a budget it used up still trains one step.
    const budgetSec = Math.max(0, minutes! * 60 - (Date.now() - budgetStart) / 1000);
    const more = planSteps({ budgetSec, stepSec: t.stepSec, evalSec: t.evalSec, evalEvery: evalAuto ? 'auto' : rc.evalEvery });
    rc.steps = Math.min(start + more, values.steps === undefined ? Infinity : num('steps', 0));
    if (rc.steps <= start) throw new Error(`--steps ${rc.steps} leaves nothing to train: ${out} is already at step ${start}`);
    if (!saved && values.warmup === undefined) rc.warmupSteps = Math.ceil(rc.steps / 10);
    if (evalAuto) rc.evalEvery = autoInterval(rc.steps - start, AUTO_EVALS, 100);
    if (values['save-every'] === undefined) rc.saveEvery = autoInterval(rc.steps - start, AUTO_SAVES, 200);
    console.log(`time budget: ${minutes} min; measured ${fmtSec(t.stepSec)} per step${t.evalSec ? `, ${fmtSec(t.evalSec)} per evaluation` : ''} ` +
      `(${fmtSec((Date.now() - budgetStart) / 1000)} to measure): ${start ? `steps ${start + 1}–${rc.steps}` : `${rc.steps} steps`}, ` +
      `warmup ${rc.warmupSteps}, eval every ${rc.evalEvery}, checkpoint every ${rc.saveEvery}`);
  } else if (minutes !== null) {
    console.log(`finishing the planned ${rc.steps} steps (${rc.minutes ?? minutes} min budget) from step ${start}; re-run once it is done to train ${minutes} min more`);
  }
  await writeFileAtomic(cfgPath, JSON.stringify(rc, null, 2) + '\n');
  console.log(`config: ${JSON.stringify(rc)}`);
  const reader = openBatchReader(trainFiles, tok, { batchSize: rc.batchSize, seed: rc.seed, position });

  let stop = false;
  const onInt = () => { if (stop) process.exit(130); stop = true; console.log('\ninterrupt: finishing this step, saving, exiting (Ctrl-C again to abort)'); };
  process.on('SIGINT', onInt);

  let lastSaved = start;
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
    let last: Awaited<ReturnType<typeof electraStep>> | null = null;
    for (let micro = 0; micro < rc.gradAccum; micro++) {
      const b = await reader.next();
      if (last) disposeStep(last);
      last = electraStep(pair, { B: b.batchSize, T: b.seqLen, ...b }, stepOpts, maskRngFor(rc.seed, step, micro), rng, device, true);
    }
    // The optimizer checks the loss and the gradient norm on the device every step (health() reads it).
    opt.step(lr, { loss: last!.loss });
    opt.zeroGrad();
    tokens += tokensPerStep;
    const kept = log ? last : null;
    if (!log) disposeStep(last!);
    if (kept) {
      const m = await stepMetrics(kept);
      disposeStep(kept);
      await checkHealth(opt, lastSaved);
      const gradNorm = await opt.lastGradNorm();
      const scaling = opt.lossScale ? await opt.scaling() : null;
      const secs = (Date.now() - t0) / 1000;
      const rec = { step, split: 'train', ...m, lr, gradNorm, ...(scaling ? { lossScale: scaling.scale, skippedSteps: scaling.skipped } : {}), tokensPerSec: tokens / secs, time: new Date().toISOString() };
      appendFileSync(join(out, 'metrics.jsonl'), JSON.stringify(rec) + '\n');
      t0 = Date.now(); tokens = 0;
      progress.update(step, logFields(m, { lr, gnorm: gradNorm, 'tok/s': rec.tokensPerSec }));
    }
    if (rc.evalEvery && (step % rc.evalEvery === 0 || step === rc.steps)) {
      const m = await evaluate(pair, evalFiles, tok, rc, stepOpts, device);
      appendFileSync(join(out, 'metrics.jsonl'), JSON.stringify({ step, split: 'eval', ...m }) + '\n');
      console.log(`eval @${step}: ${Object.entries(logFields(m, {})).map(([k, v]) => `${k} ${v}`).join(' | ')}`);
    }
    if ((rc.saveEvery && step % rc.saveEvery === 0) || step === rc.steps || stop) {
      await checkHealth(opt, lastSaved);   // never a checkpoint or an export of a non-finite state
      await save(step);
      lastSaved = step;
      if (stop) { console.log(`saved step ${step} to ${out}; run the same command to resume`); return 130; }
    }
  }
  process.off('SIGINT', onInt);
  if (minutes !== null) console.log(`trained steps ${start + 1}–${rc.steps} in ${fmtSec((Date.now() - budgetStart) / 1000)} (budget ${minutes} min)`);
  console.log(`done: ${out}/discriminator and ${out}/generator (Hugging Face format), metrics in ${out}/metrics.jsonl`);
  return 0;
}

/**
 * Seconds per training step and per held-out evaluation on this device, from throwaway steps: a reader and RNG
 * streams of their own, and an optimizer of its own stepping at lr 0 (p − 0·update = p, bit for bit), so weights,
 * the real optimizer's moments, the data position and the dropout/sampling streams are exactly as before. The
 * first step (pipeline compilation) is not timed; then chunks of 1, 2, 4, … steps, each ended by a device sync,
 * until a chunk holds at least 8 steps and takes 2 s, or holds 64; the last chunk's mean is the step time. Large
 * chunks matter: the loop syncs only to log, so the device overlaps steps, and the first few steps still grow
 * buffer pools (on lavapipe, chunks of 2 measured 586 ms a step where the loop then ran at 390). Measuring stops
 * early once it has taken `maxSec` (the CLI gives a tenth of the budget), so a slow model keeps most of its budget.
 */
async function measureStepTime(pair: ElectraPair, params: [string, Tensor][], trainFiles: string[], evalFiles: string[], tok: WordPieceTokenizer, rc: RunConfig,
  so: StepOptions, device: Device, withEval: boolean, maxSec: number): Promise<{ stepSec: number; evalSec: number }> {
  const reader = openBatchReader(trainFiles, tok, { batchSize: rc.batchSize, seed: rc.seed + 0x5eed });
  const rng = new Rng(rc.seed + 0x7135);
  // With f16 it scales the loss with its own scale, so the real optimizer's scale and skip count stay as they were.
  const opt = new AdamW(params, {
    lr: 0, eps: rc.adamEps, weightDecay: rc.weightDecay, excludeFromDecay: excludeLayerNormAndBias, maxGradNorm: rc.maxGradNorm,
    biasCorrection: false, lossScaling: rc.precision === 'f16' ? {} : undefined,
  });
  const own: StepOptions = { ...so, lossScale: opt.lossScale };
  let k = 0;
  const steps = async (n: number) => {
    for (let i = 0; i < n; i++, k++) {
      for (let micro = 0; micro < rc.gradAccum; micro++) {
        const b = await reader.next();
        const r = electraStep(pair, { B: b.batchSize, T: b.seqLen, ...b }, own, maskRngFor(rc.seed + 0x7173, k, micro), rng, device, true);
        if (micro < rc.gradAccum - 1) disposeStep(r); else { opt.step(0, { loss: r.loss }); disposeStep(r); }
      }
      opt.zeroGrad();
    }
    await device.sync();
  };
  let stepSec = 0;
  const start = performance.now();
  try {
    await steps(1);
    for (let n = 1; ; n *= 2) {
      const t0 = performance.now();
      await steps(n);
      const dt = (performance.now() - t0) / 1000;
      stepSec = dt / n;
      if ((dt >= 2 && n >= 8) || n >= 64 || (performance.now() - start) / 1000 >= maxSec) break;
    }
  } finally { opt.dispose(); }
  let evalSec = 0;
  if (withEval && rc.evalBatches > 0) {
    await evaluate(pair, evalFiles, tok, rc, so, device); // compiles the eval programs
    const t0 = performance.now();
    await evaluate(pair, evalFiles, tok, rc, so, device);
    evalSec = (performance.now() - t0) / 1000;
  }
  return { stepSec, evalSec };
}

/** JSON with object keys sorted at every level: equal configs compare equal whatever order a file wrote them in. */
function canonical(v: unknown): string {
  const sort = (x: unknown): unknown => (x && typeof x === 'object' && !Array.isArray(x)
    ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, sort((x as Record<string, unknown>)[k])])) : x);
  return JSON.stringify(sort(v));
}

function fmtSec(s: number): string {
  return s >= 60 ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s` : s >= 1 ? `${s.toFixed(1)} s` : `${(s * 1000).toFixed(s >= 0.01 ? 0 : 1)} ms`;
}

/** Stops the run when a step had a non-finite loss or gradient, saying what, when, and which checkpoint is kept. */
async function checkHealth(opt: AdamW, lastSaved: number): Promise<void> {
  const h = await opt.health();
  if (h.ok) return;
  const kept = lastSaved > 0 ? `the checkpoint of step ${lastSaved} is kept` : 'nothing was saved';
  throw new Error(`pretrain: ${h.message}; stopped without saving (${kept})`);
}

/** Model config and vocabulary of a --init directory (discriminator/ + generator/). */
async function readInit(dir: string): Promise<{ config: ElectraConfig; vocabPath: string }> {
  const read = (kind: string) => {
    const p = join(dir, kind, 'config.json');
    if (!existsSync(p)) throw new Error(`--init ${dir}: no ${kind}/config.json (expected a run directory or discriminator/ + generator/ Hugging Face directories)`);
    return parseElectraConfig(readFileSync(p, 'utf8'), p);
  };
  const d = read('discriminator'), g = read('generator');
  const config = fromHFConfig(d, join(dir, 'discriminator', 'config.json'));
  if (g.numHiddenLayers !== d.numHiddenLayers || g.embeddingSize !== d.embeddingSize || g.vocabSize !== d.vocabSize) {
    throw new Error(`${dir}: the generator and discriminator configs do not pair (layers, embedding size and vocabulary must agree)`);
  }
  config.generatorHiddenFraction = g.hiddenSize / d.hiddenSize;
  const vocabPath = join(dir, 'discriminator', 'vocab.txt');
  if (!existsSync(vocabPath)) throw new Error(`${dir}/discriminator: no vocab.txt`);
  return { config, vocabPath };
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
    const manifest = readJsonFile(manifestPath) as { shards?: { file?: unknown }[] };
    if (!Array.isArray(manifest?.shards) || !manifest.shards.every((x) => typeof x?.file === 'string')) throw new Error(`${manifestPath}: no "shards" list of {"file": …} entries`);
    return { tok: loadTokenizer(join(rc.data, 'vocab.txt')), files: manifest.shards.map((s) => join(rc.data, s.file as string)) };
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
  const tPath = join(dir, 'trainer.json');
  const trainer = readJsonFile(tPath) as Trainer;
  const int = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  if (!int(trainer.step) || !int(trainer.position) || !int(trainer.optimizerStep) || !int(trainer.rng?.seed) || !int(trainer.rng?.counter)) {
    throw new Error(`${tPath}: not a trainer state (needs non-negative integers step, position, optimizerStep, rng.seed, rng.counter); delete ${dir} (or use --fresh) to start over`);
  }
  const wPath = join(dir, 'weights.safetensors');
  const weights = parseSafetensors(new Uint8Array(readFileSync(wPath)), wPath).tensors;
  checkFiniteTensors(weights, wPath);
  assignStateDict(modules, weights, wPath);
  const oPath = join(dir, 'optimizer.safetensors');
  const moments = parseSafetensors(new Uint8Array(readFileSync(oPath)), oPath).tensors;
  checkFiniteTensors(moments, oPath);
  const m: Record<string, Float32Array> = {}, v: Record<string, Float32Array> = {};
  for (const [key, t] of moments) {
    const [kind, ...rest] = key.split('.');
    (kind === 'm' ? m : v)[rest.join('.')] = t.data as Float32Array;
  }
  opt.loadState({ step: trainer.optimizerStep, m, v });
  return { step: trainer.step, rng: Rng.fromState(trainer.rng), position: trainer.position };
}

/**
 * Drops metric lines past the resumed step (a killed run may have logged beyond its last checkpoint) and a torn
 * last line (a kill during an append leaves one), then rewrites the file atomically. A bad line before the
 * last is not a crash's doing: an error names the file and line.
 */
async function truncateMetrics(path: string, step: number): Promise<void> {
  if (!existsSync(path)) return;
  const lines = readFileSync(path, 'utf8').split('\n');
  const last = lines.reduce((k, l, i) => (l.trim() ? i : k), -1);
  const kept: string[] = [];
  for (let i = 0; i <= last; i++) {
    if (!lines[i].trim()) continue;
    let rec: { step?: unknown };
    try { rec = JSON.parse(lines[i]) as { step?: unknown }; } catch (e) {
      if (i === last) break;
      throw new Error(`${path}:${i + 1}: not valid JSON (${(e as Error).message}); delete that line to resume`);
    }
    if (typeof rec?.step !== 'number') throw new Error(`${path}:${i + 1}: a metrics record without a numeric "step"; delete that line to resume`);
    if (rec.step <= step) kept.push(lines[i]);
  }
  await writeFileAtomic(path, kept.map((l) => l + '\n').join(''));
}
