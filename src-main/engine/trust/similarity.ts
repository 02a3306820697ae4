/**
 * How similar a map stays to the original when the model's weights are randomised (Adebayo et al. 2018):
 * Spearman's rank correlation and SSIM (Wang et al. 2004), both on maps as they are shown — upsampled to
 * the input, ReLU, min-max scaled to [0, 1].
 */
import { SIMILARITY_WASM } from './similarity-wasm';

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

export interface SimilarityKernels {
  ranks(values: ArrayLike<number>): Float64Array;
  pearson(a: ArrayLike<number>, b: ArrayLike<number>): number;
  ssimReference(a: ArrayLike<number>, width: number, height: number): SsimReference;
  ssimWith(ref: SsimReference, b: ArrayLike<number>): number;
  compareAll(pairs: Float32Array[], width: number, height: number): Float64Array;
  /** Whether compareAll runs the WebAssembly kernels (loaded on first use). */
  readonly wasm: boolean;
}

/** The WebAssembly kernels' exports (tools/wasm/similarity-wat.ts); pointers are byte offsets in `memory`. */
interface WasmKernels {
  memory: WebAssembly.Memory;
  ranks(values: number, n: number, out: number, scratch: number, counts: number): void;
  pearson(a: number, b: number, n: number): number;
  ssim11(x: number, mean: number, msq: number, b: number, rows: number, width: number, height: number, ...w: number[]): number;
}

/**
 * The comparisons, self-contained (nothing outside this function's body is referenced) so that a worker
 * thread runs the very same code from its source (compare-pool.ts). Given the WebAssembly module (base64,
 * similarity-wasm.ts), compareAll runs its ranks, Pearson and SSIM: the same arithmetic as the functions
 * here, ~2× faster (SSIM two outputs at a time); these functions stay the definition, and the fallback.
 */
