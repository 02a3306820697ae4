/**
 * Everything LayerLens knows about a model's graph at one input shape: the index, the module tree, tensor
 * shapes and the detected stages, plus the `GraphView` the renderer and `layerlens graph` show.
 */
import type { AttributeProto } from 'onnx-buf';
import type { TensorName } from '../../../src-shared/api';
import type { GraphNodeView, GraphView, ModulePath, TensorView } from '../../../src-shared/graph';
import { EngineError } from '../errors';
import type { OpenModel } from '../model-registry';
import { inlineExternalData } from '../onnx/external-data';
import { defaultOpset } from '../onnx/model-summary';
import { elementCount } from '../onnx/tensor-data';
import { dtypeName } from '../onnx/tensor-types';
import path from 'node:path';
import { channelAxisHint } from './channel-axis';
import { featureGrid, type FeatureGrid } from './feature-grid';
import { buildGraphIndex, type GraphIndex } from './graph-index';
import { buildModuleTree, type ModuleTree } from './module-tree';
import { probeShapes, type TensorShape } from './shape-probe';
import { detectStages } from './stages';

export interface GraphAnalysis {
  index: GraphIndex;
  tree: ModuleTree;
  shapes: Map<TensorName, TensorShape>;
  view: GraphView;
  warnings: string[];
  /** Why onnxruntime could not run the model at all (the probe run failed), or null. */
  probeFailure: string | null;
  /** The model with external data inlined, ready to be rewritten and run from memory. */
  runnable: OpenModel['proto'];
  /** The concrete shape of each graph input this analysis was made at. */
  inputShapes: Map<TensorName, number[]>;
  /** [H, W] of the image input at this shape (the first 4-D input), which feature grids are matched to. */
  imageSize: [number, number] | null;
  channelsLast: boolean;
  /** How a tensor holds a grid of image positions (see feature-grid.ts), or null when it holds none. */
  gridOf: (tensor: TensorName) => FeatureGrid | null;
}

function imageSizeOf(inputShapes: Map<TensorName, number[]>, channelsLast: boolean): [number, number] | null {
  for (const shape of inputShapes.values()) {
    if (shape.length !== 4) continue;
    const [, a, b, c] = shape as [number, number, number, number];
    return channelsLast ? [a, b] : [b, c];
  }
  return null;
}

/**
 * A tensor's shape in the analysis when every dimension is a number (null when unknown or symbolic); a
 * graph input has the concrete shape the analysis was made at, whatever it declares ([batch, 3, H, W]).
 */
export function knownShape(analysis: GraphAnalysis, tensor: string): number[] | null {
  const pinned = analysis.inputShapes.get(tensor as TensorName);
  if (pinned) return pinned;
  const s = analysis.shapes.get(tensor as TensorName)?.shape;
  return s && s.every((d) => typeof d === 'number') ? (s as number[]) : null;
}

const ATTRIBUTE_TYPES = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
};
const MAX_LIST = 16;

function list<T>(items: T[], show: (x: T) => string): string {
  const head = items.slice(0, MAX_LIST).map(show).join(', ');
  return `[${head}${items.length > MAX_LIST ? `, … (${items.length})` : ''}]`;
}

function formatAttribute(a: AttributeProto): string {
  const text = (b: Uint8Array): string => new TextDecoder().decode(b);
  switch (a.type) {
    case ATTRIBUTE_TYPES.FLOAT:
      return String(Number(a.f.toPrecision(6)));
    case ATTRIBUTE_TYPES.INT:
      return String(a.i);
    case ATTRIBUTE_TYPES.STRING:
      return text(a.s);
    case ATTRIBUTE_TYPES.TENSOR:
      return a.t ? `tensor ${dtypeName(a.t.dataType)}[${a.t.dims.join(', ')}]` : 'tensor';
    case ATTRIBUTE_TYPES.GRAPH:
      return `subgraph (${a.g?.node.length ?? 0} nodes)`;
    case ATTRIBUTE_TYPES.FLOATS:
      return list(a.floats, (f) => String(Number(f.toPrecision(6))));
    case ATTRIBUTE_TYPES.INTS:
      return list(a.ints, String);
    case ATTRIBUTE_TYPES.STRINGS:
      return list(a.strings, text);
    case ATTRIBUTE_TYPES.TENSORS:
      return `${a.tensors.length} tensors`;
    case ATTRIBUTE_TYPES.GRAPHS:
      return `${a.graphs.length} subgraphs`;
    default:
      return '?';
  }
}

