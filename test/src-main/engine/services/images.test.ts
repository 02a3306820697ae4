import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Images } from '../../../../src-main/engine/services/images';
import { solidPng } from '../../../helpers/images';

describe('uploaded images', () => {
  it('are kept under their content id, with their size and whether a browser shows them', async () => {
    const images = new Images(null);
    const png = await solidPng(20, 13, [255, 0, 0]);
    const uploaded = await images.upload({ name: 'red.png', bytes: png });
    expect(uploaded).toEqual({
      source: { kind: 'upload', id: createHash('sha256').update(png).digest('hex'), name: 'red.png' },
      width: 20,
      height: 13,
      mime: 'image/png',
    });
    const resolved = await images.resolve(uploaded.source);
    expect(Buffer.compare(resolved.bytes, png)).toBe(0);
    expect(resolved.name).toBe('red.png');
  });

  it('keep a copy, not a view into the request (a transport frame may be reused)', async () => {
    const images = new Images(null);
    const png = await solidPng(4, 4, [0, 0, 255]);
    const frame = new Uint8Array(png.byteLength + 8);
    frame.set(png, 8);
    const { source } = await images.upload({ name: 'b.png', bytes: frame.subarray(8) });
    frame.fill(0);
    expect(Buffer.compare((await images.resolve(source)).bytes, png)).toBe(0);
  });

  it('say that a TIFF is not shown by a browser, and refuse what is not an image', async () => {
    const images = new Images(null);
    const sharp = (await import('sharp')).default;
    const tiff = await sharp({ create: { width: 3, height: 2, channels: 3, background: '#808080' } })
      .tiff()
      .toBuffer();
    expect(await images.upload({ name: 'x.tiff', bytes: tiff })).toMatchObject({ width: 3, height: 2, mime: null });
    await expect(images.upload({ name: 'notes.txt', bytes: new TextEncoder().encode('hello') })).rejects.toMatchObject({
      code: 'bad-image',
    });
  });

  it('are bounded by bytes: the oldest goes, and asking for it says to open it again', async () => {
    const first = await solidPng(64, 64, [1, 2, 3]);
    const second = await solidPng(64, 64, [4, 5, 6]);
    const images = new Images(null, Math.max(first.byteLength, second.byteLength) + 1);
    const a = await images.upload({ name: 'a.png', bytes: first });
    const b = await images.upload({ name: 'b.png', bytes: second });
    await expect(images.resolve(b.source)).resolves.toMatchObject({ name: 'b.png' });
    await expect(images.resolve(a.source)).rejects.toThrow(/a\.png is no longer held by the engine.*open it again/);
  });
});
