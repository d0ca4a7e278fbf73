// `electra predict`: a fine-tuned model on raw text — the label and class probabilities (sequence classification),
// the value (regression), a tag per word (token classification) or the answer span (QA, with --context). Texts
// come from the arguments, or one per line from stdin; --json prints one JSON object per text.

import { readFileSync } from 'node:fs';
import { predictAnswers, predictSequence, predictTags, type ClassPrediction } from '../electra/tasks/finetune.js';
import type { ElectraForQuestionAnswering, ElectraForSequenceClassification, ElectraForTokenClassification } from '../electra/tasks/heads.js';
import { loadHeadModel } from '../node/finetune-io.js';
import { nullThreshold } from './finetune-common.js';
import { deviceOption, modelDirectory } from './infer-common.js';
import { UsageError, guard, intOption, parse } from './text-common.js';

export const help = `usage: electra predict --model DIR [options] "TEXT"     (or one text per line on stdin)

Runs a fine-tuned model (from \`electra finetune\`, or a Hugging Face ElectraFor{Sequence,Token}Classification
or ElectraForQuestionAnswering directory) on text:
  classification   the label and the probability of every label (regression: the predicted value)
  tagging          one tag per word (words as the tokenizer splits the text)
  QA               TEXT is the question, --context the passage: the answer span and its score

  --model DIR      the fine-tuned model directory
  --text-b TEXT    second text of a pair (e.g. the hypothesis of an NLI model)
  --context TEXT   QA passage (or --context-file FILE)
  --top K          QA: also list the K best answers (default 1)
  --null-threshold X  QA (SQuAD v2 models): answer "" when the [CLS] score beats the best span by more than X
  --max-len N      tokens per sequence (default: the model's maximum; 384 for QA)
  --json           one JSON object per text: {"label", "probabilities"} | {"value"} | {"words", "tags"} | {"answer", …}
  --device D       webgpu | cpu | auto (default auto)`;

export function run(argv: string[]): Promise<number> {
  return guard('predict', async () => {
    const { values: v, positionals } = parse(argv, {
      model: { type: 'string' }, 'text-b': { type: 'string' }, context: { type: 'string' }, 'context-file': { type: 'string' },
      top: { type: 'string' }, 'max-len': { type: 'string' }, 'null-threshold': { type: 'string' }, json: { type: 'boolean' }, device: { type: 'string' },
    });
    const texts = positionals.length ? [positionals.join(' ')] : process.stdin.isTTY ? [] : readFileSync(0, 'utf8').split('\n').filter((l) => l.trim());
    if (texts.length === 0) throw new UsageError('give the text as an argument (or lines on stdin)');
    const { dir, tokenizer } = modelDirectory(v.model);
    const device = await deviceOption(v.device);
    const m = await loadHeadModel(dir, device);
    const maxLen = intOption(v['max-len'], 'max-len', Math.min(m.kind === 'qa' ? 384 : 512, m.config.maxPositionEmbeddings), 3);
    const lines: string[] = [];
    if (m.kind === 'sequence') {
      const rs = await predictSequence(m.model as ElectraForSequenceClassification, tokenizer, m.labels, texts.map((text) => ({ text, textB: v['text-b'] })), device, maxLen);
      for (const r of rs) {
        if ('value' in r) { lines.push(v.json ? JSON.stringify(r) : `value ${r.value.toFixed(4)}`); continue; }
        const c = r as ClassPrediction;
        if (v.json) { lines.push(JSON.stringify({ label: c.label, probabilities: c.probabilities })); continue; }
        const w = Math.max(...Object.keys(c.probabilities).map((l) => l.length));
        lines.push(`${c.label}  (p = ${c.probabilities[c.label].toFixed(3)})`);
        for (const [l, p] of Object.entries(c.probabilities).sort((a, b) => b[1] - a[1])) lines.push(`  ${l.padEnd(w)}  ${p.toFixed(4)}  ${'█'.repeat(Math.round(p * 20))}`);
      }
    } else if (m.kind === 'token') {
      if (v['text-b']) throw new UsageError('--text-b is for sequence-pair models; this is a token-classification model');
      const rs = await predictTags(m.model as ElectraForTokenClassification, tokenizer, m.labels, texts, device, maxLen);
      for (const r of rs) lines.push(v.json ? JSON.stringify(r) : r.words.map((w, i) => `${w}/${r.tags[i] ?? '?'}`).join(' '));
    } else {
      const context = v.context ?? (v['context-file'] ? readFileSync(v['context-file'], 'utf8') : undefined);
      if (context === undefined) throw new UsageError('a question-answering model needs --context TEXT (or --context-file FILE)');
      const top = intOption(v.top, 'top', 1, 1);
      const rs = await predictAnswers(m.model as ElectraForQuestionAnswering, tokenizer, texts.map((question) => ({ question, context })), device, { maxLen, nBest: Math.max(20, top), nullThreshold: v['null-threshold'] === undefined ? null : nullThreshold(v['null-threshold']) });
      for (const r of rs) {
        if (v.json) { lines.push(JSON.stringify({ answer: r.text, start: r.start, end: r.end, score: r.score, n_best: r.nBest.slice(0, top) })); continue; }
        lines.push(r.text ? `${r.text}  (chars ${r.start}–${r.end}, score ${r.score.toFixed(3)})` : '(no answer)');
        if (top > 1) r.nBest.slice(0, top).forEach((c, i) => lines.push(`  ${i + 1}. ${c.text}  (p = ${c.probability.toFixed(3)})`));
      }
    }
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  });
}
