/**
 * The WebAssembly comparisons (tools/wasm/similarity-wat.ts) against the JavaScript kernels they speed up:
 * the same Spearman and SSIM figures on maps with ties, zeros, negatives, constant maps and sizes odd and
 * even, large and below SSIM's window.
 */
import { describe, expect, it } from 'vitest';
import { similarityKernels } from '../../../../src-main/engine/trust/similarity';
import { SIMILARITY_WASM } from '../../../../src-main/engine/trust/similarity-wasm';
import { rng } from '../../../helpers/gradcheck';

function maps(count: number, n: number, random: () => number): Float32Array[] {
  return Array.from({ length: count }, (_, k) =>
    Float32Array.from({ length: n }, (_, i) => {
      switch (k % 5) {
        case 0:
          return Math.max(0, random() - 0.4); // a ReLU'd map: many zeros
        case 1:
          return Math.round(random() * 6) / 6; // few distinct values: long ties
        case 2:
          return random() - 0.5; // negatives, zeros rare
        case 3:
          return i % 3 === 0 ? -0 : Math.sin(i * 0.1 + k); // −0 among the zeros
        default:
          return 0.25; // constant: no ordering, SSIM of a flat map
      }
    }),
  );
}

describe('the WebAssembly comparisons', () => {
  it('load, and give the JavaScript kernels’ figures', () => {
    const js = similarityKernels();
    const wasm = similarityKernels(SIMILARITY_WASM);
    expect(js.wasm).toBe(false);
    expect(wasm.wasm).toBe(true);
    const random = rng(11);
    for (const [width, height] of [
      [48, 48],
      [47, 33],
      [11, 11],
      [12, 30],
      [8, 9],
      [3, 2],
    ] as const) {
      const ms = maps(10, width * height, random);
      // Each reference with several compared maps (and itself), in runs as the sanity check sends them.
      const pairs: Float32Array[] = [];
      for (let r = 0; r < 4; r++) for (const m of ms) pairs.push(ms[r] as Float32Array, m);
      const a = js.compareAll(pairs, width, height);
      const b = wasm.compareAll(pairs, width, height);
      expect(b.length).toBe(a.length);
      for (let i = 0; i < a.length; i++)
        expect(Math.abs((b[i] as number) - (a[i] as number)), `${width}×${height} #${i}`).toBeLessThan(1e-12);
      // Not all trivially equal: the maps compared do differ.
      expect(new Set(Array.from(a, (v) => v.toFixed(6))).size).toBeGreaterThan(4);
    }
  });
});
