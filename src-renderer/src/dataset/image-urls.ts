/**
 * Object URLs of a data set's images for thumbnails, and the model's view decoded for map overlays. The URL
 * cache is bounded: past its limit the oldest URL is revoked (a set of 10,000 images must not pin them all).
 */
import type { EngineApi, ImageData } from '../../../src-shared/api';
import type { RgbImage } from '../../../src-shared/heatmap';
import { rgbFromRgba } from '../cam/render-pane';

export class ImageUrls {
  private readonly urls = new Map<string, Promise<string>>();

  constructor(
    private readonly engine: EngineApi,
    private readonly limit = 400,
  ) {}

  get(path: string): Promise<string> {
    let pending = this.urls.get(path);
    if (!pending) {
      pending = this.engine
        .getImage({ source: { kind: 'path', path } })
        .then((image) => URL.createObjectURL(new Blob([image.bytes as BlobPart], { type: image.mime })));
      pending.catch(() => this.urls.delete(path));
      this.urls.set(path, pending);
      while (this.urls.size > this.limit) {
        const [oldest, url] = this.urls.entries().next().value as [string, Promise<string>];
        this.urls.delete(oldest);
        url.then((u) => URL.revokeObjectURL(u)).catch(() => undefined);
      }
    }
    return pending;
  }
}

/** The pixels of an encoded image (the model's view), for drawing maps over it. */
export async function decodeRgb(view: ImageData): Promise<RgbImage | null> {
  if (view.bytes.byteLength === 0) return null;
  const bitmap = await createImageBitmap(new Blob([view.bytes as BlobPart], { type: view.mime }));
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d');
  if (!ctx) return null;
  ctx.drawImage(bitmap, 0, 0);
  return {
    rgb: rgbFromRgba(ctx.getImageData(0, 0, bitmap.width, bitmap.height).data),
    width: bitmap.width,
    height: bitmap.height,
  };
}
