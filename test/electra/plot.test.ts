// Training-curve SVGs: well-formed XML, one polyline point per logged step and series, train vs eval styles,
// resumed runs (last record per step wins), missing/null values, a single point, no data, torn metrics files,
// and the `electra plot` command writing RUN/curves.svg. Fine-tuning runs: told apart from pre-training, training
// loss per step, the dev metric per epoch with the best epoch ringed (one line and ring per seed), eval.json's metric.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type MetricsRecord, dedupeRecords, isFinetuneRun, niceTicks, parseMetrics, reducePoints, renderCurves, renderFinetuneCurves } from '../../src/electra/model/plot.js';
import { run as plotCli } from '../../src/cli/plot.js';

const s = suite('electra plot');

/** Tag balance and attribute syntax: enough to catch any unclosed or mis-nested element we could emit. */
function assertWellFormed(svg: string): void {
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'), 'root element');
  const stack: string[] = [];
  const re = /<(\/?)([a-zA-Z][\w-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0, m: RegExpExecArray | null;
  while ((m = re.exec(svg))) {
    const between = svg.slice(last, m.index);
    assert.not.match(between, /[<>]/, `stray markup before offset ${m.index}: ${between.slice(0, 60)}`);
    assert.not.match(between, /&(?!amp;|lt;|gt;|quot;)/, 'unescaped &');
    last = re.lastIndex;
    const [, close, name, , self] = m;
    if (close) assert.is(stack.pop(), name, `</${name}> closes the open element`);
    else if (!self) stack.push(name);
  }
  assert.is(svg.slice(last).trim(), '', 'nothing after the root');
  assert.equal(stack, [], 'every element closed');
  assert.not.match(svg, /NaN|Infinity|undefined/);
}

const polylines = (svg: string) => [...svg.matchAll(/<polyline ([^>]*)\/>/g)].map((m) => ({
  attrs: m[1],
  points: /points="([^"]*)"/.exec(m[1])![1].trim().split(/\s+/).map((p) => p.split(',').map(Number)),
  dashed: m[1].includes('stroke-dasharray'),
  color: /stroke="([^"]*)"/.exec(m[1])![1],
}));

function rec(step: number, extra: Partial<MetricsRecord> = {}): MetricsRecord {
  return { step, loss: 40 - step, mlmLoss: 10 - step / 10, discLoss: 0.6 - step / 100, mlmAcc: step / 100, discAcc: 0.8 + step / 1000, lr: 1e-4 * step, tokensPerSec: 1000, ...extra };
}

s('one polyline point per record and series; eval dashed; AUC only when logged', () => {
  const records = [1, 2, 3, 4, 5].map((k) => rec(k * 10)).concat([rec(20, { split: 'eval' }), rec(50, { split: 'eval' })]);
  const svg = renderCurves(records, { title: 'ELECTRA pre-training: run <a & b>' });
  assertWellFormed(svg);
  assert.ok(svg.includes('run &lt;a &amp; b&gt;'), 'title escaped');
  const pl = polylines(svg);
  // 6 metrics (loss, mlmLoss, discLoss, mlmAcc, discAcc, lr), each for train and for eval.
  assert.is(pl.filter((p) => !p.dashed).length, 6);
  assert.is(pl.filter((p) => p.dashed).length, 6);
  for (const p of pl) assert.is(p.points.length, p.dashed ? 2 : 5);
  assert.not.ok(svg.includes('>AUC<'), 'no AUC legend without discAuc');
  // x grows with step; a falling loss is drawn going down the page (y grows).
  const loss = pl[0].points;
  for (let i = 1; i < loss.length; i++) { assert.ok(loss[i][0] > loss[i - 1][0]); assert.ok(loss[i][1] > loss[i - 1][1]); }
  const withAuc = renderCurves(records.map((r) => ({ ...r, discAuc: 0.7 })));
  assertWellFormed(withAuc);
  assert.is(polylines(withAuc).length, 14);
  assert.ok(withAuc.includes('>AUC<'));
});

s('resumed runs: duplicate steps keep the last record, in step order', () => {
  const first = [1, 2, 3, 4].map((k) => rec(k));
  const resumed = [3, 4, 5].map((k) => rec(k, { loss: 100 + k }));
  const d = dedupeRecords([...first, ...resumed]).get('train')!;
  assert.equal(d.map((r) => r.step), [1, 2, 3, 4, 5]);
  assert.equal(d.map((r) => r.loss), [39, 38, 103, 104, 105]);
  const svg = renderCurves([...first, ...resumed]);
  assertWellFormed(svg);
  assert.is(polylines(svg)[0].points.length, 5);
});

