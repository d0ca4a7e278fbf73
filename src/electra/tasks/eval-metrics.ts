// Fine-tuning metrics on host arrays (plain numbers, float64), as the references compute them:
// accuracy; macro-F1 over the classes present in gold or predictions (sklearn's default); multiclass MCC
// (sklearn's matthews_corrcoef, Gorodkin's R_K, = the binary formula for 2 classes); Pearson; Spearman
// (Pearson of average ranks, ties share their mean rank, as scipy); token-level accuracy / macro-F1 for tagging;
// SQuAD v1.1 exact match and F1 with the official answer normalisation; a confusion matrix (rows gold, columns
// predicted). Degenerate inputs give NaN where the reference gives NaN/undefined, 0 where sklearn gives 0.

function sameLength(what: string, a: ArrayLike<unknown>, b: ArrayLike<unknown>): void {
  if (a.length !== b.length) throw new Error(`${what}: ${a.length} predictions for ${b.length} gold labels`);
}

export function accuracy(pred: ArrayLike<number>, gold: ArrayLike<number>): number {
  sameLength('accuracy', pred, gold);
  if (gold.length === 0) return NaN;
  let ok = 0;
  for (let i = 0; i < gold.length; i++) if (pred[i] === gold[i]) ok++;
  return ok / gold.length;
}

/** cm[g][p] = number of items with gold class g predicted as p; classes are 0..k-1. */
export function confusionMatrix(pred: ArrayLike<number>, gold: ArrayLike<number>, k: number): number[][] {
  sameLength('confusionMatrix', pred, gold);
  const cm = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < gold.length; i++) {
    const g = gold[i], p = pred[i];
    if (!(Number.isInteger(g) && g >= 0 && g < k) || !(Number.isInteger(p) && p >= 0 && p < k)) {
      throw new RangeError(`confusionMatrix: item ${i} has gold ${g}, predicted ${p}; classes are 0..${k - 1}`);
    }
    cm[g][p]++;
  }
  return cm;
}

function classesOf(pred: ArrayLike<number>, gold: ArrayLike<number>): number {
  let k = 0;
  for (let i = 0; i < gold.length; i++) k = Math.max(k, gold[i] + 1, pred[i] + 1);
  return k;
}

/** Per-class precision, recall, F1 and support from a confusion matrix (0 when undefined, as sklearn with zero_division=0). */
export function perClass(cm: number[][]): { precision: number; recall: number; f1: number; support: number; predicted: number }[] {
  const k = cm.length;
  return cm.map((row, c) => {
    const tp = row[c];
    const support = row.reduce((a, b) => a + b, 0);
    let predicted = 0;
    for (let g = 0; g < k; g++) predicted += cm[g][c];
    const precision = predicted ? tp / predicted : 0, recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    return { precision, recall, f1, support, predicted };
  });
}

/** Unweighted mean of per-class F1 over the classes that occur in gold or predictions. */
export function macroF1(pred: ArrayLike<number>, gold: ArrayLike<number>, k = classesOf(pred, gold)): number {
  sameLength('macroF1', pred, gold);
  if (gold.length === 0) return NaN;
  const pc = perClass(confusionMatrix(pred, gold, k)).filter((c) => c.support > 0 || c.predicted > 0);
  return pc.reduce((a, c) => a + c.f1, 0) / pc.length;
}

/** F1 of one class (binary F1 of the positive class, e.g. GLUE MRPC/QQP with positive = 1). */
export function f1Of(pred: ArrayLike<number>, gold: ArrayLike<number>, positive: number): number {
  sameLength('f1Of', pred, gold);
  let tp = 0, fp = 0, fn = 0;
  for (let i = 0; i < gold.length; i++) {
    if (pred[i] === positive && gold[i] === positive) tp++;
    else if (pred[i] === positive) fp++;
    else if (gold[i] === positive) fn++;
  }
  return tp ? (2 * tp) / (2 * tp + fp + fn) : 0;
}

/**
 * Matthews correlation coefficient, multiclass (sklearn): (c·s − Σ p_k t_k) / sqrt((s² − Σ p_k²)(s² − Σ t_k²)) with
 * c correct, s samples, p_k / t_k predicted / true counts of class k. 0 when a denominator factor is 0 (as sklearn).
 */
export function mcc(pred: ArrayLike<number>, gold: ArrayLike<number>, k = classesOf(pred, gold)): number {
  sameLength('mcc', pred, gold);
  if (gold.length === 0) return NaN;
  const cm = confusionMatrix(pred, gold, k);
  const s = gold.length;
  let c = 0, pt = 0, pp = 0, tt = 0;
  for (let j = 0; j < k; j++) {
    c += cm[j][j];
    let t = 0, p = 0;
    for (let i = 0; i < k; i++) { t += cm[j][i]; p += cm[i][j]; }
    pt += p * t; pp += p * p; tt += t * t;
  }
  const den = Math.sqrt((s * s - pp) * (s * s - tt));
  return den === 0 ? 0 : (c * s - pt) / den;
}

