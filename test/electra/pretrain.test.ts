// ELECTRA pre-training: one step agrees between WebGPU and the CPU reference; the `electra pretrain`
// CLI resumes a run killed with SIGKILL and continues with exactly the losses of an uninterrupted
// run; a Ctrl-C (SIGINT) saves and exits cleanly; a --minutes run fixes its plan, equals the --steps run of
// that plan, resumes it, and re-running it when finished trains longer.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { continueCommand } from '../../src/cli/infer-common.js';
import { presetConfig } from '../../src/electra/model/config.js';
import { createElectraPair, disposeStep, electraStep } from '../../src/electra/model/pretrain.js';
import { parseSafetensors } from '../../src/electra/formats/safetensors.js';
import { HostRng } from '../../src/nn/init.js';
import { namedParameters } from '../../src/nn/module.js';
import type { Device } from '../../src/device/device.js';
import { Rng } from '../../src/tensor/random.js';
import { assertClose, cpu, gpu } from '../helpers.js';

const s = suite('electra pre-training');

const special = { pad: 0, cls: 1, sep: 2, mask: 3 };
const small = { ...presetConfig('tiny'), vocabSize: 50, hiddenSize: 32, embeddingSize: 16, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 48, maxPositionEmbeddings: 16 };

function batch() {
  const B = 3, T = 12;
  const ids = new Int32Array(B * T), mask = new Int32Array(B * T);
  const r = new HostRng(4);
  for (let b = 0; b < B; b++) {
    const len = T - 3 * b;
    for (let t = 0; t < len; t++) { ids[b * T + t] = t === 0 ? 1 : t === len - 1 ? 2 : 5 + Math.floor(r.uniform() * 45); mask[b * T + t] = 1; }
  }
  return { B, T, inputIds: ids, tokenTypeIds: new Int32Array(B * T), attentionMask: mask };
}

s('one step: losses and every gradient agree between WebGPU and CPU (dropout on)', async () => {
  const dev = await gpu(); if (!dev) return;
  const run = async (d: Device) => {
    const pair = createElectraPair(small, 'electra', 3, d);
    const r = electraStep(pair, batch(), { maskProb: 0.3, discWeight: 50, genWeight: 1, temperature: 1, objective: 'electra', special }, new HostRng(9), new Rng(5), d, true);
    const out = { loss: await r.loss.item(), mlm: await r.mlmLoss.item(), disc: await r.discLoss!.item(), labels: Array.from(await r.discLabels!.data()) };
    disposeStep(r);
    const grads = await Promise.all(namedParameters({ d: pair.discriminator, g: pair.generator }).map(async ([n, t]) => [n, await t.grad!.data()] as const));
    return { out, grads };
  };
  const c = await run(cpu), g = await run(dev);
  assert.equal(g.out.labels, c.out.labels, 'same replaced tokens (same Gumbel samples)');
  assertClose([g.out.loss, g.out.mlm, g.out.disc], [c.out.loss, c.out.mlm, c.out.disc], { atol: 1e-4, rtol: 1e-4, label: 'losses' });
  for (let i = 0; i < c.grads.length; i++) assertClose(g.grads[i][1], c.grads[i][1], { atol: 2e-4, rtol: 2e-3, label: `d ${c.grads[i][0]}` });
});

s('mlm and adversarial objectives run (opt-in variants)', async () => {
  for (const objective of ['mlm', 'adversarial'] as const) {
    const pair = createElectraPair(small, objective, 3, cpu);
    const r = electraStep(pair, batch(), { maskProb: 0.3, discWeight: 50, genWeight: 1, temperature: 1, objective, special }, new HostRng(9), new Rng(5), cpu, true);
    assert.ok(Number.isFinite(await r.loss.item()));
    assert.is(r.discLoss === null, objective === 'mlm');
    disposeStep(r);
  }
});

// ---- the CLI: exact resume after kill -9, and Ctrl-C ----------------------------------------

