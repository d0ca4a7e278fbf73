// Pre-training metrics on hand-computed cases: rank AUC with ties, and MetricsTally pooling counts over
// batches (precision defined even when one batch flags nothing; AUC ranks all batches together).

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { auc, MetricsTally, stepMetrics } from '../../src/electra/model/metrics.js';
import type { StepResult } from '../../src/electra/model/pretrain.js';
import { tensor } from '../../src/tensor/tensor.js';
import { cpu } from '../helpers.js';

const s = suite('metrics');

s('auc: perfect, inverted, ties share ranks, include mask, one class absent → NaN', () => {
  assert.is(auc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]), 1);
  assert.is(auc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]), 0);
  // Positives {0.5, 0.7}, negatives {0.5, 0.1}: pairs (0.5,0.5) tie = ½, the other three are won → 3.5 / 4.
  assert.is(auc([0.5, 0.7, 0.5, 0.1], [1, 1, 0, 0]), 0.875);
  assert.is(auc([0.5, 0.7, 0.5, 0.1, 9], [1, 1, 0, 0, 0], [1, 1, 1, 1, 0]), 0.875);
  assert.ok(Number.isNaN(auc([1, 2], [1, 1])));
});

/** A StepResult carrying only what the metrics read (host tensors on the CPU device). */
function fakeStep(loss: number, mlmPred: number[], mlmTargets: number[], logits: number[], labels: number[], real: number[]): StepResult {
  const f = (v: number[]) => tensor(Float32Array.from(v), [v.length], { device: cpu });
  const i = (v: number[]) => tensor(Int32Array.from(v), [v.length], { device: cpu, dtype: 'i32' });
  return {
    loss: f([loss]), mlmLoss: f([loss / 2]), discLoss: f([loss / 100]), mlmPred: i(mlmPred), mlmTargets: i(mlmTargets),
    discLogits: f(logits), discLabels: f(labels), realMask: f(real),
  } as unknown as StepResult;
}

s('stepMetrics: accuracy, baseline, recall, precision over real tokens; MLM accuracy over used slots', async () => {
  // Real tokens 0..4 (5 is padding): labels 1 at 1 and 3; flags (logit > 0) at 1 and 2 → 1 hit.
  const m = await stepMetrics(fakeStep(4, [7, 8, 9], [7, 5, -1], [-1, 2, 3, -4, -5, 9], [0, 1, 0, 1, 0, 1], [1, 1, 1, 1, 1, 0]));
  assert.is(m.loss, 4); assert.is(m.mlmLoss, 2);
  assert.is(m.mlmAcc, 0.5);
  assert.is(m.discAcc, 3 / 5); assert.is(m.discBaseline, 3 / 5); assert.is(m.replaced, 2 / 5);
  assert.is(m.discRecall, 1 / 2); assert.is(m.discPrecision, 1 / 2);
});

s('MetricsTally pools counts: precision stays defined when a batch flags nothing', async () => {
  const a = fakeStep(2, [1], [1], [-1, -2, -3], [1, 0, 0], [1, 1, 1]);     // flags nothing: precision NaN alone
  const b = fakeStep(4, [1, 2], [3, 2], [5, 6, -1], [1, 0, 0], [1, 1, 1]); // 2 flags, 1 hit
  assert.ok(Number.isNaN((await stepMetrics(a)).discPrecision!));
  const t = new MetricsTally();
  await t.add(a); await t.add(b);
  const m = t.metrics();
  assert.is(m.loss, 3);
  assert.is(m.mlmAcc, 2 / 3);
  assert.is(m.discPrecision, 1 / 2);
  assert.is(m.discRecall, 1 / 2);
  assert.is(m.discAcc, 4 / 6);
  // Pooled AUC ranks all six tokens together (not the mean of per-batch AUCs).
  assert.is(m.discAuc, auc([-1, -2, -3, 5, 6, -1], [1, 0, 0, 1, 0, 0]));
});

s.run();
