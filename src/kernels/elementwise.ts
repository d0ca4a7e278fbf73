// Elementwise kernels: unary (with an optional scalar) and its derivative, binary and where, with NumPy
// broadcasting; cast; in-place accumulation. One table per op kind holds the CPU formula and the WGSL
// expression side by side, typed over the op-name union so the compiler rejects an op missing either; a
// unary op's entry also holds its derivative, which is its whole backward rule (src/autograd/rules.ts).
// Broadcast indexing is generated per input: contiguous (i), scalar (0), suffix (i % n) or strided.
// Launchers (bottom) take and return device arrays; the op layer (src/tensor/ops.ts) wraps them.

import { type ArraySpec, type Binding, type DeviceArray, type Field, type Kernel, flatGrid, flatMain, header, launch, launchInto, uniformOnly } from '../device/device.js';
import type { DType } from '../device/dtype.js';
import { type Shape, broadcastShapes, broadcastStrides, numel, sameShape } from '../device/shape.js';

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

// ---- CPU numerics --------------------------------------------------------------------------

/** erf to float64 accuracy: Maclaurin series near 0, continued fraction for erfc in the tails. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let term = ax, sum = ax;
    const x2 = ax * ax;
    for (let n = 1; n < 100; n++) {
      term *= -x2 / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * TWO_OVER_SQRT_PI * sum;
  }
  // erfc(x) = exp(-x²)/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + …)))) (Lentz, evaluated backwards)
  let f = 0;
  for (let k = 60; k >= 1; k--) f = (k / 2) / (ax + f);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  return Math.sign(x) * (1 - erfc);
}

export const geluRef = (x: number) => 0.5 * x * (1 + erf(x * SQRT1_2));

const f32buf = new Float32Array(1), u32buf = new Uint32Array(f32buf.buffer);
/**
 * x rounded to the nearest f16 (ties to even), as a number: ±Infinity past 65504 (65520 and up rounds
 * there), subnormals below 2⁻¹⁴. The CPU reference of every f16 operand conversion.
 */
export function roundF16(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  f32buf[0] = x;
  const u = u32buf[0], sign = u >>> 31 ? -1 : 1, a = Math.abs(f32buf[0]);
  if (a >= 65520) return sign * Infinity;
  // Quantum of the f16 binade of a (2⁻²⁴ for subnormals), then round half to even on that grid.
  const e = Math.max(Math.floor(Math.log2(a)), -14);
  let q = 2 ** (e - 10);
  if (a / q >= 2048) q *= 2;                       // Math.log2 rounded across a binade edge
  else if (a / q < 1024 && e > -14) q /= 2;
  const t = a / q, f = Math.floor(t), r = t - f;
  const n = r > 0.5 || (r === 0.5 && f % 2 === 1) ? f + 1 : f;
  return sign * n * q;
}
const sigmoidRef = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

// WGSL helpers, injected only into modules whose expressions use them.
/** WGSL `erf_` and `gelu_` (exact erf form), shared with the matmul GELU epilogue. */
export const WGSL_ERF = `
// erf, Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7, below f32 resolution near 1).
fn erf_(x: f32) -> f32 {
  let a = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-a * a);
  return select(-y, y, x >= 0.0);
}
fn gelu_(x: f32) -> f32 { return 0.5 * x * (1.0 + erf_(x * ${SQRT1_2})); }
`;
const WGSL_SIGMOID = `
fn sigmoid_(x: f32) -> f32 { let e = exp(-abs(x)); return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0); }
`;

// ---- op tables -----------------------------------------------------------------------------

/** The unary primitives: y = f(x, c), c a per-call scalar (unused by most). */
export type UnaryOp =
  | 'neg' | 'exp' | 'log' | 'sqrt' | 'rsqrt' | 'tanh' | 'erf' | 'gelu' | 'relu' | 'sigmoid' | 'abs' | 'square'
  | 'adds' | 'muls' | 'pows' | 'rsubs' | 'maxs';

/**
 * A unary primitive, forward and derivative, on the CPU and in WGSL. `save` is what backward keeps: the
 * input x or the output y (when the derivative is cheaper from y, e.g. exp, tanh). `grad` is dx from
 * a (the saved value), g (the upstream gradient) and c: the whole backward rule, so autograd needs no
 * per-op code for these.
 */
export interface UnarySpec {
  cpu: (x: number, c: number) => number;
  wgsl: string;
  save: 'x' | 'y';
  grad: { cpu: (a: number, g: number, c: number) => number; wgsl: string };
}

