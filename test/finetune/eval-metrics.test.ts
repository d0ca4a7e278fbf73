// Fine-tuning metrics on hand-computed cases (values worked out on paper; sklearn/scipy/official SQuAD agree).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  accuracy, confusionMatrix, exactMatch, f1Of, macroF1, mcc, median, normalizeAnswer, pearson, perClass, ranks, spearman, squadF1,
  squadScores, tokenMetrics,
} from '../../src/electra/tasks/eval-metrics.js';

const s = suite('fine-tuning metrics');
const near = (a: number, e: number, what: string, tol = 1e-12) => assert.ok(Math.abs(a - e) <= tol, `${what}: got ${a}, expected ${e}`);

// gold 0 0 1 1 1 2, pred 0 1 1 1 2 2
const gold = [0, 0, 1, 1, 1, 2], pred = [0, 1, 1, 1, 2, 2];

s('accuracy and the confusion matrix (rows gold, columns predicted)', () => {
  near(accuracy(pred, gold), 4 / 6, 'accuracy');
  assert.equal(confusionMatrix(pred, gold, 3), [[1, 1, 0], [0, 2, 1], [0, 0, 1]]);
  assert.equal(confusionMatrix([], [], 2), [[0, 0], [0, 0]]);
  assert.throws(() => confusionMatrix([3], [0], 3), /classes are 0\.\.2/);
  assert.throws(() => accuracy([1, 2], [1]), /2 predictions for 1 gold/);
  assert.ok(Number.isNaN(accuracy([], [])));
});

s('macro-F1: per-class F1 averaged; classes absent from both sides are left out', () => {
  // class 0: P 1/1, R 1/2 → F1 2/3; class 1: P 2/3, R 2/3 → 2/3; class 2: P 1/2, R 1/1 → 2/3.
  const pc = perClass(confusionMatrix(pred, gold, 3));
  near(pc[0].f1, 2 / 3, 'F1 class 0'); near(pc[1].f1, 2 / 3, 'F1 class 1'); near(pc[2].f1, 2 / 3, 'F1 class 2');
  near(macroF1(pred, gold), 2 / 3, 'macro-F1');
  // With k = 5 the unused classes 3, 4 do not dilute the mean (sklearn averages over labels present).
  near(macroF1(pred, gold, 5), 2 / 3, 'macro-F1, k 5');
  // gold 0 0 0 1, pred 0 0 0 0: class 0 F1 = 2·0.75·1/1.75 = 6/7, class 1 F1 = 0 → 3/7.
  near(macroF1([0, 0, 0, 0], [0, 0, 0, 1]), 3 / 7, 'macro-F1 with a never-predicted class');
  // Binary F1 of class 1: tp 2, fp 1, fn 1 → 4/6.
  near(f1Of([1, 1, 1, 0, 0], [1, 1, 0, 1, 0], 1), 2 / 3, 'binary F1');
  assert.is(f1Of([0, 0], [0, 0], 1), 0);
});

s('MCC: binary formula, multiclass R_K, 0 when undefined', () => {
  // TP 2, TN 1, FP 1, FN 1: (2·1 − 1·1) / sqrt(3·3·2·2) = 1/6.
  near(mcc([1, 1, 1, 0, 0], [1, 1, 0, 1, 0]), 1 / 6, 'binary MCC');
  near(mcc([0, 1, 0, 1], [0, 1, 0, 1]), 1, 'perfect');
  near(mcc([1, 0, 1, 0], [0, 1, 0, 1]), -1, 'inverted');
  assert.is(mcc([1, 1, 1], [0, 1, 0]), 0, 'constant prediction → 0 (sklearn)');
  // Multiclass on the shared case: c 4, s 6, t (2,3,1), p (1,3,2): Σpt = 2+9+2 = 13, Σp² 14, Σt² 14 →
  // (24 − 13) / sqrt((36−14)(36−14)) = 11/22.
  near(mcc(pred, gold), 0.5, 'multiclass MCC');
});

