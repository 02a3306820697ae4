/**
 * Pixels of one heatmap pane: the model's view of the image with a map on top, at the pane's size. Pure
 * (no DOM) so it can be tested and reused for PNG export.
 */
import type { RawMap } from '../../../src-shared/cam';
import {
  argmax,
  overlay,
  resizeMap,
  resizeRgb,
  scaleMap,
  type Colormap,
  type RgbImage,
  type Scaling,
  type Upsampling,
} from '../../../src-shared/heatmap';

export interface PaneOptions {
  colormap: Colormap;
  opacity: number;
  scaling: Scaling;
  upsampling: Upsampling;
}

export interface RenderedPane {
  pixels: Uint8ClampedArray;
  /** The scaled map at pane resolution (for hover read-outs). */
  scaled: Float32Array;
  /** Hottest pixel in pane coordinates. */
  hot: { x: number; y: number };
}

/** The map over `base` (the model's view at any size: it is resampled to the pane), width × height. */
export function renderPane(map: RawMap, base: RgbImage | null, width: number, height: number, o: PaneOptions): RenderedPane {
  const resized = resizeMap(map, width, height, o.upsampling);
  const scaled = scaleMap(resized, o.scaling);
  const pixels = overlay(scaled, base ? resizeRgb(base, width, height) : null, width, height, {
    colormap: o.colormap,
    opacity: o.opacity,
    signed: o.scaling === 'signed',
  });
  const best = argmax(resized);
  return { pixels, scaled, hot: { x: best % width, y: Math.floor(best / width) } };
}

/** RGB bytes from RGBA canvas data. */
export function rgbFromRgba(rgba: Uint8ClampedArray): Uint8Array {
  const out = new Uint8Array((rgba.length / 4) * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    out[j] = rgba[i] as number;
    out[j + 1] = rgba[i + 1] as number;
    out[j + 2] = rgba[i + 2] as number;
  }
  return out;
}
