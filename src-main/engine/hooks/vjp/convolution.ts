/**
 * Conv ↔ ConvTranspose are each other's adjoints with the same weights, strides, dilations and groups. Pads
 * are always made explicit (auto_pad resolved from the static shapes) because onnxruntime's ConvTranspose
 * with output_shape and asymmetric pads gives wrong values; output_padding recovers the rows a strided
 * convolution never read. With constant weights the adjoint avoids ConvTranspose (whose col2im onnxruntime
 * runs on one thread) where it can: stride 1 → one Conv with flipped weights; strided 1×1 → Conv then
 * MaxUnpool; strided 2-D → one Conv per phase, interleaved by a one-hot depthwise ConvTranspose (blocked layout) or
 * DepthToSpace.
 */
import type { TensorName } from '../../../../src-shared/api';
import { blockable, intoBlocked } from './blocked-layout';
import type { GraphBuilder } from '../graph-builder';
import type { VjpContext, VjpRule } from './context';

interface Window {
  kernel: number[];
  strides: number[];
  dilations: number[];
  begin: number[];
  end: number[];
}

/** Kernel geometry of a Conv/Pool-like node with its pads resolved for input spatial size `xs`. */
export function convWindow(ctx: VjpContext, xs: number[], kernel: number[]): Window {
  const n = xs.length;
  const strides = ctx.ints('strides') ?? new Array<number>(n).fill(1);
  const dilations = ctx.ints('dilations') ?? new Array<number>(n).fill(1);
  const autoPad = ctx.string('auto_pad', 'NOTSET');
  let begin = new Array<number>(n).fill(0);
  let end = new Array<number>(n).fill(0);
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    for (let i = 0; i < n; i++) {
      const x = xs[i] as number;
      const s = strides[i] as number;
      const out = Math.ceil(x / s);
      const total = Math.max(0, (out - 1) * s + ((kernel[i] as number) - 1) * (dilations[i] as number) + 1 - x);
      const small = Math.floor(total / 2);
      begin[i] = autoPad === 'SAME_UPPER' ? small : total - small;
      end[i] = total - (begin[i] as number);
    }
  } else if (autoPad === 'NOTSET') {
    const pads = ctx.ints('pads');
    if (pads) {
      begin = pads.slice(0, n);
      end = pads.slice(n, 2 * n);
    }
  } else if (autoPad !== 'VALID') {
    ctx.unsupported(`auto_pad "${autoPad}" is not understood`);
  }
  return { kernel, strides, dilations, begin, end };
}

/** output_padding that makes ConvTranspose(g) exactly as large as the forward input. */
export function outputPadding(ctx: VjpContext, w: Window, xs: number[], ys: number[]): number[] {
  return xs.map((x, i) => {
    const covered =
      ((ys[i] as number) - 1) * (w.strides[i] as number) + ((w.kernel[i] as number) - 1) * (w.dilations[i] as number) + 1;
    const op = x - (covered - (w.begin[i] as number) - (w.end[i] as number));
    if (op < 0 || op >= Math.max(w.strides[i] as number, w.dilations[i] as number)) {
      ctx.unsupported(`its geometry (input ${x}, output ${ys[i]}) cannot be inverted exactly`);
    }
    return op;
  });
}

/**
 * For stride 1 the adjoint is itself a convolution, with the kernel flipped and its in/out channels swapped
 * per group: onnxruntime's Conv is much faster than its ConvTranspose, so constant weights are pre-flipped.
 */
function flippedWeights(w: Float32Array, shape: number[], group: number): { data: Float32Array; dims: number[] } {
  const [cout, cinG, ...kernel] = shape as [number, number, ...number[]];
  const k = kernel.reduce((a, v) => a * v, 1);
  const coutG = cout / group;
  const out = new Float32Array(w.length);
  for (let j = 0; j < group; j++) {
    for (let co = 0; co < coutG; co++) {
      for (let ci = 0; ci < cinG; ci++) {
        const src = ((j * coutG + co) * cinG + ci) * k;
        const dst = ((j * cinG + ci) * coutG + co) * k;
        // Reversing the flattened kernel flips every spatial axis at once.
        for (let t = 0; t < k; t++) out[dst + t] = w[src + k - 1 - t] as number;
      }
    }
  }
  return { data: out, dims: [cinG * group, coutG, ...kernel] };
}