export const unaryOps: { [K in UnaryOp]: UnarySpec } = {
  neg: { cpu: (x) => -x, wgsl: '-x', save: 'x', grad: { cpu: (_a, g) => -g, wgsl: '-g' } },
  exp: { cpu: Math.exp, wgsl: 'exp(x)', save: 'y', grad: { cpu: (y, g) => g * y, wgsl: 'g * a' } },                 // eˣ
  log: { cpu: Math.log, wgsl: 'log(x)', save: 'x', grad: { cpu: (x, g) => g / x, wgsl: 'g / a' } },                 // 1/x
  sqrt: { cpu: Math.sqrt, wgsl: 'sqrt(x)', save: 'y', grad: { cpu: (y, g) => (g * 0.5) / y, wgsl: 'g * 0.5 / a' } }, // 1/(2√x)
  rsqrt: {
    cpu: (x) => 1 / Math.sqrt(x), wgsl: 'inverseSqrt(x)', save: 'y',
    grad: { cpu: (y, g) => g * (y * y * y * -0.5), wgsl: 'g * (a * a * a * -0.5)' },                                // -½ y³
  },
  tanh: { cpu: Math.tanh, wgsl: 'tanh(x)', save: 'y', grad: { cpu: (y, g) => g * (1 - y * y), wgsl: 'g * (1.0 - a * a)' } }, // 1 - y²
  erf: {
    cpu: erf, wgsl: 'erf_(x)', save: 'x',
    grad: { cpu: (x, g) => g * TWO_OVER_SQRT_PI * Math.exp(-x * x), wgsl: `g * ${TWO_OVER_SQRT_PI} * exp(-a * a)` },  // 2/√π e^{-x²}
  },
  // exact (erf) form, as ELECTRA; d gelu(x) = Φ(x) + x·φ(x)
  gelu: {
    cpu: geluRef, wgsl: 'gelu_(x)', save: 'x',
    grad: {
      cpu: (x, g) => g * (0.5 * (1 + erf(x * SQRT1_2)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x)),
      wgsl: `g * (0.5 * (1.0 + erf_(a * ${SQRT1_2})) + a * ${INV_SQRT_2PI} * exp(-0.5 * a * a))`,
    },
  },
  // relu'(0) = 0, as PyTorch
  relu: { cpu: (x) => (x > 0 ? x : 0), wgsl: 'max(x, 0.0)', save: 'x', grad: { cpu: (x, g) => (x > 0 ? g : 0), wgsl: 'select(0.0, g, a > 0.0)' } },
  sigmoid: { cpu: sigmoidRef, wgsl: 'sigmoid_(x)', save: 'y', grad: { cpu: (y, g) => g * y * (1 - y), wgsl: 'g * a * (1.0 - a)' } }, // y(1 - y)
  abs: { cpu: Math.abs, wgsl: 'abs(x)', save: 'x', grad: { cpu: (x, g) => g * Math.sign(x), wgsl: 'g * sign(a)' } },   // sign x (0 at 0)
  square: { cpu: (x) => x * x, wgsl: 'x * x', save: 'x', grad: { cpu: (x, g) => g * (x * 2), wgsl: 'g * (a * 2.0)' } }, // 2x
  adds: { cpu: (x, c) => x + c, wgsl: 'x + c', save: 'x', grad: { cpu: (_a, g) => g, wgsl: 'g' } },
  muls: { cpu: (x, c) => x * c, wgsl: 'x * c', save: 'x', grad: { cpu: (_a, g, c) => g * c, wgsl: 'g * c' } },
  // pow with a scalar exponent: sign-aware for integer exponents, NaN for negative bases otherwise (as Math.pow)
  pows: {
    cpu: (x, c) => Math.pow(x, c), wgsl: 'powi_(x, c)', save: 'x',
    grad: { cpu: (x, g, c) => g * (Math.pow(x, c - 1) * c), wgsl: 'g * (powi_(a, c - 1.0) * c)' },                 // c x^{c-1}
  },
  rsubs: { cpu: (x, c) => c - x, wgsl: 'c - x', save: 'x', grad: { cpu: (_a, g) => -g, wgsl: '-g' } },
  // the gradient goes where x > c (none at a tie)
  maxs: { cpu: (x, c) => Math.max(x, c), wgsl: 'max(x, c)', save: 'x', grad: { cpu: (x, g, c) => g * (x > c ? 1 : 0), wgsl: 'g * select(0.0, 1.0, a > c)' } },
};

/** Every unary primitive, in the table's order (for rule tables and tests). */
export const UNARY_OPS = Object.keys(unaryOps) as UnaryOp[];

