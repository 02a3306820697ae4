/** EigenCAM (Muhammad & Yeasin): the activations' first principal component, signed to agree with Σ_k A_k. */
import { eigenMap } from '../eigen-graph';
import type { InGraphMethod } from './method';

export const eigencam: InGraphMethod = {
  kind: 'in-graph',
  build: (ctx) => ({ map: eigenMap(ctx.b, ctx.a(), ctx.c, ctx.z, ctx.total(), ctx.items) }),
};
