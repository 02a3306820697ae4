import { describe, expect, it } from 'vitest';
import { MAX_VOXELS, voxelsAbove } from '../../../src-renderer/src/stats/volume-3d';

describe('activation volume voxels', () => {
  it('keeps the values above the threshold, positioned by channel, row and column', () => {
    // 2 channels × 2 × 3; max 10.
    const data = Float32Array.from([0, 10, 0, 0, 0, 6, 1, 0, 0, 0, 7, 0]);
    const v = voxelsAbove(data, [2, 2, 3], 0.5);
    expect(v.count).toBe(3);
    expect(v.cutoff).toBe(5);
    expect(Array.from(v.levels).map((x) => Number(x.toFixed(6)))).toEqual([1, 0.6, 0.7]);
    // First voxel: channel 0, row 0, column 1 → x = 1 − 1.5, y = 1 − 0, z = (0 − 1) × gap.
    expect(Array.from(v.positions.subarray(0, 2))).toEqual([-0.5, 1]);
    expect(v.positions[2]).toBeLessThan(v.positions[8] as number);
  });

  it('caps the count by raising the cutoff', () => {
    const data = Float32Array.from({ length: MAX_VOXELS * 2 }, (_, i) => i + 1);
    const v = voxelsAbove(data, [2, MAX_VOXELS, 1], 0);
    expect(v.count).toBeLessThanOrEqual(MAX_VOXELS);
    expect(v.count).toBeGreaterThan(MAX_VOXELS - 2);
  });
});
