// Reverse-mode autograd. Each op output that needs a gradient carries a GradNode (recorded by the op
// layer through src/tensor/tensor.ts): the op name, its inputs, the tensors its rule needs (saved as
// graph-owned handles) and a typed context.
// backward(): topological order from the loss, one rule call per node (rules.ts), gradients summed
// where branches merge; leaf gradients accumulate into `.grad` (+=, for micro-batch accumulation).
// Saved tensors are released as soon as their node's rule has run; the graph is freed as it goes.
// Loading this module installs `Tensor.backward()`.

import { type GradNode, Tensor, alias, keep, noGrad, setBackwardEngine, tidy } from '../tensor/tensor.js';
import { fmt, sameShape } from '../device/shape.js';
import { accumulate, fill } from '../tensor/ops.js';
import { backwardRules } from './rules.js';

export { isGradEnabled, noGrad, type GradNode } from '../tensor/tensor.js';

function freeNode(t: Tensor): void {
  const n = t.node;
  if (!n) return;
  for (const s of n.saved) s.dispose();
  n.saved = [];
  t.node = null;
}

/** Backpropagates from `root` (a scalar unless `grad` is given). */
export function backward(root: Tensor, grad?: Tensor): void {
  root.check('backward');
  if (!root.requiresGrad) throw new Error('backward: tensor does not require grad (no parameter reached it, or it was built under noGrad)');
  if (!grad && root.size !== 1) throw new Error(`backward: root ${fmt(root.shape)} is not a scalar; pass its gradient`);
  if (grad && !sameShape(grad.shape, root.shape)) throw new Error(`backward: gradient ${fmt(grad.shape)} does not match root ${fmt(root.shape)}`);

  // Topological order (iterative DFS: deep graphs must not overflow the stack).
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const ins = t.node?.inputs ?? [];
    if (i < ins.length) {
      top[1]++;
      const u = ins[i];
      if (u.requiresGrad && !seen.has(u)) { seen.add(u); stack.push([u, 0]); }
    } else {
      stack.pop();
      order.push(t);
    }
  }

  const grads = new Map<Tensor, Tensor>();
  grads.set(root, keep(grad ? alias(grad) : fill(root.shape, 1, 'f32', root.device)));
  for (let idx = order.length - 1; idx >= 0; idx--) {
    const t = order[idx];
    const g = grads.get(t);
    grads.delete(t);
    if (!g) { freeNode(t); continue; }
    const node = t.node;
    if (!node) {
      // A leaf: accumulate into .grad.
      if (t.grad) { t.grad = accumulate(t.grad, g); g.dispose(); } else t.grad = g;
      continue;
    }
    const rule = backwardRules[node.op] as (g: Tensor, n: GradNode) => (Tensor | null)[];
    // Rules may return g itself or one tensor twice (add, x + x): give each slot its own handle.
    const used = new Set<Tensor>([g]);
    const gs = noGradTidy(() => rule(g, node)).map((gi) => {
      if (!gi) return gi;
      if (used.has(gi)) return alias(gi);
      used.add(gi);
      return gi;
    });
    if (!gs.includes(g)) g.dispose();
    node.inputs.forEach((u, k) => {
      const gi = gs[k];
      if (!gi) return;
      if (!u.requiresGrad) { gi.dispose(); return; }
      if (!sameShape(gi.shape, u.shape)) throw new Error(`backward: rule for ${node.op} returned ${fmt(gi.shape)} for input ${fmt(u.shape)}`);
      const prev = grads.get(u);
      if (prev) { grads.set(u, accumulate(prev, gi)); gi.dispose(); } else grads.set(u, gi);
    });
    freeNode(t);
  }
}
setBackwardEngine(backward);

/** Rules run without recording and inside a scope, so their temporaries are freed on return. */
function noGradTidy(fn: () => (Tensor | null)[]): (Tensor | null)[] {
  const out = noGrad(() => tidy(fn));
  for (const t of out) if (t) keep(t);
  return out;
}

/** Drops a graph without running backward (e.g. an evaluation forward that recorded one). */
export function releaseGraph(root: Tensor): void {
  const stack = [root];
  while (stack.length) {
    const t = stack.pop()!;
    if (!t.node) continue;
    stack.push(...t.node.inputs);
    freeNode(t);
  }
}