export function similarityKernels(wasmBase64?: string): SimilarityKernels {
  /**
   * Ranks 1…n, ties given their average rank: float32 maps by a radix sort of their bits, other
   * numbers by a native numeric sort of the values, then each value's first and last position among them by
   * binary search (a comparator sort of indices is ~30× slower).
   */
  function ranks(values: ArrayLike<number>): Float64Array {
    const n = values.length;
    if (values instanceof Float32Array) return float32Ranks(values);
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

  /** Radix-sort scratch, grown to the largest map ranked (keys and positions, twice). */
  let radixScratch = new Uint32Array(0);
  const DIGIT_BITS = 11;
  const DIGITS = 1 << DIGIT_BITS;
  const DIGIT_MASK = DIGITS - 1;
  const digitCounts = new Uint32Array(3 * DIGITS);

  /**
   * ranks() of float32 values by a least-significant-digit radix sort of their bits made monotone (three
   * 11-bit digits; a digit every key shares is skipped; zeros counted, not sorted): linear in n, ~2× faster than one packed native
   * sort on the 48 × 48 maps the sanity check compares. Equal values (−0 and +0 too) end up adjacent.
   */
  function float32Ranks(values: Float32Array, into?: Float64Array): Float64Array {
    const n = values.length;
    const bits = new Uint32Array(values.buffer, values.byteOffset, n);
    if (radixScratch.length < 4 * n) radixScratch = new Uint32Array(4 * n);
    let keys = radixScratch.subarray(0, n);
    let index = radixScratch.subarray(n, 2 * n);
    let keysNext = radixScratch.subarray(2 * n, 3 * n);
    let indexNext = radixScratch.subarray(3 * n, 4 * n);
    const counts = digitCounts;
    counts.fill(0);
    // Zeros (often most of a ReLU'd map) are not sorted: they are counted, and take their tied rank
    // between the negative and the positive values at the end. The m other keys are sorted.
    let m = 0;
    let zeros = 0;
    for (let i = 0; i < n; i++) {
      const b = bits[i] as number;
      if (b === 0 || b === 0x80000000) {
        zeros++;
        continue;
      }
      const k = b & 0x80000000 ? ~b >>> 0 : (b | 0x80000000) >>> 0;
      keys[m] = k;
      index[m] = i;
      m++;
      const d0 = k & DIGIT_MASK;
      const d1 = DIGITS + ((k >>> DIGIT_BITS) & DIGIT_MASK);
      const d2 = 2 * DIGITS + (k >>> (2 * DIGIT_BITS));
      counts[d0] = (counts[d0] as number) + 1;
      counts[d1] = (counts[d1] as number) + 1;
      counts[d2] = (counts[d2] as number) + 1;
    }
    for (let pass = 0; pass < 3; pass++) {
      const base = pass * DIGITS;
      const shift = pass * DIGIT_BITS;
      if (m === 0 || counts[base + (((keys[0] as number) >>> shift) & DIGIT_MASK)] === m) continue;
      let sum = 0;
      for (let d = 0; d < DIGITS; d++) {
        const c = counts[base + d] as number;
        counts[base + d] = sum;
        sum += c;
      }
      for (let i = 0; i < m; i++) {
        const k = keys[i] as number;
        const digit = base + ((k >>> shift) & DIGIT_MASK);
        const at = counts[digit] as number;
        counts[digit] = at + 1;
        keysNext[at] = k;
        indexNext[at] = index[i] as number;
      }
      const k = keys;
      keys = keysNext;
      keysNext = k;
      const ix = index;
      index = indexNext;
      indexNext = ix;
    }
    const out = into && into.length === n ? into : new Float64Array(n);
    // Negative values' keys are below 0x80000000 (zero's), positive values' above.
    let negatives = 0;
    while (negatives < m && (keys[negatives] as number) < 0x80000000) negatives++;
    if (zeros > 0) {
      const rank = negatives + (zeros + 1) / 2;
      for (let i = 0; i < n; i++) {
        const b = bits[i] as number;
        if (b === 0 || b === 0x80000000) out[i] = rank;
      }
    }
    for (let start = 0; start < m;) {
      const value = keys[start];
      let end = start + 1;
      while (end < m && keys[end] === value) end++;
      // Positions past the negatives move up by the zeros placed before them.
      const shift = start >= negatives ? zeros : 0;
      const rank = (start + end - 1) / 2 + 1 + shift;
      for (let j = start; j < end; j++) out[index[j] as number] = rank;
      start = end;
    }
    return out;
  }

  /** Pearson's correlation; 0 when either side is constant (it then carries no ordering to keep). */
  function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
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

  const SSIM_SIGMA = 1.5;
  const SSIM_RADIUS = 5;
  const C1 = 0.01 ** 2;
  const C2 = 0.03 ** 2;

  /** Separable "valid" filtering of a width × height plane with a 1-D kernel (no padding). */
  function filterValid(x: Float64Array, width: number, height: number, k: Float64Array): Float64Array {
    const r = (k.length - 1) / 2;
    const ow = width - 2 * r;
    const oh = height - 2 * r;
    const kc = k[r] as number;
    const rows = new Float64Array(height * ow);
    for (let y = 0; y < height; y++)
      for (let i = 0; i < ow; i++) {
        const c = y * width + i + r;
        let s = kc * (x[c] as number);
        for (let t = 1; t <= r; t++) s += (k[r + t] as number) * ((x[c - t] as number) + (x[c + t] as number));
        rows[y * ow + i] = s;
      }
    const out = new Float64Array(oh * ow);
    for (let j = 0; j < oh; j++)
      for (let i = 0; i < ow; i++) {
        const c = (j + r) * ow + i;
        let s = kc * (rows[c] as number);
        for (let t = 1; t <= r; t++) s += (k[r + t] as number) * ((rows[c - t * ow] as number) + (rows[c + t * ow] as number));
        out[j * ow + i] = s;
      }
    return out;
  }

  function ssimKernel(width: number, height: number): Float64Array {
    const radius = Math.min(SSIM_RADIUS, Math.floor((Math.min(width, height) - 1) / 2));
    const k = Float64Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * SSIM_SIGMA ** 2)));
    const sum = k.reduce((s, v) => s + v, 0);
    for (let i = 0; i < k.length; i++) k[i] = (k[i] as number) / sum;
    return k;
  }

  function ssimReference(a: ArrayLike<number>, width: number, height: number): SsimReference {
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

  /** The row pass's three planes, reused from comparison to comparison. */
  let ssimRows = new Float64Array(0);

  /**
   * Mean SSIM of the reference's map and `b` (see ssim). The three statistics that involve `b` (its local
   * mean, mean square and the cross term) are filtered in one pass over the rows and one over the columns,
   * each tap pair of the symmetric window weighted once.
   */
  function ssimWith(ref: SsimReference, b: ArrayLike<number>): number {
    const { width, height, kernel: k, x, mean: mx, meanSquare: sxx } = ref;
    const r = (k.length - 1) / 2;
    const ow = width - 2 * r;
    const oh = height - 2 * r;
    const plane = height * ow;
    if (ssimRows.length < 3 * plane) ssimRows = new Float64Array(3 * plane);
    const rows = ssimRows;
    const kc = k[r] as number;
    for (let y = 0; y < height; y++)
      for (let i = 0; i < ow; i++) {
        const c = y * width + i + r;
        const vc = b[c] as number;
        let sy = kc * vc;
        let syy = sy * vc;
        let sxy = sy * (x[c] as number);
        for (let t = 1; t <= r; t++) {
          const w = k[r + t] as number;
          const va = b[c - t] as number;
          const vb = b[c + t] as number;
          sy += w * (va + vb);
          syy += w * (va * va + vb * vb);
          sxy += w * (va * (x[c - t] as number) + vb * (x[c + t] as number));
        }
        const o = y * ow + i;
        rows[o] = sy;
        rows[plane + o] = syy;
        rows[2 * plane + o] = sxy;
      }
    let total = 0;
    for (let j = 0; j < oh; j++)
      for (let i = 0; i < ow; i++) {
        const c = (j + r) * ow + i;
        let uy = kc * (rows[c] as number);
        let syy = kc * (rows[plane + c] as number);
        let sxy = kc * (rows[2 * plane + c] as number);
        for (let t = 1; t <= r; t++) {
          const w = k[r + t] as number;
          const above = c - t * ow;
          const below = c + t * ow;
          uy += w * ((rows[above] as number) + (rows[below] as number));
          syy += w * ((rows[plane + above] as number) + (rows[plane + below] as number));
          sxy += w * ((rows[2 * plane + above] as number) + (rows[2 * plane + below] as number));
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
   * Spearman and SSIM of each pair [reference, compared] (pairs[2i], pairs[2i + 1]), as
   * [spearman0, ssim0, spearman1, …]; a reference shared by several pairs is ranked and filtered once.
   */
  function compareAll(pairs: Float32Array[], width: number, height: number): Float64Array {
    const out = new Float64Array(pairs.length);
    const refs = new Map<Float32Array, { ranks: Float64Array; ssim: SsimReference }>();
    // The compared map's ranks are read once: one buffer serves every pair.
    let nowRanks = new Float64Array(0);
    for (let i = 0; i + 1 < pairs.length; i += 2) {
      const ref = pairs[i] as Float32Array;
      let known = refs.get(ref);
      if (!known) refs.set(ref, (known = { ranks: ranks(ref), ssim: ssimReference(ref, width, height) }));
      const now = pairs[i + 1] as Float32Array;
      if (nowRanks.length !== now.length) nowRanks = new Float64Array(now.length);
      out[i] = pearson(known.ranks, float32Ranks(now, nowRanks));
      out[i + 1] = ssimWith(known.ssim, now);
    }
    return out;
  }

  function loadWasm(base64: string | undefined): WasmKernels | null {
    if (!base64 || typeof WebAssembly === 'undefined') return null;
    try {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      return new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports as unknown as WasmKernels;
    } catch {
      return null;
    }
  }
  // Compiled when first compared with, not when this module loads: every host imports it at start.
  let loaded: WasmKernels | null | undefined;
  const wasm = (): WasmKernels | null => (loaded === undefined ? (loaded = loadWasm(wasmBase64)) : loaded);

  /** Where one reference's side lies in the WebAssembly memory, and its SSIM side in JavaScript. */
  interface WasmReference {
    ranks: number;
    x: number;
    mean: number;
    msq: number;
    js: SsimReference;
  }

  /** compareAll on the WebAssembly kernels: every reference's ranks and SSIM side laid out once, then each pair. */
  function compareAllWasm(w: WasmKernels, pairs: Float32Array[], width: number, height: number): Float64Array {
    const out = new Float64Array(pairs.length);
    const n = width * height;
    const kernel = ssimKernel(width, height);
    const r = (kernel.length - 1) / 2;
    const ow = width - 2 * r;
    const oh = height - 2 * r;
    let end = 0;
    const take = (bytes: number): number => {
      const at = end;
      end = (end + bytes + 15) & ~15;
      return at;
    };
    const map = take(4 * n);
    const nowRanks = take(8 * n);
    const scratch = take(16 * n);
    const counts = take(3 * 2048 * 4);
    const rows = take(8 * 3 * (height * ow + 2));
    const refs = new Map<Float32Array, WasmReference>();
    for (let i = 0; i + 1 < pairs.length; i += 2) {
      const ref = pairs[i] as Float32Array;
      if (!refs.has(ref)) {
        const js = ssimReference(ref, width, height);
        refs.set(ref, { ranks: take(8 * n), x: take(8 * n), mean: take(8 * oh * ow), msq: take(8 * oh * ow), js });
      }
    }
    const pages = Math.ceil((end - w.memory.buffer.byteLength) / 65536);
    if (pages > 0) w.memory.grow(pages);
    // Views made after growing: growing detaches the old ones.
    const f32 = new Float32Array(w.memory.buffer);
    const f64 = new Float64Array(w.memory.buffer);
    for (const [ref, at] of refs) {
      f32.set(ref, map >> 2);
      w.ranks(map, n, at.ranks, scratch, counts);
      f64.set(at.js.x, at.x >> 3);
      f64.set(at.js.mean, at.mean >> 3);
      f64.set(at.js.meanSquare, at.msq >> 3);
    }
    const k = kernel;
    for (let i = 0; i + 1 < pairs.length; i += 2) {
      const at = refs.get(pairs[i] as Float32Array) as WasmReference;
      const now = pairs[i + 1] as Float32Array;
      f32.set(now, map >> 2);
      w.ranks(map, n, nowRanks, scratch, counts);
      out[i] = w.pearson(at.ranks, nowRanks, n);
      out[i + 1] =
        r === SSIM_RADIUS
          ? w.ssim11(
              at.x,
              at.mean,
              at.msq,
              map,
              rows,
              width,
              height,
              k[5] as number,
              k[6] as number,
              k[7] as number,
              k[8] as number,
              k[9] as number,
              k[10] as number,
            )
          : ssimWith(at.js, now);
    }
    return out;
  }

  const compare = (pairs: Float32Array[], width: number, height: number): Float64Array => {
    const w = wasm();
    return w ? compareAllWasm(w, pairs, width, height) : compareAll(pairs, width, height);
  };
  return {
    ranks,
    pearson,
    ssimReference,
    ssimWith,
    compareAll: compare,
    get wasm() {
      return wasm() !== null;
    },
  };
}

const kernels = similarityKernels(SIMILARITY_WASM);
export const { ranks, pearson, ssimReference, ssimWith, compareAll } = kernels;

export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return pearson(ranks(a), ranks(b));
}

/**
 * Mean SSIM of two maps in [0, 1] (data range 1): local statistics under an 11 × 11 Gaussian window
 * (σ = 1.5, normalised), over the positions where the window fits entirely (smaller windows on maps under
 * 11 pixels across).
 */
export function ssim(a: ArrayLike<number>, b: ArrayLike<number>, width: number, height: number): number {
  return ssimWith(ssimReference(a, width, height), b);
}
