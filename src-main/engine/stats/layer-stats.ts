/**
 * Activation statistics as fastai's ActivationStats computes them, accumulated image by image so that
 * memory stays flat however many images stream through: mean, std (unbiased, as torch.std), the share of
 * values ≤ 0.05 ("near zero"), and a histogram. The default histogram is fastai's histc(40, 0, 10):
 * values outside [0, 10] are dropped (so pre-ReLU mass is lost, as in fastai); "auto" fixes the range from
 * the first image with a margin and counts what falls outside it instead of hiding it.
 */
import { scanOutput, type ScanOutput } from './scan-activation';
import { scanHere } from './scan-pool';

export type HistogramRange = { kind: 'fixed'; lo: number; hi: number } | { kind: 'auto' };

export interface ImageStats {
  mean: number;
  std: number;
  near_zero: number;
}

export interface LayerStatsResult {
  count: number;
  mean: number;
  std: number;
  nearZero: number;
  range: [number, number];
  hist: number[];
  /** Values outside the range (dropped from hist; always 0 counted for fastai's fixed range semantics). */
  outside: number;
  perImage: ImageStats[];
  /** Per channel: mean over all images and positions, and the share of near-zero values. */
  channelMean: number[];
  channelNearZero: number[];
  /** Channels whose every value on every image was near zero. */
  deadChannels: number[];
  /** One histogram per image (same bins and range): fastai's "colorful dimension" is these, log1p'd. */
  imageHists: Float32Array[];
}

/** Chan et al.'s parallel update of (count, mean, M2): exact and stable for any number of chunks. */
function combine(n: number, mean: number, m2: number, nb: number, meanB: number, m2B: number): [number, number, number] {
  const total = n + nb;
  if (total === 0) return [0, 0, 0];
  const delta = meanB - mean;
  return [total, mean + (delta * nb) / total, m2 + m2B + (delta * delta * n * nb) / total];
}

export class LayerStatsAccumulator {
  private n = 0;
  private mean = 0;
  private m2 = 0;
  private near = 0;
  private outside = 0;
  private range: [number, number] | null;
  private readonly hist: Float64Array;
  private readonly perImage: ImageStats[] = [];
  private readonly imageHists: Float32Array[] = [];
  private channelSum: Float64Array | null = null;
  private channelNear: Float64Array | null = null;
  private channelCount = 0;
  /** Scratch of the scan, reused image after image. */
  private scratch: ScanOutput | null = null;

  constructor(
    private readonly bins: number,
    private readonly requested: HistogramRange,
  ) {
    this.hist = new Float64Array(bins);
    this.range = requested.kind === 'fixed' ? [requested.lo, requested.hi] : null;
  }

  /** The histogram range; "auto" takes it from the first image it is asked with. */
  rangeFor(values: Float32Array): [number, number] {
    if (!this.range) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < values.length; i++) {
        const v = values[i] as number;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      this.setAutoRange(lo, hi);
    }
    return this.range as [number, number];
  }

  /** The range once fixed (always for a fixed range; for "auto" after the first image). */
  knownRange(): [number, number] | null {
    return this.range;
  }

  /** Fixes the automatic range from the first image's min and max (computed elsewhere, e.g. in the graph). */
  setAutoRange(min: number, max: number): void {
    if (this.range) return;
    const margin = (max - min) * 0.1 || 1;
    this.range = [min - margin, max + margin];
  }

  /** One image's activation; `channels` splits it as [C, rest] (1 for flat outputs; see addScanned). */
  add(values: Float32Array, channels: number): void {
    const [lo, hi] = this.rangeFor(values);
    if (!this.scratch || this.scratch.channelSum.length < channels) this.scratch = scanOutput(channels, this.bins);
    scanHere(values, channels, lo, hi, this.bins, this.scratch);
    this.addScanned(this.scratch, values.length, channels);
  }

  /**
   * One image's activation as scanned (scan-activation.ts) with this.rangeFor's range: `n` values in
   * `channels` equal runs (n is a multiple of channels for [N, C, …] tensors).
   */
  addScanned(out: ScanOutput, n: number, channels: number): void {
    const bins = this.bins;
    const per = Math.floor(n / channels);
    this.channelSum ??= new Float64Array(channels);
    this.channelNear ??= new Float64Array(channels);
    const channelSum = this.channelSum;
    const channelNear = this.channelNear;
    let sum = 0;
    let near = 0;
    for (let c = 0; c < channels; c++) {
      const cs = out.channelSum[c] as number;
      const cz = out.channelNear[c] as number;
      sum += cs;
      near += cz;
      channelSum[c] = (channelSum[c] as number) + cs;
      channelNear[c] = (channelNear[c] as number) + cz;
    }
    const own = Float32Array.from(out.hist.subarray(0, bins));
    let inside = 0;
    for (let k = 0; k < bins; k++) inside += out.hist[k] as number;
    const mean = n ? sum / n : 0;
    // Σ(v − mean)² as each channel's own spread plus the spread of the channel means: sums of squares
    // lose to cancellation where a mean is large against its spread, far less within a channel than
    // across an image (and the graph form's sums are float32).
    let m2 = 0;
    for (let c = 0; c < channels && per > 0; c++) {
      const cs = out.channelSum[c] as number;
      const channelMean = cs / per;
      m2 += Math.max(0, (out.channelSumSq[c] as number) - cs * channelMean) + per * (channelMean - mean) ** 2;
    }
    this.perImage.push({ mean, std: n > 1 ? Math.sqrt(m2 / (n - 1)) : 0, near_zero: n ? near / n : 0 });
    [this.n, this.mean, this.m2] = combine(this.n, this.mean, this.m2, n, mean, m2);
    this.near += near;
    this.outside += channels * per - inside;
    for (let k = 0; k < bins; k++) this.hist[k] = (this.hist[k] as number) + (own[k] as number);
    this.imageHists.push(own);
    this.channelCount += per;
  }

  result(): LayerStatsResult {
    const channelMean = Array.from(this.channelSum ?? [], (s) => (this.channelCount ? s / this.channelCount : 0));
    const channelNearZero = Array.from(this.channelNear ?? [], (z) => (this.channelCount ? z / this.channelCount : 0));
    return {
      count: this.n,
      mean: this.mean,
      std: this.n > 1 ? Math.sqrt(this.m2 / (this.n - 1)) : 0,
      nearZero: this.n ? this.near / this.n : 0,
      range: this.range ?? (this.requested.kind === 'fixed' ? [this.requested.lo, this.requested.hi] : [0, 0]),
      hist: Array.from(this.hist),
      outside: this.outside,
      perImage: this.perImage,
      channelMean,
      channelNearZero,
      deadChannels: channelNearZero.flatMap((f, c) => (f === 1 ? [c] : [])),
      imageHists: this.imageHists,
    };
  }
}
