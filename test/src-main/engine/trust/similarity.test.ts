/**
 * ranks() takes two routes — a radix sort of the bits for float32 maps, binary searches for other numbers —
 * which must agree on every input, ties, negatives and signed zeros included.
 */
import { describe, expect, it } from 'vitest';
import { ranks } from '../../../../src-main/engine/trust/similarity';
import { mulberry32 } from '../../../../src-main/engine/trust/random';

describe('ranks', () => {
  it('gives the same average ranks by both routes', () => {
    const next = mulberry32(7);
    for (const n of [1, 2, 5, 64, 1000, 4097]) {
      // Few distinct values (many ties), both signs, both zeros, extremes.
      const values = Float32Array.from({ length: n }, () => {
        const r = next();
        if (r < 0.05) return -0;
        if (r < 0.1) return 0;
        if (r < 0.12) return -3.4e38;
        return Math.round((next() - 0.5) * 20) / 4;
      });
      expect(Array.from(ranks(values))).toEqual(Array.from(ranks(Array.from(values))));
    }
  });

  it("gives the same ranks by both routes on ReLU'd maps: mostly zeros, or only zeros", () => {
    const next = mulberry32(5);
    for (const zeroShare of [0, 0.6, 0.99, 1]) {
      const values = Float32Array.from({ length: 2304 }, () => (next() < zeroShare ? 0 : Math.fround(next())));
      expect(Array.from(ranks(values))).toEqual(Array.from(ranks(Array.from(values))));
    }
    expect(Array.from(ranks(new Float32Array(4)))).toEqual([2.5, 2.5, 2.5, 2.5]);
  });

  it('ranks ties by their average position', () => {
    expect(Array.from(ranks(Float32Array.of(3, 1, 3, -2, 0, -0)))).toEqual([5.5, 4, 5.5, 1, 2.5, 2.5]);
  });
});
