/**
 * Lookups over one GraphView, built once per graph: modules and tensors by name, each module's ancestry,
 * its op mix and the stages it carries. Pure data (no DOM), shared by the visible-graph builder, search and
 * the inspector.
 */
import type { Dim, TensorName } from '../../../src-shared/api';
import type { GraphNodeView, GraphView, LayerGroup, ModulePath, ModuleView, TensorView } from '../../../src-shared/graph';

export const ROOT = '' as ModulePath;

export interface GraphIndex {
  readonly graph: GraphView;
  readonly modules: ReadonlyMap<ModulePath, ModuleView>;
  readonly tensors: ReadonlyMap<TensorName, TensorView>;
  /** Stage number (0-based, in the order the engine lists them) of each stage module. */
  readonly stageOfModule: ReadonlyMap<ModulePath, number>;
  /** Modules that are one op (or none, constants aside): always drawn as that op, never as a box or a group. */
  isTransparent(path: ModulePath): boolean;
  /**
   * Constant nodes feed a value like a weight does: not drawn as ops of their own. Besides `Constant`, any
   * deterministic op whose inputs are all constant (PyTorch's `Identity` aliases of a deduplicated parameter,
   * a Cast or Reshape of a weight) is folded into the ops it feeds, as Netron shows weights as a node's inputs.
   */
  isConstant(node: GraphNodeView): boolean;
  /** Whether a tensor is a weight: an initializer or the output of a folded constant. */
  isWeight(tensor: TensorName): boolean;
  /** The initializer a weight is (following Identity aliases); null when it is computed or not a weight. */
  initializerOf(tensor: TensorName): TensorName | null;
  /** The module's ancestors from the top (root excluded), ending with the module itself. */
  lineage(path: ModulePath): readonly ModulePath[];
  /** Op histogram over the module's whole subtree, most frequent first. */
  moduleOps(path: ModulePath): readonly [op: string, count: number][];
  /** Tensors entering the module's subtree from outside (initializers excluded). */
  moduleInputs(path: ModulePath): readonly TensorName[];
  /** The modules holding a node, innermost last (root excluded). */
  nodeLineage(node: GraphNodeView): readonly ModulePath[];
  shapeOf(tensor: TensorName | null): Dim[] | null;
  /** Number of parameters of a node: the elements of its initializer inputs. */
  nodeParameterCount(node: GraphNodeView): number;
}

export function elementCount(shape: Dim[] | null): number | null {
  if (!shape) return null;
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number') return null;
    n *= d;
  }
  return n;
}

/** Ops that may have only constant inputs and still not be constant (they draw random numbers). */
const NONDETERMINISTIC = /^(Random|Multinomial|Bernoulli|Dropout)/;

/** Nodes computing constants, in one topological pass: `Constant`, or a deterministic op of constants. */
function constantNodes(graph: GraphView, tensors: ReadonlyMap<TensorName, TensorView>): Set<number> {
  const constant = new Set<number>();
  const isConstTensor = (name: TensorName): boolean => {
    if (name === '') return true; // an omitted optional input
    const t = tensors.get(name);
    if (!t) return false;
    if (t.kind === 'initializer') return true;
    return t.kind === 'intermediate' && t.producer !== null && constant.has(t.producer);
  };
  for (const node of graph.nodes) {
    const folds =
      node.opType === 'Constant'
        ? node.inputs.length === 0
        : node.inputs.length > 0 &&
          node.subgraphs.length === 0 &&
          !NONDETERMINISTIC.test(node.opType) &&
          node.inputs.every(isConstTensor) &&
          // A graph output stays drawn, whatever computes it.
          node.outputs.every((o) => tensors.get(o)?.kind !== 'output');
    if (folds) constant.add(node.index);
  }
  return constant;
}

