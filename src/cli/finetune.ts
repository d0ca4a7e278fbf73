// `electra finetune`: the authors' fine-tuning recipe on a task — resolve the data → start from a pre-trained
// directory (or a preset, from scratch) → finetune() with dev evaluation each epoch → the best epoch kept in OUT
// (Hugging Face directory of the head class, eval.json, predictions.jsonl, metrics.jsonl). `--runs N` fine-tunes
// N seeds and reports the median of each dev metric (the paper's protocol); OUT then holds the best seed's model
// and each seed's own directory in OUT/seed-S.

import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { applyOverrides, presetConfig } from '../electra/model/config.js';
import { median } from '../electra/tasks/eval-metrics.js';
import {
  DEFAULT_METRIC, FINETUNE_DEFAULTS, FINETUNE_SIZE_DEFAULTS, type FinetuneOptions, HEAD_FOR_TASK, type Metrics, type Prediction, type TaskData,
  finetune, finetuneSizeDefaults,
} from '../electra/tasks/finetune.js';
import type { ElectraHeadModel } from '../electra/tasks/heads.js';
import { disposeModule, countParameters } from '../nn/module.js';
import { initHeadModelFromDirectory, initHeadModelFromPreset, saveHeadModel, type ProblemType } from '../node/finetune-io.js';
import { writeFileAtomic } from '../node/files.js';
import { Progress, fmtNum } from '../node/progress.js';
import { loadTokenizer } from '../text/node/files.js';
import type { WordPieceTokenizer } from '../text/wordpiece.js';
import { DATA_HELP, DATA_OPTIONS, loadTaskData, nullThreshold } from './finetune-common.js';
import { deviceOption, modelDirectory } from './infer-common.js';
import { UsageError, guard, parse } from './text-common.js';

export const help = `usage: electra finetune (--model DIR | --preset NAME --vocab FILE) DATA --out DIR [options]

Fine-tunes ELECTRA on a labelled task with the authors' recipe: Adam without bias correction (eps 1e-6,
weight decay 0.01 except LayerNorm/bias, clip 1.0), layer-wise LR decay, 10% warmup then linear decay,
batch 32, dev evaluation after every epoch, best epoch kept; the peak lr by the model's size (--lr below). Heads as Hugging Face's:
ElectraForSequenceClassification (classification, regression), ElectraForTokenClassification (tagging),
ElectraForQuestionAnswering (SQuAD spans).

model:
  --model DIR          a pre-trained discriminator directory (RUN/discriminator, or a local Hugging Face one
                       with model.safetensors or pytorch_model.bin) or an already fine-tuned directory
  --scratch            with --model: the same config and vocabulary, every weight random (the baseline)
  --preset NAME        tiny | small | small++ | base | large, all weights random; needs --vocab FILE
  --set KEY=VALUE      preset config override, repeatable (e.g. --set numHiddenLayers=4)

${DATA_HELP}

output:
  --out DIR            model (config.json, model.safetensors, vocab.txt), eval.json (dev metrics of the best
                       epoch; with --runs, the median over seeds), predictions.jsonl, metrics.jsonl

recipe (defaults in brackets):
  --lr X               peak learning rate [by the model's size (hidden size H), printed at the start:
                         tiny   H ≤ 128   ${fmtLr('tiny')}  (measured on SpamAssassin: docs/finetuning.md)
                         Small  H ≤ 256   ${fmtLr('small')}  (paper Table 7)
                         Base   H ≤ 768   ${fmtLr('base')}  (paper Table 7)
                         Large  H > 768   ${fmtLr('large')}  (paper Table 7; layer decay 0.9)]
  --epochs N [3; 10 for rte/stsb, 2 for squad]   --batch N [32]   --seed N [0]
  --runs N [1]     seeds seed..seed+N-1; eval.json reports the median of each metric
  --max-len N [128; 384 for squad; at most the model's positions]   --layer-decay X [0.8; 0.9 Large]   --warmup X [0.1 of the steps]
  --weight-decay X [0.01]   --metric NAME (picks the best epoch; default accuracy, mcc for cola,
                   spearman for regression, f1 for squad)   --doc-stride N [128]   --eval-batch N [64]
  --null-threshold X   SQuAD v2: answer "" when the [CLS] score beats the best span by more than X
  --log-every N [10]   --device webgpu|cpu|auto [auto]
  --precision f32|f16 [f32]   f16: matmul operands in f16 with f32 accumulation and dynamic loss scaling`;

