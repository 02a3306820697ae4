/** XGradCAM (Fu et al.): channel k weighted by Σ g_k⊙A_k / (Σ A_k + ε). */
import type { InGraphMethod } from './method';

const EPS = 1e-7;

export const xgradcam: InGraphMethod = {
  kind: 'in-graph',
  build: (ctx) => {
    const { b } = ctx;
    const weights = b.op1('Div', [ctx.perChannel('sum', ctx.ga()), b.op1('Add', [ctx.channelSums(), b.scalar(EPS)])]);
    return ctx.byWeights(weights);
  },
};
