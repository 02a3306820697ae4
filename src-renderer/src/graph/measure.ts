/** Text measurement with a canvas, in the fonts the graph draws with; falls back to an estimate. */
import { estimateText, FONTS, type TextMeasure, type TextStyle } from './layout-input';

export function canvasMeasure(): TextMeasure {
  const context = document.createElement('canvas').getContext('2d');
  if (!context) return estimateText;
  const cache = new Map<string, number>();
  return (text: string, style: TextStyle) => {
    const key = `${style}\u0000${text}`;
    let width = cache.get(key);
    if (width === undefined) {
      context.font = FONTS[style];
      width = context.measureText(text).width;
      cache.set(key, width);
    }
    return width;
  };
}
