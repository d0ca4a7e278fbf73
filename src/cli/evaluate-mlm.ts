// `electra evaluate --mlm`: a pre-training run's generator perplexity / masked-token accuracy and its
// discriminator's replaced-token accuracy, AUC, precision and recall on held-out text (src/electra/model/evaluate-mlm.ts).
// Data: a text file in the line format, shard files or a build-data directory, or a bundled corpus's held-out shard
// (the last shard, rebuilt with the run's vocabulary, seed and sequence length exactly as pre-training cut it).
// The run's run-config.json, when present, supplies mask probability, temperature, sequence length and data seed.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type MlmEvalResult, evaluateMlm, exampleBatches, mlmEvalToJSON } from '../electra/model/evaluate-mlm.js';
import { parseElectraConfig } from '../electra/formats/hf.js';
import { loadDiscriminator, loadGenerator } from '../node/electra-io.js';
import { readJsonFile } from '../node/files.js';
import { Progress, fmtNum } from '../node/progress.js';
import { textToDocuments } from '../text/corpus.js';
import { buildExamples } from '../text/examples.js';
import { type Shard, shardExample } from '../text/shard.js';
import { BUNDLED_CORPORA, type BundledCorpusName, loadBundledCorpus } from '../text/node/corpus.js';
import { chunkDocuments } from '../text/node/build.js';
import { loadTokenizer, readTextFile } from '../text/node/files.js';
import { readShardFile, shardExpectation } from '../text/node/shards.js';
import type { WordPieceTokenizer } from '../text/wordpiece.js';
import { checkVocabSize, deviceOption } from './infer-common.js';
import { UsageError, guard, intOption, parse } from './text-common.js';

export const help = `usage: electra evaluate --mlm --model RUN_DIR (--data FILE|DIR ... | --corpus NAME) [options]

Evaluates a pre-training run on held-out text with the authors' masking (15% of tokens, 85% of those
shown as [MASK]) and Gumbel-max replacements sampled from the generator, as in pre-training:
  generator      masked-token accuracy, mean cross-entropy and perplexity = exp(mean cross-entropy)
  discriminator  replaced-token accuracy (beside the all-original baseline), AUC, precision and recall
                 of "replaced", replaced fraction and mean BCE, over every real token
Numbers are pooled over all sequences and reproducible: same data, --batch and --seed, same result.

  --model RUN_DIR   a run directory holding generator/ and discriminator/ (from electra pretrain, or
                    two Hugging Face directories); an MLM-only run has no discriminator/
  --data PATH       held-out text: a text file (one sentence per line, blank lines between documents,
                    packed into sequences as pre-training does), a shard file (.bin) or a build-data
                    directory (all its shards); repeatable
  --corpus NAME     the held-out (last) shard of a bundled corpus (${BUNDLED_CORPORA.join(', ')}), rebuilt with
                    the run's vocabulary, seed and sequence length (RUN_DIR/data is used when it holds it)
  --max-sequences N evaluate the first N sequences only (default: all)
  --batch N         sequences per batch (default 16)
  --seq-len N       tokens per sequence (default: the run's, else 128)
  --mask-prob P     (default: the run's, else 0.15)      --temperature T (default: the run's, else 1)
  --seed N          masking and sampling seed (default 0)
  --device D        webgpu | cpu | auto (default auto)
  --json            print one JSON object (snake_case keys; progress goes to stderr)`;

interface RunInfo { seqLength?: number; maskProb?: number; temperature?: number; seed?: number; corpus?: string; objective?: string }

