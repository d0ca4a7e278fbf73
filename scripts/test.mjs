// Runs every build/test/**/*.test.js in one process with uvu, then prints the plain closing line
// "N passed, N failed" and exits (Dawn keeps the event loop alive, so the exit is explicit).
// Usage: node scripts/test.mjs [substring filter]
import { run } from 'uvu/run';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

function walk(dir, out = []) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.test.js')) out.push(p);
  }
  return out;
}
const filter = process.argv[2] ?? '';
const files = walk('build/test').filter((f) => f.includes(filter));
let captured = '';
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = (chunk, ...rest) => { captured = (captured + String(chunk)).slice(-2000); return write(chunk, ...rest); };
await run(files.map((f) => ({ name: f, file: resolve(f) })), { bail: false });
process.stdout.write = write;
const strip = captured.replace(/\x1b\[[0-9;]*m/g, '');
const total = Number(/Total:\s+(\d+)/.exec(strip)?.[1] ?? 0);
const passed = Number(/Passed:\s+(\d+)/.exec(strip)?.[1] ?? 0);
const skipped = Number(/Skipped:\s+(\d+)/.exec(strip)?.[1] ?? 0);
const code = process.exitCode ?? 0;
console.log(`\ntests: ${passed} passed, ${total - passed} failed, ${skipped} skipped`);
if (total === 0) { console.error('no test ran'); process.exit(1); }
process.exit(code);
