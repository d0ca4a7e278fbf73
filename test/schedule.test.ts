// LR schedules against hand-computed values: ELECTRA's multiplied warmup × polynomial decay, the
// constant and cosine options, and bad arguments.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { constantLr, cosineDecay, linearWarmupLinearDecay, makeSchedule } from '../src/nn/schedule.js';

const s = suite('schedule');
const near = (a: number, e: number, what: string) => assert.ok(Math.abs(a - e) <= 1e-15 + 1e-12 * Math.abs(e), `${what}: ${a} vs ${e}`);

s('ELECTRA small: peak 5e-4, warmup 10k, 1M steps (decay multiplied by warmup)', () => {
  const o = { peak: 5e-4, warmupSteps: 10_000, totalSteps: 1_000_000 };
  near(linearWarmupLinearDecay(0, o), 0, 'step 0');
  near(linearWarmupLinearDecay(5_000, o), 5e-4 * 0.995 * 0.5, 'mid-warmup'); // 2.4875e-4, not 2.5e-4
  near(linearWarmupLinearDecay(10_000, o), 4.95e-4, 'end of warmup: already decayed 1%');
  near(linearWarmupLinearDecay(500_000, o), 2.5e-4, 'half way');
  near(linearWarmupLinearDecay(1_000_000, o), 0, 'end');
  near(linearWarmupLinearDecay(2_000_000, o), 0, 'past the end (clamped, no cycle)');
});

s('polynomial power and endLr (tf.train.polynomial_decay); no warmup', () => {
  const o = { peak: 1e-3, warmupSteps: 0, totalSteps: 100, endLr: 1e-5, power: 2 };
  near(linearWarmupLinearDecay(0, o), 1e-3, 'start');
  near(linearWarmupLinearDecay(50, o), (1e-3 - 1e-5) * 0.25 + 1e-5, 'step 50'); // 2.575e-4
  near(linearWarmupLinearDecay(100, o), 1e-5, 'end');
  near(linearWarmupLinearDecay(150, o), 1e-5, 'after');
});

s('constant with and without warmup', () => {
  near(constantLr(3, { peak: 1e-4, warmupSteps: 10 }), 3e-5, 'warming');
  near(constantLr(10, { peak: 1e-4, warmupSteps: 10 }), 1e-4, 'warm');
  near(constantLr(1000, { peak: 1e-4, warmupSteps: 10 }), 1e-4, 'later');
  near(constantLr(0, { peak: 1e-4 }), 1e-4, 'no warmup');
});

s('cosine: linear warmup, then half a cosine to endLr', () => {
  const o = { peak: 1, warmupSteps: 10, totalSteps: 110 };
  near(cosineDecay(5, o), 0.5, 'warmup');
  near(cosineDecay(10, o), 1, 'peak');
  near(cosineDecay(35, o), 0.5 * (1 + Math.SQRT1_2), 'quarter');
  near(cosineDecay(60, o), 0.5, 'half');
  near(cosineDecay(110, o), 0, 'end');
  near(cosineDecay(500, o), 0, 'after');
  near(cosineDecay(60, { ...o, endLr: 0.2 }), 0.6, 'endLr');
});

s('makeSchedule and bad arguments', () => {
  const o = { peak: 2, warmupSteps: 4, totalSteps: 8 };
  near(makeSchedule('linear', o)(2), 2 * 0.75 * 0.5, 'linear');
  near(makeSchedule('constant', o)(2), 1, 'constant');
  near(makeSchedule('cosine', o)(6), 1, 'cosine');
  assert.throws(() => linearWarmupLinearDecay(-1, o), /step must be ≥ 0/);
  assert.throws(() => linearWarmupLinearDecay(1, { ...o, totalSteps: 0 }), /totalSteps must be > 0/);
  assert.throws(() => makeSchedule('nope' as 'linear', o), /unknown kind nope/);
});

s.run();