s('missing, null and non-finite values are skipped and counted; a single point and no data render', () => {
  const records = [rec(1), rec(2, { loss: null }), rec(3, { loss: Number.NaN }), rec(4)];
  delete records[3].mlmAcc;
  const svg = renderCurves(records);
  assertWellFormed(svg);
  const pl = polylines(svg);
  assert.is(pl[0].points.length, 2, 'loss: null and NaN skipped');
  assert.ok(svg.includes('total (2 missing)'));
  assert.is(pl[3].points.length, 3, 'mlmAcc: the record without it is not a point');

  const one = renderCurves([rec(7)]);
  assertWellFormed(one);
  assert.ok(polylines(one).every((p) => p.points.length === 1));
  assert.ok((one.match(/<circle /g) ?? []).length >= 6, 'single points get a dot');

  const empty = renderCurves([]);
  assertWellFormed(empty);
  assert.is(polylines(empty).length, 0);
  assert.ok(empty.includes('no data'));
  // All values constant: a flat line in the middle of a finite range.
  const flat = renderCurves([rec(1, { loss: 5 }), rec(2, { loss: 5 })]);
  assertWellFormed(flat);
});

s('long runs are reduced per bucket to min/max, keeping spikes', () => {
  const pts: Array<[number, number]> = Array.from({ length: 10000 }, (_, i) => [i, i === 4321 ? 99 : Math.sin(i)]);
  const r = reducePoints(pts, 1000);
  assert.ok(r.length <= 1000 && r.length >= 500, `${r.length} points`);
  assert.ok(r.some(([x, y]) => x === 4321 && y === 99), 'spike kept');
  for (let i = 1; i < r.length; i++) assert.ok(r[i][0] > r[i - 1][0], 'step order');
  const svg = renderCurves(Array.from({ length: 3000 }, (_, i) => rec(i + 1)), { maxPoints: 400 });
  assertWellFormed(svg);
  assert.ok(polylines(svg).every((p) => p.points.length <= 400));
});

s('ticks: 1-2-5 steps covering the range', () => {
  assert.equal(niceTicks(0, 1000, 5), [0, 200, 400, 600, 800, 1000]);
  assert.equal(niceTicks(0.83, 0.97, 5), [0.85, 0.9, 0.95]);
  assert.equal(niceTicks(0, 1e-3, 4), [0, 0.00025, 0.0005, 0.00075, 0.001]);
  const t = niceTicks(3.2, 13.1, 5);
  assert.ok(t[0] >= 3.2 && t.at(-1)! <= 13.1 && t.length >= 3, t.join(','));
  assert.equal(niceTicks(5, 5), [5]);
  const svg = renderCurves([rec(1, { lr: 0 }), rec(2, { lr: 1e-3 })]);
  assert.ok(svg.includes('>2.5e-4<') || svg.includes('>2e-4<'), 'small lr ticks in exponent form, not rounded away');
});

s('parseMetrics: blank lines and a torn last line are skipped; other bad lines fail with their number', () => {
  const text = [JSON.stringify(rec(1)), '', JSON.stringify(rec(2)), '{"step": 3, "loss"'].join('\n');
  assert.equal(parseMetrics(text).map((r) => r.step), [1, 2]);
  assert.throws(() => parseMetrics(['{"step": 1}', 'oops', '{"step": 2}'].join('\n'), 'run/metrics.jsonl'), /run\/metrics\.jsonl:2: not valid JSON/);
  assert.throws(() => parseMetrics('{"loss": 1}\n', 'm'), /m:1: no numeric "step"/);
  assert.throws(() => parseMetrics('[1]\n', 'm'), /expected a JSON object/);
});

