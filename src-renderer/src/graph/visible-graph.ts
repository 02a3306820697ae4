/**
 * What the graph view shows for a given set of expanded modules: expanded modules become groups around
 * their contents, collapsed ones a single box, and every edge between two visible items is derived from the
 * tensors' producer/consumer relations (deduplicated: one edge per pair of items, carrying its tensors).
 * Only this visible structure is laid out, so a large model costs what is on screen, not what is in the file.
 *
 * Pure functions over plain data: no DOM, unit-tested in node.
 */
import type { TensorName } from '../../../src-shared/api';
import type { ModulePath } from '../../../src-shared/graph';
import { formatDims } from './format-dims';
import { ROOT, type GraphIndex } from './graph-index';

export type ItemKind = 'group' | 'module' | 'node' | 'input' | 'output';

export interface VisibleItem {
  id: string;
  kind: ItemKind;
  /** Id of the enclosing group, null at the top level. */
  parent: string | null;
  /** group / module: its path; node: the innermost module of the node. */
  module: ModulePath | null;
  /** node: its topological index. */
  node: number | null;
  /** input / output: the graph tensor. */
  tensor: TensorName | null;
  /** Stages (indices into GraphView.stages) this item shows: its own, or hidden inside it when collapsed. */
  stages: number[];
  /** Nesting depth of groups (0 at the top level). */
  depth: number;
}

export interface VisibleEdge {
  id: string;
  source: string;
  target: string;
  /** The tensors flowing along this edge (several when a collapsed box hides parallel ones). */
  tensors: TensorName[];
}

export interface VisibleGraph {
  items: VisibleItem[];
  edges: VisibleEdge[];
  /** Item id by id. */
  byId: ReadonlyMap<string, VisibleItem>;
  /** The visible item standing for each node (itself, or the collapsed module hiding it). */
  itemOfNode: readonly string[];
  /** Identifies the visible structure: equal keys lay out identically. */
  key: string;
}

export const moduleItemId = (path: ModulePath): string => `m:${path}`;
export const nodeItemId = (index: number): string => `n:${index}`;
const inputItemId = (tensor: TensorName): string => `i:${tensor}`;
const outputItemId = (tensor: TensorName): string => `o:${tensor}`;

/** A selectable thing in the graph: an op or a module. */
export type LayerTarget = { kind: 'node'; index: number } | { kind: 'module'; path: ModulePath };

/**
 * Where a node (or module) with this module chain is drawn: inside the expanded groups of its chain, either
 * as itself or, when a module of the chain is collapsed, as that module's box. Transparent (one-op) modules
 * end the chain: their op is drawn directly in the enclosing group.
 */
interface Placement {
  containers: ModulePath[];
  /** The outermost collapsed module of the chain, if any. */
  hiddenIn: ModulePath | null;
}

function place(index: GraphIndex, lineage: readonly ModulePath[], expanded: ReadonlySet<ModulePath>): Placement {
  const containers: ModulePath[] = [];
  for (const m of lineage) {
    if (index.isTransparent(m)) break;
    if (!expanded.has(m)) return { containers, hiddenIn: m };
    containers.push(m);
  }
  return { containers, hiddenIn: null };
}

