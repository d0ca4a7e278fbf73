// Shared pieces of the commands that read a model directory (detect, fill-mask, predict, evaluate, embed, search,
// finetune): option checks, and the directory's config.json (checked whole) and tokenizer (tokenizer.json or
// vocab.txt, tokenizer_config.json honoured), both before any weights are read; and for detect, fill-mask, embed
// and search, the one-line notice when the model is part of a pre-training run whose own metrics say it has not
// learned yet. Errors name the file; a model directory of the other kind is refused by electra-io.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { presetConfig, presets } from '../electra/model/config.js';
import { type HFElectraConfig, parseElectraConfig } from '../electra/formats/hf.js';
import { type MetricsRecord, parseMetrics } from '../electra/model/plot.js';
import type { RunConfig } from './pretrain.js';
import { bestDevice } from '../node/device.js';
import { loadTokenizer } from '../text/node/files.js';
import type { WordPieceTokenizer } from '../text/wordpiece.js';
import type { Device } from '../device/device.js';
import { UsageError } from './text-common.js';

export function deviceOption(v: string | undefined, precision: 'f32' | 'f16' = 'f32'): Promise<Device> {
  const d = v ?? 'auto';
  if (d !== 'auto' && d !== 'webgpu' && d !== 'cpu') throw new UsageError(`--device must be webgpu, cpu or auto, got ${JSON.stringify(d)}`);
  return bestDevice({ device: d, precision });
}

/** The single TEXT argument (several are joined with spaces, as a shell user would mean). */
export function textArgument(positionals: string[]): string {
  if (positionals.length === 0) throw new UsageError('give the text to analyse as an argument');
  return positionals.join(' ');
}

/**
 * Checks `--model DIR` before any weights are read or any data loaded: the directory, its config.json (every
 * field, naming the key, value and rule) and its tokenizer, which must not have more tokens than the model's
 * vocabulary (ids past it have no embedding); fewer is legal (a padded vocabulary) but usually the wrong
 * vocab.txt, so it is warned about.
 */
export function modelDirectory(dir: string | undefined): { dir: string; tokenizer: WordPieceTokenizer; config: HFElectraConfig } {
  if (!dir) throw new UsageError('give --model DIR (a discriminator/ or generator/ directory of a run, or a Hugging Face ELECTRA directory)');
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`--model ${dir}: no such directory`);
  const configPath = join(dir, 'config.json');
  if (!existsSync(configPath)) throw new Error(`${dir}: no config.json (not a model directory)`);
  const config = parseElectraConfig(readFileSync(configPath, 'utf8'), configPath);
  const tokFile = ['tokenizer.json', 'vocab.txt'].map((f) => join(dir, f)).find((f) => existsSync(f));
  if (!tokFile) throw new Error(`${dir}: no vocab.txt (or tokenizer.json) beside the model, so its tokens cannot be read`);
  const tokenizer = loadTokenizer(dir);
  checkVocabSize(tokenizer.vocabSize, tokFile, config.vocabSize, configPath);
  return { dir, tokenizer, config };
}

/** A tokenizer larger than the model's vocabulary is an error; a smaller one a warning (both name the files). */
export function checkVocabSize(tokens: number, tokFile: string, vocabSize: number, configPath: string): void {
  if (tokens > vocabSize) throw new Error(`${tokFile} has ${tokens} tokens but ${configPath} says vocab_size ${vocabSize}: ids from ${vocabSize} on have no embedding (wrong vocabulary?)`);
  if (tokens < vocabSize) {
    console.warn(`warning: ${tokFile} has ${tokens} tokens but ${configPath} says vocab_size ${vocabSize}; ids ${tokens}..${vocabSize - 1} are never produced (fine for a padded vocabulary, otherwise the wrong vocab.txt)`);
  }
}

/**
 * "Has not learned yet" thresholds, on the run's last held-out evaluation (else its last training record).
 * Discriminator: replaced-token AUC below 0.6 (0.5 is chance: its scores do not rank replaced above original).
 * Generator: MLM accuracy below 0.15; always answering the most frequent token ("the") already scores about 0.06
 * on English text (0.060 on the bundled corpus), so below 0.15 the generator is still guessing function words.
 */
export const UNTRAINED = { discAuc: 0.6, mlmAcc: 0.15 } as const;

/**
 * The notice for a model directory that is RUN/discriminator or RUN/generator of a pre-training run (RUN holds
 * run-config.json and metrics.jsonl) whose metrics are below UNTRAINED; null otherwise (any other directory, a
 * learned model, or metrics it cannot read: the notice is advice, never an error).
 */
