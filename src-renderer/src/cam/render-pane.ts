/**
 * Pixels of one heatmap pane: the model's view of the image with a map on top, at the pane's size. Pure
 * (no DOM) so it can be tested and reused for PNG export.
 */
import type { RawMap } from '../../../src-shared/cam';
import {
  heatmapPixels,
  resizeRgb,
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
  /** RGBA, ready for an ImageData (not copied again). */
  pixels: Uint8ClampedArray<ArrayBuffer>;
  /** Hottest pixel in pane coordinates. */
  hot: { x: number; y: number };
}

/** The base image resampled to a pane's size, per base: every pane of a grid shares one size and one base. */
const resampledBases = new WeakMap<RgbImage, { width: number; height: number; rgb: Uint8Array }>();

function resampledBase(base: RgbImage, width: number, height: number): Uint8Array {
  const known = resampledBases.get(base);
  if (known && known.width === width && known.height === height) return known.rgb;
  const rgb = resizeRgb(base, width, height);
  resampledBases.set(base, { width, height, rgb });
  return rgb;
}

/**
 * The last pixels drawn of each map, with what they were drawn for: a map shown again (an answer the grid
 * kept by its run key) at the same size and settings is not computed again. Lives as long as its map.
 */
const drawn = new WeakMap<RawMap, { base: RgbImage | null; width: number; height: number; o: PaneOptions; pane: RenderedPane }>();

/** The map over `base` (the model's view at any size: it is resampled to the pane), width × height. */
export function renderPane(map: RawMap, base: RgbImage | null, width: number, height: number, o: PaneOptions): RenderedPane {
  const last = drawn.get(map);
  if (
    last &&
    last.base === base &&
    last.width === width &&
    last.height === height &&
    last.o.colormap === o.colormap &&
    last.o.opacity === o.opacity &&
    last.o.scaling === o.scaling &&
    last.o.upsampling === o.upsampling
  )
    return last.pane;
  const pane = heatmapPixels(map, base ? resampledBase(base, width, height) : null, width, height, o);
  drawn.set(map, { base, width, height, o: { ...o }, pane });
  return pane;
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
