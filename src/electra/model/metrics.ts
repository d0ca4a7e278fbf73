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

/**
 * Host-side tallies over one or more steps. Pooling counts (not averaging per-batch ratios) keeps eval
 * metrics exact over many batches: precision stays defined when one batch flags nothing, and AUC ranks
 * every token of every batch together.
 */
export class MetricsTally {
  private steps = 0; private loss = 0; private mlmLoss = 0; private discLoss = 0; private hasDisc = false;
  private slots = 0; private right = 0;
  private tokens = 0; private correct = 0; private fake = 0; private flagged = 0; private hits = 0;
  private scores: number[] = []; private labels: number[] = [];
  // Losses weighted by each step's slots / real tokens, for means over all of them (held-out perplexity).
  private mlmLossSum = 0; private discLossSum = 0;

  async add(r: StepResult): Promise<void> {
    this.steps++;
    this.loss += await r.loss.item();
    const mlm = await r.mlmLoss.item(), slots0 = this.slots, tokens0 = this.tokens;
    this.mlmLoss += mlm;
    const pred = await r.mlmPred.data(), tgt = await r.mlmTargets.data();
    for (let i = 0; i < tgt.length; i++) if (tgt[i] >= 0) { this.slots++; if (pred[i] === tgt[i]) this.right++; }
    this.mlmLossSum += mlm * (this.slots - slots0);
    if (!(r.discLogits && r.discLabels && r.discLoss)) return;
    this.hasDisc = true;
    const disc = await r.discLoss.item();
    this.discLoss += disc;
    const logits = await r.discLogits.data(), labels = await r.discLabels.data(), mask = await r.realMask.data();
    for (let i = 0; i < logits.length; i++) {
      if (!mask[i]) continue;
      const p = logits[i] > 0 ? 1 : 0, y = labels[i];
      this.tokens++;
      if (p === y) this.correct++;
      this.fake += y; this.flagged += p; this.hits += p * y;
      this.scores.push(logits[i]); this.labels.push(y);
    }
    this.discLossSum += disc * (this.tokens - tokens0);
  }

  /** Masked slots and real tokens seen, and the mean MLM cross-entropy per slot and BCE per token over all of them. */
  totals(): { slots: number; tokens: number; mlmLoss: number; discLoss: number | null } {
    return { slots: this.slots, tokens: this.tokens, mlmLoss: this.mlmLossSum / this.slots, discLoss: this.hasDisc ? this.discLossSum / this.tokens : null };
  }

  /** Losses are means over the added steps; accuracies, recall, precision and AUC pool every slot/token. */
  metrics(): StepMetrics {
    const n = this.steps;
    const out: StepMetrics = {
      loss: this.loss / n, mlmLoss: this.mlmLoss / n, discLoss: null, mlmAcc: this.slots ? this.right / this.slots : NaN,
      discAcc: null, discAuc: null, replaced: null, discBaseline: null, discRecall: null, discPrecision: null,
    };
    if (!this.hasDisc) return out;
    out.discLoss = this.discLoss / n;
    out.discRecall = this.fake ? this.hits / this.fake : NaN;
    out.discPrecision = this.flagged ? this.hits / this.flagged : NaN;
    out.discAcc = this.correct / this.tokens;
    out.replaced = this.fake / this.tokens;
    out.discBaseline = 1 - this.fake / this.tokens;
    out.discAuc = auc(this.scores, this.labels);
    return out;
  }
}

/** Metrics of one step. */
export async function stepMetrics(r: StepResult): Promise<StepMetrics> {
  const t = new MetricsTally();
  await t.add(r);
  return t.metrics();
}