/** A strided convolution with constant weights, as its adjoints need it. */
interface StridedConv {
  w: Window;
  weights: Float32Array;
  wShape: number[];
  group: number;
  xShape: number[];
  /** Output spatial sizes. */
  ys: number[];
}

/** Above this many positions the index table of `pointwiseStridedAdjoint` would cost more memory than it saves time. */
const MAX_UNPOOL_INDICES = 1 << 21;

/**
 * A strided 1×1 convolution without pads (ResNet's downsample) reads every s-th input position only. Its
 * adjoint is the 1×1 convolution with transposed weights at the output's resolution, then MaxUnpool
 * scatters that onto a zero grid at precomputed positions: one cheap pass, where onnxruntime's
 * ConvTranspose spends longer than the convolution itself on its col2im.
 */
function pointwiseStridedAdjoint(ctx: VjpContext, g: TensorName, strided: StridedConv): TensorName | null {
  const { w, weights, wShape, group, xShape, ys } = strided;
  const { b } = ctx;
  const pointwise = w.kernel.every((k) => k === 1) && [...w.begin, ...w.end].every((p) => p === 0);
  const [n, c] = xShape as [number, number];
  const count = n * c * ys.reduce((a, v) => a * v, 1);
  // WebGPU has no MaxUnpool kernel: the polyphase form (one phase, then DepthToSpace) serves it.
  if (!pointwise || b.opset < 9 || count > MAX_UNPOOL_INDICES || b.form === 'gpu') return null;
  const transposed = flippedWeights(weights, wShape, group);
  const h = b.op1('Conv', [g, b.floatConst(transposed.data, transposed.dims, 'conv_adjoint')], {
    kernel_shape: w.kernel,
    group,
  });
  // Flat index (over the whole input tensor, as MaxUnpool expects) of the position each output read.
  const xs = xShape.slice(2);
  const area = xs.reduce((a, v) => a * v, 1);
  const indices = new Float64Array(count);
  const spatial = ys.reduce((a, v) => a * v, 1);
  for (let plane = 0; plane < n * c; plane++) {
    for (let o = 0; o < spatial; o++) {
      let rest = o;
      let flat = 0;
      let stride = 1;
      for (let i = ys.length - 1; i >= 0; i--) {
        const oi = rest % (ys[i] as number);
        rest = Math.floor(rest / (ys[i] as number));
        flat += oi * (w.strides[i] as number) * stride;
        stride *= xs[i] as number;
      }
      indices[plane * spatial + o] = plane * area + flat;
    }
  }
  const unpooled = b.op1('MaxUnpool', [h, b.int64Const(indices, 'unpool_at', [n, c, ...ys]), b.int64Const(xShape, 'shape')], {
    // 1-wide windows: onnxruntime requires output_shape ≥ (y − 1)·s + kernel.
    kernel_shape: w.kernel,
    strides: w.strides,
  });
  // Shape inference cannot read MaxUnpool's output_shape input; a Reshape (free: it aliases) states it, so
  // that onnxruntime can prove the shapes of the sums downstream equal (see blocked-layout.ts).
  const shaped = b.reshape(unpooled, xShape);
  return blockable(b, xShape) ? intoBlocked(b, shaped, c) : shaped;
}

/**
 * The phases [N, C, n, n] (r_h·s + r_w order) interleaved into [N, C, s·n, s·n], as a depthwise s×s
 * ConvTranspose with stride s and one-hot kernels: each channel's s² phases are stacked next to each other
 * (a Concat on a new axis) and each lands on its own tap. On onnxruntime's CPU provider this is several
 * times faster than DepthToSpace, whose generic six-axis shuffle runs on one thread.
 */
