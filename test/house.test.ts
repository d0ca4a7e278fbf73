// The house guard: every import in src/ against the floor table of src/README.md. An import stays in its
// row's folder or goes down to a lower floor; never up, never sideways to another row of the same floor,
// never around a cycle (file-level, type-only imports included); Node built-ins and Dawn only in rows
// marked Node. Failures name the file and the import. The checker is tried on a made-up tree first, so a
// checker that finds nothing cannot pass unnoticed.

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';

const s = suite('house');

interface Row { floor: number; path: string; node: boolean }

/** Rows of the floor table: `| floor | \`path\` | yes/no | what |`. */
function parseFloors(md: string): Row[] {
  const rows: Row[] = [];
  for (const line of md.split('\n')) {
    const m = /^\|\s*(\d+)\s*\|\s*`([^`]+)`\s*\|\s*(yes|no)\s*\|/.exec(line);
    if (m) rows.push({ floor: Number(m[1]), path: m[2], node: m[3] === 'yes' });
  }
  return rows;
}

/** Import specifiers of a TypeScript source: static imports/exports (type-only too), side-effect and dynamic imports. */
export function importsOf(src: string): string[] {
  const code = src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const out: string[] = [];
  for (const re of [/^\s*(?:import|export)\s[^'";]*?\sfrom\s*['"]([^'"]+)['"]/gm, /^\s*import\s*['"]([^'"]+)['"]/gm, /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g]) {
    for (const m of code.matchAll(re)) out.push(m[1]);
  }
  return out;
}

const NODE_ONLY = (spec: string) => spec.startsWith('node:') || spec === 'webgpu';

/** Problems of a tree (file path → source) under the floor rows: one line each, naming the file and the import. */
export function checkHouse(files: Map<string, string>, rows: Row[]): string[] {
  const problems: string[] = [];
  const rowOf = (f: string) => rows.filter((r) => f === r.path || (r.path.endsWith('/') && f.startsWith(r.path))).sort((a, b) => b.path.length - a.path.length)[0];
  const edges = new Map<string, string[]>();
  for (const [f, src] of files) {
    const from = rowOf(f);
    if (!from) { problems.push(`${f}: on no floor of src/README.md`); continue; }
    const deps: string[] = [];
    for (const spec of importsOf(src)) {
      if (!spec.startsWith('.')) {
        if (NODE_ONLY(spec) && !from.node) problems.push(`${f}: imports '${spec}' (Node-only) in ${from.path}, a browser-safe row`);
        continue;
      }
      const target = posix.normalize(posix.join(posix.dirname(f), spec)).replace(/\.js$/, '.ts');
      if (!files.has(target)) continue; // outside src/ (none today) or not TypeScript
      deps.push(target);
      const to = rowOf(target);
      if (!to || to === from) continue;
      if (to.floor > from.floor) problems.push(`${f}: imports '${spec}' from floor ${to.floor} (${to.path}), above its own floor ${from.floor} (${from.path})`);
      else if (to.floor === from.floor) problems.push(`${f}: imports '${spec}' sideways from ${to.path}, another row of floor ${from.floor}`);
    }
    edges.set(f, deps);
  }
  // Cycles: strongly connected components of the file graph (Tarjan, iterative).
  let index = 0;
  const idx = new Map<string, number>(), low = new Map<string, number>(), onStack = new Set<string>(), stack: string[] = [];
  for (const root of edges.keys()) {
    if (idx.has(root)) continue;
    const work: [string, number][] = [[root, 0]];
    idx.set(root, index); low.set(root, index); index++; stack.push(root); onStack.add(root);
    while (work.length) {
      const top = work[work.length - 1];
      const [v, i] = top;
      const ds = edges.get(v) ?? [];
      if (i < ds.length) {
        top[1]++;
        const w = ds[i];
        if (!idx.has(w)) { idx.set(w, index); low.set(w, index); index++; stack.push(w); onStack.add(w); work.push([w, 0]); }
        else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
        continue;
      }
      work.pop();
      if (work.length) { const u = work[work.length - 1][0]; low.set(u, Math.min(low.get(u)!, low.get(v)!)); }
      if (low.get(v) === idx.get(v)) {
        const comp: string[] = [];
        let w: string;
        do { w = stack.pop()!; onStack.delete(w); comp.push(w); } while (w !== v);
        if (comp.length > 1 || (edges.get(v) ?? []).includes(v)) {
          const inComp = new Set(comp);
          const links = comp.flatMap((a) => (edges.get(a) ?? []).filter((b) => inComp.has(b)).map((b) => `${a} → ${b}`));
          problems.push(`import cycle through ${comp.sort().join(', ')} (${links.sort().join('; ')})`);
        }
      }
    }
  }
  return problems;
}

function readTree(dir: string, out = new Map<string, string>()): Map<string, string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) readTree(p, out);
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.set(p.split('\\').join('/'), readFileSync(p, 'utf8'));
  }
  return out;
}

s('the checker finds an upward import, a sideways one, a cycle and a Node import in a browser-safe row', () => {
  const rows: Row[] = [{ floor: 1, path: 'src/a/', node: false }, { floor: 1, path: 'src/t/', node: false }, { floor: 2, path: 'src/b/', node: true }];
  const files = new Map([
    ['src/a/x.ts', "import { y } from './y.js';\nimport type { B } from '../b/b.js';\n"],
    ['src/a/y.ts', "// import { no } from '../b/b.js';\nimport { x } from './x.js';\nimport { readFileSync } from 'node:fs';\n"],
    ['src/b/b.ts', "import {\n  x,\n} from '../a/x.js';\nimport 'webgpu';\n"],
    ['src/t/t.ts', "export { x } from '../a/x.js';\n"],
  ]);
  const p = checkHouse(files, rows);
  assert.ok(p.some((l) => l.startsWith("src/a/x.ts: imports '../b/b.js' from floor 2 (src/b/), above its own floor 1")), p.join('\n'));
  assert.ok(p.some((l) => l.startsWith("src/t/t.ts: imports '../a/x.js' sideways from src/a/")), p.join('\n'));
  assert.ok(p.some((l) => l.startsWith("src/a/y.ts: imports 'node:fs' (Node-only)")), p.join('\n'));
  assert.ok(p.some((l) => l.startsWith('import cycle through src/a/x.ts, src/a/y.ts, src/b/b.ts')), p.join('\n'));
  assert.not.ok(p.some((l) => l.startsWith('src/b/b.ts: imports')), 'a Node row may import webgpu and go down');
  assert.is(p.length, 4, p.join('\n'));
});

s('src/ keeps its floors: no import runs up or sideways, none closes a cycle, Node only where allowed', () => {
  const rows = parseFloors(readFileSync('src/README.md', 'utf8'));
  assert.ok(rows.length >= 10, `floor table of src/README.md read (${rows.length} rows)`);
  const problems = checkHouse(readTree('src'), rows);
  assert.equal(problems, [], `\n${problems.join('\n')}`);
});

s.run();
