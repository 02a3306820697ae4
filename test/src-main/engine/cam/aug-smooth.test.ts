import { describe, expect, it } from 'vitest';
import { AUGMENTATIONS, augmentedBatch } from '../../../../src-main/engine/cam/aug-smooth';
import type { OpenModel } from '../../../../src-main/engine/model-registry';

const modelWithBatch = (batch: number | string): OpenModel =>
  ({
    summary: { name: 'm.onnx', inputs: [{ name: 'input', dtype: 'float32', shape: [batch, 2, 2, 3] }] },
  }) as unknown as OpenModel;

describe('aug-smooth inputs', () => {
  it('are the image, then scaled ×0.9 and ×1.1, then the same flipped left to right (NCHW: the last axis)', () => {
    // [1, C=2, H=2, W=3]: value = 100·c + 10·y + x.
    const data = Float32Array.from({ length: 12 }, (_, i) => 100 * Math.floor(i / 6) + 10 * Math.floor((i % 6) / 3) + (i % 3));
    const { input, flipped } = augmentedBatch(modelWithBatch('batch'), { name: 'input', data, shape: [1, 2, 2, 3] }, false);
    expect(input.shape).toEqual([6, 2, 2, 3]);
    expect(AUGMENTATIONS.map((a) => a.factor)).toEqual([1, 0.9, 1.1, 1, 0.9, 1.1]);
    expect(flipped).toEqual([false, false, false, true, true, true]);
    expect(Array.from(input.data.subarray(0, 12))).toEqual(Array.from(data));
    expect(input.data[12 + 5]).toBeCloseTo(0.9 * 12, 5);
    // Item 3 (flipped, ×1): row y of channel c reads x = 2, 1, 0.
    expect(Array.from(input.data.subarray(36, 42))).toEqual([2, 1, 0, 12, 11, 10]);
  });

  it('flips channels-last images on their width axis, keeping each pixel’s channels together', () => {
    // [1, H=2, W=2, C=3]: value = 100·y + 10·x + c.
    const data = Float32Array.from({ length: 12 }, (_, i) => 100 * Math.floor(i / 6) + 10 * Math.floor((i % 6) / 3) + (i % 3));
    const { input } = augmentedBatch(modelWithBatch(6), { name: 'input', data, shape: [1, 2, 2, 3] }, true);
    expect(Array.from(input.data.subarray(36, 42))).toEqual([10, 11, 12, 0, 1, 2]);
  });

  it('refuses in one line a model whose batch is fixed, and inputs that are not images', () => {
    const data = new Float32Array(12);
    expect(() => augmentedBatch(modelWithBatch(1), { name: 'input', data, shape: [1, 2, 2, 3] }, false)).toThrow(
      /aug-smooth runs the image and 5 augmented copies as one batch, and m\.onnx's input has a fixed batch of 1/,
    );
    expect(() => augmentedBatch(modelWithBatch('n'), { name: 'input', data, shape: [1, 12] }, false)).toThrow(
      /needs a \[1, C, H, W\]/,
    );
  });
});
