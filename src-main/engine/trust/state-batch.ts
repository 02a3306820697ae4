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
import { NodeProtoSchema, type NodeProto, type TensorProto } from 'onnx-buf';
import type { TensorName } from '../../../src-shared/api';
import { EngineError } from '../errors';
import { knownShape, type GraphAnalysis } from '../graph/analyze-graph';
import { buildGraphIndex } from '../graph/graph-index';
import type { TensorShape } from '../graph/shape-probe';
import { defaultOpset } from '../onnx/model-summary';
import { floatInitializer, int64Initializer } from '../onnx/tensor-data';
import { attribute } from '../hooks/graph-builder';

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

/** Ops that treat each item alone, so a run of items can go through a copy of them (see stateBatchModel). */
const PER_ITEM = new Set([
  'Relu',
  'LeakyRelu',
  'Sigmoid',
  'Tanh',
  'Clip',
  'HardSigmoid',
  'HardSwish',
  'Identity',
  'BatchNormalization',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'MaxPool',
  'AveragePool',
  'GlobalAveragePool',
  'GlobalMaxPool',
  'Conv',
  'ConvTranspose',
  'Gemm',
  'MatMul',
  'Flatten',
]);

/**
 * A tensor held as consecutive runs of items: `names[k]` holds `sizes[k]` items, in `rows[k]` rows — one
 * row where the run's items are equal (the same image through the same weights so far), else one per item.
 */
interface Pieces {
  sizes: number[];
  rows: number[];
  names: string[];
}

const sameSizes = (a: number[], b: number[]): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * `analysis`: the model analysed at batch S = items.length (the probe ran it so). `items[i]`: the names of
 * the weights randomised in item i; `randomised`: their values. `whole`: tensors that must exist whole
 * (the hooked ones and the score), whose gradients must come through their own name.
 *
 * Runs of items flow on through the ops that treat items alone (activations, normalisation, pooling, the
 * other layers of the same module with its partition of the batch), so the batch is split and put back
 * together about once per module rather than around each weighted node. Throws an
 * EngineError('unsupported') when a weighted node's items cannot be told apart on axis 0 (the caller then
 * feeds the weights instead).
 */
