/**
 * Pooling gradients with standard ops at any opset ≥ 10.
 * MaxPool: each kernel tap's strided slice of the (−∞-padded) input is compared with the output; the first
 * tap in raster order that holds the maximum wins, as in PyTorch, and a grouped ConvTranspose with one-hot
 * kernels scatters the gradient back (summing where windows overlap). This avoids MaxPool's Indices output
 * (a slow path) and ScatterElements' reduction (opset 16+).
 * AveragePool: ConvTranspose with a ones kernel after dividing by each window's divisor, precomputed.
 */
import type { TensorName } from '../../../../src-shared/api';
import { blockable, intoBlocked } from './blocked-layout';
import { convWindow } from './convolution';
import type { VjpContext, VjpRule } from './context';

interface Geometry {
  xs: number[];
  ys: number[];
  kernel: number[];
  strides: number[];
  dilations: number[];
  begin: number[];
  /** Pad needed after the input so that every window lies inside (may be negative: unread rows). */
  extra: number[];
}

function geometry(ctx: VjpContext): Geometry {
  const xs = ctx.shape(ctx.input(0)).slice(2);
  const ys = ctx.shape(ctx.output()).slice(2);
  const kernel = ctx.ints('kernel_shape');
  if (!kernel) return ctx.unsupported('it has no kernel_shape');
  const w = convWindow(ctx, xs, kernel);
  const extra = xs.map(
    (x, i) =>
      ((ys[i] as number) - 1) * (w.strides[i] as number) +
      ((kernel[i] as number) - 1) * (w.dilations[i] as number) +
      1 -
      x -
      (w.begin[i] as number),
  );
  return { xs, ys, kernel, strides: w.strides, dilations: w.dilations, begin: w.begin, extra };
}

/** All kernel taps in raster order. */
function taps(kernel: number[]): number[][] {
  let out: number[][] = [[]];
  for (const k of kernel) out = out.flatMap((prefix) => Array.from({ length: k }, (_, i) => [...prefix, i]));
  return out;
}

/** ConvTranspose that adds each window's values back onto the input grid (grouped per channel). */
function scatterWindows(ctx: VjpContext, g: TensorName, geo: Geometry, kernelWeights: TensorName, groups: number): TensorName {
  const pads: number[] = [];
  const outputPadding: number[] = [];
  geo.extra.forEach((e) => {
    pads.push(Math.max(0, e));
    outputPadding.push(Math.max(0, -e));
  });
  outputPadding.forEach((op, i) => {
    if (op >= Math.max(geo.strides[i] as number, geo.dilations[i] as number))
      ctx.unsupported('its geometry cannot be inverted exactly');
  });
  return ctx.b.op1('ConvTranspose', [g, kernelWeights], {
    kernel_shape: geo.kernel,
    strides: geo.strides,
    dilations: geo.dilations,
    group: groups,
    pads: [...geo.begin, ...pads],
    output_padding: outputPadding,
  });
}

/**
 * `counts` elements every `steps` from `starts` along `axes` of `x` (static shape `shape`): a strided Slice,
 * or before opset 10 (no steps) a contiguous Slice of counts·steps reshaped to [counts, steps] and cut to
 * its first column — the caller leaves room for counts·steps elements.
 */
function stridedWindow(
  ctx: VjpContext,
  x: TensorName,
  shape: number[],
  starts: number[],
  counts: number[],
  steps: number[],
  axes: number[],
): TensorName {
  const { b } = ctx;
  if (b.opset >= 10)
    return b.slice(
      x,
      starts,
      starts.map((s, i) => s + ((counts[i] as number) - 1) * (steps[i] as number) + 1),
      axes,
      steps,
    );
  let out = x;
  const dims = [...shape];
  axes.forEach((a, i) => {
    const [start, count, step] = [starts[i] as number, counts[i] as number, steps[i] as number];
    out = b.slice(out, [start], [start + count * step], [a]);
    if (step > 1) {
      const split = b.reshape(out, [...dims.slice(0, a), count, step, ...dims.slice(a + 1)]);
      out = b.reshape(b.slice(split, [0], [1], [a + 1]), [...dims.slice(0, a), count, ...dims.slice(a + 1)]);
    }
    dims[a] = count;
  });
  return out;
}

