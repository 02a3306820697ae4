/**
 * Every state of a sanity check in one batched run with constant weights: the analysed model rewritten so
 * that item i of the input batch runs with the weights of state i (original or randomised per tensor).
 * Each weighted node whose weights differ between items is split on the batch axis into runs of items
 * that agree (a Split), each run goes through a copy of the node with its own constant weights, and the
 * runs are put back in item order (a Concat). The weights stay initializers, so onnxruntime pre-packs
 * them and the backward rules turn a convolution's adjoint into a Conv of pre-flipped constants — a run
 * with the weights fed as inputs (weights-as-inputs.ts) can do neither and costs several times more.
 *
 * The gradient of Split is a Concat and that of Concat a Split (vjp/shape-ops.ts): the items stay
 * independent through the backward pass, so each item's gradients are those of its state's model.
 */
import { create } from '@bufbuild/protobuf';
import { NodeProtoSchema, TensorProtoSchema, type NodeProto, type TensorProto } from 'onnx-buf';
import type { TensorName } from '../../../src-shared/api';
import { EngineError } from '../errors';
import { knownShape, type GraphAnalysis } from '../graph/analyze-graph';
import { buildGraphIndex } from '../graph/graph-index';
import type { TensorShape } from '../graph/shape-probe';
import { defaultOpset } from '../onnx/model-summary';
import { attribute } from '../hooks/graph-builder';

const FLOAT = 1;
const INT64 = 7;

/** Where a weighted op's per-item input is, and which of its inputs can be weights. */
const WEIGHTED: Record<string, { weights: number[] }> = {
  Conv: { weights: [1, 2] },
  ConvTranspose: { weights: [1, 2] },
  Gemm: { weights: [1, 2] },
  MatMul: { weights: [0, 1] },
};

/** The name of a randomised tensor's copy in the rewritten graph. */
export const randomisedName = (name: string): string => `layerlens/randomised/${name}`;

/**
 * The batch order of a check's states: cascading from every module randomised back to the head alone, the
 * original, then each module alone from the second (the head alone is cascading step 1). Along this order
 * each module's weights change between original and randomised at most three times (3M − 3 changes in all
 * for M modules, the fewest any order has), so each weighted node is split into at most four runs.
 */
export function stateOrder(modules: number): { kind: 'original' | 'cascading' | 'independent'; step: number }[] {
  const out: { kind: 'original' | 'cascading' | 'independent'; step: number }[] = [];
  for (let i = modules - 1; i >= 0; i--) out.push({ kind: 'cascading', step: i });
  out.push({ kind: 'original', step: 0 });
  for (let i = 1; i < modules; i++) out.push({ kind: 'independent', step: i });
  return out;
}

/** A run of consecutive items [start, end) whose node uses the same weights. */
interface Run {
  start: number;
  end: number;
  random: Set<string>;
}

function runsOf(weights: string[], items: readonly ReadonlySet<string>[]): Run[] {
  const runs: Run[] = [];
  items.forEach((random, i) => {
    const mine = new Set(weights.filter((w) => random.has(w)));
    const last = runs.at(-1);
    const same = last && last.random.size === mine.size && [...mine].every((w) => last.random.has(w));
    if (last && same) last.end = i + 1;
    else runs.push({ start: i, end: i + 1, random: mine });
  });
  return runs;
}

function int64Tensor(name: string, values: number[]): TensorProto {
  const data = BigInt64Array.from(values.map(BigInt));
  return create(TensorProtoSchema, {
    name,
    dims: [BigInt(values.length)],
    dataType: INT64,
    rawData: new Uint8Array(data.buffer),
  });
}

function floatTensor(name: string, like: TensorProto, values: Float32Array): TensorProto {
  const copy = Float32Array.from(values);
  return create(TensorProtoSchema, { name, dims: like.dims, dataType: FLOAT, rawData: new Uint8Array(copy.buffer) });
}

/** A node with other inputs and outputs (a spread would lose the proto2 defaults, e.g. an empty domain). */
function copyNode(node: NodeProto, name: string, input: string[], output: string[]): NodeProto {
  return create(NodeProtoSchema, {
    opType: node.opType,
    domain: node.domain,
    name,
    input,
    output,
    attribute: node.attribute,
    docString: node.docString,
  });
}

/**
 * `analysis`: the model analysed at batch S = items.length (the probe ran it so). `items[i]`: the names of
 * the weights randomised in item i; `randomised`: their values. Throws an EngineError('unsupported') when a
 * weighted node's items cannot be told apart on axis 0 (the caller then feeds the weights instead).
 */
