import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { maskBatch, maxPredictions, roundHalfEven, scatterUpdate } from '../src/electra/model/masking.js';
import { HostRng } from '../src/nn/init.js';
import { scatterUpdateKernel } from '../src/kernels/scatter_update.js';
import { launch } from '../src/tensor/ops.js';
import { tensor } from '../src/tensor/tensor.js';
import { cpu, gpu } from './helpers.js';

const s = suite('masking (authors’ rules)');
const CLS = 101, SEP = 102, MASK = 103;

s('max predictions and rounding', () => {
  assert.is(maxPredictions(0.15, 128), 19);
  assert.is(maxPredictions(0.15, 512), 79);
  assert.is(maxPredictions(0.25, 512), 130);
  assert.equal([0.5, 1.5, 2.5, 2.4, 2.6, 3].map(roundHalfEven), [0, 2, 2, 2, 3, 3]);
});

s('never masks [CLS], [SEP], padding; counts; 85/15 mask/keep', () => {
  const B = 64, T = 32;
  const ids = new Int32Array(B * T), mask = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    const len = 8 + (b % 25);
    for (let t = 0; t < len; t++) { ids[b * T + t] = t === 0 ? CLS : t === len - 1 ? SEP : 1000 + t; mask[b * T + t] = 1; }
  }
  const N = maxPredictions(0.15, T);
  const m = maskBatch(ids, mask, B, T, { maskProb: 0.15, maxPredictions: N, maskId: MASK, clsId: CLS, sepId: SEP }, new HostRng(3));
  let masked = 0, kept = 0;
  for (let b = 0; b < B; b++) {
    const len = 8 + (b % 25);
    const k = Math.max(1, Math.min(N, roundHalfEven(Math.fround(len * Math.fround(0.15)))));
    let used = 0;
    for (let j = 0; j < N; j++) {
      const sIdx = b * N + j;
      if (!m.weights[sIdx]) { assert.is(m.positions[sIdx], 0); continue; }
      used++;
      const p = m.positions[sIdx];
      assert.ok(p > 0 && p < len - 1, `position ${p} in a sequence of ${len}`);
      assert.is(m.targets[sIdx], ids[b * T + p]);
    }
    assert.is(used, k);
    for (let t = 0; t < T; t++) {
      const v = m.maskedIds[b * T + t];
      if (v === MASK) masked++;
      else if (t > 0 && t < len - 1 && m.positions.slice(b * N, b * N + N).includes(t)) kept++;
      if (t >= len) assert.is(v, 0);
      if (t === 0) assert.is(v, CLS);
    }
  }
  const frac = masked / (masked + kept);
  assert.ok(frac > 0.78 && frac < 0.92, `masked fraction ${frac}`);
});

s('scatter_update: duplicates averaged (floor), position 0 ignored', () => {
  const { seq, updated } = scatterUpdate([5, 6, 7, 8], [10, 20, 31, 99], [1, 1, 2, 0], 1, 4, 4);
  assert.equal(Array.from(seq), [5, 15, 31, 8]);
  assert.equal(Array.from(updated), [0, 1, 1, 0]);
});

s('deterministic for a seed', () => {
  const ids = Int32Array.from({ length: 40 }, (_, i) => (i % 20 === 0 ? CLS : 2000 + i));
  const mask = new Int32Array(40).fill(1);
  const o = { maskProb: 0.15, maxPredictions: 3, maskId: MASK, clsId: CLS, sepId: SEP };
  const a = maskBatch(ids, mask, 2, 20, o, new HostRng(9)), b = maskBatch(ids, mask, 2, 20, o, new HostRng(9));
  assert.equal(Array.from(a.maskedIds), Array.from(b.maskedIds));
  assert.equal(Array.from(a.positions), Array.from(b.positions));
});
s.run();


const k = suite('scatter_update kernel: WebGPU vs CPU reference');
k('random positions with duplicates and unused slots', async () => {
  const dev = await gpu(); if (!dev) return;
  const B = 5, T = 37, N = 7;
  const rng = new HostRng(11);
  const ids = Int32Array.from({ length: B * T }, () => 1000 + Math.floor(rng.uniform() * 50));
  const positions = Int32Array.from({ length: B * N }, (_, i) => (i % N < 5 ? Math.floor(rng.uniform() * 6) : 0));
  const updates = Int32Array.from({ length: B * N }, (_, i) => (i % 3 === 0 ? ids[Math.floor(i / N) * T + positions[i]] : 1000 + Math.floor(rng.uniform() * 50)));
  const run = (d: typeof cpu) => {
    const t = [ids, updates, positions].map((a, i) => tensor(a, [i === 0 ? B * T : B * N], { device: d, dtype: 'i32' }));
    return launch(scatterUpdateKernel, { B, T, N }, t, [{ shape: [B, T], dtype: 'i32' }, { shape: [B, T], dtype: 'f32' }], 'scatter_update', d);
  };
  const [wi, wl] = run(cpu), [gi, gl] = run(dev as typeof cpu);
  assert.equal(Array.from(await gi.data()), Array.from(await wi.data()));
  assert.equal(Array.from(await gl.data()), Array.from(await wl.data()));
  assert.ok((await wl.data()).some((v) => v === 1));
});
k.run();
