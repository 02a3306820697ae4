/** Grad-CAM++ (Chattopadhyay et al.): positive gradients weighted by α = g²/(2g² + ΣA·g³ + ε). */
import type { TensorName } from '../../../../src-shared/api';
import type { LayerMapContext } from '../map-context';
import type { InGraphMethod } from './method';

const EPS = 1e-7;

export const gradcamPlusPlus: InGraphMethod = {
  kind: 'in-graph',
  build: (ctx) => {
    const { b } = ctx;
    // α·ReLU(g) with α = g²/(2g² + S·g³ + ε), written on r = ReLU(g) as r / (2 + S·r + ε/r²): equal where
    // r > 0 (and free of the r³ overflow), and 0 where r = 0 (ε/0 = ∞), which is what skipping g = 0 in the
    // definition means. Five elementwise passes over [C, Z] instead of seven.
    const r = ctx.positiveGradient();
    const small = b.op1('Div', [b.scalar(EPS), b.op1('Mul', [r, r])]);
    const weights = ctx.perChannel('sum', b.op1('Div', [r, b.op1('Add', [channelAffine(ctx, r, ctx.channelSums(), 2), small])]));
    return ctx.byWeights(weights);
  },
};

/**
 * s·x + t for x [C, Z] and per-channel s [C, 1], in one pass where the opset has the per-channel affine
 * map of inference-mode BatchNormalization (mean 0, variance 1, ε 0), else as a Mul and an Add. Items'
 * channels are the N·C channels of one BatchNormalization.
 */
function channelAffine(ctx: LayerMapContext, x: string, s: string, t: number): TensorName {
  const { b, rows: c } = ctx;
  if (b.opset < 9) return b.op1('Add', [b.op1('Mul', [x, s]), b.scalar(t)]);
  const flat = (v: string): TensorName => b.reshape(v, [c]);
  const y = b.op1(
    'BatchNormalization',
    [
      b.reshape(x, [1, c, -1]),
      flat(s),
      b.floatConst(new Float32Array(c).fill(t), [c], 'shift'),
      b.floatConst(new Float32Array(c), [c], 'zeros'),
      b.floatConst(new Float32Array(c).fill(1), [c], 'ones'),
    ],
    { epsilon: { float: 0 } },
  );
  return b.reshape(y, [...ctx.lead, ctx.c, -1]);
}
