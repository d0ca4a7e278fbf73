// scripts/continue-in-pytorch.py, as far as this machine can check it without PyTorch: it compiles (Python's
// compile(), what py_compile runs, without writing bytecode), and with
// torch/transformers/safetensors replaced by stubs its host-side pieces agree with the engine: the shard reader
// (uint16 and uint32 ids) and batch packing against readShardFile / BatchReader, the LR schedule against
// linearWarmupLinearDecay, the AUC against metrics.auc. Skips with one line when python3 (or numpy) is missing.
// What needs a GPU and PyTorch (the model, the tying, DDP) is unrun: docs/scale-out.md.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { auc } from '../src/electra/model/metrics.js';
import { linearWarmupLinearDecay } from '../src/nn/schedule.js';
import { openShardFiles, readShardFile, writeShardFile } from '../src/text/node/shards.js';
import { BatchReader } from '../src/text/stream.js';
import type { Example } from '../src/text/examples.js';

const script = fileURLToPath(new URL('../../scripts/continue-in-pytorch.py', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'electra-scale-out-'));
// PYTHONDONTWRITEBYTECODE: compiling and importing the script must not leave scripts/__pycache__ in the checkout.
const python = (args: string[], input?: string) =>
  spawnSync('python3', args, { input, encoding: 'utf8', timeout: 60_000, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
const have = python(['-c', 'import numpy']);
const skip = (what: string) => console.log(`  (skipping the continue-in-pytorch.py check: ${what})`);

// The script's module with its heavy imports stubbed: only numpy, struct and json run for real.
const harness = `
import json, sys, types
torch = types.ModuleType('torch')
torch.nn = types.SimpleNamespace(Module=object, functional=types.ModuleType('torch.nn.functional'), parallel=None)
torch.no_grad = lambda: (lambda f: f)
torch.from_numpy = lambda a: a
sys.modules.update({'torch': torch, 'torch.distributed': types.ModuleType('d'), 'torch.nn.functional': torch.nn.functional,
                    'safetensors': types.ModuleType('s'), 'safetensors.torch': types.SimpleNamespace(load_file=None, save_file=None),
                    'transformers': types.SimpleNamespace(ElectraForMaskedLM=None, ElectraForPreTraining=None)})
import importlib.util
spec = importlib.util.spec_from_file_location('cip', sys.argv[1]); m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
q = json.load(sys.stdin)
out = {'shards': [], 'schedule': [m.schedule(s, 1e-3, 10, 100) for s in q['steps']], 'auc': m.auc(__import__('numpy').array(q['scores']), __import__('numpy').array(q['labels']))}
for path in q['shards']:
    offsets, first, tokens, vocab, seq = m.read_shard(path)
    ids, typ, att = m.Shards([path], seq).batch(list(range(4)))
    out['shards'].append({'offsets': offsets.tolist(), 'first': first.tolist(), 'tokens': tokens.tolist(), 'vocab': vocab, 'seq': seq,
                          'ids': ids.ravel().tolist(), 'types': typ.ravel().tolist(), 'att': att.ravel().tolist()})
print(json.dumps(out))
`;

test('continue-in-pytorch.py compiles; its shard reader, batches, schedule and AUC agree with the engine', async () => {
  if (python(['--version']).error) return skip('no python3');
  const compiled = python(['-c', 'import sys; compile(open(sys.argv[1], encoding="utf-8").read(), sys.argv[1], "exec")', script]);
  assert.is(compiled.status, 0, compiled.stderr);
  if (have.status !== 0) return skip('no numpy');
  // Two shards: a vocabulary that fits uint16 ids, and one that needs uint32.
  const examples = (n: number, vocab: number): Example[] => Array.from({ length: n }, (_, i) => {
    const len = 5 + ((i * 7) % 12);
    return { ids: Array.from({ length: len }, (_, k) => (k === 0 ? 2 : k === len - 1 ? 3 : (i * 131 + k * 977) % vocab)), firstSegEnd: 2 + (i % (len - 2)) };
  });
  const shards = [[join(tmp, 'a.bin'), 9000], [join(tmp, 'b.bin'), 70000]] as const;
  for (const [path, vocab] of shards) writeShardFile(path, examples(11, vocab), { vocabHash: '0123456789abcdef', vocabSize: vocab, seqLen: 20 });
  const steps = [0, 1, 5, 9, 10, 11, 50, 99, 100, 120];
  const scores = [0.1, 0.4, 0.35, 0.8, 0.4, 0.9, 0.2, 0.4], labels = [0, 0, 1, 1, 1, 1, 0, 0];
  const r = python(['-c', harness, script], JSON.stringify({ shards: shards.map(([p]) => p), steps, scores, labels }));
  assert.is(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout) as { shards: Array<Record<string, number[] | number>>; schedule: number[]; auc: number };
  for (const [k, [path]] of shards.entries()) {
    const s = readShardFile(path), py = got.shards[k];
    assert.equal(py.offsets, Array.from(s.offsets), `${path}: offsets`);
    assert.equal(py.first, Array.from(s.firstSegEnd), `${path}: first segment ends`);
    assert.equal(py.tokens, Array.from(s.tokens), `${path}: token ids`);
    assert.equal([py.vocab, py.seq], [s.header.vocabSize, s.header.seqLen]);
    // The engine's batch of the first four examples (one shard, shuffle buffer 1: file order).
    const b = await new BatchReader(openShardFiles([path]), { batchSize: 4, seed: 0, shuffleBuffer: 1 }).next();
    assert.equal(py.ids, Array.from(b.inputIds), `${path}: batch ids`);
    assert.equal(py.types, Array.from(b.tokenTypeIds), `${path}: batch token types`);
    assert.equal(py.att, Array.from(b.attentionMask), `${path}: batch attention mask`);
  }
  steps.forEach((s, i) => assert.ok(Math.abs(got.schedule[i] - linearWarmupLinearDecay(s, { peak: 1e-3, warmupSteps: 10, totalSteps: 100 })) < 1e-15, `lr at step ${s}`));
  assert.ok(Math.abs(got.auc - auc(scores, labels)) < 1e-12, `auc ${got.auc} vs ${auc(scores, labels)}`);
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