const WGSL_POW = `
fn powi_(x: f32, c: f32) -> f32 {
  if (c == 0.0) { return 1.0; }
  if (c == round(c)) {
    let m = pow(abs(x), c);
    return select(m, -m, x < 0.0 && (i32(c) & 1) == 1);
  }
  var nan_bits = 0x7fc00000u; // a var: WGSL rejects NaN in constant expressions
  return select(pow(x, c), bitcast<f32>(nan_bits), x < 0.0);
}
`;

export type BinaryOp =
  | 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum'
  | 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge'
  // losses: a = logit, b = target in [0, 1]; bceLogitsGrad is bceLogits' d/da
  | 'bceLogits' | 'bceLogitsGrad';

export const binaryOps: { [K in BinaryOp]: { cpu: (a: number, b: number) => number; wgsl: string } } = {
  add: { cpu: (a, b) => a + b, wgsl: 'a + b' },
  sub: { cpu: (a, b) => a - b, wgsl: 'a - b' },
  mul: { cpu: (a, b) => a * b, wgsl: 'a * b' },
  div: { cpu: (a, b) => a / b, wgsl: 'a / b' },
  pow: { cpu: Math.pow, wgsl: 'powi_(a, b)' },
  maximum: { cpu: Math.max, wgsl: 'max(a, b)' },
  minimum: { cpu: Math.min, wgsl: 'min(a, b)' },
  eq: { cpu: (a, b) => +(a === b), wgsl: 'select(0.0, 1.0, a == b)' },
  ne: { cpu: (a, b) => +(a !== b), wgsl: 'select(0.0, 1.0, a != b)' },
  lt: { cpu: (a, b) => +(a < b), wgsl: 'select(0.0, 1.0, a < b)' },
  le: { cpu: (a, b) => +(a <= b), wgsl: 'select(0.0, 1.0, a <= b)' },
  gt: { cpu: (a, b) => +(a > b), wgsl: 'select(0.0, 1.0, a > b)' },
  ge: { cpu: (a, b) => +(a >= b), wgsl: 'select(0.0, 1.0, a >= b)' },
  // BCE with logits, stable: max(x,0) - x·y + log(1 + e^{-|x|})
  bceLogits: {
    cpu: (x, y) => Math.max(x, 0) - x * y + Math.log1p(Math.exp(-Math.abs(x))),
    wgsl: 'max(a, 0.0) - a * b + log(1.0 + exp(-abs(a)))',
  },
  // d/dx = sigmoid(x) - y
  bceLogitsGrad: { cpu: (x, y) => sigmoidRef(x) - y, wgsl: 'sigmoid_(a) - b' },
};

function helpersFor(expr: string): string {
  let h = '';
  if (/erf_|gelu_/.test(expr)) h += WGSL_ERF;
  if (expr.includes('sigmoid_')) h += WGSL_SIGMOID;
  if (expr.includes('powi_')) h += WGSL_POW;
  return h;
}

// ---- broadcast indexing --------------------------------------------------------------------

type IndexMode = 'full' | 'one' | 'mod' | 'strided';

interface Operand { shape: Shape; strides: number[]; mode: IndexMode; n: number }

function operand(shape: Shape, out: Shape): Operand {
  const n = numel(shape);
  let mode: IndexMode = 'strided';
  if (sameShape(shape, out)) mode = 'full';
  else if (n === 1) mode = 'one';
  else {
    // A suffix of the output's dims (e.g. a bias [N] on [M, N]) indexes as i % n.
    const lead = out.length - shape.length;
    const trimmed = shape.slice(shape.findIndex((d) => d !== 1));
    const off = out.length - trimmed.length;
    if (trimmed.every((d, i) => d === out[off + i]) && lead >= 0) mode = 'mod';
  }
  return { shape, strides: broadcastStrides(shape, out), mode, n };
}

function cpuIndex(o: Operand, i: number, out: Shape): number {
  switch (o.mode) {
    case 'full': return i;
    case 'one': return 0;
    case 'mod': return i % o.n;
    case 'strided': {
      let r = i, idx = 0;
      for (let d = out.length - 1; d >= 0; d--) { idx += (r % out[d]) * o.strides[d]; r = Math.floor(r / out[d]); }
      return idx;
    }
  }
}

/**
 * WGSL index of an operand's element for output item i (`w` elements per item). Sizes and strides are
 * constants, not uniforms (the shapes are part of the program key anyway): lavapipe has no vector
 * integer division, and a division by a constant becomes a multiply-shift.
 */
