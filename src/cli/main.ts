#!/usr/bin/env node
// The `electra` command line: one subcommand per file in src/cli, loaded on demand so that
// `electra tokenize` never pays for the GPU runtime. Each module exports `run(argv): Promise<number>`
// and `help: string`.

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

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`electra: ${err instanceof Error ? (process.env.DEBUG ? err.stack : err.message) : String(err)}`);
    process.exit(1);
  },
);
