/**
 * Conversion between the layout messages and ELK's JSON graph, plus the ELK options. Runs inside the layout
 * worker (and in unit tests); pure, no DOM.
 */
import type { ElkExtendedEdge, ElkNode, LayoutOptions } from 'elkjs/lib/elk-api';
import type { LayoutInput, LayoutResult, Point, Rect } from './layout-messages';

const ROOT_ID = '__root__';

/** Layered, top to bottom; thoroughness 1 and Brandes–Köpf placement keep 1,000 nodes near one second. */
export const LAYOUT_OPTIONS: LayoutOptions = {
  'elk.algorithm': 'layered',
  'elk.direction': 'DOWN',
  'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
  'elk.layered.thoroughness': '1',
  'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
  'elk.layered.nodePlacement.bk.fixedAlignment': 'BALANCED',
  'elk.edgeRouting': 'ORTHOGONAL',
  'elk.spacing.nodeNode': '22',
  'elk.layered.spacing.nodeNodeBetweenLayers': '26',
  'elk.spacing.edgeNode': '12',
  'elk.spacing.edgeEdge': '8',
  'elk.layered.spacing.edgeNodeBetweenLayers': '12',
  'elk.padding': '[top=16,left=16,bottom=16,right=16]',
  // Every coordinate relative to the root: no per-container offsets to add up afterwards.
  'elk.json.shapeCoords': 'ROOT',
  'elk.json.edgeCoords': 'ROOT',
};

/** Room for a group's header (its name and toggle) above its contents. */
export const GROUP_HEADER = 28;
const GROUP_PADDING = `[top=${GROUP_HEADER + 8},left=12,bottom=12,right=12]`;

export function toElkGraph(input: LayoutInput): ElkNode {
  const root: ElkNode = { id: ROOT_ID, children: [], edges: [] };
  const nodes = new Map<string, ElkNode>();
  for (const box of input.boxes) {
    nodes.set(
      box.id,
      box.group
        ? {
            id: box.id,
            children: [],
            layoutOptions: {
              'elk.padding': GROUP_PADDING,
              // Wide enough for the group's header even when its contents are narrow.
              'elk.nodeSize.constraints': 'MINIMUM_SIZE',
              'elk.nodeSize.minimum': `(${box.width}, ${box.height})`,
            },
          }
        : { id: box.id, width: box.width, height: box.height },
    );
  }
  for (const box of input.boxes) {
    const node = nodes.get(box.id) as ElkNode;
    const parent = box.parent === null ? root : (nodes.get(box.parent) ?? root);
    (parent.children ??= []).push(node);
  }
  // An empty group would be laid out as a 0×0 box: give it the size it asked for.
  for (const box of input.boxes) {
    const node = nodes.get(box.id) as ElkNode;
    if (box.group && (node.children?.length ?? 0) === 0) {
      delete node.children;
      node.width = box.width;
      node.height = box.height;
    }
  }
  // With INCLUDE_CHILDREN, edges may all live on the root; ELK routes them across group borders.
  root.edges = input.edges
    .filter((e) => nodes.has(e.source) && nodes.has(e.target))
    .map((e): ElkExtendedEdge => ({ id: e.id, sources: [e.source], targets: [e.target] }));
  return root;
}

function collectBoxes(node: ElkNode, into: Record<string, Rect>): void {
  for (const child of node.children ?? []) {
    into[child.id] = { x: child.x ?? 0, y: child.y ?? 0, width: child.width ?? 0, height: child.height ?? 0 };
    collectBoxes(child, into);
  }
}

function collectEdges(node: ElkNode, into: Record<string, Point[]>): void {
  for (const edge of node.edges ?? []) {
    const points: Point[] = [];
    for (const s of (edge as ElkExtendedEdge).sections ?? []) {
      points.push({ x: s.startPoint.x, y: s.startPoint.y });
      for (const b of s.bendPoints ?? []) points.push({ x: b.x, y: b.y });
      points.push({ x: s.endPoint.x, y: s.endPoint.y });
    }
    if (points.length >= 2) into[edge.id] = points;
  }
  for (const child of node.children ?? []) collectEdges(child, into);
}

export function fromElkGraph(laidOut: ElkNode, elapsedMs: number): LayoutResult {
  const boxes: Record<string, Rect> = {};
  const edges: Record<string, Point[]> = {};
  collectBoxes(laidOut, boxes);
  collectEdges(laidOut, edges);
  return { width: laidOut.width ?? 0, height: laidOut.height ?? 0, boxes, edges, elapsedMs };
}
