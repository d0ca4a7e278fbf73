// The demo page's script: the engine embedded in a web page, start to end. It picks a device (WebGPU, else the
// CPU device, saying so on the page), loads models from URLs or dropped folders with the browser loaders, runs
// `detect`, `fill-mask` and a fine-tuned classifier on typed text, and pre-trains ELECTRA-tiny in the page
// (train.ts) with a live plot and a checkpoint download the CLI loads. An app imports the same names from
// 'electra-webgpu/browser'; here the build maps '../src/index.js' to that bundle, served at /dist/ (scripts/build.mjs),
// so the page runs the shipped dist/electra-webgpu.browser.js. No framework: DOM calls, one canvas.

import {
  CpuDevice, type Device, type DroppedFile, type ElectraForMaskedLM, type ElectraForPreTraining, type ElectraHeadModel, HEAD_ARCHITECTURE, type ModelSource,
  WebGPUDevice, disposeModule, folderSources, infer, loadDiscriminator, loadGenerator, loadHeadModel, loadTokenizer, predictSequence, readModelConfig,
  text, urlSource,
} from '../src/index.js';
import { DEFAULTS, type StepRecord, Trainer, prepareText } from './train.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`demo: no #${id} in the page`);
  return el as T;
};
const num = (id: string) => Number($<HTMLInputElement>(id).value);
const fmt = (x: number | null, digits = 3) => (x === null || !Number.isFinite(x) ? '–' : x.toFixed(digits));

// ------------------------------------------------------------------------------------ the device

/** WebGPU when the browser has an adapter, else the CPU device; the page says which, and why. `?device=cpu` forces the CPU. */
async function pickDevice(): Promise<Device> {
  const line = $('device');
  let reason = 'asked for with ?device=cpu';
  if (new URLSearchParams(location.search).get('device') !== 'cpu') {
    try {
      const gpu = await WebGPUDevice.create();
      line.textContent = `Running on WebGPU (${gpu.name}).`;
      line.dataset.device = 'webgpu';
      return gpu;
    } catch (e) {
      reason = (e as Error).message;
    }
  }
  line.classList.add('fallback');
  line.textContent = `No WebGPU here (${reason}): running on the CPU device instead, which is much slower. `
    + 'Chrome and Edge have WebGPU; elsewhere look for it in the browser\'s flags.';
  line.dataset.device = 'cpu';
  return new CpuDevice();
}

const device = await pickDevice();
if (device.kind === 'cpu') {
  // The same page on the CPU device: smaller training defaults, so a run ends in minutes.
  $<HTMLInputElement>('train-steps').value = '40';
  $<HTMLInputElement>('train-batch').value = '4';
  $<HTMLInputElement>('train-seq').value = '64';
  $<HTMLInputElement>('train-vocab').value = '2000';
}

// ------------------------------------------------------------------------------------ the models

interface Held<M> { model: M; tok: text.WordPieceTokenizer; label: string; dispose(): void }
const held: {
  disc: Held<ElectraForPreTraining> | null; gen: Held<ElectraForMaskedLM> | null;
  cls: (Held<ElectraHeadModel> & { labels: string[] }) | null;
} = { disc: null, gen: null, cls: null };

function showLoaded(): void {
  const parts: string[] = [];
  if (held.disc) parts.push(`discriminator: ${held.disc.label}`);
  if (held.gen) parts.push(`generator: ${held.gen.label}`);
  if (held.cls) parts.push(`classifier: ${held.cls.label} (${held.cls.labels.join(', ')})`);
  $('loaded').textContent = parts.length ? `Loaded — ${parts.join(' · ')}` : 'No model loaded.';
  $<HTMLButtonElement>('detect-run').disabled = !held.disc;
  $<HTMLButtonElement>('fill-run').disabled = !held.gen;
  $<HTMLButtonElement>('cls-run').disabled = !held.cls;
}

/** Loads each source by what its config.json says it is; returns what was loaded, one line each. */
async function loadSources(sources: ModelSource[]): Promise<string[]> {
  const done: string[] = [];
  for (const src of sources) {
    const arch = (await readModelConfig(src)).architectures;
    const tok = await loadTokenizer(src);
    if (arch.includes(HEAD_ARCHITECTURE.sequence)) {
      const h = await loadHeadModel(src, device);
      held.cls?.dispose();
      held.cls = { model: h.model, tok, labels: h.labels, label: src.label, dispose: () => disposeModule(h.model) };
      done.push(`classifier ${src.label}`);
    } else if (arch.includes(HEAD_ARCHITECTURE.token) || arch.includes(HEAD_ARCHITECTURE.qa)) {
      throw new Error(`${src.label}: a ${arch.join(', ')} model; this page shows sequence classifiers only (the CLI's \`electra predict\` runs it)`);
    } else if (arch.includes('ElectraForMaskedLM')) {
      const g = await loadGenerator(src, device);
      held.gen?.dispose();
      held.gen = { model: g.model, tok, label: src.label, dispose: () => disposeModule(g.model) };
      done.push(`generator ${src.label}`);
    } else {
      // ElectraForPreTraining, or a config that names no architecture: the loader refuses a generator's weights.
      const d = await loadDiscriminator(src, device);
      held.disc?.dispose();
      held.disc = { model: d.model, tok, label: src.label, dispose: () => disposeModule(d.model) };
      done.push(`discriminator ${src.label}`);
    }
  }
  showLoaded();
  return done;
}

