/** Pan/zoom arithmetic for the graph canvas: screen = graph × k + (x, y). Pure. */
import type { Point, Rect } from './layout-messages';

export interface View {
  x: number;
  y: number;
  k: number;
}

export interface Size {
  width: number;
  height: number;
}

export const MIN_ZOOM = 0.02;
/** The smallest zoom at which the graph's 11–12 px text reads (~7 px on screen). */
export const LEGIBLE_ZOOM = 0.6;
export const MAX_ZOOM = 3;

const clampK = (k: number): number => Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, k));

/** The whole of `bounds` in the viewport, centred, never magnified past `maxK`. */
export function fitView(bounds: Rect, viewport: Size, margin = 24, maxK = 1.25): View {
  const w = Math.max(1, viewport.width - 2 * margin);
  const h = Math.max(1, viewport.height - 2 * margin);
  const k = clampK(Math.min(maxK, w / Math.max(1, bounds.width), h / Math.max(1, bounds.height)));
  return {
    k,
    x: (viewport.width - bounds.width * k) / 2 - bounds.x * k,
    y: (viewport.height - bounds.height * k) / 2 - bounds.y * k,
  };
}

/**
 * The first view of a graph: fitted when that keeps text readable; otherwise (a long chain) as wide as
 * the viewport allows at a readable zoom, from the top.
 */
export function initialView(bounds: Rect, viewport: Size, readable = LEGIBLE_ZOOM, margin = 24): View {
  const fit = fitView(bounds, viewport, margin, 1);
  if (fit.k >= readable) return fit;
  const k = clampK(Math.max(readable, Math.min(1, (viewport.width - 2 * margin) / Math.max(1, bounds.width))));
  return { k, x: (viewport.width - bounds.width * k) / 2 - bounds.x * k, y: margin - bounds.y * k };
}

/** Zoom by `factor` keeping the graph point under screen point `at` where it is. */
export function zoomAt(view: View, factor: number, at: Point): View {
  const k = clampK(view.k * factor);
  const f = k / view.k;
  return { k, x: at.x - (at.x - view.x) * f, y: at.y - (at.y - view.y) * f };
}

/** `box` centred in the viewport, at zoom `k` (the current one by default). */
export function centerOn(view: View, box: Rect, viewport: Size, k = view.k): View {
  const kk = clampK(k);
  return {
    k: kk,
    x: viewport.width / 2 - (box.x + box.width / 2) * kk,
    y: viewport.height / 2 - (box.y + box.height / 2) * kk,
  };
}

/** The graph-space rectangle the viewport shows. */
export function visibleRect(view: View, viewport: Size): Rect {
  return { x: -view.x / view.k, y: -view.y / view.k, width: viewport.width / view.k, height: viewport.height / view.k };
}

export function intersects(a: Rect, b: Rect): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

export function toGraph(view: View, screen: Point): Point {
  return { x: (screen.x - view.x) / view.k, y: (screen.y - view.y) / view.k };
}
