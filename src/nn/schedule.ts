// Learning-rate schedules: pure functions of the global step (0-based: the step about to be taken),
// evaluated on the host and passed to AdamW.step(lr) as a uniform. ELECTRA's schedule
// (model/optimization.py:create_optimizer) is polynomial decay from step 0 *multiplied* by a linear
// warmup factor, so lr(0) = 0 and the peak is never quite reached; it is not "warm up, then decay".

export interface WarmupDecayOptions {
  peak: number;
  /** Linear warmup length; 0 = no warmup. ELECTRA uses max(warmup_steps, warmup_proportion·totalSteps). */
  warmupSteps: number;
  totalSteps: number;
  endLr?: number;
  power?: number;
}

function check(o: { peak: number; warmupSteps: number; totalSteps?: number }, step: number, what: string): void {
  if (!Number.isFinite(step) || step < 0) throw new RangeError(`${what}: step must be ≥ 0, got ${step}`);
  if (!(o.warmupSteps >= 0)) throw new RangeError(`${what}: warmupSteps must be ≥ 0, got ${o.warmupSteps}`);
  if (o.totalSteps !== undefined && !(o.totalSteps > 0)) throw new RangeError(`${what}: totalSteps must be > 0, got ${o.totalSteps}`);
}

/** min(1, step/warmupSteps), 1 without warmup. */
export function warmupFactor(step: number, warmupSteps: number): number {
  return warmupSteps > 0 ? Math.min(1, step / warmupSteps) : 1;
}

/**
 * ELECTRA: [(peak - endLr)·(1 - min(step, T)/T)^power + endLr] · min(1, step/warmupSteps)
 * (tf.train.polynomial_decay with cycle=False, times the warmup factor).
 */
export function linearWarmupLinearDecay(step: number, o: WarmupDecayOptions): number {
  check(o, step, 'linearWarmupLinearDecay');
  const endLr = o.endLr ?? 0, power = o.power ?? 1;
  const decayed = (o.peak - endLr) * (1 - Math.min(step, o.totalSteps) / o.totalSteps) ** power + endLr;
  return decayed * warmupFactor(step, o.warmupSteps);
}

/** peak · min(1, step/warmupSteps). */
export function constantLr(step: number, o: { peak: number; warmupSteps?: number }): number {
  const warmupSteps = o.warmupSteps ?? 0;
  check({ ...o, warmupSteps }, step, 'constantLr');
  return o.peak * warmupFactor(step, warmupSteps);
}

/**
 * Linear warmup to peak, then half a cosine from peak to endLr over the remaining steps (the common
 * convention, sequential rather than ELECTRA's multiplied form); endLr after totalSteps.
 */
export function cosineDecay(step: number, o: WarmupDecayOptions): number {
  check(o, step, 'cosineDecay');
  const endLr = o.endLr ?? 0;
  if (step < o.warmupSteps) return o.peak * (step / o.warmupSteps);
  const span = o.totalSteps - o.warmupSteps;
  const frac = span > 0 ? Math.min(1, (step - o.warmupSteps) / span) : 1;
  return endLr + (o.peak - endLr) * 0.5 * (1 + Math.cos(Math.PI * frac));
}

export type ScheduleKind = 'linear' | 'constant' | 'cosine';

/** A schedule from config: step → lr. */
export function makeSchedule(kind: ScheduleKind, o: WarmupDecayOptions): (step: number) => number {
  switch (kind) {
    case 'linear': return (s) => linearWarmupLinearDecay(s, o);
    case 'constant': return (s) => constantLr(s, o);
    case 'cosine': return (s) => cosineDecay(s, o);
    default: throw new Error(`makeSchedule: unknown kind ${kind satisfies never}`);
  }
}
