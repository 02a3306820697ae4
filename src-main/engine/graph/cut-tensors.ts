/**
 * Cut tensors: values that every path from the inputs to the outputs passes through (the output of a
 * ResNet block, not the tensors inside its two branches). Stages and structural blocks are cut tensors,
 * and a cut tensor is where a hook sees everything the rest of the network will see.
 */
import type { TensorName } from '../../../src-shared/api';
import type { GraphIndex } from './graph-index';

/**
 * Tensors computed from constants alone (Constant nodes, or the Identity nodes PyTorch's exporter uses to
 * share one bias between layers): they carry no data from the input, so they never break a cut.
 */
export function constantTensors(index: GraphIndex): Set<TensorName> {
  const constant = new Set<TensorName>(index.initializers);
  for (const node of index.nodes) {
    if (node.input.every((i) => i === '' || constant.has(i as TensorName)))
      for (const o of node.output) if (o) constant.add(o as TensorName);
  }
  return constant;
}

/** Cut tensors in topological order, each with the index of the node that produces it. */
export function cutTensors(index: GraphIndex): { tensor: TensorName; node: number }[] {
  const graphOutputs = new Set(index.outputs);
  const constant = constantTensors(index);
  const remaining = new Map<TensorName, number>();
  const uses = (name: TensorName): number => (index.consumers.get(name)?.length ?? 0) + (graphOutputs.has(name) ? 1 : 0);
  for (const input of index.inputs) {
    const n = uses(input);
    if (n > 0) remaining.set(input, n);
  }
  const cuts: { tensor: TensorName; node: number }[] = [];
  index.nodes.forEach((node, i) => {
    for (const input of new Set(node.input)) {
      const name = input as TensorName;
      const left = remaining.get(name);
      if (left === undefined) continue;
      if (left <= 1) remaining.delete(name);
      else remaining.set(name, left - 1);
    }
    for (const output of node.output) {
      const name = output as TensorName;
      if (!name || constant.has(name)) continue;
      const n = uses(name);
      if (n > 0) remaining.set(name, n);
    }
    if (remaining.size === 1) {
      const [only] = remaining.keys();
      if (only !== undefined && node.output.includes(only)) cuts.push({ tensor: only, node: i });
    }
  });
  return cuts;
}
