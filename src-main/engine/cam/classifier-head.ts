/**
 * CAM needs the head it was defined for: the layer → global average pooling → (flatten) → one linear layer
 * → logits. This finds that chain after a layer and reads the linear layer's weights; any other head means
 * CAM is unavailable for that layer (Grad-CAM generalises it).
 */
import type { NodeProto } from 'onnx-buf';
import type { TensorName } from '../../../src-shared/api';
import type { GraphIndex } from '../graph/graph-index';
import type { ConstantValues } from '../hooks/constant-values';

const PASS_THROUGH = new Set(['Identity', 'Dropout', 'Flatten', 'Reshape', 'Squeeze']);

export type CamHead = { ok: true; row: (classIndex: number) => Float32Array } | { ok: false; reason: string };

function onlyConsumer(index: GraphIndex, t: TensorName): NodeProto | null {
  const consumers = index.consumers.get(t) ?? [];
  return consumers.length === 1 ? (index.nodes[consumers[0] as number] ?? null) : null;
}

export function camHead(
  index: GraphIndex,
  constants: ConstantValues,
  layer: TensorName,
  score: TensorName,
  channels: number,
): CamHead {
  const fail = (reason: string): CamHead => ({
    ok: false,
    reason: `CAM needs this layer to feed global average pooling and one linear layer; ${reason}`,
  });
  let node = onlyConsumer(index, layer);
  if (!node) return fail('the layer has several consumers');
  const isGap =
    node.opType === 'GlobalAveragePool' || (node.opType === 'ReduceMean' && node.attribute.some((a) => a.name === 'axes'));
  if (!isGap) return fail(`it feeds ${node.opType}`);
  let t = node.output[0] as TensorName;
  for (node = onlyConsumer(index, t); node && PASS_THROUGH.has(node.opType); node = onlyConsumer(index, t))
    t = node.output[0] as TensorName;
  if (!node) return fail('the pooled features have several consumers');
  let weights: Float32Array | null;
  let transposed = false;
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
    row: (c) => {
      if (c < 0 || c >= classes) return new Float32Array(channels);
      // Gemm with transB: [classes, channels]; otherwise [channels, classes].
      return transposed
        ? w.slice(c * channels, (c + 1) * channels)
        : Float32Array.from({ length: channels }, (_, k) => w[k * classes + c] as number);
    },
  };
}