const cli = join(process.cwd(), 'build/src/cli/main.js');
const work = mkdtempSync(join(tmpdir(), 'electra-pretrain-'));
const data = join(work, 'data');
const common = (out: string) => [
  cli, 'pretrain', '--data', data, '--out', out, '--steps', '24', '--batch', '4', '--seq-len', '32', '--log-every', '1',
  '--eval-every', '0', '--save-every', '3', '--device', 'cpu', '--lr', '1e-3',
  '--set', 'hiddenSize=32', '--set', 'embeddingSize=32', '--set', 'numHiddenLayers=1', '--set', 'intermediateSize=64', '--set', 'numAttentionHeads=1',
];
const losses = (out: string) => readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; loss: number; mlmLoss: number; discLoss: number })
  .map((r) => [r.step, r.loss, r.mlmLoss, r.discLoss]);

function waitFor(cond: () => boolean, child: ChildProcess, ms = 120000): Promise<void> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = () => {
      if (cond()) return resolve();
      if (child.exitCode !== null) return reject(new Error(`child exited (${child.exitCode}) before the condition held`));
      if (Date.now() - t0 > ms) return reject(new Error('timed out'));
      setTimeout(tick, 20);
    };
    tick();
  });
}

const step = (out: string) => {
  try { return (JSON.parse(readFileSync(join(out, 'state', 'trainer.json'), 'utf8')) as { step: number }).step; } catch { return 0; }
};

s('kill -9 at an arbitrary point, then resume: the losses equal an uninterrupted run', async () => {
  execFileSync('node', [cli, 'build-data', '--corpus', 'moby-dick', '--vocab-size', '600', '--seq-len', '32', '--chunk-mb', '1', '--out', data], { stdio: 'pipe' });
  const a = join(work, 'a'), b = join(work, 'b');
  execFileSync('node', common(a), { stdio: 'pipe' });
  const child = spawn('node', common(b), { stdio: 'ignore' });
  // Kill some time after the first checkpoint: mid-step, mid-save or mid-log, wherever it lands.
  await waitFor(() => step(b) >= 3, child);
  await new Promise((r) => setTimeout(r, 40));
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  assert.ok(step(b) < 24, 'the run was killed before finishing');
  execFileSync('node', common(b), { stdio: 'pipe' });
  assert.equal(losses(b), losses(a));
  assert.ok(existsSync(join(b, 'discriminator', 'model.safetensors')) && existsSync(join(b, 'generator', 'config.json')));
});

s('--minutes: the planned steps equal a --steps run of that plan; Ctrl-C resumes the plan; a finished run re-run trains longer', async () => {
  const noSteps = (out: string) => common(out).filter((x, i, all) => !(x === '--steps' || all[i - 1] === '--steps'));
  const m = join(work, 'minutes'), ref = join(work, 'minutes-ref');
  const cfg = () => JSON.parse(readFileSync(join(m, 'run-config.json'), 'utf8')) as { steps: number; warmupSteps: number; minutes: number };
  // Interrupted once it has checkpointed (Ctrl-C: finish the step, save, exit 130), then the same command again.
  const child = spawn('node', [...noSteps(m), '--minutes', '0.1'], { stdio: 'ignore' });
  await waitFor(() => step(m) >= 3, child);
  child.kill('SIGINT');
  const code = await new Promise((r) => child.once('exit', r));
  const plan = cfg();
  assert.ok(code === 130 && step(m) < plan.steps, `interrupted at step ${step(m)} of ${plan.steps} (exit ${code})`);
  assert.is(plan.minutes, 0.1);
  execFileSync('node', [...noSteps(m), '--minutes', '0.1'], { stdio: 'pipe' });
  assert.equal(cfg(), plan, 'resuming finishes the saved plan, it does not plan again');
  assert.is(step(m), plan.steps);
  // The measurement (throwaway steps at lr 0, their own data and RNG streams) left no trace in training.
  execFileSync('node', [...noSteps(ref), '--steps', String(plan.steps), '--warmup', String(plan.warmupSteps)], { stdio: 'pipe' });
  assert.equal(losses(m), losses(ref));
  // Finished: the same command plans more steps from where it ended, keeping its warmup and its past.
  execFileSync('node', [...noSteps(m), '--minutes', '0.1'], { stdio: 'pipe' });
  const more = cfg();
  assert.ok(more.steps > plan.steps && step(m) === more.steps, `${plan.steps} → ${more.steps}`);
  assert.is(more.warmupSteps, plan.warmupSteps);
  assert.equal(losses(m).slice(0, plan.steps), losses(ref));
});

