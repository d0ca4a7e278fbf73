// The CLI on a terminal: Dawn's two native-code warnings about lavapipe's descriptor limits are filtered out
// of stderr (users cannot act on them), and the command's own output and exit code come through. Runs the
// command under `script` (a pseudo-terminal, util-linux); a pipe gets the process as is.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { gpu } from './helpers.js';

const s = suite('cli on a terminal');
const cmd = 'node build/src/cli/main.js demo --steps 2 --device webgpu';

s('no Dawn limit warnings on a terminal; the output and the exit code come through; a pipe is untouched', async () => {
  if (!existsSync('/usr/bin/script') || !(await gpu())) { console.log('  (no script(1) or no WebGPU here)'); return; }
  const tty = execFileSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', env: process.env });
  assert.match(tty, /final loss \d/);
  assert.not.match(tty, /artificially reduced/);
  const piped = spawnSync('sh', ['-c', cmd], { encoding: 'utf8', env: process.env });
  assert.is(piped.status, 0);
  assert.match(piped.stdout, /final loss \d/);
  // On lavapipe Dawn prints them (a real GPU's driver reports limits Dawn keeps): the filter is what removed them.
  if (/llvmpipe/.test(piped.stdout)) assert.match(piped.stderr, /artificially reduced/);
  const bad = spawnSync('script', ['-qec', 'node build/src/cli/main.js demo --steps x', '/dev/null'], { encoding: 'utf8', env: process.env });
  assert.is(bad.status, 1, 'the exit code of the command');
});

s.run();
