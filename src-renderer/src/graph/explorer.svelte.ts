/**
 * The graph view's own state for one GraphView: which modules are open, the layout of what is visible, the
 * pan/zoom, the search. Lives as long as the graph (switching tabs keeps it); the selection lives in Studio.
 */
import type { GraphView, ModulePath } from '../../../src-shared/graph';
import { buildGraphIndex, type GraphIndex } from './graph-index';
import { layoutClient } from './layout-client';
import { prepareLayout, type TextMeasure } from './layout-input';
import type { LayoutResult, Point } from './layout-messages';
import { assemble, hitItemIds, LayoutCache, NO_MODULES, withModule, type ShownGraph } from './shown-graph';
import { centerOn, initialView, LEGIBLE_ZOOM, zoomAt, type Size, type View } from './viewport';
import {
  buildVisibleGraph,
  defaultExpanded,
  allExpanded,
  itemForTarget,
  moduleItemId,
  revealTarget,
  searchGraph,
  type ItemText,
  type LayerTarget,
  type SearchHit,
  type VisibleGraph,
} from './visible-graph';

export type { ShownEdge, ShownGraph, ShownItem } from './shown-graph';

const LAYOUT_CACHE_SIZE = 12;

export class GraphExplorer {
  readonly index: GraphIndex;
  /** Open modules (the root is always open). Replaced, never mutated, so dependants update. */
  expanded = $state.raw<ReadonlySet<ModulePath>>(NO_MODULES);
  readonly visible: VisibleGraph = $derived.by(() => buildVisibleGraph(this.index, this.expanded));
  /** What is drawn: the latest finished layout (the previous one stays while a new one is computed). */
  shown = $state.raw<ShownGraph | null>(null);
  layingOut = $state(false);
  layoutError = $state<string | null>(null);
  view = $state.raw<View>({ x: 0, y: 0, k: 1 });
  viewport = $state.raw<Size>({ width: 0, height: 0 });
  query = $state('');
  readonly hits: SearchHit[] = $derived.by(() => searchGraph(this.index, this.query));
  hitCursor = $state(-1);

  private readonly cache = new LayoutCache<{
    layout: LayoutResult;
    texts: Map<string, ItemText>;
    edgeLabels: Map<string, string>;
  }>(LAYOUT_CACHE_SIZE);
  private requested = 0;
  private placed = false;
  /** What to do with the view once the next layout is in. */
  private afterLayout: { kind: 'focus'; target: LayerTarget } | { kind: 'anchor'; id: string; screen: Point } | null = null;

  constructor(graph: GraphView) {
    this.index = buildGraphIndex(graph);
    this.expanded = defaultExpanded(this.index);
  }

  isExpanded(path: ModulePath): boolean {
    return this.expanded.has(path);
  }

  /** Opens or closes a module, keeping it where it is on screen. */
  toggle(path: ModulePath, open = !this.expanded.has(path)): void {
    if (open === this.expanded.has(path) || this.index.isTransparent(path)) return;
    const box = this.shown?.byId.get(moduleItemId(path))?.box;
    if (box) this.afterLayout = { kind: 'anchor', id: moduleItemId(path), screen: this.toScreen(box) };
    this.expanded = withModule(this.expanded, path, open);
  }

  collapseAll(): void {
    this.expanded = NO_MODULES;
  }

  expandAll(): void {
    this.expanded = allExpanded(this.index);
  }

  private toScreen(p: Point): Point {
    return { x: p.x * this.view.k + this.view.x, y: p.y * this.view.k + this.view.y };
  }

  /**
   * Lays out the visible graph (in the worker, or from the cache) and shows it. Called by the canvas whenever
   * `visible` changes; an older request finishing late is dropped.
   */
  async layout(visible: VisibleGraph, measure: TextMeasure): Promise<void> {
    const ticket = ++this.requested;
    let entry = this.cache.get(visible.key);
    if (!entry) {
      this.layingOut = true;
      try {
        const prepared = prepareLayout(this.index, visible, measure);
        const layout = await layoutClient().layout(prepared.input);
        entry = { layout, texts: prepared.texts, edgeLabels: prepared.edgeLabels };
        this.cache.set(visible.key, entry);
      } catch (error) {
        if (ticket === this.requested) {
          this.layoutError = error instanceof Error ? error.message : String(error);
          this.layingOut = false;
        }
        return;
      }
    }
    if (ticket !== this.requested) return;
    this.layingOut = false;
    this.layoutError = null;
    this.shown = assemble(visible, entry.texts, entry.layout, measure, entry.edgeLabels);
    this.placeView();
  }

  private placeView(): void {
    const shown = this.shown;
    if (!shown || this.viewport.width === 0) return;
    const pending = this.afterLayout;
    this.afterLayout = null;
    if (!this.placed) {
      this.placed = true;
      this.view = initialView(shown.bounds, this.viewport);
    }
    if (pending?.kind === 'anchor') {
      const box = shown.byId.get(pending.id)?.box;
      if (box)
        this.view = { k: this.view.k, x: pending.screen.x - box.x * this.view.k, y: pending.screen.y - box.y * this.view.k };
    } else if (pending?.kind === 'focus') {
      const id = itemForTarget(this.index, shown.visible, pending.target);
      const box = id ? shown.byId.get(id)?.box : undefined;
      if (box) this.view = centerOn(this.view, box, this.viewport, Math.max(this.view.k, 0.8));
    }
  }

  setViewport(size: Size): void {
    this.viewport = size;
    if (!this.placed) this.placeView();
  }

  /** The whole graph when its text stays legible so; else as much as fits at a legible zoom, from the top. */
  fit(): void {
    if (this.shown) this.view = initialView(this.shown.bounds, this.viewport, LEGIBLE_ZOOM);
  }

  zoom(factor: number, at: Point = { x: this.viewport.width / 2, y: this.viewport.height / 2 }): void {
    this.view = zoomAt(this.view, factor, at);
  }

  panBy(dx: number, dy: number): void {
    this.view = { ...this.view, x: this.view.x + dx, y: this.view.y + dy };
  }

  /** Centres the view on a graph point (the minimap's navigation). */
  centerAt(p: Point): void {
    this.view = centerOn(this.view, { x: p.x, y: p.y, width: 0, height: 0 }, this.viewport);
  }

  /** Opens whatever hides the target, then centres on it once it is laid out. */
  reveal(target: LayerTarget): void {
    const next = revealTarget(this.index, this.expanded, target);
    this.afterLayout = { kind: 'focus', target };
    if (next.size !== this.expanded.size) this.expanded = next;
    else this.placeView();
  }

  /** Moves through the search hits (wrapping) and returns the current one. */
  nextHit(step = 1): SearchHit | null {
    const n = this.hits.length;
    if (n === 0) return null;
    this.hitCursor = (((this.hitCursor + step) % n) + n) % n;
    return this.hits[this.hitCursor] ?? null;
  }

  /** Ids of the visible items showing a search hit (a collapsed box lights up for what it hides). */
  hitItems(): Set<string> {
    return hitItemIds(this.index, this.shown, this.hits);
  }
}
