/**
 * Turning a raw map into what is shown: ReLU + min-max scaling (pytorch-grad-cam's convention) or signed
 * scaling by the largest magnitude, bilinear (half-pixel centres, like PyTorch's align_corners=False) or
 * nearest upsampling, and colormaps. Pure functions shared by the renderer and the CLI's PNG export.
 */
import type { RawMap } from './cam';
import type { RgbImage } from './primitives';

export type { RgbImage } from './primitives';

export type Scaling = 'relu' | 'signed';
export type Upsampling = 'bilinear' | 'nearest';

/** relu: max(x, 0) scaled to [0, 1]; signed: x / max|x| in [−1, 1]. All-zero maps stay zero. */
export function scaleMap(data: Float32Array, scaling: Scaling): Float32Array {
  const out = new Float32Array(data.length);
  if (scaling === 'relu') {
    let min = Infinity;
    let max = -Infinity;
    for (const v of data) {
      const r = Math.max(v, 0);
      if (r < min) min = r;
      if (r > max) max = r;
    }
    const range = max - min;
    for (let i = 0; i < data.length; i++) out[i] = range > 0 ? (Math.max(data[i] as number, 0) - min) / range : 0;
    return out;
  }
  let peak = 0;
  for (const v of data) peak = Math.max(peak, Math.abs(v));
  for (let i = 0; i < data.length; i++) out[i] = peak > 0 ? (data[i] as number) / peak : 0;
  return out;
}

/**
 * The raw values at the two ends of the colour scale scaleMap uses: relu → [min, max] of max(x, 0); signed →
 * [−max|x|, max|x|]. What a legend writes under the colorbar.
 */
export function scaleRange(data: Float32Array, scaling: Scaling): { low: number; high: number } {
  if (data.length === 0) return { low: 0, high: 0 };
  let low = Infinity;
  let high = -Infinity;
  let peak = 0;
  for (const v of data) {
    const r = Math.max(v, 0);
    if (r < low) low = r;
    if (r > high) high = r;
    peak = Math.max(peak, Math.abs(v));
  }
  return scaling === 'relu' ? { low, high } : { low: -peak, high: peak };
}

/** Resamples a map to width × height. */
export function resizeMap(map: RawMap, width: number, height: number, mode: Upsampling): Float32Array {
  const out = new Float32Array(width * height);
  const sx = map.width / width;
  const sy = map.height / height;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (mode === 'nearest') {
        const ix = Math.min(map.width - 1, Math.floor(x * sx));
        const iy = Math.min(map.height - 1, Math.floor(y * sy));
        out[y * width + x] = map.data[iy * map.width + ix] as number;
        continue;
      }
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), map.width - 1);
      const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), map.height - 1);
      const x0 = Math.floor(fx);
      const y0 = Math.floor(fy);
      const x1 = Math.min(x0 + 1, map.width - 1);
      const y1 = Math.min(y0 + 1, map.height - 1);
      const ax = fx - x0;
      const ay = fy - y0;
      // Plain indexing, no closure per pixel: this runs for every map the trust checks compare.
      const d = map.data;
      const r0 = y0 * map.width;
      const r1 = y1 * map.width;
      out[y * width + x] =
        (1 - ay) * ((1 - ax) * (d[r0 + x0] as number) + ax * (d[r0 + x1] as number)) +
        ay * ((1 - ax) * (d[r1 + x0] as number) + ax * (d[r1 + x1] as number));
    }
  }
  return out;
}

export type Colormap = 'magma' | 'viridis' | 'turbo' | 'coolwarm';
export const COLORMAPS: readonly Colormap[] = ['magma', 'viridis', 'turbo', 'coolwarm'];

