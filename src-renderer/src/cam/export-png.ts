/**
 * PNG exports of the CAM grid: a picture handed to someone else must say what it shows, so every export
 * carries a title strip (model, image, class explained; layer and method for a pane).
 */

const STRIP_LINE = 18;
const FONT = '13px sans-serif';
const BACKGROUND = '#111317';
const TEXT = '#e6e8eb';
const MUTED = '#9aa3ad';

/** `source` below a strip of text lines (the first one bright, the rest muted), as a new canvas. */
export function withTitleStrip(source: HTMLCanvasElement, lines: string[]): HTMLCanvasElement {
  const pad = 8;
  const strip = pad * 2 + lines.length * STRIP_LINE;
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(source.width, 320);
  canvas.height = strip + source.height;
  const ctx = canvas.getContext('2d');
  if (!ctx) return source;
  ctx.fillStyle = BACKGROUND;
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  drawLines(ctx, lines, pad, pad, canvas.width - 2 * pad);
  ctx.drawImage(source, 0, strip);
  return canvas;
}

/** Writes lines top-down from (x, y), each cut to `maxWidth` with an ellipsis. */
export function drawLines(ctx: CanvasRenderingContext2D, lines: string[], x: number, y: number, maxWidth: number): void {
  ctx.font = FONT;
  ctx.textBaseline = 'top';
  lines.forEach((line, i) => {
    ctx.fillStyle = i === 0 ? TEXT : MUTED;
    ctx.fillText(fit(ctx, line, maxWidth), x, y + i * STRIP_LINE);
  });
}

function fit(ctx: CanvasRenderingContext2D, text: string, maxWidth: number): string {
  if (ctx.measureText(text).width <= maxWidth) return text;
  let cut = text;
  while (cut.length > 1 && ctx.measureText(`${cut}…`).width > maxWidth) cut = cut.slice(0, -1);
  return `${cut}…`;
}

export function download(canvas: HTMLCanvasElement, name: string): void {
  canvas.toBlob((blob) => {
    if (!blob) return;
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = name.replace(/[^\w.+-]+/g, '_');
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }, 'image/png');
}

export const TITLE_LINE_HEIGHT = STRIP_LINE;
export const EXPORT_BACKGROUND = BACKGROUND;