s('the "not learned yet" notice names a command that continues the run as it was configured', async () => {
  const b = join(work, 'b');
  const cmd = continueCommand(b);
  assert.ok(cmd && cmd.startsWith('electra pretrain ') && cmd.endsWith(' --minutes 30'), String(cmd));
  assert.ok(cmd.includes('--set numHiddenLayers=1') && cmd.includes('--lr 0.001') && cmd.includes(`--data ${data}`), cmd);
  const args = cmd.replace(/ --minutes 30$/, ' --minutes 0.05').split(' ').slice(1);
  execFileSync('node', [cli, ...args, '--device', 'cpu'], { stdio: 'pipe' }); // the configuration check passes
  assert.ok(step(b) > 24, `continued past step 24 to ${step(b)}`);
});

s('a run that goes non-finite stops at once, names the step and the gradient, and never saves a non-finite state', () => {
  const out = join(work, 'nan');
  const args = common(out).map((x, i, all) => (all[i - 1] === '--lr' ? '1e6' : all[i - 1] === '--log-every' ? '20' : all[i - 1] === '--save-every' ? '2' : all[i - 1] === '--steps' ? '30' : x));
  const err = (() => { try { execFileSync('node', [...args, '--warmup', '1'], { stdio: 'pipe' }); return ''; } catch (e) { return String((e as { stderr: Buffer }).stderr); } })();
  assert.match(err, /pretrain: the (loss|gradient of [\w.]+|gradient norm) was not finite at step (\d+) \(after earlier finite steps[^)]*\); no parameter moved from then on; stopped without saving \((the checkpoint of step \d+ is kept|nothing was saved)\)/);
  const bad = Number(/not finite at step (\d+)/.exec(err)![1]);
  assert.ok(bad < 30, `stopped at step ${bad}, before the end`);
  // Whatever was saved comes from a finite step before it, and every saved number is finite.
  if (existsSync(join(out, 'state', 'trainer.json'))) {
    assert.ok(step(out) < bad, `checkpoint of step ${step(out)} precedes the bad step ${bad}`);
    for (const f of ['state/weights.safetensors', 'state/optimizer.safetensors', 'discriminator/model.safetensors', 'generator/model.safetensors']) {
      const { tensors } = parseSafetensors(new Uint8Array(readFileSync(join(out, f))), f);
      for (const [name, t] of tensors) assert.ok(Array.from(t.data).every(Number.isFinite), `${f}: ${name} holds a non-finite value`);
    }
  }
});

s('--precision f16 (f16 matmul operands, dynamic loss scaling) tracks the f32 run of the same seed within a few percent', () => {
  const a = join(work, 'a'), h = join(work, 'half');
  execFileSync('node', [...common(h), '--precision', 'f16'], { stdio: 'pipe' });
  const la = losses(a), lh = losses(h);
  assert.is(lh.length, la.length);
  const tail = (xs: number[][]) => xs.slice(-6).reduce((s, r) => s + r[1], 0) / 6;
  const rel = Math.abs(tail(lh) - tail(la)) / tail(la);
  assert.ok(rel < 0.03, `last losses f16 ${tail(lh).toFixed(4)} vs f32 ${tail(la).toFixed(4)} (${(100 * rel).toFixed(2)}%)`);
  assert.ok(lh.some((r, i) => r[1] !== la[i][1]), 'f16 rounding changed the losses (it ran in f16)');
  const rec = JSON.parse(readFileSync(join(h, 'metrics.jsonl'), 'utf8').trim().split('\n').pop()!) as { lossScale: number; skippedSteps: number };
  assert.ok(rec.lossScale >= 1 && rec.skippedSteps >= 0, `metrics carry the loss scale and skips (${JSON.stringify(rec)})`);
  assert.equal(JSON.parse(readFileSync(join(h, 'run-config.json'), 'utf8')).precision, 'f16');
});

