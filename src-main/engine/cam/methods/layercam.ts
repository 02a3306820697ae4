/** LayerCAM (Jiang et al.): Σ_k ReLU(g_k)⊙A_k, element-wise. */
import type { InGraphMethod } from './method';

export const layercam: InGraphMethod = {
  kind: 'in-graph',
  build: (ctx) => ctx.byTerms(ctx.b.op1('Mul', [ctx.positiveGradient(), ctx.a()])),
};
