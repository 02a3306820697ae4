import { describe, expect, it } from 'vitest';
import {
  binRange,
  colorDimPixels,
  extent,
  isSaturated,
  linearScale,
  logCounts,
  nearestIndex,
} from '../../../src-renderer/src/stats/plot-math';
import { buildStack, cellOf, LAYER_GAP, MAX_HEIGHT } from '../../../src-renderer/src/stats/stack-3d';
import { colorAt } from '../../../src-shared/heatmap';

describe('scales', () => {
  it('maps and inverts linearly, flat domains to the middle', () => {
    const s = linearScale([0, 10], [100, 0]);
    expect(s(0)).toBe(100);
    expect(s(2.5)).toBe(75);
    expect(s.invert(75)).toBe(2.5);
    expect(linearScale([3, 3], [0, 10])(3)).toBe(5);
  });
  it('finds the extent of finite values and widens flat ones', () => {
    expect(extent([3, NaN, -1, Infinity, 2])).toEqual([-1, 3]);
    expect(extent([2, 2])).toEqual([1.5, 2.5]);
    expect(extent([])).toEqual([0, 1]);
  });
  it('picks the nearest index, clamped', () => {
    const s = linearScale([0, 4], [0, 400]);
    expect(nearestIndex(s, 140, 5)).toBe(1);
    expect(nearestIndex(s, -50, 5)).toBe(0);
    expect(nearestIndex(s, 999, 5)).toBe(4);
  });
  it('gives bin ranges and flags saturation', () => {
    expect(binRange([0, 10], 40, 4)).toEqual([1, 1.25]);
    expect(isSaturated(0.95)).toBe(true);
    expect(isSaturated(0.5)).toBe(false);
  });
});

describe('colorful dimension', () => {
  it('uses log1p counts', () => {
    const { values, max } = logCounts([0, Math.E - 1, -3]);
    expect(values[0]).toBe(0);
    expect(values[1]).toBeCloseTo(1);
    expect(values[2]).toBe(0);
    expect(max).toBeCloseTo(1);
  });
  it('puts images on x and bin 0 at the bottom, brightest where the count is largest', () => {
    // 2 images × 3 bins: image 0 all in bin 0, image 1 all in bin 2.
    const px = colorDimPixels([5, 0, 0, 0, 0, 5], 2, 3, 'viridis');
    const at = (x: number, y: number): number[] => [...px.subarray((y * 2 + x) * 4, (y * 2 + x) * 4 + 4)];
    const top = colorAt('viridis', 1).map(Math.round);
    const low = colorAt('viridis', 0).map(Math.round);
    expect(at(0, 2)).toEqual([...top, 255]); // image 0, bin 0 (bottom row)
    expect(at(1, 0)).toEqual([...top, 255]); // image 1, bin 2 (top row)
    expect(at(0, 0)).toEqual([...low, 255]);
  });
});

describe('3D stack', () => {
  it('has one box per layer × image × bin, and instance ids map back to cells', () => {
    const layers = [{ imageHists: new Float32Array([1, 0, 0, 3]) }, { imageHists: new Float32Array([0, 0, 0, 0]) }];
    const stack = buildStack(layers, 2, 2, 'magma');
    expect(stack.count).toBe(8);
    expect(cellOf(stack, 0)).toEqual({ layer: 0, image: 0, bin: 0 });
    expect(cellOf(stack, 3)).toEqual({ layer: 0, image: 1, bin: 1 });
    expect(cellOf(stack, 6)).toEqual({ layer: 1, image: 1, bin: 0 });
    // The largest count of a layer is the tallest box; layers sit LAYER_GAP apart.
    expect(stack.boxes[3 * 4 + 3]).toBeCloseTo(0.05 + MAX_HEIGHT);
    expect(stack.boxes[4 * 4 + 2]! - stack.boxes[2]!).toBe(LAYER_GAP);
    expect(stack.boxes[1 * 4 + 3]).toBeCloseTo(0.05);
  });
});
