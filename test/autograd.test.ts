// The tape: branch merges, leaf accumulation across micro-batches, noGrad, tidy/keep ownership, and
// that saved tensors and graphs are released (device memory returns to where it started).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { noGrad, releaseGraph } from '../src/autograd/tape.js';
import type { Device } from '../src/device/device.js';
import * as o from '../src/tensor/ops.js';
import { keep, tensor, tidy } from '../src/tensor/tensor.js';
import { assertClose, cpu, gpu, rand } from './helpers.js';

const s = suite('autograd');

for (const name of ['cpu', 'webgpu'] as const) {
  const getDev = async (): Promise<Device | null> => (name === 'cpu' ? cpu : gpu());

  s(`${name}: branch merge, x used three times`, async () => {
    const dev = await getDev(); if (!dev) return;
    const x = tensor([1, -2, 3], [3], { device: dev }).param();
    const l = tidy(() => o.sum(o.add(o.mul(x, x), x)));   // Σ x² + x → 2x + 1
    l.backward();
    assertClose(await x.grad!.data(), [3, -3, 7]);
    l.dispose(); x.grad!.dispose(); x.dispose();
  });

  s(`${name}: gradients accumulate across micro-batches`, async () => {
    const dev = await getDev(); if (!dev) return;
    const w = tensor([0.5, -1], [2], { device: dev }).param();
    for (const k of [1, 2, 3]) {
      const l = tidy(() => o.sum(o.muls(w, k)));
      l.backward();
      l.dispose();
    }
    assertClose(await w.grad!.data(), [6, 6]);
    w.grad!.dispose(); w.dispose();
  });

  s(`${name}: noGrad records nothing`, async () => {
    const dev = await getDev(); if (!dev) return;
    const w = tensor([1, 2], [2], { device: dev }).param();
    const y = noGrad(() => o.mul(w, w));
    assert.is(y.requiresGrad, false);
    assert.is(y.node, null);
    y.dispose(); w.dispose();
  });

  s(`${name}: backward frees saved tensors; memory returns to baseline`, async () => {
    const dev = await getDev(); if (!dev) return;
    const w = tensor(rand(64 * 32, 3), [64, 32], { device: dev }).param();
    const x = tensor(rand(16 * 64, 4), [16, 64], { device: dev });
    await dev.sync();
    const before = dev.memory().bytesInUse;
    for (let step = 0; step < 3; step++) {
      const l = tidy(() => o.mean(o.square(o.gelu(o.matmul(x, w)))));
      l.backward();
      l.dispose();
    }
    const g = w.grad!;
    await g.data();
    // Only the gradient itself is new (its buffer may be rounded up to a pool size class).
    const growth = dev.memory().bytesInUse - before;
    assert.ok(growth >= g.size * 4 && growth <= g.size * 4 * 1.125 + 256, `grew by ${growth} bytes`);
    g.dispose(); w.grad = null;
    assert.is(dev.memory().bytesInUse, before);
    w.dispose(); x.dispose();
  });

  s(`${name}: tidy keeps returned tensors and disposes the rest`, async () => {
    const dev = await getDev(); if (!dev) return;
    const base = dev.memory().bytesInUse;
    let inner: ReturnType<typeof tensor> | null = null;
    const out = tidy(() => {
      const a = tensor([1, 2, 3], [3], { device: dev });
      inner = o.exp(a);
      const kept = keep(o.neg(a));
      return { y: o.add(inner, a), kept };
    });
    assert.ok(inner!.isDisposed);
    assert.is(out.y.isDisposed, false);
    assertClose(await out.y.data(), [1, 2, 3].map((v) => Math.exp(v) + v));
    out.y.dispose(); out.kept.dispose();
    assert.is(dev.memory().bytesInUse, base);
  });

  s(`${name}: releaseGraph drops an unused graph`, async () => {
    const dev = await getDev(); if (!dev) return;
    const w = tensor(rand(100, 1), [100], { device: dev }).param();
    const base = dev.memory().bytesInUse;
    const y = tidy(() => o.sum(o.exp(o.mul(w, w))));
    assert.ok(dev.memory().bytesInUse > base + 4 * 4);
    releaseGraph(y);
    y.dispose();
    assert.is(dev.memory().bytesInUse, base);
    w.dispose();
  });
}

s('a disposed input of a recorded op is still usable by backward', async () => {
  const x = tensor([2, 3], [2], { device: cpu }).param();
  const l = tidy(() => {
    const sq = o.mul(x, x);
    const e = o.exp(sq);            // saves its output
    sq.dispose();                   // the graph holds what backward needs
    return o.sum(e);
  });
  l.backward();
  assertClose(await x.grad!.data(), [2, 3].map((v) => 2 * v * Math.exp(v * v)), { rtol: 1e-5 });
});

s.run();
