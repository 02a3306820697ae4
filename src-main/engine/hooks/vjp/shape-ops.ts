/** Ops that move values without changing them: their gradients move the gradient back. */
import type { TensorName } from '../../../../src-shared/api';
import { axis, type VjpRule } from './context';

/** Flatten, Reshape, Squeeze, Unsqueeze: same values, other shape. */
const reshapeBack: VjpRule = (ctx, [g]) => [
  g ? ctx.b.reshape(g, ctx.shape(ctx.input(0))) : null,
  ...ctx.node.input.slice(1).map(() => null),
];

const transpose: VjpRule = (ctx, [g]) => {
  if (!g) return [null];
  const rank = ctx.shape(ctx.input(0)).length;
  const perm = ctx.ints('perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  const inverse = new Array<number>(rank);
  perm.forEach((p, i) => (inverse[p] = i));
  return [ctx.b.op1('Transpose', [g], { perm: inverse })];
};

const concat: VjpRule = (ctx, [g]) => {
  if (!g) return ctx.node.input.map(() => null);
  const rank = ctx.shape(ctx.output()).length;
  const ax = axis(ctx.int('axis', 0), rank);
  let offset = 0;
  return ctx.node.input.map((name, i) => {
    const size = ctx.shape(name)[ax] as number;
    const start = offset;
    offset += size;
    return ctx.needs[i] ? ctx.b.slice(g, [start], [start + size], [ax]) : null;
  });
};

const split: VjpRule = (ctx, grads) => {
  const { b } = ctx;
  if (grads.every((g) => !g)) return ctx.node.input.map(() => null);
  const rank = ctx.shape(ctx.input(0)).length;
  const ax = axis(ctx.int('axis', 0), rank);
  const parts = ctx.node.output.map((name, i) => grads[i] ?? b.expand(b.scalar(0), ctx.shape(name)));
  return [b.op1('Concat', parts, { axis: ax }), ...ctx.node.input.slice(1).map(() => null)];
};

/**
 * Slice: the gradient padded back to the input's extent. A positive step s first spreads the gradient
 * apart — each element followed by s − 1 zeros (a Reshape to [n, 1], a Pad to [n, s], a Reshape to n·s) —
 * as Swin's patch merging x[:, 0::2, 1::2] needs. Reversed slices are refused.
 */
const slice: VjpRule = (ctx, [g]) => {
  if (!g) return ctx.node.input.map(() => null);
  const { b } = ctx;
  const xShape = ctx.shape(ctx.input(0));
  const rank = xShape.length;
  const starts = ctx.intsFromAttrOrInput('starts', 1);
  const ends = ctx.intsFromAttrOrInput('ends', 2);
  if (!starts || !ends) return ctx.unsupported('its starts/ends are missing');
  const axes = ctx.intsFromAttrOrInput('axes', 3) ?? starts.map((_, i) => i);
  const steps = ctx.node.input[4] ? ctx.intsFromAttrOrInput('steps', 4) : null;
  if (steps?.some((s) => s < 1)) ctx.unsupported('reversed slices are not supported yet');
  let grad = g;
  const shape = [...ctx.shape(ctx.output())];
  const pads = new Array<number>(2 * rank).fill(0);
  axes.forEach((a0, i) => {
    const a = axis(a0, rank);
    const dim = xShape[a] as number;
    const step = steps?.[i] ?? 1;
    const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
    const s = clamp(starts[i] as number);
    const count = shape[a] as number;
    if (step > 1 && count > 0) {
      // [.., count, ..] → [.., count, 1, ..] → padded to [.., count, step, ..] → [.., count·step, ..]
      const split = [...shape.slice(0, a), count, 1, ...shape.slice(a + 1)];
      const spread = new Array<number>(2 * (rank + 1)).fill(0);
      spread[a + 1 + rank + 1] = step - 1;
      grad = b.pad(b.reshape(grad, split), spread, 0);
      shape[a] = count * step;
      grad = b.reshape(grad, shape);
      // The last element's trailing zeros may run past the input: cut to what lies inside it.
      const inside = Math.min(shape[a] as number, dim - s);
      if (inside < (shape[a] as number)) {
        grad = b.slice(grad, [0], [inside], [a]);
        shape[a] = inside;
      }
    }
    pads[a] = s;
    pads[a + rank] = dim - s - (shape[a] as number);
  });
  return [b.pad(grad, pads, 0), ...ctx.node.input.slice(1).map(() => null)];
};

const pad: VjpRule = (ctx, [g]) => {
  if (!g) return ctx.node.input.map(() => null);
  const mode = ctx.string('mode', 'constant');
  if (mode !== 'constant') ctx.unsupported(`"${mode}" padding is not supported yet (only constant)`);
  const xShape = ctx.shape(ctx.input(0));
  const rank = xShape.length;
  const raw = ctx.intsFromAttrOrInput('pads', 1);
  if (!raw) return ctx.unsupported('its pads are missing');
  const axes = ctx.node.input[3] ? (ctx.constants.ints(ctx.node.input[3]) ?? ctx.unsupported('its axes are not constant')) : null;
  const begin = new Array<number>(rank).fill(0);
  const end = new Array<number>(rank).fill(0);
  const list = axes ? axes.map((a) => axis(a, rank)) : Array.from({ length: rank }, (_, i) => i);
  list.forEach((a, i) => {
    begin[a] = raw[i] as number;
    end[a] = raw[i + list.length] as number;
  });
  if ([...begin, ...end].some((p) => p < 0)) ctx.unsupported('negative (cropping) pads are not supported yet');
  const starts = begin;
  const ends = xShape.map((d, i) => (begin[i] as number) + d);
  return [
    ctx.b.slice(
      g,
      starts,
      ends,
      xShape.map((_, i) => i),
    ),
    ...ctx.node.input.slice(1).map(() => null),
  ];
};

/**
 * Gather with constant indices (a class token x[:, 0], a channel selection): each gathered slice's
 * gradient goes back to its index, summed where an index repeats. One index: a Pad around the slice.
 * Several: a MatMul with the constant one-hot [K, n] matrix over the gathered axis.
 */
const gather: VjpRule = (ctx, [g]) => {
  const { b } = ctx;
  if (!g) return [null, null];
  if (ctx.needs[1]) ctx.unsupported('indices that depend on the hooked layers have no gradient');
  const dataShape = ctx.shape(ctx.input(0));
  const rank = dataShape.length;
  const at = axis(ctx.int('axis', 0), rank);
  const n = dataShape[at] as number;
  const name = ctx.node.input[1] ?? '';
  const indices = ctx.constants.ints(name);
  if (!indices) return ctx.unsupported(`its indices "${name}" are computed at run time, not constants`);
  const wrapped = indices.map((i) => (i < 0 ? i + n : i));
  if (wrapped.some((i) => i < 0 || i >= n)) ctx.unsupported('an index is out of range');
  const before = dataShape.slice(0, at);
  const after = dataShape.slice(at + 1);
  // The output's rank tells the indices' rank: rank − 1 + rank(indices).
  if (ctx.shape(ctx.output()).length === rank - 1) {
    const i = wrapped[0] as number;
    const pads = dataShape.map(() => 0);
    const ends = dataShape.map(() => 0);
    pads[at] = i;
    ends[at] = n - 1 - i;
    return [b.pad(b.reshape(g, [...before, 1, ...after]), [...pads, ...ends]), null];
  }
  const k = wrapped.length;
  const oneHot = new Float32Array(k * n);
  wrapped.forEach((j, row) => (oneHot[row * n + j] = 1));
  const pre = before.reduce((a, d) => a * d, 1);
  const post = after.reduce((a, d) => a * d, 1);
  // [pre, K, post] → [pre, post, K] · [K, n] → [pre, post, n] → [pre, n, post]
  const rows = b.op1('Transpose', [b.reshape(g, [pre, k, post])], { perm: [0, 2, 1] });
  const spread = b.op1('MatMul', [rows, b.floatConst(oneHot, [k, n], 'gather_onehot')]);
  return [b.reshape(b.op1('Transpose', [spread], { perm: [0, 2, 1] }), dataShape), null];
};

export const shapeRules: Record<string, VjpRule> = {
  Gather: gather,
  Flatten: reshapeBack,
  Reshape: reshapeBack,
  Squeeze: reshapeBack,
  Unsqueeze: reshapeBack,
  Transpose: transpose,
  Concat: concat,
  Split: split,
  Slice: slice,
  Pad: pad,
};

export type { TensorName };
