/**
 * The report's pictures, encoded once as data: URIs so the HTML needs no other file and makes no request.
 * Photos and heatmaps become small JPEGs (a report of a large run stays a few MB), the colorful dimension a
 * PNG (flat colour cells compress better losslessly and must not blur).
 */
import sharp from 'sharp';
import type { CamMethod } from '../../src-shared/cam';
import type { RgbImage } from '../../src-shared/heatmap';
import { colorDimLayers } from './stats-selection';
import { classMapAssets, topLossAssets, type TopLossAssets } from './dataset-section';
import { colorDimPixels, paneSize, panePixels } from './pixels';
import type { EncodedImage, ReportData, ReportImage } from './report-data';

/** Longer side of a heatmap pane and of an input thumbnail, in pixels (sharp enough for print at ~45 mm). */
export const PANE_PX = 192;
export const THUMB_PX = 256;
const JPEG = { quality: 80, mozjpeg: true } as const;
/** The colorful dimension is drawn at this size, each cell a solid block. */
const COLORDIM_PX = { width: 480, height: 200 };

export interface ImageAssets {
  original: string | null;
  /** Heatmap panes by `paneKey(layer index, method)`. */
  panes: Map<string, string>;
  pane: { width: number; height: number };
}

export interface ReportAssets {
  images: ImageAssets[];
  /** Colorful dimension pictures by statistics layer index. */
  colorDims: Map<number, string>;
  /** The data-set section's top losses: image and maps. */
  topLosses?: TopLossAssets[];
  /** The data-set section's per-class mean maps, in its classMaps order. */
  classMaps?: (string | null)[];
}

export const paneKey = (layer: number, method: CamMethod): string => `${layer}|${method}`;

export function dataUri(mime: string, bytes: Uint8Array): string {
  return `data:${mime};base64,${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}`;
}

/** An encoded image, or raw RGB pixels, as sharp reads them. */
function pixelsOf(image: EncodedImage | RgbImage): ReturnType<typeof sharp> {
  if (!('rgb' in image)) return sharp(image.bytes);
  const { rgb, width, height } = image;
  return sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength), { raw: { width, height, channels: 3 } });
}

async function thumbnail(image: EncodedImage | RgbImage): Promise<string> {
  const jpeg = await pixelsOf(image)
    .rotate()
    .resize({ width: THUMB_PX, height: THUMB_PX, fit: 'inside' })
    .flatten({ background: '#ffffff' })
    .jpeg(JPEG)
    .toBuffer();
  return dataUri('image/jpeg', jpeg);
}

async function rawJpeg(pixels: Uint8ClampedArray | Uint8Array, width: number, height: number, channels: 3 | 4): Promise<string> {
  const input = Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength);
  const jpeg = await sharp(input, { raw: { width, height, channels } }).removeAlpha().jpeg(JPEG).toBuffer();
  return dataUri('image/jpeg', jpeg);
}

async function imageAssets(image: ReportImage, data: ReportData): Promise<ImageAssets> {
  const view = image.modelView;
  const [vh, vw] = view ? [view.height, view.width] : [image.cam.inputShape[2] ?? 1, image.cam.inputShape[3] ?? 1];
  const pane = paneSize(vw, vh, PANE_PX);
  const rgb = view
    ? new Uint8Array(await pixelsOf(view).resize({ width: pane.width, height: pane.height, fit: 'fill' }).raw().toBuffer())
    : null;
  const panes = new Map<string, string>();
  for (const [li, layer] of image.cam.layers.entries()) {
    for (const method of data.run.methods) {
      const map = layer.maps[method];
      if (!map) continue;
      const pixels = panePixels(map, rgb, pane.width, pane.height, data.display);
      panes.set(paneKey(li, method), await rawJpeg(pixels, pane.width, pane.height, 4));
    }
  }
  return { original: image.original ? await thumbnail(image.original) : null, panes, pane };
}

async function colorDim(hists: Float32Array, images: number, bins: number): Promise<string> {
  const pixels = colorDimPixels(hists, images, bins, 'viridis');
  const png = await sharp(Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength), {
    raw: { width: images, height: bins, channels: 3 },
  })
    // Upsampling keeps cells as solid blocks; with more images than pixels, averaging is the honest summary.
    .resize({ ...COLORDIM_PX, fit: 'fill', kernel: images <= COLORDIM_PX.width ? 'nearest' : 'mitchell' })
    .png({ compressionLevel: 9, palette: images > COLORDIM_PX.width })
    .toBuffer();
  return dataUri('image/png', png);
}

export async function encodeAssets(data: ReportData): Promise<ReportAssets> {
  const images: ImageAssets[] = [];
  for (const image of data.images) images.push(await imageAssets(image, data));
  const colorDims = new Map<number, string>();
  const stats = data.stats;
  if (stats && stats.images > 0) {
    for (const i of colorDimLayers(stats.layers, data.model.stages)) {
      const layer = stats.layers[i];
      const columns = layer ? Math.floor(layer.imageHists.length / stats.bins) : 0;
      if (layer && columns > 0) colorDims.set(i, await colorDim(layer.imageHists, columns, stats.bins));
    }
  }
  const topLosses = data.dataset ? await topLossAssets(data.dataset, data.display) : [];
  const classMaps = data.dataset ? await classMapAssets(data.dataset, data.display) : [];
  return { images, colorDims, topLosses, classMaps };
}
