/** Grad-CAM (Selvaraju et al.): channels weighted by their mean gradient. */
import type { InGraphMethod } from './method';

export const gradcam: InGraphMethod = {
  kind: 'in-graph',
  build: (ctx) => ctx.byWeights(ctx.perChannel('mean', ctx.g())),
};
