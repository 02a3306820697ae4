import { describe, expect, it } from 'vitest';
import { LayerStatsAccumulator } from '../../../../src-main/engine/stats/layer-stats';
import {
  f32AtLeast,
  f32AtMost,
  NEAR_ZERO,
  scanActivation,
  scanOutput,
  type ScanOutput,
} from '../../../../src-main/engine/stats/scan-activation';
import { scanAll, scanHere, type ScanJob } from '../../../../src-main/engine/stats/scan-pool';
import { WasmScanner } from '../../../../src-main/engine/stats/scan-wasm';
import { rng } from '../../../helpers/gradcheck';

/** The plain, branchy loop the scan replaces: the definition its results must match exactly. */
function reference(values: Float32Array, channels: number, lo: number, hi: number, bins: number) {
  const per = Math.floor(values.length / channels);
  const hist = new Array<number>(bins).fill(0);
  const sum: number[] = [];
  const sumSq: number[] = [];
  const near: number[] = [];
  let outside = 0;
  for (let c = 0; c < channels; c++) {
    let s = 0;
    let q = 0;
    let z = 0;
    for (let i = c * per; i < (c + 1) * per; i++) {
      const v = values[i] as number;
      s += v;
      q += v * v;
      if (v <= NEAR_ZERO) z++;
      if (v >= lo && v <= hi) {
        const raw = ((v - lo) * (bins / (hi - lo))) | 0;
        const bin = raw < bins ? raw : bins - 1;
        hist[bin] = (hist[bin] as number) + 1;
      } else outside++;
    }
    sum.push(s);
    sumSq.push(q);
    near.push(z);
  }
  return { hist, sum, sumSq, near, outside };
}

/** Values that sit on the edges: bin edges, the range ends, the near-zero threshold, ±0, NaN, huge. */
function tricky(n: number, lo: number, hi: number, bins: number, seed: number): Float32Array {
  const random = rng(seed);
  const width = (hi - lo) / bins;
  const specials = [lo, hi, 0, -0, NEAR_ZERO, Math.fround(NEAR_ZERO), NaN, 1e30, -1e30, Infinity, -Infinity];
  return Float32Array.from({ length: n }, (_, i) => {
    const r = random();
    if (r < 0.2) return specials[i % specials.length] as number;
    if (r < 0.4) return lo + Math.floor(random() * (bins + 1)) * width; // exactly on an edge (up to rounding)
    if (r < 0.6) return 0; // ReLU zeros, in runs
    return lo + (random() * 1.4 - 0.2) * (hi - lo);
  });
}

const wasm = WasmScanner.create();
type Scan = (values: Float32Array, channels: number, lo: number, hi: number, bins: number, out: ScanOutput) => void;
const scanners: [string, Scan][] = [
  ['JavaScript', scanActivation],
  ['Wasm', (...args) => wasm?.scan(...args)],
];

