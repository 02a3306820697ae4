/** Activations and element-wise arithmetic. Masks use the forward output where that keeps Conv+Relu fusable. */
import type { TensorName } from '../../../../src-shared/api';
import type { GraphBuilder } from '../graph-builder';
import { blockable, positiveMask } from './blocked-layout';
import type { VjpRule } from './context';

const sameShape = (a: number[], b: number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

/** Sums a broadcast gradient back to an operand's shape (numpy broadcasting rules). */
export function reduceToShape(b: GraphBuilder, g: TensorName, from: number[], to: number[]): TensorName {
  if (sameShape(from, to)) return g;
  const offset = from.length - to.length;
  const axes: number[] = [];
  for (let i = 0; i < from.length; i++) {
    const target = i < offset ? null : to[i - offset];
    if (target === null || (target === 1 && from[i] !== 1)) axes.push(i);
  }
  const reduced = axes.length > 0 ? b.reduceSum(g, axes, true) : g;
  return b.reshape(reduced, to);
}

const passThrough: VjpRule = (_ctx, [g]) => [g ?? null];

/**
 * g · [y > 0] as a multiplication by a float mask: onnxruntime's CPU Where is several times slower than a
 * Mul, and this runs once per ReLU. The mask comes from a blocked convolution where the layout allows (see
 * blocked-layout.ts), from Greater and Cast otherwise. Equal to Where(y > 0, g, 0) for every finite g and
 * every y but NaN — which is what the GPU form emits: on a GPU a node's dispatch costs more than its
 * arithmetic, and Where saves one of three.
 */
const relu: VjpRule = (ctx, [g]) => {
  const { b } = ctx;
  if (!g) return [null];
  const y = ctx.output();
  if (b.form === 'gpu' && b.opset >= 9) return [b.where(b.op1('Greater', [y, b.scalar(0)]), g, b.scalar(0))];
  const shape = ctx.knownShape(y);
  const mask = blockable(b, shape)
    ? positiveMask(b, y, shape[1] as number)
    : b.op1('Cast', [b.op1('Greater', [y, b.scalar(0)])], { to: 1 });
  return [b.op1('Mul', [g, mask])];
};

const leakyRelu: VjpRule = (ctx, [g]) => {
  const { b } = ctx;
  if (!g) return [null];
  const alpha = ctx.float('alpha', 0.01);
  const positive = b.op1('Greater', [ctx.input(0), b.scalar(0)]);
  return [b.where(positive, g, b.op1('Mul', [g, b.scalar(alpha)]))];
};

const prelu: VjpRule = (ctx, [g]) => {
  const { b } = ctx;
  if (!g) return [null, null];
  if (ctx.needs[1]) ctx.unsupported('the gradient with respect to the slope is not computed');
  const x = ctx.input(0);
  const positive = b.op1('Greater', [x, b.scalar(0)]);
  const scaled = b.op1('Mul', [g, ctx.input(1)]);
  return [b.where(positive, g, reduceToShape(b, scaled, ctx.shape(ctx.output()), ctx.shape(x))), null];
};

const sigmoid: VjpRule = (ctx, [g]) => {
  const { b } = ctx;
  if (!g) return [null];
  const y = ctx.output();
  const oneMinus = b.op1('Sub', [b.scalar(1), y]);
  return [b.op1('Mul', [g, b.op1('Mul', [y, oneMinus])])];
};

const tanh: VjpRule = (ctx, [g]) => {
  const { b } = ctx;
  if (!g) return [null];
  const y = ctx.output();
  return [b.op1('Mul', [g, b.op1('Sub', [b.scalar(1), b.op1('Mul', [y, y])])])];
};

/** Gradient passes strictly inside (min, max), as PyTorch's hardtanh/ReLU6 backward does. */
const clip: VjpRule = (ctx, [g]) => {
  const { b } = ctx;
  if (!g) return [null, null, null];
  if (ctx.needs[1] || ctx.needs[2]) ctx.unsupported('min/max that depend on the hooked layers are not supported');
  const x = ctx.input(0);
  const bound = (attr: string, index: number): number | null => {
    const a = ctx.node.attribute.find((at) => at.name === attr);
    if (a) return a.f;
    const name = ctx.node.input[index];
    if (!name) return null;
    const v = ctx.constants.scalar(name);
    if (v === null) ctx.unsupported(`its ${attr} "${name}" is not a constant`);
    return v;
  };
  const lo = bound('min', 1);
  const hi = bound('max', 2);
  let mask: TensorName | null = null;
  if (lo !== null) mask = b.op1('Greater', [x, b.scalar(lo)]);
  if (hi !== null) {
    const below = b.op1('Less', [x, b.scalar(hi)]);
    mask = mask ? b.op1('And', [mask, below]) : below;
  }
  return [mask ? b.where(mask, g, b.scalar(0)) : g, null, null];
};

const hardSigmoid: VjpRule = (ctx, [g]) => {
  const { b } = ctx;
  if (!g) return [null];
  const alpha = ctx.float('alpha', 0.2);
  const beta = ctx.float('beta', 0.5);
  const t = b.op1('Add', [b.op1('Mul', [ctx.input(0), b.scalar(alpha)]), b.scalar(beta)]);
  const inside = b.op1('And', [b.op1('Greater', [t, b.scalar(0)]), b.op1('Less', [t, b.scalar(1)])]);
  return [b.where(inside, b.op1('Mul', [g, b.scalar(alpha)]), b.scalar(0))];
};

/** y = x·hardsigmoid(x): 0 below −3, 1 above 3, x/3 + 1/2 between (PyTorch's convention at the knots). */
const hardSwish: VjpRule = (ctx, [g]) => {
  const { b } = ctx;
  if (!g) return [null];
  const x = ctx.input(0);
  const slope = b.op1('Add', [b.op1('Div', [x, b.scalar(3)]), b.scalar(0.5)]);
  const middle = b.where(b.op1('Greater', [x, b.scalar(3)]), g, b.op1('Mul', [g, slope]));
  return [b.where(b.op1('Less', [x, b.scalar(-3)]), b.scalar(0), middle)];
};

const add: VjpRule = (ctx, [g]) => {
  const { b } = ctx;
  if (!g) return [null, null];
  const out = ctx.shape(ctx.output());
  return [0, 1].map((i) => (ctx.needs[i] ? reduceToShape(b, g, out, ctx.shape(ctx.input(i))) : null));
};

const sub: VjpRule = (ctx, [g]) => {
  const { b } = ctx;
  if (!g) return [null, null];
  const out = ctx.shape(ctx.output());
  return [
    ctx.needs[0] ? reduceToShape(b, g, out, ctx.shape(ctx.input(0))) : null,
    ctx.needs[1] ? reduceToShape(b, b.op1('Neg', [g]), out, ctx.shape(ctx.input(1))) : null,
  ];
};

const mul: VjpRule = (ctx, [g]) => {
  const { b } = ctx;
  if (!g) return [null, null];
  const out = ctx.shape(ctx.output());
  const [a, c] = [ctx.input(0), ctx.input(1)];
  return [
    ctx.needs[0] ? reduceToShape(b, b.op1('Mul', [g, c]), out, ctx.shape(a)) : null,
    ctx.needs[1] ? reduceToShape(b, b.op1('Mul', [g, a]), out, ctx.shape(c)) : null,
  ];
};

const div: VjpRule = (ctx, [g]) => {
  const { b } = ctx;
  if (!g) return [null, null];
  const out = ctx.shape(ctx.output());
  const [a, c] = [ctx.input(0), ctx.input(1)];
  const ga = ctx.needs[0] ? reduceToShape(b, b.op1('Div', [g, c]), out, ctx.shape(a)) : null;
  // d(a/c)/dc = −(a/c)/c = −y/c
  const gc = ctx.needs[1]
    ? reduceToShape(b, b.op1('Neg', [b.op1('Div', [b.op1('Mul', [g, ctx.output()]), c])]), out, ctx.shape(c))
    : null;
  return [ga, gc];
};

const sum: VjpRule = (ctx, [g]) => {
  const { b } = ctx;
  const out = ctx.shape(ctx.output());
  return ctx.node.input.map((name, i) => (g && ctx.needs[i] ? reduceToShape(b, g, out, ctx.shape(name)) : null));
};

const neg: VjpRule = (ctx, [g]) => [g ? ctx.b.op1('Neg', [g]) : null];

/** y = √x: g / (2y). */
const sqrt: VjpRule = (ctx, [g]) => {
  const { b } = ctx;
  return [g ? b.op1('Div', [g, b.op1('Mul', [ctx.output(), b.scalar(2)])]) : null];
};

/** y = eˣ: g·y. */
const exp: VjpRule = (ctx, [g]) => [g ? ctx.b.op1('Mul', [g, ctx.output()]) : null];

/** y = ln x: g / x. */
const log: VjpRule = (ctx, [g]) => [g ? ctx.b.op1('Div', [g, ctx.input(0)]) : null];

/** y = 1/x: −g·y². */
const reciprocal: VjpRule = (ctx, [g]) => {
  const { b } = ctx;
  if (!g) return [null];
  const y = ctx.output();
  return [b.op1('Neg', [b.op1('Mul', [g, b.op1('Mul', [y, y])])])];
};

/** y = xᵖ for a constant p: g·p·xᵖ⁻¹ (p = 2, LayerNorm's variance, as g·2x). */
const pow: VjpRule = (ctx, [g]) => {
  const { b } = ctx;
  if (!g) return [null, null];
  if (ctx.needs[1]) ctx.unsupported('an exponent that depends on the hooked layers is not supported');
  const name = ctx.node.input[1] ?? '';
  const p = ctx.constants.scalar(name);
  if (p === null) return ctx.unsupported(`its exponent "${name}" is not a constant`);
  const x = ctx.input(0);
  const out = ctx.shape(ctx.output());
  // x⁰ = 1: no gradient (and no 0·x⁻¹ = NaN at x = 0).
  if (p === 0) return [null, null];
  const slope =
    p === 1 ? null : p === 2 ? b.op1('Mul', [x, b.scalar(2)]) : b.op1('Mul', [b.op1('Pow', [x, b.scalar(p - 1)]), b.scalar(p)]);
  return [reduceToShape(b, slope ? b.op1('Mul', [g, slope]) : g, out, ctx.shape(x)), null];
};

/** y = erf x: g · 2/√π · e^(−x²) (GELU as exporters write it before opset 20). */
const erf: VjpRule = (ctx, [g]) => {
  const { b } = ctx;
  if (!g) return [null];
  const x = ctx.input(0);
  const density = b.op1('Exp', [b.op1('Neg', [b.op1('Mul', [x, x])])]);
  return [b.op1('Mul', [g, b.op1('Mul', [density, b.scalar(2 / Math.sqrt(Math.PI))])])];
};

/**
 * Opset 20's Gelu. Exact: y = x·Φ(x), y′ = Φ(x) + x·φ(x). "tanh": y = x/2·(1 + tanh u) with
 * u = √(2/π)·(x + 0.044715x³), y′ = (1 + t)/2 + x/2·(1 − t²)·√(2/π)·(1 + 3·0.044715x²).
 */
const gelu: VjpRule = (ctx, [g]) => {
  const { b } = ctx;
  if (!g) return [null];
  const x = ctx.input(0);
  const x2 = b.op1('Mul', [x, x]);
  let slope: TensorName;
  if (ctx.string('approximate', 'none') === 'tanh') {
    const k = Math.sqrt(2 / Math.PI);
    const u = b.op1('Mul', [b.op1('Mul', [x, b.op1('Add', [b.op1('Mul', [x2, b.scalar(0.044715)]), b.scalar(1)])]), b.scalar(k)]);
    const t = b.op1('Tanh', [u]);
    const du = b.op1('Mul', [b.op1('Add', [b.op1('Mul', [x2, b.scalar(3 * 0.044715)]), b.scalar(1)]), b.scalar(k)]);
    const second = b.op1('Mul', [
      b.op1('Mul', [x, b.scalar(0.5)]),
      b.op1('Mul', [b.op1('Sub', [b.scalar(1), b.op1('Mul', [t, t])]), du]),
    ]);
    slope = b.op1('Add', [b.op1('Mul', [b.op1('Add', [t, b.scalar(1)]), b.scalar(0.5)]), second]);
  } else {
    const cdf = b.op1('Mul', [
      b.op1('Add', [b.op1('Erf', [b.op1('Mul', [x, b.scalar(Math.SQRT1_2)])]), b.scalar(1)]),
      b.scalar(0.5),
    ]);
    const pdf = b.op1('Mul', [b.op1('Exp', [b.op1('Mul', [x2, b.scalar(-0.5)])]), b.scalar(1 / Math.sqrt(2 * Math.PI))]);
    slope = b.op1('Add', [cdf, b.op1('Mul', [x, pdf])]);
  }
  return [b.op1('Mul', [g, slope])];
};

export const elementwiseRules: Record<string, VjpRule> = {
  Identity: passThrough,
  Dropout: passThrough,
  Relu: relu,
  LeakyRelu: leakyRelu,
  PRelu: prelu,
  Sigmoid: sigmoid,
  Tanh: tanh,
  Clip: clip,
  HardSigmoid: hardSigmoid,
  HardSwish: hardSwish,
  Add: add,
  Sub: sub,
  Mul: mul,
  Div: div,
  Sum: sum,
  Neg: neg,
  Sqrt: sqrt,
  Exp: exp,
  Log: log,
  Reciprocal: reciprocal,
  Pow: pow,
  Erf: erf,
  Gelu: gelu,
};