function interleaveByTransposedConv(ctx: VjpContext, parts: TensorName[], c: number, s: number, n: number): TensorName {
  const { b } = ctx;
  const batch = ctx.shape(ctx.input(0))[0] as number;
  const stacked = b.op1(
    'Concat',
    parts.map((p) => b.reshape(p, [batch, c, 1, n, n])),
    { axis: 2 },
  );
  const taps = new Float32Array(c * s * s * s * s);
  // Channel k·s² + p of the stacked input has its 1 at tap p = (r_h, r_w) of its own group k.
  for (let k = 0; k < c; k++) for (let p = 0; p < s * s; p++) taps[(k * s * s + p) * s * s + p] = 1;
  return b.op1(
    'ConvTranspose',
    [b.reshape(stacked, [batch, c * s * s, n, n]), b.floatConst(taps, [c * s * s, 1, s, s], 'interleave')],
    {
      group: c,
      kernel_shape: [s, s],
      strides: [s, s],
    },
  );
}

/**
 * One phase's stride-1 convolution of g [N, C, ys]. onnxruntime's WebGPU Conv (1.30) computes a kernel as
 * large as its input with padding at the end only (pads [0, 0, k−1, k−1]: the adjoint of a 3×3/2
 * convolution onto 2×2) as if there were no padding, wrong by up to 100 %. In the GPU form that padding is
 * made by concatenating zeros (a Pad node would be fused back into the Conv's pads by onnxruntime).
 */
function phaseConv(
  b: GraphBuilder,
  g: TensorName,
  weights: TensorName,
  kernel: number[],
  shape: number[],
  group: number,
  pads: number[],
): TensorName {
  const [n, c, h, w] = shape as [number, number, number, number];
  const coversInput = kernel[0] === h && kernel[1] === w;
  const endOnly = pads[0] === 0 && pads[1] === 0 && pads.some((p) => p > 0);
  if (b.form !== 'gpu' || !coversInput || !endOnly) return b.op1('Conv', [g, weights], { kernel_shape: kernel, group, pads });
  const [bottom, right] = [pads[2] as number, pads[3] as number];
  const zeros = (dims: number[]): TensorName => b.floatConst(new Float32Array(dims.reduce((a, v) => a * v, 1)), dims, 'zero_pad');
  let padded: TensorName = g;
  if (bottom > 0) padded = b.op1('Concat', [padded, zeros([n, c, bottom, w])], { axis: 2 });
  if (right > 0) padded = b.op1('Concat', [padded, zeros([n, c, h + bottom, right])], { axis: 3 });
  return b.op1('Conv', [padded, weights], { kernel_shape: kernel, group });
}

/**
 * A strided 2-D convolution's adjoint, phase by phase: the input positions ≡ (r_h, r_w) mod s receive
 * gradient from a fixed subset of kernel taps, so each phase is a stride-1 convolution of g with a small
 * sub-kernel (together exactly the forward's multiply-adds), and DepthToSpace interleaves the phases.
 */
