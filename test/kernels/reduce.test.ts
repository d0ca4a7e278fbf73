// Reductions on WebGPU against the CPU reference under the capabilities of a software adapter and of a
// GPU: column sums and maxima that take the two-pass split (partials per slab of rows, then a fixed-order
// sum), the per-output and per-row kernels, awkward sizes; deterministic run to run; no leaked partials.

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { assertClose, cpu, gpu, rand } from '../helpers.js';
import { assertNoLeak, withCaps } from './fused.js';
import type { Device, GpuCaps } from '../../src/device/device.js';
import { reduceSlabs } from '../../src/kernels/reduce.js';
import * as o from '../../src/tensor/ops.js';
import { tensor, tidy } from '../../src/tensor/tensor.js';

const s = suite('kernels/reduce');

/** [shape, axes]: bias-gradient column sums, an odd inner size, outer > 1, a reduced middle axis, rows. */
const cases: [number[], number[]][] = [
  [[2048, 256], [0]], [[1537, 129], [0]], [[3, 700, 20], [1]], [[4, 300, 8], [0, 1]], [[64, 4096], [1]], [[5, 7], [0]],
];

async function compare(dev: Device, what: string) {
  for (const [shape, axes] of cases) {
    const n = shape.reduce((a, b) => a * b, 1), x = rand(n, n % 97, -2, 2);
    for (const op of ['sum', 'max'] as const) {
      const run = (d: Device) => tidy(() => (op === 'sum' ? o.sum : o.max)(tensor(x, shape, { device: d }), axes));
      const want = await run(cpu).data(), got = await run(dev).data();
      // f32 sums of ~2000 values in [-2, 2] in a different order: a few ulps of the partial sums.
      assertClose(got, want, { atol: 2e-4, rtol: 1e-5, label: `${what}: ${op}([${shape}], ${axes})` });
    }
  }
}

s('sum and max over any axes match the CPU: software-adapter and GPU variants, split or not', async () => {
  const dev = await gpu();
  if (!dev) return;
  await withCaps(dev, { software: true }, () => compare(dev, 'software'));
  await withCaps(dev, { software: false }, () => compare(dev, 'GPU'));
});

s('column sums split over slabs where one pass would idle the device, never below 32 rows a slab', () => {
  const gpuCaps: GpuCaps = { maxWorkgroupSize: 1024, maxWorkgroupStorage: 49152, subgroups: true, f16: false, software: false };
  assert.ok(reduceSlabs('sum', 1, 16384, 256, gpuCaps) >= 66, 'bias gradient [16384, 256] on a GPU');
  assert.ok(reduceSlabs('sum', 1, 2048, 256, { ...gpuCaps, software: true }) > 1, 'also on a 2-core software adapter');
  assert.is(reduceSlabs('sum', 1, 40, 256, gpuCaps), 1, 'too few rows to split');
  assert.is(reduceSlabs('sum', 1, 16384, 1 << 20, gpuCaps), 1, 'enough outputs for one pass');
  assert.is(reduceSlabs('argmax', 1, 16384, 256, gpuCaps), 1, 'argmax stays one pass');
  assert.is(reduceSlabs('sum', 16384, 256, 1, gpuCaps), 1, 'row reductions use the per-row kernel');
  assert.is(reduceSlabs('sum', 1, 16384, 256, undefined), 1, 'the CPU device runs the reference');
});

s('a split column sum is the same bits every run and leaves no temporaries', async () => {
  const dev = await gpu();
  if (!dev) return;
  await withCaps(dev, { software: false }, async () => {
    const x = tensor(rand(4096 * 96, 3), [4096, 96], { device: dev });
    const a = await o.sum(x, 0).data(), b = await o.sum(x, 0).data();
    assert.ok(a.every((v, i) => Object.is(v, b[i])), 'two runs differ');
    await assertNoLeak(dev, 'split sum', async () => { const y = o.sum(x, 0); await y.data(); y.dispose(); });
    x.dispose();
  });
});

s.run();
