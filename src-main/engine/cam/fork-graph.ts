/**
 * A model "forked" at one tensor: the batch's images run once up to `tensor`, where a Gather on the batch
 * axis repeats them into items (item i is image `index[i]`) and everything after runs per item. Several
 * classes of one image then share the forward pass before the hooked layer, which for the last stage is
 * nearly all of it; each item's backward pass and maps stay its own.
 */
import { clone, create } from '@bufbuild/protobuf';
import { NodeProtoSchema } from 'onnx-buf';
import type { TensorName } from '../../../src-shared/api';
import { EngineError } from '../errors';
import { knownShape, type GraphAnalysis } from '../graph/analyze-graph';
import type { ModelProto } from '../onnx/decode-model';
import { int64Initializer } from '../onnx/tensor-data';

export const forkedName = (tensor: TensorName): TensorName => `layerlens/fork/${tensor}` as TensorName;

/** `proto` with `tensor` gathered on `batchAxis` by `index`; every node that read it reads the items. */
export function forkModel(proto: ModelProto, tensor: TensorName, batchAxis: number, index: readonly number[]): ModelProto {
  const graph = proto.graph;
  if (!graph) throw new EngineError('bad-model', 'The model has no graph.');
  const producer = graph.node.findIndex((n) => n.output.includes(tensor));
  if (producer < 0) throw new EngineError('bad-input', `No node produces "${tensor}": a graph input cannot be forked.`);
  const forked = forkedName(tensor);
  const indexName = `${forked}/index`;
  const indices = int64Initializer(indexName, index);
  const gather = create(NodeProtoSchema, {
    opType: 'Gather',
    name: forked,
    input: [tensor, indexName],
    output: [forked],
    attribute: [{ name: 'axis', type: 2, i: BigInt(batchAxis) }],
  });
  // Only the nodes' inputs move to the items: a graph output named `tensor` stays the images'.
  // Cloned, not spread: a spread message loses the fields left at their defaults (a node's domain '').
  const nodes = graph.node.map((n) => {
    if (!n.input.includes(tensor)) return n;
    const moved = clone(NodeProtoSchema, n);
    moved.input = n.input.map((t) => (t === tensor ? forked : t));
    return moved;
  });
  nodes.splice(producer + 1, 0, gather);
  return { ...proto, graph: { ...graph, node: nodes, initializer: [...graph.initializer, indices] } };
}

/**
 * Why the forked graph does not keep its items apart, or null when it does: every tensor of the model must
 * keep its shape from the single-image analysis but for unit axes that now hold the `images` (before the
 * fork) or the `items` (after it). A graph that folds the batch into another axis ([N, T, C] → [1, N·T, C],
 * a batch fixed at 1 by a Reshape) would mix the items' values or gradients, and shows here as another
 * changed axis (or as a failed probe run).
 */
export function forkMismatch(forked: GraphAnalysis, single: GraphAnalysis, images: number, items: number): string | null {
  if (forked.probeFailure) return forked.probeFailure;
  for (const t of single.shapes.keys()) {
    const before = knownShape(single, t);
    const after = knownShape(forked, t);
    if (!before || !after) continue;
    const kept =
      before.length === after.length &&
      before.every((d, i) => d === after[i] || (d === 1 && (after[i] === images || after[i] === items)));
    if (!kept) return `"${t}" is [${before.join(', ')}] for one image but [${after.join(', ')}] for ${items} items`;
  }
  return null;
}