export function stateBatchModel(
  analysis: GraphAnalysis,
  items: readonly ReadonlySet<string>[],
  randomised: ReadonlyMap<string, Float32Array>,
  whole: ReadonlySet<string> = new Set(),
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
      added.push(floatInitializer(copy, like.dims, values));
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
  // Tensors computed from the image input (the rest are constants at this shape).
  const computed = new Set<string>([...analysis.index.inputs].filter((t) => !initializers.has(t)));
  for (const node of analysis.index.nodes)
    if (node.input.some((t) => computed.has(t))) for (const o of node.output) if (o) computed.add(o);
  const outputs = new Set<string>(analysis.index.outputs);
  // The backward pass's region (tensors computed from a hooked one): held one row per item there.
  const dependent = new Set<string>(whole);
  for (const node of analysis.index.nodes)
    if (node.input.some((t) => dependent.has(t))) for (const o of node.output) if (o) dependent.add(o);
  // The randomisable weights each tensor is computed from: items that randomise the same ones of them
  // hold equal values.
  const upstream = new Map<string, Set<string>>();
  for (const node of analysis.index.nodes) {
    const from = new Set<string>();
    for (const t of node.input) {
      if (randomisable.has(t)) from.add(t);
      for (const w of upstream.get(t) ?? []) from.add(w);
    }
    for (const o of node.output) if (o) upstream.set(o, from);
  }
  const signature = (t: string, item: number): string =>
    [...(upstream.get(t) ?? [])].filter((w) => items[item]?.has(w)).join('\u0000');
  /** Rows per run of `sizes` for tensor `t`: one where its items are equal and no gradient goes through it. */
  const rowsFor = (t: string, sizes: number[]): number[] => {
    let start = 0;
    return sizes.map((size) => {
      const first = signature(t, start);
      let equal = !dependent.has(t) && !whole.has(t);
      for (let i = start + 1; equal && i < start + size; i++) equal = signature(t, i) === first;
      start += size;
      return equal ? 1 : size;
    });
  };
  const pieced = new Map<string, Pieces>();
  /** Tensors produced only as pieces so far (no node writes their own name yet). */
  const piecesOnly = new Set<string>();
  const splits = new Map<string, Pieces>();

  const shapeConst = (t: string, size: number): string => {
    const name = fresh('shape');
    added.push(int64Initializer(name, [size, ...(knownShape(analysis, t) as number[]).slice(1)]));
    return name;
  };
  const node1 = (opType: string, input: string[], output: string, attrs: NodeProto['attribute'] = []): void => {
    nodes.push(create(NodeProtoSchema, { opType, name: fresh(opType.toLowerCase()), input, output: [output], attribute: attrs }));
  };
  /** Row `k` of a tensor `t` holding `rows` rows as `size` (equal) items. */
  const expanded = (piece: string, t: string, size: number): string => {
    const out = fresh('expanded');
    setShape(out, t, size);
    node1('Expand', [piece, shapeConst(t, size)], out);
    return out;
  };
  const sliced = (x: string, t: string, start: number, end: number): string => {
    const out = fresh('row');
    setShape(out, t, end - start);
    const starts = fresh('starts');
    const ends = fresh('ends');
    const axes = fresh('axes');
    added.push(int64Initializer(starts, [start]), int64Initializer(ends, [end]), int64Initializer(axes, [0]));
    if (opset >= 10) node1('Slice', [x, starts, ends, axes], out);
    else node1('Slice', [x], out, [attribute('starts', [start]), attribute('ends', [end]), attribute('axes', [0])]);
    return out;
  };
  const setShape = (name: string, like: string, size: number): void => {
    const known = knownShape(analysis, like) as number[];
    const dtype = analysis.shapes.get(like as TensorName)?.dtype ?? 'float32';
    shapes.set(name as TensorName, { dtype, shape: [size, ...known.slice(1)], source: 'probe' } as TensorShape);
  };
  const ensureWhole = (t: string): void => {
    if (!piecesOnly.has(t)) return;
    const p = pieced.get(t) as Pieces;
    const parts = p.names.map((name, k) =>
      (p.rows[k] as number) < (p.sizes[k] as number) ? expanded(name, t, p.sizes[k] as number) : name,
    );
    nodes.push(
      create(NodeProtoSchema, {
        opType: 'Concat',
        name: fresh('concat'),
        input: parts,
        output: [t],
        attribute: [attribute('axis', 0)],
      }),
    );
    piecesOnly.delete(t);
  };
  /** `t` as runs of `sizes`, run k in `rows[k]` rows (1: its items are equal; see rowsFor). */
  const piecesOf = (t: string, sizes: number[], rows: number[] = sizes): string[] => {
    const own = pieced.get(t);
    const key = `${t}\u0000${sizes.join(',')}\u0000${rows.join(',')}`;
    const known = splits.get(key);
    if (known) return known.names;
    if (own && sameSizes(own.sizes, sizes)) {
      const names = own.names.map((name, k) => {
        const [have, want, size] = [own.rows[k] as number, rows[k] as number, sizes[k] as number];
        if (have === want) return name;
        return want === 1 ? sliced(name, t, 0, 1) : expanded(name, t, size);
      });
      splits.set(key, { sizes, rows, names });
      return names;
    }
    ensureWhole(t);
    if (!sameSizes(rows, sizes)) {
      let start = 0;
      const names = sizes.map((size, k) => {
        const piece = sliced(t, t, start, start + (rows[k] as number));
        start += size;
        return piece;
      });
      splits.set(key, { sizes, rows, names });
      return names;
    }
    const names = sizes.map(() => fresh('in'));
    sizes.forEach((size, k) => setShape(names[k] as string, t, size));
    const inputs = [t];
    if (opset >= 13) {
      const name = fresh('sizes');
      added.push(int64Initializer(name, sizes));
      inputs.push(name);
    }
    const attrs = opset >= 13 ? [attribute('axis', 0)] : [attribute('axis', 0), attribute('split', sizes)];
    nodes.push(
      create(NodeProtoSchema, { opType: 'Split', name: fresh('split'), input: inputs, output: names, attribute: attrs }),
    );
    splits.set(key, { sizes, rows, names });
    return names;
  };
  /** Whether `t` holds the S items on axis 0 (a computed tensor whose first dimension is S). */
  const itemwise = (t: string): boolean => computed.has(t) && knownShape(analysis, t)?.[0] === batch;

  /** Whether `node` can run as one copy per run of items (the inputs that hold items given). */
  const perItem = (node: NodeProto, data: number[]): boolean => {
    if ((node.domain !== '' && node.domain !== 'ai.onnx') || !PER_ITEM.has(node.opType)) return false;
    if (node.output.filter(Boolean).length !== 1 || !itemwise(node.output[0] as string)) return false;
    const rank = knownShape(analysis, node.output[0] as string)?.length ?? 0;
    // Every other input is a constant that does not spread along the items.
    for (const [i, t] of node.input.entries()) {
      if (!t || data.includes(i)) continue;
      if (computed.has(t)) return false;
      const shape = knownShape(analysis, t);
      if (!shape || (shape.length === rank && shape[0] !== 1)) return false;
    }
    const int = (name: string, fallback: number): number => {
      const a = node.attribute.find((x) => x.name === name);
      return a ? Number(a.i) : fallback;
    };
    switch (node.opType) {
      case 'Add':
      case 'Sub':
      case 'Mul':
      case 'Div':
        return data.length >= 1;
      case 'Flatten':
        return int('axis', 1) >= 1;
      case 'Gemm':
        return sameSizes(data, [0]) && int('transA', 0) === 0;
      case 'MatMul':
        return (sameSizes(data, [0]) && rank >= 2) || (sameSizes(data, [1]) && rank >= 3);
      default:
        return sameSizes(data, [0]);
    }
  };

  /** Emits `node` once per run of `sizes` (in `rows`), each with `inputsOf(k)`; its output then exists as pieces. */
  const emitPieces = (node: NodeProto, sizes: number[], rows: number[], inputsOf: (k: number) => string[]): void => {
    const output = node.output[0] as string;
    const names = sizes.map((_, k) => {
      const out = fresh('out');
      setShape(out, output, rows[k] as number);
      nodes.push(copyNode(node, `${node.name || output}/states_${k}`, inputsOf(k), [out]));
      return out;
    });
    pieced.set(output, { sizes, rows, names });
    piecesOnly.add(output);
    // A hooked tensor (or the score) exists whole, and only whole: its gradient must come through its name.
    if (whole.has(output) || outputs.has(output)) {
      ensureWhole(output);
      pieced.delete(output);
    }
  };

  for (const node of analysis.index.nodes) {
    const spec = node.domain === '' || node.domain === 'ai.onnx' ? WEIGHTED[node.opType] : undefined;
    const weights = spec ? spec.weights.map((i) => node.input[i] ?? '').filter((w) => randomisable.has(w)) : [];
    const runs = weights.length > 0 ? runsOf(weights, items) : [];
    const withWeights = (random: Set<string>, input: string[]): string[] =>
      input.map((name) => (weights.includes(name) ? weightName(name, random.has(name)) : name));
    const data = node.input.map((t, i) => (t && itemwise(t) ? i : -1)).filter((i) => i >= 0);
    if (runs.length > 1) {
      // The items on the per-item input: the one input that is not a constant (a MatMul's may be either).
      const dataSlots = node.input.map((name, i) => (name && !initializers.has(name) ? i : -1)).filter((i) => i >= 0);
      if (dataSlots.length !== 1) refuse(node, 'has more than one computed input');
      const slot = dataSlots[0] as number;
      const input = node.input[slot] as string;
      const output = node.output[0] as string;
      const dataShape = knownShape(analysis, input);
      const outShape = knownShape(analysis, output);
      if (!dataShape || !outShape) return refuse(node, 'has shapes unknown at this batch');
      if (dataShape[0] !== batch || outShape[0] !== batch || node.output.length !== 1)
        refuse(node, `does not hold the ${batch} items on its first axis`);
      if (node.opType === 'Gemm' && (slot !== 0 || node.attribute.some((a) => a.name === 'transA' && a.i !== 0n)))
        refuse(node, 'holds its items in columns');
      if (node.opType === 'MatMul' && dataShape.length < (slot === 0 ? 2 : 3)) refuse(node, 'holds its items in columns');
      const sizes = runs.map((r) => r.end - r.start);
      const rows = rowsFor(output, sizes);
      const pieces = piecesOf(input, sizes, rows);
      emitPieces(node, sizes, rows, (k) => {
        const ins = withWeights((runs[k] as Run).random, node.input);
        ins[slot] = pieces[k] as string;
        return ins;
      });
      continue;
    }
    const chosen = withWeights((runs[0] as Run | undefined)?.random ?? new Set(), node.input);
    const carried = data.map((i) => pieced.get(node.input[i] as string)).find((p) => p !== undefined);
    if (carried && perItem(node, data)) {
      const rows = rowsFor(node.output[0] as string, carried.sizes);
      const parts = data.map((i) => piecesOf(node.input[i] as string, carried.sizes, rows));
      emitPieces(node, carried.sizes, rows, (k) => {
        const ins = [...chosen];
        data.forEach((i, j) => (ins[i] = (parts[j] as string[])[k] as string));
        return ins;
      });
      continue;
    }
    for (const t of node.input) if (t) ensureWhole(t);
    nodes.push(copyNode(node, node.name, chosen, node.output));
  }
  for (const t of [...piecesOnly]) if (outputs.has(t) || whole.has(t)) ensureWhole(t);
  const runnable = { ...analysis.runnable, graph: { ...graph, node: nodes, initializer: [...graph.initializer, ...added] } };
  return { ...analysis, runnable, index: buildGraphIndex(runnable, 'sanity-check states'), shapes };
}