s('Pearson, Spearman (average ranks for ties)', () => {
  near(pearson([1, 2, 3], [2, 4, 6]), 1, 'linear');
  // x 1 2 3 4, y 1 3 2 4 (means 2.5): sxy = 2.25 − 0.25 − 0.25 + 2.25 = 4, sxx = syy = 5 → 0.8.
  near(pearson([1, 2, 3, 4], [1, 3, 2, 4]), 0.8, 'pearson');
  assert.equal(Array.from(ranks([10, 20, 20, 5])), [2, 3.5, 3.5, 1]);
  // Monotone but not linear: Spearman 1, Pearson < 1.
  near(spearman([1, 2, 3, 4], [1, 8, 27, 1000]), 1, 'spearman monotone');
  assert.ok(pearson([1, 2, 3, 4], [1, 8, 27, 1000]) < 0.9);
  // Ties: x 1 2 2 3 → ranks 1 2.5 2.5 4; y 1 2 3 4 → Pearson of the ranks = 4.5/sqrt(4.5·5) = sqrt(0.9).
  near(spearman([1, 2, 2, 3], [1, 2, 3, 4]), Math.sqrt(0.9), 'spearman with ties', 1e-12);
  assert.ok(Number.isNaN(pearson([1, 1, 1], [1, 2, 3])), 'constant side → NaN');
  assert.ok(Number.isNaN(pearson([1], [2])));
});

s('token metrics: unscored words (null) are counted, not scored', () => {
  const r = tokenMetrics([[0, 1, null], [2, 2]], [[0, 1, 1], [2, 0]], 3);
  assert.is(r.scored, 4); assert.is(r.unscored, 1);
  near(r.accuracy, 3 / 4, 'token accuracy');
  // Scored pairs (pred, gold): (0,0) (1,1) (2,2) (2,0). Class 0: P 1/1, R 1/2 → 2/3; class 1: P 1, R 1 → 1;
  // class 2: P 1/2, R 1/1 → 2/3; mean 7/9.
  near(r.macroF1, 7 / 9, 'token macro-F1');
  assert.throws(() => tokenMetrics([[0]], [[0, 1]], 2), /sentence 0/);
});

s('SQuAD: official normalisation, EM, token F1, max over gold answers, v2 empty answers', () => {
  assert.is(normalizeAnswer('The  Cat, sat!'), 'cat sat');
  assert.is(normalizeAnswer('an apple a day'), 'apple day');
  assert.is(exactMatch('the Eiffel Tower.', 'Eiffel tower'), 1);
  assert.is(exactMatch('Eiffel', 'Eiffel tower'), 0);
  // "eiffel tower in paris" vs "eiffel tower": common 2, P 2/4, R 1 → 2/3.
  near(squadF1('Eiffel Tower in Paris', 'the Eiffel Tower'), 2 / 3, 'F1 with extra words');
  // "eiffel tower paris" vs "eiffel tower": common 2, P 2/3, R 1 → 0.8.
  near(squadF1('eiffel tower paris', 'eiffel tower'), 0.8, 'F1');
  near(squadF1('x b b', 'b b c'), 2 / 3, 'F1 matches repeated tokens by count');
  near(squadF1('a b b', 'b b c'), 0.8, 'articles are dropped before counting');
  assert.is(squadF1('', ''), 1);
  assert.is(squadF1('x', ''), 0);
  const sc = squadScores(['eiffel tower', 'paris', ''], [['Eiffel Tower', 'the tower'], ['London'], []]);
  near(sc.exactMatch, 200 / 3, 'EM %');
  near(sc.f1, 200 / 3, 'F1 %');
});

s('median', () => {
  assert.is(median([3, 1, 2]), 2);
  assert.is(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
  assert.is(median([NaN, 5, 1]), 3);
});

s.run();
