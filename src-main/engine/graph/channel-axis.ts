/**
 * Which end of a tensor holds its channels, read from the ops around it, for shapes that read both ways
 * ([1, 16, 16, 16]: Swin's first stage on a 64² input; tokens [1, 1024, 196] of a ViT-L at 224²). Ops
 * that fix the layout are looked for upstream and downstream through element-wise ops, nearest first:
 * convolutions, pools and BatchNormalization work on NCHW; a Linear layer (MatMul/Gemm on the last axis)
 * and a LayerNormalization over the last axis on channels-last tensors; a Transpose says what it converts
 * from or to, and a Reshape that flattens a feature map into tokens keeps its channel axis.
 */
import type { NodeProto } from 'onnx-buf';
import type { TensorName } from '../../../src-shared/api';
import type { ChannelSide } from './feature-grid';
import type { GraphIndex } from './graph-index';

/** Ops whose output has their first input's layout (the other inputs broadcast onto it). */
const ELEMENTWISE = new Set([
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Relu',
  'LeakyRelu',
  'PRelu',
  'Sigmoid',
  'Tanh',
  'Clip',
  'HardSigmoid',
  'HardSwish',
  'Erf',
  'Gelu',
  'Elu',
  'Selu',
  'Softplus',
  'Identity',
  'Dropout',
  'Neg',
  'Abs',
  'Sqrt',
  'Pow',
  'Max',
  'Min',
  'Sum',
]);
const CHANNELS_FIRST = new Set([
  'Conv',
  'ConvTranspose',
  'BatchNormalization',
  'InstanceNormalization',
  'MaxPool',
  'AveragePool',
  'LpPool',
  'GlobalAveragePool',
  'GlobalMaxPool',
  'LRN',
]);
const SEARCH_DEPTH = 6;

type Verdict = ChannelSide;

function ints(node: NodeProto, name: string): number[] | null {
  const a = node.attribute.find((x) => x.name === name);
  return a ? a.ints.map(Number) : null;
}

type ShapeOf = (t: TensorName) => readonly unknown[] | null;

/** What `node` says about the layout of `tensor`, which it reads (consumer) or writes (producer). */
function verdict(index: GraphIndex, node: NodeProto, tensor: TensorName, consumer: boolean, shapeOf: ShapeOf): Verdict {
  if (CHANNELS_FIRST.has(node.opType)) return node.input[0] === tensor || !consumer ? 'first' : null;
  const rank = shapeOf(tensor)?.length ?? 4;
  if (node.opType === 'LayerNormalization') {
    const axis = node.attribute.find((a) => a.name === 'axis');
    const last = !axis || axis.i === -1n || axis.i === BigInt(rank - 1);
    return last && (node.input[0] === tensor || !consumer) ? 'last' : null;
  }
  if (!consumer && (node.opType === 'Reshape' || node.opType === 'Flatten')) {
    // Tokens flattened out of a feature map: [1, C, H, W] → [1, C, H·W] keeps the channels first.
    const from = shapeOf(node.input[0] as TensorName);
    const to = shapeOf(tensor);
    if (
      from?.length === 4 &&
      to?.length === 3 &&
      from.every((d) => typeof d === 'number') &&
      to.every((d) => typeof d === 'number')
    ) {
      const [f, t] = [from as number[], to as number[]];
      // Only where the ops say the source is such a map: attention's heads merged back,
      // [1, T, h, d] → [1, T, h·d], has the same shapes as a map flattened.
      const source = (): Verdict => channelAxisHint(index, node.input[0] as TensorName, shapeOf);
      if (t[1] === f[1] && t[2] === (f[2] as number) * (f[3] as number) && source() === 'first') return 'first';
      if (t[2] === f[3] && t[1] === (f[1] as number) * (f[2] as number) && source() === 'last') return 'last';
    }
    return null;
  }
  if (node.opType === 'MatMul' || node.opType === 'Gemm') return node.input[0] === tensor || !consumer ? 'last' : null;
  if (node.opType === 'Transpose') {
    const perm = ints(node, 'perm')?.join();
    // Reading: [0,2,3,1] turns NCHW into NHWC, [0,3,1,2] the reverse; writing, the other way round.
    if (perm === '0,2,3,1') return consumer ? 'first' : 'last';
    if (perm === '0,3,1,2') return consumer ? 'last' : 'first';
  }
  return null;
}

export function channelAxisHint(index: GraphIndex, tensor: TensorName, shapeOf: ShapeOf): Verdict {
  // Breadth-first over tensors of the same shape (so of the same layout), each one element-wise op away.
  const shape = shapeOf(tensor)?.join();
  const same = (t: TensorName): boolean => !!t && shapeOf(t)?.join() === shape;
  let frontier: TensorName[] = [tensor];
  const seen = new Set<TensorName>(frontier);
  for (let depth = 0; depth < SEARCH_DEPTH && frontier.length > 0; depth++) {
    const next: TensorName[] = [];
    for (const t of frontier) {
      const producer = index.producer.get(t);
      const writer = producer === undefined ? undefined : index.nodes[producer];
      if (writer) {
        const v = verdict(index, writer, t, false, shapeOf);
        if (v) return v;
        if (ELEMENTWISE.has(writer.opType)) next.push(...(writer.input as TensorName[]));
      }
      for (const c of index.consumers.get(t) ?? []) {
        const reader = index.nodes[c];
        if (!reader) continue;
        const v = verdict(index, reader, t, true, shapeOf);
        if (v) return v;
        if (ELEMENTWISE.has(reader.opType)) next.push(...(reader.output as TensorName[]));
      }
    }
    frontier = next.filter((t) => same(t) && !seen.has(t) && (seen.add(t), true));
  }
  return null;
}