function wgslIndex(o: Operand, out: Shape, w: number): string {
  switch (o.mode) {
    case 'full': return 'i';
    case 'one': return '0u';
    case 'mod': return `i % ${o.n / w}u`;
    case 'strided': {
      const terms: string[] = [];
      let os = 1;
      for (let d = out.length - 1; d >= 0; d--) { terms.unshift(`((i / ${os}u) % ${out[d]}u) * ${o.strides[d]}u`); os *= out[d]; }
      return terms.join(' + ') || '0u';
    }
  }
}

// ---- kernels -------------------------------------------------------------------------------

export interface MapParams {
  /** 'unary': f(x, c); 'unaryGrad': f'(a, g, c) of a unary op (a = its saved x or y); 'binary'; 'where'. */
  kind: 'unary' | 'unaryGrad' | 'binary' | 'where';
  op: string;
  out: Shape;
  ins: Shape[];
  c: number;
  /** Input element types (where's condition, cast-free compare of i32s). */
  dtypes: DType[];
}

const NAMES: { [K in MapParams['kind']]: string[] } = { unary: ['x'], unaryGrad: ['a', 'g'], binary: ['a', 'b'], where: ['cnd', 'a', 'b'] };

function exprOf(p: MapParams): string {
  switch (p.kind) {
    case 'unary': return unaryOps[p.op as UnaryOp].wgsl;
    case 'unaryGrad': return unaryOps[p.op as UnaryOp].grad.wgsl;
    case 'binary': return binaryOps[p.op as BinaryOp].wgsl;
    case 'where': return 'select(b, a, cnd != 0.0)';
  }
}

/**
 * Items are vec4s when the output splits into whole vec4s and every input is read whole, as one
 * scalar, or as a suffix of 4k elements (a bias); strided broadcasts stay one element per item.
 */
function mapFields(p: MapParams) {
  const names = NAMES[p.kind];
  const ops = p.ins.map((s) => operand(s, p.out));
  const n = numel(p.out);
  const w = n % 4 === 0 && ops.every((o) => o.mode === 'full' || o.mode === 'one' || (o.mode === 'mod' && o.n % 4 === 0)) ? 4 : 1;
  const fields: Field[] = [['n', 'u32', n / w], ['c', 'f32', p.c]];
  return { names, ops, fields, w };
}

/** Elementwise map over 1–3 broadcast inputs into one f32 output. */
export const mapKernel: Kernel<MapParams> = {
  name: 'map',
  cpu(p, ins, [y]) {
    const n = numel(p.out);
    const ops = p.ins.map((s) => operand(s, p.out));
    const at = (k: number, i: number) => ins[k][cpuIndex(ops[k], i, p.out)];
    switch (p.kind) {
      case 'unary': { const f = unaryOps[p.op as UnaryOp].cpu; for (let i = 0; i < n; i++) y[i] = f(at(0, i), p.c); break; }
      case 'unaryGrad': { const f = unaryOps[p.op as UnaryOp].grad.cpu; for (let i = 0; i < n; i++) y[i] = f(at(0, i), at(1, i), p.c); break; }
      case 'binary': { const f = binaryOps[p.op as BinaryOp].cpu; for (let i = 0; i < n; i++) y[i] = f(at(0, i), at(1, i)); break; }
      case 'where': for (let i = 0; i < n; i++) y[i] = at(0, i) !== 0 ? at(1, i) : at(2, i); break;
    }
  },
  // The scalar c (muls, adds, pows, …: loss scales, 1/n of means) varies per call; it is only a uniform.
  uniformOnly: uniformOnly(['c'], (p) => mapFields(p).fields),
  wgsl(p) {
    const { names, ops, fields, w } = mapFields(p);
    const scalarTy = (k: number) => (p.dtypes[k] === 'i32' ? 'i32' : 'f32');
    // A vec4 item reads a 'one' operand as a scalar and splats it.
    const inputs: Binding[] = names.map((nm, k) =>
      [`${nm}_`, w === 4 && ops[k].mode !== 'one' ? `array<vec4<${scalarTy(k)}>>` : `array<${scalarTy(k)}>`]);
    const h = header(fields, inputs, [['y', w === 4 ? 'array<vec4<f32>>' : 'array<f32>']]);
    const expr = exprOf(p);
    // The formula as a scalar function; a vec4 item applies it per component (the table's WGSL is scalar).
    const fn = `fn f_(${[...names, 'c'].map((nm) => `${nm}: f32`).join(', ')}) -> f32 { return ${expr}; }\n`;
    const loads = names.map((nm, k) => `    let ${nm} = ${w === 4 ? 'vec4<f32>' : 'f32'}(${nm}_[${wgslIndex(ops[k], p.out, w)}]);`).join('\n');
    const call = (c: string) => `f_(${names.map((nm) => nm + c).join(', ')}, P.c)`;
    const store = w === 4 ? `    y[i] = vec4<f32>(${['.x', '.y', '.z', '.w'].map(call).join(', ')});` : `    y[i] = ${call('')};`;
    const code = `${h.code}${helpersFor(expr)}${fn}${flatMain('P.n', `${loads}\n${store}`)}`;
    return { code, grid: flatGrid(numel(p.out) / w), uniforms: h.uniforms };
  },
};

