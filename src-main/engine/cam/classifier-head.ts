/**
 * CAM needs the head it was defined for: the layer → global average pooling → (flatten) → one linear layer
 * → logits. This finds that chain after a layer and reads the linear layer's weights; any other head means
 * CAM is unavailable for that layer (Grad-CAM generalises it).
 */
import type { NodeProto } from 'onnx-buf';
import type { TensorName } from '../../../src-shared/api';
import type { FeatureGrid } from '../graph/feature-grid';
import type { GraphIndex } from '../graph/graph-index';
import type { ConstantValues } from '../hooks/constant-values';

const PASS_THROUGH = new Set(['Identity', 'Dropout', 'Flatten', 'Reshape', 'Squeeze']);

export type CamHead =
  | {
      ok: true;
      row: (classIndex: number) => Float32Array;
      /** The linear layer's weight tensor: [classes, C] when `classesFirst`, else [C, classes]. */
      tensor: TensorName;
      classesFirst: boolean;
    }
  | { ok: false; reason: string };

function onlyConsumer(index: GraphIndex, t: TensorName): NodeProto | null {
  const consumers = index.consumers.get(t) ?? [];
  return consumers.length === 1 ? (index.nodes[consumers[0] as number] ?? null) : null;
}

/** The axes a ReduceMean averages over (attribute before opset 18, input after), normalised; null if unknown. */
function reducedAxes(node: NodeProto, constants: ConstantValues, rank: number): number[] | null {
  const attribute = node.attribute.find((a) => a.name === 'axes');
  const axes = attribute ? attribute.ints.map(Number) : node.input[1] ? constants.ints(node.input[1]) : null;
  return axes ? [...axes].map((a) => (a < 0 ? a + rank : a)).sort((x, y) => x - y) : null;
}

/** The axes of the grid's positions in the layer's tensor: the ones global average pooling averages over. */
function positionAxes(grid: FeatureGrid): number[] {
  const rank = grid.shape.length;
  if (rank === 4) return grid.channelsFirst ? [2, 3] : [1, 2];
  const channelAxis = grid.channelsFirst ? 1 : rank - 1;
  return [...Array(rank).keys()].filter((a) => a !== channelAxis && a !== grid.batchAxis);
}

export function camHead(
  index: GraphIndex,
  constants: ConstantValues,
  layer: TensorName,
  score: TensorName,
  grid: FeatureGrid,
): CamHead {
  const channels = grid.channels;
  const fail = (reason: string): CamHead => ({
    ok: false,
    reason: `CAM needs this layer to feed global average pooling and one linear layer; ${reason}`,
  });
  let node = onlyConsumer(index, layer);
  if (!node) return fail('the layer has several consumers');
  if (node.opType === 'GlobalAveragePool') {
    // It averages every axis after the channels: the positions for [1, C, H, W] and tokens [1, C, T].
    if (!grid.channelsFirst || grid.prefix > 0 || grid.batchAxis !== 0)
      return fail('its GlobalAveragePool does not pool over exactly the grid positions');
  } else if (node.opType === 'ReduceMean') {
    const axes = reducedAxes(node, constants, grid.shape.length);
    if (grid.prefix > 0 || axes?.join() !== positionAxes(grid).join())
      return fail('its mean is not over exactly the grid positions');
  } else return fail(`it feeds ${node.opType}`);
  let t = node.output[0] as TensorName;
  for (node = onlyConsumer(index, t); node && PASS_THROUGH.has(node.opType); node = onlyConsumer(index, t))
    t = node.output[0] as TensorName;
  if (!node) return fail('the pooled features have several consumers');
  let weights: Float32Array | null;
  let transposed = false;
  const tensor = (node.input[1] ?? '') as TensorName;
  let out = node.output[0] as TensorName;
  if (node.opType === 'Gemm' && node.input[0] === t) {
    weights = constants.floats(node.input[1] ?? '');
    transposed = node.attribute.some((a) => a.name === 'transB' && a.i === 1n);
    if (node.attribute.some((a) => a.name === 'alpha' && a.f !== 1)) return fail('its Gemm scales by alpha');
  } else if (node.opType === 'MatMul' && node.input[0] === t) {
    weights = constants.floats(node.input[1] ?? '');
    const add = onlyConsumer(index, out);
    if (add?.opType === 'Add') out = add.output[0] as TensorName;
  } else {
    return fail(`the pooled features feed ${node.opType}`);
  }
  while (out !== score) {
    const next = onlyConsumer(index, out);
    if (!next || !(next.opType === 'Identity' || next.opType === 'Flatten')) return fail('the linear layer is not the last one');
    out = next.output[0] as TensorName;
  }
  if (!weights || weights.length % channels !== 0) return fail('the linear layer’s weights are not constant');
  const classes = weights.length / channels;
  const w = weights;
  return {
    ok: true,
    tensor,
    classesFirst: transposed,
    row: (c) => {
      if (c < 0 || c >= classes) return new Float32Array(channels);
      // Gemm with transB: [classes, channels]; otherwise [channels, classes].
      return transposed
        ? w.slice(c * channels, (c + 1) * channels)
        : Float32Array.from({ length: channels }, (_, k) => w[k * classes + c] as number);
    },
  };
}