/** The concrete shape fed to the probe: static dims as declared, dynamic batch 1, dynamic H×W from preprocessing. */
export function concreteInputShapes(model: OpenModel): Map<TensorName, number[]> {
  const out = new Map<TensorName, number[]>();
  const [h, w] = model.summary.preprocess.inputSize;
  const nhwc = model.summary.preprocess.layout === 'NHWC';
  for (const input of model.summary.inputs) {
    const shape = input.shape.map((d, i) => {
      if (typeof d === 'number' && d > 0) return d;
      if (input.shape.length === 4 && i > 0) {
        if (nhwc) return i === 1 ? h : i === 2 ? w : 3;
        return i === 2 ? h : i === 3 ? w : 3;
      }
      return 1;
    });
    out.set(input.name, shape);
  }
  return out;
}

export async function analyzeGraph(model: OpenModel, inputShapes = concreteInputShapes(model)): Promise<GraphAnalysis> {
  const name = model.summary.name;
  const runnable = await inlineExternalData(model.proto, model.path ? path.dirname(model.path) : null, name);
  const index = buildGraphIndex(runnable, name);
  const graph = runnable.graph;
  if (!graph) throw new EngineError('bad-model', `${name} has no graph.`);
  const initializerSize = new Map(graph.initializer.map((t) => [t.name as TensorName, elementCount(t)]));
  const tree = buildModuleTree(index, (t) => initializerSize.get(t) ?? 0);
  const { shapes, warning, failure } = await probeShapes(runnable, index, inputShapes);
  const shapeOf = (t: TensorName) => shapes.get(t)?.shape ?? null;
  const channelsLast = model.summary.preprocess.layout === 'NHWC';
  const imageSize = imageSizeOf(inputShapes, channelsLast);
  const grids = new Map<TensorName, FeatureGrid | null>();
  // A graph input has its pinned shape here too (a declared [batch, 3, H, W] is [1, 3, H, W]).
  const concreteShape = (t: TensorName) => inputShapes.get(t) ?? shapeOf(t);
  const gridOf = (t: TensorName): FeatureGrid | null => {
    if (!grids.has(t)) {
      const side = () => channelAxisHint(index, t, concreteShape);
      grids.set(t, featureGrid(concreteShape(t), imageSize, side, channelsLast));
    }
    return grids.get(t) ?? null;
  };
  const stages = detectStages(index, tree, shapeOf, gridOf);

  const nodes: GraphNodeView[] = index.nodes.map((node, i) => ({
    index: i,
    name: node.name,
    opType: node.opType,
    domain: node.domain,
    inputs: node.input as TensorName[],
    outputs: node.output as TensorName[],
    module: tree.nodeModule[i] as ModulePath,
    attributes: Object.fromEntries(node.attribute.map((a) => [a.name, formatAttribute(a)])),
    subgraphs: node.attribute
      .filter((a) => a.type === ATTRIBUTE_TYPES.GRAPH || a.type === ATTRIBUTE_TYPES.GRAPHS)
      .map((a) => a.name),
  }));
  const outputSet = new Set(index.outputs);
  const tensorNames = new Set<TensorName>([...index.inputs, ...index.initializers, ...index.producer.keys()]);
  const tensors: TensorView[] = [...tensorNames].map((t) => {
    const s = shapes.get(t);
    return {
      name: t,
      dtype: s?.dtype ?? 'unknown',
      shape: s?.shape ?? null,
      shapeSource: s?.source ?? 'unknown',
      kind: outputSet.has(t)
        ? 'output'
        : index.inputs.has(t)
          ? 'input'
          : index.initializers.has(t)
            ? 'initializer'
            : 'intermediate',
      producer: index.producer.get(t) ?? null,
      consumers: index.consumers.get(t) ?? [],
    };
  });
  const opHistogram: Record<string, number> = {};
  for (const n of index.nodes) opHistogram[n.opType] = (opHistogram[n.opType] ?? 0) + 1;

  const view: GraphView = {
    opset: defaultOpset(runnable),
    nodes,
    tensors,
    modules: [...tree.modules.values()],
    stages,
    stagesSource: 'auto',
    hierarchy: tree.hierarchy,
    opHistogram,
  };
  return {
    index,
    tree,
    shapes,
    view,
    warnings: warning ? [warning] : [],
    probeFailure: failure,
    runnable,
    inputShapes,
    imageSize,
    channelsLast,
    gridOf,
  };
}