export function buildVisibleGraph(index: GraphIndex, expanded: ReadonlySet<ModulePath>): VisibleGraph {
  const { graph } = index;
  const items: VisibleItem[] = [];
  const byId = new Map<string, VisibleItem>();
  const openGroups: ModulePath[] = [];

  const add = (item: Omit<VisibleItem, 'stages'>): VisibleItem => {
    const existing = byId.get(item.id);
    if (existing) return existing;
    const full: VisibleItem = { ...item, stages: [] };
    items.push(full);
    byId.set(full.id, full);
    return full;
  };
  /** Ensures the groups for a chain of expanded modules exist; returns the innermost one's id. */
  const ensureGroups = (containers: readonly ModulePath[]): string | null => {
    let parent: string | null = null;
    containers.forEach((path, depth) => {
      const id = moduleItemId(path);
      if (!byId.has(id)) {
        openGroups.push(path);
        add({ id, kind: 'group', parent, module: path, node: null, tensor: null, depth });
      }
      parent = id;
    });
    return parent;
  };

  for (const t of graph.tensors) {
    if (t.kind === 'input' && t.consumers.length > 0) {
      add({ id: inputItemId(t.name), kind: 'input', parent: null, module: null, node: null, tensor: t.name, depth: 0 });
    }
  }

  // '' for a constant drawn nowhere (its value shows in the inspector of the op it feeds).
  const itemOfNode: string[] = new Array<string>(graph.nodes.length).fill('');
  for (const node of graph.nodes) {
    const { containers, hiddenIn } = place(index, index.nodeLineage(node), expanded);
    if (hiddenIn === null && index.isConstant(node)) continue;
    const parent = ensureGroups(containers);
    const depth = containers.length;
    const item =
      hiddenIn === null
        ? add({ id: nodeItemId(node.index), kind: 'node', parent, module: node.module, node: node.index, tensor: null, depth })
        : add({ id: moduleItemId(hiddenIn), kind: 'module', parent, module: hiddenIn, node: null, tensor: null, depth });
    itemOfNode[node.index] = item.id;
  }

  for (const t of graph.tensors) {
    if (t.kind === 'output' && t.producer !== null) {
      add({ id: outputItemId(t.name), kind: 'output', parent: null, module: null, node: null, tensor: t.name, depth: 0 });
    }
  }

  // Edges: producer item → consumer item per tensor, one edge per distinct pair.
  const edges = new Map<string, VisibleEdge>();
  const link = (source: string | undefined, target: string | undefined, tensor: TensorName): void => {
    if (!source || !target || source === target) return;
    const id = `${source}->${target}`;
    const edge = edges.get(id);
    if (!edge) edges.set(id, { id, source, target, tensors: [tensor] });
    else if (!edge.tensors.includes(tensor)) edge.tensors.push(tensor);
  };
  for (const t of graph.tensors) {
    // Weights (initializers, folded constants) are a node's inputs, shown in the inspector, not edges.
    if (index.isWeight(t.name)) continue;
    const source = t.kind === 'input' ? inputItemId(t.name) : t.producer !== null ? itemOfNode[t.producer] : undefined;
    for (const c of t.consumers) link(source, itemOfNode[c], t.name);
    if (t.kind === 'output') link(source, outputItemId(t.name), t.name);
  }

  // Stages: on the item that is the stage module, or on the collapsed box hiding it.
  graph.stages.forEach((stage, i) => {
    const id = stageItemId(index, byId, itemOfNode, stage.module, stage.tensor);
    const item = id ? byId.get(id) : undefined;
    if (item && !item.stages.includes(i)) item.stages.push(i);
  });

  return { items, edges: [...edges.values()], byId, itemOfNode, key: openGroups.join('\u0000') };
}

function stageItemId(
  index: GraphIndex,
  byId: ReadonlyMap<string, VisibleItem>,
  itemOfNode: readonly string[],
  module: ModulePath,
  tensor: TensorName,
): string | undefined {
  const m = index.modules.get(module);
  if (module !== ROOT && m) {
    const own = moduleItemId(module);
    if (byId.has(own)) return own;
    // A one-op module is drawn as its op; a hidden one is inside some collapsed box.
    const first = firstNodeOf(index, module);
    return first === null ? undefined : itemOfNode[first];
  }
  const producer = index.tensors.get(tensor)?.producer;
  return producer === null || producer === undefined ? undefined : itemOfNode[producer];
}

