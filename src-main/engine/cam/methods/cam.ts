/**
 * CAM (Zhou et al.): the final linear layer's weights for the class, on the layer that feeds global average
 * pooling. In the graph, the class's weight row is the one-hot class row times the head's weight matrix, and
 * the map one more weights row of the map product: no activation leaves the run.
 */
import type { InGraphMethod } from './method';

export const cam: InGraphMethod = {
  kind: 'in-graph',
  build: (ctx) => {
    const { head, classRow } = ctx.inputs;
    if ('reason' in head) return { unavailable: head.reason };
    if (!classRow) return { unavailable: 'CAM needs the class to explain, and this run has none.' };
    // [1, classes]·W: with W [classes, C] as is, with W [C, classes] transposed by Gemm.
    const row = ctx.b.gemm(classRow, head.tensor, { transB: head.classesFirst ? 0 : 1 });
    return ctx.byWeights(row);
  },
};