/** Pearson correlation; NaN when either side is constant or there are fewer than 2 items. */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  sameLength('pearson', x, y);
  const n = x.length;
  if (n < 2) return NaN;
  let mx = 0, my = 0;
  for (let i = 0; i < n; i++) { mx += x[i]; my += y[i]; }
  mx /= n; my /= n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx, dy = y[i] - my;
    sxy += dx * dy; sxx += dx * dx; syy += dy * dy;
  }
  return sxx === 0 || syy === 0 ? NaN : sxy / Math.sqrt(sxx * syy);
}

/** 1-based ranks, ties sharing their mean rank (scipy.stats.rankdata 'average'). */
export function ranks(x: ArrayLike<number>): Float64Array {
  const idx = Array.from({ length: x.length }, (_, i) => i).sort((a, b) => x[a] - x[b]);
  const r = new Float64Array(x.length);
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && x[idx[j + 1]] === x[idx[i]]) j++;
    for (let q = i; q <= j; q++) r[idx[q]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return r;
}

export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  sameLength('spearman', x, y);
  return pearson(ranks(x), ranks(y));
}

/**
 * Token-level tagging metrics over the scored words of every sentence: accuracy (= micro-F1 for one tag per
 * word) and macro-F1 over the tags seen. `pred`/`gold` are per-sentence tag ids; a null prediction (a word that
 * got no sub-token, e.g. truncated away) is left out of both and counted in `unscored`.
 */
export function tokenMetrics(pred: ArrayLike<number | null>[], gold: ArrayLike<number>[], k: number): { accuracy: number; macroF1: number; scored: number; unscored: number } {
  sameLength('tokenMetrics', pred, gold);
  const p: number[] = [], g: number[] = [];
  let unscored = 0;
  gold.forEach((gs, s) => {
    sameLength(`tokenMetrics (sentence ${s})`, pred[s], gs);
    for (let i = 0; i < gs.length; i++) {
      const x = pred[s][i];
      if (x === null) unscored++; else { p.push(x); g.push(gs[i]); }
    }
  });
  return { accuracy: accuracy(p, g), macroF1: macroF1(p, g, k), scored: g.length, unscored };
}

// ---- SQuAD v1.1 (official evaluate-v1.1.py) ------------------------------------------------------

/** Lower case, punctuation removed, articles (a, an, the) removed, whitespace collapsed. */
export function normalizeAnswer(s: string): string {
  // string.punctuation: ASCII 33–47, 58–64, 91–96, 123–126.
  const noPunct = s.toLowerCase().replace(/[!-/:-@[-`{-~]/g, '');
  return noPunct.replace(/\b(a|an|the)\b/g, ' ').split(/\s+/).filter(Boolean).join(' ');
}

export function exactMatch(prediction: string, truth: string): number {
  return normalizeAnswer(prediction) === normalizeAnswer(truth) ? 1 : 0;
}

/** Bag-of-tokens F1 between the normalised prediction and truth. */
export function squadF1(prediction: string, truth: string): number {
  const p = normalizeAnswer(prediction).split(' ').filter(Boolean), t = normalizeAnswer(truth).split(' ').filter(Boolean);
  // SQuAD v2 (an unanswerable question has the gold answer ''): empty vs empty is a match, else 0.
  if (p.length === 0 || t.length === 0) return p.length === t.length ? 1 : 0;
  const counts = new Map<string, number>();
  for (const w of t) counts.set(w, (counts.get(w) ?? 0) + 1);
  let same = 0;
  for (const w of p) {
    const c = counts.get(w) ?? 0;
    if (c > 0) { same++; counts.set(w, c - 1); }
  }
  if (same === 0) return 0;
  const precision = same / p.length, recall = same / t.length;
  return (2 * precision * recall) / (precision + recall);
}

/** Mean over questions of the best EM / F1 against any gold answer, in percent (as the official script). */
export function squadScores(predictions: string[], goldAnswers: string[][]): { exactMatch: number; f1: number } {
  sameLength('squadScores', predictions, goldAnswers);
  if (predictions.length === 0) return { exactMatch: NaN, f1: NaN };
  let em = 0, f1 = 0;
  predictions.forEach((p, i) => {
    const golds = goldAnswers[i].length ? goldAnswers[i] : [''];
    em += Math.max(...golds.map((g) => exactMatch(p, g)));
    f1 += Math.max(...golds.map((g) => squadF1(p, g)));
  });
  return { exactMatch: (100 * em) / predictions.length, f1: (100 * f1) / predictions.length };
}

/** The middle value (mean of the two middle values for an even count); NaN values are ignored. */
export function median(xs: readonly number[]): number {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
