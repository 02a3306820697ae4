/**
 * FinerCAM (Zhang et al., CVPR 2025), as pytorch-grad-cam's FinerCAM computes it by default: Grad-CAM of the
 * explained class's logit less its most similar classes' (the three logits nearest it, weighted by their
 * softmax probabilities, alpha 1). The difference is the seed of its own backward pass
 * (hooks/score-target.ts); the map is Grad-CAM's.
 */
import type { InGraphMethod } from './method';

export const finercam: InGraphMethod = {
  kind: 'in-graph',
  target: 'finer',
  build: (ctx) => ctx.byWeights(ctx.perChannel('mean', ctx.g())),
};