const maxPool: VjpRule = (ctx, [g]) => {
  const { b } = ctx;
  if (!g) return [null];
  const x = ctx.input(0);
  const xShape = ctx.shape(x);
  const [n, c] = xShape as [number, number];
  const geo = geometry(ctx);
  const spatialAxes = geo.xs.map((_, i) => i + 2);
  // Without strided Slice (opset < 10) the windows are cut as counts·steps runs: room for them at the end.
  const endPads = geo.extra.map((e, i) => {
    const padded = (geo.xs[i] as number) + (geo.begin[i] as number) + Math.max(0, e);
    const reach =
      ((geo.kernel[i] as number) - 1) * (geo.dilations[i] as number) + (geo.ys[i] as number) * (geo.strides[i] as number);
    return Math.max(0, e) + (b.opset >= 10 ? 0 : Math.max(0, reach - padded));
  });
  const paddedShape = [n, c, ...geo.xs.map((v, i) => v + (geo.begin[i] as number) + (endPads[i] as number))];
  const padded = b.pad(x, [0, 0, ...geo.begin, 0, 0, ...endPads], -Infinity);
  const y = ctx.output();
  const list = taps(geo.kernel);
  const parts: TensorName[] = [];
  let claimed: TensorName | null = null;
  for (const tap of list) {
    const starts = tap.map((t, i) => t * (geo.dilations[i] as number));
    const window = stridedWindow(ctx, padded, paddedShape, starts, geo.ys, geo.strides, spatialAxes);
    const hit = b.equal(window, y);
    const winner: TensorName = claimed ? b.op1('And', [hit, b.op1('Not', [claimed])]) : hit;
    claimed = claimed ? b.op1('Or', [claimed, hit]) : hit;
    parts.push(b.reshape(b.where(winner, g, b.scalar(0)), [n, c, 1, ...geo.ys]));
  }
  const k = list.length;
  const stacked = b.reshape(parts.length > 1 ? b.op1('Concat', parts, { axis: 2 }) : (parts[0] as TensorName), [
    n,
    c * k,
    ...geo.ys,
  ]);
  const kernelSize = geo.kernel.reduce((a, v) => a * v, 1);
  const weights = new Float32Array(c * k * kernelSize);
  for (let ch = 0; ch < c; ch++) for (let t = 0; t < k; t++) weights[(ch * k + t) * kernelSize + t] = 1;
  const w = b.floatConst(weights, [c * k, 1, ...geo.kernel], 'maxpool_scatter');
  return [scatterWindows(ctx, stacked, geo, w, c), ...ctx.node.output.slice(1).map(() => null)];
};

/** Number of elements each output window averages over, as onnxruntime counts them. */
function divisors(geo: Geometry, includePad: boolean, endPads: number[]): Float32Array {
  const total = geo.ys.reduce((a, v) => a * v, 1);
  const out = new Float32Array(total);
  for (let flat = 0; flat < total; flat++) {
    let rest = flat;
    let count = 1;
    for (let i = geo.ys.length - 1; i >= 0; i--) {
      const o = rest % (geo.ys[i] as number);
      rest = Math.floor(rest / (geo.ys[i] as number));
      const lo = includePad ? -(geo.begin[i] as number) : 0;
      const hi = includePad ? (geo.xs[i] as number) + (endPads[i] as number) : (geo.xs[i] as number);
      let inside = 0;
      for (let t = 0; t < (geo.kernel[i] as number); t++) {
        const p = o * (geo.strides[i] as number) - (geo.begin[i] as number) + t * (geo.dilations[i] as number);
        if (p >= lo && p < hi) inside++;
      }
      count *= inside;
    }
    out[flat] = count;
  }
  return out;
}

const averagePool: VjpRule = (ctx, [g]) => {
  const { b } = ctx;
  if (!g) return [null];
  const xShape = ctx.shape(ctx.input(0));
  const c = xShape[1] as number;
  const geo = geometry(ctx);
  const explicitEnd =
    ctx.string('auto_pad', 'NOTSET') === 'NOTSET'
      ? (ctx.ints('pads')?.slice(geo.xs.length) ?? geo.xs.map(() => 0))
      : geo.extra.map((e) => Math.max(0, e));
  const d = divisors(geo, ctx.int('count_include_pad', 0) === 1, explicitEnd);
  const scaled = b.op1('Div', [g, b.floatConst(d, [1, 1, ...geo.ys], 'avgpool_divisor')]);
  const kernelSize = geo.kernel.reduce((a, v) => a * v, 1);
  const ones = b.floatConst(new Float32Array(c * kernelSize).fill(1), [c, 1, ...geo.kernel], 'avgpool_ones');
  return [scatterWindows(ctx, scaled, geo, ones, c)];
};

const globalAveragePool: VjpRule = (ctx, [g]) => {
  const { b } = ctx;
  if (!g) return [null];
  const xShape = ctx.shape(ctx.input(0));
  const area = xShape.slice(2).reduce((a, v) => a * v, 1);
  const spread = b.expand(b.op1('Div', [g, b.scalar(area)]), xShape);
  return [blockable(b, xShape) ? intoBlocked(b, spread, xShape[1] as number) : spread];
};

/** Ties (rare on real features) share the gradient equally. */
const globalMaxPool: VjpRule = (ctx, [g]) => {
  const { b } = ctx;
  if (!g) return [null];
  const x = ctx.input(0);
  const xShape = ctx.shape(x);
  const hit = b.op1('Cast', [b.equal(x, ctx.output())], { to: 1 });
  const count = b.reduceSum(
    hit,
    xShape.slice(2).map((_, i) => i + 2),
    true,
  );
  return [b.op1('Mul', [hit, b.op1('Div', [g, count])])];
};

export const poolingRules: Record<string, VjpRule> = {
  MaxPool: maxPool,
  AveragePool: averagePool,
  GlobalAveragePool: globalAveragePool,
  GlobalMaxPool: globalMaxPool,
};
