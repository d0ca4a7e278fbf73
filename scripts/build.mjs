// Builds with esbuild: every .ts under src/, test/, bench/ and demo/ (but the page script) is transpiled one-to-one
// into build/ (Node ESM, imports keep their .js names), and the engine core is bundled for browsers into dist/.
// The demo page's script is bundled into build/demo-page/ (not shipped: dist/ is in the npm package), importing
// the engine bundle rather than a copy of it.
// Type checking is separate (`npm run typecheck`): esbuild strips types without checking them.
// `--types` also emits the packages' declarations (tsc, tsconfig.types.json) into dist/types/: what the
// `types` conditions of package.json's exports point at. It is off by default because it takes seconds
// where the rest takes a fraction of one; `npm run build`, `npm test` and `npm pack` (prepack) pass it.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const roots = ['src', 'test', 'bench', 'demo'];
// demo/main.ts is a page script (DOM, top-level await): bundled for the browser below, never run by Node.
const entryPoints = roots.filter((r) => existsSync(r)).flatMap((r) => walk(r)).filter((p) => p !== join('demo', 'main.ts'));
rmSync('build', { recursive: true, force: true });
await build({
  entryPoints, outdir: 'build', outbase: '.', format: 'esm', platform: 'node', target: 'node20',
  sourcemap: 'inline', logLevel: 'warning',
});
// The browser bundle: the engine core only (no Dawn, no file system).
await build({
  entryPoints: ['src/index.ts'], outfile: 'dist/electra-webgpu.browser.js', bundle: true, format: 'esm',
  platform: 'browser', target: 'es2022', sourcemap: true, logLevel: 'warning',
});
// The demo page's script (served at /demo/main.js by demo/server.ts). Its imports of the engine ('../src/index.js',
// typed against the source) become imports of the shipped bundle at /dist/, so the page runs
// dist/electra-webgpu.browser.js exactly as an app would.
const engineAsBundle = {
  name: 'engine-as-bundle',
  setup(b) {
    b.onResolve({ filter: /\/src\/index\.js$/ }, () => ({ path: '/dist/electra-webgpu.browser.js', external: true }));
  },
};
await build({
  entryPoints: ['demo/main.ts'], outfile: 'build/demo-page/main.js', bundle: true, format: 'esm', platform: 'browser', target: 'es2022',
  sourcemap: true, logLevel: 'warning', plugins: [engineAsBundle],
});
if (process.argv.includes('--types')) {
  rmSync('dist/types', { recursive: true, force: true }); // no stale declaration of a deleted file
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.types.json'], { stdio: 'inherit' });
}