/** The first drawn op of a module's subtree (constants are not drawn). */
function firstNodeOf(index: GraphIndex, path: ModulePath): number | null {
  const m = index.modules.get(path);
  if (!m) return null;
  const drawn = (n: number): boolean => {
    const node = index.graph.nodes[n];
    return !!node && !index.isConstant(node);
  };
  let best: number | null = m.nodes.find(drawn) ?? null;
  for (const child of m.children) {
    const n = firstNodeOf(index, child);
    if (n !== null && (best === null || n < best)) best = n;
  }
  return best;
}

/** Every module that can be expanded (has more than one op), outermost first. */
export function expandableModules(index: GraphIndex): ModulePath[] {
  return index.graph.modules
    .filter((m) => m.path !== ROOT && !index.isTransparent(m.path))
    .map((m) => m.path)
    .sort((a, b) => index.lineage(a).length - index.lineage(b).length);
}

/** The expanded set with every module open. */
export function allExpanded(index: GraphIndex): Set<ModulePath> {
  return new Set(expandableModules(index));
}

export interface DefaultExpansionOptions {
  /** Graphs with at most this many nodes open fully. */
  expandAllUpTo: number;
  /** Larger graphs open level by level while at most this many items are visible. */
  budget: number;
}

export const DEFAULT_EXPANSION: DefaultExpansionOptions = { expandAllUpTo: 200, budget: 80 };

/**
 * The modules open when a graph is first shown: everything for a small graph; for a large one the top-level
 * modules collapsed, then whole levels opened while the view stays within the budget (so a model wrapped in a
 * single top-level "features" module still shows its blocks).
 */
export function defaultExpanded(index: GraphIndex, options: DefaultExpansionOptions = DEFAULT_EXPANSION): Set<ModulePath> {
  const all = expandableModules(index);
  if (index.graph.nodes.length <= options.expandAllUpTo) return allExpanded(index);
  const byDepth = new Map<number, ModulePath[]>();
  for (const m of all) {
    const d = index.lineage(m).length;
    byDepth.set(d, [...(byDepth.get(d) ?? []), m]);
  }
  const open = new Set<ModulePath>();
  for (const depth of [...byDepth.keys()].sort((a, b) => a - b)) {
    const next = new Set([...open, ...(byDepth.get(depth) ?? [])]);
    const shown = buildVisibleGraph(index, next).items.filter((i) => i.kind !== 'group').length;
    if (shown > options.budget) break;
    for (const m of next) open.add(m);
  }
  return open;
}

/** The expanded set with every module around `target` opened (the target itself stays as it was). */
export function revealTarget(index: GraphIndex, expanded: ReadonlySet<ModulePath>, target: LayerTarget): Set<ModulePath> {
  const next = new Set(expanded);
  const node = target.kind === 'node' ? index.graph.nodes[target.index] : undefined;
  const lineage = node ? index.nodeLineage(node) : target.kind === 'module' ? index.lineage(target.path).slice(0, -1) : [];
  for (const m of lineage) if (!index.isTransparent(m)) next.add(m);
  return next;
}

/** The visible item showing a target: its own item when visible, else the collapsed box hiding it. */
export function itemForTarget(index: GraphIndex, visible: VisibleGraph, target: LayerTarget): string | undefined {
  if (target.kind === 'node') return visible.itemOfNode[target.index] || undefined;
  const own = moduleItemId(target.path);
  if (visible.byId.has(own)) return own;
  const first = firstNodeOf(index, target.path);
  return first === null ? undefined : visible.itemOfNode[first];
}

/** The target an item stands for. */
export function targetOfItem(item: VisibleItem): LayerTarget | null {
  if (item.kind === 'node' && item.node !== null) return { kind: 'node', index: item.node };
  if ((item.kind === 'module' || item.kind === 'group') && item.module !== null) return { kind: 'module', path: item.module };
  return null;
}

export function sameTarget(a: LayerTarget | null, b: LayerTarget | null): boolean {
  if (!a || !b) return a === b;
  if (a.kind === 'node') return b.kind === 'node' && a.index === b.index;
  return b.kind === 'module' && a.path === b.path;
}

