// Modules are plain objects; parameters are found by walking own properties into dotted names
// (arrays give indices), so `encoder.layer.0.attention.self.query.weight` is simply where the tensor
// sits. That one walk drives the optimizer, checkpoints and Hugging Face loading. No base class,
// no registration. Properties whose names start with '_' are skipped (configs, caches, RNGs).

import { Tensor } from '../tensor/tensor.js';

export function namedParameters(root: object, prefix = ''): [string, Tensor][] {
  const out: [string, Tensor][] = [];
  const seen = new Set<unknown>();
  const walk = (v: unknown, path: string) => {
    if (v === null || typeof v !== 'object' || seen.has(v)) return;
    seen.add(v);
    if (v instanceof Tensor) { if (v.requiresGrad) out.push([path, v]); return; }
    if (Array.isArray(v)) { v.forEach((x, i) => walk(x, path ? `${path}.${i}` : String(i))); return; }
    if (Object.getPrototypeOf(v) !== Object.prototype && !isModuleLike(v)) return;
    for (const [k, x] of Object.entries(v)) {
      if (k.startsWith('_')) continue;
      walk(x, path ? `${path}.${k}` : k);
    }
  };
  walk(root, prefix);
  return out;
}

/** Class instances are modules unless they are engine values (typed arrays, maps, devices…). */
function isModuleLike(v: object): boolean {
  return !(ArrayBuffer.isView(v) || v instanceof Map || v instanceof Set || v instanceof Promise || 'alloc' in v);
}

export function parameters(root: object): Tensor[] { return namedParameters(root).map(([, t]) => t); }

export function countParameters(root: object): number {
  return parameters(root).reduce((n, t) => n + t.size, 0);
}

/** Disposes every parameter (and its gradient) of a module tree. */
export function disposeModule(root: object): void {
  for (const t of parameters(root)) { t.grad?.dispose(); t.grad = null; t.dispose(); }
}

export function zeroGrad(root: object): void {
  for (const t of parameters(root)) { t.grad?.dispose(); t.grad = null; }
}
