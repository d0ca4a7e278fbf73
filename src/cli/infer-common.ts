// Shared pieces of `electra detect` and `electra fill-mask`: option checks, and loading a model directory
// (config.json + weights) with the tokenizer beside it (tokenizer.json or vocab.txt, tokenizer_config.json
// honoured). Errors name the directory; a model directory of the other kind is refused by electra-io.

import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
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

/** Checks `--model DIR` and finds its tokenizer before any weights are read. */
export function modelDirectory(dir: string | undefined): { dir: string; tokenizer: WordPieceTokenizer } {
  if (!dir) throw new UsageError('give --model DIR (a discriminator/ or generator/ directory of a run, or a Hugging Face ELECTRA directory)');
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`--model ${dir}: no such directory`);
  if (!existsSync(join(dir, 'config.json'))) throw new Error(`${dir}: no config.json (not a model directory)`);
  if (!['tokenizer.json', 'vocab.txt'].some((f) => existsSync(join(dir, f)))) {
    throw new Error(`${dir}: no vocab.txt (or tokenizer.json) beside the model, so its tokens cannot be read`);
  }
  return { dir, tokenizer: loadTokenizer(dir) };
}
