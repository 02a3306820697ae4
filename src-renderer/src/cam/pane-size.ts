/** How large heatmap panes are drawn: they grow with the room the window gives them. */

/** The layer label column and the gaps of a grid row (CamGrid's CSS). */
const ROW_CHROME = 140 + 2 * 16;
export const MIN_PANE = 224;
export const MAX_PANE = 640;

/** Side of each of a row's two panes in a grid `width` pixels wide. */
export function paneSizeFor(width: number): number {
  const fitted = Math.floor((width - ROW_CHROME) / 2);
  return Math.min(MAX_PANE, Math.max(MIN_PANE, fitted));
}

/** Side of the enlarged pane: as large as the window allows around the dialog's title and controls. */
export function enlargedSize(windowWidth: number, windowHeight: number): number {
  return Math.max(MIN_PANE, Math.min(windowWidth - 96, windowHeight - 200, 1024));
}
