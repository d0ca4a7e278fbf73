// Training curves of a run as a standalone SVG string (pure: no DOM, no dependencies), one renderer per kind:
// renderCurves (pre-training). Input: metrics.jsonl records ({ step, loss, mlmLoss, discLoss, mlmAcc, discAcc,
// discAuc?, discBaseline?, lr }). Six panels, each on its own scale (50·disc dwarfs disc alone): total / MLM / disc
// loss, MLM accuracy, disc accuracy + AUC + all-original baseline, lr. Train solid, other splits ("eval") dashed
// with dots. Resumed runs log steps twice: the last record per (split, step) wins. Missing/null/non-finite values
// are skipped (counted in the legend); series longer than maxPoints keep each bucket's min and max, so spikes survive.
// renderFinetuneCurves (fine-tuning, `electra finetune`'s metrics.jsonl: train records per logged step
// { seed, step, epoch, loss, lr }, dev records per epoch { seed, step, epoch, split: "dev", <metrics>, best }):
// training loss per step with the epoch ends, the dev metric per epoch with each seed's best epoch ringed, the lr.
// isFinetuneRun tells the two record kinds apart.

export interface MetricsRecord { step: number; split?: string; [key: string]: unknown }

/** Parses JSON lines; blank lines are skipped, and so is a torn last line (a run killed mid-write). */
export function parseMetrics(text: string, source = 'metrics.jsonl'): MetricsRecord[] {
  const lines = text.split('\n');
  const out: MetricsRecord[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    let v: unknown;
    try { v = JSON.parse(line); } catch {
      if (lines.slice(i + 1).every((l) => !l.trim())) break; // torn final line
      throw new Error(`${source}:${i + 1}: not valid JSON: ${line.slice(0, 80)}`);
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${source}:${i + 1}: expected a JSON object`);
    const step = (v as { step?: unknown }).step;
    if (typeof step !== 'number' || !Number.isFinite(step)) throw new Error(`${source}:${i + 1}: no numeric "step"`);
    out.push(v as MetricsRecord);
  }
  return out;
}

export interface PlotOptions {
  title?: string;
  /** Points per series before min/max reduction (default 1500). */
  maxPoints?: number;
}

interface Panel { title: string; yLabel: string; series: Array<{ key: string; label: string; color: string; reference?: boolean }>; /** Values are fractions: the axis stays within [0, 1]. */ fraction?: boolean }

const PANELS: Panel[] = [
  { title: 'Total loss (MLM + 50 · disc)', yLabel: 'loss', series: [{ key: 'loss', label: 'total', color: '#1f77b4' }] },
  { title: 'Generator MLM loss', yLabel: 'cross-entropy', series: [{ key: 'mlmLoss', label: 'MLM', color: '#d62728' }] },
  { title: 'Discriminator loss', yLabel: 'binary cross-entropy', series: [{ key: 'discLoss', label: 'disc', color: '#2ca02c' }] },
  { title: 'Generator MLM accuracy', yLabel: 'accuracy', fraction: true, series: [{ key: 'mlmAcc', label: 'MLM acc', color: '#d62728' }] },
  {
    title: 'Discriminator accuracy and AUC', yLabel: 'accuracy / AUC', fraction: true, series: [
      { key: 'discAcc', label: 'disc acc', color: '#2ca02c' }, { key: 'discAuc', label: 'AUC', color: '#9467bd' },
      // Accuracy of answering "original" everywhere: disc acc must beat it to mean anything. Train split only.
      { key: 'discBaseline', label: 'all-original baseline', color: '#8c8c8c', reference: true },
    ],
  },
  { title: 'Learning rate', yLabel: 'lr', series: [{ key: 'lr', label: 'lr', color: '#7f7f7f' }] },
];

const W = 1200, COLS = 3, PANEL_W = W / COLS, PANEL_H = 320, TOP = 78;
const M = { left: 66, right: 28, top: 30, bottom: 72 }; // inside each panel cell
const REF_DASH = '2 3';
const FONT = 'font-family="Helvetica, Arial, sans-serif"';

/** Last record per (split, step), sorted by step; split defaults to "train". */
export function dedupeRecords(records: readonly MetricsRecord[]): Map<string, MetricsRecord[]> {
  const bySplit = new Map<string, Map<number, MetricsRecord>>();
  for (const r of records) {
    const split = typeof r.split === 'string' ? r.split : 'train';
    if (!bySplit.has(split)) bySplit.set(split, new Map());
    bySplit.get(split)!.set(r.step, r);
  }
  const out = new Map<string, MetricsRecord[]>();
  for (const [split, m] of bySplit) out.set(split, [...m.values()].sort((a, b) => a.step - b.step));
  return out;
}

/** Reduces to about `max` points keeping each bucket's min and max (in step order). */
export function reducePoints(pts: Array<[number, number]>, max: number): Array<[number, number]> {
  if (pts.length <= max) return pts;
  const buckets = Math.max(1, Math.floor(max / 2));
  const out: Array<[number, number]> = [];
  for (let b = 0; b < buckets; b++) {
    const lo = Math.floor((b * pts.length) / buckets), hi = Math.floor(((b + 1) * pts.length) / buckets);
    if (hi <= lo) continue;
    let mi = lo, ma = lo;
    for (let i = lo; i < hi; i++) { if (pts[i][1] < pts[mi][1]) mi = i; if (pts[i][1] > pts[ma][1]) ma = i; }
    if (mi === ma) out.push(pts[mi]);
    else for (const i of mi < ma ? [mi, ma] : [ma, mi]) out.push(pts[i]);
  }
  return out;
}

/** "Nice" tick values (1, 2, 5 × 10^k) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, target = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  // Integer multiples, rounded: repeated addition would print 0.30000000000000004.
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) out.push(k === 0 ? 0 : +(k * step).toPrecision(12));
  return out;
}

function fmtTick(v: number, span: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return (+v.toPrecision(4)).toExponential().replace('e+', 'e');
  if (a >= 1000) return v.toLocaleString('en-US', { maximumFractionDigits: 0 });
  const d = Math.max(0, Math.min(6, -Math.floor(Math.log10(span / 5 || 1)) + 1));
  return String(+v.toFixed(d));
}

function fmtValue(v: number): string {
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(2) : String(+v.toPrecision(4));
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (v: number) => String(Math.round(v * 100) / 100);

/** Renders the run's curves; `records` as parsed from metrics.jsonl (any order, duplicates allowed). */
export function renderCurves(records: readonly MetricsRecord[], opts: PlotOptions = {}): string {
  const maxPoints = opts.maxPoints ?? 1500;
  const splits = dedupeRecords(records);
  const train = splits.get('train') ?? [];
  const steps = [...splits.values()].flatMap((rs) => rs.map((r) => r.step));
  const rows = Math.ceil(PANELS.length / COLS);
  const H = TOP + rows * PANEL_H + 10;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="24" y="34" ${FONT} font-size="20" font-weight="bold" fill="#222">${esc(opts.title ?? 'ELECTRA pre-training')}</text>`);
  const last = train[train.length - 1];
  const summary = steps.length === 0
    ? 'no records'
    : [
      `steps ${Math.min(...steps).toLocaleString('en-US')}–${Math.max(...steps).toLocaleString('en-US')}`,
      ...[...splits].map(([s, rs]) => `${rs.length} ${s} records`),
      ...(last ? ([['loss', 'loss'], ['mlmAcc', 'MLM acc'], ['discAcc', 'disc acc'], ['discAuc', 'AUC']] as const)
        .filter(([k]) => typeof last[k] === 'number' && Number.isFinite(last[k]))
        .map(([k, label], i) => `${i === 0 ? `at step ${last.step.toLocaleString('en-US')}: ` : ''}${label} ${fmtValue(last[k] as number)}`) : []),
    ].join('  ·  ');
  out.push(`<text x="24" y="58" ${FONT} font-size="13" fill="#555">${esc(summary)}</text>`);
  // Split legend: line styles, top right.
  const splitNames = [...splits.keys()].sort((a, b) => (a === 'train' ? -1 : b === 'train' ? 1 : a.localeCompare(b)));
  splitNames.forEach((s, i) => {
    const x = W - 24 - (splitNames.length - i) * 110, y = 40;
    out.push(`<line x1="${x}" y1="${y}" x2="${x + 34}" y2="${y}" stroke="#444" stroke-width="2"${s === 'train' ? '' : ' stroke-dasharray="6 4"'}/>`);
    out.push(`<text x="${x + 40}" y="${y + 4}" ${FONT} font-size="13" fill="#444">${esc(s)}</text>`);
  });

  const xs = steps.length ? [Math.min(...steps), Math.max(...steps)] : [0, 1];
  const [x0, x1] = xs[1] > xs[0] ? xs : [xs[0] - 1, xs[0] + 1];
  PANELS.forEach((p, i) => out.push(panel(p, splits, splitNames, (i % COLS) * PANEL_W, TOP + Math.floor(i / COLS) * PANEL_H, x0, x1, maxPoints)));
  out.push('</svg>');
  return out.join('\n') + '\n';
}

interface Line { color: string; dash: string; pts: Array<[number, number]>; label: string; skipped: number; dots: boolean }
/** A ringed point with a short label above it (the best epoch). */
interface Mark { x: number; y: number; color: string; label: string }
interface PanelDrawing {
  title: string; yLabel: string; xLabel: string; lines: Line[]; fraction?: boolean;
  marks?: Mark[]; /** Thin vertical guides (epoch ends). */ guides?: number[]; /** Fixed x ticks (epochs are integers). */ xTicks?: number[];
}

function panel(p: Panel, splits: Map<string, MetricsRecord[]>, splitNames: string[], ox: number, oy: number, x0: number, x1: number, maxPoints: number): string {
  const lines: Line[] = [];
  for (const s of p.series) {
    for (const split of s.reference ? splitNames.filter((n) => n === 'train') : splitNames) {
      const recs = splits.get(split)!;
      const pts: Array<[number, number]> = [];
      let skipped = 0;
      for (const r of recs) {
        if (!(s.key in r)) continue;
        const v = r[s.key];
        if (typeof v === 'number' && Number.isFinite(v)) pts.push([r.step, v]); else skipped++;
      }
      const dash = s.reference ? REF_DASH : split === 'train' ? '' : '6 4';
      if (pts.length || skipped) {
        lines.push({ color: s.color, dash, dots: split !== 'train', pts: reducePoints(pts, maxPoints), label: `${s.label}${split === 'train' ? '' : ` (${split})`}`, skipped });
      }
    }
  }
  return drawPanel({ title: p.title, yLabel: p.yLabel, xLabel: 'step', lines, fraction: p.fraction }, ox, oy, x0, x1);
}

function drawPanel(d: PanelDrawing, ox: number, oy: number, x0: number, x1: number): string {
  const pw = PANEL_W - M.left - M.right, ph = PANEL_H - M.top - M.bottom;
  const left = ox + M.left, top = oy + M.top;
  const { lines } = d;
  const ys = lines.flatMap((l) => l.pts.map(([, y]) => y));
  let y0 = ys.length ? Math.min(...ys) : 0, y1 = ys.length ? Math.max(...ys) : 1;
  if (d.fraction) { y0 = Math.max(0, y0); y1 = Math.min(1, y1); }
  if (!(y1 > y0)) { const d = Math.abs(y0) * 0.1 || 0.5; y0 -= d; y1 += d; }
  const pad = (y1 - y0) * 0.06;
  y0 -= pad; y1 += pad * (d.marks?.length ? 3 : 1); // room above a ringed point for its label
  if (ys.length && Math.min(...ys) >= 0 && y0 < 0) y0 = 0;
  const yt = niceTicks(y0, y1, 5), xt = d.xTicks ?? niceTicks(x0, x1, 5);
  const X = (x: number) => left + ((x - x0) / (x1 - x0)) * pw;
  const Y = (y: number) => top + ph - ((y - y0) / (y1 - y0)) * ph;

  const o: string[] = [`<g class="panel">`];
  o.push(`<text x="${num(left)}" y="${num(oy + 20)}" ${FONT} font-size="14" font-weight="bold" fill="#222">${esc(d.title)}</text>`);
  o.push(`<rect x="${num(left)}" y="${num(top)}" width="${num(pw)}" height="${num(ph)}" fill="#fafafa" stroke="#bbb"/>`);
  for (const v of yt) {
    if (v < y0 || v > y1) continue;
    o.push(`<line x1="${num(left)}" y1="${num(Y(v))}" x2="${num(left + pw)}" y2="${num(Y(v))}" stroke="#e4e4e4"/>`);
    o.push(`<text x="${num(left - 6)}" y="${num(Y(v) + 4)}" ${FONT} font-size="11" fill="#555" text-anchor="end">${esc(fmtTick(v, y1 - y0))}</text>`);
  }
  for (const v of xt) {
    if (v < x0 || v > x1) continue;
    o.push(`<line x1="${num(X(v))}" y1="${num(top)}" x2="${num(X(v))}" y2="${num(top + ph)}" stroke="#eeeeee"/>`);
    o.push(`<line x1="${num(X(v))}" y1="${num(top + ph)}" x2="${num(X(v))}" y2="${num(top + ph + 4)}" stroke="#888"/>`);
    o.push(`<text x="${num(X(v))}" y="${num(top + ph + 17)}" ${FONT} font-size="11" fill="#555" text-anchor="middle">${esc(fmtTick(v, x1 - x0))}</text>`);
  }
  for (const g of d.guides ?? []) {
    if (g > x0 && g < x1) o.push(`<line x1="${num(X(g))}" y1="${num(top)}" x2="${num(X(g))}" y2="${num(top + ph)}" stroke="#b0b0b0" stroke-dasharray="1 3"/>`);
  }
  o.push(`<text x="${num(left + pw / 2)}" y="${num(top + ph + 34)}" ${FONT} font-size="12" fill="#444" text-anchor="middle">${esc(d.xLabel)}</text>`);
  o.push(`<text transform="translate(${num(ox + 16)} ${num(top + ph / 2)}) rotate(-90)" ${FONT} font-size="12" fill="#444" text-anchor="middle">${esc(d.yLabel)}</text>`);
  const dashAttr = (d: string) => (d ? ` stroke-dasharray="${d}"` : '');
  // Reference lines (dotted) first, so the measured curves are drawn over them.
  for (const l of [...lines.filter((x) => x.dash === REF_DASH), ...lines.filter((x) => x.dash !== REF_DASH)]) {
    if (l.pts.length === 0) continue;
    const pts = l.pts.map(([x, y]) => `${num(X(x))},${num(Y(y))}`).join(' ');
    o.push(`<polyline fill="none" stroke="${l.color}" stroke-width="${l.dots ? 1.8 : 1.6}" stroke-linejoin="round"${dashAttr(l.dash)} points="${pts}"/>`);
    // Dots where a line alone would not show: eval points (sparse) and single-point series.
    if (l.dots || l.pts.length === 1) {
      for (const [x, y] of l.pts.length <= 200 ? l.pts : []) o.push(`<circle cx="${num(X(x))}" cy="${num(Y(y))}" r="2.8" fill="${l.color}"/>`);
    }
  }
  for (const m of d.marks ?? []) {
    o.push(`<circle class="mark" cx="${num(X(m.x))}" cy="${num(Y(m.y))}" r="7" fill="none" stroke="${m.color}" stroke-width="2"/>`);
    o.push(`<text x="${num(X(m.x))}" y="${num(Y(m.y) - 12)}" ${FONT} font-size="11" font-weight="bold" fill="${m.color}" text-anchor="middle">${esc(m.label)}</text>`);
  }
  if (lines.every((l) => l.pts.length === 0)) {
    o.push(`<text x="${num(left + pw / 2)}" y="${num(top + ph / 2)}" ${FONT} font-size="13" fill="#999" text-anchor="middle">no data</text>`);
  }
  // Legend under the axis label: one entry per drawn series, wrapping to a second row.
  let lx = left, ly = oy + PANEL_H - 26;
  for (const l of lines) {
    const label = l.label + (l.skipped ? ` (${l.skipped} missing)` : '');
    const width = 38 + label.length * 6.6;
    if (lx > left && lx + width > left + pw + M.right) { lx = left; ly += 15; }
    o.push(`<line x1="${num(lx)}" y1="${num(ly)}" x2="${num(lx + 22)}" y2="${num(ly)}" stroke="${l.color}" stroke-width="2"${dashAttr(l.dash)}/>`);
    o.push(`<text x="${num(lx + 27)}" y="${num(ly + 4)}" ${FONT} font-size="11" fill="#444">${esc(label)}</text>`);
    lx += width;
  }
  o.push('</g>');
  return o.join('\n');
}

// ---- fine-tuning runs ------------------------------------------------------------------------------

/** True for `electra finetune`'s records (dev records per epoch, or epochs without any pre-training loss). */
export function isFinetuneRun(records: readonly MetricsRecord[]): boolean {
  return records.some((r) => r.split === 'dev') || (records.some((r) => typeof r.epoch === 'number') && !records.some((r) => 'mlmLoss' in r));
}

export interface FinetunePlotOptions extends PlotOptions {
  /** The dev metric that picked the best epoch (eval.json's "metric"); default: the first of accuracy, spearman,
   *  f1 that the dev records hold. */
  metric?: string;
}

/** Seed palette: one color per seed of a `--runs N` run. */
const SEED_COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f'];

/** Renders a fine-tuning run: training loss per step, the dev metric per epoch with the best epoch ringed, the lr. */
export function renderFinetuneCurves(records: readonly MetricsRecord[], opts: FinetunePlotOptions = {}): string {
  const maxPoints = opts.maxPoints ?? 1500;
  // One run per seed (a single run logs seed 0, or none in a hand-made file); within it the last record per
  // (split, step) wins, as for pre-training.
  const seeds = new Map<number, MetricsRecord[]>();
  for (const r of records) {
    const seed = typeof r.seed === 'number' ? r.seed : 0;
    if (!seeds.has(seed)) seeds.set(seed, []);
    seeds.get(seed)!.push(r);
  }
  const runs = [...seeds].sort(([a], [b]) => a - b).map(([seed, rs], i) => {
    const bySplit = dedupeRecords(rs);
    return { seed, color: SEED_COLORS[i % SEED_COLORS.length], train: bySplit.get('train') ?? [], dev: (bySplit.get('dev') ?? []).filter((r) => typeof r.epoch === 'number') };
  });
  const metric = opts.metric ?? ['accuracy', 'spearman', 'f1'].find((k) => runs.some((r) => r.dev.some((d) => typeof d[k] === 'number'))) ?? 'accuracy';
  const label = (seed: number, what: string) => (runs.length > 1 ? `${what} (seed ${seed})` : what);
  const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  const series = (rs: MetricsRecord[], key: string, x: (r: MetricsRecord) => number) => {
    const pts: Array<[number, number]> = [];
    let skipped = 0;
    for (const r of rs) if (key in r) { if (finite(r[key])) pts.push([x(r), r[key] as number]); else skipped++; }
    return { pts, skipped };
  };

  const loss: Line[] = [], lr: Line[] = [], dev: Line[] = [], marks: Mark[] = [];
  const best: Array<{ seed: number; epoch: number; value: number }> = [];
  for (const run of runs) {
    const l = series(run.train, 'loss', (r) => r.step);
    if (l.pts.length || l.skipped) loss.push({ color: run.color, dash: '', dots: false, pts: reducePoints(l.pts, maxPoints), label: label(run.seed, 'train loss'), skipped: l.skipped });
    const q = series(run.train, 'lr', (r) => r.step);
    if (q.pts.length) lr.push({ color: run.color, dash: '', dots: false, pts: reducePoints(q.pts, maxPoints), label: label(run.seed, 'lr'), skipped: q.skipped });
    const m = series(run.dev, metric, (r) => r.epoch as number);
    if (m.pts.length || m.skipped) dev.push({ color: run.color, dash: '', dots: true, pts: m.pts, label: label(run.seed, `dev ${metric}`), skipped: m.skipped });
    // The best epoch is the last one flagged best (each flag marks a new best); files without flags: the maximum.
    const flagged = run.dev.filter((r) => r.best === true && finite(r[metric]));
    const top = flagged.length ? flagged[flagged.length - 1] : run.dev.filter((r) => finite(r[metric])).reduce<MetricsRecord | null>((a, r) => (!a || (r[metric] as number) > (a[metric] as number) ? r : a), null);
    if (top) {
      best.push({ seed: run.seed, epoch: top.epoch as number, value: top[metric] as number });
      marks.push({ x: top.epoch as number, y: top[metric] as number, color: run.color, label: runs.length > 1 ? `best ${run.seed}` : 'best' });
    }
  }
  const steps = runs.flatMap((r) => [...r.train, ...r.dev].map((x) => x.step));
  const epochs = runs.flatMap((r) => r.dev.map((x) => x.epoch as number));
  // Epoch ends on the step axis: the steps at which the (first) run evaluated.
  const guides = runs.length ? runs[0].dev.map((r) => r.step) : [];
  const range = (xs: number[], pad: number): [number, number] => {
    if (!xs.length) return [0, 1];
    const lo = Math.min(...xs), hi = Math.max(...xs);
    return hi > lo ? [lo - pad, hi + pad] : [lo - 1, hi + 1];
  };
  const [s0, s1] = range(steps, 0), [e0, e1] = range(epochs, 0.25);
  const epochTicks = epochs.length && Math.max(...epochs) <= 30 ? Array.from({ length: Math.max(...epochs) }, (_, i) => i + 1).filter((e) => e >= e0 && e <= e1) : undefined;
  const devValues = dev.flatMap((l) => l.pts.map(([, y]) => y));

  const H = TOP + PANEL_H + 10;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="24" y="34" ${FONT} font-size="20" font-weight="bold" fill="#222">${esc(opts.title ?? 'ELECTRA fine-tuning')}</text>`);
  const summary = steps.length === 0 ? 'no records' : [
    `${Math.max(...steps).toLocaleString('en-US')} steps`,
    `${epochs.length ? Math.max(...epochs) : 0} epochs`,
    ...(runs.length > 1 ? [`${runs.length} seeds`] : []),
    ...best.map((b) => `${runs.length > 1 ? `seed ${b.seed}: ` : ''}best epoch ${b.epoch}, dev ${metric} ${fmtValue(b.value)}`),
  ].join('  ·  ');
  out.push(`<text x="24" y="58" ${FONT} font-size="13" fill="#555">${esc(summary)}</text>`);
  out.push(drawPanel({ title: 'Training loss per step', yLabel: 'loss', xLabel: 'step (dotted: epoch ends)', lines: loss, guides }, 0, TOP, s0, s1));
  out.push(drawPanel({
    title: `Dev ${metric} per epoch`, yLabel: metric, xLabel: 'epoch', lines: dev, marks, xTicks: epochTicks,
    fraction: devValues.length > 0 && devValues.every((v) => v >= 0 && v <= 1),
  }, PANEL_W, TOP, e0, e1));
  out.push(drawPanel({ title: 'Learning rate', yLabel: 'lr', xLabel: 'step', lines: lr }, 2 * PANEL_W, TOP, s0, s1));
  out.push('</svg>');
  return out.join('\n') + '\n';
}
