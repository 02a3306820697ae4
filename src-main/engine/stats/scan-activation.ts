/**
 * The hot loop of a stats run: one pass over one image's activation that yields every figure the
 * statistics need — per-channel sums, sums of squares and near-zero counts, and the histogram bucket
 * counts. Runs use the Wasm SIMD kernel (scan-wasm.ts, about twice as fast); this JavaScript version is the
 * fallback where Wasm SIMD is missing. It is written for V8's optimiser, because on small models this loop
 * costs as much as inference:
 * - four independent float64 accumulators per figure, so additions do not wait on each other's latency;
 * - four sub-histograms, so runs of equal values (ReLU zeros fill one bin) do not serialise on one counter;
 * - comparisons turned into 0/1 numbers and bit masks instead of branches, which pre-ReLU data (half
 *   negative, in random order) would mispredict.
 * The semantics are those of the plain loop `if (v >= lo && v <= hi) bin = min((v - lo) * scale | 0, bins - 1)`
 * in float64 arithmetic on the float32 value, bit for bit.
 */
export const NEAR_ZERO = 0.05;

export interface ScanOutput {
  /** Per channel (length ≥ channels): Σv, Σv², #(v ≤ NEAR_ZERO). */
  channelSum: Float64Array;
  channelSumSq: Float64Array;
  channelNear: Float64Array;
  /** Counts of the values inside [lo, hi], per bin. */
  hist: Float64Array;
}

export function scanOutput(maxChannels: number, bins: number): ScanOutput {
  return {
    channelSum: new Float64Array(maxChannels),
    channelSumSq: new Float64Array(maxChannels),
    channelNear: new Float64Array(maxChannels),
    hist: new Float64Array(bins),
  };
}

const bits = new Float32Array(1);
const word = new Int32Array(bits.buffer);

/** The largest float32 ≤ x: for a float32 v, `v <= x` (in float64) ⟺ `v <= f32AtMost(x)` (in float32). */
export function f32AtMost(x: number): number {
  const r = Math.fround(x);
  if (!(r > x)) return r;
  bits[0] = r;
  // One step towards −∞ (r > x means r is not −∞); from +0 that is the smallest negative subnormal.
  if (r === 0) word[0] = 0x80000001 | 0;
  else word[0] = (word[0] as number) + (r > 0 ? -1 : 1);
  return bits[0] as number;
}

/** The smallest float32 ≥ x. */
export function f32AtLeast(x: number): number {
  return -f32AtMost(-x);
}

/** Four sub-histograms of bins + 1 counters (counter `bins` takes what is outside), reused call after call. */
let buckets = new Int32Array(0);

/**
 * Scans `values` split into `channels` equal runs (values past the last whole run are not read: there are
 * none for [N, C, …] tensors). Overwrites the channel figures (first `channels` entries) and `out.hist`.
 */
export function scanActivation(
  values: Float32Array,
  channels: number,
  lo: number,
  hi: number,
  bins: number,
  out: ScanOutput,
): void {
  const { channelSum, channelSumSq, channelNear } = out;
  if (buckets.length < 4 * (bins + 1)) buckets = new Int32Array(4 * (bins + 1));
  else buckets.fill(0, 0, 4 * (bins + 1));
  const h = buckets;
  const scale = bins / (hi - lo);
  const stride = bins + 1;
  const b1 = stride;
  const b2 = 2 * stride;
  const b3 = 3 * stride;
  const per = Math.floor(values.length / channels);
  for (let c = 0, i = 0; c < channels; c++) {
    const end = i + per;
    const end4 = i + (per & ~3);
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let q0 = 0;
    let q1 = 0;
    let q2 = 0;
    let q3 = 0;
    let z = 0;
    for (; i < end4; i += 4) {
      const a = values[i] as number;
      const b = values[i + 1] as number;
      const d = values[i + 2] as number;
      const e = values[i + 3] as number;
      s0 += a;
      s1 += b;
      s2 += d;
      s3 += e;
      q0 += a * a;
      q1 += b * b;
      q2 += d * d;
      q3 += e * e;
      z += +(a <= NEAR_ZERO) + +(b <= NEAR_ZERO) + +(d <= NEAR_ZERO) + +(e <= NEAR_ZERO);
      // In range: m = -1 and the bin is kept; outside (or NaN): m = 0 and the value goes to counter `bins`.
      // `| 0` truncates like the reference; a truncated bins (v = hi) moves down into the last bin.
      let ra = ((a - lo) * scale) | 0;
      let rb = ((b - lo) * scale) | 0;
      let rd = ((d - lo) * scale) | 0;
      let re = ((e - lo) * scale) | 0;
      ra -= +(ra >= bins);
      rb -= +(rb >= bins);
      rd -= +(rd >= bins);
      re -= +(re >= bins);
      const ma = -(+(a >= lo) & +(a <= hi));
      const mb = -(+(b >= lo) & +(b <= hi));
      const md = -(+(d >= lo) & +(d <= hi));
      const me = -(+(e >= lo) & +(e <= hi));
      const ka = (ra & ma) | (bins & ~ma);
      const kb = b1 + ((rb & mb) | (bins & ~mb));
      const kd = b2 + ((rd & md) | (bins & ~md));
      const ke = b3 + ((re & me) | (bins & ~me));
      h[ka] = (h[ka] as number) + 1;
      h[kb] = (h[kb] as number) + 1;
      h[kd] = (h[kd] as number) + 1;
      h[ke] = (h[ke] as number) + 1;
    }
    for (; i < end; i++) {
      const a = values[i] as number;
      s0 += a;
      q0 += a * a;
      z += +(a <= NEAR_ZERO);
      let ra = ((a - lo) * scale) | 0;
      ra -= +(ra >= bins);
      const ma = -(+(a >= lo) & +(a <= hi));
      const ka = (ra & ma) | (bins & ~ma);
      h[ka] = (h[ka] as number) + 1;
    }
    channelSum[c] = s0 + s1 + (s2 + s3);
    channelSumSq[c] = q0 + q1 + (q2 + q3);
    channelNear[c] = z;
  }
  for (let k = 0; k < bins; k++)
    out.hist[k] = (h[k] as number) + (h[b1 + k] as number) + (h[b2 + k] as number) + (h[b3 + k] as number);
}