export function untrainedNotice(modelDir: string): string | null {
  const component = basename(resolve(modelDir));
  if (component !== 'discriminator' && component !== 'generator') return null;
  const run = dirname(resolve(modelDir));
  const metricsPath = join(run, 'metrics.jsonl');
  if (!existsSync(metricsPath) || !existsSync(join(run, 'run-config.json'))) return null;
  let records: MetricsRecord[];
  try { records = parseMetrics(readFileSync(metricsPath, 'utf8'), metricsPath); } catch { return null; }
  const last = (split: string) => records.filter((r) => (r.split ?? 'train') === split).at(-1);
  const rec = last('eval') ?? last('train');
  if (!rec) return null;
  const where = `${rec.split === 'eval' ? 'held-out' : 'training'} metrics at step ${rec.step.toLocaleString('en-US')}`;
  const num = (k: string) => (typeof rec[k] === 'number' && Number.isFinite(rec[k]) ? rec[k] as number : null);
  let why: string | null = null;
  const auc = num('discAuc'), acc = num('mlmAcc');
  if (component === 'discriminator' && auc !== null) {
    if (auc < UNTRAINED.discAuc) why = `replaced-token AUC ${auc.toFixed(2)} (0.5 is chance)`;
  } else if (acc !== null && acc < UNTRAINED.mlmAcc) {
    why = `MLM accuracy ${acc.toFixed(2)} (always answering "the" scores about 0.06)`;
  }
  if (!why) return null;
  // The run directory as the user named it (relative stays relative), for a command they can paste.
  const trimmed = modelDir.replace(/[\\/]+$/, '');
  const cmd = continueCommand(basename(trimmed) === component ? dirname(trimmed) : run);
  return `note: ${modelDir} has not learned yet (${where}: ${why}), so these results are noise. Train it longer ` +
    `(it continues from step ${rec.step.toLocaleString('en-US')}), best on a GPU: ` +
    (cmd ? `${cmd}` : `re-run the \`electra pretrain\` command that made it, adding --minutes 30`);
}

/**
 * The `electra pretrain` command that continues the run in `runDir` for 30 more minutes: the options that differ
 * from pretrain's defaults, read back from run-config.json (so the configuration check passes). null when the run
 * cannot be described that way (started with --init, or an unreadable config).
 */
export function continueCommand(runDir: string): string | null {
  let rc: RunConfig;
  try { rc = JSON.parse(readFileSync(join(runDir, 'run-config.json'), 'utf8')) as RunConfig; } catch { return null; }
  if (typeof rc.preset !== 'string' || rc.preset.startsWith('init:') || !(rc.preset in presets) || !rc.model) return null;
  const big = rc.preset === 'base' || rc.preset === 'large';
  const q = (v: string) => (/^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`);
  const args = ['electra pretrain'];
  if (rc.preset !== 'tiny') args.push(`--preset ${rc.preset}`);
  if (rc.data) args.push(`--data ${q(rc.data)}`); else if (rc.corpus && rc.corpus !== 'all') args.push(`--corpus ${rc.corpus}`);
  const flags: Array<[string, unknown, unknown]> = [
    ['--vocab-size', rc.vocabSize, rc.data ? rc.vocabSize : 8192], ['--batch', rc.batchSize, 8], ['--grad-accum', rc.gradAccum, 1],
    ['--seq-len', rc.seqLength, 128], ['--lr', rc.lr, big ? 2e-4 : 5e-4], ['--objective', rc.objective, 'electra'], ['--seed', rc.seed, 0],
  ];
  for (const [flag, v, dflt] of flags) if (v !== dflt && v !== undefined) args.push(`${flag} ${v}`);
  // Model overrides: every field that differs from the preset, except those pretrain derives from the data.
  const preset = presetConfig(rc.preset) as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(rc.model)) {
    if (k === 'vocabSize' || (k === 'maxPositionEmbeddings' && v === Math.max(preset[k] as number, rc.seqLength))) continue;
    if (v !== preset[k]) args.push(`--set ${k}=${v}`);
  }
  args.push(`--out ${q(runDir)}`, '--minutes 30');
  return args.join(' ');
}

/** Prints untrainedNotice on stderr (stdout stays machine-readable for --json). */
export function warnIfUntrained(modelDir: string): void {
  const note = untrainedNotice(modelDir);
  if (note) console.error(note);
}
