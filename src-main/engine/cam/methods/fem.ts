/**
 * FEM, the Feature Explanation Method (Fuad et al., IPTA 2020): in each channel the positions that are
 * outliers by the k-sigma rule (A_k ≥ μ_k + 2σ_k over the channel's positions), weighted by the channel's
 * mean, Σ_k μ_k·M_k. Gradient-free and class-agnostic.
 */
import type { InGraphMethod } from './method';

const K = 2;

export const fem: InGraphMethod = {
  kind: 'in-graph',
  build: (ctx) => {
    const { b } = ctx;
    const a = ctx.a();
    const mean = ctx.perChannel('mean', a);
    const centred = b.op1('Sub', [a, mean]);
    const std = b.op1('Sqrt', [ctx.perChannel('mean', b.op1('Mul', [centred, centred]))]);
    const threshold = b.op1('Add', [mean, b.op1('Mul', [std, b.scalar(K)])]);
    // A ≥ T as not(A < T): GreaterOrEqual needs opset 12. A constant channel (σ = 0) is all outliers.
    const outliers = b.op1('Cast', [b.op1('Not', [b.op1('Less', [a, threshold])])], { to: 1 });
    return { map: ctx.weighted(mean, outliers), terms: () => b.op1('Mul', [mean, outliers]) };
  },
};
