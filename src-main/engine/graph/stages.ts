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
  /** Op type of the producing node. */
  op: string;
}

const POOLS = new Set(['MaxPool', 'AveragePool', 'LpPool']);

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

  const level0 = byOutputOrder(modules.get('' as ModulePath)?.children ?? []);
  // A top-level container that holds several resolutions (torchvision's `features`, timm's `stages`) is a
  // sequence of blocks: its children are the candidates. Blocks that downsample inside are not opened.
  const level = level0.flatMap((m) => (m.children.length > 1 && resolutionsInside(m).size > 1 ? byOutputOrder(m.children) : [m]));
  return level
    .filter((m) => cuts.has(m.output as TensorName))
    .map((m) => ({
      module: m.path,
      tensor: m.output as TensorName,
      node: cuts.get(m.output as TensorName) as number,
      leaf: m.children.length === 0,
      op: index.nodes[cuts.get(m.output as TensorName) as number]?.opType ?? '',
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
          return {
            module,
            tensor: c.tensor,
            node: c.node,
            leaf: (tree.modules.get(module)?.nodeCount ?? 1) <= 1,
            op: index.nodes[c.node]?.opType ?? '',
          };
        });

  // Group consecutive candidates by resolution; each group gives one stage: its last block (ResNet's
  // layerN, DenseNet's denseblockN rather than the BatchNorm after it), else its pool (VGG), else its last layer.
  const groups: Candidate[][] = [];
  let lastKey: string | null = null;
  for (const c of candidates) {
    const k = key(c.tensor);
    if (!k) continue;
    if (k === lastKey) groups[groups.length - 1]?.push(c);
    else groups.push([c]);
    lastKey = k;
  }
  const stages = groups.map((g) => g.filter((c) => !c.leaf).at(-1) ?? g.find((c) => POOLS.has(c.op)) ?? (g.at(-1) as Candidate));
  // A stem of single layers (conv1 → relu) is not a stage when blocks or pools follow.
  const significant = (c: Candidate): boolean => !c.leaf || POOLS.has(c.op);
  while (stages.length > 1 && stages[0] && !significant(stages[0]) && stages.some(significant)) stages.shift();
  return stages.map((s) => ({ module: s.module, tensor: s.tensor, shape: shapeOf(s.tensor) }));
}
