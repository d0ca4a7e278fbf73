// `electra detect`: a discriminator's replaced-token probability for each token of a text (specials
// included), as a table marking p > 0.5, or with --json the raw logits beside the ids fed to the model.

import { detectReplaced, detectToJSON } from '../electra/tasks/infer.js';
import { loadDiscriminator } from '../node/electra-io.js';
import { deviceOption, modelDirectory, textArgument, warnIfUntrained } from './infer-common.js';
import { guard, parse } from './text-common.js';

export const help = `usage: electra detect --model DIR [options] "TEXT"

Runs a discriminator (ElectraForPreTraining) on TEXT and prints, for each token, the probability that
it was replaced (sigmoid of the logit); text tokens with p > 0.5 are marked. [CLS] and [SEP] are
scored too (they are fed to the model) but never marked.

  --model DIR     a discriminator directory (config.json, model.safetensors or pytorch_model.bin, vocab.txt),
                  e.g. RUN/discriminator or a local copy of google/electra-small-discriminator
  --device D      webgpu | cpu | auto (default auto: WebGPU if an adapter exists)
  --json          {"input_ids": [...], "tokens": [...], "logits": [...]}: ids with [CLS]/[SEP] as fed to
                  the model and the raw logit of each (> 0 means "replaced")`;

const BAR = 20;

export function run(argv: string[]): Promise<number> {
  return guard('detect', async () => {
    const { values, positionals } = parse(argv, { model: { type: 'string' }, device: { type: 'string' }, json: { type: 'boolean' } });
    const text = textArgument(positionals);
    const { dir, tokenizer } = modelDirectory(values.model);
    warnIfUntrained(dir);
    const device = await deviceOption(values.device);
    const { model } = await loadDiscriminator(dir, device);
    const r = await detectReplaced(model, tokenizer, text, device);
    if (values.json) { process.stdout.write(JSON.stringify(detectToJSON(r)) + '\n'); return 0; }

    const w = Math.max(5, ...r.tokens.map((t) => t.length));
    const lines = [`${'token'.padEnd(w)}  ${'id'.padStart(6)}  ${'logit'.padStart(8)}  ${'p(replaced)'.padStart(11)}`];
    for (const s of r.scores) {
      const bar = '█'.repeat(Math.round(s.probability * BAR)).padEnd(BAR, '·');
      const mark = s.special ? '  (special)' : s.probability > 0.5 ? '  ← replaced' : '';
      lines.push(`${s.token.padEnd(w)}  ${String(s.id).padStart(6)}  ${s.logit.toFixed(3).padStart(8)}  ${s.probability.toFixed(3).padStart(11)}  ${bar}${mark}`);
    }
    const words = r.scores.filter((s) => !s.special);
    const flagged = words.filter((s) => s.probability > 0.5);
    lines.push('', `${flagged.length} of ${words.length} tokens look replaced (p > 0.5)${flagged.length ? ': ' + flagged.map((s) => s.token).join(' ') : ''}`);
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  });
}
