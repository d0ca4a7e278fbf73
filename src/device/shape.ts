// Shapes: row-major, contiguous. Broadcasting follows NumPy: align from the right, size-1 dims stretch.
// Every shape error names the op and the shapes involved, and is raised before any dispatch.

export type Shape = readonly number[];

export class ShapeError extends Error {
  override name = 'ShapeError';
}

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

const fmtCache = new WeakMap<Shape, string>();
/** "[2, 3]": shapes appear in every op label, so frozen tensor shapes keep theirs. */
export function fmt(shape: Shape): string {
  let s = fmtCache.get(shape);
  if (s === undefined) {
    s = `[${shape.join(', ')}]`;
    if (Object.isFrozen(shape)) fmtCache.set(shape, s);
  }
  return s;
}

/** Row-major strides in elements. */
export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]; }
  return s;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function checkShape(shape: Shape, op: string): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(`${op}: invalid shape ${fmt(shape)} (dims must be non-negative integers)`);
  }
}

export function broadcastShapes(op: string, ...shapes: Shape[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i];
      if (d === out[o] || d === 1) continue;
      if (out[o] === 1) { out[o] = d; continue; }
      throw new ShapeError(`${op}: shapes ${shapes.map(fmt).join(' and ')} cannot be broadcast together (dim ${o}: ${out[o]} vs ${d})`);
    }
  }
  return out;
}

/** Strides of `shape` read as if broadcast to `out` (0 where a dim is stretched). */
export function broadcastStrides(shape: Shape, out: Shape): number[] {
  const st = stridesOf(shape);
  const r = new Array<number>(out.length).fill(0);
  for (let i = 0; i < shape.length; i++) {
    const o = out.length - shape.length + i;
    r[o] = shape[i] === 1 && out[o] !== 1 ? 0 : st[i];
  }
  return r;
}

export function normAxis(axis: number, rank: number, op: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new ShapeError(`${op}: axis ${axis} out of range for rank ${rank}`);
  return a;
}

/** Axes of `out` (after left-padding `inp` to out's rank) that broadcasting stretched; used to sum gradients back. */
export function broadcastAxes(inp: Shape, out: Shape): number[] {
  const axes: number[] = [];
  for (let o = 0; o < out.length; o++) {
    const i = o - (out.length - inp.length);
    if (i < 0 || (inp[i] === 1 && out[o] !== 1)) axes.push(o);
  }
  return axes;
}

export const ceilDiv = (a: number, b: number): number => Math.floor((a + b - 1) / b);