function polyphaseAdjoint(ctx: VjpContext, g: TensorName, strided: StridedConv): TensorName | null {
  const { w, weights, wShape, group, xShape, ys } = strided;
  const { b } = ctx;
  const s = w.strides[0] as number;
  const xs = xShape.slice(2);
  if (xs.length !== 2 || w.strides.some((v) => v !== s) || w.dilations.some((d) => d !== 1)) return null;
  const [cout, cinG] = wShape as [number, number];
  const [kh, kw] = w.kernel as [number, number];
  const coutG = cout / group;
  const cin = cinG * group;
  const count = Math.ceil(Math.max(...xs) / s);
  // Per axis and phase r: the taps t ≡ r + pad (mod s) and the offsets δ = (r + pad − t)/s they read g at.
  const phases = (k: number, pad: number) =>
    Array.from({ length: s }, (_, r) => {
      const taps: { t: number; d: number }[] = [];
      for (let t = 0; t < k; t++) if ((((r + pad - t) % s) + s) % s === 0) taps.push({ t, d: (r + pad - t) / s });
      return taps;
    });
  const rows = phases(kh, w.begin[0] as number);
  const cols = phases(kw, w.begin[1] as number);
  if ([...rows, ...cols].some((taps) => taps.length === 0)) return null;
  const parts: TensorName[] = [];
  for (const rt of rows) {
    for (const ct of cols) {
      const [h0, h1] = [Math.min(...rt.map((t) => t.d)), Math.max(...rt.map((t) => t.d))];
      const [w0, w1] = [Math.min(...ct.map((t) => t.d)), Math.max(...ct.map((t) => t.d))];
      const lh = h1 - h0 + 1;
      const lw = w1 - w0 + 1;
      const pads = [-h0, -w0, count - 1 + lh - (ys[0] as number) + h0, count - 1 + lw - (ys[1] as number) + w0];
      if (pads.some((p) => p < 0)) return null;
      const sub = new Float32Array(cin * coutG * lh * lw);
      for (let j = 0; j < group; j++)
        for (let co = 0; co < coutG; co++)
          for (let ci = 0; ci < cinG; ci++)
            for (const a of rt)
              for (const c of ct)
                sub[(((j * cinG + ci) * coutG + co) * lh + a.d - h0) * lw + c.d - w0] = weights[
                  (((j * coutG + co) * cinG + ci) * kh + a.t) * kw + c.t
                ] as number;
      parts.push(
        phaseConv(
          b,
          g,
          b.floatConst(sub, [cin, coutG, lh, lw], 'conv_phase'),
          [lh, lw],
          [xShape[0] as number, cout, ...ys],
          group,
          pads,
        ),
      );
    }
  }
  const interleaved = b.blockedLayout
    ? interleaveByTransposedConv(ctx, parts, cin, s, count)
    : // DCR order: channel (r_h·s + r_w)·C + c lands at (h·s + r_h, w·s + r_w).
      b.op1('DepthToSpace', [b.op1('Concat', parts, { axis: 1 })], { blocksize: s });
  const out = xs.every((x) => x === count * s) ? interleaved : b.slice(interleaved, [0, 0], xs, [2, 3]);
  return blockable(b, xShape) ? intoBlocked(b, out, cin) : out;
}

const conv: VjpRule = (ctx, [g]) => {
  const { b } = ctx;
  if (!g) return ctx.node.input.map(() => null);
  if (ctx.needs[1] || ctx.needs[2])
    ctx.unsupported('gradients with respect to weights that depend on the hooked layers are not supported');
  const xShape = ctx.shape(ctx.input(0));
  const wShape = ctx.shape(ctx.input(1));
  const xs = xShape.slice(2);
  const ys = ctx.shape(ctx.output()).slice(2);
  const w = convWindow(ctx, xs, ctx.ints('kernel_shape') ?? wShape.slice(2));
  const group = ctx.int('group', 1);
  const weights = ctx.constants.floats(ctx.input(1));
  if (weights && w.strides.some((st) => st !== 1)) {
    const strided = { w, weights, wShape, group, xShape, ys };
    const gx = pointwiseStridedAdjoint(ctx, g, strided) ?? polyphaseAdjoint(ctx, g, strided);
    if (gx) return [gx, null, null];
  }
  if (weights && w.strides.every((st) => st === 1)) {
    const reach = w.kernel.map((k, i) => (k - 1) * (w.dilations[i] as number));
    const begin = reach.map((r, i) => r - (w.begin[i] as number));
    const end = reach.map((r, i) => r - (w.end[i] as number));
    if ([...begin, ...end].every((p) => p >= 0)) {
      const flipped = flippedWeights(weights, wShape, group);
      const gx = b.op1('Conv', [g, b.floatConst(flipped.data, flipped.dims, 'conv_adjoint')], {
        kernel_shape: w.kernel,
        dilations: w.dilations,
        group,
        pads: [...begin, ...end],
      });
      return [gx, null, null];
    }
  }
  const gx = b.op1('ConvTranspose', [g, ctx.input(1)], {
    kernel_shape: w.kernel,
    strides: w.strides,
    dilations: w.dilations,
    group,
    pads: [...w.begin, ...w.end],
    output_padding: outputPadding(ctx, w, xs, ys),
  });
  return [gx, null, null];
};