export function buildGraphIndex(graph: GraphView): GraphIndex {
  const modules = new Map(graph.modules.map((m) => [m.path, m]));
  const tensors = new Map(graph.tensors.map((t) => [t.name, t]));
  const constants = constantNodes(graph, tensors);
  const isConstant = (node: GraphNodeView): boolean => constants.has(node.index);
  const isWeight = (name: TensorName): boolean => {
    const t = tensors.get(name);
    return !!t && (t.kind === 'initializer' || (t.producer !== null && constants.has(t.producer)));
  };
  const initializerOf = (name: TensorName): TensorName | null => {
    let t = tensors.get(name);
    for (let hops = 0; t && hops < 64; hops++) {
      if (t.kind === 'initializer') return t.name;
      const producer = t.producer === null ? undefined : graph.nodes[t.producer];
      if (!producer || producer.opType !== 'Identity' || !constants.has(producer.index)) return null;
      t = tensors.get(producer.inputs[0] ?? ('' as TensorName));
    }
    return null;
  };
  const stageOfModule = new Map<ModulePath, number>();
  graph.stages.forEach((s: LayerGroup, i) => {
    if (s.module !== ROOT && modules.has(s.module) && !stageOfModule.has(s.module)) stageOfModule.set(s.module, i);
  });

  const lineages = new Map<ModulePath, ModulePath[]>();
  const lineage = (path: ModulePath): ModulePath[] => {
    const cached = lineages.get(path);
    if (cached) return cached;
    const module = modules.get(path);
    let result: ModulePath[];
    if (path === ROOT || !module) result = [];
    else {
      const parent = module.parent;
      // Guard against a malformed tree (a module listed as its own ancestor).
      const above = parent === null || parent === path ? [] : lineage(parent);
      result = above.includes(path) ? [path] : [...above, path];
    }
    lineages.set(path, result);
    return result;
  };

  const nodeLineage = (node: GraphNodeView): ModulePath[] => lineage(modules.has(node.module) ? node.module : ROOT);

  // Constants per module subtree, to tell how many ops a module really draws.
  let constantsByModule: Map<ModulePath, number> | null = null;
  const constantsIn = (path: ModulePath): number => {
    if (!constantsByModule) {
      constantsByModule = new Map();
      for (const node of graph.nodes) {
        if (!isConstant(node)) continue;
        for (const m of nodeLineage(node)) constantsByModule.set(m, (constantsByModule.get(m) ?? 0) + 1);
      }
    }
    return constantsByModule.get(path) ?? 0;
  };

  let opsByModule: Map<ModulePath, Map<string, number>> | null = null;
  const moduleOps = (path: ModulePath): [string, number][] => {
    if (!opsByModule) {
      opsByModule = new Map();
      for (const node of graph.nodes) {
        if (isConstant(node)) continue;
        for (const m of [ROOT, ...nodeLineage(node)]) {
          let h = opsByModule.get(m);
          if (!h) opsByModule.set(m, (h = new Map()));
          h.set(node.opType, (h.get(node.opType) ?? 0) + 1);
        }
      }
    }
    return [...(opsByModule.get(path) ?? new Map<string, number>())].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  };

  const moduleInputs = (path: ModulePath): TensorName[] => {
    const inside = (n: number): boolean => {
      const node = graph.nodes[n];
      return !!node && (path === ROOT || nodeLineage(node).includes(path));
    };
    const seen = new Set<TensorName>();
    for (const node of graph.nodes) {
      if (!inside(node.index)) continue;
      for (const name of node.inputs) {
        const t = tensors.get(name);
        if (!t || isWeight(name) || seen.has(name)) continue;
        if (t.producer === null || !inside(t.producer)) seen.add(name);
      }
    }
    return [...seen];
  };

  return {
    graph,
    modules,
    tensors,
    stageOfModule,
    isTransparent: (path) => path !== ROOT && (modules.get(path)?.nodeCount ?? 0) - constantsIn(path) <= 1,
    isConstant,
    isWeight,
    initializerOf,
    lineage,
    moduleOps,
    moduleInputs,
    nodeLineage,
    shapeOf: (tensor) => (tensor === null ? null : (tensors.get(tensor)?.shape ?? null)),
    nodeParameterCount: (node) =>
      node.inputs.reduce((sum, name) => (isWeight(name) ? sum + (elementCount(tensors.get(name)?.shape ?? null) ?? 0) : sum), 0),
  };
}
