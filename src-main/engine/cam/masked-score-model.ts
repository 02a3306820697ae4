/**
 * ScoreCAM's model: the plain model with its input masked inside the graph. It takes the image once and a
 * batch of one layer's channels [B, 1, h, w]; each channel is upsampled to the input's size, min-max scaled
 * to [0, 1] and multiplies the image, and the masked batch runs through the model. Only the channels go in
 * and only the scores come out, so on a GPU the masked images never cross the bus (and on the CPU the
 * masking runs in onnxruntime's threads instead of JavaScript).
 *
 * The upsampling is resizeMap's bilinear (half-pixel centres, clamped at the edges — PyTorch's
 * align_corners=False) written as two matrix products, Ry · A · Rxᵀ: exact, and MatMul exists in every opset.
 */
import { create } from '@bufbuild/protobuf';
import { ValueInfoProtoSchema } from 'onnx-buf';
import type { TensorName } from '../../../src-shared/api';
import { EngineError } from '../errors';
import type { GraphAnalysis } from '../graph/analyze-graph';
import { GraphBuilder } from '../hooks/graph-builder';
import { encodeModel } from '../onnx/rewrite';

export const MASKED_IMAGE_INPUT = 'layerlens/image';
export const MASK_CHANNELS_INPUT = 'layerlens/channels';

export interface MaskedScoreSpec {
  inputName: string;
  /** The input's [1, C, H, W] or [1, H, W, C]. */
  inputShape: number[];
  channelsLast: boolean;
  /** The layer's grid. */
  height: number;
  width: number;
  score: TensorName;
}

/** [out, in] weights of resizeMap's 1-D bilinear resampling from `inSize` to `outSize` samples. */
export function bilinearMatrix(outSize: number, inSize: number): Float32Array {
  const m = new Float32Array(outSize * inSize);
  const s = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    const f = Math.min(Math.max((o + 0.5) * s - 0.5, 0), inSize - 1);
    const i0 = Math.floor(f);
    const i1 = Math.min(i0 + 1, inSize - 1);
    const a = f - i0;
    m[o * inSize + i0] = (m[o * inSize + i0] as number) + (1 - a);
    m[o * inSize + i1] = (m[o * inSize + i1] as number) + a;
  }
  return m;
}

function transposed(m: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = m[r * cols + c] as number;
  return t;
}

export function maskedScoreModel(analysis: GraphAnalysis, spec: MaskedScoreSpec): Uint8Array {
  const graph = analysis.runnable.graph;
  if (!graph) throw new EngineError('bad-model', 'The model has no graph.');
  const opset = analysis.view.opset ?? 13;
  // Broadcasting Mul/Sub/Div/Add arrived in opset 7.
  if (opset < 7) throw new EngineError('unsupported', `ScoreCAM needs opset 7 or later (the model has opset ${opset}).`);
  const original = graph.input.find((i) => i.name === spec.inputName);
  if (!original) throw new EngineError('bad-model', `The model has no input named ${spec.inputName}.`);
  const [H, W] = spec.channelsLast ? spec.inputShape.slice(1, 3) : spec.inputShape.slice(2, 4);
  if (!H || !W) throw new EngineError('unsupported', `ScoreCAM needs an image input ([1, C, H, W] or [1, H, W, C]).`);

  const b = new GraphBuilder(opset, 'layerlens/scorecam');
  const rows = b.op1('MatMul', [b.floatConst(bilinearMatrix(H, spec.height), [H, spec.height], 'ry'), MASK_CHANNELS_INPUT]);
  const up = b.op1('MatMul', [
    rows,
    b.floatConst(transposed(bilinearMatrix(W, spec.width), W, spec.width), [spec.width, W], 'rxT'),
  ]);
  const lo = b.op1('Neg', [b.reduceMax(b.op1('Neg', [up]), [1, 2, 3], true)]);
  const hi = b.reduceMax(up, [1, 2, 3], true);
  // A constant channel masks everything (0); otherwise (v − lo) / (hi − lo). The tiny term only keeps 0/0
  // away: next to a non-zero range it vanishes in float32.
  const range = b.op1('Add', [b.op1('Sub', [hi, lo]), b.scalar(1e-30)]);
  const mask = b.op1('Div', [b.op1('Sub', [up, lo]), range]);
  const laidOut = spec.channelsLast ? b.op1('Transpose', [mask], { perm: [0, 2, 3, 1] }) : mask;
  b.named('Mul', [MASKED_IMAGE_INPUT, laidOut], spec.inputName);

  const dim = (d: number | 'batch') =>
    d === 'batch'
      ? { value: { case: 'dimParam' as const, value: 'batch' } }
      : { value: { case: 'dimValue' as const, value: BigInt(d) } };
  const floatInput = (name: string, dims: (number | 'batch')[]) =>
    create(ValueInfoProtoSchema, {
      name,
      type: { value: { case: 'tensorType', value: { elemType: 1, shape: { dim: dims.map(dim) } } } },
    });
  return encodeModel({
    ...analysis.runnable,
    graph: {
      ...graph,
      node: [...b.nodes, ...graph.node],
      initializer: [...graph.initializer, ...b.initializers],
      input: [
        ...graph.input.filter((i) => i !== original),
        floatInput(MASKED_IMAGE_INPUT, [1, ...spec.inputShape.slice(1)]),
        floatInput(MASK_CHANNELS_INPUT, ['batch', 1, spec.height, spec.width]),
      ],
      output: [create(ValueInfoProtoSchema, { name: spec.score })],
    },
  });
}