const convTranspose: VjpRule = (ctx, [g]) => {
  const { b } = ctx;
  if (!g) return ctx.node.input.map(() => null);
  if (ctx.needs[1] || ctx.needs[2])
    ctx.unsupported('gradients with respect to weights that depend on the hooked layers are not supported');
  const xs = ctx.shape(ctx.input(0)).slice(2);
  const ys = ctx.shape(ctx.output()).slice(2);
  const kernel = ctx.ints('kernel_shape') ?? ctx.shape(ctx.input(1)).slice(2);
  const n = xs.length;
  const strides = ctx.ints('strides') ?? new Array<number>(n).fill(1);
  const dilations = ctx.ints('dilations') ?? new Array<number>(n).fill(1);
  const outPad = ctx.ints('output_padding') ?? new Array<number>(n).fill(0);
  // Whatever pads the forward used, they are what makes Y from X: recover them from the shapes.
  const explicit = ctx.ints('pads');
  const autoPad = ctx.string('auto_pad', 'NOTSET');
  const begin: number[] = [];
  const end: number[] = [];
  for (let i = 0; i < n; i++) {
    const full =
      ((xs[i] as number) - 1) * (strides[i] as number) +
      ((kernel[i] as number) - 1) * (dilations[i] as number) +
      1 +
      (outPad[i] as number);
    const total = full - (ys[i] as number);
    if (explicit && autoPad === 'NOTSET' && !ctx.ints('output_shape')) {
      begin.push(explicit[i] as number);
      end.push(explicit[i + n] as number);
    } else {
      const half = Math.floor(total / 2);
      const first = autoPad === 'SAME_UPPER' ? half : total - half;
      begin.push(first);
      end.push(total - first);
    }
  }
  const gx = b.op1('Conv', [g, ctx.input(1)], {
    kernel_shape: kernel,
    strides,
    dilations,
    group: ctx.int('group', 1),
    pads: [...begin, ...end],
  });
  return [gx, null, null];
};

const batchNorm: VjpRule = (ctx, [g]) => {
  const { b } = ctx;
  if (!g) return ctx.node.input.map(() => null);
  if (ctx.int('training_mode', 0) !== 0 || ctx.node.output.length > 1)
    ctx.unsupported('training-mode BatchNormalization is not supported');
  if (ctx.needs.slice(1).some(Boolean)) ctx.unsupported('its parameters depend on the hooked layers');
  const [scale, , , variance] = [1, 2, 3, 4].map((i) => ctx.constants.floats(ctx.input(i)));
  if (!scale || !variance) return ctx.unsupported('its scale and variance are not constants');
  const eps = ctx.float('epsilon', 1e-5);
  const factor = Float32Array.from(scale, (s, c) => s / Math.sqrt((variance[c] as number) + eps));
  const rank = ctx.shape(ctx.input(0)).length;
  const dims = [1, factor.length, ...new Array<number>(Math.max(0, rank - 2)).fill(1)];
  return [b.op1('Mul', [g, b.floatConst(factor, dims, 'bn_factor')]), null, null, null, null];
};

export const convolutionRules: Record<string, VjpRule> = {
  Conv: conv,
  ConvTranspose: convTranspose,
  BatchNormalization: batchNorm,
};
