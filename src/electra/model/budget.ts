// A pre-training run sized by wall-clock time instead of steps (`electra pretrain --minutes N`). The LR schedule
// (warmup × linear decay) needs its total step count before the first step, and a resumed run must replay exactly
// the same schedule, so the budget is turned into a step count once, at the start, from the step time measured
// on this device: total = what fits in the budget after the measurement itself. The count is then fixed (saved in
// run-config.json): a run is deterministic in steps, and a faster device gets more of them, not a different curve.
// Pure arithmetic here; the measurement is the CLI's (src/cli/pretrain.ts).

/** With an automatic evaluation interval, a time-budgeted run evaluates about this many times. */
export const AUTO_EVALS = 20;
/** With an automatic checkpoint interval, a time-budgeted run saves about this many times (plus the end). */
export const AUTO_SAVES = 10;

export interface StepPlanInput {
  /** Seconds left for training (the budget minus what the measurement took). */
  budgetSec: number;
  /** Measured seconds per optimizer step (all micro-batches, the update, the amortised logging). */
  stepSec: number;
  /** Measured seconds per held-out evaluation (0 when evaluation is off). */
  evalSec: number;
  /** Steps between evaluations; 'auto' = about AUTO_EVALS over the run but at least minEvalEvery apart, 0 = none. */
  evalEvery: number | 'auto';
  /** With evalEvery 'auto': the smallest interval (default 100). */
  minEvalEvery?: number;
  /** An upper bound (an explicit --steps); default none. */
  maxSteps?: number;
}

/** The number of steps that fit: steps·stepSec + evaluations·evalSec ≤ budgetSec; at least 1, at most maxSteps. */
export function planSteps(o: StepPlanInput): number {
  for (const k of ['budgetSec', 'stepSec', 'evalSec'] as const) {
    if (!(Number.isFinite(o[k]) && o[k] >= 0)) throw new RangeError(`planSteps: ${k} must be a finite number ≥ 0, got ${o[k]}`);
  }
  if (!(o.stepSec > 0)) throw new RangeError(`planSteps: stepSec must be > 0, got ${o.stepSec}`);
  let steps: number;
  if (o.evalEvery === 'auto') {
    // The interval is max(minEvalEvery, steps / AUTO_EVALS), so there are at most min(AUTO_EVALS, steps /
    // minEvalEvery) evaluations plus the one at the end. Each bound alone gives a step count that fits; take the larger.
    const min = o.minEvalEvery ?? 100;
    steps = Math.max((o.budgetSec - (AUTO_EVALS + 1) * o.evalSec) / o.stepSec, (o.budgetSec - o.evalSec) / (o.stepSec + o.evalSec / min));
  } else {
    const perStep = o.stepSec + (o.evalEvery > 0 ? o.evalSec / o.evalEvery : 0);
    steps = (o.budgetSec - (o.evalEvery > 0 ? o.evalSec : 0)) / perStep; // the final evaluation
  }
  return Math.max(1, Math.min(o.maxSteps ?? Infinity, Math.floor(steps)));
}

/** An interval giving about `count` events over `steps`, rounded up to a round number, at least `min`. */
export function autoInterval(steps: number, count: number, min: number): number {
  const raw = Math.ceil(steps / count);
  const round = raw <= 10 ? raw : raw <= 100 ? Math.ceil(raw / 10) * 10 : Math.ceil(raw / 100) * 100;
  return Math.max(min, round);
}
