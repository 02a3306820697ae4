/**
 * The seed of the backward pass for FinerCAM's score, built in the graph from the run's own logits (so it
 * costs no extra run): pytorch-grad-cam's FinerWeightedTarget with its defaults,
 *   T = Σ_j p_j·(y_c − α·y_j) / (Σ_j p_j + ε),  p = softmax(y),
 * over the three classes j whose logits are nearest y_c (the explained class ranks first, at distance 0).
 * As there, the weights p_j are not detached: the seed is ∂T/∂y, written out,
 *   ∂N = p⊙μ⊙(y_c − α·y) − N·p + D·e_c − α·p⊙μ,  ∂D = p⊙μ − D·p,  ∂T = (∂N·(D+ε) − N·∂D) / (D+ε)²
 * with μ the compared classes' indicator, N and D the sums above and e_c the class's one-hot row.
 */
import type { TensorName } from '../../../src-shared/api';
import type { GraphBuilder } from './graph-builder';

export const FINER_ALPHA = 1;
/** Compared classes: ranks 1..3 by |y_j − y_c| (pytorch-grad-cam's comparison_categories [1, 2, 3]). */
export const FINER_COMPARED = 3;
const EPS = 1e-9;

/**
 * ∂T/∂score for every row of `score` (shape `scoreShape`, classes last), given `classSeed`: the explained
 * class's one-hot row times ±1 (the counterfactual's sign, which the result keeps).
 */
export function finerSeed(b: GraphBuilder, score: string, classSeed: string, scoreShape: number[]): TensorName {
  const k = scoreShape.at(-1) ?? 1;
  const n = scoreShape.slice(0, -1).reduce((a, d) => a * d, 1);
  const y = b.reshape(score, [n, k]);
  const seed = b.reshape(classSeed, [n, k]);
  const sign = b.reduceSum(seed, [1], true);
  const e = b.op1('Mul', [seed, sign]);
  const yc = b.reduceSum(b.op1('Mul', [e, y]), [1], true);
  // Distances with the class itself at −1, below every other: rank_j = #{m : d_m < d_j}, ranks 1..3 compared.
  // (Ties are ranked alike, where numpy's argsort breaks them by chance.)
  const d = b.op1('Sub', [b.op1('Abs', [b.op1('Sub', [y, yc])]), e]);
  const less = b.op1('Less', [b.reshape(d, [n, 1, k]), b.reshape(d, [n, k, 1])]);
  const rank = b.reduceSum(b.op1('Cast', [less], { to: 1 }), [2], false);
  const within = (cond: TensorName): TensorName => b.op1('Cast', [cond], { to: 1 });
  const mu = b.op1('Mul', [
    within(b.op1('Greater', [rank, b.scalar(0.5)])),
    within(b.op1('Less', [rank, b.scalar(FINER_COMPARED + 0.5)])),
  ]);
  const p = b.op1('Softmax', [y], { axis: 1 });
  const pm = b.op1('Mul', [p, mu]);
  const gap = b.op1('Sub', [yc, b.op1('Mul', [y, b.scalar(FINER_ALPHA)])]);
  const dTotal = b.reduceSum(pm, [1], true);
  const nTotal = b.reduceSum(b.op1('Mul', [pm, gap]), [1], true);
  // pm⊙(gap − α) + D·e − N·p, as Adds (WebGPU has no Sum kernel).
  const dN = b.op1('Sub', [
    b.op1('Add', [b.op1('Mul', [pm, b.op1('Sub', [gap, b.scalar(FINER_ALPHA)])]), b.op1('Mul', [dTotal, e])]),
    b.op1('Mul', [nTotal, p]),
  ]);
  const dD = b.op1('Sub', [pm, b.op1('Mul', [dTotal, p])]);
  const denominator = b.op1('Add', [dTotal, b.scalar(EPS)]);
  const numerator = b.op1('Sub', [b.op1('Mul', [dN, denominator]), b.op1('Mul', [nTotal, dD])]);
  const grad = b.op1('Div', [numerator, b.op1('Mul', [denominator, denominator])]);
  return b.reshape(b.op1('Mul', [grad, sign]), scoreShape);
}
