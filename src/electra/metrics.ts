// Pre-training metrics on host copies (read back only at log/eval steps): MLM accuracy over used
// slots, discriminator accuracy / AUC over real tokens, and the fraction of tokens replaced —
// the authors' eval metrics (spec §7.5: masked_lm_accuracy, disc_accuracy, disc_auc, …).

import type { StepResult } from './pretrain.js';

export interface StepMetrics {
  loss: number; mlmLoss: number; discLoss: number | null;
  mlmAcc: number; discAcc: number | null; discAuc: number | null; replaced: number | null;
  /** Of the replaced tokens, the fraction flagged (logit > 0); of the flagged, the fraction replaced. */
  discRecall: number | null; discPrecision: number | null;
  /** Accuracy of always answering "original": the baseline discAcc must beat. */
  discBaseline: number | null;
}

/** Area under the ROC curve by ranks (ties share their mean rank); NaN when one class is absent. */
export function auc(scores: ArrayLike<number>, labels: ArrayLike<number>, include?: ArrayLike<number>): number {
  const idx: number[] = [];
  for (let i = 0; i < scores.length; i++) if (!include || include[i]) idx.push(i);
  idx.sort((a, b) => scores[a] - scores[b]);
  let pos = 0, rankSum = 0;
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1]] === scores[idx[i]]) j++;
    const mean = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (labels[idx[k]]) { pos++; rankSum += mean; }
    i = j + 1;
  }
  const neg = idx.length - pos;
  if (pos === 0 || neg === 0) return NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

export async function stepMetrics(r: StepResult): Promise<StepMetrics> {
  const [loss, mlmLoss] = [await r.loss.item(), await r.mlmLoss.item()];
  const pred = await r.mlmPred.data(), tgt = await r.mlmTargets.data();
  let right = 0, used = 0;
  for (let i = 0; i < tgt.length; i++) if (tgt[i] >= 0) { used++; if (pred[i] === tgt[i]) right++; }
  const out: StepMetrics = { loss, mlmLoss, discLoss: null, mlmAcc: used ? right / used : NaN, discAcc: null, discAuc: null, replaced: null, discBaseline: null, discRecall: null, discPrecision: null };
  if (r.discLogits && r.discLabels && r.discLoss) {
    out.discLoss = await r.discLoss.item();
    const logits = await r.discLogits.data(), labels = await r.discLabels.data(), mask = await r.realMask.data();
    let n = 0, ok = 0, fake = 0, flagged = 0, hit = 0;
    for (let i = 0; i < logits.length; i++) {
      if (!mask[i]) continue;
      n++;
      const pred = logits[i] > 0 ? 1 : 0;
      if (pred === labels[i]) ok++;
      fake += labels[i];
      flagged += pred;
      hit += pred * labels[i];
    }
    out.discRecall = fake ? hit / fake : NaN;
    out.discPrecision = flagged ? hit / flagged : NaN;
    out.discAcc = ok / n;
    out.replaced = fake / n;
    out.discBaseline = 1 - fake / n;
    out.discAuc = auc(logits, labels, mask);
  }
  return out;
}
