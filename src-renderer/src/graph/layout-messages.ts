/**
 * The messages between the graph view and its layout worker (layout.worker.ts), and the data they carry.
 * Both sides import only these types, so a change to the protocol is a compile error on both.
 */

/** One box to place. Groups contain other boxes; leaves have a fixed size. */
export interface LayoutBoxInput {
  id: string;
  /** Enclosing group's id, null at the top level. */
  parent: string | null;
  /** Leaf size; groups are sized by the layout around their contents. */
  width: number;
  height: number;
  group: boolean;
}

export interface LayoutEdgeInput {
  id: string;
  source: string;
  target: string;
}

export interface LayoutInput {
  boxes: LayoutBoxInput[];
  edges: LayoutEdgeInput[];
}

export interface Point {
  x: number;
  y: number;
}

export interface Rect extends Point {
  width: number;
  height: number;
}

/** Absolute positions (top-left origin) of every box and the polyline of every edge. */
export interface LayoutResult {
  width: number;
  height: number;
  boxes: Record<string, Rect>;
  edges: Record<string, Point[]>;
  /** Time ELK took, in milliseconds. */
  elapsedMs: number;
}

export interface LayoutRequest {
  type: 'layout';
  id: number;
  input: LayoutInput;
}

export type LayoutResponse =
  { type: 'layout-done'; id: number; result: LayoutResult } | { type: 'layout-failed'; id: number; message: string };
