import { describe, expect, it } from 'vitest';
import {
  COLORMAPS,
  colorAt,
  heatmapPixels,
  overlay,
  resizeMap,
  resizeRgb,
  scaleMap,
  scaleRange,
  type Colormap,
  type RgbImage,
} from '../../src-shared/heatmap';
import type { RawMap } from '../../src-shared/cam';

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

/**
 * The per-pixel formulas, written plainly (closures, an array per colour): what resizeMap, resizeRgb and
 * overlay compute with precomputed taps and inlined colours, to the last bit.
 */
const reference = {
  resizeMap(map: RawMap, width: number, height: number, mode: 'bilinear' | 'nearest'): Float32Array {
    const out = new Float32Array(width * height);
    const sx = map.width / width;
    const sy = map.height / height;
    const at = (x: number, y: number): number => map.data[y * map.width + x] as number;
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) {
        if (mode === 'nearest') {
          out[y * width + x] = at(Math.min(map.width - 1, Math.floor(x * sx)), Math.min(map.height - 1, Math.floor(y * sy)));
          continue;
        }
        const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), map.width - 1);
        const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), map.height - 1);
        const [x0, y0] = [Math.floor(fx), Math.floor(fy)];
        const [x1, y1] = [Math.min(x0 + 1, map.width - 1), Math.min(y0 + 1, map.height - 1)];
        const [ax, ay] = [fx - x0, fy - y0];
        out[y * width + x] =
          (1 - ay) * ((1 - ax) * at(x0, y0) + ax * at(x1, y0)) + ay * ((1 - ax) * at(x0, y1) + ax * at(x1, y1));
      }
    return out;
  },
  resizeRgb(image: RgbImage, width: number, height: number): Uint8Array {
    const out = new Uint8Array(width * height * 3);
    const [sx, sy] = [image.width / width, image.height / height];
    const at = (x: number, y: number, c: number): number => image.rgb[(y * image.width + x) * 3 + c] as number;
    for (let y = 0; y < height; y++) {
      const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), image.height - 1);
      const [y0, ay] = [Math.floor(fy), fy - Math.floor(fy)];
      const y1 = Math.min(y0 + 1, image.height - 1);
      for (let x = 0; x < width; x++) {
        const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), image.width - 1);
        const [x0, ax] = [Math.floor(fx), fx - Math.floor(fx)];
        const x1 = Math.min(x0 + 1, image.width - 1);
        for (let c = 0; c < 3; c++) {
          const top = (1 - ax) * at(x0, y0, c) + ax * at(x1, y0, c);
          const bottom = (1 - ax) * at(x0, y1, c) + ax * at(x1, y1, c);
          out[(y * width + x) * 3 + c] = Math.round((1 - ay) * top + ay * bottom);
        }
      }
    }
    return out;
  },
  overlay(scaled: Float32Array, rgb: Uint8Array | null, n: number, o: { colormap: Colormap; opacity: number; signed: boolean }) {
    const out = new Uint8ClampedArray(n * 4);
    for (let i = 0; i < n; i++) {
      const v = scaled[i] as number;
      const [r, g, b] = colorAt(o.colormap, o.signed ? (v + 1) / 2 : v);
      const alpha = !rgb ? 1 : o.signed ? o.opacity * Math.min(1, Math.abs(v)) : o.opacity;
      const base = rgb ? [rgb[i * 3], rgb[i * 3 + 1], rgb[i * 3 + 2]].map(Number) : [0, 0, 0];
      out.set(
        [
          (base[0] as number) * (1 - alpha) + r * alpha,
          (base[1] as number) * (1 - alpha) + g * alpha,
          (base[2] as number) * (1 - alpha) + b * alpha,
          255,
        ],
        i * 4,
      );
    }
    return out;
  },
};

describe('the fast pane pixels equal the per-pixel formulas exactly', () => {
  const random =
    (seed: number): (() => number) =>
    () =>
      (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const next = random(7);
  const sizes: [number, number, number, number][] = [
    [7, 7, 61, 47],
    [14, 9, 90, 70],
    [1, 1, 5, 3],
    [56, 56, 113, 112],
    [13, 17, 6, 4],
  ];

  it.each(sizes)('a %i×%i map to %i×%i, bilinear and nearest', (w, h, W, H) => {
    const map = { width: w, height: h, data: Float32Array.from({ length: w * h }, () => next() * 4 - 1) };
    for (const mode of ['bilinear', 'nearest'] as const)
      expect(resizeMap(map, W, H, mode)).toEqual(reference.resizeMap(map, W, H, mode));
    const image = { rgb: Uint8Array.from({ length: w * h * 3 }, () => Math.floor(next() * 256)), width: w, height: h };
    if (w !== W || h !== H) expect(resizeRgb(image, W, H)).toEqual(reference.resizeRgb(image, W, H));
  });

  it.each(COLORMAPS)('overlay in %s, ReLU and signed, over an image and alone', (colormap) => {
    const n = 5000;
    const relu = Float32Array.from({ length: n }, (_, i) => (i === 0 ? 0 : i === 1 ? 1 : next()));
    const signed = Float32Array.from({ length: n }, (_, i) => (i === 0 ? -1 : i === 1 ? 1 : next() * 2 - 1));
    const rgb = Uint8Array.from({ length: n * 3 }, () => Math.floor(next() * 256));
    for (const [scaled, isSigned] of [
      [relu, false],
      [signed, true],
    ] as const)
      for (const base of [rgb, null]) {
        const o = { colormap, opacity: 0.45, signed: isSigned };
        expect(overlay(scaled, base, n, 1, o)).toEqual(reference.overlay(scaled, base, n, o));
      }
  });
});

describe('heatmapPixels', () => {
  it('is resizeMap, scaleMap and overlay in two passes: the same bytes, and the hottest pixel', () => {
    const map = { width: 5, height: 4, data: Float32Array.from({ length: 20 }, (_, i) => Math.sin(i * 1.7) * 3) };
    const rgb = Uint8Array.from({ length: 37 * 29 * 3 }, (_, i) => (i * 37) % 256);
    for (const scaling of ['relu', 'signed'] as const)
      for (const upsampling of ['bilinear', 'nearest'] as const) {
        const display = { upsampling, scaling, colormap: 'turbo' as const, opacity: 0.6 };
        const resized = resizeMap(map, 37, 29, upsampling);
        const expected = overlay(scaleMap(resized, scaling), rgb, 37, 29, { ...display, signed: scaling === 'signed' });
        const { pixels, hot } = heatmapPixels(map, rgb, 37, 29, display);
        expect(pixels).toEqual(expected);
        const best = resized.indexOf(Math.max(...resized));
        expect(hot).toEqual({ x: best % 37, y: Math.floor(best / 37) });
      }
  });
});
