/**
 * The module hierarchy: from node-name scopes when the exporter wrote them (PyTorch), otherwise from the
 * graph's structure (blocks between cut tensors). Every module knows its nodes, its output tensor and its
 * parameter count.
 */
import type { TensorName } from '../../../src-shared/api';
import type { ModulePath, ModuleView } from '../../../src-shared/graph';
import { cutTensors } from './cut-tensors';
import type { GraphIndex } from './graph-index';
import { lineage, parentPath, scopeOf } from './module-scopes';

export interface ModuleTree {
  hierarchy: 'scopes' | 'structural';
  /** Innermost module of each node (by topological index). */
  nodeModule: ModulePath[];
  modules: Map<ModulePath, ModuleView>;
}

/** Share of nodes that must carry scopes before the names are trusted over structure. */
const SCOPED_SHARE = 0.5;

/** Element-wise activations that finish a block rather than start a layer of their own. */
const ACTIVATIONS = new Set([
  'Relu',
  'LeakyRelu',
  'PRelu',
  'Clip',
  'Sigmoid',
  'Tanh',
  'HardSwish',
  'HardSigmoid',
  'Elu',
  'Selu',
  'Softplus',
  'Mish',
  'Gelu',
]);

function structuralPaths(index: GraphIndex): ModulePath[] {
  const paths: ModulePath[] = new Array(index.nodes.length);
  let start = 0;
  let block = 0;
  let previousBlock: { name: ModulePath; size: number } | null = null;
  const close = (end: number): void => {
    // One node between two cuts is a layer in its own right; several make a block. An activation right after
    // a block (the ReLU after a residual Add) belongs to that block.
    const single = end - start === 0;
    const node = index.nodes[start];
    let name: ModulePath;
    if (single && node && previousBlock && previousBlock.size > 1 && ACTIVATIONS.has(node.opType)) {
      name = previousBlock.name;
      previousBlock.size += 1;
    } else {
      name = (single && node ? sanitize(node.name || `${node.opType}_${start}`) : `block${block}`) as ModulePath;
      previousBlock = { name, size: end - start + 1 };
      block += 1;
    }
    for (let i = start; i <= end; i++) paths[i] = name;
    start = end + 1;
  };
  for (const cut of cutTensors(index)) if (cut.node >= start) close(cut.node);
  if (start < index.nodes.length) close(index.nodes.length - 1);
  return paths;
}

/** Structural names must not contain dots, which would read as nesting. */
function sanitize(name: string): string {
  return name.replace(/[./]/g, '_');
}

export function buildModuleTree(index: GraphIndex, parameterCount: (tensor: TensorName) => number): ModuleTree {
  const scoped = index.nodes.map(scopeOf);
  const scopedCount = scoped.filter((p) => p !== null && p !== '').length;
  const hierarchy = index.nodes.length > 0 && scopedCount / index.nodes.length >= SCOPED_SHARE ? 'scopes' : 'structural';
  const nodeModule = hierarchy === 'scopes' ? scoped.map((p) => p ?? ('' as ModulePath)) : structuralPaths(index);

  const modules = new Map<ModulePath, ModuleView>();
  const ensure = (path: ModulePath): ModuleView => {
    let m = modules.get(path);
    if (!m) {
      const parent = parentPath(path);
      m = {
        path,
        name: path === '' ? '' : path.slice(path.lastIndexOf('.') + 1),
        parent,
        children: [],
        nodes: [],
        nodeCount: 0,
        output: null,
        opType: null,
        parameterCount: 0,
      };
      modules.set(path, m);
      if (parent !== null) ensure(parent).children.push(path);
    }
    return m;
  };
  ensure('' as ModulePath);

  // Each initializer counts once, for the innermost module of its first consumer.
  const counted = new Set<TensorName>();
  nodeModule.forEach((path, i) => {
    const m = ensure(path);
    m.nodes.push(i);
    const node = index.nodes[i];
    let params = 0;
    for (const input of node?.input ?? []) {
      const name = input as TensorName;
      if (index.initializers.has(name) && !counted.has(name)) {
        counted.add(name);
        params += parameterCount(name);
      }
    }
    for (const p of lineage(path)) {
      const ancestor = ensure(p);
      ancestor.nodeCount += 1;
      ancestor.parameterCount += params;
    }
  });

  // A module's output: the last value (in topological order) produced inside it and read outside it.
  const graphOutputs = new Set(index.outputs);
  index.nodes.forEach((node, i) => {
    const inside = lineage(nodeModule[i] as ModulePath);
    for (const out of node.output) {
      const name = out as TensorName;
      if (!name) continue;
      const readers = index.consumers.get(name) ?? [];
      for (const p of inside) {
        if (p === '') continue;
        const leaves = graphOutputs.has(name) || readers.some((r) => !isWithin(nodeModule[r] as ModulePath, p));
        if (leaves) (modules.get(p) as ModuleView).output = name;
      }
    }
  });
  for (const m of modules.values()) {
    if (m.nodeCount === 1 && m.children.length === 0) m.opType = index.nodes[m.nodes[0] as number]?.opType ?? null;
  }
  return { hierarchy, nodeModule, modules };
}

export function isWithin(path: ModulePath, ancestor: ModulePath): boolean {
  return ancestor === '' || path === ancestor || path.startsWith(`${ancestor}.`);
}
