import { describe, expect, it } from 'vitest';
import { colorAt, overlay, resizeRgb, scaleRange } from '../../src-shared/heatmap';

const grey = (n: number): Uint8Array => new Uint8Array(n * 3).fill(128);

describe('overlay', () => {
  it('leaves the image untouched where a signed map is zero, and lays the colour on as |v| grows', () => {
    const scaled = Float32Array.from([0, 1, -1, 0.5]);
    const px = overlay(scaled, grey(4), 4, 1, { colormap: 'coolwarm', opacity: 0.5, signed: true });
    expect([...px.subarray(0, 4)]).toEqual([128, 128, 128, 255]); // zero: transparent
    const red = colorAt('coolwarm', 1);
    expect(Math.abs((px[4] as number) - (128 * 0.5 + (red[0] as number) * 0.5))).toBeLessThanOrEqual(0.5); // +1: full opacity
    const blue = colorAt('coolwarm', 0);
    expect(Math.abs((px[10] as number) - (128 * 0.5 + (blue[2] as number) * 0.5))).toBeLessThanOrEqual(0.5); // −1: full opacity
    const half = colorAt('coolwarm', 0.75);
    expect(Math.abs((px[12] as number) - (128 * 0.75 + (half[0] as number) * 0.25))).toBeLessThanOrEqual(0.5); // 0.5: half the opacity
  });

  it('keeps one opacity for ReLU-scaled maps (zero is the colormap’s first colour)', () => {
    const px = overlay(Float32Array.from([0]), grey(1), 1, 1, { colormap: 'magma', opacity: 0.5, signed: false });
    const dark = colorAt('magma', 0);
    expect(Math.abs((px[0] as number) - (128 * 0.5 + dark[0] * 0.5))).toBeLessThanOrEqual(0.5);
  });
});

describe('resizeRgb', () => {
  it('returns the same pixels at the same size and interpolates at another', () => {
    const rgb = Uint8Array.from([0, 0, 0, 200, 100, 50]);
    expect(resizeRgb({ rgb, width: 2, height: 1 }, 2, 1)).toBe(rgb);
    const up = resizeRgb({ rgb, width: 2, height: 1 }, 4, 2);
    expect(up.length).toBe(4 * 2 * 3);
    expect([...up.subarray(0, 3)]).toEqual([0, 0, 0]); // edge pixel clamps to the source's first
    expect([...up.subarray(3, 6)]).toEqual([50, 25, 13]); // a quarter of the way
    expect([...up.subarray(9, 12)]).toEqual([200, 100, 50]);
    expect([...up.subarray(12, 15)]).toEqual([0, 0, 0]); // the second row repeats the first
  });
});

describe('scaleRange', () => {
  it('names the raw values at the ends of the colour scale', () => {
    const data = Float32Array.from([-4, 0.5, 2]);
    expect(scaleRange(data, 'relu')).toEqual({ low: 0, high: 2 });
    expect(scaleRange(Float32Array.from([1, 3]), 'relu')).toEqual({ low: 1, high: 3 });
    expect(scaleRange(data, 'signed')).toEqual({ low: -4, high: 4 });
  });
});
