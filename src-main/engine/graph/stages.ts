/**
 * Stage detection ("ResNet groups"): the sequence of blocks whose outputs are 4-D feature maps, one per
 * spatial resolution — layer1…layer4 of a ResNet, the feature blocks of MobileNet/EfficientNet where the
 * resolution drops, VGG's blocks between pools. Works on module scopes when present (descending into a
 * module that spans several resolutions, like torchvision's `features`), and on cut tensors otherwise.
 */
import type { Dim, TensorName } from '../../../src-shared/api';
import type { LayerGroup, ModulePath, ModuleView } from '../../../src-shared/graph';
import { cutTensors } from './cut-tensors';
import type { FeatureGrid } from './feature-grid';
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

/** "HxW" of a tensor that holds a grid of image positions, else null. */
function resolutionKey(grid: FeatureGrid | null): string | null {
  return grid ? `${grid.height}x${grid.width}` : null;
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

export function detectStages(
  index: GraphIndex,
  tree: ModuleTree,
  shapeOf: ShapeOf,
  gridOf: (tensor: TensorName) => FeatureGrid | null,
): LayerGroup[] {
  const cutList = cutTensors(index);
  const cuts = new Map(cutList.map((c) => [c.tensor, c.node]));
  const key = (t: TensorName): string | null => resolutionKey(gridOf(t));
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
  if (groups.length <= 1) {
    const blocks = tree.hierarchy === 'scopes' ? repeatedBlocks(tree, cuts, gridOf) : null;
    if (blocks)
      return blocks.map((m) => ({ module: m.path, tensor: m.output as TensorName, shape: shapeOf(m.output as TensorName) }));
    const stream = residualStages(index, groups[0] ?? [], gridOf);
    if (stream) return stream.map((c) => ({ module: c.module, tensor: c.tensor, shape: shapeOf(c.tensor) }));
  }
  return stages.map((s) => ({ module: s.module, tensor: s.tensor, shape: shapeOf(s.tensor) }));
}

/**
 * Whether attention reads `tensor` before the residual stream's next point (`stream`): a MatMul or Einsum
 * both of whose operands depend on it. True at a block's input, false between its attention and its MLP.
 */
function attentionFollows(index: GraphIndex, tensor: TensorName, stream: Set<TensorName>): boolean {
  const reached = new Set<string>([tensor]);
  const queue: TensorName[] = [tensor];
  for (let t = queue.shift(); t !== undefined; t = queue.shift()) {
    for (const c of index.consumers.get(t) ?? []) {
      const node = index.nodes[c];
      if (!node) continue;
      const mixes = node.opType === 'MatMul' || node.opType === 'Einsum';
      if (mixes && node.input.length >= 2 && node.input.every((i) => reached.has(i))) return true;
      for (const out of node.output) {
        if (!out || reached.has(out) || stream.has(out as TensorName)) continue;
        reached.add(out);
        queue.push(out as TensorName);
      }
    }
  }
  return false;
}

/**
 * Stages of a class-token transformer whose export has no module scopes (no blocks to count): the block
 * inputs along the residual stream (the Adds every path passes through, on the token grid, that attention
 * reads next) give the depth; the stages are the outputs of the blocks at ¼, ½ and ¾ of it and the last
 * block's input — after that, only the class token reaches the head.
 */
function residualStages(
  index: GraphIndex,
  group: Candidate[],
  gridOf: (tensor: TensorName) => FeatureGrid | null,
): Candidate[] | null {
  // The grid of the stream's end (its start may still be the patch embedding, without the class token).
  const last = group.at(-1);
  const grid = last ? gridOf(last.tensor) : null;
  if (!grid || grid.prefix === 0) return null;
  const stream = group.filter((c) => c.op === 'Add' && gridOf(c.tensor)?.shape.join() === grid.shape.join());
  const points = new Set(stream.map((c) => c.tensor));
  // inputs[i] is block i's input, so block i's output is inputs[i + 1] (the last block's is not there).
  const inputs = stream.filter((c) => attentionFollows(index, c.tensor, points));
  const n = inputs.length;
  if (n < 4) return null;
  const picks = [Math.round(n / 4), Math.round(n / 2), Math.round((3 * n) / 4), n - 1].map((i) => Math.min(i, n - 1));
  return [...new Set(picks)].map((i) => inputs[i] as Candidate);
}

/**
 * Stages of a model that keeps one resolution throughout (a vision transformer): its longest run of
 * sibling blocks on that grid, taken at a quarter, half and three quarters of the depth and at the input
 * of the last block. Not the last block's output: before a class-token head only that token of it reaches
 * the logits, so its patch tokens get no gradient (pytorch-grad-cam's advice is the same: blocks[-1].norm1).
 */
function repeatedBlocks(
  tree: ModuleTree,
  cuts: Map<TensorName, number>,
  gridOf: (tensor: TensorName) => FeatureGrid | null,
): ModuleView[] | null {
  let best: ModuleView[] = [];
  for (const parent of tree.modules.values()) {
    const blocks = parent.children
      .map((p) => tree.modules.get(p))
      .filter((m): m is ModuleView => !!m && m.children.length > 0 && !!m.output && cuts.has(m.output) && !!gridOf(m.output));
    if (blocks.length > best.length && new Set(blocks.map((m) => resolutionKey(gridOf(m.output as TensorName)))).size === 1)
      best = blocks.sort((a, b) => (cuts.get(a.output as TensorName) as number) - (cuts.get(b.output as TensorName) as number));
  }
  const n = best.length;
  if (n < 4) return null;
  const classToken = (gridOf(best[0]?.output as TensorName)?.prefix ?? 0) > 0;
  const picks = [Math.round(n / 4) - 1, Math.round(n / 2) - 1, Math.round((3 * n) / 4) - 1, classToken ? n - 2 : n - 1];
  return [...new Set(picks)].map((i) => best[i] as ModuleView);
}