export function run(argv: string[]): Promise<number> {
  return guard('evaluate', async () => {
    const { values, positionals } = parse(argv, {
      mlm: { type: 'boolean' }, model: { type: 'string' }, data: { type: 'string', multiple: true }, corpus: { type: 'string' },
      'max-sequences': { type: 'string' }, batch: { type: 'string' }, 'seq-len': { type: 'string' }, 'mask-prob': { type: 'string' },
      temperature: { type: 'string' }, seed: { type: 'string' }, device: { type: 'string' }, json: { type: 'boolean' },
    });
    if (!values.mlm) throw new UsageError('this is the pre-training evaluation: pass --mlm');
    if (positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    const runDir = values.model;
    if (!runDir) throw new UsageError('give --model RUN_DIR (a pre-training run directory with generator/ and discriminator/)');
    if (!existsSync(runDir) || !statSync(runDir).isDirectory()) throw new Error(`--model ${runDir}: no such directory`);
    const genDir = join(runDir, 'generator'), discDir = join(runDir, 'discriminator');
    if (!existsSync(join(genDir, 'config.json'))) {
      throw new Error(`${runDir}: no generator/config.json (evaluate --mlm needs a run directory with generator/ and discriminator/; `
        + `${existsSync(join(runDir, 'config.json')) ? 'this looks like a single model directory' : 'has the run saved yet?'})`);
    }
    // Both configs are checked before any data is read or tokenized.
    for (const d of [genDir, discDir]) if (existsSync(join(d, 'config.json'))) parseElectraConfig(readFileSync(join(d, 'config.json'), 'utf8'), join(d, 'config.json'));
    const info: RunInfo = existsSync(join(runDir, 'run-config.json')) ? readJsonFile(join(runDir, 'run-config.json')) as RunInfo : {};
    const number = (v: string | undefined, name: string, dflt: number, ok: (x: number) => boolean, what: string) => {
      if (v === undefined) return dflt;
      const x = Number(v);
      if (!ok(x)) throw new UsageError(`--${name} must be ${what}, got ${JSON.stringify(v)}`);
      return x;
    };
    const seqLen = intOption(values['seq-len'], 'seq-len', info.seqLength ?? 128, 5);
    const maskProb = number(values['mask-prob'], 'mask-prob', info.maskProb ?? 0.15, (x) => x > 0 && x < 1, 'in (0, 1)');
    const temperature = number(values.temperature, 'temperature', info.temperature ?? 1, (x) => x > 0 && Number.isFinite(x), 'a positive number');
    const seed = intOption(values.seed, 'seed', 0);
    const batch = intOption(values.batch, 'batch', 16, 1);
    const maxSeq = intOption(values['max-sequences'], 'max-sequences', Number.MAX_SAFE_INTEGER, 1);
    if ((values.data?.length ?? 0) === 0 && values.corpus === undefined) throw new UsageError('give --data FILE|DIR or --corpus NAME');
    if (values.data?.length && values.corpus !== undefined) throw new UsageError('give either --data or --corpus, not both');
    const vocab = [discDir, genDir].map((d) => join(d, 'vocab.txt')).find((p) => existsSync(p));
    if (!vocab) throw new Error(`${runDir}: no vocab.txt in generator/ or discriminator/`);
    const tok = loadTokenizer(vocab);
    const log = values.json ? (s: string) => process.stderr.write(s + '\n') : (s: string) => console.log(s);

    const examples = values.corpus !== undefined
      ? heldOutShard(values.corpus, runDir, info, tok, seqLen, log)
      : values.data!.flatMap((p) => readHeldOut(p, tok, seqLen));
    const picked = examples.slice(0, maxSeq);
    if (picked.length === 0) throw new Error('the data holds no sequences');
    const device = await deviceOption(values.device);
    const { model: generator } = await loadGenerator(genDir, device);
    const discriminator = existsSync(join(discDir, 'config.json')) ? (await loadDiscriminator(discDir, device)).model : null;
    const positions = Math.min(generator.config.maxPositionEmbeddings, discriminator?.config.maxPositionEmbeddings ?? Infinity);
    if (positions < seqLen) throw new UsageError(`--seq-len ${seqLen} is longer than the model's ${positions} positions`);
    checkVocabSize(tok.vocabSize, vocab, generator.config.vocabSize, join(genDir, 'config.json'));
    log(`evaluating ${runDir} on ${picked.length} sequences of ≤ ${seqLen} tokens (mask ${maskProb}, temperature ${temperature}, seed ${seed}, batch ${batch}) on ${device.name}`);

    const nBatches = Math.ceil(picked.length / batch);
    const progress = new Progress(nBatches, 'batch ', Math.max(1, Math.floor(nBatches / 20)), values.json ? process.stderr : process.stdout);
    const r = await evaluateMlm({ generator, discriminator }, exampleBatches(picked, batch, seqLen), {
      special: { pad: tok.padId, cls: tok.clsId, sep: tok.sepId, mask: tok.maskId }, maskProb, temperature, seed,
      onBatch: (p, i) => progress.update(i, fields(p)),
    }, device);
    if (values.json) { process.stdout.write(JSON.stringify(mlmEvalToJSON(r)) + '\n'); return 0; }
    console.log(report(r));
    return 0;
  });
}

function fields(r: MlmEvalResult): Record<string, string> {
  const f: Record<string, string> = { mlmAcc: fmtNum(r.generator.accuracy), ppl: fmtNum(r.generator.perplexity) };
  if (r.discriminator) { f.discAcc = fmtNum(r.discriminator.accuracy); f.auc = fmtNum(r.discriminator.auc); }
  return f;
}

function report(r: MlmEvalResult): string {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : 'n/a');
  const lines = [
    `sequences ${r.sequences}, tokens ${r.tokens}, masked slots ${r.masked}`,
    `generator      accuracy ${f(r.generator.accuracy)}   cross-entropy ${f(r.generator.loss)}   perplexity ${r.generator.perplexity.toFixed(2)}`,
  ];
  const d = r.discriminator;
  if (d) {
    lines.push(`discriminator  accuracy ${f(d.accuracy)} (all-original ${f(d.baseline)})   AUC ${f(d.auc)}   precision ${f(d.precision)}   recall ${f(d.recall)}`);
    lines.push(`               replaced ${f(d.replaced)} of tokens   BCE ${f(d.loss)}`);
  } else lines.push('discriminator  none (an MLM-only run)');
  return lines.join('\n');
}

