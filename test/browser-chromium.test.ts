// The demo page in a real browser: Debian's Chromium, headless, driven by playwright-core, against demo/server.ts
// on localhost. On WebGPU (Chromium's SwiftShader adapter here) the page loads models from URLs, from a drop and
// from a chosen folder and gives the CLI's `detect`, `fill-mask` and `predict` numbers; it trains ELECTRA with the
// losses the Node CPU device gets for the same seed, and its downloaded checkpoint loads in the CLI. Without
// WebGPU it says so and runs on the CPU device. Screenshots go to test-output/browser/.
// No Chromium: the suite says so and skips, unless REQUIRE_BROWSER=1 (CI), where that is a failure.

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { readZipDirectory, zipEntryData } from '../src/electra/formats/torchbin.js';
import { startDemoServer, sampleText, type DemoServer } from '../demo/server.js';
import { DEFAULTS, type StepRecord, Trainer, prepareText } from '../demo/train.js';
import { assertClose, cpu } from './helpers.js';
import { writeTinyModels } from './electra/tiny-model.js';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
/** Keeps Chromium off the network (this machine has none to give it) and skips first-run work. */
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
/**
 * WebGPU in headless Chromium 156 on a machine without a GPU: this flag alone gives Dawn's SwiftShader adapter.
 * (Adding --enable-features=Vulkan and --use-angle=swiftshader changes nothing; --use-vulkan=native still ends on
 * SwiftShader, and with --use-angle=vulkan there is no adapter at all.)
 */
const WEBGPU_FLAGS = ['--enable-unsafe-webgpu'];
const OUT = join(process.cwd(), 'test-output', 'browser');

const s = suite('real browser (Chromium)');

let available = existsSync(CHROMIUM);
let root = '';
let models: Awaited<ReturnType<typeof writeTinyModels>>;
let other: Awaited<ReturnType<typeof writeTinyModels>>;
let server: DemoServer;
let browser: Browser | null = null;
let page: Page;
const pageErrors: string[] = [];

const TEXT = 'the big red cat sat on the mat, and the dog ran.';
const MASKED = 'the [MASK] sat on the mat.';

/** `electra …` on the CPU device; its JSON output. */
function cli(...args: string[]): unknown {
  const out = execFileSync('node', ['build/src/cli/main.js', ...args, '--device', 'cpu', '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return JSON.parse(out.trim().split('\n')[0]);
}

interface DetectJSON { input_ids: number[]; tokens: string[]; logits: number[] }
interface FillJSON { input_ids: number[]; masks: { position: number; top: { id: number; token: string; logit: number }[] }[] }

async function openDemo(b: Browser): Promise<Page> {
  const p = await b.newPage({ viewport: { width: 1100, height: 900 }, acceptDownloads: true });
  p.on('pageerror', (e) => pageErrors.push(e.message));
  await p.goto(server.url);
  await p.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
  return p;
}

/** Clicks `button` and returns the JSON the page leaves on `out` (an error shown there fails the test, with its text). */
async function clickFor<T>(p: Page, button: string, out: string): Promise<T> {
  await p.click(button);
  await p.waitForFunction((sel) => { const el = document.querySelector<HTMLElement>(sel); return !!el && (!!el.dataset.json || !!el.textContent); }, out, { timeout: 60_000 });
  const json = await p.getAttribute(out, 'data-json');
  if (!json) throw new Error(`${out}: ${await p.textContent(out)}`);
  return JSON.parse(json) as T;
}

async function detectIn(p: Page, text: string): Promise<DetectJSON> {
  await p.fill('#detect-text', text);
  return clickFor<DetectJSON>(p, '#detect-run', '#detect-out');
}

function sameDetect(got: DetectJSON, want: DetectJSON, label: string, atol: number): void {
  assert.equal(got.input_ids, want.input_ids, `${label}: ids`);
  assert.equal(got.tokens, want.tokens, `${label}: tokens`);
  assertClose(got.logits, want.logits, { atol, rtol: 1e-4, label: `${label}: logits` });
  assert.ok(new Set(want.logits.map((x) => x.toFixed(3))).size > 3, `${label}: logits differ per token`);
}

/** Waits until the page lists a loaded model whose line includes `what`; an error shown under `errorId` fails at once. */
async function loaded(p: Page, what: string, errorId = 'load-error'): Promise<void> {
  await p.waitForFunction(([w, e]) => document.getElementById('loaded')!.textContent!.includes(w) || !!document.getElementById(e)!.textContent, [what, errorId], { timeout: 60_000 });
  const err = await p.textContent(`#${errorId}`);
  if (err) throw new Error(`loading failed: ${err}`);
}

s.before(async () => {
  if (!available) {
    if (process.env.REQUIRE_BROWSER === '1') throw new Error(`REQUIRE_BROWSER=1 but there is no ${CHROMIUM} (bash scripts/setup-browser.sh installs it)`);
    console.log(`  (skipping real-browser tests: no ${CHROMIUM}; bash scripts/setup-browser.sh installs Debian's chromium)`);
    return;
  }
  root = mkdtempSync(join(tmpdir(), 'electra-chromium-'));
  models = await writeTinyModels(join(root, 'a'), 7);
  other = await writeTinyModels(join(root, 'b'), 8);
  server = await startDemoServer({ port: 0, runs: root });
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_FLAGS, ...WEBGPU_FLAGS] });
  } catch (e) {
    available = false;
    throw e;
  }
  page = await openDemo(browser);
});

