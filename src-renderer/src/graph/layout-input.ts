/**
 * Sizes every visible item from the text it shows, and turns the visible graph into the worker's
 * LayoutInput. Pure: the text measurer is passed in (a canvas in the app, an estimate in tests).
 */
import type { GraphIndex } from './graph-index';
import type { LayoutInput } from './layout-messages';
import { formatDims } from './format-dims';
import { itemText, type ItemText, type VisibleEdge, type VisibleGraph, type VisibleItem } from './visible-graph';

export type TextStyle = 'title' | 'subtitle' | 'mono';
export type TextMeasure = (text: string, style: TextStyle) => number;

/** The fonts the canvas draws with (GraphCanvas.svelte uses the same sizes). */
export const FONTS: Record<TextStyle, string> = {
  title: "600 12px system-ui, -apple-system, 'Segoe UI', sans-serif",
  subtitle: "11px system-ui, -apple-system, 'Segoe UI', sans-serif",
  mono: "11px ui-monospace, 'SFMono-Regular', Menlo, monospace",
};

/** Rough widths for tests and for environments without a canvas. */
export const estimateText: TextMeasure = (text, style) => text.length * (style === 'title' ? 7 : style === 'mono' ? 6.7 : 6);

export const ITEM = {
  padX: 12,
  minWidth: 88,
  maxWidth: 260,
  nodeHeight: 30,
  nodeHeightTwoLines: 42,
  moduleHeight: 60,
  ioHeight: 42,
  /** Room on a collapsed module for its expand toggle. */
  toggle: 18,
  groupMinHeight: 40,
  /** A stage badge (GraphCanvas draws them inside the box of what they mark). */
  badgeWidth: 58,
  badgeHeight: 17,
  badgeGap: 4,
  /** Height of an edge's shape label. */
  edgeLabelHeight: 13,
} as const;

/** The shape written along an edge: its tensor's, or how many tensors a collapsed box's edge carries. */
export function edgeLabel(index: GraphIndex, edge: VisibleEdge): string | null {
  if (edge.tensors.length > 1) return `${edge.tensors.length} tensors`;
  const shape = index.shapeOf(edge.tensors[0] ?? null);
  return shape ? formatDims(shape) : null;
}

/** Width of a row of `n` stage badges, with a margin on each side. */
export function badgeRowWidth(n: number): number {
  return n === 0 ? 0 : n * (ITEM.badgeWidth + ITEM.badgeGap) + ITEM.badgeGap + 4;
}

export interface PreparedLayout {
  input: LayoutInput;
  /** Display text per item id, already shortened to fit. */
  texts: Map<string, ItemText>;
  /** The shape written along each edge that has one, by edge id. */
  edgeLabels: Map<string, string>;
}

/** Shortens `text` with an ellipsis until it fits in `max` pixels. */
export function fitText(text: string, max: number, style: TextStyle, measure: TextMeasure): string {
  if (measure(text, style) <= max) return text;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (measure(`${text.slice(0, mid)}…`, style) <= max) lo = mid;
    else hi = mid - 1;
  }
  return `${text.slice(0, lo)}…`;
}

function sizeOf(item: VisibleItem, text: ItemText, measure: TextMeasure): { width: number; height: number; text: ItemText } {
  const inner = ITEM.maxWidth - 2 * ITEM.padX - (item.kind === 'module' ? ITEM.toggle : 0);
  const fitted: ItemText = {
    title: fitText(
      text.title,
      item.kind === 'group' ? 420 : inner,
      item.kind === 'input' || item.kind === 'output' ? 'mono' : 'title',
      measure,
    ),
    subtitle: text.subtitle === null ? null : fitText(text.subtitle, item.kind === 'group' ? 200 : inner, 'subtitle', measure),
    detail: text.detail === null ? null : fitText(text.detail, inner, 'mono', measure),
  };
  const widths = [
    measure(fitted.title, item.kind === 'input' || item.kind === 'output' ? 'mono' : 'title'),
    fitted.subtitle === null ? 0 : measure(fitted.subtitle, 'subtitle'),
    fitted.detail === null ? 0 : measure(fitted.detail, 'mono'),
  ];
  // Stage badges sit inside the box: in a group's header, on their own row at the bottom of anything else.
  const badges = badgeRowWidth(item.stages.length);
  if (item.kind === 'group') {
    // The header: toggle, path and count on one line, then the badges.
    const header = ITEM.toggle + widths[0]! + 10 + widths[1]! + 2 * ITEM.padX + badges;
    return { width: Math.ceil(header), height: ITEM.groupMinHeight, text: fitted };
  }
  const extra = item.kind === 'module' ? ITEM.toggle : 0;
  const width = Math.max(
    badges,
    Math.min(ITEM.maxWidth, Math.max(ITEM.minWidth, Math.ceil(Math.max(...widths) + 2 * ITEM.padX + extra))),
  );
  const badgeRow = item.stages.length > 0 ? ITEM.badgeHeight + 6 : 0;
  const body =
    item.kind === 'module'
      ? ITEM.moduleHeight
      : item.kind === 'node'
        ? fitted.subtitle
          ? ITEM.nodeHeightTwoLines
          : ITEM.nodeHeight
        : ITEM.ioHeight;
  return { width, height: body + badgeRow, text: fitted };
}

export function prepareLayout(index: GraphIndex, visible: VisibleGraph, measure: TextMeasure): PreparedLayout {
  const texts = new Map<string, ItemText>();
  const boxes = visible.items.map((item) => {
    const { width, height, text } = sizeOf(item, itemText(index, visible, item), measure);
    texts.set(item.id, text);
    return { id: item.id, parent: item.parent, width, height, group: item.kind === 'group' };
  });
  const edgeLabels = new Map<string, string>();
  const edges = visible.edges.map((e) => {
    const text = edgeLabel(index, e);
    if (text) edgeLabels.set(e.id, text);
    return { id: e.id, source: e.source, target: e.target };
  });
  return { input: { boxes, edges }, texts, edgeLabels };
}
