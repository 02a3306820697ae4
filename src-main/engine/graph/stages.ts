/**
 * Stage detection ("ResNet groups"): the sequence of blocks whose outputs are 4-D feature maps, one per
 * spatial resolution — layer1…layer4 of a ResNet, the feature blocks of MobileNet/EfficientNet where the
 * resolution drops, VGG's blocks between pools. Works on module scopes when present (descending into a
 * module that spans several resolutions, like torchvision's `features`), and on cut tensors otherwise.
 */
import type { Dim, TensorName } from '../../../src-shared/api';
import type { LayerGroup, ModulePath, ModuleView } from '../../../src-shared/graph';
import { cutTensors } from './cut-tensors';
import type { GraphIndex } from './graph-index';
import type { ModuleTree } from './module-tree';

export type ShapeOf = (tensor: TensorName) => Dim[] | null;

interface Candidate {
  module: ModulePath;
  tensor: TensorName;
  node: number;
  leaf: boolean;
}

/** "HxW" of a feature map with more than one spatial position, else null. */
function resolutionKey(shape: Dim[] | null, channelsLast: boolean): string | null {
  if (!shape || shape.length !== 4) return null;
  const [h, w] = channelsLast ? [shape[1], shape[2]] : [shape[2], shape[3]];
  if (typeof h !== 'number' || typeof w !== 'number' || h * w <= 1) return null;
  return `${h}x${w}`;
}

function scopedCandidates(
  index: GraphIndex,
  tree: ModuleTree,
  cuts: Map<TensorName, number>,
  key: (t: TensorName) => string | null,
): Candidate[] {
  const modules = tree.modules;
  const resolutionsInside = (m: ModuleView): Set<string> => {
    const found = new Set<string>();
    const visit = (path: ModulePath): void => {
      const mod = modules.get(path);
      if (!mod) return;
      for (const n of mod.nodes) {
        for (const out of index.nodes[n]?.output ?? []) {
          const k = cuts.has(out as TensorName) ? key(out as TensorName) : null;
          if (k) found.add(k);
        }
      }
      mod.children.forEach(visit);
    };
    visit(m.path);
    return found;
  };
  const byOutputOrder = (paths: ModulePath[]): ModuleView[] =>
    paths
      .map((p) => modules.get(p))
      .filter((m): m is ModuleView => !!m && m.output !== null && index.producer.has(m.output))
      .sort(
        (a, b) => (index.producer.get(a.output as TensorName) as number) - (index.producer.get(b.output as TensorName) as number),
      );

  let level = byOutputOrder(modules.get('' as ModulePath)?.children ?? []);
  // Descend into containers that hold several resolutions (torchvision's `features`), a bounded number of times.
  for (let depth = 0; depth < 8; depth++) {
    let changed = false;
    level = level.flatMap((m) => {
      if (m.children.length > 0 && resolutionsInside(m).size > 1) {
        changed = true;
        return byOutputOrder(m.children);
      }
      return [m];
    });
    if (!changed) break;
  }
  return level
    .filter((m) => cuts.has(m.output as TensorName))
    .map((m) => ({
      module: m.path,
      tensor: m.output as TensorName,
      node: cuts.get(m.output as TensorName) as number,
      leaf: m.children.length === 0,
    }));
}

export function detectStages(index: GraphIndex, tree: ModuleTree, shapeOf: ShapeOf, channelsLast = false): LayerGroup[] {
  const cutList = cutTensors(index);
  const cuts = new Map(cutList.map((c) => [c.tensor, c.node]));
  const key = (t: TensorName): string | null => resolutionKey(shapeOf(t), channelsLast);
  const candidates: Candidate[] =
    tree.hierarchy === 'scopes'
      ? scopedCandidates(index, tree, cuts, key)
      : cutList.map((c) => {
          const module = tree.nodeModule[c.node] as ModulePath;
          return { module, tensor: c.tensor, node: c.node, leaf: (tree.modules.get(module)?.nodeCount ?? 1) <= 1 };
        });

  // The last feature map at each resolution, in order.
  const stages: Candidate[] = [];
  let lastKey: string | null = null;
  for (const c of candidates) {
    const k = key(c.tensor);
    if (!k) continue;
    if (k === lastKey) stages[stages.length - 1] = c;
    else stages.push(c);
    lastKey = k;
  }
  // A stem made of single layers (conv1 → relu) is not a stage when real blocks follow.
  while (stages.length > 1 && stages[0]?.leaf && stages.some((s) => !s.leaf)) stages.shift();
  return stages.map((s) => ({ module: s.module, tensor: s.tensor, shape: shapeOf(s.tensor) }));
}