describe('the activation scan', () => {
  it('runs the Wasm kernel here (Node has Wasm SIMD)', () => {
    expect(wasm).not.toBeNull();
  });

  for (const [name, scan] of scanners)
    for (const [lo, hi, bins] of [
      [0, 10, 40],
      [-3.7, 5.3, 17],
      [0.1, 0.7, 3],
      [-1e-3, 2e-3, 1],
    ] as [number, number, number][]) {
      it(`${name} matches the plain loop on [${lo}, ${hi}] with ${bins} bins`, () => {
        for (const [channels, per] of [
          [1, 1],
          [3, 5],
          [8, 37],
          [16, 64],
          [2, 4096],
        ] as [number, number][]) {
          const values = tricky(channels * per, lo, hi, bins, channels * 31 + per);
          const out = scanOutput(channels, bins);
          scan(values, channels, lo, hi, bins, out);
          const ref = reference(values, channels, lo, hi, bins);
          expect(Array.from(out.hist)).toEqual(ref.hist);
          expect(Array.from(out.channelNear.subarray(0, channels))).toEqual(ref.near);
          for (let c = 0; c < channels; c++) {
            // Summation order differs (partial sums): equal up to float64 rounding, NaN/∞ alike.
            const pairs: [number, number][] = [
              [out.channelSum[c] as number, ref.sum[c] as number],
              [out.channelSumSq[c] as number, ref.sumSq[c] as number],
            ];
            for (const [got, want] of pairs) {
              if (Number.isFinite(want)) expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(want)));
              else expect(got).toBe(want);
            }
          }
          // Finite data too, so that the sums are compared as numbers and not only as NaN.
          const finite = values.map((v) => (Number.isFinite(v) && Math.abs(v) < 1e6 ? v : 0.5));
          scan(finite, channels, lo, hi, bins, out);
          const refFinite = reference(finite, channels, lo, hi, bins);
          expect(Array.from(out.hist)).toEqual(refFinite.hist);
          for (let c = 0; c < channels; c++) {
            expect(Math.abs((out.channelSum[c] as number) - (refFinite.sum[c] as number))).toBeLessThan(1e-9 * per * 10);
            expect(Math.abs((out.channelSumSq[c] as number) - (refFinite.sumSq[c] as number))).toBeLessThan(1e-9 * per * 100);
          }
        }
      });
    }

  it('turns float64 bounds into float32 ones that compare the same', () => {
    for (const x of [0.05, 0.1, -0.1, 10, 1e-45, -1e-45, 1e300, -1e300, 0, 3.4028235677973366e38]) {
      const down = f32AtMost(x);
      const up = f32AtLeast(x);
      expect(down).toBeLessThanOrEqual(x);
      expect(up).toBeGreaterThanOrEqual(x);
      expect(Math.fround(down)).toBe(down);
      expect(Math.fround(up)).toBe(up);
    }
    expect(f32AtMost(0.05)).toBeLessThan(Math.fround(0.05));
  });

  it('feeds the accumulator: outside counts and per-image histograms add up', () => {
    const acc = new LayerStatsAccumulator(40, { kind: 'fixed', lo: 0, hi: 10 });
    const values = tricky(4 * 50, 0, 10, 40, 5);
    acc.add(values, 4);
    const ref = reference(values, 4, 0, 10, 40);
    const r = acc.result();
    expect(r.hist).toEqual(ref.hist);
    expect(r.outside).toBe(ref.outside);
    expect(Array.from(r.imageHists[0] ?? [])).toEqual(ref.hist);
  });

  it('scans on two threads with the same figures as on one, whole buffers to each', async () => {
    const jobs: ScanJob[] = [];
    const expectedOuts: ScanOutput[] = [];
    for (const [b, [channels, per]] of [
      [4, 300],
      [8, 64],
      [1, 999],
      [16, 25],
    ].entries()) {
      const c = channels as number;
      const p = per as number;
      // Three images in one buffer, as a batched output is.
      const buffer = tricky(3 * c * p, -1, 6, 40, 100 + b).map((v) => (Number.isFinite(v) ? v : 0.5));
      for (let i = 0; i < 3; i++) {
        const values = buffer.subarray(i * c * p, (i + 1) * c * p);
        const out = scanOutput(c, 40);
        scanHere(values, c, -1, 6, 40, out);
        expectedOuts.push(out);
        jobs.push({ values, channels: c, lo: -1, hi: 6, bins: 40 });
      }
    }
    const outs = await scanAll(jobs, { minParallelValues: 0 });
    expect(outs).toHaveLength(jobs.length);
    // The worker got some buffers (now detached here) and this thread kept others.
    expect(jobs.some((j) => j.values.length === 0)).toBe(true);
    expect(jobs.some((j) => j.values.length > 0)).toBe(true);
    outs.forEach((out, i) => {
      const want = expectedOuts[i] as ScanOutput;
      const c = want.channelSum.length;
      expect(Array.from(out.hist)).toEqual(Array.from(want.hist));
      expect(Array.from(out.channelSum.subarray(0, c))).toEqual(Array.from(want.channelSum));
      expect(Array.from(out.channelSumSq.subarray(0, c))).toEqual(Array.from(want.channelSumSq));
      expect(Array.from(out.channelNear.subarray(0, c))).toEqual(Array.from(want.channelNear));
    });
  });
});