s.after(async () => {
  await browser?.close();
  await server?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

s('on WebGPU, models loaded from URLs give the CLI\'s detect, fill-mask and predict numbers', async () => {
  if (!available) return;
  assert.is(await page.getAttribute('#device', 'data-device'), 'webgpu', `the page runs on WebGPU: ${await page.textContent('#device')}`);
  await page.fill('#model-url', '/runs/a/pair/');
  await page.click('#load-url');
  await loaded(page, 'generator');
  assert.match(await page.textContent('#loaded') ?? '', /discriminator: http:\/\/127\.0\.0\.1:\d+\/runs\/a\/pair\/discriminator\//);

  sameDetect(await detectIn(page, TEXT), cli('detect', '--model', models.disc, TEXT) as DetectJSON, 'detect from URLs', 2e-4);

  await page.fill('#fill-text', MASKED);
  const fill = await clickFor<FillJSON>(page, '#fill-run', '#fill-out');
  const want = cli('fill-mask', '--model', models.gen, '--top-k', '5', MASKED) as FillJSON;
  assert.equal(fill.input_ids, want.input_ids);
  assert.equal(fill.masks.map((m) => m.top.map((c) => c.id)), want.masks.map((m) => m.top.map((c) => c.id)), 'fill-mask: the same top 5');
  assertClose(fill.masks.flatMap((m) => m.top.map((c) => c.logit)), want.masks.flatMap((m) => m.top.map((c) => c.logit)), { atol: 2e-4, rtol: 1e-4, label: 'fill-mask logits' });

  await page.fill('#cls-url', '/runs/a/cls/');
  await page.click('#cls-load');
  await loaded(page, 'classifier', 'cls-out');
  await page.fill('#cls-text', TEXT);
  const got = await clickFor<{ label: string; probabilities: Record<string, number> }>(page, '#cls-run', '#cls-out');
  const cls = cli('predict', '--model', models.cls, TEXT) as { label: string; probabilities: Record<string, number> };
  assert.is(got.label, cls.label);
  assertClose([got.probabilities.ham, got.probabilities.spam], [cls.probabilities.ham, cls.probabilities.spam], { atol: 1e-4, label: 'classifier probabilities' });
  assert.equal(pageErrors, []);
});

s('dropped files and a chosen folder load models; a bad dropped file is refused naming it', async () => {
  if (!available) return;
  // A drop as a page gets one: File objects in a DataTransfer (the second fixture pair, so its numbers differ).
  const drop = async (files: { name: string; bytes: Buffer }[]) => {
    const dt = await page.evaluateHandle((fs) => {
      const t = new DataTransfer();
      for (const f of fs) t.items.add(new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name));
      return t;
    }, files.map((f) => ({ name: f.name, b64: f.bytes.toString('base64') })));
    await page.dispatchEvent('#drop', 'drop', { dataTransfer: dt });
  };
  const filesOf = (dir: string) => readdirSync(dir).map((name) => ({ name, bytes: readFileSync(join(dir, name)) }));
  await drop(filesOf(other.disc));
  await loaded(page, 'discriminator: dropped files (config.json, model.safetensors, vocab.txt)');
  const want = cli('detect', '--model', other.disc, TEXT) as DetectJSON;
  sameDetect(await detectIn(page, TEXT), want, 'detect from dropped files', 2e-4);
  const first = cli('detect', '--model', models.disc, TEXT) as DetectJSON;
  assert.not.equal(want.logits.map((x) => x.toFixed(2)), first.logits.map((x) => x.toFixed(2)), 'the two fixtures differ, so the drop really replaced the model');

  // A whole run folder through <input type=file webkitdirectory>: discriminator/ and generator/ both load.
  await page.setInputFiles('#pick-folder', other.run);
  await loaded(page, 'generator: pair/generator');
  assert.match(await page.textContent('#loaded') ?? '', /discriminator: pair\/discriminator/);
  await page.fill('#fill-text', MASKED);
  const fill = await clickFor<FillJSON>(page, '#fill-run', '#fill-out');
  const wantFill = cli('fill-mask', '--model', other.gen, '--top-k', '5', MASKED) as FillJSON;
  assert.equal(fill.masks.map((m) => m.top.map((c) => c.id)), wantFill.masks.map((m) => m.top.map((c) => c.id)), 'fill-mask of the chosen folder');

  // A truncated model.safetensors: the page shows the loader's error, naming the file, as the CLI's does.
  const bad = filesOf(other.disc).map((f) => (f.name === 'model.safetensors' ? { ...f, bytes: f.bytes.subarray(0, f.bytes.length - 100) } : f));
  await drop(bad);
  await page.waitForFunction(() => !!document.getElementById('load-error')!.textContent, null, { timeout: 60_000 });
  const shown = (await page.textContent('#load-error'))!;
  const badDir = join(root, 'bad');
  cpSync(other.disc, badDir, { recursive: true });
  writeFileSync(join(badDir, 'model.safetensors'), bad.find((f) => f.name === 'model.safetensors')!.bytes);
  let cliErr = '';
  try { cli('detect', '--model', badDir, TEXT); } catch (e) { cliErr = String((e as { stderr?: string }).stderr); }
  assert.ok(shown.startsWith('model.safetensors: tensor '), shown);
  assert.ok(cliErr.includes(`${join(badDir, 'model.safetensors')}: ${shown.slice('model.safetensors: '.length)}`), `the CLI says the same: ${cliErr}`);
  assert.equal(pageErrors, []);
});

s('on WebGPU the page trains with the Node CPU device\'s losses, and its downloaded checkpoint loads in the CLI', async () => {
  if (!available) return;
  const o = { ...DEFAULTS, steps: 4, batchSize: 4, seqLen: 32, vocabSize: 600, seed: 3 };
  await page.fill('#train-steps', String(o.steps));
  await page.fill('#train-batch', String(o.batchSize));
  await page.fill('#train-seq', String(o.seqLen));
  await page.fill('#train-vocab', String(o.vocabSize));
  await page.fill('#train-seed', String(o.seed));
  await page.click('#train-start');
  await page.waitForSelector('#train[data-state=done], #train[data-state=error]', { timeout: 180_000 });
  assert.is(await page.getAttribute('#train', 'data-state'), 'done', (await page.textContent('#train-status')) ?? '');
  const inPage = JSON.parse((await page.getAttribute('#train', 'data-records'))!) as StepRecord[];

  // The same loop, text and seed in Node on the CPU device.
  const trainer = new Trainer(prepareText(sampleText(), o), o, cpu);
  const inNode: StepRecord[] = [];
  for (let i = 0; i < o.steps; i++) inNode.push(await trainer.next());
  assert.equal(inPage.map((r) => r.step), [1, 2, 3, 4]);
  const pick = (rs: StepRecord[]) => rs.flatMap((r) => [r.loss, r.mlmLoss, r.discLoss ?? NaN]);
  // Measured here: at most 2e-6 relative over 8 steps (SwiftShader vs the CPU reference); real GPUs sum in other orders.
  assertClose(pick(inPage), pick(inNode), { atol: 1e-4, rtol: 1e-4, label: 'losses, WebGPU page vs Node CPU' });
  assertClose(inPage.map((r) => r.lr), inNode.map((r) => r.lr), { atol: 0, rtol: 1e-12, label: 'learning rates' });
  assert.ok(Math.abs(inPage[3].loss - inPage[0].loss) > 1e-3, 'the loss moved: the steps trained');

  // "Download checkpoint": a zip of discriminator/ and generator/ that the CLI loads and agrees with.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#train-download')]);
  const zipPath = join(OUT, download.suggestedFilename());
  await download.saveAs(zipPath);
  const zip = new Uint8Array(readFileSync(zipPath));
  const unzipped = join(root, 'downloaded');
  for (const [name, e] of readZipDirectory(zip, zipPath)) {
    mkdirSync(dirname(join(unzipped, name)), { recursive: true });
    writeFileSync(join(unzipped, name), zipEntryData(zip, e, zipPath));
  }
  const sentence = 'it was the best of times, it was the worst of times.';
  sameDetect(await detectIn(page, sentence), cli('detect', '--model', join(unzipped, 'discriminator'), sentence) as DetectJSON, 'trained in the page, then the CLI', 1e-3);
  const filled = cli('fill-mask', '--model', join(unzipped, 'generator'), 'the whale [MASK] the ship.') as FillJSON;
  assert.is(filled.masks[0].top.length, 5);

  // For the screenshot (and a last check): the trained generator answers in the page too.
  await page.fill('#fill-text', 'the whale [MASK] the ship.');
  const pageFill = await clickFor<FillJSON>(page, '#fill-run', '#fill-out');
  assert.equal(pageFill.input_ids, filled.input_ids);
  await page.screenshot({ path: join(OUT, 'demo-webgpu.png'), fullPage: true });
  assert.equal(pageErrors, []);
});

s('the README\'s browser snippet runs as written (its import mapped to the bundle) and prints the CLI\'s probabilities', async () => {
  if (!available) return;
  const md = readFileSync('README.md', 'utf8');
  // A ts block (test/package.test.ts type-checks it against the declarations) with no annotations: it runs as JS.
  const code = /```ts\n([\s\S]*?)```/.exec(md.slice(md.indexOf('## In the browser')))?.[1];
  assert.ok(code, 'README.md has a ts block under "## In the browser"');
  const url = /urlSource\('([^']+)'\)/.exec(code)![1];
  const text = /detectReplaced\(model, tok, '([^']+)'/.exec(code)![1];
  cpSync(models.disc, join(root, url.replace(/^\/runs\//, '')), { recursive: true }); // the fixture where the snippet looks
  const p = await browser!.newPage();
  const logs: string[] = [], errors: string[] = [];
  p.on('console', (m) => { if (m.type() === 'log') logs.push(m.text()); });
  p.on('pageerror', (e) => errors.push(e.message));
  const html = '<!doctype html><script type="importmap">{"imports":{"electra-webgpu/browser":"/dist/electra-webgpu.browser.js"}}</script>'
    + `<script type="module">${code}\ndocument.body.dataset.done = '1';</script>`;
  await p.route(`${server.url}readme-snippet.html`, (r) => r.fulfill({ contentType: 'text/html', body: html }));
  await p.goto(`${server.url}readme-snippet.html`);
  await p.waitForFunction(() => !!document.body?.dataset.done, null, { timeout: 60_000 }).catch(() => { throw new Error(`the snippet did not finish: ${errors.join('; ')}`); });
  await p.close();
  const want = cli('detect', '--model', models.disc, text) as DetectJSON;
  assert.is(logs.length, 1, `one console.log: ${logs.join(' | ')}`);
  const lines = logs[0].split('\n').map((l) => l.split(' '));
  assert.equal(lines.map(([t]) => t), want.tokens);
  // Printed to 3 decimals: within rounding of the CLI's probabilities.
  assertClose(lines.map(([, p]) => Number(p)), want.logits.map((z) => 1 / (1 + Math.exp(-z))), { atol: 6e-4, rtol: 0, label: 'printed probabilities' });
});

s('without WebGPU the page says it runs on the CPU device, and gives the CLI\'s logits there', async () => {
  if (!available) return;
  const plain = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
  try {
    const p = await openDemo(plain);
    assert.is(await p.getAttribute('#device', 'data-device'), 'cpu');
    assert.ok(await p.$eval('#device', (el) => el.classList.contains('fallback')), 'the fallback line is marked');
    assert.match((await p.textContent('#device'))!, /No WebGPU here \(.+\): running on the CPU device instead/);
    await p.fill('#model-url', '/runs/a/pair/discriminator/');
    await p.click('#load-url');
    await loaded(p, 'discriminator');
    sameDetect(await detectIn(p, TEXT), cli('detect', '--model', models.disc, TEXT) as DetectJSON, 'detect on the page\'s CPU device', 1e-5);
    await p.screenshot({ path: join(OUT, 'demo-cpu.png') });
    assert.equal(pageErrors, []);
  } finally {
    await plain.close();
  }
});

s.run();
