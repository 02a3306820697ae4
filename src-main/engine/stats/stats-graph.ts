/**
 * Activation statistics computed inside the model: for each hooked layer, ops appended to the graph reduce
 * the activation to a few small tensors per image, so no activation leaves the run (on a GPU none leaves
 * the device). Standard ONNX ops only, each with a kernel on both the CPU and the WebGPU provider.
 *
 * Per image and layer the graph yields, as float32:
 * - per channel Σv, Σv² and #(v ≤ NEAR_ZERO): [B, C] each, one reduction pass per figure;
 * - the histogram: counts per bin of the values in [lo, hi] ([B, bins]);
 * - in auto-range mode, the image's min and max ([B] each), from which the range is chosen.
 *
 * The histogram is a scatter, which no dense op does in one pass. It is counted with one matrix product:
 * a value's bin k = D2·a + b is split into two digits, and Σ_values onehot(a) ⊗ onehot(b) — the product of
 * a [D1, N] and an [N, D2] one-hot matrix — is the [D1, D2] table of counts. That costs D1 + D2 ≈ 2√bins
 * one-hot entries per value (13 for 40 bins) where comparing each value with every edge would cost bins + 1.
 * Bins and digits come from t = (v − lo)·scale in float32: the bin is ⌊t⌋ (cells outside [0, bins) match
 * no digit pair and are not counted, NaN and ±∞ included); values equal to hi, which the JavaScript rule
 * puts in the last bin, are counted apart (see statsRange). Only values within float32 rounding of a bin
 * edge can fall in the neighbouring bin.
 */
import type { TensorName } from '../../../src-shared/api';
import type { FeatureGrid } from '../graph/feature-grid';
import type { AttrValue, GraphBuilder } from '../hooks/graph-builder';
import { f32AtLeast, f32AtMost, NEAR_ZERO } from './scan-activation';

/** How one image's values of a layer are read: [channels, per] runs, or positions × channels. */
export interface StatsView {
  /** The tensor's own (batched) shape. */
  shape: number[];
  /** Images per run (the tensor's first axis, or 1). */
  batch: number;
  channels: number;
  /** Values per channel per image. */
  per: number;
  /** Where the grid's channels are; null for [N, C, …] tensors read as they come. */
  grid: FeatureGrid | null;
}

export interface LayerStatsOutputs {
  sum: TensorName;
  sumSq: TensorName;
  near: TensorName;
  hist: TensorName | null;
  /** Values equal to the fed `hi` ([B]), added to the last bin (see statsRange). */
  atHi: TensorName | null;
  /** Inputs: the histogram's lower bound, scale and hi (float32 [1]) for this layer (see statsRange). */
  lo: TensorName;
  scale: TensorName;
  hi: TensorName;
  min: TensorName | null;
  max: TensorName | null;
}

export function statsView(shape: number[], batch: number, grid: FeatureGrid | null): StatsView {
  if (grid && !(grid.channelsFirst && grid.prefix === 0))
    return { shape, batch, channels: grid.channels, per: grid.height * grid.width, grid };
  const perImage = shape.reduce((a, b) => a * b, 1) / batch;
  const channels = shape.length >= 2 ? (shape[1] as number) : 1;
  return { shape, batch, channels, per: Math.floor(perImage / channels), grid: null };
}

/** The two digits of a bin index: bins = D1·D2 at most, D2 a power of two (so that t/D2 is exact). */
export function histDigits(bins: number): [number, number] {
  const d2 = 2 ** Math.ceil(Math.log2(Math.sqrt(bins)));
  return [Math.ceil(bins / d2), d2];
}

/**
 * The float32 inputs of a layer's histogram for [lo, hi] with `bins` bins: lo rounded up (v ≥ lo ⟺
 * v − lo32 ≥ 0 for a float32 v), the scale, and `hi`: the float32 hi where t = (hi − lo32)·scale reaches
 * `bins` (values equal to it are then counted apart and added to the last bin, as the JavaScript rule
 * does), NaN where hi already falls in the last bin. Edges that float32 represents exactly (0.25, 6 on
 * [0, 10] with 40 bins) stay exact.
 */
export function statsRange(lo: number, hi: number, bins: number): { lo32: number; scale32: number; hi32: number } {
  const lo32 = f32AtLeast(lo);
  const scale32 = Math.fround(bins / (hi - lo));
  const top = f32AtMost(hi);
  const reaches = Math.fround(Math.fround(top - lo32) * scale32) >= bins;
  return { lo32, scale32, hi32: reaches ? top : NaN };
}

type Reduction = 'ReduceSum' | 'ReduceSumSquare' | 'ReduceMin' | 'ReduceMax';

/** A reduction without keepdims, named `output` when given. */
function reduce(b: GraphBuilder, op: Reduction, x: string, axes: number[], output?: TensorName): TensorName {
  // ReduceSum takes its axes as an input from opset 13, the others from opset 18.
  const asInput = op === 'ReduceSum' ? b.opset >= 13 : b.opset >= 18;
  const inputs = asInput ? [x, b.int64Const(axes, 'axes')] : [x];
  const attrs: Record<string, AttrValue> = asInput ? { keepdims: 0 } : { axes, keepdims: 0 };
  return output ? b.named(op, inputs, output, attrs) : b.op1(op, inputs, attrs);
}

