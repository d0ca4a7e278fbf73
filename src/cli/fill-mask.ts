// `electra fill-mask`: a generator's top-k tokens at each [MASK] of a text, with probabilities (softmax over
// the whole vocabulary), or with --json the top-k ids, tokens and raw logits beside the ids fed to the model.

import { fillMask, fillMaskToJSON } from '../electra/tasks/infer.js';
import { loadGenerator } from '../node/electra-io.js';
import { deviceOption, modelDirectory, textArgument, warnIfUntrained } from './infer-common.js';
import { guard, intOption, parse } from './text-common.js';

export const help = `usage: electra fill-mask --model DIR [options] "TEXT with [MASK]"

Runs a generator (ElectraForMaskedLM) on TEXT and prints its top-k tokens at each [MASK].

  --model DIR     a generator directory (config.json, model.safetensors or pytorch_model.bin, vocab.txt),
                  e.g. RUN/generator or a local copy of google/electra-small-generator
  --top-k K       candidates per [MASK] (default 5)
  --device D      webgpu | cpu | auto (default auto: WebGPU if an adapter exists)
  --json          {"input_ids": [...], "tokens": [...], "masks": [{"position": i, "top": [{"id", "token",
                  "logit"}, ...]}, ...]}: ids with [CLS]/[SEP] as fed to the model, best candidate first`;

export function run(argv: string[]): Promise<number> {
  return guard('fill-mask', async () => {
    const { values, positionals } = parse(argv, {
      model: { type: 'string' }, 'top-k': { type: 'string' }, device: { type: 'string' }, json: { type: 'boolean' },
    });
    const k = intOption(values['top-k'], 'top-k', 5, 1);
    const text = textArgument(positionals);
    const { dir, tokenizer } = modelDirectory(values.model);
    warnIfUntrained(dir);
    if (tokenizer.maskId < 0 || !text.includes(tokenizer.options.maskToken)) {
      throw new Error(`the text has no ${tokenizer.options.maskToken} to fill: ${JSON.stringify(text)}`);
    }
    const device = await deviceOption(values.device);
    const { model } = await loadGenerator(dir, device);
    const r = await fillMask(model, tokenizer, text, k, device);
    if (values.json) { process.stdout.write(JSON.stringify(fillMaskToJSON(r)) + '\n'); return 0; }

    const lines: string[] = [];
    for (const [n, m] of r.masks.entries()) {
      const context = r.tokens.map((t, i) => (i === m.position ? '[___]' : t)).slice(1, -1).join(' ').replace(/ ##/g, '');
      lines.push(`${r.masks.length > 1 ? `[MASK] ${n + 1} of ${r.masks.length}` : '[MASK]'} at token ${m.position}: ${context}`);
      const w = Math.max(5, ...m.top.map((c) => c.token.length));
      for (const [i, c] of m.top.entries()) {
        lines.push(`  ${String(i + 1).padStart(2)}. ${c.token.padEnd(w)}  p ${c.probability.toFixed(4)}  logit ${c.logit.toFixed(3).padStart(8)}  id ${c.id}`);
      }
    }
    const best = [...r.inputIds];
    for (const m of r.masks) best[m.position] = m.top[0].id;
    lines.push('', `top-1 fill: ${tokenizer.decode(best, { skipSpecialTokens: true })}`);
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  });
}