export interface CastParams { n: number; from: DType; to: DType }

/** f32 → i32 truncates toward zero (as Int32Array assignment); i32 → f32 is exact below 2^24. */
export const castKernel: Kernel<CastParams> = {
  name: 'cast',
  cpu(p, [x], [y]) {
    for (let i = 0; i < p.n; i++) y[i] = p.to === 'i32' ? Math.trunc(x[i]) : x[i];
  },
  wgsl(p) {
    const ty = (d: DType) => (d === 'i32' ? 'i32' : 'f32');
    const h = header([['n', 'u32', p.n]], [['x', `array<${ty(p.from)}>`]], [['y', `array<${ty(p.to)}>`]]);
    return { code: `${h.code}${flatMain('P.n', `    y[i] = ${ty(p.to)}(x[i]);`)}`, grid: flatGrid(p.n), uniforms: h.uniforms };
  },
};

/**
 * In-place y += x (same size): gradients summed where graph branches merge and leaf .grad accumulated
 * across micro-batches. Its own kernel because WebGPU forbids binding one buffer as both a read-only
 * input and the output of a dispatch, so the map cannot write in place.
 */
export const accumulateKernel: Kernel<{ n: number }> = {
  name: 'accumulate',
  cpu(p, [x], [y]) { for (let i = 0; i < p.n; i++) y[i] += x[i]; },
  wgsl(p) {
    const w = p.n % 4 === 0 ? 4 : 1;
    const ty = w === 4 ? 'array<vec4<f32>>' : 'array<f32>';
    const h = header([['n', 'u32', p.n / w]], [['x', ty]], [['y', ty]]);
    return { code: `${h.code}${flatMain('P.n', '    y[i] = y[i] + x[i];')}`, grid: flatGrid(p.n / w), uniforms: h.uniforms };
  },
};

// ---- launchers ---------------------------------------------------------------------------------

const f32 = (shape: Shape): ArraySpec => ({ shape, dtype: 'f32' });

/** y = f(x, c) for a unary primitive: x [...] → y [...]. */
export function unary(op: UnaryOp, x: DeviceArray, c: number, label: string): DeviceArray {
  return launch(mapKernel, { kind: 'unary', op, out: x.shape, ins: [x.shape], c, dtypes: ['f32'] }, [x], [f32(x.shape)], label)[0];
}

/** dx = g · f'(…) of a unary primitive from its saved value a (x or y, as the table says): all [...]. */
export function unaryGrad(op: UnaryOp, a: DeviceArray, g: DeviceArray, c: number, label: string): DeviceArray {
  return launch(mapKernel, { kind: 'unaryGrad', op, out: g.shape, ins: [a.shape, g.shape], c, dtypes: ['f32', 'f32'] }, [a, g], [f32(g.shape)], label)[0];
}

/** a ⊙ b with broadcasting (compare ops give f32 0/1): → the broadcast shape. */
export function binary(op: BinaryOp, a: DeviceArray, b: DeviceArray, label: string): DeviceArray {
  const out = broadcastShapes(op, a.shape, b.shape);
  return launch(mapKernel, { kind: 'binary', op, out, ins: [a.shape, b.shape], c: 0, dtypes: [a.dtype, b.dtype] }, [a, b], [f32(out)], label)[0];
}

/** where(cond ≠ 0, a, b), broadcasting all three; cond f32 or i32. */
export function where(cond: DeviceArray, a: DeviceArray, b: DeviceArray, label: string): DeviceArray {
  const out = broadcastShapes('where', cond.shape, a.shape, b.shape);
  return launch(mapKernel, { kind: 'where', op: 'where', out, ins: [cond.shape, a.shape, b.shape], c: 0, dtypes: [cond.dtype, 'f32', 'f32'] }, [cond, a, b], [f32(out)], label)[0];
}

export function cast(x: DeviceArray, to: DType, label: string): DeviceArray {
  return launch(castKernel, { n: numel(x.shape), from: x.dtype, to }, [x], [{ shape: x.shape, dtype: to }], label)[0];
}

/** dst += src in place (same size, f32). */
export function accumulate(dst: DeviceArray, src: DeviceArray, label: string): void {
  launchInto(accumulateKernel, { n: numel(dst.shape) }, [src], [dst], label);
}
