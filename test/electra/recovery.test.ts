// What a crash or a failed run leaves behind (issue 14 items 5 and 6): `pretrain` resumes past a torn last line
// in metrics.jsonl (a kill during an append leaves one) and rewrites the file whole; a corrupt state file or a bad
// line elsewhere stops it with the file (and line) named. A failed `finetune` leaves the previous result in --out
// untouched and creates no empty --out.

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { appendFileSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const s = suite('recovery');
const cli = join(process.cwd(), 'build/src/cli/main.js');
const work = mkdtempSync(join(tmpdir(), 'electra-recovery-'));
const electra = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000 });
const data = join(work, 'data');
const pretrain = (out: string, steps: number) => electra('pretrain', '--data', data, '--out', out, '--steps', String(steps), '--batch', '4', '--seq-len', '32',
  '--log-every', '1', '--eval-every', '0', '--save-every', '3', '--device', 'cpu', '--set', 'hiddenSize=32', '--set', 'embeddingSize=32',
  '--set', 'numHiddenLayers=1', '--set', 'intermediateSize=64', '--set', 'numAttentionHeads=1');
const steps = (out: string) => readFileSync(join(out, 'metrics.jsonl'), 'utf8').split('\n').filter((l) => l).map((l) => (JSON.parse(l) as { step: number }).step);

s('pretrain resumes past a torn last metrics line and rewrites the file whole; a corrupt trainer.json or a bad middle line names the file', () => {
  const b = electra('build-data', '--corpus', 'moby-dick', '--vocab-size', '600', '--seq-len', '32', '--chunk-mb', '1', '--out', data);
  assert.is(b.status, 0, b.stderr);
  const base = join(work, 'base');
  const r = pretrain(base, 3);
  assert.is(r.status, 0, r.stderr);
  assert.equal(steps(base), [1, 2, 3]);

  const torn = join(work, 'torn');
  cpSync(base, torn, { recursive: true });
  appendFileSync(join(torn, 'metrics.jsonl'), '{"step":4,"split":"train","loss":41.');   // killed mid-append
  const t = pretrain(torn, 4);
  assert.is(t.status, 0, t.stderr);
  assert.equal(steps(torn), [1, 2, 3, 4]);
  assert.ok(readFileSync(join(torn, 'metrics.jsonl'), 'utf8').endsWith('}\n'));

  const middle = join(work, 'middle');
  cpSync(base, middle, { recursive: true });
  const lines = readFileSync(join(middle, 'metrics.jsonl'), 'utf8').split('\n');
  lines[1] = lines[1].slice(0, 20);
  writeFileSync(join(middle, 'metrics.jsonl'), lines.join('\n'));
  const m = pretrain(middle, 4);
  assert.is(m.status, 1);
  assert.match(m.stderr, new RegExp(`${join(middle, 'metrics.jsonl')}:2: not valid JSON`));

  const corrupt = join(work, 'corrupt');
  cpSync(base, corrupt, { recursive: true });
  writeFileSync(join(corrupt, 'state', 'trainer.json'), '{"step": 3, "rng": ');
  const c = pretrain(corrupt, 4);
  assert.is(c.status, 1);
  assert.ok(c.stderr.includes(`${join(corrupt, 'state', 'trainer.json')}: not valid JSON`), c.stderr);
  writeFileSync(join(corrupt, 'state', 'trainer.json'), '{"step": "three"}');
  assert.match(pretrain(corrupt, 4).stderr, /trainer\.json: not a trainer state/);
});

// ---- finetune: nothing of a previous result is touched until the new run has loaded its model and data ------

const GOLD = fileURLToPath(new URL('../../../test/fixtures/hf-golden/', import.meta.url));

s('a finetune that fails to load its model or data leaves the previous --out as it was, and creates no empty --out', () => {
  const model = join(work, 'model');
  mkdirSync(model);
  for (const f of ['config.json', 'vocab.txt', 'model.safetensors']) copyFileSync(join(GOLD, 'discriminator', f), join(model, f));
  const words = readFileSync(join(model, 'vocab.txt'), 'utf8').split('\n').slice(5, 25);
  const rows = words.map((w, i) => `"${w} ${words[(i + 3) % words.length]}",${i % 2 ? 'pos' : 'neg'}`);
  writeFileSync(join(work, 'train.csv'), 'text,label\n' + rows.join('\n') + '\n');
  writeFileSync(join(work, 'dev.csv'), 'text,label\n' + rows.slice(0, 6).join('\n') + '\n');
  const finetune = (out: string, dev = join(work, 'dev.csv')) => electra('finetune', '--model', model, '--train', join(work, 'train.csv'), '--dev', dev,
    '--text-col', 'text', '--label-col', 'label', '--out', out, '--epochs', '1', '--batch', '8', '--max-len', '16', '--device', 'cpu');

  const prev = join(work, 'previous');
  mkdirSync(prev);
  const before = { 'metrics.jsonl': '{"step":1,"split":"train","loss":0.5}\n', 'eval.json': '{"dev":{"accuracy":0.9}}\n' };
  for (const [f, text] of Object.entries(before)) writeFileSync(join(prev, f), text);
  const unchanged = () => { for (const [f, text] of Object.entries(before)) assert.is(readFileSync(join(prev, f), 'utf8'), text, f); };

  // Bad data: a dev file that is not there.
  const d = finetune(prev, join(work, 'missing.csv'));
  assert.is(d.status, 1, d.stdout);
  unchanged();
  // A model whose weights file is torn.
  const full = readFileSync(join(model, 'model.safetensors'));
  writeFileSync(join(model, 'model.safetensors'), full.subarray(0, full.length - 100));
  const m = finetune(prev);
  assert.is(m.status, 1, m.stdout);
  assert.match(m.stderr, /model\.safetensors: tensor '.*': data_offsets .* run past the end of the data/);
  unchanged();
  const fresh = join(work, 'fresh');
  assert.is(finetune(fresh).status, 1);
  assert.not.ok(existsSync(fresh), 'no empty --out is left');
  // With the model whole again the same command runs, and only then replaces the previous log.
  writeFileSync(join(model, 'model.safetensors'), full);
  const ok = finetune(prev);
  assert.is(ok.status, 0, ok.stderr);
  assert.not.equal(readFileSync(join(prev, 'metrics.jsonl'), 'utf8'), before['metrics.jsonl']);
});

s.after(() => rmSync(work, { recursive: true, force: true }));
s.run();