/** A divisor of n near `target` (so a long reduction splits into many short ones), or 1. */
function chunkOf(n: number, target: number): number {
  for (let d = 0; d <= target; d++) {
    for (const c of [target - d, target + d]) if (c >= target / 4 && c <= n && n % c === 0) return c;
  }
  return n;
}

export interface StatsGraphOptions {
  bins: number;
  hist: boolean;
  /** Also output each image's min and max (the auto range is taken from them). */
  minMax: boolean;
  /**
   * Values per row of the histogram's matrix product: long rows leave a GPU's cores idle (each output
   * cell is one long dot product); the CPU's GEMM handles any length.
   */
  histRow?: number;
}

/**
 * Appends the statistics of `tensor` (viewed per `view`) to `b`; `k` numbers the layer in input and
 * output names.
 */
export function appendLayerStats(
  b: GraphBuilder,
  tensor: TensorName,
  view: StatsView,
  k: number,
  options: StatsGraphOptions,
): LayerStatsOutputs {
  const { batch, channels, per, grid } = view;
  const name = (what: string) => `layerlens/stats/${k}/${what}` as TensorName;
  // [B, C, per] (channel axis 1) or [B, positions, C] (channel axis 2), prefix tokens sliced off.
  let x: TensorName;
  let reduceAxis: number;
  if (grid && !grid.channelsFirst) {
    x = b.reshape(tensor, [batch, grid.prefix + per, channels]);
    if (grid.prefix > 0) x = b.slice(x, [grid.prefix], [grid.prefix + per], [1]);
    reduceAxis = 1;
  } else {
    const prefix = grid ? grid.prefix : 0;
    x = b.reshape(tensor, [batch, channels, prefix + per]);
    if (prefix > 0) x = b.slice(x, [prefix], [prefix + per], [2]);
    reduceAxis = 2;
  }
  const outputs: LayerStatsOutputs = {
    sum: reduce(b, 'ReduceSum', x, [reduceAxis], name('sum')),
    sumSq: reduce(b, 'ReduceSumSquare', x, [reduceAxis], name('sum_sq')),
    // v ≤ 0.05 as a float64 comparison ⟺ v < the float32 after f32AtMost(0.05); NaN is not near zero.
    near: reduce(
      b,
      'ReduceSum',
      b.op1('Cast', [b.op1('Less', [x, b.scalar(nextUp32(f32AtMost(NEAR_ZERO)))])], { to: 1 }),
      [reduceAxis],
      name('near'),
    ),
    hist: null,
    atHi: null,
    lo: name('lo'),
    scale: name('scale'),
    hi: name('hi'),
    min: null,
    max: null,
  };
  const n = channels * per;
  const flat = b.reshape(x, [batch, n]);
  if (options.hist) {
    outputs.hist = appendHistogram(b, flat, batch, n, outputs.lo, outputs.scale, options, name('hist'));
    const atHi = b.op1('Cast', [b.equal(flat, outputs.hi)], { to: 1 });
    outputs.atHi = reduce(b, 'ReduceSum', atHi, [1], name('at_hi'));
  }
  if (options.minMax) {
    outputs.min = reduce(b, 'ReduceMin', flat, [1], name('min'));
    outputs.max = reduce(b, 'ReduceMax', flat, [1], name('max'));
  }
  return outputs;
}

/** Counts per bin of each row of `flat` ([batch, n]), as [batch, bins] (see the module comment). */
function appendHistogram(
  b: GraphBuilder,
  flat: TensorName,
  batch: number,
  n: number,
  lo: TensorName,
  scale: TensorName,
  options: StatsGraphOptions,
  output: TensorName,
): TensorName {
  const t = b.op1('Mul', [b.op1('Sub', [flat, lo]), scale]);
  const [d1, d2] = histDigits(options.bins);
  const row = chunkOf(n, options.histRow ?? n);
  const groups = n / row;
  const cell = b.op1('Floor', [t]);
  const high = b.op1('Floor', [b.op1('Mul', [t, b.scalar(1 / d2)])]);
  const low = b.op1('Sub', [cell, b.op1('Mul', [high, b.scalar(d2)])]);
  const oneHot = (digit: string, shape: number[], values: number, iotaShape: number[]) =>
    b.op1('Cast', [b.equal(b.reshape(digit, shape), b.floatConst(iota(values), iotaShape, 'digits'))], { to: 1 });
  const a = oneHot(high, [batch * groups, 1, row], d1, [d1, 1]);
  const c = oneHot(low, [batch * groups, row, 1], d2, [d2]);
  let counts: TensorName = b.op1('MatMul', [a, c]);
  if (groups > 1) counts = reduce(b, 'ReduceSum', b.reshape(counts, [batch, groups, d1 * d2]), [1]);
  const all = b.reshape(counts, [batch, d1 * d2]);
  if (d1 * d2 === options.bins) return b.named('Identity', [all], output);
  return b.named(
    'Slice',
    [all, b.int64Const([0], 'starts'), b.int64Const([options.bins], 'ends'), b.int64Const([1], 'axes')],
    output,
  );
}

function iota(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** The smallest float32 above the float32 x. */
function nextUp32(x: number): number {
  const f32 = new Float32Array([x]);
  const i32 = new Int32Array(f32.buffer);
  if (x === 0) i32[0] = 1;
  else i32[0] = (i32[0] as number) + (x > 0 ? 1 : -1);
  return f32[0] as number;
}