/** Runs `fn` with its button disabled, showing an error under `errorId` if it throws. */
async function guarded(button: HTMLButtonElement | null, errorId: string, fn: () => Promise<void>): Promise<void> {
  const err = $(errorId);
  err.textContent = '';
  delete err.dataset.json;
  if (button) button.disabled = true;
  try { await fn(); } catch (e) {
    err.textContent = (e as Error).message;
    console.error(e);
  } finally {
    if (button) button.disabled = false;
    showLoaded();
  }
}

/** A URL that is one model directory, or a run directory holding discriminator/ and generator/. */
async function modelsAt(base: string): Promise<ModelSource[]> {
  const root = base.endsWith('/') ? base : `${base}/`;
  const found: ModelSource[] = [];
  for (const u of [root, `${root}discriminator/`, `${root}generator/`]) {
    const src = urlSource(u);
    if (await src.read('config.json')) found.push(src);
  }
  if (!found.length) throw new Error(`${urlSource(root).label}: no config.json there, nor in discriminator/ or generator/ below it`);
  return found;
}

async function loadFiles(files: DroppedFile[]): Promise<void> {
  const sources = [...folderSources(files).values()];
  const models: ModelSource[] = [];
  for (const s of sources) if (await s.read('config.json')) models.push(s);
  if (!models.length) throw new Error(`no config.json among the ${files.length} files: drop a model folder (config.json, model.safetensors, vocab.txt)`);
  const done = await loadSources(models);
  $('loaded').dataset.last = done.join('; ');
}

