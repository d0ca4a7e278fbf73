// The engine core is browser-safe: src/index.ts bundles for the browser platform with no Node
// built-in, and the bundle runs (here on its CPU device; in a browser WebGPUDevice.create() finds
// navigator.gpu).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { build } from 'esbuild';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const s = suite('browser bundle');

s('bundles without Node built-ins and trains a parameter on its CPU device', async () => {
  const r = await build({ entryPoints: ['src/index.ts'], bundle: true, platform: 'browser', format: 'esm', write: false, logLevel: 'silent' });
  const code = r.outputFiles[0].text;
  assert.not.match(code, /from\s*["']node:|require\(["'](fs|path|os|worker_threads)["']\)/);
  const file = join(mkdtempSync(join(tmpdir(), 'electra-browser-')), 'bundle.mjs');
  writeFileSync(file, code);
  const m = await import(pathToFileURL(file).href);
  const dev = new m.CpuDevice();
  const w = m.tensor([0.5, -1, 2], [3], { device: dev }).param();
  const loss = m.tidy(() => m.ops.sum(m.ops.square(w)));
  loss.backward();
  assert.equal(Array.from(await w.grad.data()), [1, -2, 4]);
  assert.is(typeof m.WebGPUDevice.create, 'function');
});

s.run();
