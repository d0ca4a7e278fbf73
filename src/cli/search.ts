// `electra search`: embeds a query with the model (and pooling) that built an index from `electra embed`, and
// prints the index's texts ranked by cosine similarity (top k, with scores), or with --json one object.

import { embedTexts, searchIndex } from '../electra/tasks/embed.js';
import { loadEncoder, readIndexFile } from '../node/embed-io.js';
import { deviceOption, modelDirectory, textArgument, warnIfUntrained } from './infer-common.js';
import { guard, intOption, parse } from './text-common.js';

export const help = `usage: electra search --model DIR --index FILE [options] "QUERY"

Ranks the texts of an index written by \`electra embed\` by cosine similarity to QUERY, embedded with
the same model and the index's pooling.

  --model DIR     the model directory the index was built with
  --index FILE    a binary (.bin) or JSONL index from electra embed
  --top-k K       results to print (default 5)
  --center        rank by cosine after subtracting the index's mean vector (helps encoders not trained
                  for similarity, whose embeddings all point in nearly the same direction)
  --device D      webgpu | cpu | auto (default auto)
  --json          {"query", "pooling", "centered", "results": [{"rank", "id", "score", "text"}, ...]}`;

export function run(argv: string[]): Promise<number> {
  return guard('search', async () => {
    const { values, positionals } = parse(argv, {
      model: { type: 'string' }, index: { type: 'string' }, 'top-k': { type: 'string' }, center: { type: 'boolean' }, device: { type: 'string' }, json: { type: 'boolean' },
    });
    const query = textArgument(positionals);
    const k = intOption(values['top-k'], 'top-k', 5, 1);
    const { dir, tokenizer } = modelDirectory(values.model);
    warnIfUntrained(dir);
    if (!values.index) throw new Error('give --index FILE (made by electra embed --out FILE)');
    const ix = readIndexFile(values.index);
    const device = await deviceOption(values.device);
    const model = await loadEncoder(dir, device);
    if (model.config.hiddenSize !== ix.dim) {
      throw new Error(`${values.index} holds ${ix.dim}-dimensional embeddings but ${dir} makes ${model.config.hiddenSize}-dimensional ones (built with ${ix.model || 'another model'}?)`);
    }
    const q = await embedTexts(model, tokenizer, [query], device, { pooling: ix.pooling });
    const hits = searchIndex(ix, q.vectors, k, { center: values.center });
    if (values.json) { process.stdout.write(JSON.stringify({ query, pooling: ix.pooling, centered: Boolean(values.center), results: hits }) + '\n'); return 0; }
    const w = String(ix.rows).length;
    console.log(`${ix.rows} texts, ${ix.pooling} pooling${values.center ? ', centred' : ''}; top ${hits.length} by cosine similarity to ${JSON.stringify(query)}:`);
    for (const h of hits) console.log(`${String(h.rank).padStart(3)}  ${h.score.toFixed(4)}  #${String(h.id).padEnd(w)}  ${h.text.length > 160 ? h.text.slice(0, 157) + '...' : h.text}`);
    return 0;
  });
}