export interface SearchHit {
  target: LayerTarget;
  label: string;
  detail: string;
}

/**
 * Nodes and modules matching a query (case-insensitive substring of the module path, node name or op type);
 * modules first, then nodes in topological order.
 */
export function searchGraph(index: GraphIndex, query: string, limit = 200): SearchHit[] {
  const q = query.trim().toLowerCase();
  if (!q) return [];
  const hits: SearchHit[] = [];
  for (const m of index.graph.modules) {
    if (m.path === ROOT || index.isTransparent(m.path)) continue;
    if (m.path.toLowerCase().includes(q)) {
      hits.push({ target: { kind: 'module', path: m.path }, label: m.path, detail: `${m.nodeCount} nodes` });
    }
  }
  for (const node of index.graph.nodes) {
    if (hits.length >= limit) break;
    if (
      node.opType.toLowerCase().includes(q) ||
      node.name.toLowerCase().includes(q) ||
      (node.module !== ROOT && node.module.toLowerCase().includes(q))
    ) {
      hits.push({
        target: { kind: 'node', index: node.index },
        label: node.module || node.name || node.opType,
        detail: node.opType,
      });
    }
  }
  return hits.slice(0, limit);
}

export interface ItemText {
  title: string;
  subtitle: string | null;
  detail: string | null;
}

/** Short caption of a node: its module's name when it is that module's only op, else the last part of its name. */
function nodeCaption(index: GraphIndex, nodeIndex: number, parentModule: ModulePath | null): string | null {
  const node = index.graph.nodes[nodeIndex];
  if (!node) return null;
  if (node.module !== ROOT && index.isTransparent(node.module)) {
    const prefix = parentModule && parentModule !== ROOT ? `${parentModule}.` : '';
    const rel = node.module.startsWith(prefix) ? node.module.slice(prefix.length) : node.module;
    return rel;
  }
  const last = node.name.split('/').filter(Boolean).pop() ?? '';
  return last && last !== node.opType ? last : null;
}

/** The text drawn in an item (the layout sizes items from it). */
export function itemText(index: GraphIndex, visible: VisibleGraph, item: VisibleItem): ItemText {
  const parentModule = item.parent ? (visible.byId.get(item.parent)?.module ?? null) : null;
  switch (item.kind) {
    case 'node': {
      const node = index.graph.nodes[item.node ?? -1];
      return { title: node?.opType ?? '?', subtitle: nodeCaption(index, item.node ?? -1, parentModule), detail: null };
    }
    case 'module':
    case 'group': {
      const path = item.module ?? ROOT;
      const m = index.modules.get(path);
      const ops = index
        .moduleOps(path)
        .slice(0, 3)
        .map(([op, n]) => (n > 1 ? `${op}×${n}` : op))
        .join(' ');
      const count = `${m?.nodeCount ?? 0} nodes`;
      const name = moduleCaption(path, parentModule);
      if (item.kind === 'group') return { title: name, subtitle: count, detail: null };
      const shape = index.shapeOf(m?.output ?? null);
      return { title: name, subtitle: `${count} · ${ops}`, detail: shape ? formatDims(shape) : null };
    }
    case 'input':
    case 'output':
      return {
        title: item.tensor ?? '',
        subtitle: item.kind === 'input' ? 'input' : 'output',
        detail: formatDims(index.shapeOf(item.tensor) ?? []),
      };
  }
}

/** A module's name relative to its group; bare indices ("0") keep their parent's name ("layer1.0"). */
function moduleCaption(path: ModulePath, parentModule: ModulePath | null): string {
  if (!parentModule) return path;
  const prefix = `${parentModule}.`;
  const rel = path.startsWith(prefix) ? path.slice(prefix.length) : path;
  if (/^\d+$/.test(rel)) return `${parentModule.slice(parentModule.lastIndexOf('.') + 1)}.${rel}`;
  return rel;
}
