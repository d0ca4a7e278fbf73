#!/usr/bin/env node
// The `electra` command line: one subcommand per file in src/cli, loaded on demand so that
// `electra tokenize` never pays for the GPU runtime. Each module exports `run(argv): Promise<number>`
// and `help: string`.
// On a terminal, the commands run in a child process whose stderr passes through a filter: Dawn's Vulkan
// backend prints two warnings about lavapipe's descriptor limits from native code while it finds the
// adapter, which no option silences and no user can act on. Pipes and files get the process as is (so
// scripts that signal it reach the command itself).

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

interface Command { summary: string; load: () => Promise<{ run(argv: string[]): Promise<number>; help: string }> }

const commands: Record<string, Command> = {
  pretrain: { summary: 'pre-train ELECTRA (generator + discriminator) on a bundled corpus or shards', load: () => import('./pretrain.js') },
  demo: { summary: 'train a small Transformer layer on synthetic data (engine demo)', load: () => import('./demo.js') },
  vocab: { summary: 'train a WordPiece vocabulary (vocab.txt) from a corpus', load: () => import('./vocab.js') },
  tokenize: { summary: 'tokenize text (arguments or stdin lines) to ids or tokens', load: () => import('./tokenize.js') },
  'build-data': { summary: 'build ELECTRA pre-training shards from a corpus', load: () => import('./build-data.js') },
  detect: { summary: 'replaced-token probabilities of a text from a discriminator', load: () => import('./detect.js') },
  'fill-mask': { summary: "a generator's top-k tokens at each [MASK] of a text", load: () => import('./fill-mask.js') },
  finetune: { summary: 'fine-tune on a labelled task (classification, regression, tagging, SQuAD)', load: () => import('./finetune.js') },
  evaluate: { summary: "a fine-tuned model's metrics on a labelled split", load: () => import('./evaluate.js') },
  predict: { summary: 'label / tags / answer of a text from a fine-tuned model', load: () => import('./predict.js') },
  'evaluate --mlm': { summary: "a pre-training run's generator perplexity and discriminator accuracy/AUC on held-out text", load: () => import('./evaluate-mlm.js') },
  embed: { summary: 'sentence embeddings ([CLS] or mean-pooled, normalised) of many texts, as JSONL or a binary matrix', load: () => import('./embed.js') },
  search: { summary: 'rank the texts of an embedding index by cosine similarity to a query', load: () => import('./search.js') },
  'baseline-bow': { summary: 'bag-of-words logistic regression on labelled CSV/TSV/JSONL files (the non-neural baseline)', load: () => import('./baseline-bow.js') },
  plot: { summary: "render a run's loss and accuracy curves (metrics.jsonl) as an SVG", load: () => import('./plot.js') },
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    const width = Math.max(...Object.keys(commands).map((k) => k.length));
    console.log('usage: electra <command> [options]   (electra <command> --help for its options)\n');
    for (const [k, c] of Object.entries(commands)) console.log(`  ${k.padEnd(width)}  ${c.summary}`);
    return name ? 0 : 1;
  }
  // `evaluate --mlm` (pre-training runs) has its own module; plain `evaluate` is for fine-tuned models.
  const cmd = commands[name === 'evaluate' && rest.includes('--mlm') ? 'evaluate --mlm' : name];
  if (!cmd) {
    console.error(`electra: unknown command '${name}'. Commands: ${Object.keys(commands).join(', ')}`);
    return 2;
  }
  const mod = await cmd.load();
  if (rest.includes('--help') || rest.includes('-h')) { console.log(mod.help); return 0; }
  return mod.run(rest);
}

/** Dawn's lines about lavapipe's descriptor limits (printed by its native code at adapter discovery). */
const DAWN_NOISE = /^Warning: maxDynamic(Uniform|Storage)BuffersPerPipelineLayout artificially reduced/;

/** Runs this command line again as a child with stderr filtered; resolves with its exit code. */
function filtered(argv: string[]): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...argv], {
    stdio: ['inherit', 'inherit', 'pipe', 'ipc'], env: { ...process.env, ELECTRA_FILTERED: '1' },
  });
  let rest = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop()!;
    for (const l of lines) if (!DAWN_NOISE.test(l)) process.stderr.write(l + '\n');
  });
  // The terminal sends Ctrl-C to the child as well (same process group): it saves and exits on its own.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  return new Promise((resolve) => child.on('exit', (code, signal) => {
    if (rest && !DAWN_NOISE.test(rest)) process.stderr.write(rest);
    resolve(code ?? (signal === 'SIGINT' ? 130 : 1));
  }));
}

const argv = process.argv.slice(2);
const gpuCommand = !['vocab', 'tokenize', 'build-data', 'plot'].includes(argv[0] ?? '') && !argv.includes('--help') && !argv.includes('-h');
// The child stops if its parent goes (a killed parent closes the IPC channel).
if (process.env.ELECTRA_FILTERED) process.on('disconnect', () => process.exit(130));
const job = process.stderr.isTTY && !process.env.ELECTRA_FILTERED && gpuCommand ? filtered(argv) : main(argv);
job.then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`electra: ${err instanceof Error ? (process.env.DEBUG ? err.stack : err.message) : String(err)}`);
    process.exit(1);
  },
);