s('electra plot RUN writes RUN/curves.svg; --out; clear errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'electra-plot-'));
  try {
    const log = console.log;
    console.log = () => {};
    try {
      writeFileSync(join(dir, 'metrics.jsonl'), [1, 2, 3].map((k) => JSON.stringify(rec(k * 100))).join('\n') + '\n');
      assert.is(await plotCli([dir]), 0);
      const svg = readFileSync(join(dir, 'curves.svg'), 'utf8');
      assertWellFormed(svg);
      assert.ok(svg.includes('ELECTRA pre-training: electra-plot-'));
      assert.is(await plotCli([join(dir, 'metrics.jsonl'), '--out', join(dir, 'x.svg')]), 0);
      assert.ok(existsSync(join(dir, 'x.svg')));
    } finally { console.log = log; }
    let err = '';
    try { await plotCli([join(dir, 'missing')]); } catch (e) { err = (e as Error).message; }
    assert.match(err, /no such run directory/);
    const empty = mkdtempSync(join(tmpdir(), 'electra-plot-'));
    err = '';
    try { await plotCli([empty]); } catch (e) { err = (e as Error).message; }
    assert.match(err, /no metrics\.jsonl/);
    rmSync(empty, { recursive: true });
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

/** A fine-tuning run as `electra finetune` logs it: train records every 2 steps, dev records per epoch (10 steps). */
function finetuneRun(seed: number, devAcc: number[]): MetricsRecord[] {
  const out: MetricsRecord[] = [];
  devAcc.forEach((acc, e) => {
    for (let k = 2; k <= 10; k += 2) out.push({ seed, step: e * 10 + k, epoch: e + 1, split: 'train', loss: 1 / (e * 10 + k), lr: 1e-3, gradNorm: 1 });
    const bestSoFar = devAcc.slice(0, e).every((a) => acc > a);
    out.push({ seed, step: e * 10 + 10, epoch: e + 1, split: 'dev', trainLoss: 0.5, accuracy: acc, macroF1: acc - 0.01, mcc: 2 * acc - 1, best: bestSoFar });
  });
  return out;
}
const circles = (svg: string) => [...svg.matchAll(/<circle class="mark" cx="([^"]*)" cy="([^"]*)"/g)].map((m) => [Number(m[1]), Number(m[2])]);

s('fine-tuning runs: loss per step, dev metric per epoch, the best epoch ringed', () => {
  const records = finetuneRun(0, [0.7, 0.9, 0.85]);
  assert.ok(isFinetuneRun(records));
  assert.not.ok(isFinetuneRun([rec(1), rec(2, { split: 'eval' })]), 'pre-training records');
  const svg = renderFinetuneCurves(records, { title: 'ELECTRA fine-tuning: spam' });
  assertWellFormed(svg);
  assert.ok(svg.includes('>Training loss per step<') && svg.includes('>Dev accuracy per epoch<') && svg.includes('>Learning rate<'));
  assert.not.ok(svg.includes('MLM') || svg.includes('no data'), 'no pre-training panels, no empty panel');
  const pl = polylines(svg);
  assert.is(pl.length, 3);
  assert.is(pl[0].points.length, 15, 'train loss: one point per logged step');
  assert.is(pl[1].points.length, 3, 'dev accuracy: one point per epoch');
  // The ring sits on the dev line's second point (epoch 2, the best), not on the last epoch.
  const ring = circles(svg);
  assert.is(ring.length, 1);
  assert.equal(ring[0], pl[1].points[1]);
  assert.ok(svg.includes('best epoch 2, dev accuracy 0.9'), 'summary names the best epoch');
  // Epoch ends are drawn on the loss panel (steps 10 and 20 inside the range; 30 is its edge).
  assert.is((svg.match(/stroke-dasharray="1 3"/g) ?? []).length, 2);
  // Another selection metric (eval.json's) is plotted and picks the ring from its own flags.
  const mcc = renderFinetuneCurves(records, { metric: 'mcc' });
  assert.ok(mcc.includes('>Dev mcc per epoch<'));
  assert.is(polylines(mcc)[1].points.length, 3);
});

s('fine-tuning with --runs: one line and one ring per seed; a run without flags rings its maximum', () => {
  const records = [...finetuneRun(0, [0.6, 0.8]), ...finetuneRun(1, [0.9, 0.7])];
  const svg = renderFinetuneCurves(records);
  assertWellFormed(svg);
  const pl = polylines(svg);
  assert.is(pl.length, 6, 'loss, dev and lr for each of 2 seeds');
  assert.is(circles(svg).length, 2);
  assert.ok(svg.includes('seed 0: best epoch 2') && svg.includes('seed 1: best epoch 1'));
  const unflagged = finetuneRun(0, [0.6, 0.8, 0.7]).map((r) => ({ ...r, best: undefined }));
  assert.ok(renderFinetuneCurves(unflagged).includes('best epoch 2'));
});

s('electra plot on a fine-tuning run draws it as one, with the metric of eval.json', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'electra-plot-ft-'));
  const log = console.log;
  console.log = () => {};
  try {
    writeFileSync(join(dir, 'metrics.jsonl'), finetuneRun(0, [0.5, 0.6]).map((r) => JSON.stringify(r)).join('\n') + '\n');
    writeFileSync(join(dir, 'eval.json'), JSON.stringify({ metric: 'macroF1', dev: {} }));
    assert.is(await plotCli([dir]), 0);
    const svg = readFileSync(join(dir, 'curves.svg'), 'utf8');
    assertWellFormed(svg);
    assert.ok(svg.includes('ELECTRA fine-tuning: electra-plot-ft-'));
    assert.ok(svg.includes('>Dev macroF1 per epoch<'));
    assert.not.ok(svg.includes('Total loss'));
  } finally { console.log = log; rmSync(dir, { recursive: true, force: true }); }
});

s.run();
