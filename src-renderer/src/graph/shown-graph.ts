/**
 * A laid-out visible graph, ready to draw: items with their boxes and final text, edges with their SVG paths,
 * plus the small caches the explorer keeps. Plain data and functions (no runes, no DOM).
 */
import type { ModulePath } from '../../../src-shared/graph';
import type { GraphIndex } from './graph-index';
import { badgeRowWidth, fitText, ITEM, type TextMeasure } from './layout-input';
import type { LayoutResult, Point, Rect } from './layout-messages';
import { boundsOf, roundedPath } from './paths';
import { itemForTarget, type ItemText, type SearchHit, type VisibleGraph, type VisibleItem } from './visible-graph';

export interface ShownItem {
  item: VisibleItem;
  box: Rect;
  text: ItemText;
}

export interface ShownEdge {
  id: string;
  source: string;
  target: string;
  tensors: VisibleGraph['edges'][number]['tensors'];
  path: string;
  bounds: Rect;
  /** The tensor's shape written along the edge, and where. */
  label: { text: string; box: Rect } | null;
}

/** A laid-out visible graph, ready to draw. */
export interface ShownGraph {
  visible: VisibleGraph;
  /** Groups, outermost first (drawn first). */
  groups: ShownItem[];
  /** Everything else. */
  leaves: ShownItem[];
  edges: ShownEdge[];
  byId: Map<string, ShownItem>;
  bounds: Rect;
  elapsedMs: number;
}

/** Room a group header needs besides its text: the toggle on the left, a margin on the right. */
const HEADER_CHROME = 30 + ITEM.padX;

/**
 * A group is as wide as ELK makes it (which, laying out the hierarchy at once, ignores minimum sizes): fit
 * its header's name, then its node count if there is room, into that width.
 */
function fitHeader(text: ItemText, width: number, measure: TextMeasure): ItemText {
  const room = width - HEADER_CHROME;
  const title = fitText(text.title, Math.max(24, room), 'title', measure);
  const rest = room - measure(title, 'title') - 8;
  const subtitle = text.subtitle !== null && measure(text.subtitle, 'subtitle') <= rest ? text.subtitle : null;
  return { title, subtitle, detail: null };
}

/**
 * Where an edge's shape is written: beside the middle of its longest vertical run (the gap between two
 * layers), when that run is tall enough for a line of text; null otherwise.
 */
export function labelPlace(points: readonly Point[]): Point | null {
  let best: { x: number; y0: number; y1: number } | null = null;
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1] as Point;
    const b = points[i] as Point;
    if (Math.abs(a.x - b.x) > 0.5) continue;
    const [y0, y1] = a.y < b.y ? [a.y, b.y] : [b.y, a.y];
    if (!best || y1 - y0 > best.y1 - best.y0) best = { x: a.x, y0, y1 };
  }
  if (!best || best.y1 - best.y0 < ITEM.edgeLabelHeight + 6) return null;
  return { x: best.x + 5, y: (best.y0 + best.y1) / 2 - ITEM.edgeLabelHeight / 2 };
}

export function assemble(
  visible: VisibleGraph,
  texts: Map<string, ItemText>,
  layout: LayoutResult,
  measure: TextMeasure,
  edgeLabels: ReadonlyMap<string, string> = new Map(),
): ShownGraph {
  const byId = new Map<string, ShownItem>();
  const groups: ShownItem[] = [];
  const leaves: ShownItem[] = [];
  for (const item of visible.items) {
    const box = layout.boxes[item.id];
    if (!box) continue;
    const text = texts.get(item.id) ?? { title: item.id, subtitle: null, detail: null };
    const header = box.width - badgeRowWidth(item.stages.length); // the stage badges share the header
    const shown: ShownItem = { item, box, text: item.kind === 'group' ? fitHeader(text, header, measure) : text };
    byId.set(item.id, shown);
    (item.kind === 'group' ? groups : leaves).push(shown);
  }
  groups.sort((a, b) => a.item.depth - b.item.depth);
  const edges: ShownEdge[] = [];
  for (const e of visible.edges) {
    const points = layout.edges[e.id];
    if (!points) continue;
    const text = edgeLabels.get(e.id);
    const at = text ? labelPlace(points) : null;
    edges.push({
      ...e,
      path: roundedPath(points),
      bounds: boundsOf(points),
      label: text && at ? { text, box: { x: at.x, y: at.y, width: measure(text, 'mono'), height: ITEM.edgeLabelHeight } } : null,
    });
  }
  return {
    visible,
    groups,
    leaves,
    edges,
    byId,
    bounds: { x: 0, y: 0, width: layout.width, height: layout.height },
    elapsedMs: layout.elapsedMs,
  };
}

/** Ids of the visible items showing a search hit (a collapsed box lights up for what it hides). */
export function hitItemIds(index: GraphIndex, shown: ShownGraph | null, hits: readonly SearchHit[]): Set<string> {
  const ids = new Set<string>();
  if (!shown) return ids;
  for (const hit of hits) {
    const id = itemForTarget(index, shown.visible, hit.target);
    if (id) ids.add(id);
  }
  return ids;
}

/** `expanded` with `path` opened or closed (a new set: the explorer replaces, never mutates). */
export function withModule(expanded: ReadonlySet<ModulePath>, path: ModulePath, open: boolean): ReadonlySet<ModulePath> {
  const next = new Set(expanded);
  if (open) next.add(path);
  else next.delete(path);
  return next;
}

export const NO_MODULES: ReadonlySet<ModulePath> = new Set();

/** A small least-recently-stored cache (layouts of recently visible structures). */
export class LayoutCache<V> {
  private readonly entries = new Map<string, V>();
  constructor(private readonly capacity: number) {}
  get(key: string): V | undefined {
    return this.entries.get(key);
  }
  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
  }
}
