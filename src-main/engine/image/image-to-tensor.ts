/**
 * An image file's bytes → the model's input tensor, following a `Preprocess` (resize mode, channel order,
 * scale, mean/std, layout). Resizing matches torchvision's conventions: bilinear, and "center-crop" resizes
 * the shorter side to size/0.875 then crops the centre (Resize(256) + CenterCrop(224)).
 */
import sharp from 'sharp';
import type { Preprocess } from '../../../src-shared/api';
import { EngineError, describeError } from '../errors';

/** Decoding refuses images above this many pixels instead of allocating gigabytes. */
export const MAX_IMAGE_PIXELS = 100_000_000;
const CROP_RATIO = 0.875;

export interface ImageTensor {
  data: Float32Array;
  shape: [1, number, number, number];
  /** The RGB pixels the tensor was made from (after resize/crop), row-major, 3 bytes per pixel. */
  rgb: Uint8Array;
  width: number;
  height: number;
}

/**
 * libvips's complaint in a user's words: its first line (it repeats each decoder message several times),
 * without the name of the libvips loader.
 */
function decoderMessage(error: unknown): string {
  const first = describeError(error).split('\n')[0] ?? '';
  return first.replace(/\bVips\w*:\s*/g, '').replace(/^Input (buffer|file) has corrupt header:\s*/, 'corrupt header: ');
}

function openImage(bytes: Uint8Array) {
  return sharp(bytes, { limitInputPixels: MAX_IMAGE_PIXELS, failOn: 'error' }).rotate();
}

export async function imageSize(
  bytes: Uint8Array,
  displayName: string,
): Promise<{ width: number; height: number; format: string }> {
  try {
    const meta = await sharp(bytes, { limitInputPixels: false }).metadata();
    if (!meta.width || !meta.height) throw new Error('no dimensions');
    if (meta.width * meta.height > MAX_IMAGE_PIXELS) {
      throw new EngineError(
        'bad-image',
        `${displayName} is ${meta.width}×${meta.height} pixels, above the ${MAX_IMAGE_PIXELS / 1e6}-megapixel limit: downscale it first.`,
      );
    }
    return { width: meta.width, height: meta.height, format: meta.format ?? 'unknown' };
  } catch (error) {
    if (error instanceof EngineError) throw error;
    throw new EngineError('bad-image', `${displayName} could not be read as an image (${decoderMessage(error)}).`);
  }
}

async function resizedRgb(bytes: Uint8Array, p: Preprocess): Promise<{ rgb: Uint8Array; width: number; height: number }> {
  const [height, width] = p.inputSize;
  let pipeline = openImage(bytes).removeAlpha().toColourspace('srgb');
  if (p.resize === 'stretch') {
    pipeline = pipeline.resize(width, height, { fit: 'fill', kernel: 'linear' });
  } else if (p.resize === 'letterbox') {
    pipeline = pipeline.resize(width, height, { fit: 'contain', kernel: 'linear', background: { r: 0, g: 0, b: 0 } });
  } else {
    const meta = await openImage(bytes).metadata();
    const srcW = meta.autoOrient?.width ?? meta.width ?? width;
    const srcH = meta.autoOrient?.height ?? meta.height ?? height;
    const scale = Math.max(width, height) / CROP_RATIO / Math.min(srcW, srcH);
    const rw = Math.max(width, Math.round(srcW * scale));
    const rh = Math.max(height, Math.round(srcH * scale));
    const left = Math.floor((rw - width) / 2);
    const top = Math.floor((rh - height) / 2);
    const resized = await pipeline.resize(rw, rh, { fit: 'fill', kernel: 'linear' }).raw().toBuffer();
    pipeline = sharp(resized, { raw: { width: rw, height: rh, channels: 3 } }).extract({ left, top, width, height });
  }
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected 3 channels after conversion, got ${info.channels}`);
  return { rgb: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
}

/** Packs RGB bytes into a normalised float tensor in the model's layout and channel order. */
export function rgbToTensor(rgb: Uint8Array, width: number, height: number, p: Preprocess): Float32Array {
  const plane = width * height;
  const out = new Float32Array(plane * 3);
  const order = p.channelOrder === 'RGB' ? [0, 1, 2] : [2, 1, 0];
  for (let c = 0; c < 3; c++) {
    const src = order[c] as number;
    const mean = p.mean[c] as number;
    const inv = 1 / (p.std[c] as number);
    const k = 1 / p.scale;
    for (let i = 0; i < plane; i++) {
      const value = ((rgb[i * 3 + src] as number) * k - mean) * inv;
      if (p.layout === 'NCHW') out[c * plane + i] = value;
      else out[i * 3 + c] = value;
    }
  }
  return out;
}

export async function imageToTensor(bytes: Uint8Array, p: Preprocess, displayName: string): Promise<ImageTensor> {
  await imageSize(bytes, displayName);
  let resized: { rgb: Uint8Array; width: number; height: number };
  try {
    resized = await resizedRgb(bytes, p);
  } catch (error) {
    throw new EngineError('bad-image', `${displayName} could not be decoded (${decoderMessage(error)}).`);
  }
  const { rgb, width, height } = resized;
  const data = rgbToTensor(rgb, width, height, p);
  const shape: [1, number, number, number] = p.layout === 'NCHW' ? [1, 3, height, width] : [1, height, width, 3];
  return { data, shape, rgb, width, height };
}
