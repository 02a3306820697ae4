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

/** What a scaling needs of the whole map: relu → the min and range of max(x, 0); signed → max|x|. */
interface ScaleParams {
  relu: boolean;
  min: number;
  range: number;
}

function scaleParams(data: Float32Array, scaling: Scaling): ScaleParams {
  // Indexed loops: a pane is hundreds of thousands of values, and for…of over a typed array is slower.
  if (scaling === 'relu') {
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < data.length; i++) {
      const r = Math.max(data[i] as number, 0);
      if (r < min) min = r;
      if (r > max) max = r;
    }
    return { relu: true, min, range: max - min };
  }
  let peak = 0;
  for (let i = 0; i < data.length; i++) peak = Math.max(peak, Math.abs(data[i] as number));
  return { relu: false, min: 0, range: peak };
}

/**
 * relu: max(x, 0) scaled to [0, 1]; signed: x / max|x| in [−1, 1]. All-zero maps stay zero. `out` may be
 * `data` itself (scaled in place). The branches are hoisted out of the loop: the sanity check scales a few
 * hundred maps per image.
 */
export function scaleMap<T extends Float32Array = Float32Array<ArrayBuffer>>(data: Float32Array, scaling: Scaling, given?: T): T {
  const out = given ?? (new Float32Array(data.length) as T);
  const { relu, min, range } = scaleParams(data, scaling);
  const n = data.length;
  if (!(range > 0)) return out.fill(0, 0, n);
  // The store rounds to float32 (the colour pass below rounds with Math.fround to match).
  if (relu) for (let i = 0; i < n; i++) out[i] = (Math.max(data[i] as number, 0) - min) / range;
  else for (let i = 0; i < n; i++) out[i] = (data[i] as number) / range;
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

/** Where each output column (or row) samples its source: the two neighbours and the weight of the second. */
interface Taps {
  i0: Int32Array;
  i1: Int32Array;
  a: Float64Array;
}

/** Bilinear taps with half-pixel centres (PyTorch's align_corners=False), clamped at the edges. */
function bilinearTaps(from: number, to: number): Taps {
  const scale = from / to;
  const taps = { i0: new Int32Array(to), i1: new Int32Array(to), a: new Float64Array(to) };
  for (let x = 0; x < to; x++) {
    const f = Math.min(Math.max((x + 0.5) * scale - 0.5, 0), from - 1);
    const i0 = Math.floor(f);
    taps.i0[x] = i0;
    taps.i1[x] = Math.min(i0 + 1, from - 1);
    taps.a[x] = f - i0;
  }
  return taps;
}

/** resizeMap's rows interpolated along x, reused from call to call (grown to the largest). */
let rowScratch = new Float64Array(0);

/**
 * Resamples a map to width × height. The taps are computed once per column and row (not per pixel): a pane
 * is hundreds of thousands of pixels, the studio paints eight at once, and the trust checks resize every map
 * they compare.
 */
export function resizeMap<T extends Float32Array = Float32Array<ArrayBuffer>>(
  map: RawMap,
  width: number,
  height: number,
  mode: Upsampling,
  given?: T,
): T {
  const out = given ?? (new Float32Array(width * height) as T);
  const data = map.data;
  const mw = map.width;
  if (mode === 'nearest') {
    const sx = map.width / width;
    const sy = map.height / height;
    const ix = new Int32Array(width);
    for (let x = 0; x < width; x++) ix[x] = Math.min(mw - 1, Math.floor(x * sx));
    for (let y = 0; y < height; y++) {
      const row = Math.min(map.height - 1, Math.floor(y * sy)) * mw;
      for (let x = 0; x < width; x++) out[y * width + x] = data[row + (ix[x] as number)] as number;
    }
    return out;
  }
  const tx = bilinearTaps(mw, width);
  const ty = bilinearTaps(map.height, height);
  // Separable: each source row is interpolated along x once (in float64, so the sums are the very ones the
  // 2-D formula makes), then every output row blends two of them.
  if (rowScratch.length < map.height * width) rowScratch = new Float64Array(map.height * width);
  const rows = rowScratch;
  for (let r = 0; r < map.height; r++) {
    for (let x = 0; x < width; x++) {
      const ax = tx.a[x] as number;
      rows[r * width + x] =
        (1 - ax) * (data[r * mw + (tx.i0[x] as number)] as number) + ax * (data[r * mw + (tx.i1[x] as number)] as number);
    }
  }
  for (let y = 0; y < height; y++) {
    const r0 = (ty.i0[y] as number) * width;
    const r1 = (ty.i1[y] as number) * width;
    const ay = ty.a[y] as number;
    for (let x = 0; x < width; x++) out[y * width + x] = (1 - ay) * (rows[r0 + x] as number) + ay * (rows[r1 + x] as number);
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
): Uint8ClampedArray<ArrayBuffer> {
  return paint(scaled, null, rgb, width * height, options);
}

/** overlay's loop; with `scale`, each value is scaled on the way (no scaled copy of the map is made). */
function paint(
  values: Float32Array,
  scale: ScaleParams | null,
  rgb: Uint8Array | null,
  count: number,
  options: { colormap: Colormap; opacity: number; signed: boolean },
): Uint8ClampedArray<ArrayBuffer> {
  const out = new Uint8ClampedArray(count * 4);
  // colorAt inlined over flat stops: no array per pixel (the same arithmetic, so the same bytes).
  const stops = STOPS[options.colormap];
  const flat = Float64Array.from(stops.flat());
  // Each segment's b − a, computed once: the same differences colorAt takes per call.
  const delta = flat.map((v, i) => (i + 3 < flat.length ? (flat[i + 3] as number) - v : 0));
  const last = stops.length - 1;
  const { signed, opacity } = options;
  // scaleMap's arithmetic, per value: 0 = as given, 1 = ReLU + min-max, 2 = by the peak, 3 = all zero.
  const mode = !scale ? 0 : !(scale.range > 0) ? 3 : scale.relu ? 1 : 2;
  const min = scale?.min ?? 0;
  const range = scale?.range ?? 1;
  // Over an image at a fixed opacity (every ReLU pane): the blend weights are constants.
  const fixed = rgb !== null && !signed;
  const keep = 1 - opacity;
  for (let i = 0, o = 0, p = 0; i < count; i++, o += 4, p += 3) {
    const raw = values[i] as number;
    const v =
      mode === 0 ? raw : mode === 1 ? Math.fround((Math.max(raw, 0) - min) / range) : mode === 2 ? Math.fround(raw / range) : 0;
    const x = Math.min(Math.max(signed ? (v + 1) / 2 : v, 0), 1) * last;
    const j = Math.min(Math.floor(x), last - 1);
    const f = x - j;
    const k = j * 3;
    const r = (flat[k] as number) + (delta[k] as number) * f;
    const g = (flat[k + 1] as number) + (delta[k + 1] as number) * f;
    const b = (flat[k + 2] as number) + (delta[k + 2] as number) * f;
    if (fixed) {
      out[o] = (rgb[p] as number) * keep + r * opacity;
      out[o + 1] = (rgb[p + 1] as number) * keep + g * opacity;
      out[o + 2] = (rgb[p + 2] as number) * keep + b * opacity;
    } else {
      const alpha = !rgb ? 1 : opacity * Math.min(1, Math.abs(v));
      const br = rgb ? (rgb[p] as number) : 0;
      const bg = rgb ? (rgb[p + 1] as number) : 0;
      const bb = rgb ? (rgb[p + 2] as number) : 0;
      out[o] = br * (1 - alpha) + r * alpha;
      out[o + 1] = bg * (1 - alpha) + g * alpha;
      out[o + 2] = bb * (1 - alpha) + b * alpha;
    }
    out[o + 3] = 255;
  }
  return out;
}

let scratch = new Float32Array(0);

export interface HeatmapDisplay {
  upsampling: Upsampling;
  scaling: Scaling;
  colormap: Colormap;
  opacity: number;
}

/**
 * A map as shown: upsampled to width × height, scaled, coloured and laid over `rgb` (the image at that size;
 * null: the map alone) — scaleMap then overlay, in two passes over the pixels; and where its hottest pixel is.
 */
export function heatmapPixels(
  map: RawMap,
  rgb: Uint8Array | null,
  width: number,
  height: number,
  display: HeatmapDisplay,
): { pixels: Uint8ClampedArray<ArrayBuffer>; hot: { x: number; y: number } } {
  // The upsampled map lives only for this call: one buffer serves every pane (fewer collections mid-paint).
  if (scratch.length < width * height) scratch = new Float32Array(width * height);
  const resized = resizeMap(map, width, height, display.upsampling, scratch.subarray(0, width * height));
  const pixels = paint(resized, scaleParams(resized, display.scaling), rgb, width * height, {
    colormap: display.colormap,
    opacity: display.opacity,
    signed: display.scaling === 'signed',
  });
  const best = argmax(resized);
  return { pixels, hot: { x: best % width, y: Math.floor(best / width) } };
}

/** Bilinear resampling of an RGB image (half-pixel centres); the same array when the size already matches. */
export function resizeRgb(image: RgbImage, width: number, height: number): Uint8Array {
  if (image.width === width && image.height === height) return image.rgb;
  const out = new Uint8Array(width * height * 3);
  const src = image.rgb;
  const tx = bilinearTaps(image.width, width);
  const ty = bilinearTaps(image.height, height);
  for (let y = 0; y < height; y++) {
    const r0 = (ty.i0[y] as number) * image.width;
    const r1 = (ty.i1[y] as number) * image.width;
    const ay = ty.a[y] as number;
    for (let x = 0; x < width; x++) {
      const p00 = (r0 + (tx.i0[x] as number)) * 3;
      const p01 = (r0 + (tx.i1[x] as number)) * 3;
      const p10 = (r1 + (tx.i0[x] as number)) * 3;
      const p11 = (r1 + (tx.i1[x] as number)) * 3;
      const ax = tx.a[x] as number;
      for (let c = 0; c < 3; c++) {
        const top = (1 - ax) * (src[p00 + c] as number) + ax * (src[p01 + c] as number);
        const bottom = (1 - ax) * (src[p10 + c] as number) + ax * (src[p11 + c] as number);
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
