/**
 * How similar a map stays to the original when the model's weights are randomised (Adebayo et al. 2018):
 * Spearman's rank correlation and SSIM (Wang et al. 2004), both on maps as they are shown — upsampled to
 * the input, ReLU, min-max scaled to [0, 1].
 */

import { keyIndex, keyValue, MAX_PACKED, packedSort } from './packed-sort';

/**
 * Ranks 1…n, ties given their average rank: float32 maps by one packed sort (packed-sort.ts), other
 * numbers by a native numeric sort of the values, then each value's first and last position among them by
 * binary search (a comparator sort of indices is ~30× slower).
 */
export function ranks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  if (values instanceof Float32Array && n <= MAX_PACKED) return float32Ranks(values);
  const sorted = Float64Array.from(values).sort();
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i] as number;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((sorted[mid] as number) < v) lo = mid + 1;
      else hi = mid;
    }
    const first = lo;
    hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((sorted[mid] as number) <= v) lo = mid + 1;
      else hi = mid;
    }
    out[i] = (first + lo - 1) / 2 + 1;
  }
  return out;
}

/** ranks() of float32 values by one packed native sort: equal values are adjacent runs. */
function float32Ranks(values: Float32Array): Float64Array {
  const n = values.length;
  const { keys, scale } = packedSort(values, false);
  const out = new Float64Array(n);
  for (let start = 0; start < n;) {
    const value = keyValue(keys[start] as number, scale);
    let end = start + 1;
    while (end < n && keyValue(keys[end] as number, scale) === value) end++;
    const rank = (start + end - 1) / 2 + 1;
    for (let j = start; j < end; j++) out[keyIndex(keys[j] as number, scale)] = rank;
    start = end;
  }
  return out;
}

/** Pearson's correlation; 0 when either side is constant (it then carries no ordering to keep). */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i] as number;
    mb += b[i] as number;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = (a[i] as number) - ma;
    const db = (b[i] as number) - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 0;
}

export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return pearson(ranks(a), ranks(b));
}

const SSIM_SIGMA = 1.5;
const SSIM_RADIUS = 5;
const C1 = 0.01 ** 2;
const C2 = 0.03 ** 2;

/** Separable "valid" filtering of a width × height plane with a 1-D kernel (no padding). */
function filterValid(x: Float64Array, width: number, height: number, k: Float64Array): Float64Array {
  const r = (k.length - 1) / 2;
  const ow = width - 2 * r;
  const oh = height - 2 * r;
  const rows = new Float64Array(height * ow);
  for (let y = 0; y < height; y++)
    for (let i = 0; i < ow; i++) {
      let s = 0;
      for (let t = 0; t < k.length; t++) s += (k[t] as number) * (x[y * width + i + t] as number);
      rows[y * ow + i] = s;
    }
  const out = new Float64Array(oh * ow);
  for (let j = 0; j < oh; j++)
    for (let i = 0; i < ow; i++) {
      let s = 0;
      for (let t = 0; t < k.length; t++) s += (k[t] as number) * (rows[(j + t) * ow + i] as number);
      out[j * ow + i] = s;
    }
  return out;
}

/** A map's side of SSIM, computed once when it is compared with many others. */
export interface SsimReference {
  width: number;
  height: number;
  kernel: Float64Array;
  x: Float64Array;
  /** Local mean and mean square under the window. */
  mean: Float64Array;
  meanSquare: Float64Array;
}

function ssimKernel(width: number, height: number): Float64Array {
  const radius = Math.min(SSIM_RADIUS, Math.floor((Math.min(width, height) - 1) / 2));
  const k = Float64Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * SSIM_SIGMA ** 2)));
  const sum = k.reduce((s, v) => s + v, 0);
  for (let i = 0; i < k.length; i++) k[i] = (k[i] as number) / sum;
  return k;
}

export function ssimReference(a: ArrayLike<number>, width: number, height: number): SsimReference {
  const kernel = ssimKernel(width, height);
  const x = Float64Array.from(a);
  const squares = x.map((v) => v * v);
  return {
    width,
    height,
    kernel,
    x,
    mean: filterValid(x, width, height, kernel),
    meanSquare: filterValid(squares, width, height, kernel),
  };
}

/**
 * Mean SSIM of the reference's map and `b` (see ssim). The three statistics that involve `b` (its local
 * mean, mean square and the cross term) are filtered in one pass over the rows and one over the columns.
 */
export function ssimWith(ref: SsimReference, b: ArrayLike<number>): number {
  const { width, height, kernel: k, x, mean: mx, meanSquare: sxx } = ref;
  const taps = k.length;
  const r = (taps - 1) / 2;
  const ow = width - 2 * r;
  const oh = height - 2 * r;
  const rows = new Float64Array(3 * height * ow);
  const plane = height * ow;
  for (let y = 0; y < height; y++)
    for (let i = 0; i < ow; i++) {
      let sy = 0;
      let syy = 0;
      let sxy = 0;
      const at = y * width + i;
      for (let t = 0; t < taps; t++) {
        const w = k[t] as number;
        const v = b[at + t] as number;
        const wv = w * v;
        sy += wv;
        syy += wv * v;
        sxy += wv * (x[at + t] as number);
      }
      const o = y * ow + i;
      rows[o] = sy;
      rows[plane + o] = syy;
      rows[2 * plane + o] = sxy;
    }
  let total = 0;
  for (let j = 0; j < oh; j++)
    for (let i = 0; i < ow; i++) {
      let uy = 0;
      let syy = 0;
      let sxy = 0;
      for (let t = 0; t < taps; t++) {
        const w = k[t] as number;
        const o = (j + t) * ow + i;
        uy += w * (rows[o] as number);
        syy += w * (rows[plane + o] as number);
        sxy += w * (rows[2 * plane + o] as number);
      }
      const ux = mx[j * ow + i] as number;
      const vx = (sxx[j * ow + i] as number) - ux * ux;
      const vy = syy - uy * uy;
      const cxy = sxy - ux * uy;
      total += ((2 * ux * uy + C1) * (2 * cxy + C2)) / ((ux * ux + uy * uy + C1) * (vx + vy + C2));
    }
  return total / (oh * ow);
}

/**
 * Mean SSIM of two maps in [0, 1] (data range 1): local statistics under an 11 × 11 Gaussian window
 * (σ = 1.5, normalised), over the positions where the window fits entirely (smaller windows on maps under
 * 11 pixels across).
 */
export function ssim(a: ArrayLike<number>, b: ArrayLike<number>, width: number, height: number): number {
  return ssimWith(ssimReference(a, width, height), b);
}
