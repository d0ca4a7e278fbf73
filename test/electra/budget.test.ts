// Time-budgeted pre-training (`--minutes`): the step count that fits a budget, and the automatic intervals.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AUTO_EVALS, autoInterval, planSteps } from '../../src/electra/model/budget.js';

test('planSteps: steps and evaluations fill the budget, never over it; bounds', () => {
  // 60 s at 0.1 s/step, no evaluation: 600 steps.
  assert.is(planSteps({ budgetSec: 60, stepSec: 0.1, evalSec: 0, evalEvery: 0 }), 600);
  // Every 100 steps an evaluation of 1 s: per step 0.11 s, minus the final evaluation: floor(59 / 0.11) = 536.
  const n = planSteps({ budgetSec: 60, stepSec: 0.1, evalSec: 1, evalEvery: 100 });
  assert.is(n, 536);
  assert.ok(n * 0.1 + (Math.floor(n / 100) + 1) * 1 <= 60);
  // Automatic interval, long run: AUTO_EVALS evaluations plus the final one are paid for up front.
  assert.is(planSteps({ budgetSec: 600, stepSec: 0.01, evalSec: 1, evalEvery: 'auto' }), Math.floor((600 - (AUTO_EVALS + 1)) / 0.01));
  // Short run: the interval cannot go below 100 steps, so fewer evaluations are paid for (every 100 steps + the end).
  const short = planSteps({ budgetSec: 60, stepSec: 0.1, evalSec: 1, evalEvery: 'auto' });
  assert.is(short, Math.floor(59 / 0.11));
  assert.ok(short * 0.1 + (Math.floor(short / autoInterval(short, AUTO_EVALS, 100)) + 1) * 1 <= 60);
  // An explicit --steps caps it; a budget smaller than one step still trains one.
  assert.is(planSteps({ budgetSec: 60, stepSec: 0.1, evalSec: 0, evalEvery: 0, maxSteps: 250 }), 250);
  assert.is(planSteps({ budgetSec: 0.01, stepSec: 0.1, evalSec: 5, evalEvery: 'auto' }), 1);
  // A GPU at 5 ms/step gets 70× the steps of a CPU at 350 ms/step from the same command.
  const cpu = planSteps({ budgetSec: 120, stepSec: 0.35, evalSec: 0.3, evalEvery: 'auto' });
  const gpu = planSteps({ budgetSec: 120, stepSec: 0.005, evalSec: 0.004, evalEvery: 'auto' });
  assert.ok(gpu / cpu > 60, `${gpu} vs ${cpu}`);
  assert.throws(() => planSteps({ budgetSec: 60, stepSec: 0, evalSec: 0, evalEvery: 0 }), /stepSec must be > 0/);
  assert.throws(() => planSteps({ budgetSec: Number.NaN, stepSec: 1, evalSec: 0, evalEvery: 0 }), /budgetSec/);
});

test('autoInterval: about count events, round numbers, at least min', () => {
  assert.is(autoInterval(24000, 20, 100), 1200);
  assert.is(autoInterval(23456, 20, 100), 1200);
  assert.is(autoInterval(1234, 20, 100), 100);
  assert.is(autoInterval(400, 10, 200), 200);
  assert.is(autoInterval(5000, 10, 200), 500);
  assert.is(autoInterval(7, 20, 1), 1);
});

test.run();
