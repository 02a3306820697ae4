import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { encodeRgbPng } from '../../../../src-main/engine/image/png-encode';

describe('encodeRgbPng', () => {
  it('writes a PNG that a decoder reads back to the same pixels', async () => {
    for (const [width, height] of [
      [1, 1],
      [7, 3],
      [96, 96],
    ] as const) {
      const rgb = Uint8Array.from({ length: width * height * 3 }, (_, i) => (i * 37 + (i >> 5)) % 256);
      const png = encodeRgbPng(rgb, width, height);
      const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
      expect([info.width, info.height, info.channels]).toEqual([width, height, 3]);
      expect(Array.from(data)).toEqual(Array.from(rgb));
    }
  });

  it('refuses pixels that do not fill the size', () => {
    expect(() => encodeRgbPng(new Uint8Array(5), 2, 1)).toThrow(/6|2×1/);
  });
});
