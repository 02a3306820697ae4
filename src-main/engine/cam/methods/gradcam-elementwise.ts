/** Grad-CAM Element-Wise (pytorch-grad-cam's GradCAMElementWise): Σ_k ReLU(g_k⊙A_k), the ReLU before the sum. */
import type { InGraphMethod } from './method';

export const gradcamElementwise: InGraphMethod = {
  kind: 'in-graph',
  build: (ctx) => ctx.byTerms(ctx.b.op1('Relu', [ctx.ga()])),
};
