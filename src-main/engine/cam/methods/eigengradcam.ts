/** EigenGradCAM: the first principal component of g⊙A, signed to agree with HiResCAM's map. */
import { eigenMap } from '../eigen-graph';
import type { InGraphMethod } from './method';

export const eigengradcam: InGraphMethod = {
  kind: 'in-graph',
  build: (ctx) => ({ map: eigenMap(ctx.b, ctx.ga(), ctx.c, ctx.z, ctx.hires(), ctx.items) }),
};
