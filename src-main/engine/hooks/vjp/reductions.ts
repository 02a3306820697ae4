/** Reductions and softmax. */
import type { TensorName } from '../../../../src-shared/api';
import { axis, type VjpContext, type VjpRule } from './context';

/** Axes a Reduce* node reduces over (attribute before opset 18 — 13 for ReduceSum —, input after). */
function reducedAxes(ctx: VjpContext, rank: number): number[] {
  const listed = ctx.intsFromAttrOrInput('axes', 1);
  if (listed && listed.length > 0) return listed.map((a) => axis(a, rank));
  if (ctx.int('noop_with_empty_axes', 0) === 1) return [];
  return Array.from({ length: rank }, (_, i) => i);
}

function reduceBack(ctx: VjpContext, g: TensorName, mean: boolean): TensorName {
  const { b } = ctx;
  const xShape = ctx.shape(ctx.input(0));
  const axes = reducedAxes(ctx, xShape.length);
  const kept = xShape.map((d, i) => (axes.includes(i) ? 1 : d));
  let grad = b.reshape(g, kept);
  if (mean) grad = b.op1('Div', [grad, b.scalar(axes.reduce((n, a) => n * (xShape[a] as number), 1))]);
  return b.expand(grad, xShape);
}

const reduceMean: VjpRule = (ctx, [g]) => [g ? reduceBack(ctx, g, true) : null, null];
const reduceSum: VjpRule = (ctx, [g]) => [g ? reduceBack(ctx, g, false) : null, null];

/** Softmax before opset 13 normalises over all axes from `axis` on (the input coerced to 2-D). */
function softmaxAxes(ctx: VjpContext): number[] {
  const rank = ctx.shape(ctx.input(0)).length;
  if (ctx.b.opset >= 13) return [axis(ctx.int('axis', -1), rank)];
  const start = axis(ctx.int('axis', 1), rank);
  return Array.from({ length: rank - start }, (_, i) => start + i);
}

const softmax: VjpRule = (ctx, [g]) => {
  const { b } = ctx;
  if (!g) return [null];
  const y = ctx.output();
  const dot = b.reduceSum(b.op1('Mul', [g, y]), softmaxAxes(ctx), true);
  return [b.op1('Mul', [y, b.op1('Sub', [g, dot])])];
};

const logSoftmax: VjpRule = (ctx, [g]) => {
  const { b } = ctx;
  if (!g) return [null];
  const total = b.reduceSum(g, softmaxAxes(ctx), true);
  return [b.op1('Sub', [g, b.op1('Mul', [b.op1('Exp', [ctx.output()]), total])])];
};

/**
 * LayerNormalization (opset 17) over the axes from `axis` on: with x̂ = (x − μ)/σ and h = g·scale,
 * dx = (h − mean(h) − x̂·mean(h·x̂)) / σ, the statistics recomputed here (its optional Mean and InvStdDev
 * outputs are rarely kept).
 */
const layerNormalization: VjpRule = (ctx, [g]) => {
  const { b } = ctx;
  if (!g) return [null, null, null];
  if (ctx.needs[1] || ctx.needs[2]) ctx.unsupported('gradients with respect to its scale or bias are not computed');
  const x = ctx.input(0);
  const shape = ctx.shape(x);
  const from = axis(ctx.int('axis', -1), shape.length);
  const axes = Array.from({ length: shape.length - from }, (_, i) => from + i);
  const mean = (t: string): TensorName => b.reduceMean(t, axes, true);
  const centred = b.op1('Sub', [x, mean(x)]);
  const variance = mean(b.op1('Mul', [centred, centred]));
  const inverse = b.op1('Reciprocal', [b.op1('Sqrt', [b.op1('Add', [variance, b.scalar(ctx.float('epsilon', 1e-5))])])]);
  const normalised = b.op1('Mul', [centred, inverse]);
  const h = b.op1('Mul', [g, ctx.input(1)]);
  const inner = b.op1('Sub', [b.op1('Sub', [h, mean(h)]), b.op1('Mul', [normalised, mean(b.op1('Mul', [h, normalised]))])]);
  return [b.op1('Mul', [inner, inverse]), null, null];
};

export const reductionRules: Record<string, VjpRule> = {
  LayerNormalization: layerNormalization,
  ReduceMean: reduceMean,
  ReduceSum: reduceSum,
  Softmax: softmax,
  LogSoftmax: logSoftmax,
};