type Ex = { ids: ArrayLike<number>; firstSegEnd: number };

function shardExamples(s: Shard, path: string, seqLen: number): Ex[] {
  if (s.header.seqLen > seqLen) throw new UsageError(`${path} holds sequences of up to ${s.header.seqLen} tokens, more than --seq-len ${seqLen}`);
  return Array.from({ length: s.header.count }, (_, i) => shardExample(s, i));
}

/** Examples of one --data path: a build-data directory, a shard file, or text in the line format. */
function readHeldOut(path: string, tok: WordPieceTokenizer, seqLen: number): Ex[] {
  if (!existsSync(path)) throw new Error(`--data ${path}: no such file or directory`);
  const expect = shardExpectation(tok);
  if (statSync(path).isDirectory()) {
    const mf = join(path, 'manifest.json');
    if (!existsSync(mf)) throw new Error(`--data ${path}: a directory without manifest.json (not from electra build-data)`);
    const manifest = JSON.parse(readFileSync(mf, 'utf8')) as { shards: { file: string }[] };
    return manifest.shards.flatMap((s) => shardExamples(readShardFile(join(path, s.file), expect), join(path, s.file), seqLen));
  }
  const head = readFileSync(path).subarray(0, 8).toString('latin1');
  if (head === 'EWGSHARD') return shardExamples(readShardFile(path, expect), path, seqLen);
  const docs = textToDocuments(readTextFile(path));
  // Packing seed fixed at 0 (as a shard built with seed 0): --seed varies the masking, not the sequences.
  return [...buildExamples(docs, (s) => tok.tokenizeToIds(s), { maxLength: seqLen, clsId: tok.clsId, sepId: tok.sepId, seed: [0, 0] })];
}

/**
 * The last shard of a bundled corpus as pre-training held it out: documents cut into 4 MB chunks, the last chunk
 * packed with seed words [data seed, index]. Read from RUN_DIR/data when the run cached exactly that shard.
 */
export function heldOutShard(name: string, runDir: string, info: RunInfo, tok: WordPieceTokenizer, seqLen: number, log: (s: string) => void): Ex[] {
  if (!(BUNDLED_CORPORA as readonly string[]).includes(name)) throw new UsageError(`--corpus must be one of ${BUNDLED_CORPORA.join(', ')}, got ${JSON.stringify(name)}`);
  if (info.corpus && info.corpus !== name) log(`warning: the run was trained on '${info.corpus}', so the last shard of '${name}' may be part of its training data`);
  const dataSeed = info.seed ?? 0;
  const chunks = chunkDocuments(loadBundledCorpus(name as BundledCorpusName), 4e6);
  if (chunks.length === 1) log(`warning: corpus '${name}' makes one shard, so pre-training had no held-out data; evaluating on it anyway`);
  const last = chunks.length - 1;
  const cached = join(runDir, 'data', `shard-${String(last).padStart(5, '0')}.bin`);
  const prep = join(runDir, 'data', 'prepare.json');
  if (existsSync(cached) && existsSync(prep)) {
    const p = JSON.parse(readFileSync(prep, 'utf8')) as { corpus: string; seqLen: number; seed: number };
    if (p.corpus === name && p.seqLen === seqLen && p.seed === dataSeed) {
      try {
        const ex = shardExamples(readShardFile(cached, shardExpectation(tok, seqLen)), cached, seqLen);
        log(`data: held-out shard ${cached} (${ex.length} sequences)`);
        return ex;
      } catch { /* another vocabulary: rebuild below */ }
    }
  }
  log(`data: rebuilding the held-out shard ${last} of '${name}' with the run's vocabulary (seed ${dataSeed}, ${seqLen} tokens)`);
  return [...buildExamples(textToDocuments(chunks[last]), (s) => tok.tokenizeToIds(s), { maxLength: seqLen, clsId: tok.clsId, sepId: tok.sepId, seed: [dataSeed, last] })];
}
