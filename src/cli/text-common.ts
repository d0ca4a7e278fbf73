// Shared pieces of the text subcommands (vocab, tokenize, build-data): option parsing with node:util
// parseArgs (unknown flags are errors), tokenizer and corpus loading, and a usage-error type that main maps
// to exit code 2.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadBundledCorpus, BUNDLED_CORPORA, type BundledCorpusName, loadTokenizer, readTextFile } from '../text/node/index.js';
import { textToDocuments, type Document } from '../text/corpus.js';
import type { WordPieceTokenizer } from '../text/wordpiece.js';

export class UsageError extends Error {}

/** Runs a subcommand body; a UsageError prints "electra NAME: message" and exits with 2. */
export async function guard(name: string, body: () => Promise<number>): Promise<number> {
  try { return await body(); } catch (e) {
    if (e instanceof UsageError) { console.error(`electra ${name}: ${e.message} (see electra ${name} --help)`); return 2; }
    throw e;
  }
}

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function intOption(v: string | undefined, name: string, dflt: number, min = 0): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return n;
}

/** Documents from a bundled corpus name or text files in the line format (each file also ends a document). */
export function loadDocuments(corpus: string | undefined, files: string[]): Document[] {
  if (corpus !== undefined) {
    if (!(BUNDLED_CORPORA as readonly string[]).includes(corpus)) throw new UsageError(`--corpus must be one of ${BUNDLED_CORPORA.join(', ')}, got ${JSON.stringify(corpus)}`);
    return loadBundledCorpus(corpus as BundledCorpusName);
  }
  if (files.length === 0) throw new UsageError('give --corpus NAME or one or more text files');
  return files.flatMap((f) => textToDocuments(readTextFile(f)));
}

export function tokenizerFrom(values: { vocab?: string; tokenizer?: string; cased?: boolean }): WordPieceTokenizer {
  const path = values.tokenizer ?? values.vocab;
  if (!path) throw new UsageError('give --vocab vocab.txt or --tokenizer tokenizer.json (or a model directory)');
  return loadTokenizer(path, values.cased ? { lowercase: false } : {});
}
