// Shared pieces of the commands that read a model directory (detect, fill-mask, predict, evaluate, embed, search,
// finetune): option checks, and the directory's config.json (checked whole) and tokenizer (tokenizer.json or
// vocab.txt, tokenizer_config.json honoured), both before any weights are read. Errors name the file; a model
// directory of the other kind is refused by electra-io.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type HFElectraConfig, parseElectraConfig } from '../electra/formats/hf.js';
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
