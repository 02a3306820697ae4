/**
 * The layer graph as the renderer and the CLI see it: nodes, the tensors between them, the module
 * hierarchy recovered from node-name scopes, and the detected stages. Plain data (no Node, no DOM).
 */
import type { Dim, TensorName } from './primitives';

/** Dotted module path as PyTorch names it: "layer1.0.conv1", "features.denseblock2". "" is the root. */
export type ModulePath = string & { readonly __brand: 'ModulePath' };

export interface GraphNodeView {
  /** Index in topological order; stable for a given model. */
  index: number;
  name: string;
  opType: string;
  domain: string;
  inputs: TensorName[];
  outputs: TensorName[];
  /** The innermost module this node belongs to. */
  module: ModulePath;
  /** Attributes rendered for display (ints/floats/strings; tensors and graphs summarised). */
  attributes: Record<string, string>;
  /** Names of If/Loop/Scan subgraph attributes: shown, not analysed. */
  subgraphs: string[];
}

export interface TensorView {
  name: TensorName;
  dtype: string;
  shape: Dim[] | null;
  /** Where the shape came from: the file's value_info, the probe run, or unknown. */
  shapeSource: 'declared' | 'probe' | 'unknown';
  kind: 'input' | 'output' | 'initializer' | 'intermediate';
  /** Index of the node producing it (absent for inputs and initializers). */
  producer: number | null;
  consumers: number[];
}

export interface ModuleView {
  path: ModulePath;
  /** Last segment, e.g. "conv1". */
  name: string;
  parent: ModulePath | null;
  children: ModulePath[];
  /** Node indices directly in this module (not in its children). */
  nodes: number[];
  /** Total node count including descendants. */
  nodeCount: number;
  /** The value that leaves the module's scope (the last in topological order if several). */
  output: TensorName | null;
  /** Op type of the only node when the module is a single op (a "leaf layer"). */
  opType: string | null;
  parameterCount: number;
}

export type LayerGroupSource = 'auto' | 'user';

/** A stage ("ResNet group"): a top-level block whose output is a 4-D feature map. */
export interface LayerGroup {
  module: ModulePath;
  tensor: TensorName;
  shape: Dim[] | null;
}

export interface GraphView {
  opset: number | null;
  nodes: GraphNodeView[];
  tensors: TensorView[];
  modules: ModuleView[];
  stages: LayerGroup[];
  stagesSource: LayerGroupSource;
  /** How module paths were recovered: PyTorch-style scopes in node names, or graph structure. */
  hierarchy: 'scopes' | 'structural';
  opHistogram: Record<string, number>;
}

export interface WeightStats {
  tensor: TensorName;
  shape: number[];
  count: number;
  min: number;
  max: number;
  mean: number;
  std: number;
  /** Fraction of exact zeros. */
  sparsity: number;
}