/** Control points of each colormap (evenly spaced), interpolated linearly. */
const STOPS: Record<Colormap, [number, number, number][]> = {
  magma: [
    [0, 0, 4],
    [28, 16, 68],
    [79, 18, 123],
    [129, 37, 129],
    [181, 54, 122],
    [229, 80, 100],
    [251, 135, 97],
    [254, 194, 135],
    [252, 253, 191],
  ],
  viridis: [
    [68, 1, 84],
    [72, 40, 120],
    [62, 74, 137],
    [49, 104, 142],
    [38, 130, 142],
    [31, 158, 137],
    [53, 183, 121],
    [109, 205, 89],
    [180, 222, 44],
    [253, 231, 37],
  ],
  turbo: [
    [48, 18, 59],
    [70, 107, 227],
    [40, 188, 235],
    [50, 241, 152],
    [164, 252, 60],
    [237, 208, 58],
    [251, 128, 34],
    [210, 49, 5],
    [122, 4, 3],
  ],
  // Diverging (for signed maps): blue for negative, white at zero, red for positive.
  coolwarm: [
    [59, 76, 192],
    [124, 159, 249],
    [192, 212, 245],
    [242, 240, 238],
    [246, 183, 156],
    [222, 96, 77],
    [180, 4, 38],
  ],
};

/** Colour for t in [0, 1]. */
export function colorAt(map: Colormap, t: number): [number, number, number] {
  const stops = STOPS[map];
  const x = Math.min(Math.max(t, 0), 1) * (stops.length - 1);
  const i = Math.min(Math.floor(x), stops.length - 2);
  const f = x - i;
  const a = stops[i] as [number, number, number];
  const b = stops[i + 1] as [number, number, number];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

/**
 * RGBA pixels of a scaled map over an RGB image: relu maps in [0, 1] use t directly; signed maps in [−1, 1]
 * use (v + 1) / 2 so zero sits mid-colormap, and are laid on with an opacity that grows with |v| (zero is
 * transparent), so a diverging map does not wash the image out where it says nothing.
 */
export function overlay(
  scaled: Float32Array,
  rgb: Uint8Array | null,
  width: number,
  height: number,
  options: { colormap: Colormap; opacity: number; signed: boolean },
): Uint8ClampedArray {
  const out = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const v = scaled[i] as number;
    const [r, g, b] = colorAt(options.colormap, options.signed ? (v + 1) / 2 : v);
    const alpha = !rgb ? 1 : options.signed ? options.opacity * Math.min(1, Math.abs(v)) : options.opacity;
    const br = rgb ? (rgb[i * 3] as number) : 0;
    const bg = rgb ? (rgb[i * 3 + 1] as number) : 0;
    const bb = rgb ? (rgb[i * 3 + 2] as number) : 0;
    out[i * 4] = br * (1 - alpha) + r * alpha;
    out[i * 4 + 1] = bg * (1 - alpha) + g * alpha;
    out[i * 4 + 2] = bb * (1 - alpha) + b * alpha;
    out[i * 4 + 3] = 255;
  }
  return out;
}

/** Bilinear resampling of an RGB image (half-pixel centres); the same array when the size already matches. */
export function resizeRgb(image: RgbImage, width: number, height: number): Uint8Array {
  if (image.width === width && image.height === height) return image.rgb;
  const out = new Uint8Array(width * height * 3);
  const sx = image.width / width;
  const sy = image.height / height;
  const at = (x: number, y: number, c: number): number => image.rgb[(y * image.width + x) * 3 + c] as number;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), image.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, image.height - 1);
    const ay = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), image.width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, image.width - 1);
      const ax = fx - x0;
      for (let c = 0; c < 3; c++) {
        const top = (1 - ax) * at(x0, y0, c) + ax * at(x1, y0, c);
        const bottom = (1 - ax) * at(x0, y1, c) + ax * at(x1, y1, c);
        out[(y * width + x) * 3 + c] = Math.round((1 - ay) * top + ay * bottom);
      }
    }
  }
  return out;
}

/** Index of the largest value (the "hottest pixel"). */
export function argmax(data: Float32Array): number {
  let best = 0;
  for (let i = 1; i < data.length; i++) if ((data[i] as number) > (data[best] as number)) best = i;
  return best;
}
