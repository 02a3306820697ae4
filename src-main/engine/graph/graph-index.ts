/**
 * The structural index every graph feature and the hook engine share: nodes in topological order, each
 * tensor's producer and consumers, which names are inputs, initializers and outputs. Building it is where
 * a malformed graph (a cycle, a dangling reference, a duplicate output) is caught and named.
 */
import type { NodeProto } from 'onnx-buf';
import type { TensorName } from '../../../src-shared/api';
import { EngineError } from '../errors';
import type { ModelProto } from '../onnx/decode-model';

export interface GraphIndex {
  /** Nodes in a valid topological order (the file's order when it already is one). */
  nodes: NodeProto[];
  producer: Map<TensorName, number>;
  consumers: Map<TensorName, number[]>;
  inputs: Set<TensorName>;
  initializers: Set<TensorName>;
  outputs: TensorName[];
}

const MAX_NODES = 5_000_000;

/**
 * Kahn's algorithm preferring file order (ONNX files are usually already sorted, and then the result is
 * exactly the file's order). Returns null when the graph has a cycle.
 */
function topologicalOrder(nodes: NodeProto[], pending: Set<TensorName>[]): number[] | null {
  const waiting = new Map<TensorName, number[]>();
  pending.forEach((needs, i) => {
    for (const name of needs) {
      const list = waiting.get(name);
      if (list) list.push(i);
      else waiting.set(name, [i]);
    }
  });
  const heap = new MinHeap();
  pending.forEach((needs, i) => {
    if (needs.size === 0) heap.push(i);
  });
  const order: number[] = [];
  while (heap.size > 0) {
    const i = heap.pop();
    order.push(i);
    for (const out of (nodes[i] as NodeProto).output) {
      for (const j of waiting.get(out as TensorName) ?? []) {
        const needs = pending[j] as Set<TensorName>;
        if (needs.delete(out as TensorName) && needs.size === 0) heap.push(j);
      }
    }
  }
  return order.length === nodes.length ? order : null;
}

class MinHeap {
  private readonly items: number[] = [];
  get size(): number {
    return this.items.length;
  }
  push(value: number): void {
    const a = this.items;
    a.push(value);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((a[parent] as number) <= value) break;
      a[i] = a[parent] as number;
      i = parent;
    }
    a[i] = value;
  }
  pop(): number {
    const a = this.items;
    const top = a[0] as number;
    const last = a.pop() as number;
    if (a.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const r = l + 1;
        const c = r < a.length && (a[r] as number) < (a[l] as number) ? r : l;
        if ((a[c] as number) >= last) break;
        a[i] = a[c] as number;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

export function buildGraphIndex(model: ModelProto, displayName: string): GraphIndex {
  const graph = model.graph;
  if (!graph) throw new EngineError('bad-model', `${displayName} has no graph.`);
  if (graph.node.length > MAX_NODES)
    throw new EngineError('unsupported', `${displayName} has ${graph.node.length} nodes, more than LayerLens handles.`);
  const initializers = new Set<TensorName>(graph.initializer.map((t) => t.name as TensorName));
  for (const sparse of graph.sparseInitializer) if (sparse.values?.name) initializers.add(sparse.values.name as TensorName);
  const inputs = new Set<TensorName>(graph.input.map((i) => i.name as TensorName).filter((n) => !initializers.has(n)));
  const available = new Set<TensorName>([...inputs, ...initializers]);

  const producerOf = new Map<TensorName, number>();
  graph.node.forEach((node, i) => {
    for (const out of node.output) {
      if (!out) continue;
      const name = out as TensorName;
      if (producerOf.has(name) || available.has(name)) {
        throw new EngineError(
          'bad-model',
          `${displayName} is malformed: tensor "${name}" is produced more than once (node "${node.name || node.opType}").`,
        );
      }
      producerOf.set(name, i);
    }
  });

  // Kahn's algorithm, preferring file order, so a cycle or a reference to nothing is found and named.
  const pending = graph.node.map(
    (node) => new Set(node.input.filter((n) => n !== '' && !available.has(n as TensorName)) as TensorName[]),
  );
  for (const [i, node] of graph.node.entries()) {
    for (const name of pending[i] as Set<TensorName>) {
      if (!producerOf.has(name)) {
        throw new EngineError(
          'bad-model',
          `${displayName} is malformed: node "${node.name || node.opType}" (${node.opType}) reads "${name}", which no node, input or initializer provides.`,
        );
      }
    }
  }
  const order = topologicalOrder(graph.node, pending);
  if (order === null) {
    throw new EngineError('bad-model', `${displayName} is malformed: its graph has a cycle.`);
  }

  const nodes = order.map((i) => graph.node[i] as NodeProto);
  const producer = new Map<TensorName, number>();
  const consumers = new Map<TensorName, number[]>();
  nodes.forEach((node, i) => {
    for (const out of node.output) if (out) producer.set(out as TensorName, i);
    for (const input of new Set(node.input)) {
      if (!input) continue;
      const list = consumers.get(input as TensorName);
      if (list) list.push(i);
      else consumers.set(input as TensorName, [i]);
    }
  });
  const outputs = graph.output.map((o) => o.name as TensorName);
  for (const out of outputs) {
    if (!producer.has(out) && !inputs.has(out) && !initializers.has(out)) {
      throw new EngineError('bad-model', `${displayName} is malformed: its output "${out}" is not produced by any node.`);
    }
  }
  return { nodes, producer, consumers, inputs, initializers, outputs };
}