s('--init continues from a run directory (Hugging Face layout): it starts where that run ended', async () => {
  const a = join(work, 'a'), d = join(work, 'd');
  const args = common(d).filter((x, i, all) => !(x === '--set' || all[i - 1] === '--set'));
  execFileSync('node', [...args, '--init', a, '--steps', '2'], { stdio: 'pipe' });
  const first = (out: string) => losses(out)[0][1];
  const last = (out: string) => losses(out)[losses(out).length - 1][1];
  assert.ok(first(d) < first(a), `first loss ${first(d)} (from --init) vs ${first(a)} (from scratch)`);
  assert.ok(Math.abs(first(d) - last(a)) < Math.abs(first(d) - first(a)), 'closer to where run a ended than where it began');
  const err = (() => { try { execFileSync('node', [...args.filter((x) => x !== '--data' && x !== data), '--init', a], { stdio: 'pipe' }); return ''; } catch (e) { return String((e as { stderr: Buffer }).stderr); } })();
  assert.match(err, /--init needs --data tokenized with/);
});

s('learning on a bundled-corpus slice (WebGPU): loss falls; held-out discriminator accuracy rises above the all-original baseline', async () => {
  const dev = await gpu(); if (!dev) return;
  const d2 = join(work, 'data2'), out = join(work, 'learn');
  execFileSync('node', [cli, 'build-data', '--corpus', 'moby-dick', '--vocab-size', '2000', '--seq-len', '64', '--chunk-mb', '1', '--out', d2], { stdio: 'pipe' });
  // The whole run is the warmup (lr rising to 5e-4): the generator is still weak, so its samples are
  // detectable, and the discriminator (loss weight 50) learns to flag them before the generator catches up.
  execFileSync('node', [cli, 'pretrain', '--data', d2, '--out', out, '--steps', '200', '--warmup', '200', '--batch', '8', '--seq-len', '64',
    '--log-every', '10', '--eval-every', '50', '--eval-batches', '16', '--save-every', '0', '--device', 'webgpu', '--set', 'hiddenSize=64',
    '--set', 'embeddingSize=64', '--set', 'intermediateSize=256', '--set', 'numHiddenLayers=1', '--set', 'numAttentionHeads=1'], { stdio: 'pipe' });
  interface Rec { split: string; step: number; loss: number; mlmLoss: number; discAcc: number; discBaseline: number; discAuc: number; discRecall: number; discPrecision: number | null; replaced: number }
  const recs = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Rec);
  const train = recs.filter((r) => r.split === 'train'), evals = recs.filter((r) => r.split === 'eval');
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const first = mean(train.slice(0, 3).map((r) => r.loss)), last = mean(train.slice(-3).map((r) => r.loss));
  assert.ok(last < first - 3, `total loss ${first} → ${last}`);
  assert.ok(evals[evals.length - 1].mlmLoss < evals[0].mlmLoss - 0.3, `held-out MLM loss ${evals.map((r) => r.mlmLoss.toFixed(3))}`);
  // Held-out (16 fixed batches, metrics pooled over ~7,700 tokens): accuracy above always-"original" means
  // the flags raised are more often right than wrong (precision > 0.5), not merely ranked well (AUC).
  const show = evals.map((r) => `@${r.step} acc ${r.discAcc.toFixed(4)} vs ${r.discBaseline.toFixed(4)} p ${r.discPrecision?.toFixed(2)} r ${r.discRecall.toFixed(3)} auc ${r.discAuc.toFixed(3)}`).join('; ');
  const best = evals.reduce((a, b) => (b.discAcc - b.discBaseline > a.discAcc - a.discBaseline ? b : a));
  assert.ok(best.discAcc > best.discBaseline && (best.discPrecision ?? 0) > 0.5, show);
  assert.ok(best.discRecall >= 0.01, `recall ≥ 1% of ~1,000 replaced tokens, i.e. ≥ 10 correct flags: ${show}`);
  assert.ok(Math.max(...evals.map((r) => r.discAuc)) > 0.7, show);
});

s('Ctrl-C saves a checkpoint and exits; rerunning finishes the run', async () => {
  const c = join(work, 'c');
  const child = spawn('node', common(c), { stdio: 'ignore' });
  await waitFor(() => existsSync(join(c, 'metrics.jsonl')) && readFileSync(join(c, 'metrics.jsonl'), 'utf8').includes('"step":2,'), child);
  child.kill('SIGINT');
  const code = await new Promise((r) => child.once('exit', r));
  assert.is(code, 130);
  const saved = step(c);
  assert.ok(saved >= 2 && saved < 24, `saved at step ${saved}`);
  execFileSync('node', common(c), { stdio: 'pipe' });
  assert.equal(losses(c), losses(join(work, 'a')));
});

s.run();
