// Elementwise kernels: unary (with an optional scalar), binary and where, with NumPy broadcasting;
// and cast. One table per op kind holds the CPU formula and the WGSL expression side by side, typed
// over the op-name union so the compiler rejects an op missing either. Backward rules live in
// src/autograd/rules.ts; the `*Grad` binary ops here are their fused building blocks.
// Broadcast indexing is generated per input: contiguous (i), scalar (0), suffix (i % n) or strided.

import { type Binding, type Field, type Kernel, flatGrid, flatMain, header, uniformOnly } from '../device/device.js';
import type { DType } from '../device/dtype.js';
import { type Shape, broadcastStrides, numel, sameShape } from '../device/shape.js';

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

export type UnaryOp =
  | 'neg' | 'exp' | 'log' | 'sqrt' | 'rsqrt' | 'tanh' | 'erf' | 'gelu' | 'relu' | 'sigmoid' | 'abs' | 'square'
  | 'adds' | 'muls' | 'pows' | 'rsubs' | 'maxs';

/** Unary op: y = f(x, c), c a scalar (unused by most). */
export const unaryOps: { [K in UnaryOp]: { cpu: (x: number, c: number) => number; wgsl: string } } = {
  neg: { cpu: (x) => -x, wgsl: '-x' },
  exp: { cpu: Math.exp, wgsl: 'exp(x)' },
  log: { cpu: Math.log, wgsl: 'log(x)' },
  sqrt: { cpu: Math.sqrt, wgsl: 'sqrt(x)' },
  rsqrt: { cpu: (x) => 1 / Math.sqrt(x), wgsl: 'inverseSqrt(x)' },
  tanh: { cpu: Math.tanh, wgsl: 'tanh(x)' },
  erf: { cpu: erf, wgsl: 'erf_(x)' },
  gelu: { cpu: geluRef, wgsl: 'gelu_(x)' }, // exact (erf) form, as ELECTRA
  relu: { cpu: (x) => (x > 0 ? x : 0), wgsl: 'max(x, 0.0)' },
  sigmoid: { cpu: sigmoidRef, wgsl: 'sigmoid_(x)' },
  abs: { cpu: Math.abs, wgsl: 'abs(x)' },
  square: { cpu: (x) => x * x, wgsl: 'x * x' },
  adds: { cpu: (x, c) => x + c, wgsl: 'x + c' },
  muls: { cpu: (x, c) => x * c, wgsl: 'x * c' },
  // pow with a scalar exponent: sign-aware for integer exponents, NaN for negative bases otherwise (as Math.pow)
  pows: { cpu: (x, c) => Math.pow(x, c), wgsl: 'powi_(x, c)' },
  rsubs: { cpu: (x, c) => c - x, wgsl: 'c - x' },
  maxs: { cpu: (x, c) => Math.max(x, c), wgsl: 'max(x, c)' },
};

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
  // fused pieces of backward rules: (a = the forward input or output, b = upstream gradient)
  | 'geluGrad' | 'reluGrad' | 'sigmoidGradY' | 'tanhGradY' | 'erfGrad'
  // losses: a = logit, b = target in [0, 1]
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
  // d gelu(x) = Φ(x) + x·φ(x)
  geluGrad: {
    cpu: (x, g) => g * (0.5 * (1 + erf(x * SQRT1_2)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x)),
    wgsl: `b * (0.5 * (1.0 + erf_(a * ${SQRT1_2})) + a * ${INV_SQRT_2PI} * exp(-0.5 * a * a))`,
  },
  // relu'(0) = 0, as PyTorch
  reluGrad: { cpu: (x, g) => (x > 0 ? g : 0), wgsl: 'select(0.0, b, a > 0.0)' },
  // d sigmoid = y(1 - y), written from the saved output y
  sigmoidGradY: { cpu: (y, g) => g * y * (1 - y), wgsl: 'b * a * (1.0 - a)' },
  // d tanh = 1 - y²
  tanhGradY: { cpu: (y, g) => g * (1 - y * y), wgsl: 'b * (1.0 - a * a)' },
  // d erf = 2/√π · exp(-x²)
  erfGrad: { cpu: (x, g) => g * TWO_OVER_SQRT_PI * Math.exp(-x * x), wgsl: `b * ${TWO_OVER_SQRT_PI} * exp(-a * a)` },
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
  /** 'unary' | 'binary' | 'where' */
  kind: 'unary' | 'binary' | 'where';
  op: string;
  out: Shape;
  ins: Shape[];
  c: number;
  /** Input element types (where's condition, cast-free compare of i32s). */
  dtypes: DType[];
}

function exprOf(p: MapParams): string {
  if (p.kind === 'unary') return unaryOps[p.op as UnaryOp].wgsl;
  if (p.kind === 'binary') return binaryOps[p.op as BinaryOp].wgsl;
  return 'select(b, a, cnd != 0.0)';
}

/**
 * Items are vec4s when the output splits into whole vec4s and every input is read whole, as one
 * scalar, or as a suffix of 4k elements (a bias); strided broadcasts stay one element per item.
 */
function mapFields(p: MapParams) {
  const names = p.kind === 'where' ? ['cnd', 'a', 'b'] : p.kind === 'unary' ? ['x'] : ['a', 'b'];
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
    if (p.kind === 'unary') {
      const f = unaryOps[p.op as UnaryOp].cpu, x = ins[0];
      for (let i = 0; i < n; i++) y[i] = f(x[cpuIndex(ops[0], i, p.out)], p.c);
    } else if (p.kind === 'binary') {
      const f = binaryOps[p.op as BinaryOp].cpu, a = ins[0], b = ins[1];
      for (let i = 0; i < n; i++) y[i] = f(a[cpuIndex(ops[0], i, p.out)], b[cpuIndex(ops[1], i, p.out)]);
    } else {
      const [cnd, a, b] = ins;
      for (let i = 0; i < n; i++) {
        y[i] = cnd[cpuIndex(ops[0], i, p.out)] !== 0 ? a[cpuIndex(ops[1], i, p.out)] : b[cpuIndex(ops[2], i, p.out)];
      }
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