export function stateBatchModel(
  analysis: GraphAnalysis,
  items: readonly ReadonlySet<string>[],
  randomised: ReadonlyMap<string, Float32Array>,
): GraphAnalysis {
  const graph = analysis.runnable.graph;
  if (!graph) throw new EngineError('bad-model', 'The model has no graph.');
  const batch = items.length;
  const opset = defaultOpset(analysis.runnable) ?? 13;
  const initializers = new Map(graph.initializer.map((t) => [t.name, t]));
  const shapes = new Map(analysis.shapes);
  const added: TensorProto[] = [];
  const addedNames = new Set<string>();
  const nodes: NodeProto[] = [];
  let counter = 0;
  const fresh = (hint: string): string => `layerlens/states/${hint}_${++counter}`;
  const refuse = (node: NodeProto, why: string): never => {
    throw new EngineError('unsupported', `${node.opType} node "${node.name || node.output[0]}" ${why}`);
  };
  const weightName = (name: string, random: boolean): string => {
    if (!random) return name;
    const copy = randomisedName(name);
    if (!addedNames.has(copy)) {
      const values = randomised.get(name);
      const like = initializers.get(name);
      if (!values || !like) throw new EngineError('unsupported', `no randomised values for "${name}"`);
      added.push(floatTensor(copy, like, values));
      addedNames.add(copy);
      const known = analysis.shapes.get(name as TensorName);
      shapes.set(
        copy as TensorName,
        known ?? ({ dtype: 'float32', shape: like.dims.map(Number), source: 'declared' } as TensorShape),
      );
    }
    return copy;
  };
  const randomisable = new Set(items.flatMap((s) => [...s]));

  for (const node of analysis.index.nodes) {
    const spec = node.domain === '' || node.domain === 'ai.onnx' ? WEIGHTED[node.opType] : undefined;
    const weights = spec ? spec.weights.map((i) => node.input[i] ?? '').filter((w) => randomisable.has(w)) : [];
    if (!spec || weights.length === 0) {
      nodes.push(node);
      continue;
    }
    const runs = runsOf(weights, items);
    const withWeights = (random: Set<string>, input: string[]): string[] =>
      input.map((name) => (weights.includes(name) ? weightName(name, random.has(name)) : name));
    if (runs.length === 1) {
      nodes.push(copyNode(node, node.name, withWeights((runs[0] as Run).random, node.input), node.output));
      continue;
    }
    // The per-item input: the one input that is not a constant (a MatMul's may be either operand).
    const dataSlots = node.input.map((name, i) => (name && !initializers.has(name) ? i : -1)).filter((i) => i >= 0);
    if (dataSlots.length !== 1) refuse(node, 'has more than one computed input');
    const slot = dataSlots[0] as number;
    const data = node.input[slot] as string;
    const output = node.output[0] as string;
    const dataShape = knownShape(analysis, data);
    const outShape = knownShape(analysis, output);
    if (!dataShape || !outShape) return refuse(node, 'has shapes unknown at this batch');
    if (dataShape[0] !== batch || outShape[0] !== batch || node.output.length !== 1)
      refuse(node, `does not hold the ${batch} items on its first axis`);
    if (node.opType === 'Gemm' && (slot !== 0 || node.attribute.some((a) => a.name === 'transA' && a.i !== 0n)))
      refuse(node, 'holds its items in columns');
    if (node.opType === 'MatMul' && dataShape.length < (slot === 0 ? 2 : 3)) refuse(node, 'holds its items in columns');
    const dtype = analysis.shapes.get(output as TensorName)?.dtype ?? 'float32';
    const sizes = runs.map((r) => r.end - r.start);
    const pieces = runs.map(() => fresh('in'));
    const splitAttrs = opset >= 13 ? [attribute('axis', 0)] : [attribute('axis', 0), attribute('split', sizes)];
    const splitInputs = [data];
    if (opset >= 13) {
      const name = fresh('sizes');
      added.push(int64Tensor(name, sizes));
      splitInputs.push(name);
    }
    nodes.push(
      create(NodeProtoSchema, {
        opType: 'Split',
        name: fresh('split'),
        input: splitInputs,
        output: pieces,
        attribute: splitAttrs,
      }),
    );
    const outs = runs.map((run, k) => {
      const piece = pieces[k] as string;
      const out = fresh('out');
      const size = run.end - run.start;
      shapes.set(piece as TensorName, { dtype, shape: [size, ...dataShape.slice(1)], source: 'probe' } as TensorShape);
      shapes.set(out as TensorName, { dtype, shape: [size, ...outShape.slice(1)], source: 'probe' } as TensorShape);
      const input = withWeights(run.random, node.input);
      input[slot] = piece;
      nodes.push(copyNode(node, `${node.name || output}/states_${k}`, input, [out]));
      return out;
    });
    nodes.push(
      create(NodeProtoSchema, {
        opType: 'Concat',
        name: fresh('concat'),
        input: outs,
        output: [output],
        attribute: [attribute('axis', 0)],
      }),
    );
  }
  const runnable = { ...analysis.runnable, graph: { ...graph, node: nodes, initializer: [...graph.initializer, ...added] } };
  return { ...analysis, runnable, index: buildGraphIndex(runnable, 'sanity-check states'), shapes };
}