export function run(argv: string[]): Promise<number> {
  return guard('finetune', async () => {
    const { values: v } = parse(argv, {
      ...DATA_OPTIONS,
      model: { type: 'string' }, scratch: { type: 'boolean' }, preset: { type: 'string' }, vocab: { type: 'string' },
      set: { type: 'string', multiple: true }, out: { type: 'string' }, epochs: { type: 'string' }, lr: { type: 'string' },
      batch: { type: 'string' }, seed: { type: 'string' }, runs: { type: 'string' }, 'max-len': { type: 'string' },
      'layer-decay': { type: 'string' }, warmup: { type: 'string' }, 'weight-decay': { type: 'string' }, metric: { type: 'string' },
      'doc-stride': { type: 'string' }, 'null-threshold': { type: 'string' }, 'eval-batch': { type: 'string' }, 'log-every': { type: 'string' }, device: { type: 'string' },
      precision: { type: 'string' },
    });
    const precision = v.precision ?? 'f32';
    if (precision !== 'f32' && precision !== 'f16') throw new UsageError(`--precision must be f32 or f16, got '${precision}'`);
    if (!v.out) throw new UsageError('give --out DIR');
    if (!!v.model === !!v.preset) throw new UsageError('give either --model DIR or --preset NAME');
    if (v.scratch && !v.model) throw new UsageError('--scratch goes with --model DIR');
    if (v.preset && !v.vocab) throw new UsageError('--preset needs --vocab FILE (vocab.txt or tokenizer.json)');
    if (v.set && !v.preset) throw new UsageError('--set overrides a --preset config');
    const num = (k: keyof typeof v, dflt: number, o: { int?: boolean; min?: number; max?: number } = {}): number => {
      const raw = v[k] as string | undefined;
      if (raw === undefined) return dflt;
      const x = Number(raw);
      if (!Number.isFinite(x) || (o.int && !Number.isInteger(x)) || x < (o.min ?? 0) || x > (o.max ?? Infinity)) {
        throw new UsageError(`--${k} must be ${o.int ? 'an integer' : 'a number'} in [${o.min ?? 0}, ${o.max ?? '∞'}], got ${JSON.stringify(raw)}`);
      }
      return x;
    };
    // The model's config and tokenizer (or the preset and its overrides) are checked before the (possibly
    // large) data is read; nothing in --out is touched until the model and the data have loaded.
    if (v.model && !existsSync(join(v.model, 'config.json')) && existsSync(join(v.model, 'discriminator', 'config.json'))) {
      throw new UsageError(`--model ${v.model} is a pre-training run; fine-tune its discriminator: --model ${join(v.model, 'discriminator')}`);
    }
    const overrides: Record<string, string> = {};
    for (const kv of v.set ?? []) {
      const eq = kv.indexOf('=');
      if (eq < 1) throw new UsageError(`--set expects KEY=VALUE, got '${kv}'`);
      overrides[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    const presetOverrides = v.preset ? applyOverrides(presetConfig(v.preset), overrides, 'model config') : null;
    const fromModel = v.model ? modelDirectory(v.model) : null;
    const tok = fromModel ? fromModel.tokenizer : loadTokenizer(v.vocab!);
    // The hidden size picks the default lr and layer decay; the position table bounds the default --max-len.
    const shape = presetOverrides ?? fromModel!.config;
    const positions = shape.maxPositionEmbeddings;
    const sized = finetuneSizeDefaults(shape);
    const task = await loadTaskData(v, 'both');
    const data = task.data;
    const opts: FinetuneOptions = {
      ...FINETUNE_DEFAULTS,
      epochs: num('epochs', task.epochs ?? 3, { int: true, min: 1 }), lr: num('lr', sized.lr), batchSize: num('batch', 32, { int: true, min: 1 }),
      maxLen: num('max-len', Math.min(data.kind === 'qa' ? 384 : 128, positions), { int: true, min: 3 }), layerDecay: num('layer-decay', sized.layerDecay, { max: 1 }),
      warmupProportion: num('warmup', 0.1, { max: 1 }), weightDecay: num('weight-decay', 0.01), docStride: num('doc-stride', 128, { int: true, min: 1 }),
      evalBatchSize: num('eval-batch', 64, { int: true, min: 1 }), logEvery: num('log-every', 10, { int: true, min: 1 }),
      nullThreshold: v['null-threshold'] === undefined ? null : nullThreshold(v['null-threshold']),
      metric: v.metric ?? task.metric ?? DEFAULT_METRIC[data.kind], seed: num('seed', 0, { int: true }), precision,
    };
    const runs = num('runs', 1, { int: true, min: 1 });
    const device = await deviceOption(v.device, precision);
    if (precision === 'f16' && device.caps && !device.caps.f16) { console.log(`precision: ${device.name} has no shader-f16; running in f32`); opts.precision = 'f32'; }
    const kind = HEAD_FOR_TASK[data.kind];
    const labels = data.kind === 'classification' || data.kind === 'tagging' ? data.labels : data.kind === 'regression' ? ['LABEL_0'] : ['LABEL_0', 'LABEL_1'];
    if ((data.kind === 'classification' || data.kind === 'tagging') && labels.length < 2) throw new Error(`the training data has ${labels.length} label(s) (${labels.join(', ')}); classification needs at least 2`);
    const problemType: ProblemType = data.kind === 'classification' ? 'single_label_classification' : data.kind === 'regression' ? 'regression' : null;
    const source = v.preset ? `preset ${v.preset} (random init)` : v.scratch ? `${v.model} (config only, random init)` : v.model!;
    const init = async (seed: number, announce: boolean): Promise<ElectraHeadModel> => {
      if (presetOverrides) return initHeadModelFromPreset(v.preset!, tok.vocabSize, device, { kind, labels, seed, overrides: { ...presetOverrides, padTokenId: tok.padId } }).model;
      const { model, headLoaded } = await initHeadModelFromDirectory(v.model!, device, { kind, labels, seed, scratch: v.scratch });
      if (announce) console.log(headLoaded ? `  loaded ${v.model} including its ${kind} head` : `  encoder from ${v.scratch ? 'random init' : v.model}, new ${kind} head with ${kind === 'qa' ? 2 : labels.length} output(s)`);
      return model;
    };
    console.log(`finetune: ${task.name} (${data.kind}, ${data.train.length} train / ${data.dev.length} dev${'labels' in data ? `, labels ${data.labels.length > 12 ? data.labels.length : data.labels.join(' ')}` : ''}) from ${source} on ${device.name}`);
    let first: ElectraHeadModel | null = await init(opts.seed, true);

    const out = v.out;
    mkdirSync(out, { recursive: true });
    rmSync(join(out, 'metrics.jsonl'), { force: true });
    const summaries: { seed: number; dir: string; metrics: Metrics; epoch: number }[] = [];
    for (let r = 0; r < runs; r++) {
      const seed = opts.seed + r;
      const dir = runs > 1 ? join(out, `seed-${seed}`) : out;
      const model = first ?? await init(seed, false);
      first = null;
      if (tok.vocabSize > model.config.vocabSize) throw new Error(`the tokenizer has ${tok.vocabSize} tokens but the model's vocabulary is ${model.config.vocabSize} (wrong vocab?)`);
      if (r === 0) {
        console.log(`  parameters: ${countParameters(model).toLocaleString('en-US')}; recipe ${JSON.stringify({ ...opts, seed: undefined })}`);
        const from = (k: 'lr' | 'layer-decay') => (v[k] === undefined ? `the ${sized.size} default (hidden size ${shape.hiddenSize})` : `--${k}`);
        console.log(`  lr ${opts.lr} from ${from('lr')}, layer decay ${opts.layerDecay} from ${from('layer-decay')}`);
      }
      const res = await trainOne(model, tok, data, { ...opts, seed }, dir, out, { run: r + 1, runs, labels, problemType, task: task.name, source });
      summaries.push({ seed, dir, metrics: res.metrics, epoch: res.epoch });
      disposeModule(model);
    }
    if (runs > 1) {
      const keys = Object.keys(summaries[0].metrics).filter((k) => typeof summaries[0].metrics[k] === 'number');
      const med = Object.fromEntries(keys.map((k) => [k, median(summaries.map((s) => s.metrics[k] as number))]));
      const best = summaries.reduce((a, b) => ((b.metrics[opts.metric] as number) > (a.metrics[opts.metric] as number) ? b : a));
      for (const f of ['config.json', 'model.safetensors', 'vocab.txt', 'tokenizer_config.json', 'predictions.jsonl']) await writeFileAtomic(join(out, f), readFileSync(join(best.dir, f)));
      await writeFileAtomic(join(out, 'eval.json'), JSON.stringify({
        task: task.name, kind: data.kind, metric: opts.metric, source, runs, dev: med, median: med, bestSeed: best.seed, bestSeedDev: best.metrics,
        perSeed: summaries.map((s) => ({ seed: s.seed, epoch: s.epoch, ...numeric(s.metrics) })),
      }, null, 2) + '\n');
      console.log(`median over ${runs} seeds: ${fmtMetrics(med)}`);
      console.log(`  per seed ${opts.metric}: ${summaries.map((s) => `${s.seed}: ${fmtNum(s.metrics[opts.metric] as number)}`).join(', ')}; best seed ${best.seed} copied to ${out}`);
    }
    console.log(`done: ${out} (model, eval.json, predictions.jsonl, metrics.jsonl)`);
    return 0;
  });
}

function fmtLr(size: keyof typeof FINETUNE_SIZE_DEFAULTS): string {
  return FINETUNE_SIZE_DEFAULTS[size].lr.toExponential().replace(/\.0+e/, 'e').padEnd(5);
}

function numeric(m: Metrics): Record<string, number> {
  return Object.fromEntries(Object.entries(m).filter(([, x]) => typeof x === 'number')) as Record<string, number>;
}

function fmtMetrics(m: Record<string, number | number[][]>): string {
  return Object.entries(m).filter(([, x]) => typeof x === 'number').map(([k, x]) => `${k} ${Number.isInteger(x) ? String(x) : fmtNum(x as number)}`).join(' | ');
}

interface RunInfo { run: number; runs: number; labels: readonly string[]; problemType: ProblemType; task: string; source: string }

async function trainOne(model: ElectraHeadModel, tok: WordPieceTokenizer, data: TaskData, opts: FinetuneOptions, dir: string, out: string, info: RunInfo): Promise<{ metrics: Metrics; epoch: number }> {
  mkdirSync(dir, { recursive: true });
  const metricsPath = join(out, 'metrics.jsonl');
  const label = info.runs > 1 ? `seed ${opts.seed} (${info.run}/${info.runs}) step ` : 'step ';
  let progress: Progress | null = null;
  const res = await finetune(model, tok, data, opts, model.electra.embeddings.word_embeddings.weight.device, {
    onStart: (x) => { progress = new Progress(x.totalSteps, label, opts.logEvery); },
    onStep: (s) => {
      progress ??= new Progress(s.totalSteps, label, opts.logEvery);
      appendFileSync(metricsPath, JSON.stringify({ seed: opts.seed, step: s.step, epoch: s.epoch, split: 'train', loss: s.loss, lr: s.lr, gradNorm: s.gradNorm, time: new Date().toISOString() }) + '\n');
      progress.update(s.step, { epoch: `${s.epoch}/${opts.epochs}`, loss: s.loss, lr: s.lr });
    },
    onEpoch: async (e) => {
      appendFileSync(metricsPath, JSON.stringify({ seed: opts.seed, step: e.step, epoch: e.epoch, split: 'dev', trainLoss: e.trainLoss, ...numeric(e.metrics), best: e.best }) + '\n');
      console.log(`  epoch ${e.epoch} dev: ${fmtMetrics(e.metrics)}${e.best ? '  (best so far: saved)' : ''}`);
      if (!e.best) return;
      await saveHeadModel(dir, model, tok, { labels: info.labels, problemType: info.problemType, extra: { finetuning_task: info.task } });
      await writeFileAtomic(join(dir, 'predictions.jsonl'), e.predictions.map((p: Prediction) => JSON.stringify(p)).join('\n') + '\n');
      await writeFileAtomic(join(dir, 'eval.json'), JSON.stringify({
        task: info.task, kind: data.kind, metric: opts.metric, source: info.source, seed: opts.seed, epoch: e.epoch, step: e.step,
        labels: 'labels' in data ? data.labels : null, dev: e.metrics, trainExamples: data.train.length, devExamples: data.dev.length,
        recipe: opts,
      }, null, 2) + '\n');
    },
  });
  console.log(`  best epoch ${res.best.epoch}: ${opts.metric} ${fmtNum(res.best.metrics[opts.metric] as number)} → ${dir}`);
  return { metrics: res.best.metrics, epoch: res.best.epoch };
}
