// The demo page's server (`npm run demo:web`): plain node:http, static files only, bound to localhost. Routes:
//   /                 demo/index.html
//   /dist/…           the engine's browser bundle (dist/electra-webgpu.browser.js)
//   /demo/main.js     the page's script (bundled by scripts/build.mjs into build/demo-page/)
//   /runs/…           run and model directories (default ./runs, where `npm run pretrain` writes runs/tiny)
//   /runs.json        the model directories under /runs/ (folders holding a config.json), for the page's list
//   /sample.txt       the text the page trains on: the first chapters of Moby-Dick from the bundled corpus
// GET and HEAD only; a path that leaves its root is refused. Nothing else here: the page does the work.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { documentsToText } from '../src/text/corpus.js';
import { loadBundledCorpus } from '../src/text/node/corpus.js';

export interface DemoServerOptions {
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  /** Served at /runs/ (default: runs/ of the working directory). */
  runs?: string;
  /** The repository root holding demo/ and dist/ (default: found from this file). */
  root?: string;
}

export interface DemoServer { url: string; server: Server; close(): Promise<void> }

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.map': 'application/json', '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8', '.css': 'text/css; charset=utf-8', '.png': 'image/png', '.svg': 'image/svg+xml',
};

/** Chapters of Moby-Dick in the line format (a sentence per line, blank lines between chapters): about 280 KB. */
export const SAMPLE_CHAPTERS = 30;
let sample: string | null = null;
export function sampleText(): string {
  sample ??= documentsToText(loadBundledCorpus('moby-dick').slice(0, SAMPLE_CHAPTERS));
  return sample;
}

/** Directories under `runs` (two levels: runs/NAME and runs/NAME/SUB) that hold a config.json, as URL paths. */
function listModels(runs: string): string[] {
  const out: string[] = [];
  const visit = (dir: string, depth: number) => {
    let names: string[];
    try { names = readdirSync(dir).sort(); } catch { return; }
    if (depth > 0 && names.includes('config.json')) out.push(`/runs/${relative(runs, dir).split(sep).join('/')}/`);
    if (depth < 2) for (const n of names) if (!n.startsWith('.') && n !== 'state' && n !== 'data' && statSync(join(dir, n)).isDirectory()) visit(join(dir, n), depth + 1);
  };
  visit(runs, 0);
  return out;
}

/** The file a URL path names under `root`, or null when it would leave it. */
function inside(root: string, urlPath: string): string | null {
  const p = resolve(root, '.' + urlPath);
  return p === root || p.startsWith(root + sep) ? p : null;
}

export function startDemoServer(o: DemoServerOptions = {}): Promise<DemoServer> {
  const root = resolve(o.root ?? join(fileURLToPath(import.meta.url), '..', '..', '..'));
  const runs = resolve(o.runs ?? 'runs');
  const send = (res: ServerResponse, req: IncomingMessage, status: number, type: string, body: Uint8Array | string) => {
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  const server = createServer(async (req, res) => {
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, req, 405, 'text/plain', 'GET or HEAD only\n');
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
      if (path === '/sample.txt') return send(res, req, 200, TYPES['.txt'], sampleText());
      if (path === '/runs.json') return send(res, req, 200, TYPES['.json'], JSON.stringify(listModels(runs)));
      let file: string | null = null;
      if (path === '/' || path === '/index.html') file = join(root, 'demo', 'index.html');
      else if (path.startsWith('/dist/')) file = inside(join(root, 'dist'), path.slice('/dist'.length));
      else if (path.startsWith('/demo/')) file = inside(join(root, 'build', 'demo-page'), path.slice('/demo'.length));
      else if (path.startsWith('/runs/')) file = inside(runs, path.slice('/runs'.length));
      if (!file || !existsSync(file) || !statSync(file).isFile()) return send(res, req, 404, 'text/plain', `not found: ${path}\n`);
      return send(res, req, 200, TYPES[extname(file)] ?? 'application/octet-stream', await readFile(file));
    } catch (e) {
      send(res, req, 500, 'text/plain', `${(e as Error).message}\n`);
    }
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(o.port ?? 8080, o.host ?? '127.0.0.1', () => {
      const a = server.address();
      const port = typeof a === 'object' && a ? a.port : o.port;
      ok({ url: `http://${o.host ?? '127.0.0.1'}:${port}/`, server, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}

// `node build/demo/server.js [--port N] [--runs DIR]`
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name: string) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : undefined; };
  const s = await startDemoServer({ port: Number(arg('--port') ?? 8080), runs: arg('--runs') });
  const page = join(fileURLToPath(import.meta.url), '..', '..', 'demo-page', 'main.js');
  if (!existsSync(page)) console.warn(`warning: ${page} is missing; run \`node scripts/build.mjs\` first`);
  console.log(`electra-webgpu demo: ${s.url}  (models from ${resolve(arg('--runs') ?? 'runs')}; Ctrl-C stops)`);
}