/** Files of a drop, folders walked (File and Directory entries), each with its path inside the drop. */
async function droppedFiles(dt: DataTransfer): Promise<DroppedFile[]> {
  const entries = Array.from(dt.items).map((i) => i.webkitGetAsEntry?.() ?? null).filter((e): e is FileSystemEntry => e !== null);
  if (!entries.length) return Array.from(dt.files);
  const out: DroppedFile[] = [];
  const walk = async (e: FileSystemEntry): Promise<void> => {
    if (e.isFile) {
      const file = await new Promise<File>((ok, fail) => (e as FileSystemFileEntry).file(ok, fail));
      out.push({ path: e.fullPath.replace(/^\//, ''), file });
    } else if (e.isDirectory) {
      const reader = (e as FileSystemDirectoryEntry).createReader();
      // readEntries returns a batch at a time; an empty batch means the directory is done.
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((ok, fail) => reader.readEntries(ok, fail));
        if (!batch.length) break;
        for (const c of batch) await walk(c);
      }
    }
  };
  for (const e of entries) await walk(e);
  return out;
}

$('load-url').addEventListener('click', (ev) => guarded(ev.currentTarget as HTMLButtonElement, 'load-error', async () => {
  const done = await loadSources(await modelsAt($<HTMLInputElement>('model-url').value));
  $('loaded').dataset.last = done.join('; ');
}));
for (const id of ['pick-files', 'pick-folder']) {
  $<HTMLInputElement>(id).addEventListener('change', (ev) => guarded(null, 'load-error', () => loadFiles(Array.from((ev.target as HTMLInputElement).files ?? []))));
}
const drop = $('drop');
drop.addEventListener('dragover', (ev) => { ev.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (ev) => {
  ev.preventDefault();
  drop.classList.remove('over');
  if (ev.dataTransfer) void guarded(null, 'load-error', async () => loadFiles(await droppedFiles(ev.dataTransfer!)));
});

// The server lists the model directories under runs/: one button per run (or lone model directory).
void fetch('/runs.json').then((r) => (r.ok ? r.json() as Promise<string[]> : [])).then((dirs) => {
  const runs = [...new Set(dirs.map((d) => d.replace(/(discriminator|generator)\/$/, '')))];
  if (!runs.length) { $('run-list').textContent = 'No runs on the server yet: `npm run pretrain` writes runs/tiny.'; return; }
  $('run-list').textContent = 'On this server: ';
  for (const r of runs) {
    const b = document.createElement('button');
    b.textContent = r;
    b.addEventListener('click', () => { $<HTMLInputElement>('model-url').value = r; $('load-url').click(); });
    $('run-list').append(b);
  }
}).catch(() => {});

// ------------------------------------------------------------------------------- detect, fill-mask

/** A probability as a bar of width p (and its number). */
function bar(p: number, hot = false): HTMLElement {
  const track = document.createElement('span');
  track.className = 'track';
  const b = document.createElement('span');
  b.className = hot ? 'bar hot' : 'bar';
  b.style.width = `${(100 * p).toFixed(1)}%`;
  track.append(b);
  return track;
}

function row(cells: (string | HTMLElement)[], numeric: number[] = []): HTMLTableRowElement {
  const tr = document.createElement('tr');
  cells.forEach((c, i) => {
    const td = document.createElement('td');
    if (numeric.includes(i)) td.className = 'num';
    td.append(c);
    tr.append(td);
  });
  return tr;
}

$('detect-run').addEventListener('click', (ev) => guarded(ev.currentTarget as HTMLButtonElement, 'detect-out', async () => {
  const d = held.disc!;
  const r = await infer.detectReplaced(d.model, d.tok, $<HTMLTextAreaElement>('detect-text').value, device);
  const table = document.createElement('table');
  table.append(row(['token', 'p(replaced)', '', 'logit']));
  for (const s of r.scores) table.append(row([s.special ? `${s.token} (special)` : s.token, bar(s.probability, !s.special && s.probability > 0.5), fmt(s.probability), fmt(s.logit)], [2, 3]));
  const out = $('detect-out');
  out.replaceChildren(table);
  out.dataset.json = JSON.stringify(infer.detectToJSON(r));
}));

$('fill-run').addEventListener('click', (ev) => guarded(ev.currentTarget as HTMLButtonElement, 'fill-out', async () => {
  const g = held.gen!;
  const r = await infer.fillMask(g.model, g.tok, $<HTMLInputElement>('fill-text').value, 5, device);
  const out = $('fill-out');
  out.replaceChildren();
  for (const m of r.masks) {
    const table = document.createElement('table');
    table.append(row([`[MASK] at token ${m.position}`, 'probability', '']));
    for (const c of m.top) table.append(row([c.token, bar(c.probability), fmt(c.probability, 4)], [2]));
    out.append(table);
  }
  out.dataset.json = JSON.stringify(infer.fillMaskToJSON(r));
}));

// ------------------------------------------------------------------------------------ training

let trainer: Trainer | null = null;
let stopRequested = false;
const records: StepRecord[] = [];

/** Loss on the left axis (0..max), accuracies on the right (0..1), one point per step from 1 to `total`. */
function plot(total: number): void {
  const c = $<HTMLCanvasElement>('train-plot');
  const g = c.getContext('2d')!;
  const W = c.width, H = c.height, L = 44, R = 44, T = 10, B = 22;
  g.clearRect(0, 0, W, H);
  g.font = '12px system-ui, sans-serif';
  g.strokeStyle = '#c8c8d0';
  g.strokeRect(L, T, W - L - R, H - T - B);
  const maxLoss = Math.max(1e-6, ...records.map((r) => r.loss));
  const x = (step: number) => L + ((W - L - R) * (step - 1)) / Math.max(1, total - 1);
  const line = (color: string, y: (r: StepRecord) => number | null) => {
    g.strokeStyle = color;
    g.beginPath();
    let started = false;
    for (const r of records) {
      const v = y(r);
      if (v === null || !Number.isFinite(v)) continue;
      if (started) g.lineTo(x(r.step), v); else { g.moveTo(x(r.step), v); started = true; }
    }
    g.stroke();
  };
  const yLoss = (v: number) => T + (H - T - B) * (1 - v / maxLoss);
  const yAcc = (v: number) => T + (H - T - B) * (1 - v);
  line('#3a6df0', (r) => yLoss(r.loss));
  line('#2f9e44', (r) => yAcc(r.mlmAcc));
  line('#d9480f', (r) => (r.discAcc === null ? null : yAcc(r.discAcc)));
  g.fillStyle = '#1d1d1f';
  g.fillText(maxLoss.toFixed(1), 4, T + 10);
  g.fillText('0', L - 12, H - B);
  g.fillText('1.0', W - R + 6, T + 10);
  g.fillText('0', W - R + 6, H - B);
  g.fillText(`step ${records.at(-1)?.step ?? 0} of ${total}`, L, H - 6);
  const legend: [string, string][] = [['#3a6df0', 'loss'], ['#2f9e44', 'generator accuracy'], ['#d9480f', 'discriminator accuracy']];
  let lx = W - R - 360;
  for (const [color, name] of legend) { g.fillStyle = color; g.fillRect(lx, H - 15, 10, 10); g.fillStyle = '#1d1d1f'; g.fillText(name, lx + 14, H - 6); lx += 22 + g.measureText(name).width; }
}

$('train-start').addEventListener('click', () => {
  const section = $('train');
  const status = $('train-status');
  const o = { ...DEFAULTS, steps: num('train-steps'), batchSize: num('train-batch'), seqLen: num('train-seq'), vocabSize: num('train-vocab'), seed: num('train-seed') };
  $<HTMLButtonElement>('train-start').disabled = true;
  $<HTMLButtonElement>('train-download').disabled = true;
  $<HTMLButtonElement>('train-stop').disabled = false;
  stopRequested = false;
  section.dataset.state = 'running';
  void (async () => {
    try {
      if (trainer) {
        // The previous run's models, unless they are the ones loaded for detect / fill-mask.
        if (held.disc?.model === trainer.pair.discriminator) held.disc = null;
        if (held.gen?.model === trainer.pair.generator) held.gen = null;
        disposeModule({ d: trainer.pair.discriminator, g: trainer.pair.generator });
        trainer = null;
      }
      $('load-error').textContent = ''; // a stale loading error would read as this run's
      status.textContent = 'preparing the text (vocabulary, examples)…';
      const corpus = await (await fetch('/sample.txt')).text();
      await new Promise((r) => setTimeout(r)); // let the status line paint before the synchronous vocabulary training
      const data = prepareText(corpus, o);
      trainer = new Trainer(data, o, device);
      records.length = 0;
      const t0 = performance.now();
      let tLast = t0, sLast = 0, rate = 0;
      while (trainer.step < o.steps && !stopRequested) {
        const r = await trainer.next();
        records.push(r);
        const now = performance.now();
        if (now - tLast > 1000 || trainer.step === o.steps) { rate = (trainer.step - sLast) / ((now - tLast) / 1000); tLast = now; sLast = trainer.step; }
        status.textContent = `step ${r.step}/${o.steps} · loss ${fmt(r.loss)} · generator acc ${fmt(r.mlmAcc)} · discriminator acc ${fmt(r.discAcc)} · ${rate.toFixed(2)} steps/s`
          + ` · ${data.examples} examples, vocabulary ${data.tokenizer.vocabSize}`;
        plot(o.steps);
      }
      status.textContent += stopRequested ? ` · stopped at step ${trainer.step}` : ` · done in ${((performance.now() - t0) / 1000).toFixed(1)} s`;
      section.dataset.records = JSON.stringify(records);
      section.dataset.state = stopRequested ? 'stopped' : 'done';
      // The trained pair is now the page's discriminator and generator.
      const label = `trained here (${trainer.step} steps)`;
      held.disc?.dispose(); held.gen?.dispose();
      held.disc = { model: trainer.pair.discriminator!, tok: data.tokenizer, label, dispose: () => {} };
      held.gen = { model: trainer.pair.generator, tok: data.tokenizer, label, dispose: () => {} };
      $<HTMLButtonElement>('train-download').disabled = false;
    } catch (e) {
      status.textContent = `error: ${(e as Error).message}`;
      section.dataset.state = 'error';
      console.error(e);
    } finally {
      $<HTMLButtonElement>('train-start').disabled = false;
      $<HTMLButtonElement>('train-stop').disabled = true;
      showLoaded();
    }
  })();
});

$('train-stop').addEventListener('click', () => { stopRequested = true; });

$('train-download').addEventListener('click', async () => {
  if (!trainer) return;
  const zip = await trainer.checkpointZip();
  const url = URL.createObjectURL(new Blob([zip], { type: 'application/zip' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = `electra-tiny-page-step${trainer.step}.zip`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
});

// ---------------------------------------------------------------------------------- classifier

$('cls-load').addEventListener('click', (ev) => guarded(ev.currentTarget as HTMLButtonElement, 'cls-out', async () => {
  const done = await loadSources([urlSource($<HTMLInputElement>('cls-url').value)]);
  $('loaded').dataset.last = done.join('; ');
}));

$('cls-run').addEventListener('click', (ev) => guarded(ev.currentTarget as HTMLButtonElement, 'cls-out', async () => {
  const c = held.cls!;
  const [p] = await predictSequence(c.model, c.tok, c.labels, [{ text: $<HTMLInputElement>('cls-text').value }], device);
  if (!('label' in p)) throw new Error(`${c.label}: a regression head (value ${fmt(p.value)}); this page shows class labels`);
  const table = document.createElement('table');
  table.append(row(['label', 'probability', '']));
  for (const l of c.labels) table.append(row([l === p.label ? `${l} ←` : l, bar(p.probabilities[l], l === p.label), fmt(p.probabilities[l])], [2]));
  const out = $('cls-out');
  out.replaceChildren(table);
  out.dataset.json = JSON.stringify(p);
}));

showLoaded();
document.body.dataset.ready = 'true';
