/**
 * Raw pixels of what the report shows, computed with the studio's own display rules (src-shared/heatmap):
 * a heatmap pane is the map upsampled to the pane, ReLU + min-max (or signed) scaled, coloured and laid over
 * the model's view of the image. Pure, so the report looks exactly like the app and can be tested.
 */
import type { RawMap } from '../../src-shared/cam';
import { colorAt, heatmapPixels, type Colormap } from '../../src-shared/heatmap';
import type { HeatmapDisplay } from './report-data';

/** RGBA pixels of one pane, width × height; `rgb` is the model view at that size (null: map alone). */
export function panePixels(
  map: RawMap,
  rgb: Uint8Array | null,
  width: number,
  height: number,
  display: HeatmapDisplay,
): Uint8ClampedArray {
  return heatmapPixels(map, rgb, width, height, display).pixels;
}

/**
 * fastai's colorful dimension as the studio draws it (plot-math's colorDimPixels): one column per image, one
 * row per bin with bin 0 at the bottom, colour = log1p(count) / max log1p(count). RGB, images × bins.
 */
export function colorDimPixels(hists: ArrayLike<number>, images: number, bins: number, colormap: Colormap): Uint8ClampedArray {
  let max = 0;
  const logs = new Float32Array(images * bins);
  for (let i = 0; i < logs.length; i++) {
    const v = Math.log1p(Math.max(0, (hists[i] as number) ?? 0));
    logs[i] = v;
    if (v > max) max = v;
  }
  // Clamped (rounding) like the canvas ImageData the studio fills.
  const out = new Uint8ClampedArray(images * bins * 3);
  for (let img = 0; img < images; img++) {
    for (let bin = 0; bin < bins; bin++) {
      const [r, g, b] = colorAt(colormap, max > 0 ? (logs[img * bins + bin] as number) / max : 0);
      const o = ((bins - 1 - bin) * images + img) * 3;
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = b;
    }
  }
  return out;
}

/** Pixel size of a pane: the model view's aspect ratio with its longer side at `longSide`. */
export function paneSize(width: number, height: number, longSide: number): { width: number; height: number } {
  if (width <= 0 || height <= 0) return { width: longSide, height: longSide };
  const s = longSide / Math.max(width, height);
  return { width: Math.max(1, Math.round(width * s)), height: Math.max(1, Math.round(height * s)) };
}
