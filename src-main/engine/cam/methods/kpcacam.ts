/**
 * KPCA-CAM (Karmani et al., 2024), with pytorch-grad-cam's KPCA_CAM defaults (sklearn's KernelPCA, one
 * component, kernel "sigmoid", gamma 1/C, coef0 1): the positions' channel vectors, centred, compared by
 * the kernel k(x, y) = tanh(x·y/C + 1); the map is the first principal component of that kernel matrix
 * (centred in feature space), signed to agree with Σ_k A_k as EigenCAM's is. Gradient-free, class-agnostic.
 */
import { kernelComponent } from '../eigen-graph';
import type { InGraphMethod } from './method';

const COEF0 = 1;

export const kpcacam: InGraphMethod = {
  kind: 'in-graph',
  // Its kernel matrix is over one item's positions.
  perItem: true,
  build: (ctx) => {
    const { b, c, z } = ctx;
    const a = ctx.a();
    const x = b.op1('Sub', [a, b.reduceMean(a, [1], true)]);
    const gram = b.op1('MatMul', [b.op1('Transpose', [x], { perm: [1, 0] }), x]);
    const kernel = b.op1('Tanh', [b.op1('Add', [b.op1('Mul', [gram, b.scalar(1 / c)]), b.scalar(COEF0)])]);
    const centred = b.op1('Add', [
      b.op1('Sub', [b.op1('Sub', [kernel, b.reduceMean(kernel, [0], true)]), b.reduceMean(kernel, [1], true)]),
      b.reduceMean(kernel, [0, 1], true),
    ]);
    return { map: kernelComponent(b, centred, z, ctx.total()) };
  },
};
