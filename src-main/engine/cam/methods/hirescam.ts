/** HiResCAM (Draelos & Carin): Σ_k g_k⊙A_k, element-wise. */
import type { InGraphMethod } from './method';

export const hirescam: InGraphMethod = {
  kind: 'in-graph',
  build: (ctx) => {
    // C signed terms per position: where they cancel (a layer whose gradient reaches the score only through
    // a LayerNorm over channels is orthogonal to it) the map is rounding noise, measured against this scale.
    const termScale = ctx.mapMax(ctx.b.reduceL1(ctx.ga(), [ctx.cAxis], false));
    return { map: ctx.hires(), termScale, terms: () => ctx.ga() };
  },
};
