/**
 * Scales, ticks and colours for the statistics plots. Pure (no DOM) so they are unit-tested and shared by the
 * 2D canvases and the 3D view.
 */
import { colorAt, type Colormap } from '../../../src-shared/heatmap';

export interface Scale {
  (v: number): number;
  invert(px: number): number;
}

/** A linear map from [d0, d1] to [r0, r1]; a flat domain maps to the middle of the range. */
export function linearScale([d0, d1]: [number, number], [r0, r1]: [number, number]): Scale {
  const span = d1 - d0;
  const scale = ((v: number) => (span === 0 ? (r0 + r1) / 2 : r0 + ((v - d0) / span) * (r1 - r0))) as Scale;
  scale.invert = (px: number) => (r1 === r0 ? d0 : d0 + ((px - r0) / (r1 - r0)) * span);
  return scale;
}

/** [min, max] of the finite values (0, 1 when there are none); a flat extent is widened a little. */
export function extent(values: Iterable<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo > hi) return [0, 1];
  if (lo === hi) return [lo - 0.5, hi + 0.5];
  return [lo, hi];
}

/** The index (0…count−1) nearest to pixel `px` on an index axis drawn by `scale`. */
export function nearestIndex(scale: Scale, px: number, count: number): number {
  return Math.min(count - 1, Math.max(0, Math.round(scale.invert(px))));
}

/** [lo, hi) of histogram bin `bin` over `range`. */
export function binRange(range: [number, number], bins: number, bin: number): [number, number] {
  const w = (range[1] - range[0]) / bins;
  return [range[0] + bin * w, range[0] + (bin + 1) * w];
}

/** log1p of every count, and the largest of them (for normalising colours and heights). */
export function logCounts(counts: ArrayLike<number>): { values: Float32Array; max: number } {
  const values = new Float32Array(counts.length);
  let max = 0;
  for (let i = 0; i < counts.length; i++) {
    const v = Math.log1p(Math.max(0, counts[i] as number));
    values[i] = v;
    if (v > max) max = v;
  }
  return { values, max };
}

/**
 * RGBA pixels of fastai's colorful dimension: one column per image, one row per bin with bin 0 at the bottom,
 * colour = log1p(count) / max through `colormap`. `hists` is images × bins, row-major.
 */
export function colorDimPixels(
  hists: ArrayLike<number>,
  images: number,
  bins: number,
  colormap: Colormap,
): Uint8ClampedArray<ArrayBuffer> {
  const { values, max } = logCounts(hists);
  const out = new Uint8ClampedArray(images * bins * 4);
  for (let img = 0; img < images; img++) {
    for (let bin = 0; bin < bins; bin++) {
      const t = max > 0 ? (values[img * bins + bin] as number) / max : 0;
      const [r, g, b] = colorAt(colormap, t);
      const o = ((bins - 1 - bin) * images + img) * 4;
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = b;
      out[o + 3] = 255;
    }
  }
  return out;
}

/** Whether a layer looks saturated: most of its activations are near zero. */
export const SATURATION_THRESHOLD = 0.9;
export function isSaturated(nearZero: number): boolean {
  return nearZero > SATURATION_THRESHOLD;
}
